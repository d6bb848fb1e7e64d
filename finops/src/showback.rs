//! Showback: the month's license cost per cost center.

use std::collections::BTreeMap;

use seatmeter_core::Day;

use crate::{Finops, ItemInfo};

/// The name of the line for agents without a cost center.
pub const UNALLOCATED: &str = "unallocated";

/// One agent's licensing and logged-in time for the month, as showback sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShowbackAgent {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent.
    pub agent: String,
    /// The agent's groups, in the order the snapshot gives them.
    pub groups: Vec<String>,
    /// The items enabled for the agent, as indexes into the item list.
    pub enabled_items: Vec<usize>,
    /// Per item index: the minutes the agent was logged in with the item in the month.
    pub minutes: Vec<u64>,
    /// The minutes the agent was logged in in the month, all items together.
    pub total_minutes: u64,
}

/// One cost center's share of the month's cost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShowbackLine {
    /// The cost center's name, or `unallocated`.
    pub center: String,
    /// Whether this is the line for agents (and costs) without a cost center.
    pub unallocated: bool,
    /// The center's cost of its items: named seats at their price, plus its share of
    /// each concurrent item's cost; minor units.
    pub direct: i64,
    /// The center's share of the shared (platform) cost; minor units.
    pub shared: i64,
    /// `direct + shared`.
    pub total: i64,
    /// How many agents belong to the center.
    pub agents: u32,
    /// The center's agents' logged-in minutes, all items together.
    pub minutes: u64,
}

/// The month's cost per cost center.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Showback {
    /// One line per cost center with agents, by name, and the unallocated line last
    /// (always present, possibly all zeros).
    pub lines: Vec<ShowbackLine>,
    /// The sum of the lines' totals: all named seats at their price, plus every
    /// concurrent item's cost, plus the shared cost.
    pub total: i64,
}

/// A line's key: named centers by name, then the unallocated line.
type Key = (bool, String);

#[derive(Default)]
struct Acc {
    direct: i64,
    shared: i64,
    agents: u32,
    minutes: u64,
    item_minutes: BTreeMap<usize, u64>,
}

/// Allocates the month's cost to cost centers, each agent to its center on `day`
/// ([`Finops::center_of`]).
///
/// - A named item costs its price for each agent it is enabled for, to the agent's center
///   (an item without a price costs nothing).
/// - A concurrent item's cost (`item_cost[i]`, ignored for named items) is split by each
///   center's share of the minutes logged in with that item.
/// - `shared_cost` is split by each center's share of all logged-in minutes.
///
/// Every split uses the largest-remainder method, so the parts add up exactly to what is
/// split: each center gets its share rounded down, and the units left over go one each to
/// the centers with the largest remainders, ties to the center first by name (the
/// unallocated line last). A cost nobody logged in for goes to the unallocated line.
pub fn showback(
    items: &[ItemInfo],
    agents: &[ShowbackAgent],
    item_cost: &[i64],
    day: Day,
    fin: &Finops,
) -> Showback {
    let mut acc: BTreeMap<Key, Acc> = BTreeMap::new();
    acc.insert((true, UNALLOCATED.to_string()), Acc::default());
    for a in agents {
        let key = match fin.center_of(&a.tenant, &a.groups, day) {
            Some(c) => (false, c.to_string()),
            None => (true, UNALLOCATED.to_string()),
        };
        let line = acc.entry(key).or_default();
        line.agents += 1;
        line.minutes += a.total_minutes;
        for &i in &a.enabled_items {
            if let Some(ItemInfo {
                concurrent: false,
                price: Some(p),
                ..
            }) = items.get(i)
            {
                line.direct += p;
            }
        }
        for (i, &m) in a.minutes.iter().enumerate() {
            *line.item_minutes.entry(i).or_default() += m;
        }
    }
    let keys: Vec<Key> = acc.keys().cloned().collect();
    for (i, item) in items.iter().enumerate() {
        let cost = item_cost.get(i).copied().unwrap_or(0);
        if !item.concurrent || cost == 0 {
            continue;
        }
        let weights: Vec<u64> = keys
            .iter()
            .map(|k| acc[k].item_minutes.get(&i).copied().unwrap_or(0))
            .collect();
        for (k, part) in keys.iter().zip(largest_remainder(cost, &weights)) {
            acc.get_mut(k).expect("key").direct += part;
        }
    }
    let weights: Vec<u64> = keys.iter().map(|k| acc[k].minutes).collect();
    for (k, part) in keys
        .iter()
        .zip(largest_remainder(fin.shared_cost, &weights))
    {
        acc.get_mut(k).expect("key").shared += part;
    }
    let lines: Vec<ShowbackLine> = acc
        .into_iter()
        .map(|((unallocated, center), a)| ShowbackLine {
            center,
            unallocated,
            direct: a.direct,
            shared: a.shared,
            total: a.direct + a.shared,
            agents: a.agents,
            minutes: a.minutes,
        })
        .collect();
    let total = lines.iter().map(|l| l.total).sum();
    Showback { lines, total }
}

/// Splits `amount` in proportion to `weights` so the parts add up to `amount` exactly:
/// each part rounded toward zero, then the units left over one each to the largest
/// remainders, ties to the earlier index. With all weights 0 the whole amount goes to the
/// last index (the unallocated line).
fn largest_remainder(amount: i64, weights: &[u64]) -> Vec<i64> {
    let n = weights.len();
    let mut parts = vec![0i64; n];
    if n == 0 {
        return parts;
    }
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        parts[n - 1] = amount;
        return parts;
    }
    let sign = amount.signum();
    let abs = u128::from(amount.unsigned_abs());
    let mut rems: Vec<(u128, usize)> = Vec::with_capacity(n);
    let mut given: u128 = 0;
    for (i, &w) in weights.iter().enumerate() {
        let num = abs * u128::from(w);
        let q = num / total;
        given += q;
        parts[i] = sign * i64::try_from(q).expect("a part is at most the amount");
        rems.push((num % total, i));
    }
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = usize::try_from(abs - given).expect("fewer than n units left");
    for &(_, i) in rems.iter().take(left) {
        parts[i] += sign;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::largest_remainder;

    #[test]
    fn largest_remainder_sums_exactly() {
        // 100 over 1:1:1 = 33.33 each; one unit left over, to the first (ties by order).
        assert_eq!(largest_remainder(100, &[1, 1, 1]), vec![34, 33, 33]);
        // 10 over 1:2:3 (of 6) = 1.67, 3.33, 5 → 1, 3, 5 with remainders 4, 2, 0 (of 6):
        // the one unit left goes to the first.
        assert_eq!(largest_remainder(10, &[1, 2, 3]), vec![2, 3, 5]);
        assert_eq!(largest_remainder(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        assert_eq!(largest_remainder(7, &[0, 0]), vec![0, 7]);
    }
}
