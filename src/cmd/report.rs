//! `seatmeter report`: a compliance report from the stored rollups, in any format.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use seatmeter::report::Request;
use seatmeter::report::output::{self, Limits, Options};
use seatmeter_core::{Granularity, ScopeKind, calendar};
use seatmeter_reports::Format;

use super::Global;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Csv,
    Json,
    Table,
    /// A compliance document for auditors (cover, entitlement, charts, every row, anomalies).
    Pdf,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Table => Format::Table,
            FormatArg::Pdf => Format::Pdf,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeArg {
    System,
    Tenant,
    Group,
    /// The groups of the places agents log in at (`<Place id=".." groups=".."/>` in the
    /// snapshots; docs/SEMANTICS.md, section 11.1); `--id acme` or `--id acme/Floor2`.
    PlaceGroup,
    /// One row per agent: groups, tier, tags, enabled items, last login and last use of
    /// each item, days active and hours logged in the window (docs/FINOPS.md).
    Agent,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GranularityArg {
    #[value(name = "10min")]
    TenMin,
    Hourly,
    Daily,
    Weekly,
    Monthly,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The whole system, each tenant, each agent group, each place group, or each agent.
    #[arg(long, value_enum)]
    pub scope: ScopeArg,
    /// Narrow to one tenant (`--scope tenant`, `--scope agent`), or to one tenant's groups
    /// or one group (`--scope group --id acme` or `--id acme/Support`; the same for
    /// `--scope place-group`).
    #[arg(long)]
    pub id: Option<String>,
    /// Period length. Weekly and monthly periods are always whole weeks (ISO weeks, or from
    /// the configuration's `week_start` day) / months.
    /// Required, except for `--scope agent` (one row per agent for the whole window).
    #[arg(long, value_enum, required_if_eq_any([("scope", "system"), ("scope", "tenant"), ("scope", "group"), ("scope", "place-group")]))]
    pub granularity: Option<GranularityArg>,
    /// First local date (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last local date, inclusive (default: --from).
    #[arg(long)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Write to this file (atomically) instead of standard output. PDF needs it unless
    /// standard output is redirected.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the report however large it is (without it, a report of more than 10,000,000
    /// rows, 1,000,000 as a table or 100,000 as a PDF is refused).
    #[arg(long)]
    pub force: bool,
    /// Write the report even when its numbers are incomplete (license or entitlement files
    /// that cannot be read, days not rolled up, collectors behind): it then says so where
    /// the numbers are (first page of the PDF, first lines of the table, a side file
    /// FILE.incomplete.json beside --out) and exits with status 3. Without it such a
    /// report is refused (status 1).
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Add a `peak_at` column (CSV) or key (JSON) after the contract's: the first instant
    /// of the period at which its peak was reached, to the second, empty when the peak is 0.
    /// Tables, PDFs and the console always show it.
    #[arg(long)]
    pub peak_at: bool,
}

pub fn run(g: &Global, args: Args) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    if args.scope == ScopeArg::Agent {
        return agents(&config, store.as_mut(), &args);
    }
    let req = request(&args)?;
    let format = Format::from(args.format);
    let options = Options {
        limits: if args.force {
            Limits::NONE
        } else {
            Limits::DEFAULT
        },
        allow_incomplete: args.allow_incomplete,
        guardrails: Some(seatmeter::guard::pdf::guardrails_page),
        extra: seatmeter_reports::Extra {
            peak_at: args.peak_at,
        },
    };
    let outcome = output::report_to(
        &config,
        store.as_mut(),
        &req,
        format,
        args.out.as_deref(),
        options,
    )?;
    for w in &outcome.gaps {
        eprintln!("warning: incomplete: {w}");
    }
    if let Some(out) = &args.out {
        eprintln!("wrote {} row(s) to {}", outcome.rows, out.display());
        if !outcome.gaps.is_empty() {
            eprintln!(
                "the report is incomplete: its gaps are in {}",
                output::gaps_file(out).display()
            );
        }
    }
    if !outcome.over_use.is_empty() && format != Format::Table {
        eprintln!(
            "over-use: {} instance(s) (see the report)",
            outcome.over_use.len()
        );
    }
    if outcome.restated_total > 0 {
        eprintln!(
            "note: {} value(s) of this report's days changed after they were first rolled up (late data); reports and bills made before show the old values:",
            outcome.restated_total
        );
        for r in outcome.restated.iter().take(10) {
            eprintln!("  {r}");
        }
    }
    if !outcome.gaps.is_empty() {
        return Ok(super::incomplete());
    }
    Ok(ExitCode::SUCCESS)
}

fn dates(args: &Args) -> Result<(calendar::Day, calendar::Day)> {
    let from = calendar::parse_date(&args.from).map_err(anyhow::Error::msg)?;
    let to = match &args.to {
        Some(t) => calendar::parse_date(t).map_err(anyhow::Error::msg)?,
        None => from,
    };
    Ok((from, to))
}

/// `--scope agent`: the agent report, in any format; refused when incomplete unless
/// `--allow-incomplete` (then it says so, and exits with status 3).
fn agents(
    config: &seatmeter::config::Config,
    store: &mut dyn seatmeter_store::Store,
    args: &Args,
) -> Result<ExitCode> {
    use seatmeter::report::agents::{AgentRequest, agent_report};
    let (from, to) = dates(args)?;
    let req = AgentRequest {
        tenant: args.id.clone(),
        from,
        to,
    };
    let report = agent_report(store, config, &req)?;
    if !report.gaps.is_empty() && !args.allow_incomplete {
        return Err(seatmeter::report::ReportError::Incomplete {
            gaps: report.gaps.clone(),
        }
        .into());
    }
    let cal = seatmeter_core::Calendar::new(config.timezone);
    let mut bytes = Vec::new();
    match args.format {
        FormatArg::Csv => report.write_csv(&mut bytes, &cal)?,
        FormatArg::Json => report.write_json(&mut bytes, &cal)?,
        FormatArg::Table => report.write_table(&mut bytes, &cal)?,
        FormatArg::Pdf => {
            if args.out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                anyhow::bail!(
                    "a PDF report is not for the terminal: add --out FILE.pdf (or redirect standard output)"
                );
            }
            bytes = report.pdf(config, &cal)?;
        }
    }
    match &args.out {
        Some(out) => {
            seatmeter_core::fs::write_atomically(out, &bytes)?;
            eprintln!("wrote {} agent(s) to {}", report.rows.len(), out.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)?,
    }
    for g in &report.gaps {
        eprintln!("warning: incomplete: {g}");
    }
    if !report.gaps.is_empty() {
        return Ok(super::incomplete());
    }
    Ok(ExitCode::SUCCESS)
}

fn request(args: &Args) -> Result<Request> {
    let (from, to) = dates(args)?;
    let Some(granularity) = args.granularity else {
        anyhow::bail!("--granularity is required for this scope");
    };
    Ok(Request {
        scope: match args.scope {
            ScopeArg::System => ScopeKind::System,
            ScopeArg::Tenant => ScopeKind::Tenant,
            ScopeArg::Group | ScopeArg::Agent => ScopeKind::Group,
            ScopeArg::PlaceGroup => ScopeKind::PlaceGroup,
        },
        id: args.id.clone(),
        granularity: match granularity {
            GranularityArg::TenMin => Granularity::TenMin,
            GranularityArg::Hourly => Granularity::Hourly,
            GranularityArg::Daily => Granularity::Daily,
            GranularityArg::Weekly => Granularity::Weekly,
            GranularityArg::Monthly => Granularity::Monthly,
        },
        from,
        to,
    })
}
