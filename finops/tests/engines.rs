//! Inactive seats, downgrades, renewal sizing, near-peak time and long sessions, each
//! against rows computed by hand.

mod common;

use common::{TIERS, as_of, checked, items};
use seatmeter_finops::{
    AgentUse, Band, Downgrade, LongSession, NearPeak, Reclaim, Session, downgrade, inactive,
    long_sessions, near_peak, renewal,
};

const NOTE: &str =
    "licensed concurrently: reclaiming named users lowers nothing, only the peak does";

fn agent(name: &str, enabled: &[usize], last_use: &[Option<i32>]) -> AgentUse {
    AgentUse {
        tenant: "acme".into(),
        agent: name.into(),
        groups: vec![],
        enabled_items: enabled.to_vec(),
        tags: vec![],
        tier: None,
        last_login: Some(as_of()),
        last_use: last_use.to_vec(),
    }
}

#[allow(clippy::too_many_arguments)]
fn reclaim(
    agent: &str,
    item: &str,
    last_use: Option<i32>,
    days_idle: Option<u32>,
    exempt_by: Option<&str>,
    saving: i64,
    concurrent: bool,
    reason: &str,
) -> Reclaim {
    Reclaim {
        tenant: "acme".into(),
        agent: agent.into(),
        item: item.into(),
        last_use,
        days_idle,
        exempt_by: exempt_by.map(String::from),
        saving,
        concurrent,
        reason: reason.into(),
    }
}

#[test]
fn inactive_seats_with_and_without_exempting_tags() {
    let d = as_of(); // 2026-10-31
    let fin = checked(
        "[finops]\nexempt_tags = [\"TRAINING\", \"SEASONAL_BURST\"]\n\
         [[finops.tag]]\ntenant = \"acme\"\nagent = \"dan\"\ntags = [\"TRAINING\"]\n",
    );
    let mut carl = agent("carl", &[0], &[Some(d - 100)]);
    carl.tags = vec!["SEASONAL_BURST".into()];
    let mut dan = agent("dan", &[0], &[Some(d - 100)]);
    dan.tags = vec!["SEASONAL_BURST".into()]; // and TRAINING from [[finops.tag]]
    let mut eve = agent("eve", &[0, 1], &[]);
    eve.last_login = None;
    let agents = vec![
        // Voice used 3 days ago (kept); E-Mail 52 days ago: 52 > 45, reclaim 15.00.
        agent("ann", &[0, 1], &[Some(d - 3), Some(d - 52)]),
        // Voice 46 days ago: 46 > 45, reclaimed; E-Mail exactly 45 days ago: kept.
        agent("bob", &[0, 1], &[Some(d - 46), Some(d - 45)]),
        carl,
        dan,
        eve,
        // Web Media is concurrent: shown, but saves nothing.
        agent("fay", &[2], &[None, None, Some(d - 60)]),
    ];
    let rows = inactive(d, &agents, &items(), &fin);
    let web = format!("no use of Web Media in 60 days (inactive after 45); Web Media is {NOTE}");
    assert_eq!(
        rows,
        vec![
            reclaim(
                "ann",
                "E-Mail",
                Some(d - 52),
                Some(52),
                None,
                1500,
                false,
                "no use of E-Mail in 52 days (inactive after 45)"
            ),
            reclaim(
                "bob",
                "Voice",
                Some(d - 46),
                Some(46),
                None,
                3000,
                false,
                "no use of Voice in 46 days (inactive after 45)"
            ),
            reclaim(
                "carl",
                "Voice",
                Some(d - 100),
                Some(100),
                Some("SEASONAL_BURST"),
                0,
                false,
                "no use of Voice in 100 days (inactive after 45); exempt: tagged SEASONAL_BURST"
            ),
            // TRAINING comes first in exempt_tags, so it names the exemption.
            reclaim(
                "dan",
                "Voice",
                Some(d - 100),
                Some(100),
                Some("TRAINING"),
                0,
                false,
                "no use of Voice in 100 days (inactive after 45); exempt: tagged TRAINING"
            ),
            reclaim(
                "eve",
                "Voice",
                None,
                None,
                None,
                3000,
                false,
                "never used Voice (never logged in)"
            ),
            reclaim(
                "eve",
                "E-Mail",
                None,
                None,
                None,
                1500,
                false,
                "never used E-Mail (never logged in)"
            ),
            reclaim(
                "fay",
                "Web Media",
                Some(d - 60),
                Some(60),
                None,
                0,
                true,
                &web
            ),
        ]
    );
    // With no exempt tags, carl's SEASONAL_BURST exempts nothing: the seat saves 30.00.
    let plain = checked("[finops]\nexempt_tags = []\n");
    let rows = inactive(d, &agents[2..3], &items(), &plain);
    assert_eq!((rows[0].exempt_by.as_deref(), rows[0].saving), (None, 3000));
}

#[test]
fn a_never_used_concurrent_item_has_the_note_and_no_saving() {
    let fin = checked("");
    let rows = inactive(
        as_of(),
        &[agent("gus", &[3], &[Some(as_of())])],
        &items(),
        &fin,
    );
    assert_eq!(
        rows,
        vec![reclaim(
            "gus",
            "Chat",
            None,
            None,
            None,
            0,
            true,
            &format!("never used Chat; Chat is {NOTE}")
        )]
    );
}

fn tiered(name: &str, tier: Option<&str>, enabled: &[usize], last_use: &[Option<i32>]) -> AgentUse {
    AgentUse {
        tier: tier.map(String::from),
        ..agent(name, enabled, last_use)
    }
}

#[test]
fn downgrades_to_the_cheapest_tier_covering_the_used_items() {
    let d = as_of();
    let fin = checked(TIERS); // CX1 30.00 < CX2 40.00 < CX3 65.00; look-back 60 days
    let all = [0, 1, 2, 3];
    let agents = vec![
        // Only Voice used in the 60 days: CX3 → CX1, saving 6500 − 3000 = 3500
        // (E-Mail, a named item, is dropped).
        tiered(
            "ann",
            Some("CX3"),
            &all,
            &[Some(d - 10), Some(d - 61), None, None],
        ),
        // Voice and E-Mail used (E-Mail 59 days ago = the first day of the 60): CX3 → CX2;
        // Web Media (60 days ago, just outside) and Chat are concurrent: saving 0.
        tiered(
            "bob",
            Some("CX3"),
            &all,
            &[Some(d), Some(d - 59), Some(d - 60), None],
        ),
        // No tier in the snapshot: Voice + E-Mail make it CX2; Voice only → CX1, 1000.
        tiered("cat", None, &[0, 1], &[Some(d)]),
        // An unknown tier name falls back the same way.
        tiered("dee", Some("Gold"), &[0, 1], &[Some(d)]),
        // Already on the cheapest tier that serves it: no row.
        tiered("eli", Some("CX1"), &[0], &[Some(d)]),
        // Fax is in no tier, so no tier is the agent's: no row.
        tiered("fox", None, &[0, 4], &[Some(d)]),
        // Uses everything: no cheaper tier.
        tiered(
            "gil",
            Some("CX3"),
            &all,
            &[Some(d), Some(d), Some(d), Some(d)],
        ),
    ];
    let row =
        |agent: &str, from: &str, to: &str, dropped: &[&str], saving, concurrent, reason: &str| {
            Downgrade {
                tenant: "acme".into(),
                agent: agent.into(),
                from: from.into(),
                to: to.into(),
                dropped: dropped.iter().map(|s| s.to_string()).collect(),
                saving,
                concurrent,
                reason: reason.into(),
            }
        };
    assert_eq!(
        downgrade(d, &agents, &items(), &fin),
        vec![
            row(
                "ann",
                "CX3",
                "CX1",
                &["E-Mail", "Web Media", "Chat"],
                3500,
                false,
                "no use of E-Mail, Web Media, Chat in 60 days"
            ),
            row(
                "bob",
                "CX3",
                "CX2",
                &["Web Media", "Chat"],
                0,
                true,
                &format!("no use of Web Media, Chat in 60 days; Web Media and Chat are {NOTE}")
            ),
            row(
                "cat",
                "CX2",
                "CX1",
                &["E-Mail"],
                1000,
                false,
                "no use of E-Mail in 60 days"
            ),
            row(
                "dee",
                "CX2",
                "CX1",
                &["E-Mail"],
                1000,
                false,
                "no use of E-Mail in 60 days"
            ),
        ]
    );
}

#[test]
fn renewal_counts_a_seasonal_peak_in_the_look_back_only() {
    let d = as_of();
    let fin = checked(""); // 365 days, +10%, band 80–95
    let daily = [
        (d - 400, 500), // outside the look-back
        (d - 365, 400), // outside: the look-back is (d − 365, d]
        (d - 200, 130), // the seasonal peak
        (d - 10, 90),
        (d, 95),
    ];
    let r = renewal(&daily, Some(120), Some(2000), true, d, &fin);
    // ceil(130 × 110 / 100) = 143; 143 − 120 = +23; 23 × 20.00 = 460.00;
    // 130 × 100 / 120 = 108% > 95: above the band.
    assert_eq!((r.max, r.max_day, r.recommended), (130, Some(d - 200), 143));
    assert_eq!(
        (r.change, r.money, r.utilization_percent, r.band),
        (23, Some(46000), Some(108), Some(Band::Above))
    );
    assert_eq!((r.days_with_data, r.from, r.to), (3, d - 364, d));
    assert_eq!(
        r.reason,
        "highest concurrent peak 130 on 2026-04-14 in the last 365 days; +10% = 143; entitled 120: raise by 23"
    );

    // The peak 400 days ago does not count: max 95 today; ceil(95 × 1.1) = ceil(104.5) = 105;
    // 105 − 120 = −15; −15 × 20.00 = −300.00; 95 × 100 / 120 = 79% < 80: below.
    let r = renewal(
        &[(d - 400, 500), (d - 10, 90), (d, 95)],
        Some(120),
        Some(2000),
        true,
        d,
        &fin,
    );
    assert_eq!(
        (r.max, r.max_day, r.recommended, r.change, r.money),
        (95, Some(d), 105, -15, Some(-30000))
    );
    assert_eq!(
        (r.utilization_percent, r.band, r.days_with_data),
        (Some(79), Some(Band::Below), 2)
    );

    // Within the band: 100 × 100 / 110 = 90%; ceil(110) = 110, no change. The first day
    // reaching the maximum is its day.
    let r = renewal(
        &[(d - 5, 100), (d - 1, 100)],
        Some(110),
        None,
        false,
        d,
        &fin,
    );
    assert_eq!(
        (r.max_day, r.recommended, r.change, r.money),
        (Some(d - 5), 110, 0, None)
    );
    assert_eq!(
        (r.utilization_percent, r.band),
        (Some(90), Some(Band::Within))
    );

    // No entitlement: buy the recommendation; no utilization, no band.
    let r = renewal(&[(d, 7)], None, Some(100), false, d, &fin);
    assert_eq!(
        (
            r.recommended,
            r.change,
            r.money,
            r.utilization_percent,
            r.band
        ),
        (8, 8, Some(800), None, None)
    );
}

#[test]
fn near_peak_counts_ten_minute_periods_within_the_percent() {
    // Threshold ceil(100 × 95 / 100) = 95: the periods at 100, 96 and 95 count, 94 not.
    assert_eq!(
        near_peak(&[50, 100, 94, 96, 0, 95], 5),
        NearPeak {
            max: 100,
            threshold: 95,
            periods: 3,
            minutes: 30
        }
    );
    // 7 × 95 / 100 = 6.65 → threshold 7: 6 × 100 = 600 < 7 × 95 = 665, so 6 does not count.
    assert_eq!(
        near_peak(&[7, 6, 7], 5),
        NearPeak {
            max: 7,
            threshold: 7,
            periods: 2,
            minutes: 20
        }
    );
    assert_eq!(
        near_peak(&[0, 0], 5),
        NearPeak {
            max: 0,
            threshold: 0,
            periods: 0,
            minutes: 0
        }
    );
    assert_eq!(near_peak(&[10, 1], 100).periods, 2);
}

#[test]
fn long_sessions_longest_first_with_an_open_one_counted_to_the_end() {
    const H: i64 = 3_600_000_000_000;
    let end = 1_000 * H;
    let s = |agent: &str, login: i64, logout: Option<i64>| Session {
        tenant: "acme".into(),
        agent: agent.into(),
        login,
        logout,
    };
    let sessions = [
        s("ann", end - 30 * H, Some(end - 17 * H)), // 13 h: long
        s("bob", end - 40 * H, Some(end - 28 * H)), // exactly 12 h: not longer than 12
        s("cat", end - 20 * H, None),               // open: 20 h until the end
        s("dee", end + H, None),                    // after the end: ignored
        s("eve", end - 11 * H, Some(end)),          // 11 h
    ];
    let long = |agent: &str, login: i64, logout: Option<i64>, hours: i64| LongSession {
        tenant: "acme".into(),
        agent: agent.into(),
        login,
        logout,
        duration: hours * H,
        open: logout.is_none(),
    };
    assert_eq!(
        long_sessions(&sessions, end, 12),
        vec![
            long("cat", end - 20 * H, None, 20),
            long("ann", end - 30 * H, Some(end - 17 * H), 13)
        ]
    );
    // Longer than 11 h: cat (20), ann (13) and bob (12); eve's 11 h is not longer.
    let over_11: Vec<String> = long_sessions(&sessions, end, 11)
        .into_iter()
        .map(|l| l.agent)
        .collect();
    assert_eq!(over_11, vec!["cat", "ann", "bob"]);
}
