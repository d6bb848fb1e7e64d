//! When each row's peak happened (docs/SEMANTICS.md, "When the peak happened"): the first
//! instant of the period at which the peak was reached, to the second, in an opt-in CSV
//! column and JSON key (the contract's header stays the default), and always in the table.

use crate::support::{Site, ev, lines, seatmeter};

fn site() -> Site {
    let site = Site::simple("UTC");
    site.spool(
        "a.jsonl",
        &lines(&[
            // x from 09:05:30.7, over midnight, to the next day's noon.
            ev(
                "2026-01-05T09:05:30.700Z",
                "login",
                "a",
                "x",
                &["voice"],
                &[],
            ),
            // y twice: the peak of 2 is first reached at 09:07:00, again at 09:20:00.
            ev("2026-01-05T09:07:00Z", "login", "a", "y", &["voice"], &[]),
            ev("2026-01-05T09:08:00Z", "logout", "a", "y", &[], &[]),
            ev("2026-01-05T09:20:00Z", "login", "a", "y", &["voice"], &[]),
            ev("2026-01-05T09:30:00Z", "logout", "a", "y", &[], &[]),
            // A fraction of a second is cut, not rounded.
            ev(
                "2026-01-05T10:00:59.999Z",
                "login",
                "a",
                "z",
                &["email"],
                &[],
            ),
            ev("2026-01-05T10:30:00Z", "logout", "a", "z", &[], &[]),
            ev("2026-01-06T12:00:00Z", "logout", "a", "x", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    site
}

fn report(site: &Site, args: &[&str]) -> String {
    let mut all = vec!["report", "--scope", "system", "--from", "2026-01-05"];
    all.extend(args);
    let o = seatmeter(site.path(), &all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The `peak_at` of the row of `item` starting at `start`.
fn at(csv: &str, start: &str, item: &str) -> String {
    let line = csv
        .lines()
        .find(|l| {
            let c: Vec<&str> = l.split(',').collect();
            c[3] == start && c[5] == item
        })
        .unwrap_or_else(|| panic!("no row {start} {item}:\n{csv}"));
    line.rsplit(',').next().unwrap().to_string()
}

#[test]
fn each_row_says_when_its_peak_was_first_reached() {
    let site = site();
    let ten = report(
        &site,
        &["--granularity", "10min", "--format", "csv", "--peak-at"],
    );
    assert!(ten.starts_with(
        "scope,scope_id,granularity,period_start,period_end,item,peak_concurrent,enabled_seats,entitled,over_use,peak_at\n"
    ));
    // The first instant of the peak of 2, not the later one of the same height.
    assert_eq!(
        at(&ten, "2026-01-05T09:00:00+00:00", "Voice"),
        "2026-01-05T09:07:00+00:00"
    );
    assert_eq!(
        at(&ten, "2026-01-05T09:20:00+00:00", "Voice"),
        "2026-01-05T09:20:00+00:00"
    );
    // A level held from before the period: reached at the period's start.
    assert_eq!(
        at(&ten, "2026-01-05T09:10:00+00:00", "Voice"),
        "2026-01-05T09:10:00+00:00"
    );
    // No seat in use: no instant.
    assert_eq!(at(&ten, "2026-01-05T08:50:00+00:00", "Voice"), "");

    // (granularity, the row's start, item, its peak_at)
    let cases = [
        (
            "hourly",
            "2026-01-05T09:00:00+00:00",
            "Voice",
            "2026-01-05T09:07:00+00:00",
        ),
        (
            "hourly",
            "2026-01-05T10:00:00+00:00",
            "Email",
            "2026-01-05T10:00:59+00:00",
        ),
        (
            "daily",
            "2026-01-05T00:00:00+00:00",
            "Voice",
            "2026-01-05T09:07:00+00:00",
        ),
        // Carried over midnight: the next day's peak of 1 is reached as it starts.
        (
            "daily",
            "2026-01-06T00:00:00+00:00",
            "Voice",
            "2026-01-06T00:00:00+00:00",
        ),
        ("daily", "2026-01-06T00:00:00+00:00", "Email", ""),
        (
            "monthly",
            "2026-01-01T00:00:00+00:00",
            "Voice",
            "2026-01-05T09:07:00+00:00",
        ),
        (
            "monthly",
            "2026-01-01T00:00:00+00:00",
            "Email",
            "2026-01-05T10:00:59+00:00",
        ),
    ];
    for (granularity, start, item, expected) in cases {
        let csv = report(
            &site,
            &[
                "--granularity",
                granularity,
                "--to",
                "2026-01-06",
                "--format",
                "csv",
                "--peak-at",
            ],
        );
        assert_eq!(
            at(&csv, start, item),
            expected,
            "{granularity} {start} {item}"
        );
    }
}

#[test]
fn the_contract_s_columns_stay_the_default_and_the_table_always_shows_it() {
    let site = site();
    let csv = report(&site, &["--granularity", "daily", "--format", "csv"]);
    assert!(csv.starts_with(
        "scope,scope_id,granularity,period_start,period_end,item,peak_concurrent,enabled_seats,entitled,over_use\n"
    ));
    assert!(!csv.contains("09:07"), "{csv}");
    let json = report(&site, &["--granularity", "daily", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(rows[0].get("peak_at").is_none(), "{json}");
    let json = report(
        &site,
        &["--granularity", "daily", "--format", "json", "--peak-at"],
    );
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows[0]["item"], "Voice");
    assert_eq!(rows[0]["peak_at"], "2026-01-05T09:07:00+00:00");
    assert_eq!(rows[1]["peak_at"], "2026-01-05T10:00:59+00:00");
    let table = report(&site, &["--granularity", "daily", "--format", "table"]);
    assert!(table.contains("peak at"), "{table}");
    assert!(table.contains("2026-01-05 09:07:00+00:00"), "{table}");
}
