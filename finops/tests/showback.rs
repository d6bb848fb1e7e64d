//! Showback: named seats at their price, concurrent cost and shared cost split by
//! minutes with the largest-remainder method, the unallocated line last.

mod common;

use common::{as_of, checked, items};
use seatmeter_finops::{Finops, ShowbackAgent, ShowbackLine, showback};

const CENTERS: &str = r#"
[finops]
shared_cost = 1001

[[finops.cost_center]]
name = "Sales"
groups = ["sales"]

[[finops.cost_center]]
name = "Support"
groups = ["support"]
tenants = ["acme"]
"#;

/// Item indexes: 0 Voice (named 30.00), 1 E-Mail (named 15.00), 2 Web Media (concurrent),
/// 3 Chat (concurrent), 4 Fax (named, no price).
fn sb(
    tenant: &str,
    groups: &[&str],
    enabled: &[usize],
    web_minutes: u64,
    total: u64,
) -> ShowbackAgent {
    ShowbackAgent {
        tenant: tenant.into(),
        agent: format!("{tenant}-{}", groups.join("+")),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        enabled_items: enabled.to_vec(),
        minutes: vec![total, 0, web_minutes, 0, 0],
        total_minutes: total,
    }
}

fn line(
    center: &str,
    unallocated: bool,
    direct: i64,
    shared: i64,
    agents: u32,
    minutes: u64,
) -> ShowbackLine {
    ShowbackLine {
        center: center.into(),
        unallocated,
        direct,
        shared,
        total: direct + shared,
        agents,
        minutes,
    }
}

#[test]
fn showback_splits_exactly_and_keeps_the_unallocated_line_last() {
    let fin: Finops = checked(CENTERS);
    let agents = [
        // Sales (its group): Voice 3000; 100 Web Media minutes; 100 minutes in all.
        sb("acme", &["sales"], &[0, 2], 100, 100),
        // Support: "nocenter" has none, "support" is the first group with one.
        // Voice 3000 + E-Mail 1500; 100 Web Media minutes; 150 in all.
        sb("acme", &["nocenter", "support"], &[0, 1, 2], 100, 150),
        // Support by its tenant acme: E-Mail 1500, Fax (no price) 0; 50 minutes.
        sb("acme", &["nocenter"], &[1, 4], 0, 50),
        // globex's "temp" group has no center: unallocated. Voice 3000; 100 WM minutes.
        sb("globex", &["temp"], &[0, 2], 100, 100),
    ];
    // Web Media's month costs 100.00, split 100:100:100 minutes = 3333.33 each: 3333 each
    // and the 1 left over to the first by name (all remainders equal), Sales.
    // Voice's 999 is ignored (a named item costs its seats).
    let item_cost = [999, 0, 10000, 0, 0];
    let s = showback(&items(), &agents, &item_cost, as_of(), &fin);
    // Shared 1001 by total minutes 100:200:100 of 400 = 250.25, 500.5, 250.25:
    // 250 + 500 + 250 = 1000, the 1 left over to the largest remainder, Support (0.5).
    // Sales   direct 3000 + 3334 = 6334, shared 250 → 6584
    // Support direct 3000 + 1500 + 1500 + 3333 = 9333, shared 501 → 9834
    // unalloc direct 3000 + 3333 = 6333, shared 250 → 6583
    assert_eq!(
        s.lines,
        vec![
            line("Sales", false, 6334, 250, 1, 100),
            line("Support", false, 9333, 501, 2, 200),
            line("unallocated", true, 6333, 250, 1, 100),
        ]
    );
    // 23001 = named seats 3000 × 3 + 1500 × 2 = 12000, + 10000 Web Media, + 1001 shared.
    assert_eq!(s.total, 23001);
    assert_eq!(s.lines.iter().map(|l| l.total).sum::<i64>(), 23001);
}

#[test]
fn costs_nobody_logged_in_for_go_to_the_unallocated_line() {
    let fin = checked(CENTERS);
    let agents = [sb("acme", &["sales"], &[0, 3], 0, 0)];
    // Chat (index 3) costs 12.34 but nobody used it, and nobody logged in for the shared
    // 10.01: both go to the unallocated line, which has no agents.
    let s = showback(&items(), &agents, &[0, 0, 0, 1234, 0], as_of(), &fin);
    assert_eq!(
        s.lines,
        vec![
            line("Sales", false, 3000, 0, 1, 0),
            line("unallocated", true, 1234, 1001, 0, 0)
        ]
    );
    assert_eq!(s.total, 3000 + 1234 + 1001);
    // No agents at all: only the unallocated line, still there.
    let s = showback(&items(), &[], &[], as_of(), &checked(""));
    assert_eq!(s.lines, vec![line("unallocated", true, 0, 0, 0, 0)]);
    assert_eq!(s.total, 0);
}
