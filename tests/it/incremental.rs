//! Re-reading, re-delivery and late data never change a total; the rollup re-rolls only
//! what changed.

use seatmeter::dev::sitegen::{SiteSpec, generate};
use seatmeter::rollup::Days;
use seatmeter_core::calendar::parse_date;

use crate::support::{Site, ev, lines, peaks};

/// Every scope's daily report and the system's 10-minute report over the site's days.
fn all_reports(site: &Site, from: &str, to: &str) -> Vec<String> {
    vec![
        site.report("system", "10min", from, to),
        site.report("system", "daily", from, to),
        site.report("tenant", "hourly", from, to),
        site.report("group", "daily", from, to),
        site.report("tenant", "monthly", from, to),
    ]
}

fn small_spec() -> SiteSpec {
    let mut spec = SiteSpec::demo();
    spec.agents = 30;
    spec.days = 8;
    spec.start = chrono::NaiveDate::from_ymd_opt(2026, 10, 22).unwrap();
    spec
}

fn generated_site() -> Site {
    let site = Site::simple("UTC");
    generate(&small_spec(), site.path()).unwrap();
    site
}

#[test]
fn collecting_again_or_redelivering_changes_nothing() {
    let site = generated_site();
    site.collect_and_rollup();
    let before = all_reports(&site, "2026-10-22", "2026-10-30");
    // Again: nothing new.
    let runs = site.collect();
    assert!(
        runs.iter()
            .all(|r| r.stored.events == 0 && r.stored.snapshots == 0),
        "{runs:?}"
    );
    assert!(site.rollup().rolled.is_empty());
    assert_eq!(all_reports(&site, "2026-10-22", "2026-10-30"), before);
    // The same file under a new name: every event is a duplicate.
    let spool = site.path().join("spool");
    std::fs::copy(
        spool.join("2026-10-22-acme.jsonl"),
        spool.join("zz-resent.jsonl"),
    )
    .unwrap();
    let runs = site.collect();
    assert_eq!(runs[0].stored.events, 0);
    assert!(runs[0].stored.duplicates > 10, "{runs:?}");
    site.rollup();
    assert_eq!(all_reports(&site, "2026-10-22", "2026-10-30"), before);
    // Forgetting the cursor re-reads everything, and stores nothing twice.
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    assert!(store.reset_cursor("events").unwrap());
    drop(store);
    let runs = site.collect();
    assert_eq!(runs[0].stored.events, 0);
    site.rollup();
    assert_eq!(all_reports(&site, "2026-10-22", "2026-10-30"), before);
}

#[test]
fn files_arriving_in_pieces_give_the_same_reports_as_all_at_once() {
    let whole = generated_site();
    whole.collect_and_rollup();
    let want = all_reports(&whole, "2026-10-22", "2026-10-30");

    // The same files, delivered a few at a time (late ones last), with rollups between,
    // and one file growing line by line.
    let site = Site::simple("UTC");
    generate(&small_spec(), site.path()).unwrap();
    let spool = site.path().join("spool");
    let hold = site.path().join("held");
    std::fs::create_dir_all(&hold).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for n in &names {
        std::fs::rename(spool.join(n), hold.join(n)).unwrap();
    }
    // Release order: days 3..8 first, then days 1..2 (late), file by file; one file is
    // held back to grow line by line at the end.
    const GROWING: &str = "2026-10-28-acme.jsonl";
    let (early, late): (Vec<&String>, Vec<&String>) = names
        .iter()
        .filter(|n| *n != GROWING)
        .partition(|n| !n.starts_with("2026-10-22") && !n.starts_with("2026-10-23"));
    for (i, n) in early.iter().chain(late.iter()).enumerate() {
        std::fs::rename(hold.join(n), spool.join(n)).unwrap();
        if i % 5 == 4 {
            site.collect_and_rollup();
        }
    }
    // A file that grows: first half of its lines, then the rest.
    let grow = spool.join(GROWING);
    let text = std::fs::read_to_string(hold.join(GROWING)).unwrap();
    let cut = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    std::fs::write(&grow, &text[..cut]).unwrap();
    site.collect_and_rollup();
    std::fs::write(&grow, &text).unwrap();
    let stats = site.collect_and_rollup();
    assert!(!stats.rolled.is_empty());
    assert_eq!(all_reports(&site, "2026-10-22", "2026-10-30"), want);
}

#[test]
fn a_late_logout_re_rolls_the_day_and_the_days_it_changes() {
    let site = Site::simple("UTC");
    site.spool(
        "a.jsonl",
        &lines(&[
            ev("2026-01-05T09:00:00Z", "login", "a", "x", &["voice"], &[]),
            ev("2026-01-08T09:00:00Z", "login", "a", "y", &["voice"], &[]),
            ev("2026-01-08T10:00:00Z", "logout", "a", "y", &[], &[]),
        ]),
    );
    let first = site.collect_and_rollup();
    assert_eq!(first.rolled.len(), 4);
    // x never logged out: 1 on every day, 2 while y is in.
    assert_eq!(
        peaks(
            &site.report("system", "daily", "2026-01-05", "2026-01-09"),
            "",
            "Voice"
        ),
        [1, 1, 1, 2, 1]
    );
    // The logout arrives late.
    site.spool(
        "b.jsonl",
        &lines(&[ev("2026-01-05T17:00:00Z", "logout", "a", "x", &[], &[])]),
    );
    let again = site.collect_and_rollup();
    let rolled: Vec<String> = again
        .rolled
        .iter()
        .map(|&d| seatmeter_core::calendar::Calendar::date_text(d))
        .collect();
    assert_eq!(
        rolled,
        ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"],
        "day 1 and the days whose start changed"
    );
    assert_eq!(
        peaks(
            &site.report("system", "daily", "2026-01-05", "2026-01-09"),
            "",
            "Voice"
        ),
        [1, 0, 0, 1, 0]
    );
    // A late event that changes nothing after its day re-rolls only its day.
    site.spool(
        "c.jsonl",
        &lines(&[
            ev("2026-01-06T09:00:00Z", "login", "a", "z", &["voice"], &[]),
            ev("2026-01-06T09:30:00Z", "logout", "a", "z", &[], &[]),
        ]),
    );
    let third = site.collect_and_rollup();
    assert_eq!(third.rolled, [parse_date("2026-01-06").unwrap()]);
    assert_eq!(third.unchanged, 2);
}

#[test]
fn rolling_up_days_again_on_request_changes_nothing() {
    let site = generated_site();
    site.collect_and_rollup();
    let before = all_reports(&site, "2026-10-22", "2026-10-30");
    let stats = site.rollup_days(Days::Range(
        parse_date("2026-10-23").unwrap(),
        parse_date("2026-10-25").unwrap(),
    ));
    assert_eq!(
        stats.rolled.len(),
        3,
        "the days asked for; later days start as before"
    );
    assert_eq!(all_reports(&site, "2026-10-22", "2026-10-30"), before);
}

#[test]
fn changing_the_time_zone_rolls_everything_up_again() {
    let site = generated_site();
    site.collect_and_rollup();
    let config = std::fs::read_to_string(site.config_path()).unwrap();
    std::fs::write(
        site.config_path(),
        config.replace(
            "timezone = \"Europe/London\"",
            "timezone = \"America/New_York\"",
        ),
    )
    .unwrap();
    // Reports refuse stale rollups.
    let cfg = site.config();
    let mut store = seatmeter_store::open(&cfg.store).unwrap();
    let err = seatmeter::report::Reporter::new(store.as_mut(), &cfg)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("run `seatmeter rollup`"), "{err}");
    drop(store);
    let stats = site.rollup();
    assert!(stats.reset);
    // Same as a site that had New York from the start.
    let fresh = generated_site();
    let config = std::fs::read_to_string(fresh.config_path()).unwrap();
    std::fs::write(
        fresh.config_path(),
        config.replace(
            "timezone = \"Europe/London\"",
            "timezone = \"America/New_York\"",
        ),
    )
    .unwrap();
    fresh.collect_and_rollup();
    assert_eq!(
        all_reports(&site, "2026-10-22", "2026-10-30"),
        all_reports(&fresh, "2026-10-22", "2026-10-30")
    );
}

#[test]
fn data_stored_while_a_rollup_runs_is_rolled_up_by_the_next_run() {
    // A rollup reads the dirty marks (and a watermark), then the data. A batch stored in
    // between, even one holding only a snapshot, must keep its mark.
    let site = Site::simple("UTC");
    site.spool(
        "a.jsonl",
        &lines(&[ev(
            "2026-01-05T09:00:00Z",
            "login",
            "a",
            "x",
            &["voice"],
            &[],
        )]),
    );
    site.collect();
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let (dirty, watermark) = store.dirty_days().unwrap();
    assert_eq!(dirty.len(), 1);
    site.snapshot("s.xml", r#"<ConfigurationSnapshot taken="2026-01-07T08:00:00Z"><Agent id="x" enabled="true" media="voice"/></ConfigurationSnapshot>"#);
    site.collect();
    let meta = store.rollup_meta().unwrap();
    store.finish_rollup(&meta, watermark).unwrap();
    let (after, _) = store.dirty_days().unwrap();
    let jan7 = parse_date("2026-01-07").unwrap() as i64;
    assert_eq!(
        after,
        vec![jan7],
        "the first batch's mark is gone, the snapshot's stays"
    );
}

#[test]
fn collectors_storing_at_the_same_time_both_succeed() {
    // Each service job has its own connection; SQLite's deferred transactions used to fail
    // at once with "database is locked" when another connection had written in between.
    let site = Site::simple("UTC");
    let config = site.config();
    seatmeter_store::open(&config.store).unwrap();
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let config = config.clone();
            std::thread::spawn(move || {
                let mut store = seatmeter_store::open(&config.store).unwrap();
                for i in 0..40 {
                    let mut batch = seatmeter_collectors::Batch::new();
                    let ts = format!("2026-01-05T{:02}:{:02}:00Z", 8 + t, i);
                    batch
                        .push(&seatmeter_collectors::EventFields {
                            ts: &ts,
                            event: "login",
                            agent: &format!("a{t}"),
                            ..Default::default()
                        })
                        .unwrap();
                    store
                        .ingest(&format!("c{t}"), "spool", &batch, &format!("{{\"i\":{i}}}"))
                        .unwrap();
                    // Readers in between (as the rollup and /metrics do).
                    store.dirty_days().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut store = seatmeter_store::open(&config.store).unwrap();
    assert_eq!(store.status().unwrap().events, 120);
}
