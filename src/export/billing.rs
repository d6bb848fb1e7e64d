//! `seatmeter export billing`: per-tenant billing files for a month (and each of its
//! days), with quantities from the same tenant reports the `report` command gives, prices
//! from the configuration, amounts in integer minor units (cents), a summary across
//! tenants, and a manifest of SHA-256 digests written last. docs/BILLING.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use seatmeter_core::calendar::{date_of_day, day_of_date};
use seatmeter_core::{Calendar, Day, Entitled, Granularity, ScopeKind};
use seatmeter_store::Store;
use sha2::{Digest, Sha256};

use super::ExportError;
use crate::config::billing::{Billing, Unprovisioned, format_money};
use crate::config::{Config, Measure, Model};
use crate::entitlement::Entitlements;
use crate::report::{Reporter, Request, measures_of};
use crate::rollup::{Rollup, TenantLevels, fair_peak};

/// What a caller allows an export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Write the files even when the month's numbers are incomplete (a file of the export,
    /// `seatmeter-billing-MONTH-INCOMPLETE.txt`, then lists the gaps); without it such an
    /// export is refused.
    pub allow_incomplete: bool,
    /// Write the files although no price is configured: quantities, and no amounts
    /// (without it such an export is refused, so that 0.00 is never mistaken for a bill).
    pub quantities_only: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    pub tenants: usize,
    pub total: i64,
    pub warnings: Vec<String>,
    /// False when written with `allow_incomplete` although the month had gaps (they are
    /// among the warnings and in seatmeter-billing-MONTH-INCOMPLETE.txt).
    pub complete: bool,
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

/// The longest tenant name part of a file name, in bytes (then the name is cut and hashed).
const MAX_PART: usize = 64;

/// A file name part from a tenant name, distinct for distinct tenants by construction,
/// also on case-insensitive file systems: a name of lower-case letters, digits, '.', '_'
/// and '-' (not starting with '.', at most 64 bytes) is kept as it is; any other name is
/// written with those characters (upper case lowered, the rest '_'), cut to 48 bytes, then
/// `~` and the first 16 hex digits of the name's SHA-256. A kept name never contains '~',
/// so a hashed name is never a kept one ("Acme" → "acme~…", never "acme").
pub fn file_part(tenant: &str) -> String {
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if !tenant.is_empty()
        && tenant.len() <= MAX_PART
        && !tenant.starts_with('.')
        && tenant.chars().all(plain)
    {
        return tenant.to_string();
    }
    let safe: String = tenant
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if plain(c) { c } else { '_' }
        })
        .take(48)
        .collect();
    let digest = seatmeter_core::hex(&Sha256::digest(tenant.as_bytes()));
    format!("{safe}~{}", &digest[..16])
}

/// A tenant's billing file of a period (YYYY-MM or YYYY-MM-DD): the `tenant-` between them
/// keeps a tenant named "summary" from the summary, and tenant "05-acme"'s month file from
/// acme's file of the 5th.
pub fn tenant_file(period: &str, tenant: &str) -> String {
    format!(
        "seatmeter-billing-{period}-tenant-{}.csv",
        file_part(tenant)
    )
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
    /// The most seats by which a 10-minute period exceeded the entitlement of its day:
    /// the over-use the report flags (0 when none).
    excess: u64,
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
    /// The tenant's minimum for the period (prorated by the days of its contract).
    minimum: i64,
    /// Each measure's fair peak in the period, when billed by it.
    fair: Option<&'a [u32]>,
    /// Per measure: the priced bundles that replace it (docs/BILLING.md, rule 2).
    replaced_by: &'a [Vec<usize>],
    /// Per measure: the price of a seat above the entitlement, when the period bills it.
    overage: Option<&'a [Option<i64>]>,
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
) -> Result<HashMap<String, Vec<ItemValues>>, ExportError> {
    let req = Request {
        scope: ScopeKind::Tenant,
        id: None,
        granularity,
        from,
        to,
    };
    let mut out: HashMap<String, Vec<ItemValues>> = HashMap::new();
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
        return Err(ExportError::Entitlement(e.clone()));
    }
    for o in &outcome.over_use {
        let ii = measures.iter().position(|m| m.name == o.item);
        if let Some(v) = out.get_mut(&o.scope_id).and_then(|v| v.get_mut(ii?)) {
            v.excess = v.excess.max(o.measured.saturating_sub(o.entitled));
        }
    }
    for p in &outcome.peak_at {
        if let Some(v) = out.get_mut(&p.scope_id).and_then(|v| v.get_mut(p.item)) {
            v.peak_at = p.period.clone().unwrap_or_default();
        }
    }
    Ok(out)
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
    let (replaced_by, overage) = (period.replaced_by, period.overage);
    let period = period.label;
    let money = |v: i64| format_money(v, billing.minor_units);
    let model = |m: Model| -> String {
        match m {
            Model::Concurrent => "concurrent".into(),
            Model::Named => "named".into(),
        }
    };
    // Each measure's own billable quantity, by its model.
    let own: Vec<(&str, u64)> = measures
        .iter()
        .enumerate()
        .map(|(ii, it)| {
            let v = &values[ii];
            match (it.model, fair.map(|f| u64::from(f[ii]))) {
                (Model::Concurrent, Some(f)) => ("fair_peak", f),
                (Model::Concurrent, None) => ("peak_concurrent", v.peak),
                (Model::Named, _) => ("enabled_seats", v.enabled.unwrap_or(0)),
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut amount = 0i64;
    for (ii, it) in measures.iter().enumerate() {
        let v = &values[ii];
        let fair_peak = fair.map(|f| u64::from(f[ii]));
        let (basis, own_quantity) = own[ii];
        // An item is billed only for the seats beyond the priced bundles that include it.
        let quantity = replaced_by[ii]
            .iter()
            .fold(own_quantity, |q, &b| q.saturating_sub(own[b].1));
        let price = prices[ii];
        let line = price.map(|p| p * quantity as i64);
        amount += line.unwrap_or(0);
        out.push(vec![
            period.to_string(),
            tenant.to_string(),
            it.name.clone(),
            model(it.model),
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
        // The seats above the entitlement, at the overage price, on a line of their own:
        // the over-use the report flags, no more than the billable seats above the
        // period's entitlement.
        if let Some(price) = overage.and_then(|o| o[ii]) {
            let seats = match v.entitled {
                Some(Entitled::Seats(n)) => v.excess.min(own_quantity.saturating_sub(n)),
                _ => 0,
            };
            let line = price * seats as i64;
            amount += line;
            let mut row = vec![String::new(); HEADER.len()];
            row[0] = period.to_string();
            row[1] = tenant.to_string();
            row[2] = format!("{} overage", it.name);
            row[3] = model(it.model);
            row[8] = v.entitled.map(|e| e.to_string()).unwrap_or_default();
            row[9] = v.over_use.to_string();
            row[10] = "over_use".into();
            row[11] = seats.to_string();
            row[12] = money(price);
            row[13] = money(line);
            row[14] = billing.currency.clone();
            out.push(row);
        }
    }
    // Lines with an amount only: the minimum's top-up, the total.
    let amount_line = |line: &str, value: i64| -> Vec<String> {
        let mut row = vec![String::new(); HEADER.len()];
        row[0] = period.to_string();
        row[1] = tenant.to_string();
        row[2] = line.to_string();
        if billing.has_prices() {
            row[HEADER.len() - 2] = money(value);
        }
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

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, ExportError> {
    let csv = |e: csv::Error| ExportError::Csv(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(csv)?;
    for r in rows {
        // No field of a billing file is a number that may begin with '-': every field that
        // could be read as a formula is text, and is neutralised.
        w.write_record(r.iter().map(|f| seatmeter_core::csv_text(f).into_owned()))
            .map_err(csv)?;
    }
    w.into_inner().map_err(|e| ExportError::Csv(e.to_string()))
}

/// The files of an export, each with its SHA-256 for the manifest.
struct Files<'d> {
    dir: &'d Path,
    manifest: Vec<String>,
    written: Vec<PathBuf>,
    /// The names written, lower-cased.
    names: HashSet<String>,
}

impl Files<'_> {
    fn write(&mut self, name: String, bytes: Vec<u8>) -> Result<(), ExportError> {
        // Distinct by construction (file_part); checked all the same, as a case-insensitive
        // file system sees the names, so that no file of an export overwrites another.
        if !self.names.insert(name.to_lowercase()) {
            return Err(ExportError::Request(format!(
                "two files of the export would be named {name}: nothing more is written"
            )));
        }
        let path = self.dir.join(&name);
        seatmeter_core::fs::write_atomically(&path, &bytes)?;
        self.manifest.push(format!(
            "{}  {name}\n",
            seatmeter_core::hex(&Sha256::digest(&bytes))
        ));
        self.written.push(path);
        Ok(())
    }

    /// The file that says the export is incomplete, and why; removed when it is complete.
    fn incomplete(&mut self, label: &str, gaps: &[String]) -> Result<(), ExportError> {
        let name = format!("seatmeter-billing-{label}-INCOMPLETE.txt");
        if gaps.is_empty() {
            return match std::fs::remove_file(self.dir.join(&name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            };
        }
        let text: String = std::iter::once(format!(
            "The billing files of {label} are INCOMPLETE: their numbers do not cover everything they should.\n"
        ))
        .chain(gaps.iter().map(|g| format!("- {g}\n")))
        .collect();
        self.write(name, text.into_bytes())
    }

    /// The manifest, written last: when it is there, every file it names is complete. It
    /// is verified before the export says it is done: every file it names is read back
    /// and its digest compared.
    fn finish(mut self, label: &str) -> Result<Vec<PathBuf>, ExportError> {
        let path = self
            .dir
            .join(format!("seatmeter-billing-{label}-manifest.sha256"));
        seatmeter_core::fs::write_atomically(&path, self.manifest.concat().as_bytes())?;
        verify_manifest(&path)?;
        self.written.push(path);
        Ok(self.written)
    }
}

/// Reads a manifest (`sha256sum -c` format) back and checks every file it names, beside it.
pub fn verify_manifest(path: &Path) -> Result<usize, ExportError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let bad = |why: String| {
            ExportError::Request(format!(
                "{}:{}: the manifest does not verify: {why}",
                path.display(),
                n + 1
            ))
        };
        let (want, name) = line
            .split_once("  ")
            .ok_or_else(|| bad("not DIGEST  NAME".into()))?;
        let bytes = std::fs::read(dir.join(name)).map_err(|e| bad(format!("{name}: {e}")))?;
        let got = seatmeter_core::hex(&Sha256::digest(&bytes));
        if got != want {
            return Err(bad(format!("{name} has SHA-256 {got}, not {want}")));
        }
        checked += 1;
    }
    Ok(checked)
}

/// Each tenant's fair peak of each measure: the level between the 10-minute maxima, from
/// the session state machine run again over the month's raw events.
struct FairPeaks {
    cal: Calendar,
    levels: TenantLevels,
    window: i64,
    tenant_ids: HashMap<String, u32>,
    measures: usize,
}

impl FairPeaks {
    /// The levels of the month, when the billing bills fair peaks.
    fn of_month(
        store: &mut dyn Store,
        config: &Config,
        (first, last): (Day, Day),
        tenant_ids: HashMap<String, u32>,
        measures: usize,
    ) -> Result<Option<FairPeaks>, ExportError> {
        let Some(m) = config.billing.fair_peak_minutes else {
            return Ok(None);
        };
        Ok(Some(FairPeaks {
            cal: Calendar::new(config.timezone),
            levels: Rollup::new(store, config).tenant_levels(first, last)?,
            window: i64::from(m) * 60 * 1_000_000_000,
            tenant_ids,
            measures,
        }))
    }

    /// Each measure's fair peak for tenant `t` over the days `a..=b`.
    fn of(&self, t: &str, a: Day, b: Day) -> Vec<u32> {
        let id = self.tenant_ids.get(t);
        let (from, to) = (self.cal.slots(a).starts[0], self.cal.slots(b).end);
        (0..self.measures)
            .map(|m| {
                id.and_then(|id| self.levels.get(&(*id, m as u16)))
                    .map_or(0, |p| fair_peak(p, from, to, self.window))
            })
            .collect()
    }
}

/// The tenants of an export: their store ids (tenants with data), the entitlement files,
/// the names to bill, and what to say about tenants no entitlement file provisions.
type Tenants = (
    HashMap<String, u32>,
    Entitlements,
    BTreeSet<String>,
    Vec<String>,
);

/// The tenants to bill: every tenant with data (with its store id, for the fair peak),
/// and every tenant the entitlement files provision; or only `only`.
fn tenants_to_bill(
    store: &mut dyn Store,
    config: &Config,
    only: Option<&str>,
) -> Result<Tenants, ExportError> {
    let tenant_ids: HashMap<String, u32> = store
        .dimensions()?
        .tenants
        .into_iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| (t, i as u32))
        .collect();
    let ents = crate::entitlement::xml::load_all(&config.entitlement_files, &config.item_names())
        .map_err(|e| ExportError::Request(e.to_string()))?;
    let mut tenants: BTreeSet<String> = tenant_ids.keys().cloned().collect();
    // Provisioned: given a grant (the tenant report names the same tenants).
    let provisioned: BTreeSet<String> = ents
        .provisioned_tenants()
        .into_iter()
        .map(String::from)
        .collect();
    tenants.extend(provisioned.iter().cloned());
    if let Some(t) = only {
        if !tenants.contains(t) {
            return Err(ExportError::Request(format!(
                "no tenant {t:?} in the store or the entitlement files"
            )));
        }
        tenants.retain(|x| x == t);
    }
    // A tenant name seen in events that no entitlement file provisions (a new customer
    // not provisioned yet, or a typo at the source) is named, and billed or skipped as
    // [billing] unprovisioned says.
    let mut notes = Vec::new();
    if !provisioned.is_empty() {
        let skip = config.billing.unprovisioned == Unprovisioned::Skip;
        let strays: Vec<String> = tenants
            .iter()
            .filter(|t| !provisioned.contains(*t))
            .cloned()
            .collect();
        for t in &strays {
            notes.push(if skip {
                format!("tenant {t:?} has data but no entitlement file provisions it: not billed ([billing] unprovisioned = \"skip\")")
            } else {
                format!("tenant {t:?} has data but no entitlement file provisions it: billed like any tenant (set [billing] unprovisioned = \"skip\" to leave such tenants out)")
            });
            if skip {
                tenants.remove(t);
            }
        }
    }
    Ok((tenant_ids, ents, tenants, notes))
}

/// Per measure, the bundles (measure indices) that replace it in `from..=to`: bundles with
/// a price in `prices` whose definition in force on a day of the period includes the item
/// and has `replaces_items` (docs/BILLING.md, rule 2).
fn replaced_by(config: &Config, prices: &[Option<i64>], from: Day, to: Day) -> Vec<Vec<usize>> {
    let items = config.items.len();
    let mut out = vec![Vec::new(); items + config.bundles.len()];
    for (bi, b) in config.bundles.iter().enumerate() {
        if prices.get(items + bi).copied().flatten().is_none() {
            continue;
        }
        let include = (from..=to)
            .filter_map(|d| b.in_force(date_of_day(d)))
            .filter(|d| d.replaces_items)
            .fold(0u128, |acc, d| acc | d.include);
        for (ii, by) in out.iter_mut().enumerate().take(items) {
            if include & (1u128 << ii) != 0 {
                by.push(items + bi);
            }
        }
    }
    out
}

/// A tenant's minimum for `from..=to`: for a provisioned tenant, the share of the days
/// inside its contract, in minor units rounded half up (docs/BILLING.md, rule 1); for a
/// tenant without grants, the whole minimum.
fn minimum_of(minimum: i64, ents: &Entitlements, tenant: &str, from: Day, to: Day) -> i64 {
    if !ents.provisioned(tenant) {
        return minimum;
    }
    let inside = (from..=to)
        .filter(|&d| ents.in_contract(tenant, date_of_day(d)))
        .count() as i64;
    prorate(minimum, inside, i64::from(to - from + 1))
}

/// `amount × part / whole`, rounded half up (amounts are never negative).
fn prorate(amount: i64, part: i64, whole: i64) -> i64 {
    let (a, p, w) = (i128::from(amount), i128::from(part), i128::from(whole));
    ((2 * a * p + w) / (2 * w)) as i64
}

/// What makes the month's tenant reports incomplete (see `Reporter::gaps`).
fn month_gaps(
    store: &mut dyn Store,
    config: &Config,
    first: Day,
    last: Day,
) -> Result<Vec<String>, ExportError> {
    let req = Request {
        scope: ScopeKind::Tenant,
        id: None,
        granularity: Granularity::Monthly,
        from: first,
        to: last,
    };
    Ok(Reporter::new(store, config)?.gaps(&req)?.to_vec())
}

/// The restatements of the month's days for the tenants billed (docs/SEMANTICS.md,
/// "Restatements"), written as `seatmeter-billing-MONTH-restated.csv` when there are any:
/// a bill made before them must be reissued. Returns what the export says of them.
fn restated(
    store: &mut dyn Store,
    config: &Config,
    label: &str,
    (first, last): (Day, Day),
    tenants: &BTreeSet<String>,
    files: &mut Files<'_>,
) -> Result<Option<String>, ExportError> {
    let dims = store.dimensions()?;
    let cal = Calendar::new(config.timezone);
    let measures = config.measures();
    let billed: HashSet<&str> = tenants.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = store
        .restatements(first, last)?
        .into_iter()
        .filter(|r| r.scope.kind == ScopeKind::Tenant)
        .filter_map(|r| {
            let tenant = dims.tenants.get(r.scope.id as usize)?;
            billed.contains(tenant.as_str()).then(|| {
                vec![
                    Calendar::date_text(r.day),
                    tenant.clone(),
                    measures
                        .get(r.item as usize)
                        .map_or_else(|| "?".into(), |m| m.name.clone()),
                    r.old_peak.to_string(),
                    r.new_peak.to_string(),
                    r.old_enabled.to_string(),
                    r.new_enabled.to_string(),
                    cal.format(r.at),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let name = format!("seatmeter-billing-{label}-restated.csv");
    let header = [
        "day",
        "tenant",
        "item",
        "old_peak",
        "new_peak",
        "old_enabled",
        "new_enabled",
        "restated_at",
    ];
    let note = format!(
        "{} value(s) of {label}'s days changed after they were first rolled up (late data): bills made before show the old values and must be reissued; {name} lists them",
        rows.len()
    );
    files.write(name, csv_bytes(&header, &rows)?)?;
    Ok(Some(note))
}

/// The summary: each tenant's amount for the month, and the total.
fn write_summary(
    files: &mut Files<'_>,
    billing: &crate::config::Billing,
    label: &str,
    mut summary: Vec<Vec<String>>,
    total: i64,
) -> Result<(), ExportError> {
    if !billing.has_prices() {
        // Quantities only: no amount to sum, and none that reads as a bill of 0.00.
        for row in &mut summary {
            row[2].clear();
        }
    }
    summary.push(vec![
        label.to_string(),
        "total".into(),
        if billing.has_prices() {
            format_money(total, billing.minor_units)
        } else {
            String::new()
        },
        billing.currency.clone(),
    ]);
    files.write(
        format!("seatmeter-billing-{label}-summary.csv"),
        csv_bytes(&["period", "tenant", "amount", "currency"], &summary)?,
    )
}

/// An export without any price is refused, so that a file of 0.00 is never taken for a
/// bill, unless asked for quantities only: then the note that says so.
fn unpriced(config: &Config, options: &ExportOptions) -> Result<Option<String>, ExportError> {
    if config.billing.has_prices() {
        return Ok(None);
    }
    if !options.quantities_only {
        return Err(ExportError::NoPrices {
            config: config.path.display().to_string(),
        });
    }
    Ok(Some(
        "no prices are configured: the files hold quantities only, their amounts are empty".into(),
    ))
}

/// Writes the month's files into `dir`. `month` is its first day.
pub fn export(
    store: &mut dyn Store,
    config: &Config,
    month: NaiveDate,
    only: Option<&str>,
    dir: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Exported, ExportError> {
    let billing = &config.billing;
    let first = day_of_date(month);
    let last = day_of_date(
        month
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| ExportError::Request("month out of range".into()))?,
    ) - 1;
    let label = month.format("%Y-%m").to_string();
    // A bill is made of the month's tenant reports: it is refused when their numbers
    // would be incomplete, unless asked for anyway (then a file of the export says so).
    let gaps = month_gaps(store, config, first, last)?;
    if !gaps.is_empty() && !options.allow_incomplete {
        return Err(ExportError::Incomplete { gaps });
    }
    let unpriced = unpriced(config, options)?;
    let (tenant_ids, ents, tenants, notes) = tenants_to_bill(store, config, only)?;
    // Daily files for the days that are over (all of a past month).
    let today = day_of_date(
        chrono::Utc::now()
            .with_timezone(&config.timezone)
            .date_naive(),
    );
    let upto = last.min(today - 1);
    let mut warnings: BTreeSet<String> = notes.into_iter().chain(unpriced).collect();
    if today <= last {
        warnings.insert(format!(
            "{label} is not over: its monthly files cover the month so far, daily files the days before today"
        ));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("creating {}: {e}", dir.display())))?;
    let mut files = Files {
        dir,
        manifest: Vec::new(),
        written: Vec::new(),
        names: HashSet::new(),
    };
    let measures = measures_of(config, ScopeKind::Tenant);
    let fair = FairPeaks::of_month(store, config, (first, last), tenant_ids, measures.len())?;
    let mut summary = Vec::new();
    let mut total = 0i64;
    // The month, then each day that is over: one tenant report each, for every tenant.
    let days: Vec<(String, Day)> = (first..=upto)
        .map(|d| (Calendar::date_text(d), d))
        .collect();
    let periods = std::iter::once((label.clone(), first, last, Granularity::Monthly))
        .chain(days.into_iter().map(|(l, d)| (l, d, d, Granularity::Daily)));
    for (period_label, from, to, granularity) in periods {
        progress(&period_label);
        let monthly = granularity == Granularity::Monthly;
        let measured = measure_period(store, config, &measures, from, to, granularity)?;
        let prices = if monthly {
            &billing.prices
        } else {
            &billing.daily_prices
        };
        let replaced_by = replaced_by(config, prices, from, to);
        for t in &tenants {
            // The tenant report has every tenant billed (rule 4); zeros all the same.
            let values = measured
                .get(t)
                .cloned()
                .unwrap_or_else(|| vec![ItemValues::default(); measures.len()]);
            let fair_peaks = fair.as_ref().map(|f| f.of(t, from, to));
            let period = Period {
                label: &period_label,
                prices,
                minimum: if monthly {
                    minimum_of(billing.minimum, &ents, t, from, to)
                } else {
                    0
                },
                fair: fair_peaks.as_deref(),
                replaced_by: &replaced_by,
                overage: monthly.then_some(billing.overage_prices.as_slice()),
            };
            let b = bill(&measures, billing, t, &values, &period);
            if monthly {
                total += b.amount;
                summary.push(vec![
                    label.clone(),
                    t.clone(),
                    format_money(b.amount, billing.minor_units),
                    billing.currency.clone(),
                ]);
            }
            files.write(tenant_file(&period_label, t), csv_bytes(&HEADER, &b.rows)?)?;
        }
    }
    write_summary(&mut files, billing, &label, summary, total)?;
    if let Some(note) = restated(store, config, &label, (first, last), &tenants, &mut files)? {
        warnings.insert(note);
    }
    files.incomplete(&label, &gaps)?;
    let complete = gaps.is_empty();
    warnings.extend(gaps);
    Ok(Exported {
        complete,
        files: files.finish(&label)?,
        tenants: tenants.len(),
        total,
        warnings: warnings.into_iter().collect(),
    })
}

#[cfg(test)]
#[path = "billing_tests.rs"]
mod tests;
