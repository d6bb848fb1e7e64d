//! Live usage for the gauges of `/metrics` and the over-use checks between rollups: the
//! rollup's values of today so far ([`crate::rollup::Live`]) with the names and the
//! entitlement of today.
//!
//! Only the system and the tenants are kept (no group, no agent), so the number of series
//! is at most (tenants + 1) × measures; above [`MAX_TENANT_SERIES`] tenants, the tenants'
//! series are left out and the system's kept (docs/ALERTS.md, "Cardinality").

use seatmeter_core::{Entitled, Nanos, ScopeKind};
use seatmeter_store::Store;

use crate::config::{Config, Model};
use crate::report::{ReportError, Reporter};
use crate::rollup::{Rollup, RollupError};

/// Tenants above this number get no series of their own in `/metrics`.
pub const MAX_TENANT_SERIES: usize = 1000;

/// One measure of one scope now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveValue {
    /// None for the system.
    pub tenant: Option<String>,
    pub item: String,
    /// Whether the item is licensed per named user (enabled seats) rather than concurrent.
    pub named: bool,
    /// Seats logged in now.
    pub in_use: u64,
    /// The largest number logged in at once today so far.
    pub peak_today: u64,
    /// Enabled seats now (the last snapshot in force).
    pub enabled: u64,
    /// What is entitled today (the license files and system grants for the system, the
    /// tenant's grants for a tenant); None when nothing is.
    pub entitled: Option<Entitled>,
}

impl LiveValue {
    /// What the entitlement is compared with: the peak so far for a concurrent item, the
    /// enabled seats for a named one.
    pub fn measured(&self) -> u64 {
        if self.named {
            self.enabled
        } else {
            self.peak_today
        }
    }

    /// measured / entitled, when a number of seats is entitled (0 seats: None).
    pub fn utilization(&self) -> Option<f64> {
        match self.entitled {
            Some(Entitled::Seats(n)) if n > 0 => Some(self.measured() as f64 / n as f64),
            _ => None,
        }
    }
}

/// Today's values at `now`, system first, then tenants by name.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveUsage {
    pub at: Nanos,
    pub values: Vec<LiveValue>,
    /// Tenants left out of the series ([`MAX_TENANT_SERIES`]).
    pub tenants_left_out: usize,
}

/// Computes the live usage from the store (the rollup's state machine on today's events).
pub fn live_usage(
    store: &mut dyn Store,
    config: &Config,
    now: Nanos,
) -> Result<LiveUsage, ReportError> {
    let live = Rollup::new(store, config).live(now).map_err(|e| match e {
        RollupError::Store(e) => ReportError::Store(e),
        e => ReportError::Request(e.to_string()),
    })?;
    let dims = store.dimensions()?;
    let measures = config.measures();
    let reporter = Reporter::new(store, config)?;
    let system = reporter.system_entitlement(measures.len(), live.day, live.day);
    let with_tenants = dims.tenants.len() <= MAX_TENANT_SERIES + 1;
    let per_tenant = reporter.tenant_grants();
    let mut values = Vec::new();
    for r in &live.records {
        let Some(m) = measures.get(r.item as usize) else {
            continue;
        };
        let tenant = match r.scope.kind {
            ScopeKind::System => None,
            ScopeKind::Tenant if with_tenants => Some(dims.tenants[r.scope.id as usize].clone()),
            _ => continue,
        };
        let entitled = match &tenant {
            None => system[r.item as usize][0],
            Some(t) if per_tenant => {
                reporter.tenant_entitlement(t, measures.len(), live.day, live.day)[r.item as usize]
                    [0]
            }
            Some(_) => None,
        };
        values.push(LiveValue {
            tenant,
            item: m.name.clone(),
            named: m.model == Model::Named,
            in_use: r.end_level as u64,
            peak_today: r.day_peak as u64,
            enabled: r.end_enabled as u64,
            entitled,
        });
    }
    // The system's measures with no seat today still have a series (0 of N).
    for (i, m) in measures.iter().enumerate() {
        if !values
            .iter()
            .any(|v| v.tenant.is_none() && v.item == m.name)
        {
            values.push(LiveValue {
                tenant: None,
                item: m.name.clone(),
                named: m.model == Model::Named,
                in_use: 0,
                peak_today: 0,
                enabled: 0,
                entitled: system[i][0],
            });
        }
    }
    values.sort_by(|a, b| (&a.tenant, &a.item).cmp(&(&b.tenant, &b.item)));
    Ok(LiveUsage {
        at: now,
        values,
        tenants_left_out: if with_tenants {
            0
        } else {
            dims.tenants.len().saturating_sub(1)
        },
    })
}
