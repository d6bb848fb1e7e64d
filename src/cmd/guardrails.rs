//! `seatmeter guardrails`: baseline breaches, forecasts and expiry warnings as rows (CSV,
//! JSON or a table), the same the PDF reports' guardrails page shows (docs/GUARDRAILS.md).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use seatmeter::config::Config;
use seatmeter::guard::pdf::{breach_rows, forecast_rows};
use seatmeter::report::Request;
use seatmeter_core::{Calendar, Granularity, ScopeKind, calendar};

use super::Global;

pub const EXAMPLES: &str = "\
Examples:
  seatmeter guardrails breaches --scope system --from 2026-10-01 --to 2026-10-31
  seatmeter guardrails breaches --scope tenant --id acme --from 2026-10-01 --to 2026-10-31 --format json
  seatmeter guardrails forecast --scope tenant --format table     as of the last complete day
  seatmeter guardrails expiring                                   license lines and grants expiring soon";

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowFormat {
    Csv,
    Json,
    Table,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardScope {
    System,
    Tenant,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Days above their 30-day baseline band, or outside the utilization target band.
    Breaches {
        /// The system, or each tenant (one with --id).
        #[arg(long, value_enum, default_value = "system")]
        scope: GuardScope,
        /// One tenant (with --scope tenant).
        #[arg(long)]
        id: Option<String>,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD; default: --from).
        #[arg(long)]
        to: Option<String>,
        /// csv (one row per line, with a header), json (an array) or table.
        #[arg(long, value_enum, default_value = "csv")]
        format: RowFormat,
    },
    /// The expected peak in the horizon and the day each item is expected to exceed its
    /// entitlement, with their intervals.
    Forecast {
        /// The system, or each tenant (one with --id).
        #[arg(long, value_enum, default_value = "system")]
        scope: GuardScope,
        /// One tenant (with --scope tenant).
        #[arg(long)]
        id: Option<String>,
        /// The last day of data used (YYYY-MM-DD; default: the last complete day).
        #[arg(long)]
        as_of: Option<String>,
        /// csv (one row per line, with a header), json (an array) or table.
        #[arg(long, value_enum, default_value = "csv")]
        format: RowFormat,
    },
    /// License lines and entitlement grants that expire within the warning thresholds.
    Expiring {
        /// The day to count from (YYYY-MM-DD; default: today in the site's time zone).
        #[arg(long)]
        date: Option<String>,
        /// table (default), csv or json.
        #[arg(long, value_enum, default_value = "table")]
        format: RowFormat,
    },
}

fn request(scope: GuardScope, id: Option<String>, from: i32, to: i32) -> Request {
    Request {
        scope: match scope {
            GuardScope::System => ScopeKind::System,
            GuardScope::Tenant => ScopeKind::Tenant,
        },
        id,
        granularity: Granularity::Daily,
        from,
        to,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

pub fn run(g: &Global, cmd: Command) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    let out = &mut std::io::stdout().lock();
    match cmd {
        Command::Breaches {
            scope,
            id,
            from,
            to,
            format,
        } => {
            let from = calendar::parse_date(&from).map_err(anyhow::Error::msg)?;
            let to = match to {
                Some(t) => calendar::parse_date(&t).map_err(anyhow::Error::msg)?,
                None => from,
            };
            let req = request(scope, id, from, to);
            req.check()?;
            let rows = breach_rows(store.as_mut(), &config, &req)?;
            write_rows(out, format, &rows)?;
        }
        Command::Forecast {
            scope,
            id,
            as_of,
            format,
        } => {
            let as_of = match as_of {
                Some(d) => calendar::parse_date(&d).map_err(anyhow::Error::msg)?,
                None => {
                    match seatmeter::guard::last_complete_day(store.as_mut(), &config, now())? {
                        Some(d) => d,
                        None => {
                            anyhow::bail!("nothing is rolled up yet: run `seatmeter rollup` first")
                        }
                    }
                }
            };
            let req = request(scope, id, as_of, as_of);
            let rows = forecast_rows(store.as_mut(), &config, &req, as_of)?;
            write_rows(out, format, &rows)?;
        }
        Command::Expiring { date, format } => expiring(&config, date, format, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct ExpiringRow {
    feature: String,
    vendor: String,
    tenant: Option<String>,
    seats: Option<u64>,
    last_day: String,
    days_left: i32,
    threshold: Option<u32>,
    expired: bool,
    origin: String,
}

fn expiring(
    config: &Config,
    date: Option<String>,
    format: RowFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let today = match date {
        Some(d) => calendar::parse_date(&d).map_err(anyhow::Error::msg)?,
        None => Calendar::new(config.timezone).day_of(now()),
    };
    let (list, errors) = seatmeter::guard::expiry::expiring(config, today, &config.guard);
    for e in &errors {
        eprintln!("warning: {e}");
    }
    if format == RowFormat::Table {
        if list.is_empty() {
            writeln!(
                out,
                "nothing expires within {} days of {}",
                config.guard.expiry_warn_days.first().copied().unwrap_or(0),
                Calendar::date_text(today)
            )?;
        }
        for e in &list {
            writeln!(out, "{}", e.sentence())?;
        }
        return Ok(());
    }
    let rows: Vec<ExpiringRow> = list
        .iter()
        .map(|e| ExpiringRow {
            feature: e.feature.clone(),
            vendor: e.vendor.clone(),
            tenant: e.tenant.clone(),
            seats: e.seats,
            last_day: e.last_day().to_string(),
            days_left: e.warning.days_left,
            threshold: e.warning.threshold,
            expired: e.warning.expired,
            origin: e.origin.clone(),
        })
        .collect();
    write_rows(out, format, &rows)
}

/// Rows as CSV (a header from the field names), JSON (an array of objects) or a table.
fn write_rows<T: serde::Serialize>(
    out: &mut dyn Write,
    format: RowFormat,
    rows: &[T],
) -> Result<()> {
    match format {
        RowFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)?;
        }
        RowFormat::Csv | RowFormat::Table => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if format == RowFormat::Table {
                    b'\t'
                } else {
                    b','
                })
                .from_writer(&mut *out);
            for r in rows {
                w.serialize(r)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}
