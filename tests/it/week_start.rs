//! The business week (docs/SEMANTICS.md section 3, "The business week"): `week_start`
//! moves where weekly periods begin; ISO weeks stay the default; stored numbers do not
//! depend on it, so the same rolled-up days give the new weeks at once.

use crate::support::{Site, ev, lines, rows, seatmeter};

/// Sat 31 Oct 2026: three agents at once; Sun 1 Nov: one; Mon 2 Nov: two.
fn site() -> Site {
    let site = Site::simple("UTC");
    let mut evs = Vec::new();
    for (day, agents) in [("2026-10-31", 3), ("2026-11-01", 1), ("2026-11-02", 2)] {
        for a in 0..agents {
            let agent = format!("{day}-{a}");
            evs.push(ev(
                &format!("{day}T10:00:00Z"),
                "login",
                "a",
                &agent,
                &["voice"],
                &[],
            ));
            evs.push(ev(
                &format!("{day}T11:00:00Z"),
                "logout",
                "a",
                &agent,
                &[],
                &[],
            ));
        }
    }
    site.spool("a.jsonl", &lines(&evs));
    site.collect_and_rollup();
    site
}

/// (period_start, period_end, peak) of the Voice rows of the weekly system report.
fn weeks(site: &Site) -> Vec<(String, String, String)> {
    let o = seatmeter(
        site.path(),
        &[
            "report",
            "--scope",
            "system",
            "--granularity",
            "weekly",
            "--from",
            "2026-10-31",
            "--to",
            "2026-11-02",
        ],
    );
    let csv = String::from_utf8(o.stdout).unwrap();
    assert!(
        csv.starts_with("scope,"),
        "{csv}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ends: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().to_string())
        .collect();
    rows(&csv)
        .into_iter()
        .zip(ends)
        .filter(|(r, _)| r[2] == "Voice")
        .map(|(r, end)| (r[1].clone(), end, r[3].clone()))
        .collect()
}

fn row(start: &str, end: &str, peak: u32) -> (String, String, String) {
    (
        format!("{start}T00:00:00+00:00"),
        format!("{end}T00:00:00+00:00"),
        peak.to_string(),
    )
}

#[test]
fn weekly_periods_start_on_the_configured_day_and_iso_weeks_stay_the_default() {
    let site = site();
    // ISO weeks: Mon 26 Oct – Sun 1 Nov holds Saturday's 3; the next week Monday's 2.
    assert_eq!(
        weeks(&site),
        vec![
            row("2026-10-26", "2026-11-02", 3),
            row("2026-11-02", "2026-11-09", 2)
        ]
    );
    // Sunday weeks, with no re-roll: Saturday closes the first week; Sunday and Monday
    // share the second.
    site.set_top("week_start = \"sunday\"");
    assert_eq!(
        weeks(&site),
        vec![
            row("2026-10-25", "2026-11-01", 3),
            row("2026-11-01", "2026-11-08", 2)
        ]
    );
    // Saturday weeks: the three days are one week.
    site.set_top("week_start = \"Saturday\"");
    assert_eq!(weeks(&site), vec![row("2026-10-31", "2026-11-07", 3)]);
}

#[test]
fn a_week_start_that_is_no_day_is_refused_with_its_line() {
    let site = site();
    site.set_top("week_start = \"Sun\"");
    let o = seatmeter(
        site.path(),
        &[
            "report",
            "--scope",
            "system",
            "--granularity",
            "weekly",
            "--from",
            "2026-11-01",
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("seatmeter.toml:1") && err.contains("week_start = \"Sun\" is not a day"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "no report is written");
}
