//! The `[finops]` section of seatmeter.toml, and its checked form [`Finops`].

use std::path::PathBuf;

use serde::Deserialize;

use crate::centers::{
    Assignment, CsvReject, Kind, load_cost_centers_csv, optional_date, overlap_errors,
};
use seatmeter_core::Day;

/// The `[finops]` section as written. Every key has a default, so an absent section is
/// valid. Call [`FinopsConfig::check`] to get the checked [`Finops`] the engines use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FinopsConfig {
    /// A seat unused for more than this many days is proposed for reclaiming (default 45).
    pub inactive_days: u32,
    /// An item counts as used for a tier downgrade if used in this many days up to
    /// `as_of`, inclusive (default 60).
    pub lookback_days: u32,
    /// Agents carrying any of these tags are never proposed for reclaiming (default
    /// `["SEASONAL_BURST"]`).
    pub exempt_tags: Vec<String>,
    /// `[[finops.tag]]`: tags given to agents by configuration, added to the snapshot's.
    #[serde(rename = "tag")]
    pub tags: Vec<TagConfig>,
    /// The target utilization band, in percent of the entitlement: lower, upper
    /// (default `[80, 95]`; lower < upper ≤ 1000).
    pub target_band: [u32; 2],
    /// The days looked back over when sizing a renewal (default 365).
    pub renewal_lookback_days: u32,
    /// The headroom added to the look-back's maximum when sizing a renewal, in percent
    /// (default 10).
    pub renewal_buffer_percent: u32,
    /// A session longer than this many hours is reported as long (default 12).
    pub long_session_hours: u32,
    /// A 10-minute period is "near the peak" when within this many percent of the month's
    /// peak (default 5).
    pub near_peak_percent: u32,
    /// A proposal declined or applied is not made again for this many days (default 90).
    pub repropose_days: u32,
    /// The day of the month proposals are made (1 to 28, default 1).
    pub proposals_day: u32,
    /// `[[finops.tier]]`: the license tiers, in strictly ascending order of price.
    #[serde(rename = "tier")]
    pub tiers: Vec<TierConfig>,
    /// The platform cost per month to allocate by logged-in minutes, in minor units
    /// (default 0).
    pub shared_cost: i64,
    /// The name of the shared cost in showback (default `Platform`).
    pub shared_cost_label: String,
    /// `[[finops.cost_center]]`: cost-center assignments written in the configuration.
    #[serde(rename = "cost_center")]
    pub cost_centers: Vec<CostCenterConfig>,
    /// A CSV file of further cost-center assignments (header `cost_center,kind,name,from,to`).
    pub cost_centers_file: Option<PathBuf>,
}

impl Default for FinopsConfig {
    fn default() -> Self {
        FinopsConfig {
            inactive_days: 45,
            lookback_days: 60,
            exempt_tags: vec!["SEASONAL_BURST".to_string()],
            tags: Vec::new(),
            target_band: [80, 95],
            renewal_lookback_days: 365,
            renewal_buffer_percent: 10,
            long_session_hours: 12,
            near_peak_percent: 5,
            repropose_days: 90,
            proposals_day: 1,
            tiers: Vec::new(),
            shared_cost: 0,
            shared_cost_label: "Platform".to_string(),
            cost_centers: Vec::new(),
            cost_centers_file: None,
        }
    }
}

/// `[[finops.tag]]`: tags one agent carries by configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagConfig {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent.
    pub agent: String,
    /// The tags, added to those from the snapshot.
    pub tags: Vec<String>,
}

/// `[[finops.tier]]`: a license tier as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// The tier's name (`CX1`).
    pub name: String,
    /// The items the tier includes, by `[[item]]` name.
    pub items: Vec<String>,
    /// The price per agent per month, in minor units.
    pub price: i64,
}

/// `[[finops.cost_center]]`: one cost center's groups and tenants, for a span of days.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostCenterConfig {
    /// The cost center's name.
    pub name: String,
    /// Groups belonging to it.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Tenants belonging to it (for agents whose groups have no cost center).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// The first day it holds (`YYYY-MM-DD`), or always before when absent.
    pub from: Option<String>,
    /// The last day it holds, inclusive, or always after when absent.
    pub to: Option<String>,
}

/// A license tier, checked: its items resolved to indexes into the item list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tier {
    /// The tier's name.
    pub name: String,
    /// The items it includes, as indexes into the item list given to `check`.
    pub items: Vec<usize>,
    /// The price per agent per month, in minor units.
    pub price: i64,
}

impl Tier {
    /// Whether the tier includes every item in `items`.
    pub fn covers(&self, items: &[usize]) -> bool {
        items.iter().all(|i| self.items.contains(i))
    }
}

/// The checked `[finops]` configuration the engines use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finops {
    /// See [`FinopsConfig::inactive_days`].
    pub inactive_days: u32,
    /// See [`FinopsConfig::lookback_days`].
    pub lookback_days: u32,
    /// See [`FinopsConfig::exempt_tags`].
    pub exempt_tags: Vec<String>,
    /// See [`FinopsConfig::tags`].
    pub tags: Vec<TagConfig>,
    /// See [`FinopsConfig::target_band`].
    pub target_band: [u32; 2],
    /// See [`FinopsConfig::renewal_lookback_days`].
    pub renewal_lookback_days: u32,
    /// See [`FinopsConfig::renewal_buffer_percent`].
    pub renewal_buffer_percent: u32,
    /// See [`FinopsConfig::long_session_hours`].
    pub long_session_hours: u32,
    /// See [`FinopsConfig::near_peak_percent`].
    pub near_peak_percent: u32,
    /// See [`FinopsConfig::repropose_days`].
    pub repropose_days: u32,
    /// See [`FinopsConfig::proposals_day`].
    pub proposals_day: u32,
    /// The tiers, in strictly ascending order of price.
    pub tiers: Vec<Tier>,
    /// See [`FinopsConfig::shared_cost`].
    pub shared_cost: i64,
    /// See [`FinopsConfig::shared_cost_label`].
    pub shared_cost_label: String,
    /// Every cost-center assignment: the configuration's first, then the CSV file's. No
    /// two assignments of the same group (or tenant) overlap in dates.
    pub assignments: Vec<Assignment>,
    /// Lines of the cost-center CSV file that were not loaded, and why (to warn about).
    pub csv_rejects: Vec<CsvReject>,
}

impl Default for Finops {
    /// The checked form of an absent `[finops]` section.
    fn default() -> Self {
        FinopsConfig::default()
            .check(&[])
            .expect("the defaults are valid")
    }
}

impl FinopsConfig {
    /// Checks the section against the configured item names, reading the cost-center CSV
    /// file if one is named, and returns the checked form.
    ///
    /// Every problem is collected, each naming where it is: a tier naming an unknown item,
    /// tiers not in strictly ascending order of price, a tier named twice, a target band
    /// out of order, a bad date or `from` after `to`, a missing cost-center file, and two
    /// assignments of the same group (or tenant) whose dates overlap.
    pub fn check(&self, items: &[String]) -> Result<Finops, Vec<String>> {
        let mut errors = Vec::new();
        self.check_numbers(&mut errors);
        let tiers = self.check_tiers(items, &mut errors);
        let mut assignments = self.config_assignments(&mut errors);
        let mut csv_rejects = Vec::new();
        if let Some(path) = &self.cost_centers_file {
            match load_cost_centers_csv(path) {
                Ok((loaded, rejects)) => {
                    assignments.extend(loaded);
                    csv_rejects = rejects;
                }
                Err(e) => errors.push(format!("finops.cost_centers_file: {e}")),
            }
        }
        errors.extend(overlap_errors(&assignments));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Finops {
            inactive_days: self.inactive_days,
            lookback_days: self.lookback_days,
            exempt_tags: self.exempt_tags.clone(),
            tags: self.tags.clone(),
            target_band: self.target_band,
            renewal_lookback_days: self.renewal_lookback_days,
            renewal_buffer_percent: self.renewal_buffer_percent,
            long_session_hours: self.long_session_hours,
            near_peak_percent: self.near_peak_percent,
            repropose_days: self.repropose_days,
            proposals_day: self.proposals_day,
            tiers,
            shared_cost: self.shared_cost,
            shared_cost_label: self.shared_cost_label.clone(),
            assignments,
            csv_rejects,
        })
    }

    fn check_numbers(&self, errors: &mut Vec<String>) {
        let [lower, upper] = self.target_band;
        if lower >= upper || upper > 1000 {
            errors.push(format!(
                "finops.target_band [{lower}, {upper}]: the lower bound must be below the upper, \
                 and the upper at most 1000 (percent)"
            ));
        }
        if !(1..=28).contains(&self.proposals_day) {
            errors.push(format!(
                "finops.proposals_day {}: must be 1 to 28, so that every month has it",
                self.proposals_day
            ));
        }
        if self.lookback_days == 0 {
            errors.push("finops.lookback_days 0: must be at least 1".to_string());
        }
        if self.renewal_lookback_days == 0 {
            errors.push("finops.renewal_lookback_days 0: must be at least 1".to_string());
        }
        if self.near_peak_percent > 100 {
            errors.push(format!(
                "finops.near_peak_percent {}: must be at most 100",
                self.near_peak_percent
            ));
        }
        if self.shared_cost < 0 {
            errors.push(format!(
                "finops.shared_cost {}: must not be negative",
                self.shared_cost
            ));
        }
    }

    fn check_tiers(&self, items: &[String], errors: &mut Vec<String>) -> Vec<Tier> {
        let mut tiers: Vec<Tier> = Vec::new();
        for (n, t) in self.tiers.iter().enumerate() {
            let mut resolved = Vec::new();
            for name in &t.items {
                match items.iter().position(|i| i == name) {
                    Some(i) if !resolved.contains(&i) => resolved.push(i),
                    Some(_) => {}
                    None => errors.push(format!(
                        "finops.tier {:?}: {name:?} is not an [[item]]; the items are: {}",
                        t.name,
                        if items.is_empty() {
                            "(none)".to_string()
                        } else {
                            items.join(", ")
                        }
                    )),
                }
            }
            if self.tiers[..n].iter().any(|o| o.name == t.name) {
                errors.push(format!("finops.tier {:?}: the name is used twice", t.name));
            }
            if t.price < 0 {
                errors.push(format!(
                    "finops.tier {:?}: price {} must not be negative",
                    t.name, t.price
                ));
            }
            if let Some(prev) = n.checked_sub(1).map(|p| &self.tiers[p])
                && t.price <= prev.price
            {
                errors.push(format!(
                    "finops.tier {:?}: price {} is not above that of the tier before it, {:?} ({}); \
                     list tiers in strictly ascending order of price",
                    t.name, t.price, prev.name, prev.price
                ));
            }
            tiers.push(Tier {
                name: t.name.clone(),
                items: resolved,
                price: t.price,
            });
        }
        tiers
    }

    fn config_assignments(&self, errors: &mut Vec<String>) -> Vec<Assignment> {
        let mut out = Vec::new();
        for c in &self.cost_centers {
            let origin = format!("finops.cost_center {:?}", c.name);
            let date = |key: &str, v: &Option<String>, errors: &mut Vec<String>| {
                optional_date(v.as_deref().unwrap_or("")).unwrap_or_else(|e| {
                    errors.push(format!("{origin}: {key}: {e}"));
                    None
                })
            };
            let from = date("from", &c.from, errors);
            let to = date("to", &c.to, errors);
            if let (Some(f), Some(t)) = (from, to)
                && f > t
            {
                errors.push(format!(
                    "{origin}: from {} is after to {}",
                    c.from.as_deref().unwrap_or(""),
                    c.to.as_deref().unwrap_or("")
                ));
            }
            if c.name.trim().is_empty() {
                errors.push("finops.cost_center: a name is required".to_string());
            }
            if c.groups.is_empty() && c.tenants.is_empty() {
                errors.push(format!("{origin}: names no groups and no tenants"));
            }
            let named = (c.groups.iter().map(|g| (Kind::Group, g)))
                .chain(c.tenants.iter().map(|t| (Kind::Tenant, t)));
            for (kind, name) in named {
                out.push(Assignment {
                    center: c.name.clone(),
                    kind,
                    name: name.clone(),
                    from,
                    to,
                    origin: origin.clone(),
                });
            }
        }
        out
    }
}

impl Finops {
    /// The cost center of an agent of `tenant` with `groups` on `day`: that of its first
    /// group (in the order given) that has one that day, else its tenant's, else `None`
    /// (the agent is unallocated).
    pub fn center_of(&self, tenant: &str, groups: &[String], day: Day) -> Option<&str> {
        let find = |kind: Kind, name: &str| {
            self.assignments
                .iter()
                .find(|a| a.kind == kind && a.name == name && a.holds_on(day))
                .map(|a| a.center.as_str())
        };
        groups
            .iter()
            .find_map(|g| find(Kind::Group, g))
            .or_else(|| find(Kind::Tenant, tenant))
    }

    /// The tags the configuration gives to `agent` of `tenant` (`[[finops.tag]]`).
    pub fn configured_tags<'a>(
        &'a self,
        tenant: &'a str,
        agent: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.tags
            .iter()
            .filter(move |t| t.tenant == tenant && t.agent == agent)
            .flat_map(|t| t.tags.iter().map(String::as_str))
    }

    /// The first tag of `exempt_tags` (in their order) that the agent carries, from the
    /// snapshot (`snapshot_tags`) or the configuration.
    pub fn exemption(&self, tenant: &str, agent: &str, snapshot_tags: &[String]) -> Option<&str> {
        self.exempt_tags
            .iter()
            .find(|e| {
                snapshot_tags.iter().any(|t| t == *e)
                    || self.configured_tags(tenant, agent).any(|t| t == e.as_str())
            })
            .map(String::as_str)
    }

    /// The tier named `name`, if configured.
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }
}
