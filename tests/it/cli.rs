//! The commands, run as a user runs them: the binary, its output and its exit code.

use std::path::Path;
use std::process::Output;

use crate::support::{Site, seatmeter};

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_commands_of_section_9_on_the_worked_example() {
    let site = Site::simple("UTC");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worked-example");
    for f in [
        "seatmeter.toml",
        "license.dat",
        "spool/a.jsonl",
        "config-snapshots/s.xml",
    ] {
        std::fs::copy(src.join(f), site.path().join(f)).unwrap();
    }
    let dir = site.path();
    for args in [
        &["--config", "seatmeter.toml", "init"][..],
        &["-c", "seatmeter.toml", "collect", "--once"],
        &["-c", "seatmeter.toml", "rollup"],
    ] {
        let o = seatmeter(dir, args);
        assert!(o.status.success(), "{args:?}: {:?}", text(&o));
    }
    let o = seatmeter(
        dir,
        &[
            "-c",
            "seatmeter.toml",
            "report",
            "--scope",
            "system",
            "--granularity",
            "hourly",
            "--from",
            "2026-10-25",
            "--to",
            "2026-10-25",
            "--format",
            "csv",
        ],
    );
    assert!(o.status.success());
    assert_eq!(
        text(&o).0,
        std::fs::read_to_string(src.join("expected/system-hourly.csv")).unwrap()
    );
    // --out writes the file; JSON has the same rows.
    let o = seatmeter(
        dir,
        &[
            "-c",
            "seatmeter.toml",
            "report",
            "--scope",
            "group",
            "--granularity",
            "daily",
            "--from",
            "2026-10-25",
            "--format",
            "json",
            "--out",
            "out/g.json",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/g.json")).unwrap()).unwrap();
    assert_eq!(json[0]["scope_id"], "acme/G");
    assert!(text(&o).1.contains("wrote 2 row(s) to out/g.json"));
    // The table marks over-use in words.
    let o = seatmeter(
        dir,
        &[
            "-c",
            "seatmeter.toml",
            "report",
            "--scope",
            "tenant",
            "--granularity",
            "daily",
            "--from",
            "2026-10-25",
            "--format",
            "table",
        ],
    );
    let out = text(&o).0;
    assert_eq!(
        out.lines().filter(|l| l.contains("OVER-USE")).count(),
        1,
        "{out}"
    );
    // Running it all again changes nothing.
    for args in [
        &["-c", "seatmeter.toml", "collect", "--once"][..],
        &["-c", "seatmeter.toml", "rollup"],
    ] {
        assert!(seatmeter(dir, args).status.success());
    }
    let o = seatmeter(
        dir,
        &[
            "-c",
            "seatmeter.toml",
            "report",
            "--scope",
            "system",
            "--granularity",
            "hourly",
            "--from",
            "2026-10-25",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        text(&o).0,
        std::fs::read_to_string(src.join("expected/system-hourly.csv")).unwrap()
    );
    // Status tells what is stored and what was kept aside.
    let o = seatmeter(dir, &["-c", "seatmeter.toml", "status"]);
    let out = text(&o).0;
    assert!(
        out.contains("8 event(s)")
            && out.contains("rolled up: 2026-10-25 to 2026-10-25")
            && out.contains("lines kept aside: 0"),
        "{out}"
    );
}

#[test]
fn init_writes_an_example_configuration_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), &["init"]);
    assert!(o.status.success());
    assert!(
        text(&o)
            .0
            .contains("wrote an example configuration to seatmeter.toml")
    );
    let o = seatmeter(dir.path(), &["init"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(dir.path().join("seatmeter.db").exists());
    assert!(
        text(&o).1.contains("folder"),
        "warns that the spool folder is missing: {:?}",
        text(&o)
    );
}

#[test]
fn configuration_errors_name_the_file_line_and_key() {
    let site = Site::simple("UTC");
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(site.config_path(), format!("colour = \"red\"\n{cfg}")).unwrap();
    let o = seatmeter(site.path(), &["-c", "seatmeter.toml", "collect", "--once"]);
    assert!(!o.status.success());
    let err = text(&o).1;
    assert!(
        err.starts_with("error: seatmeter.toml:1: unknown field `colour`"),
        "{err}"
    );

    std::fs::write(site.config_path(), cfg.replace("media = [\"email\"]", "")).unwrap();
    let o = seatmeter(site.path(), &["-c", "seatmeter.toml", "rollup"]);
    let err = text(&o).1;
    assert!(err.contains("item \"Email\" has no media"), "{err}");
    assert!(err.contains("seatmeter.toml:"), "{err}");
}

#[test]
fn license_check_prints_lines_and_entitlement_and_fails_on_errors() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/licenses");
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(
        dir.path(),
        &[
            "license",
            "check",
            fixtures.join("node-flexlm-test.lic").to_str().unwrap(),
            "--date",
            "2013-10-01",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let out = text(&o).0;
    assert!(out.contains("sha256"));
    assert!(
        out.lines().any(|l| l.contains("INCREMENT")
            && l.contains("jupiter")
            && l.contains("2014-11-30")
            && l.contains("2014-09-17")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("orbit:gui") && l.trim_end().ends_with("10")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("orbit:neptune") && l.contains("unlimited")),
        "{out}"
    );
    std::fs::write(
        dir.path().join("bad.lic"),
        "FEATURE a v 1 permanent 2\nFEATURE b v 1 32-dec-2026 2\n",
    )
    .unwrap();
    let o = seatmeter(dir.path(), &["license", "check", "bad.lic"]);
    assert!(!o.status.success());
    assert!(
        text(&o)
            .0
            .contains("bad.lic:2: expiry date: \"32-dec-2026\""),
        "{:?}",
        text(&o)
    );
}

#[test]
fn helpful_refusals() {
    let site = Site::simple("UTC");
    let o = seatmeter(site.path(), &["-c", "seatmeter.toml", "collect"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--once"));
    let o = seatmeter(
        site.path(),
        &[
            "-c",
            "seatmeter.toml",
            "report",
            "--scope",
            "system",
            "--granularity",
            "daily",
            "--from",
            "25/10/2026",
        ],
    );
    assert!(text(&o).1.contains("write YYYY-MM-DD"), "{:?}", text(&o));
    let o = seatmeter(site.path(), &["--help"]);
    let out = text(&o).0;
    for cmd in [
        "init", "collect", "rollup", "report", "license", "status", "demo",
    ] {
        assert!(out.contains(cmd), "{cmd} in --help");
    }
    let o = seatmeter(site.path(), &["-c", "missing.toml", "status"]);
    assert!(
        text(&o)
            .1
            .contains("missing.toml: configuration file not found"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn the_demo_runs_and_writes_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), &["demo", "--dir", "site"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    for f in [
        "system-10min.csv",
        "system-daily.json",
        "tenant-daily.csv",
        "group-daily.csv",
        "tenant-monthly.json",
    ] {
        assert!(dir.path().join("site/reports").join(f).exists(), "{f}");
    }
    // Place groups: every desk's floor; a floor's peak is within its tenant's, and places
    // have no enabled seats.
    let read = |f: &str| std::fs::read_to_string(dir.path().join("site/reports").join(f)).unwrap();
    let tenant_peaks: std::collections::HashMap<(String, String), u64> = read("tenant-monthly.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            ((c[1].to_string(), c[5].to_string()), c[6].parse().unwrap())
        })
        .collect();
    let places = read("place-group-monthly.csv");
    let mut busy = 0;
    for l in places.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        assert_eq!(c[0], "place-group", "{l}");
        assert_eq!(c[7], "", "no enabled seats for places: {l}");
        let (tenant, group) = c[1].rsplit_once('/').unwrap();
        assert!(group.starts_with("Floor") || group == "Quiet", "{l}");
        let peak: u64 = c[6].parse().unwrap();
        assert!(
            peak <= tenant_peaks[&(tenant.to_string(), c[5].to_string())],
            "{l}"
        );
        busy += (peak > 0) as usize;
    }
    assert!(busy >= 3, "place groups counted seats:\n{places}");
    assert!(out.contains("kept aside: 2026-10-08-acme.csv:"), "{out}");
    assert!(out.contains("duplicate(s) not stored again"));
    assert!(
        out.contains("Genesys E-Mail") && out.contains("entitled (+"),
        "over-use listed: {out}"
    );
    // Again in the same folder: replaced, same reports.
    let first = std::fs::read(dir.path().join("site/reports/tenant-daily.csv")).unwrap();
    assert!(
        seatmeter(dir.path(), &["demo", "--dir", "site"])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(dir.path().join("site/reports/tenant-daily.csv")).unwrap(),
        first
    );
    // Not over a folder it did not make.
    std::fs::create_dir_all(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "keep").unwrap();
    let o = seatmeter(dir.path(), &["demo", "--dir", "mine"]);
    assert!(!o.status.success());
    assert!(dir.path().join("mine/notes.txt").exists());
}
