//! `report --scope agent`: one row per agent from the activity the rollup keeps and the
//! snapshot in force (groups, tier, tags, enabled items), narrowed to a tenant that then sees
//! its agents only; refused when the data is not rolled up.

use crate::support::{Site, ev, lines, pdftotext, seatmeter};

const SNAPSHOT: &str = r#"<ConfigurationSnapshot taken="2026-10-01T00:00:00Z">
  <Tenant name="acme">
    <Agent id="a1" enabled="true" media="voice email" groups="Support" tier="CX2"/>
    <Agent id="a2" enabled="true" media="voice" groups="Sales" tags="SEASONAL_BURST TRAINING"/>
    <Agent id="a3" enabled="false" media="voice"/>
  </Tenant>
  <Tenant name="globex">
    <Agent id="g1" enabled="true" media="voice" groups="Night"/>
  </Tenant>
</ConfigurationSnapshot>
"#;

fn site() -> Site {
    let site = Site::simple("UTC");
    site.snapshot("s.xml", SNAPSHOT);
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                "2026-10-03T09:00:00Z",
                "login",
                "acme",
                "a1",
                &["voice"],
                &[],
            ),
            ev("2026-10-03T11:00:00Z", "logout", "acme", "a1", &[], &[]),
            ev(
                "2026-10-04T08:00:00Z",
                "login",
                "globex",
                "g1",
                &["voice"],
                &[],
            ),
            ev("2026-10-04T09:00:00Z", "logout", "globex", "g1", &[], &[]),
            // Not in the snapshot: listed from its activity.
            ev(
                "2026-10-04T10:00:00Z",
                "login",
                "acme",
                "a9",
                &["voice"],
                &[],
            ),
            ev("2026-10-04T10:15:00Z", "logout", "acme", "a9", &[], &[]),
            ev(
                "2026-10-05T13:00:00Z",
                "login",
                "acme",
                "a1",
                &["email"],
                &[],
            ),
            ev("2026-10-05T13:30:00Z", "logout", "acme", "a1", &[], &[]),
        ]),
    );
    site
}

fn run(site: &Site, args: &[&str]) -> (i32, String, String) {
    let mut all = vec![
        "report",
        "--scope",
        "agent",
        "--from",
        "2026-10-04",
        "--to",
        "2026-10-05",
    ];
    all.extend_from_slice(args);
    let o = seatmeter(site.path(), &all);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn a_tenant_sees_each_of_its_agents_with_last_use_days_and_hours() {
    let site = site();
    site.collect();
    let (code, _, err) = run(&site, &["--id", "acme"]);
    assert_eq!(code, 1, "refused before the rollup: {err}");
    assert!(err.contains("nothing is rolled up yet"), "{err}");
    site.rollup();
    let (code, csv, err) = run(&site, &["--id", "acme"]);
    assert_eq!(code, 0, "{err}");
    // a1: last used Voice on the 3rd (before the window), Email on the 5th; active on the
    // 5th only within the window, for 30 minutes (0.50 h). a9: 15 minutes = 0.25 h.
    assert_eq!(
        csv,
        "tenant,agent,configured,enabled,groups,tier,tags,enabled_items,last_login,days_active,hours_logged,last_used:Voice,last_used:Email\n\
         acme,a1,true,true,Support,CX2,,Voice; Email,2026-10-05T13:00:00+00:00,1,0.50,2026-10-03,2026-10-05\n\
         acme,a2,true,true,Sales,,SEASONAL_BURST TRAINING,Voice,,0,0.00,,\n\
         acme,a3,true,false,,,,,,0,0.00,,\n\
         acme,a9,false,false,,,,,2026-10-04T10:00:00+00:00,1,0.25,2026-10-04,\n"
    );
    // The whole site lists globex's agent too; acme's document never does.
    let (_, all, _) = run(&site, &[]);
    assert!(
        all.contains(
            "\nglobex,g1,true,true,Night,,,Voice,2026-10-04T08:00:00+00:00,1,1.00,2026-10-04,\n"
        ),
        "{all}"
    );
    for format in ["json", "table"] {
        let (code, text, err) = run(&site, &["--id", "acme", "--format", format]);
        assert_eq!(code, 0, "{err}");
        assert!(
            text.contains("a9") && !text.contains("globex") && !text.contains("g1"),
            "{text}"
        );
    }
    let (_, json, _) = run(&site, &["--id", "acme", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["complete"], true);
    assert_eq!(v["agents"][0]["seconds_logged"], 1800);
    assert_eq!(v["agents"][0]["last_used"]["Voice"], "2026-10-03");
    assert_eq!(
        v["agents"][1]["tags"],
        serde_json::json!(["SEASONAL_BURST", "TRAINING"])
    );
    let (code, _, err) = run(&site, &["--id", "initech"]);
    assert_eq!(code, 1);
    assert!(err.contains("no tenant \"initech\""), "{err}");
}

#[test]
fn the_agent_pdf_is_the_tenants_alone_and_carries_the_csv_digest() {
    let site = site();
    site.collect_and_rollup();
    let pdf = site.path().join("agents.pdf");
    let (code, _, err) = run(
        &site,
        &[
            "--id",
            "acme",
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let Some(text) = pdftotext(&pdf) else {
        return;
    };
    let (_, csv, _) = run(&site, &["--id", "acme"]);
    let digest = {
        use sha2::{Digest, Sha256};
        seatmeter_core::hex(&Sha256::digest(csv.as_bytes()))
    };
    for want in [
        "Agent activity report",
        "Tenant acme",
        "acme/a1",
        "acme/a9",
        "(disabled)",
        "Voice never",
        "SEASONAL_BURST",
        &digest[..32],
    ] {
        assert!(text.contains(want), "{want:?} missing in:\n{text}");
    }
    assert!(!text.contains("globex") && !text.contains("g1"), "{text}");
}
