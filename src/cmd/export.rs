//! `seatmeter export billing`: per-tenant billing files for a month (docs/BILLING.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seatmeter::config::billing::format_money;
use seatmeter::export::billing;

use super::Global;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Per-tenant billing files for a month and each of its days: peak concurrent seats
    /// (and when), enabled seats, entitlement, billable quantity by license model, unit
    /// price and amount from [billing] in the configuration; a summary across tenants and
    /// a SHA-256 manifest, written last and verified. Files are written atomically, named
    /// seatmeter-billing-PERIOD-tenant-TENANT.csv, distinct for distinct tenants also on
    /// case-insensitive file systems (docs/BILLING.md).
    ///
    /// Example: seatmeter export billing --month 2026-10 --out /srv/billing
    Billing {
        /// The month (YYYY-MM), in the site's time zone.
        #[arg(long)]
        month: String,
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// The folder to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Export even when the month's numbers are incomplete (a file of the export,
        /// seatmeter-billing-MONTH-INCOMPLETE.txt, then lists what is missing); without it
        /// such an export is refused. An incomplete export exits with status 3.
        #[arg(long)]
        allow_incomplete: bool,
        /// Write the files although [billing] configures no price: quantities (peaks,
        /// enabled seats, billable quantities) with empty amounts. Without it, an export
        /// with no price is refused, so that a file of 0.00 is never taken for a bill.
        #[arg(long)]
        quantities_only: bool,
    },
}

pub fn run(g: &Global, cmd: Command) -> Result<ExitCode> {
    let Command::Billing {
        month,
        tenant,
        out,
        allow_incomplete,
        quantities_only,
    } = cmd;
    let config = g.load()?;
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .with_context(|| format!("--month {month:?}: write YYYY-MM"))?;
    let mut store = seatmeter_store::open(&config.store)?;
    let done = billing::export(
        store.as_mut(),
        &config,
        first,
        tenant.as_deref(),
        &out,
        &billing::ExportOptions {
            allow_incomplete,
            quantities_only,
        },
        &mut |t| eprintln!("billing {t}"),
    )?;
    for w in &done.warnings {
        eprintln!("warning: {w}");
    }
    let total = if config.billing.has_prices() {
        format!(
            "total {} {}",
            format_money(done.total, config.billing.minor_units),
            config.billing.currency
        )
    } else {
        "quantities only, no prices configured".into()
    };
    println!(
        "wrote {} file(s) for {} tenant(s) to {}: {total}",
        done.files.len(),
        done.tenants,
        out.display(),
    );
    if !done.complete {
        eprintln!("the export is incomplete (exit status 3): see the warnings above");
        return Ok(super::incomplete());
    }
    Ok(ExitCode::SUCCESS)
}
