//! The worked example of docs/SEMANTICS.md, section 10: every expected report, byte for byte.

use std::path::Path;

use crate::support::Site;

fn fixture() -> Site {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worked-example");
    let site = Site::simple("Europe/London");
    std::fs::copy(src.join("seatmeter.toml"), site.config_path()).unwrap();
    std::fs::copy(src.join("license.dat"), site.path().join("license.dat")).unwrap();
    std::fs::copy(src.join("spool/a.jsonl"), site.path().join("spool/a.jsonl")).unwrap();
    std::fs::copy(
        src.join("config-snapshots/s.xml"),
        site.path().join("config-snapshots/s.xml"),
    )
    .unwrap();
    site
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/worked-example/expected")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_expected_report() {
    let site = fixture();
    let stats = site.collect_and_rollup();
    assert_eq!(stats.stray_logouts, 1, "the logout of `nobody`");
    for name in [
        "system-hourly",
        "system-10min",
        "system-monthly",
        "tenant-daily",
        "group-daily",
    ] {
        let (scope, gran) = name.split_once('-').unwrap();
        let got = site.report(scope, gran, "2026-10-25", "2026-10-25");
        assert_eq!(got, expected(&format!("{name}.csv")), "{name}");
    }
}

#[test]
fn json_carries_the_same_rows() {
    let site = fixture();
    site.collect_and_rollup();
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let req = seatmeter::report::Request {
        scope: seatmeter_core::ScopeKind::Tenant,
        id: None,
        granularity: seatmeter_core::Granularity::Daily,
        from: seatmeter_core::calendar::parse_date("2026-10-25").unwrap(),
        to: seatmeter_core::calendar::parse_date("2026-10-25").unwrap(),
    };
    let mut buf = Vec::new();
    {
        let mut r: Box<dyn seatmeter_reports::Renderer + '_> = Box::new(
            seatmeter_reports::json::JsonRenderer::new(&mut buf, Default::default()).unwrap(),
        );
        seatmeter::report::Reporter::new(store.as_mut(), &config)
            .unwrap()
            .run(&req, &mut |row| r.row(row).map_err(Into::into))
            .unwrap();
        r.finish().unwrap();
    }
    let json: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    let csv = expected("tenant-daily.csv");
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), csv.lines().count() - 1);
    for (row, line) in rows.iter().zip(csv.lines().skip(1)) {
        let f = crate::support::split(line);
        assert_eq!(row["scope_id"], f[1].as_str());
        assert_eq!(row["peak_concurrent"].as_u64().unwrap().to_string(), f[6]);
        assert_eq!(row["enabled_seats"].as_u64().unwrap().to_string(), f[7]);
        assert_eq!(row["entitled"].as_u64().unwrap().to_string(), f[8]);
        assert_eq!(row["over_use"].as_bool().unwrap().to_string(), f[9]);
    }
}
