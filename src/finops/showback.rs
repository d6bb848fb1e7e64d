//! `seatmeter showback`: a month's license cost per cost center (docs/FINOPS.md,
//! "Showback"), from the agent activity of the month and the prices of `[billing]`.

use seatmeter_core::Day;
use seatmeter_finops::{Showback, ShowbackAgent};
use seatmeter_store::{Scope, Store};

use crate::config::Config;
use crate::report::ReportError;
use crate::report::agents::{AgentRequest, agent_report};

/// The showback of the local month `month_start..=month_end`: each cost center's direct
/// cost (named items: each enabled agent's seat; concurrent items: the month's system peak
/// times its price, shared by minutes), the shared cost by minutes, and what no center
/// holds on the "unallocated" line. Cost centers are those in force on the month's last day.
pub fn showback(
    store: &mut dyn Store,
    config: &Config,
    month_start: Day,
    month_end: Day,
) -> Result<(Showback, Vec<String>), ReportError> {
    let report = agent_report(
        store,
        config,
        &AgentRequest {
            tenant: None,
            from: month_start,
            to: month_end,
        },
    )?;
    let items = super::item_infos(config);
    let minute = 60_000_000_000;
    let agents: Vec<ShowbackAgent> = report
        .rows
        .iter()
        .map(|r| ShowbackAgent {
            tenant: r.tenant.clone(),
            agent: r.agent.clone(),
            groups: r.groups.clone(),
            enabled_items: r.enabled_items.clone(),
            minutes: r.item_time.iter().map(|&t| (t / minute) as u64).collect(),
            total_minutes: (r.logged / minute) as u64,
        })
        .collect();
    let mut peak = vec![0u64; items.len()];
    for (_, rec) in store.scope_days(Scope::SYSTEM, month_start, month_end, false)? {
        if let Some(p) = peak.get_mut(rec.item as usize) {
            *p = (*p).max(rec.day_peak as u64);
        }
    }
    let item_cost: Vec<i64> = items
        .iter()
        .zip(&peak)
        .map(|(it, &p)| match (it.concurrent, it.price) {
            (true, Some(price)) => price * p as i64,
            _ => 0,
        })
        .collect();
    let s = seatmeter_finops::showback(&items, &agents, &item_cost, month_end, &config.finops);
    Ok((s, report.gaps))
}
