//! Right-sizing end to end (docs/FINOPS.md): inactive users with and without a seasonal
//! tag, a downgrade and its saving, a concurrent item whose saving is 0, renewal sizes,
//! decisions on the record (approve, reject with a reason, refusals), the decision log's
//! chain verified and a tampered entry found, the approved changes exported, and a
//! showback with an unallocated group. Every expected number is computed by hand below.

use std::process::Command;

use seatmeter::finops::proposals::recommendation_id;

use crate::support::{Site, ev, lines, seatmeter};

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
[billing.prices]
"Voice" = "10.00"
"Email" = "5.00"

[finops]
inactive_days = 14
lookback_days = 14
shared_cost = 300

[[finops.tier]]
name = "CX1"
items = ["Voice"]
price = 2000

[[finops.tier]]
name = "CX2"
items = ["Voice", "Email"]
price = 3500

[[finops.cost_center]]
name = "Care"
groups = ["Support"]
"#;

const SNAPSHOT: &str = r#"<ConfigurationSnapshot taken="2026-10-01T00:00:00Z">
  <Tenant name="acme">
    <Agent id="x1" enabled="true" media="voice email" groups="Support" tier="CX2"/>
    <Agent id="x2" enabled="true" media="voice email" groups="Sales"/>
    <Agent id="x3" enabled="true" media="voice" groups="Sales" tags="SEASONAL_BURST"/>
  </Tenant>
</ConfigurationSnapshot>
"#;

fn site() -> Site {
    let site = Site::new(
        "UTC",
        ITEMS,
        "INCREMENT V genesys.d 8.5 permanent 1\nINCREMENT E genesys.d 8.5 permanent 5\n",
    );
    site.snapshot("s.xml", SNAPSHOT);
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                "2026-10-02T09:00:00Z",
                "login",
                "acme",
                "x1",
                &["voice"],
                &[],
            ),
            ev("2026-10-02T10:00:00Z", "logout", "acme", "x1", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    site
}

fn run(site: &Site, args: &[&str]) -> (i32, String, String) {
    let o = seatmeter(site.path(), args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

fn ok(site: &Site, args: &[&str]) -> String {
    let (code, out, err) = run(site, args);
    assert_eq!(code, 0, "{args:?}: {out}\n{err}");
    out
}

#[test]
fn proposals_are_exact_decided_on_the_record_and_the_log_verifies() {
    let site = site();
    let out = ok(&site, &["recommend", "propose", "--as-of", "2026-10-20"]);
    // x1 used Voice last on 10-02: 18 idle days > 14, reclaimed (Voice is concurrent:
    // saves 0, and says so). It used nothing in the 14 days to 10-20, so CX2 → CX1, which
    // drops Email (named): saves 35.00 − 20.00 = 15.00; Email is then not reclaimed too.
    // x2 never logged in: tier CX2 derived from voice+email; the same downgrade and a Voice
    // reclaim. x3 is saved by its tag.
    assert!(
        out.contains("acme/x3 Voice: exempt (tag SEASONAL_BURST)"),
        "{out}"
    );
    assert!(
        out.contains("Monthly saving of the proposals: 30.00 EUR"),
        "{out}"
    );
    assert!(out.contains("stored: 6 new"), "{out}");
    let csv = ok(&site, &["recommend", "list", "--format", "csv"]);
    let mut got: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.splitn(9, ',').collect();
            format!("{}|{}|{}|{}|{}|{}", f[0], f[2], f[4], f[5], f[6], f[7])
        })
        .collect();
    got.sort();
    let row = |kind: &str, agent: &str, item: &str, saving: &str| {
        format!(
            "{}|{kind}|{agent}|{item}|{saving}|2026-10-20",
            recommendation_id(
                kind,
                if kind == "renewal" { "" } else { "acme" },
                agent,
                item
            )
        )
    };
    // Renewal: Voice peaked at 1 (entitled 1): 1 + 10 % rounded up = 2, one seat more at
    // 10.00 (a cost: −10.00). Email (named): 2 enabled seats at most (x1, x2), 2.2 → 3
    // against 5 entitled: 2 seats fewer at 5.00 = 10.00 saved.
    let mut want = [
        row("reclaim", "x1", "Voice", "0.00"),
        row("reclaim", "x2", "Voice", "0.00"),
        row("downgrade", "x1", "CX2>CX1", "15.00"),
        row("downgrade", "x2", "CX2>CX1", "15.00"),
        row("renewal", "", "Voice", "-10.00"),
        row("renewal", "", "Email", "10.00"),
    ];
    want.sort();
    assert_eq!(got, want, "{csv}");
    assert!(csv.contains("licensed concurrently: reclaiming named users lowers nothing"));

    let down = recommendation_id("downgrade", "acme", "x1", "CX2>CX1");
    let reclaim = recommendation_id("reclaim", "acme", "x2", "Voice");
    // Decisions: a reject needs a reason; an unknown or decided id is refused.
    let (code, _, err) = run(&site, &["recommend", "reject", &reclaim, "--by", "ops"]);
    assert_eq!(code, 1);
    assert!(err.contains("a rejection needs a reason"), "{err}");
    ok(&site, &["recommend", "approve", &down, "--by", "J. Ops"]);
    let (code, _, err) = run(&site, &["recommend", "approve", &down, "--by", "J. Ops"]);
    assert_eq!(code, 1);
    assert!(err.contains("is approved, not proposed"), "{err}");
    let (code, _, err) = run(
        &site,
        &["recommend", "approve", "R-000000000000", "--by", "x"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no recommendation R-000000000000"), "{err}");
    ok(
        &site,
        &[
            "recommend",
            "reject",
            &reclaim,
            "--by",
            "Finance",
            "--reason",
            "night shift, back in spring",
        ],
    );

    // Proposed again on the same data: the rejected one is not, the approved stays approved.
    let out = ok(&site, &["recommend", "propose", "--as-of", "2026-10-20"]);
    assert!(
        out.contains(
            "stored: 0 new, 0 refreshed, 0 proposed again, 0 superseded, 2 already decided"
        ),
        "{out}"
    );

    let export = ok(&site, &["recommend", "export", "--approved"]);
    assert_eq!(export.lines().count(), 2, "{export}");
    assert!(export.contains(&down) && export.contains("J. Ops") && !export.contains(&reclaim));

    let log = ok(&site, &["recommend", "log"]);
    let entries: Vec<&str> = log.lines().skip(1).collect();
    assert_eq!(entries.len(), 2, "{log}");
    assert!(
        entries[0].starts_with("1,")
            && entries[0].contains(&down)
            && entries[0].contains(",approved,J. Ops,")
    );
    assert!(
        entries[1].starts_with("2,")
            && entries[1].contains("rejected,Finance,\"night shift, back in spring\"")
    );

    // Behind seatmeter's back: the trigger refuses; dropped, an edit goes through, and
    // the log no longer verifies, naming the entry.
    let db = site.path().join("seatmeter.db");
    let sql = |s: &str| {
        Command::new("python3")
            .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()"])
            .arg(&db)
            .arg(s)
            .output()
            .unwrap()
    };
    let refused = sql("UPDATE decision SET reason = 'approved by the board' WHERE seq = 2");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("append-only"));
    let edited = sql(
        "DROP TRIGGER decision_append_only_update; UPDATE decision SET reason = 'approved by the board' WHERE seq = 2",
    );
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    let (code, _, err) = run(&site, &["recommend", "log"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("does not verify: entry 2: its contents do not match its hash"),
        "{err}"
    );
}

#[test]
fn showback_splits_costs_exactly_and_keeps_an_unallocated_line() {
    let site = site();
    let csv = ok(
        &site,
        &["showback", "--month", "2026-10", "--format", "csv"],
    );
    // Care (group Support): x1's Email seat 5.00 (named), Voice's month peak 1 × 10.00
    // (concurrent, all of its 60 minutes are x1's), and the shared 3.00 by minutes.
    // Sales has no cost center: x2's Email seat, 5.00, on the unallocated line.
    assert_eq!(
        csv,
        "month,cost_center,unallocated,agents,minutes,direct,shared,total,currency\n\
         2026-10,Care,false,1,60,15.00,3.00,18.00,EUR\n\
         2026-10,unallocated,true,2,0,5.00,0.00,5.00,EUR\n"
    );
}

/// Every decision's entry and status change are one transaction: killed at any moment, an
/// approval has either both or neither, and the chain verifies after every kill.
#[test]
fn decisions_killed_at_random_moments_leave_no_half_entry() {
    use seatmeter_store::reco::{RecStatus, verify_chain};
    use std::os::unix::process::ExitStatusExt;
    let site = site();
    ok(&site, &["recommend", "propose", "--as-of", "2026-10-20"]);
    let config = site.config();
    let ids: Vec<String> = seatmeter_store::open(&config.store)
        .unwrap()
        .recommendations()
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), 6);
    let started = std::time::Instant::now();
    ok(&site, &["recommend", "list"]);
    let clean = started.elapsed().as_micros() as u64;
    let mut rng = seatmeter_core::rng::Rng::new(15);
    let mut kills = 0;
    for id in &ids {
        for attempt in 0.. {
            let mut child = Command::new(env!("CARGO_BIN_EXE_seatmeter"))
                .current_dir(site.path())
                .args(["recommend", "approve", id, "--by", "ops"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            if attempt < 6 {
                std::thread::sleep(std::time::Duration::from_micros(rng.below(clean)));
                if child.try_wait().unwrap().is_none() {
                    child.kill().unwrap();
                }
            }
            let status = child.wait().unwrap();
            kills += u32::from(status.signal().is_some());
            let mut store = seatmeter_store::open(&config.store).unwrap();
            let log = store.decisions().unwrap();
            verify_chain(&log).unwrap();
            let recs = store.recommendations().unwrap();
            for r in &recs {
                let entries = log.iter().filter(|d| d.recommendation == r.id).count();
                let want = usize::from(r.status == RecStatus::Approved);
                assert_eq!(
                    entries, want,
                    "{}: {:?} with {entries} entries",
                    r.id, r.status
                );
            }
            if recs
                .iter()
                .any(|r| &r.id == id && r.status == RecStatus::Approved)
            {
                break;
            }
        }
    }
    let log = seatmeter_store::open(&config.store)
        .unwrap()
        .decisions()
        .unwrap();
    assert_eq!(log.len(), 6);
    eprintln!("decisions: {kills} approval(s) killed on the way, the log verifies");
}

/// Long sessions (a missing auto-logout holds a concurrent seat): those over the limit
/// that ended in the month, and the one still open at its end, longest first; a 9.5-hour
/// shift is under the 12-hour limit. A limit below what the rollup keeps is refused.
#[test]
fn long_sessions_of_the_month_are_listed_open_ones_included() {
    let site = Site::new(
        "UTC",
        ITEMS,
        "INCREMENT V genesys.d 8.5 permanent 5\nINCREMENT E genesys.d 8.5 permanent 5\n",
    );
    site.snapshot("s.xml", SNAPSHOT);
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                "2026-10-10T06:00:00Z",
                "login",
                "acme",
                "x1",
                &["voice"],
                &[],
            ),
            ev("2026-10-10T19:30:00Z", "logout", "acme", "x1", &[], &[]),
            ev(
                "2026-10-12T08:00:00Z",
                "login",
                "acme",
                "x2",
                &["voice"],
                &[],
            ),
            ev("2026-10-12T17:30:00Z", "logout", "acme", "x2", &[], &[]),
            ev(
                "2026-10-19T20:00:00Z",
                "login",
                "acme",
                "x3",
                &["voice"],
                &[],
            ),
            ev(
                "2026-10-20T09:00:00Z",
                "login",
                "acme",
                "x1",
                &["voice"],
                &[],
            ),
            ev("2026-10-20T09:30:00Z", "logout", "acme", "x1", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let out = ok(&site, &["recommend", "propose", "--as-of", "2026-10-20"]);
    // x3: from 10-19 20:00 to the end of 10-20, 28 hours, still logged in; x1: 13.5 hours.
    let want = "Sessions longer than 12 hours this month: 2 (a missing auto-logout holds a seat)\n  \
                acme/x3: 28.00 h from 2026-10-19T20:00:00+00:00 still logged in\n  \
                acme/x1: 13.50 h from 2026-10-10T06:00:00+00:00 to 2026-10-10T19:30:00+00:00\n";
    assert!(out.contains(want), "{out}");
    let cfg = site.path().join("seatmeter.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace(
            "lookback_days = 14",
            "lookback_days = 14\nlong_session_hours = 6",
        ),
    )
    .unwrap();
    let (code, _, err) = run(&site, &["recommend", "list"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("long_session_hours = 6: the rollup keeps sessions longer than 8 hours"),
        "{err}"
    );
}
