//! The daily values every guardrail reads (baselines, breaches, forecasts): per scope and
//! measure, each day's measured value (the peak for a concurrent item, the enabled seats
//! for a named one) and its entitlement, from the daily rows of the report itself (no
//! second computation).

use std::collections::BTreeMap;

use seatmeter_core::calendar::parse_date;
use seatmeter_core::{Day, Entitled, Granularity, ScopeKind};
use seatmeter_store::Store;

use crate::config::{Config, Model};
use crate::report::{ReportError, Reporter, Request};

/// One scope's and measure's days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// None for the system.
    pub tenant: Option<String>,
    pub item: String,
    /// (day, measured, entitled), ascending.
    pub days: Vec<(Day, u64, Option<Entitled>)>,
}

impl Series {
    /// The measured values, as the guardrail engines take them.
    pub fn values(&self) -> Vec<(Day, u32)> {
        self.days
            .iter()
            .map(|&(d, v, _)| (d, v.min(u32::MAX as u64) as u32))
            .collect()
    }

    /// The entitlement of `day` as a number of seats (None: none, unlimited or no day).
    pub fn seats_on(&self, day: Day) -> Option<u32> {
        self.days
            .binary_search_by_key(&day, |&(d, _, _)| d)
            .ok()
            .and_then(|i| match self.days[i].2 {
                Some(Entitled::Seats(n)) => Some(n.min(u32::MAX as u64) as u32),
                _ => None,
            })
    }

    /// Who it is about, as alerts and reports name it: `system` or `tenant acme`.
    pub fn scope_text(&self) -> String {
        match &self.tenant {
            None => "system".into(),
            Some(t) => format!("tenant {t}"),
        }
    }
}

/// Whose series to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scopes<'a> {
    /// The system's.
    System,
    /// Every tenant's (None), or one tenant's.
    Tenants(Option<&'a str>),
    /// The system's and every tenant's.
    All,
}

/// The series of `which` scopes, from `from` (or the first rolled-up day, if later) to `to`.
pub fn daily_series(
    store: &mut dyn Store,
    config: &Config,
    from: Day,
    to: Day,
    which: Scopes<'_>,
) -> Result<Vec<Series>, ReportError> {
    // Days before the first rolled-up day have no data (not zero seats): a baseline or a
    // trend must not read them as zeros.
    let from = match store.rolled_days()? {
        Some((first, _)) => from.max(first),
        None => return Ok(Vec::new()),
    };
    if from > to {
        return Ok(Vec::new());
    }
    let named: BTreeMap<String, bool> = config
        .measures()
        .into_iter()
        .map(|m| (m.name, m.model == Model::Named))
        .collect();
    let mut out: BTreeMap<(Option<String>, String), Series> = BTreeMap::new();
    let (scopes, id): (&[ScopeKind], Option<&str>) = match which {
        Scopes::System => (&[ScopeKind::System], None),
        Scopes::Tenants(id) => (&[ScopeKind::Tenant], id),
        Scopes::All => (&[ScopeKind::System, ScopeKind::Tenant], None),
    };
    for &scope in scopes {
        let req = Request {
            scope,
            id: id.map(str::to_string),
            granularity: Granularity::Daily,
            from,
            to,
        };
        let reporter = Reporter::new(store, config)?;
        reporter.run(&req, &mut |row| {
            let day = parse_date(&row.period_start[..10]).map_err(ReportError::Request)?;
            let tenant = (scope == ScopeKind::Tenant).then(|| row.scope_id.to_string());
            let measured = if named.get(row.item).copied().unwrap_or(false) {
                row.enabled_seats.unwrap_or(0)
            } else {
                row.peak_concurrent
            };
            out.entry((tenant.clone(), row.item.to_string()))
                .or_insert_with(|| Series {
                    tenant,
                    item: row.item.to_string(),
                    days: Vec::new(),
                })
                .days
                .push((day, measured, row.entitled));
            Ok(())
        })?;
    }
    Ok(out.into_values().collect())
}
