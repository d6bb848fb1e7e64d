//! What expires soon (docs/GUARDRAILS.md, "Expiry"): FEATURE and INCREMENT lines of the
//! license files and the grants of the entitlement files whose last day is within the
//! configured warning thresholds (90, 60, 30 and 7 days by default), and that are not
//! already followed by as much from another line or grant the day after.

use chrono::NaiveDate;
use seatmeter_core::calendar::{date_of_day, day_of_date};
use seatmeter_core::{Day, Entitled};
use seatmeter_guard::{ExpiryWarning, Guard, expiry_warning};

use crate::config::Config;
use crate::entitlement::flexnet::{self, Expiry, FeatureRef, Ledger, LicenseFile};
use crate::entitlement::{self, xml};

/// One line or grant that expires soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    /// `file:line` of the license line or the grant.
    pub origin: String,
    /// The license feature, or the item or bundle of a grant.
    pub feature: String,
    /// The license vendor, or `entitlement` for a grant.
    pub vendor: String,
    /// The tenant of a tenant grant.
    pub tenant: Option<String>,
    /// Seats it grants (None: uncounted).
    pub seats: Option<u64>,
    pub warning: ExpiryWarning,
}

impl Expiring {
    /// The last day it is valid.
    pub fn last_day(&self) -> NaiveDate {
        date_of_day(self.warning.expires)
    }

    /// One line a person reads: `INBOUND_VOICE (genesys, 50 seats) expires 2027-01-31, in
    /// 30 days (license.lic:12)`.
    pub fn sentence(&self) -> String {
        format!("{} ({})", self.public_sentence(), self.origin)
    }

    /// The sentence without the file it comes from, for what a tenant reads (no server
    /// paths): `INBOUND_VOICE of tenant acme (entitlement, 50 seats) expires …`.
    pub fn public_sentence(&self) -> String {
        let seats = match self.seats {
            Some(n) => format!("{n} seats"),
            None => "uncounted".into(),
        };
        let whose = match &self.tenant {
            Some(t) => format!(" of tenant {t}"),
            None => String::new(),
        };
        let when = if self.warning.expired {
            format!("expired on {}", self.last_day())
        } else {
            match self.warning.days_left {
                0 => format!("expires today ({})", self.last_day()),
                1 => format!("expires tomorrow ({})", self.last_day()),
                n => format!("expires on {}, in {n} days", self.last_day()),
            }
        };
        format!("{}{whose} ({}, {seats}) {when}", self.feature, self.vendor)
    }
}

/// What expires within the thresholds as of `today`, soonest first, and the files that
/// could not be read (as sentences).
pub fn expiring(config: &Config, today: Day, guard: &Guard) -> (Vec<Expiring>, Vec<String>) {
    let (files, errors) = flexnet::load_all(&config.license_files);
    let mut errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let mut out = license_expiring(&files, today, guard);
    grants(config, today, guard, &mut out, &mut errors);
    out.sort_by(|a, b| {
        (a.warning.expires, &a.tenant, &a.feature).cmp(&(b.warning.expires, &b.tenant, &b.feature))
    });
    (out, errors)
}

/// The lines of license files that expire within the thresholds as of `today` and are not
/// renewed (the feature has as much the day after from other lines), soonest first.
pub fn license_expiring(files: &[LicenseFile], today: Day, guard: &Guard) -> Vec<Expiring> {
    let ledger = Ledger::new(files);
    let mut out = Vec::new();
    for (i, (_, line)) in ledger.lines.iter().enumerate() {
        let Expiry::On(last) = line.expiry else {
            continue;
        };
        if ledger.ignored[i].is_some() || line.start.is_some_and(|s| s > last) {
            continue;
        }
        let f = [FeatureRef {
            vendor: Some(line.vendor.clone()),
            name: line.name.clone(),
        }];
        let next = last.succ_opt().unwrap_or(last);
        if covers(ledger.entitled(&f, next), ledger.entitled(&f, last)) {
            continue;
        }
        let Some(warning) = expiry_warning(day_of_date(last), today, guard) else {
            continue;
        };
        let (file, at) = ledger.origin[i];
        out.push(Expiring {
            origin: format!("{}:{at}", files[file].path),
            feature: line.name.clone(),
            vendor: line.vendor.clone(),
            tenant: None,
            seats: line.count,
            warning,
        });
    }
    out.sort_by(|a, b| (a.warning.expires, &a.feature).cmp(&(b.warning.expires, &b.feature)));
    out
}

/// Whether `after` grants at least what `before` did.
fn covers(after: Option<Entitled>, before: Option<Entitled>) -> bool {
    match (after, before) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => a >= b,
    }
}

/// The grants of the entitlement files that end soon (and are not renewed by another).
fn grants(
    config: &Config,
    today: Day,
    guard: &Guard,
    out: &mut Vec<Expiring>,
    errors: &mut Vec<String>,
) {
    if config.entitlement_files.is_empty() {
        return;
    }
    let measures = config.measures();
    let names: Vec<String> = measures.iter().map(|m| m.name.clone()).collect();
    let ents = match xml::load_all(&config.entitlement_files, &names) {
        Ok(e) => e,
        Err(e) => {
            errors.push(e.to_string());
            return;
        }
    };
    for file in &ents.files {
        let owners = std::iter::once((None, &file.system))
            .chain(file.tenants.iter().map(|(t, g)| (Some(t.as_str()), g)));
        for (tenant, list) in owners {
            for g in list {
                let Some(last) = g.end else { continue };
                let next = last.succ_opt().unwrap_or(last);
                let at = |d| match tenant {
                    Some(t) => ents.tenant(t, g.item, d),
                    None => entitlement::add(None, ents.system(g.item, d)),
                };
                if covers(at(next), at(last)) {
                    continue;
                }
                let Some(warning) = expiry_warning(day_of_date(last), today, guard) else {
                    continue;
                };
                out.push(Expiring {
                    origin: format!("{}:{}", file.path.display(), g.line),
                    feature: names.get(g.item).cloned().unwrap_or_default(),
                    vendor: "entitlement".into(),
                    tenant: tenant.map(str::to_string),
                    seats: Some(g.quantity),
                    warning,
                });
            }
        }
    }
}

/// Each licensed feature's last valid day: the latest expiry among its lines that grant
/// something (features with a permanent line are left out), for the expiry gauges.
pub fn feature_expiries(config: &Config) -> Vec<(String, String, NaiveDate)> {
    let (files, _) = flexnet::load_all(&config.license_files);
    let ledger = Ledger::new(&files);
    let mut last: std::collections::BTreeMap<(String, String), Option<NaiveDate>> =
        std::collections::BTreeMap::new();
    for (i, (_, line)) in ledger.lines.iter().enumerate() {
        if ledger.ignored[i].is_some() {
            continue;
        }
        let e = last
            .entry((line.name.clone(), line.vendor.clone()))
            .or_insert(Some(NaiveDate::MIN));
        *e = match (line.expiry, *e) {
            (Expiry::Never, _) | (_, None) => None,
            (Expiry::On(d), Some(prev)) => Some(prev.max(d)),
        };
    }
    last.into_iter()
        .filter_map(|((f, v), d)| d.map(|d| (f, v, d)))
        .collect()
}
