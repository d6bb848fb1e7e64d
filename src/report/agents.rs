//! `seatmeter report --scope agent`: who used what, from the agent activity the rollup keeps
//! with each day (docs/SEMANTICS.md, "Agent activity"; docs/FINOPS.md, "The agent report").
//! The raw events are never read again, so the report covers days whose events retention
//! has deleted.
//!
//! One row per agent listed in the configuration snapshot in force at the end of the
//! window, or with activity on any rolled-up day up to it: its tenant, groups, tier and tags
//! and enabled items (from that snapshot), its last login and the last day it used each
//! item (over everything rolled up to the window's end), and the days it was active and the
//! hours it was logged in within the window.

use std::io::Write;

use seatmeter_core::{Calendar, Day, Nanos};
use seatmeter_store::{Dimensions, SnapshotAgentRow, Store};

use super::{ReportError, Reporter, Request};
use crate::config::Config;

/// What an agent report covers: the local days `from..=to`, narrowed to one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRequest {
    pub tenant: Option<String>,
    pub from: Day,
    pub to: Day,
}

/// One agent, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub tenant: String,
    pub agent: String,
    /// Listed in the snapshot in force at the end of the window.
    pub configured: bool,
    /// Listed there and enabled.
    pub enabled: bool,
    pub groups: Vec<String>,
    pub tier: Option<String>,
    pub tags: Vec<String>,
    /// Indexes into the configured items: those its enabled media consume (none when it
    /// is not enabled).
    pub enabled_items: Vec<usize>,
    /// The last login event, up to the window's end.
    pub last_login: Option<Nanos>,
    /// Per configured item: the last local day it held a seat of it, up to the window's end.
    pub last_used: Vec<Option<Day>>,
    /// Days of the window on which it was logged in at some moment.
    pub days_active: u32,
    /// Time logged in within the window.
    pub logged: Nanos,
    /// Per configured item: time holding a seat of it within the window.
    pub item_time: Vec<Nanos>,
}

/// The agent report: its rows, tenants then agents ascending, and what makes it incomplete.
#[derive(Debug, Clone)]
pub struct AgentReport {
    pub req: AgentRequest,
    pub items: Vec<String>,
    pub rows: Vec<AgentRow>,
    pub gaps: Vec<String>,
    /// Days up to the window's end that are rolled up (the activity known).
    pub rolled: Option<(Day, Day)>,
    /// The sessions of more than 8 hours the rollup kept, on every day read:
    /// (tenant, agent, login, logout), for right-sizing's long sessions.
    pub long: Vec<(String, String, Nanos, Nanos)>,
}

/// Builds the agent report from the stored rollups and snapshots.
pub fn agent_report(
    store: &mut dyn Store,
    config: &Config,
    req: &AgentRequest,
) -> Result<AgentReport, ReportError> {
    if req.to < req.from {
        return Err(ReportError::Request(
            "--to is before --from: the window has no day".into(),
        ));
    }
    let gaps = {
        let mut reporter = Reporter::new(store, config)?;
        let scope = Request {
            scope: seatmeter_core::ScopeKind::Tenant,
            id: req.tenant.clone(),
            granularity: seatmeter_core::Granularity::Daily,
            from: req.from,
            to: req.to,
        };
        reporter.data_gaps(&scope)?
    };
    let cal = Calendar::new(config.timezone);
    let dims = store.dimensions()?;
    let tenant_id = match &req.tenant {
        None => None,
        Some(t) => match dims.tenants.iter().position(|x| x == t) {
            Some(i) if i > 0 => Some(i as u32),
            _ => {
                return Err(ReportError::Request(format!(
                    "no tenant {t:?} in the store (its name as the events and snapshots give it)"
                )));
            }
        },
    };
    let rolled = store.rolled_days()?.and_then(|(lo, hi)| {
        let hi = hi.min(req.to);
        (lo <= hi).then_some((lo, hi))
    });
    let n = config.items.len();
    // By agent id: a direct index, since a month holds millions of (day, agent) entries.
    let mut rows: Vec<Option<AgentRow>> = vec![None; dims.agents.len()];
    let mut long: Vec<(u32, Nanos, Nanos)> = Vec::new();
    let wanted = |agent: u32| tenant_id.is_none_or(|t| dims.agents[agent as usize].0 == t);
    let end = cal.day_start(req.to + 1);
    let snapshots = store.snapshots()?;
    let in_force = snapshots[..snapshots.partition_point(|s| s.taken < end)].last();
    if let Some(s) = in_force {
        for r in store.snapshot_agents(s.id)? {
            if (r.agent as usize) < dims.agents.len() && wanted(r.agent) {
                rows[r.agent as usize] = Some(configured_row(&r, &dims, config));
            }
        }
    }
    // One agent-day at a time: a month of 100,000 agents holds millions of them.
    if let Some((lo, hi)) = rolled {
        store.activity_each(lo, hi, &mut |day, a| {
            if (a.agent as usize) >= dims.agents.len() || !wanted(a.agent) {
                return Ok(());
            }
            let row = rows[a.agent as usize].get_or_insert_with(|| unlisted_row(a.agent, &dims, n));
            row.last_login = row.last_login.max(a.last_login);
            long.extend(a.long.iter().map(|&(s, e)| (a.agent, s, e)));
            for &(item, time) in &a.items {
                if time > 0 && (item as usize) < n {
                    row.last_used[item as usize] = Some(day);
                }
            }
            if (req.from..=req.to).contains(&day) {
                if a.logged > 0 {
                    row.days_active += 1;
                }
                row.logged += a.logged;
                for &(item, time) in &a.items {
                    if let Some(t) = row.item_time.get_mut(item as usize) {
                        *t += time;
                    }
                }
            }
            Ok(())
        })?;
    }
    let mut rows: Vec<AgentRow> = rows.into_iter().flatten().collect();
    rows.sort_by(|a, b| (&a.tenant, &a.agent).cmp(&(&b.tenant, &b.agent)));
    Ok(AgentReport {
        req: req.clone(),
        items: config.items.iter().map(|i| i.name.clone()).collect(),
        rows,
        gaps,
        rolled,
        long: long
            .into_iter()
            .map(|(agent, s, e)| {
                let (t, name) = &dims.agents[agent as usize];
                (dims.tenants[*t as usize].clone(), name.clone(), s, e)
            })
            .collect(),
    })
}

/// An agent as the snapshot in force lists it.
fn configured_row(r: &SnapshotAgentRow, dims: &Dimensions, config: &Config) -> AgentRow {
    let (tenant, name) = &dims.agents[r.agent as usize];
    let media: Vec<&str> = dims
        .mediasets
        .get(r.media as usize)
        .map(|m| {
            m.iter()
                .map(|&id| dims.media[id as usize].as_str())
                .collect()
        })
        .unwrap_or_default();
    let groups = dims
        .groupsets
        .get(r.groups as usize)
        .map(|g| {
            g.iter()
                .map(|&id| dims.groups[id as usize].1.clone())
                .collect()
        })
        .unwrap_or_default();
    let enabled_items = match r.enabled {
        true => (0..config.items.len())
            .filter(|&i| config.items[i].consumed_by(media.iter().copied()))
            .collect(),
        false => Vec::new(),
    };
    let n = config.items.len();
    AgentRow {
        tenant: dims.tenants[*tenant as usize].clone(),
        agent: name.clone(),
        configured: true,
        enabled: r.enabled,
        groups,
        tier: r.tier.clone(),
        tags: r.tags.clone(),
        enabled_items,
        last_login: None,
        last_used: vec![None; n],
        days_active: 0,
        logged: 0,
        item_time: vec![0; n],
    }
}

/// An agent with activity that the snapshot in force does not list.
fn unlisted_row(agent: u32, dims: &Dimensions, n: usize) -> AgentRow {
    let (tenant, name) = &dims.agents[agent as usize];
    AgentRow {
        tenant: dims.tenants[*tenant as usize].clone(),
        agent: name.clone(),
        configured: false,
        enabled: false,
        groups: Vec::new(),
        tier: None,
        tags: Vec::new(),
        enabled_items: Vec::new(),
        last_login: None,
        last_used: vec![None; n],
        days_active: 0,
        logged: 0,
        item_time: vec![0; n],
    }
}

/// Hours to two decimals, rounded half up (to 36 seconds), from nanoseconds.
pub fn hours_text(t: Nanos) -> String {
    let hundredths = (t + 18_000_000_000) / 36_000_000_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

impl AgentReport {
    /// The CSV columns, in order.
    pub fn csv_header(&self) -> Vec<String> {
        let mut h: Vec<String> = [
            "tenant",
            "agent",
            "configured",
            "enabled",
            "groups",
            "tier",
            "tags",
            "enabled_items",
            "last_login",
            "days_active",
            "hours_logged",
        ]
        .map(String::from)
        .to_vec();
        h.extend(self.items.iter().map(|i| format!("last_used:{i}")));
        h
    }

    fn cells(&self, r: &AgentRow, cal: &Calendar) -> Vec<String> {
        let mut c = vec![
            r.tenant.clone(),
            r.agent.clone(),
            r.configured.to_string(),
            r.enabled.to_string(),
            r.groups.join(" "),
            r.tier.clone().unwrap_or_default(),
            r.tags.join(" "),
            self.item_names(&r.enabled_items).join("; "),
            r.last_login.map(|t| cal.format(t)).unwrap_or_default(),
            r.days_active.to_string(),
            hours_text(r.logged),
        ];
        c.extend(
            r.last_used
                .iter()
                .map(|d| d.map(Calendar::date_text).unwrap_or_default()),
        );
        c
    }

    fn item_names(&self, items: &[usize]) -> Vec<&str> {
        items.iter().map(|&i| self.items[i].as_str()).collect()
    }

    /// The report as CSV: a header, then one line per agent.
    pub fn write_csv(&self, w: impl Write, cal: &Calendar) -> Result<(), ReportError> {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(self.csv_header())
            .map_err(std::io::Error::other)?;
        for r in &self.rows {
            out.write_record(self.cells(r, cal))
                .map_err(std::io::Error::other)?;
        }
        out.flush()?;
        Ok(())
    }

    /// The report as JSON: the window, whether it is complete, and one object per agent.
    pub fn write_json(&self, mut w: impl Write, cal: &Calendar) -> Result<(), ReportError> {
        let agents: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let used: serde_json::Map<String, serde_json::Value> = self
                    .items
                    .iter()
                    .zip(&r.last_used)
                    .map(|(i, d)| (i.clone(), d.map(Calendar::date_text).into()))
                    .collect();
                let seconds: serde_json::Map<String, serde_json::Value> = self
                    .items
                    .iter()
                    .zip(&r.item_time)
                    .map(|(i, t)| (i.clone(), (t / 1_000_000_000).into()))
                    .collect();
                serde_json::json!({
                    "tenant": r.tenant,
                    "agent": r.agent,
                    "configured": r.configured,
                    "enabled": r.enabled,
                    "groups": r.groups,
                    "tier": r.tier,
                    "tags": r.tags,
                    "enabled_items": self.item_names(&r.enabled_items),
                    "last_login": r.last_login.map(|t| cal.format(t)),
                    "last_used": used,
                    "days_active": r.days_active,
                    "seconds_logged": r.logged / 1_000_000_000,
                    "seconds_by_item": seconds,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "report": "agents",
            "tenant": self.req.tenant,
            "from": Calendar::date_text(self.req.from),
            "to": Calendar::date_text(self.req.to),
            "timezone": cal.tz().name(),
            "complete": self.gaps.is_empty(),
            "gaps": self.gaps,
            "agents": agents,
        });
        serde_json::to_writer_pretty(&mut w, &doc).map_err(std::io::Error::other)?;
        writeln!(w)?;
        Ok(())
    }

    /// "Inbound Voice 2026-10-12; E-Mail never" for the items the agent is enabled for or
    /// used: what the table and the PDF show of the last use of each item.
    pub fn last_used_text(&self, r: &AgentRow) -> String {
        let mut parts = Vec::new();
        for (i, d) in r.last_used.iter().enumerate() {
            let enabled = r.enabled_items.contains(&i);
            match d {
                Some(d) => parts.push(format!("{} {}", self.items[i], Calendar::date_text(*d))),
                None if enabled => parts.push(format!("{} never", self.items[i])),
                None => {}
            }
        }
        parts.join("; ")
    }

    /// What the table and the PDF show of an agent's items: whether it is enabled, then
    /// the last use of each item it is enabled for or used.
    pub fn items_text(&self, r: &AgentRow) -> String {
        let used = self.last_used_text(r);
        let status = match (r.configured, r.enabled) {
            (false, _) => "(not in the snapshot)",
            (true, false) => "(disabled)",
            (true, true) => return used,
        };
        match used.is_empty() {
            true => status.to_string(),
            false => format!("{status} {used}"),
        }
    }

    /// The report as a table for the terminal; an incomplete one says so first.
    pub fn write_table(&self, mut w: impl Write, cal: &Calendar) -> Result<(), ReportError> {
        for g in &self.gaps {
            writeln!(w, "INCOMPLETE REPORT: {g}")?;
        }
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header([
            "Tenant",
            "Agent",
            "Groups",
            "Tier",
            "Tags",
            "Last login",
            "Days active",
            "Hours",
            "Items: last used",
        ]);
        for r in &self.rows {
            t.add_row([
                r.tenant.clone(),
                r.agent.clone(),
                r.groups.join(" "),
                r.tier.clone().unwrap_or_default(),
                r.tags.join(" "),
                r.last_login
                    .map(|t| cal.format(t))
                    .unwrap_or("never".into()),
                r.days_active.to_string(),
                hours_text(r.logged),
                self.items_text(r),
            ]);
        }
        for i in [6, 7] {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        writeln!(w, "{t}")?;
        writeln!(w, "{} agent(s)", self.rows.len())?;
        Ok(())
    }
}

impl AgentReport {
    /// The report as a PDF listing: who it is for, the window, then one line per agent.
    /// The footer's digest is that of the same report as CSV.
    pub fn pdf(&self, config: &Config, cal: &Calendar) -> Result<Vec<u8>, ReportError> {
        use seatmeter_reports::pdf::{Listing, ListingColumn, ListingRow, ListingTable};
        let mut csv = Vec::new();
        self.write_csv(&mut csv, cal)?;
        let digest = {
            use sha2::{Digest, Sha256};
            seatmeter_core::hex(&Sha256::digest(&csv))
        };
        let (generated_at, generated_unix) = super::pdf::generated_at();
        let window = format!(
            "{} to {}",
            Calendar::date_text(self.req.from),
            Calendar::date_text(self.req.to)
        );
        let mut facts = vec![
            ("Dates".to_string(), format!("{window} (inclusive)")),
            ("Agents".to_string(), self.rows.len().to_string()),
            (
                "Rolled up".to_string(),
                match self.rolled {
                    Some((a, b)) => {
                        format!("{} to {}", Calendar::date_text(a), Calendar::date_text(b))
                    }
                    None => "nothing yet".into(),
                },
            ),
        ];
        if let Some(t) = &self.req.tenant {
            facts.insert(
                0,
                (
                    "Prepared for".into(),
                    format!("tenant {t}: this document holds this tenant's agents only"),
                ),
            );
        }
        let col = |title: &str, width: f32, numeric: bool| ListingColumn {
            title: title.into(),
            width,
            numeric,
        };
        let rows = self
            .rows
            .iter()
            .map(|r| ListingRow {
                cells: vec![
                    format!("{}/{}", r.tenant, r.agent),
                    r.groups.join(" "),
                    r.tier.clone().unwrap_or_default(),
                    r.tags.join(" "),
                    r.last_login
                        .map(|t| {
                            use chrono::TimeZone;
                            cal.tz()
                                .timestamp_nanos(t)
                                .format("%Y-%m-%d %H:%M")
                                .to_string()
                        })
                        .unwrap_or("never".into()),
                    r.days_active.to_string(),
                    hours_text(r.logged),
                    self.items_text(r),
                ],
                marked: false,
            })
            .collect();
        let listing = Listing {
            title: "Agent activity report".into(),
            subtitle: match &self.req.tenant {
                Some(t) => format!("Tenant {t} · {window}"),
                None => format!("All tenants · {window}"),
            },
            site: config.site.clone(),
            timezone: config.timezone.name().to_string(),
            generated_at,
            generated_unix,
            generator: format!("seatmeter {}", env!("CARGO_PKG_VERSION")),
            gaps: self.gaps.clone(),
            facts,
            notes: vec![
                "Enabled items and groups are those of the configuration snapshot in force at the end of the window. Last login and last use cover every day rolled up to the window's end; days active and hours cover the window only. Hours are rounded to the hundredth.".into(),
            ],
            tables: vec![ListingTable {
                heading: "Agents".into(),
                columns: vec![
                    col("Agent", 1.1, false),
                    col("Groups", 0.9, false),
                    col("Tier", 0.45, false),
                    col("Tags", 1.45, false),
                    col("Last login (local)", 1.2, false),
                    col("Days active", 0.55, true),
                    col("Hours", 0.55, true),
                    col("Items: last used", 2.6, false),
                ],
                rows,
                empty: "No agent: no snapshot lists one and none logged in.".into(),
            }],
            digest,
        };
        Ok(seatmeter_reports::pdf::render_listing(&listing)?)
    }
}
