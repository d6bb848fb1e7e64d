//! `seatmeter export billing`: per-tenant billing files for a month (and each of its
//! days), with quantities from the same tenant reports the `report` command gives, prices
//! from the configuration, amounts in integer minor units (cents), a summary across
//! tenants, and a manifest of SHA-256 digests written last. docs/BILLING.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use seatmeter_reports::{Entitled, Granularity, ScopeKind};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::calendar::{Day, day_of_date};
use crate::config::{Config, Measure, Model};
use crate::entitlement_xml;
use crate::report::{Reporter, Request};
use crate::store::Store;

/// `[billing]` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// ISO 4217 code written in the files (default "EUR").
    pub currency: Option<String>,
    /// Digits after the decimal point of the currency (default 2).
    pub minor_units: Option<u32>,
    /// Per tenant per month: a tenant whose amount is lower is billed this (its files say so).
    pub minimum: Option<String>,
    /// Price of one billable seat for a month, per item name ("12.50").
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, String>,
    /// Price of one billable seat for a day, per item name, for the daily files.
    #[serde(default)]
    pub daily_prices: std::collections::BTreeMap<String, String>,
    /// Bill concurrent items and bundles by their fair peak: the highest level held for
    /// at least this many minutes, so that short spikes are not billed.
    pub fair_peak_minutes: Option<u32>,
}

/// `[billing]`, checked: money in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billing {
    pub currency: String,
    pub minor_units: u32,
    pub minimum: i64,
    /// Per configured item.
    pub prices: Vec<Option<i64>>,
    pub daily_prices: Vec<Option<i64>>,
    pub fair_peak_minutes: Option<u32>,
}

impl Default for Billing {
    fn default() -> Self {
        Billing {
            currency: "EUR".into(),
            minor_units: 2,
            minimum: 0,
            prices: Vec::new(),
            daily_prices: Vec::new(),
            fair_peak_minutes: None,
        }
    }
}

impl BillingConfig {
    /// Checks prices against the items; errors say which key is wrong.
    pub fn check(&self, items: &[String]) -> Result<Billing, String> {
        let minor_units = self.minor_units.unwrap_or(2);
        if minor_units > 6 {
            return Err(format!(
                "[billing] minor_units = {minor_units}: at most 6 digits"
            ));
        }
        let table = |key: &str,
                     prices: &std::collections::BTreeMap<String, String>|
         -> Result<Vec<Option<i64>>, String> {
            let mut out = vec![None; items.len()];
            for (name, text) in prices {
                let i = items.iter().position(|n| n == name).ok_or_else(|| {
                    format!(
                        "[billing.{key}] {name:?} is not a configured item (items: {})",
                        items.join(", ")
                    )
                })?;
                out[i] = Some(
                    parse_money(text, minor_units)
                        .map_err(|e| format!("[billing.{key}] {name:?}: {e}"))?,
                );
            }
            Ok(out)
        };
        Ok(Billing {
            currency: self.currency.clone().unwrap_or_else(|| "EUR".into()),
            minor_units,
            minimum: match &self.minimum {
                Some(m) => {
                    parse_money(m, minor_units).map_err(|e| format!("[billing] minimum: {e}"))?
                }
                None => 0,
            },
            prices: table("prices", &self.prices)?,
            daily_prices: table("daily_prices", &self.daily_prices)?,
            fair_peak_minutes: match self.fair_peak_minutes {
                Some(0) => return Err("[billing] fair_peak_minutes must be at least 1".into()),
                m => m,
            },
        })
    }
}

/// "12.5" with 2 minor units -> 1250. No floating point: digits are read as digits.
pub fn parse_money(text: &str, minor_units: u32) -> Result<i64, String> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || digits(frac)) {
        return Err(format!(
            "{text:?} is not an amount (write e.g. \"12.50\"; no sign, no thousands separator)"
        ));
    }
    if frac.len() > minor_units as usize {
        return Err(format!(
            "{text:?} has more than {minor_units} digit(s) after the point"
        ));
    }
    let scale = 10i64.pow(minor_units);
    let w: i64 = whole
        .parse()
        .map_err(|_| format!("{text:?} is too large"))?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = minor_units as usize)
            .parse()
            .expect("digits")
    };
    w.checked_mul(scale)
        .and_then(|v| v.checked_add(f))
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// 1250 with 2 minor units -> "12.50".
pub fn format_money(v: i64, minor_units: u32) -> String {
    if minor_units == 0 {
        return v.to_string();
    }
    let scale = 10i64.pow(minor_units);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        a / scale as u64,
        a % scale as u64,
        width = minor_units as usize
    )
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    pub tenants: usize,
    pub total: i64,
    pub warnings: Vec<String>,
}

const HEADER: [&str; 15] = [
    "period",
    "tenant",
    "line",
    "license_model",
    "peak_concurrent",
    "peak_at",
    "fair_peak",
    "enabled_seats",
    "entitled",
    "over_use",
    "billable_basis",
    "billable_quantity",
    "unit_price",
    "amount",
    "currency",
];

/// A file name part from a tenant name: letters, digits, '-', '_' and '.' kept, the rest
/// '_'; a name that had to change gets the start of its SHA-256, so that two tenants
/// never share a file ("a/b" and "a_b").
pub fn file_part(tenant: &str) -> String {
    let safe: String = tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe == tenant && !safe.starts_with('.') {
        safe
    } else {
        let digest = seatmeter_collectors::hex(&Sha256::digest(tenant.as_bytes()));
        format!("{safe}-{}", &digest[..8])
    }
}

/// One item's measures for one tenant and period, as the tenant report gives them.
#[derive(Debug, Clone, Default)]
struct ItemValues {
    peak: u64,
    /// The 10-minute period of the peak, local time.
    peak_at: String,
    enabled: Option<u64>,
    entitled: Option<Entitled>,
    over_use: bool,
}

/// One tenant's billing for one period, from the tenant report of that period.
struct TenantBill {
    rows: Vec<Vec<String>>,
    amount: i64,
}

/// One billing period: a month or a day.
struct Period<'a> {
    label: &'a str,
    prices: &'a [Option<i64>],
    minimum: i64,
    /// Each measure's fair peak in the period, when billed by it.
    fair: Option<&'a [u32]>,
}

/// Every tenant's measures in one period, from one tenant report over all tenants (the
/// same rows `report --scope tenant` gives).
fn measure_period(
    store: &mut dyn Store,
    config: &Config,
    measures: &[Measure],
    from: Day,
    to: Day,
    granularity: Granularity,
    warnings: &mut BTreeSet<String>,
) -> Result<std::collections::HashMap<String, Vec<ItemValues>>> {
    let req = Request {
        scope: ScopeKind::Tenant,
        id: None,
        granularity,
        from,
        to,
    };
    let mut out: std::collections::HashMap<String, Vec<ItemValues>> =
        std::collections::HashMap::new();
    let outcome = Reporter::new(store, config)?
        .with_peak_times()
        .run(&req, &mut |r| {
            let ii = measures
                .iter()
                .position(|m| m.name == r.item)
                .expect("rows are of the measures");
            // One row per item: the period is the whole month or day.
            let v = &mut out
                .entry(r.scope_id.to_string())
                .or_insert_with(|| vec![ItemValues::default(); measures.len()])[ii];
            v.peak = r.peak_concurrent;
            v.enabled = r.enabled_seats;
            v.entitled = r.entitled;
            v.over_use = r.over_use;
            Ok(())
        })?;
    if let Some(e) = &outcome.entitlement_error {
        bail!("entitlement file: {e}");
    }
    warnings.extend(outcome.warnings.iter().cloned());
    for p in &outcome.peak_at {
        if let Some(v) = out.get_mut(&p.scope_id).and_then(|v| v.get_mut(p.item)) {
            v.peak_at = p.period.clone().unwrap_or_default();
        }
    }
    Ok(out)
}

/// A provisioned tenant with no data: zeros, its entitlement still shown; enabled seats
/// are 0 once a snapshot is known (empty before, as in reports).
fn unused(
    measures: usize,
    ents: &entitlement_xml::Entitlements,
    snapshots: bool,
    tenant: &str,
    from: Day,
    to: Day,
) -> Vec<ItemValues> {
    (0..measures)
        .map(|ii| ItemValues {
            enabled: snapshots.then_some(0),
            entitled: (from..=to)
                .map(|d| ents.tenant(tenant, ii, crate::calendar::date_of_day(d)))
                .fold(None, crate::entitlement::smallest),
            ..ItemValues::default()
        })
        .collect()
}

/// A tenant's billing lines for one period, from its measures.
fn bill(
    measures: &[Measure],
    billing: &Billing,
    tenant: &str,
    values: &[ItemValues],
    period: &Period<'_>,
) -> TenantBill {
    let (prices, minimum, fair) = (period.prices, period.minimum, period.fair);
    let period = period.label;
    let money = |v: i64| format_money(v, billing.minor_units);
    let mut out = Vec::new();
    let mut amount = 0i64;
    for (ii, it) in measures.iter().enumerate() {
        let v = &values[ii];
        let fair_peak = fair.map(|f| u64::from(f[ii]));
        let (basis, quantity) = match (it.model, fair_peak) {
            (Model::Concurrent, Some(f)) => ("fair_peak", f),
            (Model::Concurrent, None) => ("peak_concurrent", v.peak),
            (Model::Named, _) => ("enabled_seats", v.enabled.unwrap_or(0)),
        };
        let price = prices[ii];
        let line = price.map(|p| p * quantity as i64);
        amount += line.unwrap_or(0);
        out.push(vec![
            period.to_string(),
            tenant.to_string(),
            it.name.clone(),
            match it.model {
                Model::Concurrent => "concurrent".into(),
                Model::Named => "named".into(),
            },
            v.peak.to_string(),
            v.peak_at.clone(),
            fair_peak.map(|f| f.to_string()).unwrap_or_default(),
            v.enabled.map(|e| e.to_string()).unwrap_or_default(),
            v.entitled.map(|e| e.to_string()).unwrap_or_default(),
            v.over_use.to_string(),
            basis.to_string(),
            quantity.to_string(),
            price.map(money).unwrap_or_default(),
            line.map(money).unwrap_or_default(),
            billing.currency.clone(),
        ]);
    }
    // Lines with an amount only: the minimum's top-up, the total.
    let amount_line = |line: &str, value: i64| -> Vec<String> {
        let mut row = vec![String::new(); HEADER.len()];
        row[0] = period.to_string();
        row[1] = tenant.to_string();
        row[2] = line.to_string();
        row[HEADER.len() - 2] = money(value);
        row[HEADER.len() - 1] = billing.currency.clone();
        row
    };
    let mut total = amount;
    if minimum > amount {
        out.push(amount_line("minimum charge", minimum - amount));
        total = minimum;
    }
    out.push(amount_line("total", total));
    TenantBill {
        rows: out,
        amount: total,
    }
}

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes the month's files into `dir`. `month` is its first day.
pub fn export(
    store: &mut dyn Store,
    config: &Config,
    month: NaiveDate,
    only: Option<&str>,
    dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Exported> {
    let billing = config.billing.clone();
    let mut out = Exported::default();
    let first = day_of_date(month);
    let last = day_of_date(
        month
            .checked_add_months(chrono::Months::new(1))
            .context("month out of range")?,
    ) - 1;
    let label = month.format("%Y-%m").to_string();
    // Tenants: every tenant with data (by store id, for the fair peak), and every tenant
    // the entitlement files provision.
    let tenant_ids: std::collections::HashMap<String, u32> = store
        .dimensions()?
        .tenants
        .into_iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| (t, i as u32))
        .collect();
    let stored: BTreeSet<String> = tenant_ids.keys().cloned().collect();
    let names: Vec<String> = config.items.iter().map(|i| i.name.clone()).collect();
    let ents = entitlement_xml::load_all(&config.entitlement_files, &names)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tenants: BTreeSet<String> = stored.clone();
    for f in &ents.files {
        tenants.extend(f.tenants.keys().cloned());
    }
    if let Some(t) = only {
        if !tenants.contains(t) {
            bail!("no tenant {t:?} in the store or the entitlement files");
        }
        tenants.retain(|x| x == t);
    }
    // Daily files for the days that are over (all of a past month).
    let today = day_of_date(
        chrono::Utc::now()
            .with_timezone(&config.timezone)
            .date_naive(),
    );
    let upto = last.min(today - 1);
    let mut warnings = BTreeSet::new();
    if today <= last {
        warnings.insert(format!(
            "{label} is not over: its monthly files cover the month so far, daily files the days before today"
        ));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut manifest = Vec::new();
    let mut write = |name: String, bytes: Vec<u8>, out: &mut Exported| -> Result<()> {
        let path = dir.join(&name);
        crate::cli::write_atomically(&path, &bytes)?;
        manifest.push(format!(
            "{}  {name}\n",
            seatmeter_collectors::hex(&Sha256::digest(&bytes))
        ));
        out.files.push(path);
        Ok(())
    };
    // The fair peak needs the level between the 10-minute maxima: the session state
    // machine runs again over the month's raw events.
    let cal = crate::calendar::Calendar::new(config.timezone);
    let measures = crate::report::measures_of(config, ScopeKind::Tenant);
    let fair = match billing.fair_peak_minutes {
        Some(m) => Some((
            crate::rollup::Rollup::new(store, config)?.tenant_levels(first, last)?,
            i64::from(m) * 60 * 1_000_000_000,
        )),
        None => None,
    };
    let snapshots = !store.snapshots()?.is_empty();
    let fair_of = |t: &str, a: Day, b: Day| -> Option<Vec<u32>> {
        let (levels, window) = fair.as_ref()?;
        let id = tenant_ids.get(t);
        let (from, to) = (cal.slots(a).starts[0], cal.slots(b).end);
        Some(
            (0..measures.len())
                .map(|m| {
                    id.and_then(|id| levels.get(&(*id, m as u16)))
                        .map_or(0, |p| crate::rollup::fair_peak(p, from, to, *window))
                })
                .collect(),
        )
    };
    let mut summary = Vec::new();
    let mut total = 0i64;
    // The month, then each day that is over: one tenant report each, for every tenant.
    let days: Vec<(String, Day)> = (first..=upto)
        .map(|d| (crate::calendar::Calendar::date_text(d), d))
        .collect();
    let periods = std::iter::once((label.clone(), first, last, Granularity::Monthly))
        .chain(days.into_iter().map(|(l, d)| (l, d, d, Granularity::Daily)));
    for (period_label, from, to, granularity) in periods {
        progress(&period_label);
        let monthly = granularity == Granularity::Monthly;
        let measured = measure_period(
            store,
            config,
            &measures,
            from,
            to,
            granularity,
            &mut warnings,
        )?;
        for t in &tenants {
            let values = match measured.get(t) {
                Some(v) => v.clone(),
                None => unused(measures.len(), &ents, snapshots, t, from, to),
            };
            let fair_peaks = fair_of(t, from, to);
            let b = bill(
                &measures,
                &billing,
                t,
                &values,
                &Period {
                    label: &period_label,
                    prices: if monthly {
                        &billing.prices
                    } else {
                        &billing.daily_prices
                    },
                    minimum: if monthly { billing.minimum } else { 0 },
                    fair: fair_peaks.as_deref(),
                },
            );
            if monthly {
                total += b.amount;
                summary.push(vec![
                    label.clone(),
                    t.clone(),
                    format_money(b.amount, billing.minor_units),
                    billing.currency.clone(),
                ]);
            }
            write(
                format!("seatmeter-billing-{period_label}-{}.csv", file_part(t)),
                csv_bytes(&HEADER, &b.rows)?,
                &mut out,
            )?;
        }
    }
    summary.push(vec![
        label.clone(),
        "total".into(),
        format_money(total, billing.minor_units),
        billing.currency.clone(),
    ]);
    write(
        format!("seatmeter-billing-{label}-summary.csv"),
        csv_bytes(&["period", "tenant", "amount", "currency"], &summary)?,
        &mut out,
    )?;
    // The manifest last: when it is there, every file it names is complete.
    let manifest_path = dir.join(format!("seatmeter-billing-{label}-manifest.sha256"));
    crate::cli::write_atomically(&manifest_path, manifest.concat().as_bytes())?;
    out.files.push(manifest_path);
    out.tenants = tenants.len();
    out.total = total;
    out.warnings = warnings.into_iter().collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_read_and_written_as_digits() {
        assert_eq!(parse_money("12.5", 2), Ok(1250));
        assert_eq!(parse_money("0.10", 2), Ok(10));
        assert_eq!(parse_money("7", 2), Ok(700));
        assert_eq!(parse_money("0.105", 3), Ok(105));
        assert!(parse_money("0.105", 2).is_err());
        assert!(parse_money("-1", 2).is_err());
        assert!(parse_money("1,000.00", 2).is_err());
        assert!(parse_money("1e3", 2).is_err());
        assert!(parse_money("99999999999999999999", 2).is_err());
        assert_eq!(format_money(1250, 2), "12.50");
        assert_eq!(format_money(5, 2), "0.05");
        assert_eq!(format_money(-5, 2), "-0.05");
        assert_eq!(format_money(42, 0), "42");
        // 0.1 + 0.2 is exactly 0.3 here.
        assert_eq!(
            format_money(
                parse_money("0.1", 2).unwrap() + parse_money("0.2", 2).unwrap(),
                2
            ),
            "0.30"
        );
    }

    #[test]
    fn prices_name_configured_items() {
        let items = vec!["Voice".to_string(), "Email".to_string()];
        let mut c = BillingConfig::default();
        c.prices.insert("Voice".into(), "12.35".into());
        c.minimum = Some("100".into());
        let b = c.check(&items).unwrap();
        assert_eq!(b.prices, vec![Some(1235), None]);
        assert_eq!(b.minimum, 10000);
        c.prices.insert("Fax".into(), "1".into());
        assert!(
            c.check(&items)
                .unwrap_err()
                .contains("\"Fax\" is not a configured item")
        );
        assert_eq!(file_part("acme"), "acme");
        let odd = file_part("Acme GmbH/Süd");
        assert!(
            odd.starts_with("Acme_GmbH_S_d-") && odd.len() == 13 + 9,
            "{odd}"
        );
        assert_ne!(file_part("a/b"), file_part("a_b"));
    }
}
