//! `export billing`: the numbers of the tenant reports, tenant entitlements that change
//! mid-month, exact money, a provisioned tenant without usage billed its minimum, and a
//! manifest that matches the files.

use std::process::Command;

use sha2::{Digest, Sha256};

use crate::support::{Site, ev, lines};

const ITEMS: &str = r#"
[[item]]
name = "Voice"
media = ["voice"]
features = ["V"]

[[item]]
name = "Email"
media = ["email"]
features = ["E"]
model = "named"

[billing]
currency = "EUR"
minimum = "40.00"

[billing.prices]
"Voice" = "12.35"
"Email" = "0.10"

[billing.daily_prices]
"Voice" = "0.45"
"#;

const ENTITLEMENTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Entitlements>
  <System>
    <Entitlement item="Voice" quantity="7" start="2026-10-01"/>
  </System>
  <Tenant name="acme">
    <Entitlement item="Voice" quantity="1" start="2026-10-01" end="2026-10-15"/>
    <Entitlement item="Voice" quantity="2" start="2026-10-16"/>
    <Entitlement item="Email" quantity="3" start="2026-10-01"/>
  </Tenant>
  <Tenant name="beta">
    <Entitlement item="Voice" quantity="5" start="2026-10-01"/>
  </Tenant>
  <Tenant name="zed">
    <Entitlement item="Voice" quantity="4" start="2026-10-01"/>
  </Tenant>
</Entitlements>
"#;

fn site() -> Site {
    let site = Site::new(
        "Europe/London",
        ITEMS,
        "INCREMENT V genesys.d 8.5 permanent 100\nINCREMENT E genesys.d 8.5 permanent 100\n",
    );
    site.entitlements(ENTITLEMENTS);
    site.spool(
        "a.jsonl",
        &lines(&[
            // acme: two at once on the 10th (entitled 1 then: over-use), two on the 20th
            // (entitled 2: none), a peak of 3 on the 25th, 09:30 UTC.
            ev(
                "2026-10-10T09:00:00Z",
                "login",
                "acme",
                "x",
                &["voice"],
                &[],
            ),
            ev(
                "2026-10-10T09:20:00Z",
                "login",
                "acme",
                "y",
                &["voice"],
                &[],
            ),
            ev("2026-10-10T10:00:00Z", "logout", "acme", "x", &[], &[]),
            ev("2026-10-10T10:00:01Z", "logout", "acme", "y", &[], &[]),
            ev(
                "2026-10-20T09:00:00Z",
                "login",
                "acme",
                "x",
                &["voice"],
                &[],
            ),
            ev(
                "2026-10-20T09:30:00Z",
                "login",
                "acme",
                "y",
                &["voice", "email"],
                &[],
            ),
            ev("2026-10-20T11:00:00Z", "logout", "acme", "x", &[], &[]),
            ev("2026-10-20T11:00:00Z", "logout", "acme", "y", &[], &[]),
            ev(
                "2026-10-25T09:00:00Z",
                "login",
                "acme",
                "x",
                &["voice"],
                &[],
            ),
            ev(
                "2026-10-25T09:10:00Z",
                "login",
                "acme",
                "y",
                &["voice"],
                &[],
            ),
            ev(
                "2026-10-25T09:30:00Z",
                "login",
                "acme",
                "z",
                &["voice"],
                &[],
            ),
            ev("2026-10-25T09:40:00Z", "logout", "acme", "z", &[], &[]),
            ev("2026-10-25T12:00:00Z", "logout", "acme", "x", &[], &[]),
            ev("2026-10-25T12:00:00Z", "logout", "acme", "y", &[], &[]),
            // beta: one agent, one day.
            ev(
                "2026-10-12T08:00:00Z",
                "login",
                "beta",
                "b1",
                &["voice"],
                &[],
            ),
            ev("2026-10-12T16:00:00Z", "logout", "beta", "b1", &[], &[]),
        ]),
    );
    site.snapshot(
        "s.xml",
        r#"<ConfigurationSnapshot taken="2026-10-01T00:00:00Z">
  <Tenant name="acme"><Agent id="x" enabled="true" media="voice email"/><Agent id="y" enabled="true" media="email"/><Agent id="z" enabled="false" media="email"/></Tenant>
</ConfigurationSnapshot>"#,
    );
    site.collect_and_rollup();
    site
}

fn export(site: &Site, args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
        .current_dir(site.path())
        .env_remove("SEATMETER_CONFIG")
        .args(["-c", "seatmeter.toml", "export", "billing"])
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect()
}

/// (line, peak, enabled, entitled, over_use, quantity, amount) of a tenant file.
fn lines_of(rows: &[Vec<String>]) -> Vec<[&str; 7]> {
    rows.iter()
        .map(|r| {
            [
                r[2].as_str(),
                r[4].as_str(),
                r[7].as_str(),
                r[8].as_str(),
                r[9].as_str(),
                r[11].as_str(),
                r[13].as_str(),
            ]
        })
        .collect()
}

#[test]
fn monthly_and_daily_billing_from_the_tenant_reports() {
    let site = site();
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "bill"]);
    assert!(ok, "{out}");
    let dir = site.path().join("bill");

    // acme: Voice peak 3 (entitled 1 then 2: the month's entitlement is the smallest, and
    // the 10th is over-used); Email named: 2 enabled seats billed at 0.10.
    let acme = csv(&dir.join("seatmeter-billing-2026-10-tenant-acme.csv"));
    // 3 × 12.35 + 2 × 0.10 = 37.25, topped up to the minimum.
    assert_eq!(
        lines_of(&acme),
        vec![
            ["Voice", "3", "1", "1", "true", "3", "37.05"],
            ["Email", "1", "2", "3", "false", "2", "0.20"],
            ["minimum charge", "", "", "", "", "", "2.75"],
            ["total", "", "", "", "", "", "40.00"],
        ]
    );
    // Summer time ended at 01:00 UTC that day: 09:30 UTC is 09:30 local.
    assert_eq!(acme[0][5], "2026-10-25 09:30:00 +00:00");
    // beta: 1 × 12.35, under the minimum too; zed: provisioned, no usage, its minimum.
    let beta = csv(&dir.join("seatmeter-billing-2026-10-tenant-beta.csv"));
    assert_eq!(
        lines_of(&beta)[0],
        ["Voice", "1", "0", "5", "false", "1", "12.35"]
    );
    let zed = csv(&dir.join("seatmeter-billing-2026-10-tenant-zed.csv"));
    assert_eq!(
        lines_of(&zed),
        vec![
            ["Voice", "0", "0", "4", "false", "0", "0.00"],
            // zed is provisioned and has no grant of Email: 0, not empty (BILLING.md rule 3).
            ["Email", "0", "0", "0", "false", "0", "0.00"],
            ["minimum charge", "", "", "", "", "", "40.00"],
            ["total", "", "", "", "", "", "40.00"],
        ]
    );
    let summary = csv(&dir.join("seatmeter-billing-2026-10-summary.csv"));
    assert_eq!(
        summary
            .iter()
            .map(|r| (r[1].as_str(), r[2].as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("acme", "40.00"),
            ("beta", "40.00"),
            ("zed", "40.00"),
            ("total", "120.00")
        ]
    );

    // The same numbers as the monthly tenant report.
    let report = site.report("tenant", "monthly", "2026-10-01", "2026-10-31");
    for r in crate::support::rows(&report) {
        let [tenant, _, item, peak, enabled, entitled, over] = &r;
        let file = csv(&dir.join(format!("seatmeter-billing-2026-10-tenant-{tenant}.csv")));
        let line = file.iter().find(|l| &l[2] == item).unwrap();
        assert_eq!(
            (&line[4], &line[7], &line[8], &line[9]),
            (peak, enabled, entitled, over),
            "{tenant} {item}"
        );
    }

    // The system report: the license file's 100 seats plus the system grant of 7.
    let system = site.report("system", "monthly", "2026-10-01", "2026-10-31");
    let voice = crate::support::rows(&system)
        .into_iter()
        .find(|r| r[2] == "Voice")
        .unwrap();
    assert_eq!(voice[5], "107");

    // Daily files: the 10th is over-used for acme (2 at once, entitled 1), priced daily.
    let day = csv(&dir.join("seatmeter-billing-2026-10-10-tenant-acme.csv"));
    assert_eq!(
        lines_of(&day)[0],
        ["Voice", "2", "1", "1", "true", "2", "0.90"]
    );
    let day = csv(&dir.join("seatmeter-billing-2026-10-20-tenant-acme.csv"));
    assert_eq!(
        lines_of(&day)[0],
        ["Voice", "2", "1", "2", "false", "2", "0.90"]
    );
    // No daily price for Email: a quantity, no amount.
    assert_eq!(
        lines_of(&day)[1],
        ["Email", "1", "2", "3", "false", "2", ""]
    );

    // The manifest names every other file with its digest, and nothing half-written
    // is left behind.
    let manifest =
        std::fs::read_to_string(dir.join("seatmeter-billing-2026-10-manifest.sha256")).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(manifest.lines().count() + 1, names.len(), "{names:?}");
    for line in manifest.lines() {
        let (digest, name) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(digest, seatmeter_core::hex(&Sha256::digest(&bytes)));
    }
    // 3 tenants × (1 month + 31 days) + summary.
    assert_eq!(manifest.lines().count(), 3 * 32 + 1);

    // Again: the same bytes.
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "bill2"]);
    assert!(ok, "{out}");
    let again = std::fs::read_to_string(
        site.path()
            .join("bill2/seatmeter-billing-2026-10-manifest.sha256"),
    )
    .unwrap();
    assert_eq!(again, manifest);
}

#[test]
fn the_fair_peak_leaves_short_spikes_unbilled() {
    let site = site();
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg.replace("minimum = \"40.00\"", "fair_peak_minutes = 45"),
    )
    .unwrap();
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "bill"]);
    assert!(ok, "{out}");
    let dir = site.path().join("bill");
    let acme = csv(&dir.join("seatmeter-billing-2026-10-tenant-acme.csv"));
    // The 25th: 3 at once for 10 minutes, 2 from 09:10 to 12:00: billed 2, not 3.
    assert_eq!((acme[0][4].as_str(), acme[0][6].as_str()), ("3", "2"));
    assert_eq!(
        (
            acme[0][10].as_str(),
            acme[0][11].as_str(),
            acme[0][13].as_str()
        ),
        ("fair_peak", "2", "24.70")
    );
    // Named items are billed by enabled seats whatever the fair peak.
    assert_eq!(
        (acme[1][10].as_str(), acme[1][11].as_str()),
        ("enabled_seats", "2")
    );
    // The 10th: 2 at once for 40 minutes (under 45), 1 for an hour.
    let day = csv(&dir.join("seatmeter-billing-2026-10-10-tenant-acme.csv"));
    assert_eq!(
        (day[0][4].as_str(), day[0][6].as_str(), day[0][11].as_str()),
        ("2", "1", "1")
    );
    // A day without use, and a tenant without data: 0.
    let quiet = csv(&dir.join("seatmeter-billing-2026-10-11-tenant-acme.csv"));
    assert_eq!(quiet[0][6], "0");
    let zed = csv(&dir.join("seatmeter-billing-2026-10-tenant-zed.csv"));
    assert_eq!(zed[0][6], "0");

    // Once retention has deleted the month's raw events, the fair peak cannot be measured
    // again: the export says so rather than bill zeros.
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let oct15 = chrono::NaiveDate::from_ymd_opt(2026, 10, 15).unwrap();
    store
        .purge_events_before(
            oct15
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_nanos_opt()
                .unwrap(),
            seatmeter_core::calendar::day_of_date(oct15),
        )
        .unwrap();
    drop(store);
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "bill3"]);
    assert!(!ok && out.contains("deleted by the retention"), "{out}");
}

#[test]
fn one_tenant_and_bad_requests() {
    let site = site();
    let (ok, out) = export(
        &site,
        &["--month", "2026-10", "--tenant", "zed", "--out", "z"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("1 tenant(s)"), "{out}");
    let (ok, out) = export(
        &site,
        &["--month", "2026-10", "--tenant", "nope", "--out", "z"],
    );
    assert!(!ok && out.contains("no tenant \"nope\""), "{out}");
    let (ok, out) = export(&site, &["--month", "October", "--out", "z"]);
    assert!(!ok && out.contains("YYYY-MM"), "{out}");
    // A price with more decimals than the currency has is refused, with its key.
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg.replace("\"Voice\" = \"12.35\"", "\"Voice\" = \"12.355\""),
    )
    .unwrap();
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "z"]);
    assert!(!ok && out.contains("[billing.prices] \"Voice\""), "{out}");
}

/// Tenant names that collided before (issue 12): "summary" overwrote the summary,
/// "05-acme"'s month was acme's 5th, "Acme" and "acme" are one file on a case-insensitive
/// file system, and a name of 300 bytes aborted the export.
#[test]
fn tenant_names_never_share_a_file_and_the_manifest_verifies() {
    // Names up to 256 bytes are collected (longer ones are kept aside).
    let long = format!("{}-long", "l".repeat(250));
    let tenants = [
        "summary", "manifest", "05-acme", "acme", "Acme", "a/../b", &long,
    ];
    let site = Site::new(
        "UTC",
        ITEMS,
        "INCREMENT V genesys.d 8.5 permanent 100\nINCREMENT E genesys.d 8.5 permanent 100\n",
    );
    let mut events = Vec::new();
    for (i, t) in tenants.iter().enumerate() {
        // Each tenant its own number of seats on the 5th, so that files cannot be mixed up.
        for a in 0..=i {
            let agent = format!("a{a}");
            events.push(ev(
                "2026-10-05T09:00:00Z",
                "login",
                t,
                &agent,
                &["voice"],
                &[],
            ));
            events.push(ev("2026-10-05T10:00:00Z", "logout", t, &agent, &[], &[]));
        }
    }
    site.spool("a.jsonl", &lines(&events));
    site.collect_and_rollup();
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "bills"]);
    assert!(ok, "{out}");
    let dir = site.path().join("bills");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // One month file per tenant, one per tenant per day of October (31), the summary and
    // the manifest, none of them one another, also case-insensitively.
    assert_eq!(names.len(), tenants.len() * 32 + 2);
    let folded: std::collections::BTreeSet<String> =
        names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(folded.len(), names.len());
    let summary = csv(&dir.join("seatmeter-billing-2026-10-summary.csv"));
    assert_eq!(summary.len(), tenants.len() + 1, "{summary:?}");
    assert_eq!(summary.last().unwrap()[1], "total");
    for (i, t) in tenants.iter().enumerate() {
        let month = csv(&dir.join(seatmeter::export::billing::tenant_file("2026-10", t)));
        let day = csv(&dir.join(seatmeter::export::billing::tenant_file("2026-10-05", t)));
        for rows in [&month, &day] {
            let voice = rows.iter().find(|r| r[2] == "Voice").unwrap();
            assert_eq!(voice[1], *t, "the file of {t:?} holds {:?}", voice[1]);
            assert_eq!(voice[4], (i + 1).to_string(), "{t:?}: {voice:?}");
        }
    }
    // The manifest verifies, as `sha256sum -c` would check it.
    let manifest =
        std::fs::read_to_string(dir.join("seatmeter-billing-2026-10-manifest.sha256")).unwrap();
    assert_eq!(manifest.lines().count(), names.len() - 1);
    for line in manifest.lines() {
        let (digest, name) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(
            digest,
            seatmeter_core::hex(&Sha256::digest(&bytes)),
            "{name}"
        );
    }
    // A file changed behind the export's back: the manifest no longer verifies, and the
    // check says which file.
    let victim = dir.join(seatmeter::export::billing::tenant_file("2026-10", "acme"));
    std::fs::write(&victim, "tampered").unwrap();
    let err = seatmeter::export::billing::verify_manifest(
        &dir.join("seatmeter-billing-2026-10-manifest.sha256"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("seatmeter-billing-2026-10-tenant-acme.csv has SHA-256"),
        "{err}"
    );
}

/// A tenant name seen in events that no entitlement file provisions (a typo at the
/// source, a customer not provisioned yet) is named by the export, and billed or left out
/// as `[billing] unprovisioned` says.
#[test]
fn a_tenant_no_entitlement_file_provisions_is_named_and_billed_or_skipped() {
    let site = site();
    site.spool(
        "stray.jsonl",
        &lines(&[
            ev(
                "2026-10-12T08:00:00Z",
                "login",
                "acmee",
                "t1",
                &["voice"],
                &[],
            ),
            ev("2026-10-12T09:00:00Z", "logout", "acmee", "t1", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "billed"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("tenant \"acmee\" has data but no entitlement file provisions it: billed"),
        "{out}"
    );
    let billed = site
        .path()
        .join("billed/seatmeter-billing-2026-10-tenant-acmee.csv");
    let rows = csv(&billed);
    assert_eq!(rows.last().unwrap()[13], "40.00", "the minimum: {rows:?}");
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg.replace(
            "minimum = \"40.00\"",
            "minimum = \"40.00\"\nunprovisioned = \"skip\"",
        ),
    )
    .unwrap();
    let (ok, out) = export(&site, &["--month", "2026-10", "--out", "skipped"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("\"acmee\" has data but no entitlement file provisions it: not billed"),
        "{out}"
    );
    let dir = site.path().join("skipped");
    assert!(
        !dir.join("seatmeter-billing-2026-10-tenant-acmee.csv")
            .exists()
    );
    assert!(
        dir.join("seatmeter-billing-2026-10-tenant-acme.csv")
            .exists()
    );
    let summary =
        std::fs::read_to_string(dir.join("seatmeter-billing-2026-10-summary.csv")).unwrap();
    assert!(!summary.contains("acmee"), "{summary}");
}
