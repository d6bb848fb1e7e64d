//! Bundles: measured exactly (an agent in two included items counts once, an excluded
//! item takes it out, even mid-session), the latest-issued of overlapping definitions
//! wins, and bundle rows in system and tenant reports with their own entitlements.

use crate::support::{Site, ev, lines, rows};

const ITEMS: &str = r#"
[[item]]
name = "Voice"
media = ["voice"]

[[item]]
name = "Email"
media = ["email"]

[[item]]
name = "Chat"
media = ["chat"]

[[item]]
name = "Outbound"
media = ["outbound"]

[billing.prices]
"Digital" = "20.00"
"#;

const ENTITLEMENTS: &str = r#"<Entitlements>
  <Bundle name="Digital" issued="2026-09-01" start="2026-10-01">
    <Include item="Email"/>
    <Include item="Chat"/>
  </Bundle>
  <!-- Issued later and overlapping from the 15th: it wins there, and leaves voice agents out. -->
  <Bundle name="Digital" issued="2026-10-10" start="2026-10-15" end="2026-10-31">
    <Include item="Email"/>
    <Include item="Chat"/>
    <Exclude item="Voice"/>
  </Bundle>
  <Bundle name="Inbound" issued="2026-09-01" start="2026-10-01">
    <Include item="Voice"/>
    <Include item="Email"/>
    <Exclude item="Outbound"/>
  </Bundle>
  <System>
    <Entitlement bundle="Inbound" quantity="2" start="2026-10-01"/>
  </System>
  <Tenant name="acme">
    <Entitlement bundle="Digital" quantity="1" start="2026-10-01"/>
  </Tenant>
</Entitlements>
"#;

fn site() -> Site {
    let site = Site::new("UTC", ITEMS, "");
    site.entitlements(ENTITLEMENTS);
    site.spool(
        "a.jsonl",
        &lines(&[
            // The 5th, first definition of Digital (Email or Chat).
            ev(
                "2026-10-05T09:00:00Z",
                "login",
                "acme",
                "a",
                &["voice", "email"],
                &[],
            ),
            ev(
                "2026-10-05T09:15:00Z",
                "login",
                "acme",
                "c",
                &["voice", "outbound"],
                &[],
            ),
            ev(
                "2026-10-05T09:30:00Z",
                "login",
                "acme",
                "b",
                &["email", "chat"],
                &[],
            ),
            ev("2026-10-05T09:45:00Z", "logout", "acme", "c", &[], &[]),
            ev("2026-10-05T10:00:00Z", "logout", "acme", "a", &[], &[]),
            ev("2026-10-05T10:30:00Z", "logout", "acme", "b", &[], &[]),
            // The 20th, second definition (no voice agents): b takes a voice call on a
            // second device at 09:30 and leaves the bundle.
            ev(
                "2026-10-20T09:00:00Z",
                "login",
                "acme",
                "a",
                &["voice", "email"],
                &[],
            ),
            ev(
                "2026-10-20T09:00:00Z",
                "login",
                "acme",
                "b",
                &["email"],
                &[],
            ),
            ev(
                "2026-10-20T09:30:00Z",
                "login",
                "acme",
                "b",
                &["voice"],
                &[],
            ),
            ev("2026-10-20T10:00:00Z", "logout", "acme", "a", &[], &[]),
            ev("2026-10-20T10:00:00Z", "logout", "acme", "b", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    site
}

/// (item, peak, entitled, over_use) of one period.
fn values(csv: &str, period_start: &str) -> Vec<(String, String, String, String)> {
    rows(csv)
        .into_iter()
        .filter(|r| r[1] == period_start)
        .map(|r| (r[2].clone(), r[3].clone(), r[5].clone(), r[6].clone()))
        .collect()
}

fn v(item: &str, peak: &str, entitled: &str, over: &str) -> (String, String, String, String) {
    (item.into(), peak.into(), entitled.into(), over.into())
}

#[test]
fn bundles_are_measured_exactly_with_the_definition_in_force() {
    let site = site();
    let system = site.report("system", "daily", "2026-10-05", "2026-10-20");
    assert_eq!(
        values(&system, "2026-10-05T00:00:00+00:00"),
        vec![
            v("Voice", "2", "", "false"),
            v("Email", "2", "", "false"),
            v("Chat", "1", "", "false"),
            v("Outbound", "1", "", "false"),
            // a (Email) and b (Email and Chat, counted once): 2, not Email + Chat = 3.
            v("Digital", "2", "", "false"),
            // a and b; c uses Outbound, which Inbound excludes.
            v("Inbound", "2", "2", "false"),
        ]
    );
    // The later definition excludes Voice: only b, until its voice login at 09:30.
    assert_eq!(
        values(&system, "2026-10-20T00:00:00+00:00")[4],
        v("Digital", "1", "", "false")
    );
    let ten = site.report("system", "10min", "2026-10-20", "2026-10-20");
    assert_eq!(
        values(&ten, "2026-10-20T09:20:00+00:00")[4],
        v("Digital", "1", "", "false")
    );
    assert_eq!(
        values(&ten, "2026-10-20T09:30:00+00:00")[4],
        v("Digital", "0", "", "false")
    );
    // Voice rose to 2 at the same instant.
    assert_eq!(
        values(&ten, "2026-10-20T09:30:00+00:00")[0],
        v("Voice", "2", "", "false")
    );

    // The tenant's own bundle entitlement: 2 Digital seats on the 5th exceed its 1.
    let tenant = site.report("tenant", "daily", "2026-10-05", "2026-10-05");
    assert_eq!(
        values(&tenant, "2026-10-05T00:00:00+00:00")[4],
        v("Digital", "2", "1", "true")
    );
    // Groups have no bundle rows.
    let group = site.report("group", "daily", "2026-10-05", "2026-10-05");
    assert!(!group.contains("Digital"), "{group}");
}

#[test]
fn changing_a_bundle_rolls_up_again_and_bad_bundles_name_the_line() {
    let site = site();
    // Digital without its exclusion: b stays in on the 20th.
    std::fs::write(
        site.path().join("entitlements.xml"),
        ENTITLEMENTS.replace("    <Exclude item=\"Voice\"/>\n", ""),
    )
    .unwrap();
    let stats = site.rollup();
    assert!(!stats.rolled.is_empty());
    let ten = site.report("system", "10min", "2026-10-20", "2026-10-20");
    assert_eq!(
        values(&ten, "2026-10-20T09:30:00+00:00")[4],
        v("Digital", "2", "", "false")
    );
    // An entitlement of a bundle nobody defined.
    std::fs::write(
        site.path().join("entitlements.xml"),
        "<Entitlements>\n<System>\n<Entitlement bundle=\"Premium\" quantity=\"1\" start=\"2026-10-01\"/>\n</System>\n</Entitlements>\n",
    )
    .unwrap();
    let e = seatmeter::config::Config::load(&site.config_path()).unwrap_err();
    assert!(
        e.to_string()
            .contains("entitlements.xml:3: bundle \"Premium\" is not defined"),
        "{e}"
    );
}

#[test]
fn bundles_are_billed() {
    let site = site();
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let out = site.path().join("bill");
    seatmeter::export::billing::export(
        store.as_mut(),
        &config,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        None,
        &out,
        &Default::default(),
        &mut |_| {},
    )
    .unwrap();
    let text =
        std::fs::read_to_string(out.join("seatmeter-billing-2026-10-tenant-acme.csv")).unwrap();
    let line = text.lines().find(|l| l.contains(",Digital,")).unwrap();
    // Peak 2 in the month (the 5th), entitled 1, 2 × 20.00.
    assert!(
        line.contains(",2,") && line.ends_with(",2,20.00,40.00,EUR"),
        "{line}"
    );
}
