//! `seatmeter showback`: a month's license cost per cost center (docs/FINOPS.md).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use seatmeter::finops::money;
use seatmeter_core::calendar;

use super::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The month (YYYY-MM).
    #[arg(long)]
    pub month: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: super::recommend::ListFormat,
    /// Write it even when the month's data is incomplete (it then says so, exit status 3).
    #[arg(long)]
    pub allow_incomplete: bool,
}

pub fn run(g: &Global, args: Args) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    let first = calendar::parse_date(&format!("{}-01", args.month))
        .map_err(|_| anyhow::anyhow!("--month {:?}: expected a month as YYYY-MM", args.month))?;
    let (from, to) = calendar::month_bounds(first);
    let (s, gaps) = seatmeter::finops::showback::showback(store.as_mut(), &config, from, to)?;
    if !gaps.is_empty() && !args.allow_incomplete {
        return Err(seatmeter::report::ReportError::Incomplete { gaps }.into());
    }
    let mut o = std::io::stdout().lock();
    write(&mut o, &s, &gaps, &args.month, args.format, &config)?;
    if !gaps.is_empty() {
        return Ok(super::incomplete());
    }
    Ok(ExitCode::SUCCESS)
}

/// A showback in any format.
pub(crate) fn write(
    o: &mut dyn Write,
    s: &seatmeter_finops::Showback,
    gaps: &[String],
    month: &str,
    format: super::recommend::ListFormat,
    config: &seatmeter::config::Config,
) -> Result<()> {
    let minor = config.billing.minor_units;
    let cur = &config.billing.currency;
    match format {
        super::recommend::ListFormat::Json => {
            let doc = serde_json::json!({
                "month": month, "currency": cur, "minor_units": minor,
                "complete": gaps.is_empty(), "gaps": gaps,
                "lines": s.lines, "total": s.total,
            });
            writeln!(o, "{doc:#}")?;
        }
        super::recommend::ListFormat::Csv => {
            let mut w = csv::Writer::from_writer(o);
            w.write_record([
                "month",
                "cost_center",
                "unallocated",
                "agents",
                "minutes",
                "direct",
                "shared",
                "total",
                "currency",
            ])?;
            for l in &s.lines {
                w.write_record([
                    month.to_string(),
                    l.center.clone(),
                    l.unallocated.to_string(),
                    l.agents.to_string(),
                    l.minutes.to_string(),
                    money(l.direct, minor),
                    money(l.shared, minor),
                    money(l.total, minor),
                    cur.clone(),
                ])?;
            }
            w.flush()?;
        }
        super::recommend::ListFormat::Table => {
            for g in gaps {
                writeln!(o, "INCOMPLETE REPORT: {g}")?;
            }
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header([
                "Cost center",
                "Agents",
                "Minutes",
                "Direct",
                "Shared",
                "Total",
            ]);
            for l in &s.lines {
                let name = match l.unallocated {
                    true => format!("{} (no cost center: reconcile)", l.center),
                    false => l.center.clone(),
                };
                t.add_row([
                    name,
                    l.agents.to_string(),
                    l.minutes.to_string(),
                    money(l.direct, minor),
                    money(l.shared, minor),
                    money(l.total, minor),
                ]);
            }
            for i in 1..6 {
                if let Some(c) = t.column_mut(i) {
                    c.set_cell_alignment(comfy_table::CellAlignment::Right);
                }
            }
            writeln!(
                o,
                "Showback {month} ({cur})\n{t}\nTotal: {} {cur}",
                money(s.total, minor)
            )?;
        }
    }
    Ok(())
}
