//! `seatmeter recommend`: right-sizing proposals, decided by people, on the record
//! (docs/FINOPS.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::ValueEnum;
use seatmeter::finops::proposals::{self, HEADER, cells};
use seatmeter::finops::{Analysis, money};
use seatmeter_core::{Calendar, calendar};
use seatmeter_store::reco::{RecStatus, Recommendation, verify_chain};

use super::Global;

pub const EXAMPLES: &str = "\
Examples:
  seatmeter recommend propose                       the rules on the data up to the last rolled-up day
  seatmeter recommend list --format table
  seatmeter recommend approve R-3f2a9c01d4e7 --by \"J. Ops\"
  seatmeter recommend reject R-77b1e0c2aa90 --by \"J. Ops\" --reason \"seasonal team, back in March\"
  seatmeter recommend export --approved --out changes.csv
  seatmeter recommend log --out decisions.csv       the decision log with its SHA-256 chain, verified";

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Run the rules (inactive users, downgrades, renewal sizes) on the stored data and
    /// store what they propose: new recommendations are added, those no longer made are
    /// superseded, decided ones are left as decided. Prints the proposals and savings.
    Propose(ProposeArgs),
    /// List the recommendations, newest data first.
    List(ListArgs),
    /// Approve a proposed recommendation (an entry in the decision log).
    Approve(DecideArgs),
    /// Reject a proposed recommendation; a reason is required and kept in the log. It is
    /// not proposed again until its data changes or `repropose_days` pass.
    Reject(DecideArgs),
    /// Write the approved changes as CSV for the provisioning tool (seatmeter never changes
    /// the platform itself).
    Export(ExportArgs),
    /// Write the decision log (who, when, what, why) with its SHA-256 chain, after
    /// verifying it; exits 1 if an entry is missing or was changed.
    Log(LogArgs),
}

#[derive(clap::Args, Debug)]
pub struct ProposeArgs {
    /// The last day of data the rules look at (YYYY-MM-DD; default: the last rolled-up day).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Propose even when the data is incomplete (days not rolled up, collectors behind).
    #[arg(long)]
    pub allow_incomplete: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Csv,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusArg {
    Proposed,
    Approved,
    Rejected,
    Superseded,
    All,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Which recommendations.
    #[arg(long, value_enum, default_value = "proposed")]
    pub status: StatusArg,
    /// Only this tenant's.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(clap::Args, Debug)]
pub struct DecideArgs {
    /// The recommendation's id (`recommend list` shows them).
    pub id: String,
    /// Who decides (kept in the log).
    #[arg(long)]
    pub by: String,
    /// Why (required to reject; kept in the log).
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Export the approved changes (the only export there is; required so the command
    /// says what it writes).
    #[arg(long, required = true)]
    pub approved: bool,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct LogArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ListFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(g: &Global, cmd: Command) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    let minor = config.billing.minor_units;
    let now = seatmeter_core::time::now_nanos();
    match cmd {
        Command::Propose(a) => {
            let as_of = match &a.as_of {
                Some(d) => calendar::parse_date(d).map_err(anyhow::Error::msg)?,
                None => match proposals::default_as_of(store.as_mut())? {
                    Some(d) => d,
                    None => bail!(
                        "nothing is rolled up yet: run `seatmeter collect --once` and `seatmeter rollup` first"
                    ),
                },
            };
            let analysis = seatmeter::finops::analyse(store.as_mut(), &config, as_of, None)?;
            if !analysis.gaps.is_empty() && !a.allow_incomplete {
                return Err(seatmeter::report::ReportError::Incomplete {
                    gaps: analysis.gaps,
                }
                .into());
            }
            let counts = proposals::store_proposals(store.as_mut(), &config, &analysis, now)?;
            print_analysis(&analysis, &config)?;
            println!(
                "stored: {} new, {} refreshed, {} proposed again, {} superseded, {} already decided",
                counts.new,
                counts.refreshed,
                counts.reproposed,
                counts.superseded,
                counts.kept_decided
            );
            if !analysis.gaps.is_empty() {
                for g in &analysis.gaps {
                    eprintln!("warning: incomplete: {g}");
                }
                return Ok(super::incomplete());
            }
        }
        Command::List(a) => {
            let recs: Vec<Recommendation> = store
                .recommendations()?
                .into_iter()
                .filter(|r| match a.status {
                    StatusArg::All => true,
                    StatusArg::Proposed => r.status == RecStatus::Proposed,
                    StatusArg::Approved => r.status == RecStatus::Approved,
                    StatusArg::Rejected => r.status == RecStatus::Rejected,
                    StatusArg::Superseded => r.status == RecStatus::Superseded,
                })
                .filter(|r| a.tenant.as_deref().is_none_or(|t| r.tenant == t))
                .collect();
            let mut out = std::io::stdout().lock();
            write_recs(&mut out, &recs, a.format, minor)?;
        }
        Command::Approve(a) => {
            let e = store.decide(&a.id, true, &a.by, &a.reason, now)?;
            println!(
                "{} approved by {} (decision {}): {}",
                a.id, e.by, e.seq, e.what
            );
        }
        Command::Reject(a) => {
            let e = store.decide(&a.id, false, &a.by, &a.reason, now)?;
            println!(
                "{} rejected by {} (decision {}): {}",
                a.id, e.by, e.seq, e.what
            );
        }
        Command::Export(a) => export_approved(store.as_mut(), &config, &a)?,
        Command::Log(a) => log(store.as_mut(), &config, &a)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `recommend export --approved`: the approved changes as CSV, with who approved them.
fn export_approved(
    store: &mut dyn seatmeter_store::Store,
    config: &seatmeter::config::Config,
    a: &ExportArgs,
) -> Result<()> {
    let minor = config.billing.minor_units;
    let _ = a.approved;
    let cal = Calendar::new(config.timezone);
    let decided: std::collections::HashMap<String, seatmeter_store::reco::Decision> = store
        .decisions()?
        .into_iter()
        .map(|d| (d.recommendation.clone(), d))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "kind",
        "tenant",
        "agent",
        "item",
        "change",
        "monthly_saving",
        "approved_by",
        "approved_at",
        "reason",
    ])?;
    for r in store
        .recommendations()?
        .iter()
        .filter(|r| r.status == RecStatus::Approved)
    {
        let d = decided.get(&r.id);
        w.write_record([
            r.id.clone(),
            r.kind.clone(),
            r.tenant.clone(),
            r.agent.clone(),
            r.item.clone(),
            r.summary.clone(),
            money(r.saving, minor),
            d.map(|d| d.by.clone()).unwrap_or_default(),
            d.map(|d| cal.format(d.at)).unwrap_or_default(),
            d.map(|d| d.reason.clone()).unwrap_or_default(),
        ])?;
    }
    write_out(a.out.as_ref(), &w.into_inner()?)?;
    Ok(())
}

/// `recommend log`: the decision log with its chain, verified.
fn log(
    store: &mut dyn seatmeter_store::Store,
    config: &seatmeter::config::Config,
    a: &LogArgs,
) -> Result<()> {
    let log = store.decisions()?;
    let verified = verify_chain(&log);
    let bytes = log_bytes(&log, a.format, config, verified.as_ref().err())?;
    write_out(a.out.as_ref(), &bytes)?;
    match verified {
        Ok(()) => eprintln!(
            "the decision log verifies: {} {}, each chained to the one before",
            log.len(),
            if log.len() == 1 { "entry" } else { "entries" }
        ),
        Err(e) => bail!("the decision log does not verify: {e}"),
    }
    Ok(())
}

fn write_out(out: Option<&PathBuf>, bytes: &[u8]) -> Result<()> {
    match out {
        Some(p) => {
            seatmeter_core::fs::write_atomically(p, bytes)?;
            eprintln!("wrote {}", p.display());
        }
        None => std::io::stdout().lock().write_all(bytes)?,
    }
    Ok(())
}

fn log_bytes(
    log: &[seatmeter_store::reco::Decision],
    format: ListFormat,
    config: &seatmeter::config::Config,
    broken: Option<&String>,
) -> Result<Vec<u8>> {
    let cal = Calendar::new(config.timezone);
    let hex = seatmeter_core::hex;
    Ok(match format {
        ListFormat::Json => {
            let entries: Vec<serde_json::Value> = log
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "seq": d.seq, "at_ns": d.at, "at": cal.format(d.at),
                        "recommendation": d.recommendation, "action": d.action, "by": d.by,
                        "reason": d.reason, "what": d.what,
                        "prev_sha256": hex(&d.prev_hash), "sha256": hex(&d.hash),
                    })
                })
                .collect();
            let doc = serde_json::json!({ "verified": broken.is_none(), "problem": broken, "entries": entries });
            format!("{doc:#}\n").into_bytes()
        }
        _ => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "seq",
                "at_ns",
                "at",
                "recommendation",
                "action",
                "by",
                "reason",
                "what",
                "prev_sha256",
                "sha256",
            ])?;
            for d in log {
                w.write_record([
                    d.seq.to_string(),
                    d.at.to_string(),
                    cal.format(d.at),
                    d.recommendation.clone(),
                    d.action.clone(),
                    d.by.clone(),
                    d.reason.clone(),
                    d.what.clone(),
                    hex(&d.prev_hash),
                    hex(&d.hash),
                ])?;
            }
            w.into_inner()?
        }
    })
}

fn write_recs(
    w: &mut dyn Write,
    recs: &[Recommendation],
    format: ListFormat,
    minor: u32,
) -> Result<()> {
    match format {
        ListFormat::Csv => {
            let mut c = csv::Writer::from_writer(w);
            c.write_record(HEADER)?;
            for r in recs {
                c.write_record(cells(r, minor))?;
            }
            c.flush()?;
        }
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = recs
                .iter()
                .map(|r| {
                    let detail: serde_json::Value =
                        serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null);
                    serde_json::json!({
                        "id": r.id, "status": r.status.as_str(), "kind": r.kind, "tenant": r.tenant,
                        "agent": r.agent, "item": r.item, "monthly_saving": r.saving,
                        "as_of": Calendar::date_text(r.as_of), "summary": r.summary, "detail": detail,
                    })
                })
                .collect();
            writeln!(w, "{:#}", serde_json::Value::Array(rows))?;
        }
        ListFormat::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(["Id", "Status", "Kind", "Saving / month", "Recommendation"]);
            for r in recs {
                t.add_row([
                    r.id.clone(),
                    r.status.as_str().to_string(),
                    r.kind.clone(),
                    money(r.saving, minor),
                    r.summary.clone(),
                ]);
            }
            if let Some(c) = t.column_mut(3) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
            writeln!(w, "{t}")?;
            let total: i64 = recs.iter().map(|r| r.saving).sum();
            writeln!(
                w,
                "{} recommendation(s), {} a month in all",
                recs.len(),
                money(total, minor)
            )?;
        }
    }
    Ok(())
}

/// What a proposal run found, for people: each proposal with its reason and saving,
/// the exemptions with their tag, the renewal sizes, and the levers of concurrent items.
pub(crate) fn print_analysis(a: &Analysis, config: &seatmeter::config::Config) -> Result<()> {
    let (currency, minor) = (&config.billing.currency, config.billing.minor_units);
    let percent = config.finops.near_peak_percent;
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "Right-sizing on the data up to {}",
        Calendar::date_text(a.as_of)
    )?;
    let (exempt, reclaim): (Vec<_>, Vec<_>) =
        a.reclaims.iter().partition(|r| r.exempt_by.is_some());
    writeln!(o, "\nInactive users ({} to reclaim):", reclaim.len())?;
    for r in &reclaim {
        writeln!(
            o,
            "  {}/{} {}: {} — saves {} {currency}",
            r.tenant,
            r.agent,
            r.item,
            r.reason,
            money(r.saving, minor)
        )?;
    }
    for r in &exempt {
        writeln!(
            o,
            "  {}/{} {}: exempt (tag {})",
            r.tenant,
            r.agent,
            r.item,
            r.exempt_by.as_deref().unwrap_or("")
        )?;
    }
    writeln!(o, "\nDowngrades ({}):", a.downgrades.len())?;
    for d in &a.downgrades {
        writeln!(
            o,
            "  {}/{} {} → {}: {} — saves {} {currency}",
            d.tenant,
            d.agent,
            d.from,
            d.to,
            d.reason,
            money(d.saving, minor)
        )?;
    }
    writeln!(o, "\nRenewal sizes:")?;
    for (i, r) in &a.renewals {
        let band = match (r.utilization_percent, r.band) {
            (Some(u), Some(b)) => format!(
                "; utilization {u} % of the entitlement, {} the target band",
                match b {
                    seatmeter_finops::Band::Below => "below",
                    seatmeter_finops::Band::Within => "within",
                    seatmeter_finops::Band::Above => "above",
                }
            ),
            _ => String::new(),
        };
        writeln!(o, "  {}: {}{band}", a.items[*i].name, r.reason)?;
    }
    let concurrent: Vec<&str> = a
        .items
        .iter()
        .filter(|i| i.concurrent)
        .map(|i| i.name.as_str())
        .collect();
    if !concurrent.is_empty() {
        writeln!(
            o,
            "\nConcurrent items ({}): reclaiming or downgrading named users lowers nothing there; the peak does. Minutes of the month within {}% of the peak (stagger shifts to lower it):",
            concurrent.join(", "),
            percent
        )?;
        for (i, n) in &a.near_peak {
            writeln!(
                o,
                "  {}: peak {}, {} minute(s) at {} or more",
                a.items[*i].name, n.max, n.minutes, n.threshold
            )?;
        }
    }
    writeln!(
        o,
        "\nSessions longer than {} hours this month: {} (a missing auto-logout holds a seat)",
        config.finops.long_session_hours,
        a.long_sessions.len()
    )?;
    let cal = Calendar::new(config.timezone);
    for s in a.long_sessions.iter().take(20) {
        let end = match s.logout {
            Some(t) => format!("to {}", cal.format(t)),
            None => "still logged in".to_string(),
        };
        writeln!(
            o,
            "  {}/{}: {} h from {} {end}",
            s.tenant,
            s.agent,
            seatmeter::report::agents::hours_text(s.duration),
            cal.format(s.login)
        )?;
    }
    if a.long_sessions.len() > 20 {
        writeln!(o, "  … and {} more", a.long_sessions.len() - 20)?;
    }
    writeln!(
        o,
        "\nMonthly saving of the proposals: {} {currency}",
        money(a.saving(), minor)
    )?;
    Ok(())
}
