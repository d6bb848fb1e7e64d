//! Proposals on the record (docs/FINOPS.md, "Decisions on the record"): what the rules find
//! becomes recommendations with stable ids; a proposal run adds new ones, refreshes those
//! still proposed, supersedes those no longer made, and leaves decided ones alone — except
//! that a rejected one is proposed again once its data changes or `repropose_days` pass.

use seatmeter_core::{Calendar, Day, Nanos};
use seatmeter_store::reco::{RecStatus, Recommendation};
use seatmeter_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use super::Analysis;

/// The stable id of a recommendation: `R-` and 12 hex digits of the SHA-256 of what it is
/// about (kind, tenant, agent, item), so the same proposal made again keeps its id.
pub fn recommendation_id(kind: &str, tenant: &str, agent: &str, item: &str) -> String {
    let h = Sha256::digest(format!("{kind}\n{tenant}\n{agent}\n{item}"));
    format!("R-{}", &seatmeter_core::hex(&h)[..12])
}

fn fingerprint(parts: &[String]) -> String {
    seatmeter_core::hex(&Sha256::digest(parts.join("\n")))[..16].to_string()
}

/// The recommendations an analysis makes, all proposed at `now`. Reclaims saved by an
/// exemption tag are not proposed (the analysis keeps them, with the tag).
pub fn recommendations_of(a: &Analysis, now: Nanos, minor_units: u32) -> Vec<Recommendation> {
    let rec = |kind: &str, tenant: &str, agent: &str, item: &str| Recommendation {
        id: recommendation_id(kind, tenant, agent, item),
        kind: kind.to_string(),
        tenant: tenant.to_string(),
        agent: agent.to_string(),
        item: item.to_string(),
        summary: String::new(),
        detail: String::new(),
        saving: 0,
        data_fp: String::new(),
        status: RecStatus::Proposed,
        as_of: a.as_of,
        proposed_at: now,
        decided_at: None,
    };
    let mut out = Vec::new();
    for r in a.reclaims.iter().filter(|r| r.exempt_by.is_none()) {
        let mut x = rec("reclaim", &r.tenant, &r.agent, &r.item);
        x.summary = format!(
            "reclaim {} from {}/{}: {}",
            r.item, r.tenant, r.agent, r.reason
        );
        x.saving = r.saving;
        x.detail = serde_json::to_string(r).unwrap_or_default();
        x.data_fp = fingerprint(&[format!("{:?}", r.last_use)]);
        out.push(x);
    }
    for d in &a.downgrades {
        let mut x = rec(
            "downgrade",
            &d.tenant,
            &d.agent,
            &format!("{}>{}", d.from, d.to),
        );
        x.summary = format!(
            "downgrade {}/{} from {} to {}: {}",
            d.tenant, d.agent, d.from, d.to, d.reason
        );
        x.saving = d.saving;
        x.detail = serde_json::to_string(d).unwrap_or_default();
        x.data_fp = fingerprint(&d.dropped);
        out.push(x);
    }
    let tenant = a.tenant.clone().unwrap_or_default();
    for (i, r) in &a.renewals {
        let Some(ent) = r.entitlement else { continue };
        if r.recommended == ent {
            continue;
        }
        let name = &a.items[*i].name;
        let mut x = rec("renewal", &tenant, "", name);
        let money = r
            .money
            .map(|m| format!(", {} a month", super::money(m, minor_units)))
            .unwrap_or_default();
        x.summary = format!(
            "renew {name} at {} seats ({:+} from {ent}{money}): {}",
            r.recommended, r.change, r.reason
        );
        // Fewer seats save; more cost (negative saving).
        x.saving = -r.money.unwrap_or(0);
        x.detail = serde_json::to_string(r).unwrap_or_default();
        x.data_fp = fingerprint(&[r.recommended.to_string(), ent.to_string()]);
        out.push(x);
    }
    out
}

/// What a proposal run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub new: u64,
    pub refreshed: u64,
    pub reproposed: u64,
    pub superseded: u64,
    /// Decided before and made again: left as decided.
    pub kept_decided: u64,
}

/// The rows a proposal run writes, given what is stored and what the rules made now.
pub fn reconcile(
    stored: &[Recommendation],
    made: Vec<Recommendation>,
    now: Nanos,
    repropose_days: u32,
) -> (Vec<Recommendation>, RunCounts) {
    let by_id: std::collections::HashMap<&str, &Recommendation> =
        stored.iter().map(|r| (r.id.as_str(), r)).collect();
    let made_ids: std::collections::HashSet<String> = made.iter().map(|r| r.id.clone()).collect();
    let mut out = Vec::new();
    let mut n = RunCounts::default();
    let wait = repropose_days as i64 * seatmeter_core::time::NANOS_PER_DAY;
    for mut m in made {
        match by_id.get(m.id.as_str()) {
            None => {
                n.new += 1;
                out.push(m);
            }
            Some(old) => match old.status {
                RecStatus::Proposed => {
                    m.proposed_at = old.proposed_at;
                    if **old != m {
                        n.refreshed += 1;
                        out.push(m);
                    }
                }
                RecStatus::Superseded => {
                    n.reproposed += 1;
                    out.push(m);
                }
                RecStatus::Rejected => {
                    let waited = old.decided_at.is_some_and(|t| now - t >= wait);
                    if old.data_fp != m.data_fp || waited {
                        n.reproposed += 1;
                        out.push(m);
                    } else {
                        n.kept_decided += 1;
                    }
                }
                RecStatus::Approved => n.kept_decided += 1,
            },
        }
    }
    for old in stored {
        if old.status == RecStatus::Proposed && !made_ids.contains(&old.id) {
            n.superseded += 1;
            out.push(Recommendation {
                status: RecStatus::Superseded,
                ..old.clone()
            });
        }
    }
    (out, n)
}

/// Runs the rules for the site on the data up to `as_of` and stores the proposals.
pub fn propose(
    store: &mut dyn Store,
    config: &crate::config::Config,
    as_of: Day,
    now: Nanos,
) -> Result<(Analysis, RunCounts), crate::report::ReportError> {
    let analysis = super::analyse(store, config, as_of, None)?;
    let counts = store_proposals(store, config, &analysis, now)?;
    Ok((analysis, counts))
}

/// Stores what a site-wide analysis proposes.
pub fn store_proposals(
    store: &mut dyn Store,
    config: &crate::config::Config,
    analysis: &Analysis,
    now: Nanos,
) -> Result<RunCounts, crate::report::ReportError> {
    let made = recommendations_of(analysis, now, config.billing.minor_units);
    let stored = store.recommendations()?;
    let (rows, counts) = reconcile(&stored, made, now, config.finops.repropose_days);
    store.put_recommendations(&rows)?;
    Ok(counts)
}

/// The day a proposal run looks at by default: the last rolled-up day.
pub fn default_as_of(store: &mut dyn Store) -> Result<Option<Day>, StoreError> {
    Ok(store.rolled_days()?.map(|(_, hi)| hi))
}

/// One recommendation as a CSV line's cells: id, status, kind, tenant, agent, item,
/// monthly saving, as-of date, summary.
pub fn cells(r: &Recommendation, minor_units: u32) -> Vec<String> {
    vec![
        r.id.clone(),
        r.status.as_str().to_string(),
        r.kind.clone(),
        r.tenant.clone(),
        r.agent.clone(),
        r.item.clone(),
        super::money(r.saving, minor_units),
        Calendar::date_text(r.as_of),
        r.summary.clone(),
    ]
}

/// The CSV header matching [`cells`].
pub const HEADER: [&str; 9] = [
    "id",
    "status",
    "kind",
    "tenant",
    "agent",
    "item",
    "monthly_saving",
    "as_of",
    "summary",
];
