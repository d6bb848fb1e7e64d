//! Agent activity, kept by the rollup with each day: first and last login, time logged in,
//! time per item and per media; exact across midnight and a second device, and rolled up
//! again (not added to) when late data arrives.

use seatmeter_core::Nanos;
use seatmeter_core::calendar::parse_date;
use seatmeter_core::time::parse_rfc3339;
use seatmeter_store::AgentActivity;

use crate::support::{Site, ev, lines};

const MIN: Nanos = 60_000_000_000;

/// An agent's name, its activity of the day, and its time per media word.
type Named = (String, AgentActivity, Vec<(String, Nanos)>);

/// Each agent's activity on a local day, by agent name, with media names.
fn activity(site: &Site, date: &str) -> Vec<Named> {
    let config = site.config();
    let mut store = seatmeter_store::open(&config.store).unwrap();
    let dims = store.dimensions().unwrap();
    let day = parse_date(date).unwrap();
    let days = store.activity(day, day).unwrap();
    let Some((_, agents)) = days.into_iter().next() else {
        return Vec::new();
    };
    agents
        .into_iter()
        .map(|a| {
            let media = a
                .media
                .iter()
                .map(|&(m, ns)| (dims.media[m as usize].clone(), ns))
                .collect();
            (dims.agents[a.agent as usize].1.clone(), a, media)
        })
        .collect()
}

fn t(s: &str) -> Nanos {
    parse_rfc3339(s).unwrap()
}

#[test]
fn activity_is_exact_across_a_second_device_and_midnight_and_late_data_re_rolls_it() {
    let site = Site::simple("Europe/London");
    site.spool(
        "a.jsonl",
        &lines(&[
            ev(
                "2026-10-05T08:00:00Z",
                "login",
                "acme",
                "a1",
                &["voice"],
                &[],
            ),
            // A second device adds e-mail for the last half hour.
            ev(
                "2026-10-05T09:00:00Z",
                "login",
                "acme",
                "a1",
                &["email"],
                &[],
            ),
            ev("2026-10-05T09:30:00Z", "logout", "acme", "a1", &[], &[]),
            // 23:30 to 01:30 local time (BST): 30 minutes on the 5th, 90 on the 6th.
            ev(
                "2026-10-05T22:30:00Z",
                "login",
                "acme",
                "a2",
                &["voice"],
                &[],
            ),
            ev("2026-10-06T00:30:00Z", "logout", "acme", "a2", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let day5 = activity(&site, "2026-10-05");
    assert_eq!(day5.len(), 2, "{day5:?}");
    let (name, a1, media) = &day5[0];
    assert_eq!(name, "a1");
    assert_eq!(a1.first_login, Some(t("2026-10-05T08:00:00Z")));
    assert_eq!(a1.last_login, Some(t("2026-10-05T09:00:00Z")));
    assert_eq!(a1.logged, 90 * MIN);
    // Items in configuration order: Voice (0) all the time, Email (1) the last 30 minutes.
    assert_eq!(a1.items, vec![(0, 90 * MIN), (1, 30 * MIN)]);
    let mut media = media.clone();
    media.sort();
    assert_eq!(
        media,
        vec![
            ("email".to_string(), 30 * MIN),
            ("voice".to_string(), 90 * MIN)
        ]
    );
    let (name, a2, _) = &day5[1];
    assert_eq!(name, "a2");
    assert_eq!(a2.logged, 30 * MIN);
    let day6 = activity(&site, "2026-10-06");
    assert_eq!(day6.len(), 1);
    assert_eq!(day6[0].0, "a2");
    assert_eq!(day6[0].1.first_login, None, "logged in from the day before");
    assert_eq!(day6[0].1.logged, 90 * MIN);
    assert_eq!(day6[0].1.items, vec![(0, 90 * MIN)]);

    // Late data for the 5th: a3's short session. The day is rolled up again; a1 and a2 are
    // as they were, not doubled.
    site.spool(
        "late.jsonl",
        &lines(&[
            ev(
                "2026-10-05T12:00:00Z",
                "login",
                "acme",
                "a3",
                &["email"],
                &[],
            ),
            ev("2026-10-05T12:10:00Z", "logout", "acme", "a3", &[], &[]),
        ]),
    );
    site.collect_and_rollup();
    let again = activity(&site, "2026-10-05");
    let names: Vec<&str> = again.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["a1", "a2", "a3"]);
    assert_eq!(again[0].1, day5[0].1);
    assert_eq!(again[1].1, day5[1].1);
    assert_eq!(again[2].1.logged, 10 * MIN);
    assert_eq!(again[2].1.items, vec![(1, 10 * MIN)]);
}
