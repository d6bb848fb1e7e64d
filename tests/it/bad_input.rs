//! Bad input gets a clear message naming the file and line; the good lines around it are
//! still collected.

use crate::support::{Site, ev};

const GOOD1: &str =
    r#"{"ts":"2026-01-05T09:00:00Z","event":"login","tenant":"a","agent":"x","media":["voice"]}"#;
const GOOD2: &str = r#"{"ts":"2026-01-05T10:00:00Z","event":"logout","tenant":"a","agent":"x"}"#;

/// A file with a good line, the bad one, and a good line; returns the one reject.
fn one_bad_line(name: &str, body: String) -> seatmeter_collectors::Reject {
    let site = Site::simple("UTC");
    site.spool(name, &body);
    let runs = site.collect();
    assert_eq!(
        runs[0].stored.events, 2,
        "the good lines around the bad one are collected"
    );
    assert_eq!(runs[0].stored.rejects, 1);
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let stored = store.rejects(None).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].source, name);
    runs[0].rejects[0].clone()
}

fn jsonl(bad: &str) -> String {
    format!("{GOOD1}\n{bad}\n{GOOD2}\n")
}

fn csv(bad: &str) -> String {
    format!(
        "ts,event,tenant,agent,place,groups,media\n2026-01-05T09:00:00Z,login,a,x,,,voice\n{bad}\n2026-01-05T10:00:00Z,logout,a,x,,,\n"
    )
}

#[test]
fn each_bad_line_is_kept_aside_with_its_file_line_and_reason() {
    let cases: Vec<(&str, String, u64, &str)> = vec![
        (
            "ts.jsonl",
            jsonl(r#"{"ts":"2026-01-05 09:00","event":"login","agent":"y"}"#),
            2,
            "is not RFC 3339",
        ),
        (
            "ts.csv",
            csv("05/01/2026 09:00,login,a,y,,,voice"),
            3,
            "is not RFC 3339",
        ),
        (
            "word.jsonl",
            jsonl(r#"{"ts":"2026-01-05T09:00:00Z","event":"signin","agent":"y"}"#),
            2,
            "unknown event \"signin\" (expected login or logout)",
        ),
        (
            "agent.jsonl",
            jsonl(r#"{"ts":"2026-01-05T09:00:00Z","event":"login","tenant":"a"}"#),
            2,
            "missing agent",
        ),
        (
            "agent.csv",
            csv("2026-01-05T09:00:00Z,login,a,,,,voice"),
            3,
            "missing agent",
        ),
        (
            "wide.csv",
            csv("2026-01-05T09:00:00Z,login,a,y,,,voice,extra"),
            3,
            "expected 7 fields as in the header, found 8",
        ),
        (
            "cut.jsonl",
            jsonl(r#"{"ts":"2026-01-05T09:00:00Z","event":"log"#),
            2,
            "truncated JSON line",
        ),
        (
            "type.jsonl",
            jsonl(r#"{"ts":"2026-01-05T09:00:00Z","event":"login","agent":1001}"#),
            2,
            "invalid type: integer `1001`",
        ),
    ];
    for (name, body, line, want) in cases {
        let r = one_bad_line(name, body);
        assert_eq!((r.source.as_str(), r.line), (name, line), "{r}");
        assert!(r.reason.contains(want), "{name}: {r}");
        assert!(r.to_string().starts_with(&format!("{name}:{line}: ")));
    }
    // Bytes that are not UTF-8.
    let site = Site::simple("UTC");
    let mut body = format!("{GOOD1}\n").into_bytes();
    body.extend_from_slice(b"{\"ts\":\"\xff\"}\n");
    body.extend_from_slice(format!("{GOOD2}\n").as_bytes());
    std::fs::write(site.path().join("spool/bytes.jsonl"), body).unwrap();
    let runs = site.collect();
    assert_eq!(runs[0].stored.events, 2);
    assert_eq!(runs[0].rejects[0].line, 2);
    assert!(runs[0].rejects[0].reason.contains("not valid UTF-8"));
}

#[test]
fn a_snapshot_that_is_not_well_formed_is_kept_aside_and_the_others_read() {
    let site = Site::simple("UTC");
    site.snapshot("a.xml", "<ConfigurationSnapshot taken=\"2026-01-05T00:00:00Z\">\n<Tenant name=\"a\">\n<Agent id=\"x\" enabled=\"true\" media=\"voice\">\n</Tenant>\n</ConfigurationSnapshot>\n");
    site.snapshot("b.xml", "<ConfigurationSnapshot taken=\"2026-01-05T00:00:00Z\"><Agent id=\"x\" enabled=\"true\" media=\"voice\"/></ConfigurationSnapshot>");
    let runs = site.collect();
    let cfg = &runs[1];
    assert_eq!(cfg.stored.snapshots, 1);
    assert_eq!(cfg.rejects.len(), 1);
    assert_eq!(
        (cfg.rejects[0].source.as_str(), cfg.rejects[0].line),
        ("a.xml", 4)
    );
    assert!(
        cfg.rejects[0].reason.starts_with("not well-formed XML"),
        "{}",
        cfg.rejects[0]
    );
}

#[test]
fn a_license_file_with_a_bad_line_grants_nothing_and_says_where() {
    let site = crate::support::Site::new(
        "UTC",
        crate::support::VOICE_EMAIL,
        "INCREMENT V v 1 permanent 5\nINCREMENT E v 1 31-jun-2027 5\n",
    );
    site.spool(
        "a.jsonl",
        &format!(
            "{}\n",
            ev("2026-01-05T09:00:00Z", "login", "a", "x", &["voice"], &[])
        ),
    );
    site.collect_and_rollup();
    let (csv, outcome) = site.report_full("system", None, "daily", "2026-01-05", "2026-01-05");
    assert!(
        outcome
            .gaps
            .iter()
            .any(|w| w.contains("license.dat:2: expiry date: \"31-jun-2027\" is not a real date")),
        "{:?}",
        outcome.gaps
    );
    // No entitlement from that file, not even from its good line.
    let rows = crate::support::rows(&csv);
    assert_eq!(rows[0][5], "");
    assert_eq!(rows[0][6], "false");
}

#[test]
fn a_partial_last_line_is_not_lost() {
    let site = Site::simple("UTC");
    let path = site.path().join("spool/a.jsonl");
    std::fs::write(&path, format!("{GOOD1}\n{}", &GOOD2[..30])).unwrap();
    let runs = site.collect();
    assert_eq!(runs[0].stored.events, 1);
    assert_eq!(runs[0].stored.rejects, 0);
    assert!(runs[0].summary.notes[0].contains("a.jsonl:2: the last line has no newline yet"));
    std::fs::write(&path, format!("{GOOD1}\n{GOOD2}\n")).unwrap();
    let runs = site.collect();
    assert_eq!(runs[0].stored.events, 1);
    assert_eq!(runs[0].stored.rejects, 0);
}

/// Names no database can keep (a NUL, or longer than the stores index) and instants out
/// of range are kept aside line by line, on SQLite and on PostgreSQL alike, and the rest
/// of the batch is stored: one bad line never blocks a collection.
#[test]
fn names_no_store_keeps_and_impossible_instants_are_kept_aside_on_both_stores() {
    let long = "n".repeat(3000);
    let spool = format!(
        "{GOOD1}\n\
         {{\"ts\":\"2026-01-05T09:00:00Z\",\"event\":\"login\",\"agent\":\"ba\\u0000d\"}}\n\
         {{\"ts\":\"2026-01-05T09:00:00Z\",\"event\":\"login\",\"agent\":\"{long}\"}}\n\
         {{\"ts\":\"2126-01-05T09:00:00Z\",\"event\":\"login\",\"agent\":\"typo\"}}\n\
         {{\"ts\":\"1677-09-22T00:00:00Z\",\"event\":\"login\",\"agent\":\"old\"}}\n\
         {GOOD2}\n"
    );
    let csv = "ts,event,tenant,agent,place,groups,media\n\
               2026-01-05T09:00:00Z,login,a,y,,,voice\n\
               2026-01-05T09:01:00Z,login,a,z\0z,,,voice\n";
    let snapshot = "<ConfigurationSnapshot taken=\"2026-01-05T00:00:00Z\">\n\
                    <Agent id=\"p\" enabled=\"true\" media=\"voice\"/>\n\
                    <Agent id=\"q&#0;\" enabled=\"true\" media=\"voice\"/>\n\
                    </ConfigurationSnapshot>\n";
    let check = |site: &Site, what: &str| {
        site.spool("a.jsonl", &spool);
        site.spool("b.csv", csv);
        site.snapshot("s.xml", snapshot);
        let runs = site.collect();
        assert_eq!(
            runs[0].stored.events, 3,
            "{what}: the good lines are stored"
        );
        assert_eq!(runs[0].stored.rejects, 5, "{what}");
        let config = site.config();
        let mut store = seatmeter_store::open(&config.store).unwrap();
        let rejects: Vec<(String, u64, String)> = store
            .rejects(None)
            .unwrap()
            .into_iter()
            .map(|r| (r.source, r.line, r.reason))
            .collect();
        let has = |source: &str, line: u64, reason: &str| {
            assert!(
                rejects
                    .iter()
                    .any(|r| r.0 == source && r.1 == line && r.2.contains(reason)),
                "{what}: no reject {source}:{line} {reason:?} in {rejects:?}"
            )
        };
        has("a.jsonl", 2, "contains a NUL character");
        has("a.jsonl", 3, "3000 bytes long; at most 256");
        has("a.jsonl", 4, "2126-01-05T09:00:00Z is more than 1day after");
        has("a.jsonl", 5, "before 2000-01-01");
        has("b.csv", 3, "contains a NUL character");
        // The snapshot: quick-xml refuses the character reference to NUL, or the id is
        // refused; either way the file is kept aside whole, with its line.
        assert!(
            rejects.iter().any(|r| r.0 == "s.xml" && r.1 == 3),
            "{what}: {rejects:?}"
        );
        assert_eq!(store.snapshots().unwrap().len(), 0, "{what}");
        // The rest of the site rolls up and reports.
        site.rollup();
        let csv = site.report("system", "daily", "2026-01-05", "2026-01-05");
        assert!(
            csv.lines().nth(1).unwrap().contains(",Voice,2,"),
            "{what}: {csv}"
        );
    };
    check(&Site::simple("UTC"), "SQLite");
    let Some(base) = crate::postgres::database_url("bad names on PostgreSQL") else {
        return;
    };
    let schema = crate::postgres::Schema::new(&base, "badnames");
    let site = Site::simple("UTC");
    let cfg = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        cfg.replace(
            "[store]\npath = \"seatmeter.db\"",
            &format!("[store]\nurl = \"{}\"", schema.url()),
        ),
    )
    .unwrap();
    check(&site, "PostgreSQL");
}

/// A line kept aside is stored once, however often its file is read: again from the start
/// (reset-cursor), under another name (a rotation), or by two collections at once.
#[test]
fn a_rejected_line_is_stored_once_however_often_its_file_is_read() {
    let site = Site::simple("UTC");
    site.spool("a.jsonl", &jsonl("this is not json"));
    site.spool("b.csv", &csv("2026-01-05T09:30:00Z,login,a,,,,voice"));
    let count = |site: &Site| {
        let config = site.config();
        let mut store = seatmeter_store::open(&config.store).unwrap();
        let status = store.status().unwrap();
        (status.rejects, status.collectors[1].rejects, status.events)
    };
    site.collect();
    assert_eq!(count(&site), (2, 2, 2));
    let o = crate::support::seatmeter(site.path(), &["reset-cursor", "events"]);
    assert!(o.status.success());
    let runs = site.collect();
    assert_eq!(
        runs[0].stored.rejects, 0,
        "read again: nothing new is kept aside"
    );
    assert_eq!(count(&site), (2, 2, 2));
    // Rotated: the same content under another name.
    std::fs::rename(
        site.path().join("spool/a.jsonl"),
        site.path().join("spool/a.jsonl.1.jsonl"),
    )
    .unwrap();
    site.collect();
    assert_eq!(count(&site), (2, 2, 2));
    // Two collections at once, on a fresh store.
    std::fs::remove_file(site.path().join("seatmeter.db")).unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| crate::support::seatmeter(site.path(), &["collect", "--once"]));
        let b = s.spawn(|| crate::support::seatmeter(site.path(), &["collect", "--once"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success() && b.status.success());
    assert_eq!(count(&site), (2, 2, 2));
    // A different file with the same bad line at the same place is another rejected line.
    site.spool(
        "c.jsonl",
        &jsonl("this is not json").replace("09:00", "09:05"),
    );
    site.collect();
    assert_eq!(count(&site).0, 3);
}

/// Names a spreadsheet would run as formulas (CSV injection) are neutralised in every CSV
/// seatmeter writes (reports, billing) with a leading `'`, and left as they are in JSON.
#[test]
fn names_that_look_like_formulas_are_neutralised_in_csv() {
    let site = Site::simple("UTC");
    let evil = "=HYPERLINK(\"http://evil.example\",\"x\")";
    site.spool(
        "a.jsonl",
        &crate::support::lines(&[
            crate::support::ev(
                "2026-01-05T09:00:00Z",
                "login",
                evil,
                "a",
                &["voice"],
                &["@grp"],
            ),
            crate::support::ev("2026-01-05T10:00:00Z", "logout", evil, "a", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let csv = site.report("group", "daily", "2026-01-05", "2026-01-05");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let first = rows.records().next().unwrap().unwrap();
    assert_eq!(&first[1], format!("'{evil}/@grp"), "{csv}");
    let tenant = site.report("tenant", "daily", "2026-01-05", "2026-01-05");
    assert!(tenant.contains("\"'=HYPERLINK("), "{tenant}");
    assert!(
        !tenant.contains(",=HYPERLINK") && !tenant.contains(",\"=HYPERLINK"),
        "{tenant}"
    );
    // JSON keeps the name as it is.
    let o = crate::support::seatmeter(
        site.path(),
        &[
            "report",
            "--scope",
            "tenant",
            "--granularity",
            "daily",
            "--from",
            "2026-01-05",
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = json.as_array().or_else(|| json["rows"].as_array()).unwrap();
    assert_eq!(rows[0]["scope_id"], evil);
    // Billing files too.
    let o = crate::support::seatmeter(
        site.path(),
        &[
            "export",
            "billing",
            "--quantities-only",
            "--month",
            "2026-01",
            "--out",
            "bills",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = std::fs::read_to_string(
        site.path()
            .join("bills/seatmeter-billing-2026-01-summary.csv"),
    )
    .unwrap();
    assert!(summary.contains("\"'=HYPERLINK("), "{summary}");
}
