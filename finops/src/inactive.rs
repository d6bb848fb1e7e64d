//! Inactive seats: enabled items an agent has not used for longer than `inactive_days`.

use seatmeter_core::Day;

use crate::{AgentUse, Finops, ItemInfo, concurrent_note};

/// One enabled item of one agent that is proposed for reclaiming (or would be, but for an
/// exempting tag).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reclaim {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent.
    pub agent: String,
    /// The item's name.
    pub item: String,
    /// The last day the agent used the item, or `None` if never.
    pub last_use: Option<Day>,
    /// Days from the last use to `as_of` (`as_of − last_use`), or `None` if never used.
    pub days_idle: Option<u32>,
    /// The exempting tag the agent carries (the first in `exempt_tags` order), if any: the
    /// row is then shown but proposes nothing and saves nothing.
    pub exempt_by: Option<String>,
    /// The saving per month in minor units: the item's price when the item is licensed per
    /// named user and the row is not exempt; 0 for a concurrent item or an item without a
    /// price.
    pub saving: i64,
    /// Whether the item is licensed concurrently.
    pub concurrent: bool,
    /// Why, in words.
    pub reason: String,
}

/// One row per (agent, enabled item) whose last use is more than `inactive_days` before
/// `as_of` (`as_of − last_use > inactive_days`), or that the agent never used.
///
/// Rows follow the order of `agents`, then of each agent's `enabled_items`. An agent
/// carrying a tag of `exempt_tags` (from its snapshot tags or `[[finops.tag]]`) still has
/// its rows, with `exempt_by` naming the tag and no saving. Enabled indexes outside
/// `items` are ignored.
pub fn inactive(as_of: Day, agents: &[AgentUse], items: &[ItemInfo], fin: &Finops) -> Vec<Reclaim> {
    let mut rows = Vec::new();
    for a in agents {
        let exempt_by = fin
            .exemption(&a.tenant, &a.agent, &a.tags)
            .map(str::to_string);
        for &i in &a.enabled_items {
            let Some(item) = items.get(i) else { continue };
            let last_use = a.last_use_of(i);
            let days_idle = last_use.map(|d| u32::try_from(as_of - d).unwrap_or(0));
            let mut reason = match days_idle {
                Some(n) if n > fin.inactive_days => format!(
                    "no use of {} in {n} days (inactive after {})",
                    item.name, fin.inactive_days
                ),
                Some(_) => continue,
                None if a.last_login.is_none() => {
                    format!("never used {} (never logged in)", item.name)
                }
                None => format!("never used {}", item.name),
            };
            if let Some(tag) = &exempt_by {
                reason.push_str(&format!("; exempt: tagged {tag}"));
            }
            if item.concurrent {
                reason.push_str("; ");
                reason.push_str(&concurrent_note(&[&item.name]));
            }
            let saving = match (&exempt_by, item.concurrent, item.price) {
                (None, false, Some(p)) => p,
                _ => 0,
            };
            rows.push(Reclaim {
                tenant: a.tenant.clone(),
                agent: a.agent.clone(),
                item: item.name.clone(),
                last_use,
                days_idle,
                exempt_by: exempt_by.clone(),
                saving,
                concurrent: item.concurrent,
                reason,
            });
        }
    }
    rows
}
