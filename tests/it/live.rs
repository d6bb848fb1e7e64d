//! Live usage (docs/ALERTS.md, "Live usage"): what the service shows between rollups equals
//! what the rollup stores for the same instants once the day is rolled up.

use seatmeter::guard::live::{LiveUsage, live_usage};
use seatmeter_core::rng::Rng;
use seatmeter_core::time::parse_rfc3339;

use crate::support::{Site, ev, lines, peaks};

/// The 10-minute periods of the day (UTC) in which nothing happens: the instants the live
/// values are taken at are their starts, so the rollup's peak of that period is the number
/// of seats in use at that instant.
const QUIET: [usize; 4] = [30, 61, 95, 130];

fn at(slot: usize) -> String {
    format!("2026-03-10T{:02}:{:02}:00Z", slot / 6, slot % 6 * 10)
}

/// A generated day: 60 agents of two tenants, each with a few sessions of voice and
/// e-mail, never starting or ending in a quiet period; some logged in since the day before,
/// some still logged in at its end. (ts, line) in time order.
fn day(seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for a in 0..60 {
        let tenant = if a % 3 == 0 { "beta" } else { "acme" };
        let media: &[&str] = match a % 4 {
            0 => &["voice", "email"],
            1 => &["email"],
            _ => &["voice"],
        };
        let agent = format!("a{a}");
        let mut t = if a % 10 == 0 {
            0
        } else {
            rng.range(1, 40) as usize
        };
        while t < 143 {
            let end = (t + rng.range(2, 40) as usize).min(144);
            let quiet = |s: usize| QUIET.contains(&s);
            if t > 0 && !quiet(t) {
                let ts = at(t)[..17].to_string() + &format!("{:02}Z", rng.range(0, 59));
                out.push((ts.clone(), ev(&ts, "login", tenant, &agent, media, &[])));
            }
            if end < 144 && !quiet(end) {
                let ts = at(end)[..17].to_string() + &format!("{:02}Z", rng.range(0, 59));
                out.push((ts.clone(), ev(&ts, "logout", tenant, &agent, &[], &[])));
            }
            t = end + rng.range(1, 30) as usize;
        }
    }
    out.sort();
    out
}

fn value(l: &LiveUsage, tenant: Option<&str>, item: &str) -> (u64, u64) {
    l.values
        .iter()
        .find(|v| v.tenant.as_deref() == tenant && v.item == item)
        .map(|v| (v.in_use, v.peak_today))
        .unwrap_or((0, 0))
}

#[test]
fn live_values_equal_the_rollup_of_the_same_instants() {
    for seed in [1, 7, 42] {
        let site = Site::new(
            "UTC",
            crate::support::VOICE_EMAIL,
            "INCREMENT V genesys.d 8.5 permanent 20\nINCREMENT E genesys.d 8.5 permanent 20\n",
        );
        // The day before: every tenth agent logs in and stays (carried into the day).
        let before: Vec<String> = (0..60)
            .step_by(10)
            .map(|a| {
                let tenant = if a % 3 == 0 { "beta" } else { "acme" };
                ev(
                    "2026-03-09T20:00:00Z",
                    "login",
                    tenant,
                    &format!("a{a}"),
                    &["voice"],
                    &[],
                )
            })
            .collect();
        site.spool("d0.jsonl", &lines(&before));
        site.collect_and_rollup();

        let events = day(seed);
        let config = site.config();
        let mut live = Vec::new();
        let mut written = 0;
        for (k, &slot) in QUIET.iter().enumerate() {
            let t = at(slot);
            let part: Vec<String> = events[written..]
                .iter()
                .take_while(|(ts, _)| *ts < t)
                .map(|(_, l)| l.clone())
                .collect();
            written += part.len();
            site.spool(&format!("d1-{k}.jsonl"), &lines(&part));
            site.collect();
            let mut store = seatmeter_store::open(&config.store).unwrap();
            live.push(live_usage(store.as_mut(), &config, parse_rfc3339(&t).unwrap()).unwrap());
        }
        let rest: Vec<String> = events[written..].iter().map(|(_, l)| l.clone()).collect();
        site.spool("d1-rest.jsonl", &lines(&rest));
        site.collect_and_rollup();

        for (scope, tenant, id) in [
            ("system", None, ""),
            ("tenant", Some("acme"), "acme"),
            ("tenant", Some("beta"), "beta"),
        ] {
            let csv = site.report(scope, "10min", "2026-03-10", "2026-03-10");
            for item in ["Voice", "Email"] {
                let rolled = peaks(&csv, id, item);
                assert_eq!(rolled.len(), 144, "{scope} {id} {item}");
                for (k, &slot) in QUIET.iter().enumerate() {
                    let (in_use, peak) = value(&live[k], tenant, item);
                    assert_eq!(
                        in_use,
                        rolled[slot],
                        "seed {seed}, {scope} {id} {item}: in use at {}",
                        at(slot)
                    );
                    let so_far = *rolled[..=slot].iter().max().unwrap();
                    assert_eq!(
                        peak,
                        so_far,
                        "seed {seed}, {scope} {id} {item}: peak until {}",
                        at(slot)
                    );
                }
                assert!(
                    rolled.iter().any(|&p| p > 0),
                    "the generated day uses {item}"
                );
            }
        }
        // The system's entitlement of today is the license's.
        let v = live[0]
            .values
            .iter()
            .find(|v| v.tenant.is_none() && v.item == "Voice")
            .unwrap();
        assert_eq!(v.entitled, Some(seatmeter_core::Entitled::Seats(20)));
    }
}
