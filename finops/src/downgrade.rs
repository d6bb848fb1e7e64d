//! Tier downgrades: an agent whose used items fit a cheaper tier.

use seatmeter_core::Day;

use crate::config::Tier;
use crate::{AgentUse, Finops, ItemInfo, concurrent_note};

/// A proposal to move one agent to a cheaper tier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Downgrade {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent.
    pub agent: String,
    /// The agent's tier now.
    pub from: String,
    /// The proposed, cheaper tier.
    pub to: String,
    /// The items of `from` that `to` does not include, in `from`'s order.
    pub dropped: Vec<String>,
    /// The saving per month in minor units: `from`'s price minus `to`'s when at least one
    /// dropped item is licensed per named user (or nothing is dropped); 0 when every
    /// dropped item is licensed concurrently.
    pub saving: i64,
    /// Whether every dropped item is licensed concurrently (and the saving therefore 0).
    pub concurrent: bool,
    /// Why, in words.
    pub reason: String,
}

/// One row per agent that a cheaper tier would serve.
///
/// The agent's tier is its `tier` if that names a configured tier, else the cheapest tier
/// that includes all its enabled items (if none does, the agent has no row). Its used
/// items are those whose last use is on or after `as_of − lookback_days + 1`. The proposed
/// tier is the cheapest that includes every used item (the first in configuration order
/// on equal prices); a row is made only if it is cheaper than the agent's tier.
pub fn downgrade(
    as_of: Day,
    agents: &[AgentUse],
    items: &[ItemInfo],
    fin: &Finops,
) -> Vec<Downgrade> {
    let since = as_of - fin.lookback_days as Day + 1;
    let mut rows = Vec::new();
    for a in agents {
        let from = match a.tier.as_deref().and_then(|t| fin.tier(t)) {
            Some(t) => t,
            None => match cheapest_covering(&fin.tiers, &a.enabled_items) {
                Some(t) => t,
                None => continue,
            },
        };
        let used: Vec<usize> = (0..a.last_use.len())
            .filter(|&i| a.last_use_of(i).is_some_and(|d| d >= since))
            .collect();
        let Some(to) = cheapest_covering(&fin.tiers, &used) else {
            continue;
        };
        if to.price >= from.price {
            continue;
        }
        let dropped: Vec<usize> = from
            .items
            .iter()
            .copied()
            .filter(|i| !to.items.contains(i))
            .collect();
        let name = |i: usize| items.get(i).map_or("?", |it| it.name.as_str());
        let names: Vec<&str> = dropped.iter().map(|&i| name(i)).collect();
        let all_concurrent = !dropped.is_empty()
            && dropped
                .iter()
                .all(|&i| items.get(i).is_some_and(|it| it.concurrent));
        let mut reason = if names.is_empty() {
            format!("{} includes every item of {} for less", to.name, from.name)
        } else {
            format!(
                "no use of {} in {} days",
                names.join(", "),
                fin.lookback_days
            )
        };
        if all_concurrent {
            reason.push_str("; ");
            reason.push_str(&concurrent_note(&names));
        }
        rows.push(Downgrade {
            tenant: a.tenant.clone(),
            agent: a.agent.clone(),
            from: from.name.clone(),
            to: to.name.clone(),
            dropped: names.iter().map(|s| s.to_string()).collect(),
            saving: if all_concurrent {
                0
            } else {
                from.price - to.price
            },
            concurrent: all_concurrent,
            reason,
        });
    }
    rows
}

/// The cheapest tier including every item of `items`: the first such, since tiers are in
/// ascending order of price.
fn cheapest_covering<'a>(tiers: &'a [Tier], items: &[usize]) -> Option<&'a Tier> {
    tiers.iter().find(|t| t.covers(items))
}
