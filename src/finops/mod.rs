//! Right-sizing on exact numbers (docs/FINOPS.md): the agent report's facts and the stored
//! daily values fed to the rules of `seatmeter-finops`, and the proposals they make stored
//! with stable ids for people to approve or reject ([`proposals`]). Reads the store, never a
//! platform; changes nothing but its own recommendations.

pub mod proposals;
pub mod showback;

use seatmeter_core::{Calendar, Day, Entitled};
use seatmeter_finops::{
    AgentUse, Downgrade, ItemInfo, LongSession, NearPeak, Reclaim, Renewal, Session,
};
use seatmeter_store::{Scope, Store};

use crate::config::{Config, Model};
use crate::report::agents::{AgentReport, AgentRequest, agent_report};
use crate::report::{ReportError, Reporter};

/// What the rules find for one scope (the site, or one tenant) on the data up to `as_of`.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub as_of: Day,
    pub tenant: Option<String>,
    pub items: Vec<ItemInfo>,
    /// Agents enabled for an item they have not used in `inactive_days` (exempt ones too,
    /// with the tag that saved them).
    pub reclaims: Vec<Reclaim>,
    pub downgrades: Vec<Downgrade>,
    /// Per item: its renewal size from the look-back of daily values.
    pub renewals: Vec<(usize, Renewal)>,
    /// Per concurrent item: the 10-minute periods of the month to `as_of` within
    /// `near_peak_percent` of the month's peak (shift staggering is the lever there).
    pub near_peak: Vec<(usize, NearPeak)>,
    /// Sessions longer than `long_session_hours` that ended in the month to `as_of`, or are
    /// still open at its end (a missing auto-logout), longest first.
    pub long_sessions: Vec<LongSession>,
    /// What makes the data incomplete (days not rolled up, collectors behind).
    pub gaps: Vec<String>,
}

impl Analysis {
    /// Monthly saving of the proposals that save (minor units): reclaims of named items not
    /// exempt, and downgrades.
    pub fn saving(&self) -> i64 {
        self.reclaims
            .iter()
            .filter(|r| r.exempt_by.is_none())
            .map(|r| r.saving)
            .sum::<i64>()
            + self.downgrades.iter().map(|d| d.saving).sum::<i64>()
    }
}

/// The items as the rules see them: name, license model, and monthly price per seat.
pub fn item_infos(config: &Config) -> Vec<ItemInfo> {
    config
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| ItemInfo {
            name: it.name.clone(),
            concurrent: it.model == Model::Concurrent,
            price: config.billing.prices.get(i).copied().flatten(),
        })
        .collect()
}

/// The agents as the rules see them, from the agent report of the look-back window.
pub fn agent_uses(report: &AgentReport, config: &Config) -> Vec<AgentUse> {
    let cal = Calendar::new(config.timezone);
    report
        .rows
        .iter()
        .map(|r| AgentUse {
            tenant: r.tenant.clone(),
            agent: r.agent.clone(),
            groups: r.groups.clone(),
            enabled_items: r.enabled_items.clone(),
            tags: r.tags.clone(),
            tier: r.tier.clone(),
            last_login: r.last_login.map(|t| cal.day_of(t)),
            last_use: r.last_used.clone(),
        })
        .collect()
}

/// Runs every rule for the site (or one tenant) on the data up to `as_of`.
pub fn analyse(
    store: &mut dyn Store,
    config: &Config,
    as_of: Day,
    tenant: Option<&str>,
) -> Result<Analysis, ReportError> {
    let fin = &config.finops;
    let window = fin.inactive_days.max(fin.lookback_days) as Day;
    let report = agent_report(
        store,
        config,
        &AgentRequest {
            tenant: tenant.map(String::from),
            from: as_of - window + 1,
            to: as_of,
        },
    )?;
    let items = item_infos(config);
    let agents = agent_uses(&report, config);
    let downgrades = seatmeter_finops::downgrade(as_of, &agents, &items, fin);
    // A downgrade takes the items it drops away from the agent: reclaiming them as well
    // would count the same saving twice.
    let reclaims = seatmeter_finops::inactive(as_of, &agents, &items, fin)
        .into_iter()
        .filter(|r| {
            !downgrades
                .iter()
                .any(|d| d.tenant == r.tenant && d.agent == r.agent && d.dropped.contains(&r.item))
        })
        .collect();
    let (renewals, near_peak) = sizing(store, config, as_of, tenant, &items)?;
    let long_sessions = long_sessions(store, config, as_of, tenant, &report)?;
    Ok(Analysis {
        as_of,
        tenant: tenant.map(String::from),
        items,
        reclaims,
        downgrades,
        renewals,
        near_peak,
        long_sessions,
        gaps: report.gaps,
    })
}

/// Renewal sizes and near-peak periods per item, from the stored daily values of the scope.
type Sizing = (Vec<(usize, Renewal)>, Vec<(usize, NearPeak)>);

fn sizing(
    store: &mut dyn Store,
    config: &Config,
    as_of: Day,
    tenant: Option<&str>,
    items: &[ItemInfo],
) -> Result<Sizing, ReportError> {
    let fin = &config.finops;
    let from = as_of - fin.renewal_lookback_days as Day + 1;
    let dims = store.dimensions()?;
    let scope = match tenant {
        None => Some(Scope::SYSTEM),
        Some(t) => dims.tenants.iter().position(|x| x == t).map(|id| Scope {
            kind: seatmeter_core::ScopeKind::Tenant,
            id: id as u32,
        }),
    };
    let month_start = seatmeter_core::calendar::month_bounds(as_of).0;
    let mut daily: Vec<Vec<(Day, u64)>> = vec![Vec::new(); items.len()];
    let mut slots: Vec<Vec<u64>> = vec![Vec::new(); items.len()];
    if let Some(scope) = scope {
        for (day, rec) in store.scope_days(scope, from, as_of, false)? {
            let i = rec.item as usize;
            if i < items.len() {
                let v = match items[i].concurrent {
                    true => rec.day_peak,
                    false => rec.day_enabled,
                };
                daily[i].push((day, v as u64));
            }
        }
        for (_, rec) in store.scope_days(scope, month_start, as_of, true)? {
            if let Some(s) = slots.get_mut(rec.item as usize) {
                s.extend(rec.peaks.iter().map(|&p| p as u64));
            }
        }
    }
    let reporter = Reporter::new(store, config)?;
    let ents = match tenant {
        None => reporter.system_entitlement(items.len(), as_of, as_of),
        Some(t) => reporter.tenant_entitlement(t, items.len(), as_of, as_of),
    };
    let mut renewals = Vec::new();
    let mut near = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let ent = match ents[i][0] {
            Some(Entitled::Seats(n)) => Some(n),
            // Unlimited: nothing to size.
            Some(Entitled::Unlimited) => continue,
            None => None,
        };
        if daily[i].is_empty() && ent.is_none() {
            continue;
        }
        let r = seatmeter_finops::renewal(&daily[i], ent, it.price, it.concurrent, as_of, fin);
        renewals.push((i, r));
        if it.concurrent && !slots[i].is_empty() {
            near.push((
                i,
                seatmeter_finops::near_peak(&slots[i], fin.near_peak_percent),
            ));
        }
    }
    Ok((renewals, near))
}

/// The long sessions of the month to `as_of`: those the rollup kept with the day they
/// ended on, and those open at the end of `as_of` (from the state it stored for the next day).
fn long_sessions(
    store: &mut dyn Store,
    config: &Config,
    as_of: Day,
    tenant: Option<&str>,
    report: &AgentReport,
) -> Result<Vec<LongSession>, ReportError> {
    let cal = Calendar::new(config.timezone);
    let month_start = cal.day_start(seatmeter_core::calendar::month_bounds(as_of).0);
    let mut sessions: Vec<Session> = report
        .long
        .iter()
        .filter(|(_, _, _, logout)| *logout >= month_start)
        .map(|(tenant, agent, login, logout)| Session {
            tenant: tenant.clone(),
            agent: agent.clone(),
            login: *login,
            logout: Some(*logout),
        })
        .collect();
    let dims = store.dimensions()?;
    for (agent, login) in crate::rollup::open_sessions(store, as_of)? {
        let Some((t, name)) = dims.agents.get(agent as usize) else {
            continue;
        };
        let t = &dims.tenants[*t as usize];
        if tenant.is_none_or(|x| x == t) {
            sessions.push(Session {
                tenant: t.clone(),
                agent: name.clone(),
                login,
                logout: None,
            });
        }
    }
    Ok(seatmeter_finops::long_sessions(
        &sessions,
        cal.day_start(as_of + 1),
        config.finops.long_session_hours,
    ))
}

/// Money in minor units as text, as billing writes it (`1500` with 2 minor units: `15.00`).
pub use crate::config::billing::format_money as money;
