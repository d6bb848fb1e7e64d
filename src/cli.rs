//! The command line (usage-semantics.md, section 9). Each command is a function that the
//! demo and the tests call too.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use seatmeter_collectors::time::format_utc;
use seatmeter_reports::{Granularity, Renderer, ScopeKind};

use crate::calendar::{self, Calendar, Day};
use crate::config::{self, Config};
use crate::entitlement::{self, FeatureRef, Ledger};
use crate::report::{self, Outcome, Reporter, Request};
use crate::rollup::{Days, Rollup, RollupStats};
use crate::store::{self, Store};

const ABOUT: &str =
    "License usage reporting for contact centers: seat events to exact compliance reports.";

const LONG_ABOUT: &str = "\
License usage reporting for contact centers: seat events to exact compliance reports.

seatmeter collects agent login/logout events and configuration snapshots, rolls them up
into peak concurrent and enabled seats per sellable item, compares them with the
entitlement of FlexNet license files, and writes compliance reports.

A day's work, by hand:
  seatmeter --config site.toml init         create the store, check the configuration
  seatmeter --config site.toml collect --once
  seatmeter --config site.toml rollup
  seatmeter --config site.toml report --scope tenant --granularity daily \\
            --from 2026-10-01 --to 2026-10-31 --format csv --out october.csv

Try it on a generated site first: seatmeter demo";

#[derive(Parser, Debug)]
#[command(name = "seatmeter", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// The configuration file (TOML; see docs/CONFIGURATION.md).
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "SEATMETER_CONFIG",
        default_value = "seatmeter.toml"
    )]
    pub config: PathBuf,

    /// Log lines as text, or as JSON objects for log shippers. Set the level with
    /// SEATMETER_LOG (e.g. debug); the service logs at info, other commands at warn.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "SEATMETER_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the store and check the configuration. Writes a commented example
    /// configuration first if the file does not exist.
    Init,
    /// Read what is new from every collector into the store.
    Collect(CollectArgs),
    /// Roll up every day whose data changed since the last rollup (or the days given).
    Rollup(RollupArgs),
    /// Write a compliance report from the stored rollups.
    Report(ReportArgs),
    /// Check FlexNet license files and show what they grant.
    #[command(subcommand)]
    License(LicenseCommand),
    /// Write files for other systems (billing).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Show collectors, stored data, lines kept aside and the rollup state.
    Status,
    /// List the lines the collectors kept aside, with file, line and reason.
    Rejects {
        /// Show at most this many (oldest first).
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Forget a collector's cursor, so that its source is read again from the start
    /// (events already stored are not stored twice).
    ResetCursor {
        /// The collector's name.
        name: String,
    },
    /// Generate a realistic sample site, collect it, roll it up and report on it.
    Demo {
        /// Where to put the site and its reports.
        #[arg(long, default_value = "seatmeter-demo")]
        dir: PathBuf,
    },
    /// Generate a site (spool files, snapshots, license file, configuration) from a seed.
    Gen(GenArgs),
    /// Copy an embedded (SQLite) store into PostgreSQL, every table and id, in one
    /// transaction; prints the rows copied per table. The target must be empty. Then set
    /// `[store] url` in the configuration to the target.
    ///
    /// Example: seatmeter migrate-store --from seatmeter.db --to postgres://seatmeter@db/site1
    MigrateStore {
        /// The SQLite store file.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL URL (postgres://user[:password]@host[:port]/database[?options=...]).
        /// Prefer PGPASSWORD or ~/.pgpass to a password in the URL.
        #[arg(long)]
        to: String,
    },
    /// Measure the pipeline: generate a site of a given size, then time `collect --once`,
    /// `rollup` and month-long 10-minute reports (CSV for every scope, PDF for the system),
    /// each as its own process with its peak memory. Several sizes print the scaling curve.
    ///
    /// Example: seatmeter bench --sessions 0.25,0.5,1,2,5 (build with --release first).
    Bench(BenchArgs),
    /// Run as a service: collect on every interval, roll up after local midnight, serve
    /// /healthz, /metrics and /reports; stops cleanly on SIGTERM or SIGINT.
    Serve,
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// Collect once and exit (the service, `seatmeter serve`, collects on every interval).
    #[arg(long)]
    pub once: bool,
    /// Run only this collector.
    #[arg(long)]
    pub collector: Option<String>,
}

#[derive(Args, Debug)]
pub struct RollupArgs {
    /// First day to roll up again (YYYY-MM-DD, local to the site's time zone).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day to roll up again (inclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Table,
    /// A compliance document for auditors (cover, entitlement, charts, every row, anomalies).
    Pdf,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeArg {
    System,
    Tenant,
    Group,
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

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The whole system, each tenant, or each agent group.
    #[arg(long, value_enum)]
    pub scope: ScopeArg,
    /// Narrow to one tenant (`--scope tenant`), or to one tenant's groups or one group
    /// (`--scope group --id acme` or `--id acme/Support`).
    #[arg(long)]
    pub id: Option<String>,
    /// Period length. Weekly and monthly periods are always whole ISO weeks / months.
    #[arg(long, value_enum)]
    pub granularity: GranularityArg,
    /// First local date (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last local date, inclusive (default: --from).
    #[arg(long)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output. PDF needs it unless
    /// standard output is redirected.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Per-tenant billing files for a month and each of its days: peak concurrent seats
    /// (and when), enabled seats, entitlement, billable quantity by license model, unit
    /// price and amount from [billing] in the configuration; a summary across tenants and
    /// a SHA-256 manifest, written last. Files are written atomically, named
    /// seatmeter-billing-PERIOD-TENANT.csv (docs/BILLING.md).
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
    },
}

#[derive(Subcommand, Debug)]
pub enum LicenseCommand {
    /// Parse license files; print each line, its counts, start and expiry, and what the
    /// files grant on a day (today by default). With --config, per configured item too.
    Check {
        /// FlexNet license files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The day to evaluate (YYYY-MM-DD); default today in the site's time zone.
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct GenArgs {
    #[arg(long, default_value_t = 300)]
    pub agents: usize,
    #[arg(long, default_value_t = 3)]
    pub tenants: usize,
    #[arg(long, default_value_t = 35)]
    pub days: u32,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-05")]
    pub start: String,
    /// IANA time zone of the site.
    #[arg(long, default_value = "Europe/London")]
    pub timezone: String,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Breaks per shift (each one splits a shift into one more session).
    #[arg(long, default_value_t = 3)]
    pub breaks: u32,
    /// Spool file format: JSON Lines and CSV alternating, or one of them.
    #[arg(long, value_enum, default_value = "mixed")]
    pub format: GenFormat,
    /// The folder to write (created if needed).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Login sessions per site, in millions; a comma-separated list measures each size.
    #[arg(long, default_value = "1")]
    pub sessions: String,
    /// Days of data per site (the reports cover them all).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// First day of the generated data (YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-01")]
    pub start: String,
    /// Where to write the generated sites (each size in its own folder).
    #[arg(long, default_value = "seatmeter-bench")]
    pub dir: PathBuf,
    /// Keep the generated sites, stores and reports (they are removed by default).
    #[arg(long)]
    pub keep: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenFormat {
    Mixed,
    Csv,
    Jsonl,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if matches!(cli.command, Command::Serve) {
        "info"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEATMETER_LOG")
        .unwrap_or_else(|_| level.into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match cli.log_format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let config_path = cli.config;
    let load = || Config::load(&config_path).map_err(anyhow::Error::from);
    match cli.command {
        Command::Init => init(&config_path),
        Command::Collect(args) => {
            if !args.once {
                bail!(
                    "`collect` reads once with --once; to collect on every interval, run `seatmeter serve`"
                );
            }
            let config = load()?;
            let mut store = store::open(&config)?;
            let reports = collect(&config, store.as_mut(), args.collector.as_deref())?;
            let failed = reports.iter().any(|r| r.error.is_some());
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Rollup(args) => {
            let config = load()?;
            let mut store = store::open(&config)?;
            let days = match (args.from, args.to) {
                (Some(a), Some(b)) => {
                    let (a, b) = (
                        calendar::parse_date(&a).map_err(anyhow::Error::msg)?,
                        calendar::parse_date(&b).map_err(anyhow::Error::msg)?,
                    );
                    if b < a {
                        bail!("--to is before --from");
                    }
                    Days::Range(a, b)
                }
                _ => Days::Changed,
            };
            rollup(&config, store.as_mut(), days)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            let config = load()?;
            let mut store = store::open(&config)?;
            let req = request(&args)?;
            let outcome = report_to(
                &config,
                store.as_mut(),
                &req,
                args.format,
                args.out.as_deref(),
            )?;
            for w in &outcome.warnings {
                eprintln!("warning: {w}");
            }
            if let Some(out) = &args.out {
                eprintln!("wrote {} row(s) to {}", outcome.rows, out.display());
            }
            if !outcome.over_use.is_empty() && args.format != Format::Table {
                eprintln!(
                    "over-use: {} instance(s) (see the report)",
                    outcome.over_use.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::License(LicenseCommand::Check { files, date }) => {
            // The configuration is optional here: with one, entitlement per item is shown.
            let config = if config_path.exists() {
                Some(load()?)
            } else {
                None
            };
            license_check(
                &files,
                date.as_deref(),
                config.as_ref(),
                &mut std::io::stdout(),
            )
        }
        Command::Status => {
            let config = load()?;
            let mut store = store::open(&config)?;
            status(&config, store.as_mut(), &mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rejects { limit } => {
            let config = load()?;
            let mut store = store::open(&config)?;
            let mut out = std::io::stdout().lock();
            let rejects = store.rejects(Some(limit))?;
            if rejects.is_empty() {
                writeln!(out, "no line has been kept aside")?;
            }
            for r in rejects {
                writeln!(
                    out,
                    "{}:{}: {} [{}]\n    {}",
                    r.source, r.line, r.reason, r.collector, r.text
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ResetCursor { name } => {
            let config = load()?;
            let mut store = store::open(&config)?;
            if store.reset_cursor(&name)? {
                println!(
                    "collector {name:?} will read its source again from the start; events already stored are not stored twice"
                );
                Ok(ExitCode::SUCCESS)
            } else {
                bail!("no collector named {name:?} has a cursor in the store")
            }
        }
        Command::Demo { dir } => crate::demo::run(&dir),
        Command::Serve => {
            crate::service::serve(load()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(ExportCommand::Billing { month, tenant, out }) => {
            let config = load()?;
            let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                .with_context(|| format!("--month {month:?}: write YYYY-MM"))?;
            let mut store = store::open(&config)?;
            let done = crate::billing::export(
                store.as_mut(),
                &config,
                first,
                tenant.as_deref(),
                &out,
                &mut |t| eprintln!("billing {t}"),
            )?;
            for w in &done.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "wrote {} file(s) for {} tenant(s) to {}: total {} {}",
                done.files.len(),
                done.tenants,
                out.display(),
                crate::billing::format_money(done.total, config.billing.minor_units),
                config.billing.currency
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::MigrateStore { from, to } => {
            let started = std::time::Instant::now();
            let counts = store::migrate::sqlite_to_postgres(&from, &to, &mut |table, n| {
                eprintln!("copied {table}: {n} row(s)");
            })?;
            let total: u64 = counts.iter().map(|c| c.1).sum();
            println!(
                "copied {} into {}: {total} row(s) in {} table(s) ({:.1} s)",
                from.display(),
                config::redact_url(&to),
                counts.len(),
                started.elapsed().as_secs_f64()
            );
            for (table, n) in counts {
                println!("  {table:<18} {n:>10}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            let sizes = crate::bench::parse_sizes(&args.sessions)?;
            let start = chrono::NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
                .with_context(|| format!("--start {:?}: write YYYY-MM-DD", args.start))?;
            if cfg!(debug_assertions) {
                eprintln!(
                    "warning: this is a debug build; measure with `cargo run --release -- bench`"
                );
            }
            let mut all = Vec::new();
            for sessions in sizes {
                let m = crate::bench::measure(&crate::bench::BenchSpec {
                    sessions,
                    days: args.days,
                    start,
                    dir: args.dir.clone(),
                    keep: args.keep,
                })?;
                println!(
                    "{}
",
                    crate::bench::stage_table(&m)
                );
                all.push(m);
            }
            if all.len() > 1 {
                println!("{}", crate::bench::curve_table(&all));
            }
            if !args.keep {
                let _ = std::fs::remove_dir(&args.dir);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen(args) => {
            let spec = crate::sitegen::SiteSpec {
                site: format!("Generated site (seed {})", args.seed),
                agents: args.agents,
                tenants: args.tenants,
                days: args.days,
                start: chrono::NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
                    .with_context(|| format!("--start {:?}: write YYYY-MM-DD", args.start))?,
                timezone: args
                    .timezone
                    .parse()
                    .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", args.timezone))?,
                seed: args.seed,
                breaks: args.breaks,
                anomalies: false,
                format: match args.format {
                    GenFormat::Mixed => crate::sitegen::SpoolFormat::Mixed,
                    GenFormat::Csv => crate::sitegen::SpoolFormat::Csv,
                    GenFormat::Jsonl => crate::sitegen::SpoolFormat::JsonLines,
                },
            };
            let g = crate::sitegen::generate(&spec, &args.out)?;
            println!(
                "wrote {} event(s) ({} session(s)) in {} spool file(s), {} snapshot(s), a license file and {}",
                g.events,
                g.sessions,
                g.files,
                g.snapshots,
                g.config.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init(path: &Path) -> Result<ExitCode> {
    if !path.exists() {
        std::fs::write(path, config::SAMPLE)
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote an example configuration to {}: edit it (time zone, collectors, license files, items), then run init again",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(path)?;
    let mut store = store::open(&config)?;
    let status = store.status()?;
    println!(
        "configuration {} is valid: time zone {}, {} collector(s), {} item(s), {} license file(s)",
        path.display(),
        config.timezone.name(),
        config.collectors.len(),
        config.items.len(),
        config.license_files.len()
    );
    println!(
        "store ready at {} ({} event(s) stored)",
        store.location(),
        status.events
    );
    let (_, errors) = entitlement::load_all(&config.license_files);
    for e in &errors {
        eprintln!("warning: {e}");
    }
    for c in &config.collectors {
        if let seatmeter_collectors::CollectorConfig::Spool(s) = c
            && !s.path.is_dir()
        {
            eprintln!(
                "warning: collector {:?}: folder {} does not exist yet",
                c.name(),
                s.path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs every collector (or one) once and prints what each stored.
pub fn collect(
    config: &Config,
    store: &mut dyn Store,
    only: Option<&str>,
) -> Result<Vec<crate::collect::RunReport>> {
    if let Some(name) = only
        && !config.collectors.iter().any(|c| c.name() == name)
    {
        bail!("no collector named {name:?} in {}", config.path.display());
    }
    let chosen: Vec<&seatmeter_collectors::CollectorConfig> = config
        .collectors
        .iter()
        .filter(|c| only.is_none_or(|n| n == c.name()))
        .collect();
    // Collectors are independent: they run at the same time, each with its own connection
    // to the store (the first with `store`), and report in configuration order.
    let run = |store: &mut dyn Store, c: &seatmeter_collectors::CollectorConfig| {
        crate::collect::run_once(store, c.build().as_mut(), c.kind(), &|| false)
    };
    let reports: Vec<crate::collect::RunReport> = std::thread::scope(|scope| -> Result<_> {
        let others: Vec<_> = chosen
            .iter()
            .skip(1)
            .map(|&c| {
                scope.spawn(move || -> Result<_> {
                    let mut store = store::open(config)?;
                    Ok(run(store.as_mut(), c))
                })
            })
            .collect();
        let mut reports = Vec::new();
        if let Some(&first) = chosen.first() {
            reports.push(run(store, first));
        }
        for h in others {
            reports.push(
                h.join()
                    .map_err(|_| anyhow::anyhow!("a collector panicked"))??,
            );
        }
        Ok(reports)
    })?;
    for r in &reports {
        print_run(r);
    }
    if config.collectors.is_empty() {
        eprintln!(
            "warning: no [[collector]] is configured in {}",
            config.path.display()
        );
    }
    Ok(reports)
}

fn print_run(r: &crate::collect::RunReport) {
    let s = &r.stored;
    let mut line = format!(
        "{} ({}): {} source(s), {} line(s) read: {} event(s) stored",
        r.name, r.kind, r.summary.sources, r.summary.lines, s.events
    );
    if s.duplicates > 0 {
        line += &format!(", {} duplicate(s) not stored again", s.duplicates);
    }
    if s.snapshots + s.duplicate_snapshots > 0 {
        line += &format!(", {} snapshot(s) stored", s.snapshots);
    }
    if s.rejects > 0 {
        line += &format!(", {} kept aside (see `seatmeter rejects`)", s.rejects);
    }
    println!("{line} in {:.2} s", r.duration.as_secs_f64());
    for rej in &r.rejects {
        println!("  kept aside: {rej}");
    }
    for note in &r.summary.notes {
        println!("  note: {note}");
    }
    if let Some(e) = &r.error {
        eprintln!("error: collector {}: {e}", r.name);
    }
}

/// Rolls up, printing progress on a terminal.
pub fn rollup(config: &Config, store: &mut dyn Store, days: Days) -> Result<RollupStats> {
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut rollup = Rollup::new(store, config)?;
    let mut n = 0;
    let stats = rollup.run(days, &mut |d| {
        n += 1;
        if tty {
            eprint!("\rrolling up {} ({n} day(s))   ", Calendar::date_text(d));
        }
    })?;
    if tty && n > 0 {
        eprintln!();
    }
    if stats.frozen_days_with_new_data > 0 {
        eprintln!(
            "warning: data arrived for {} day(s) older than the retention: their raw events are deleted, so they are final and were not rolled up again",
            stats.frozen_days_with_new_data
        );
    }
    if stats.reset {
        println!(
            "the time zone, the items or the bundle definitions changed: every day was rolled up again"
        );
    }
    match (stats.rolled.first(), stats.rolled.last()) {
        (Some(a), Some(b)) => println!(
            "rolled up {} day(s), {} to {}: {} event(s), {} session(s), {} stray logout(s); {} day(s) unchanged ({:.2} s)",
            stats.rolled.len(),
            Calendar::date_text(*a),
            Calendar::date_text(*b),
            stats.events,
            stats.sessions,
            stats.stray_logouts,
            stats.unchanged,
            started.elapsed().as_secs_f64()
        ),
        _ => println!("nothing to roll up: no data changed since the last rollup"),
    }
    Ok(stats)
}

fn request(args: &ReportArgs) -> Result<Request> {
    let from = calendar::parse_date(&args.from).map_err(anyhow::Error::msg)?;
    let to = match &args.to {
        Some(t) => calendar::parse_date(t).map_err(anyhow::Error::msg)?,
        None => from,
    };
    Ok(Request {
        scope: match args.scope {
            ScopeArg::System => ScopeKind::System,
            ScopeArg::Tenant => ScopeKind::Tenant,
            ScopeArg::Group => ScopeKind::Group,
        },
        id: args.id.clone(),
        granularity: match args.granularity {
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

/// Writes a report to `out` (a file, written atomically) or standard output.
pub fn report_to(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    out: Option<&Path>,
) -> Result<Outcome> {
    if format == Format::Pdf {
        let (bytes, outcome) = crate::pdfreport::render(store, config, req)?;
        match out {
            Some(path) => write_atomically(path, &bytes)?,
            None if std::io::stdout().is_terminal() => {
                bail!(
                    "a PDF report is not for the terminal: add --out FILE.pdf (or redirect standard output)"
                )
            }
            None => {
                let mut o = std::io::stdout().lock();
                o.write_all(&bytes)?;
                o.flush()?;
            }
        }
        return Ok(outcome);
    }
    match out {
        None => {
            let stdout = std::io::stdout();
            let color = format == Format::Table && stdout.is_terminal();
            let w = std::io::BufWriter::new(stdout.lock());
            render(config, store, req, format, w, color)
        }
        Some(path) => {
            let tmp = temp_for(path)?;
            let w = std::io::BufWriter::new(tmp.as_file());
            let outcome = render(config, store, req, format, w, false)?;
            publish(tmp, path)?;
            Ok(outcome)
        }
    }
}

/// A report in any format, as bytes (for the service's /reports).
pub fn report_bytes(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
) -> Result<(Vec<u8>, Outcome)> {
    if format == Format::Pdf {
        return Ok(crate::pdfreport::render(store, config, req)?);
    }
    let mut buf = Vec::new();
    let outcome = render(config, store, req, format, &mut buf, false)?;
    Ok((buf, outcome))
}

/// A temporary file next to `path` (so that renaming it over `path` is atomic).
fn temp_for(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing in {}", dir.display()))
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_for(path)?;
    tmp.write_all(bytes)?;
    publish(tmp, path)
}

/// Makes a finished temporary file the report at `path`: readable like any file (a
/// temporary file is created private), synced, then renamed over `path`, so that a reader
/// never sees half a report.
fn publish(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn render<'w, W: Write + 'w>(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    w: W,
    color: bool,
) -> Result<Outcome> {
    let mut renderer: Box<dyn Renderer + 'w> = match format {
        Format::Csv => Box::new(seatmeter_reports::csv::CsvRenderer::new(w)?),
        Format::Json => Box::new(seatmeter_reports::json::JsonRenderer::new(w)?),
        Format::Table => Box::new(seatmeter_reports::table::TableRenderer::new(w, color)),
        Format::Pdf => unreachable!("PDF reports are rendered whole, by report_to"),
    };
    let reporter = Reporter::new(store, config)?;
    let outcome = reporter.run(req, &mut |row| {
        renderer.row(row).map_err(report::ReportError::from)
    })?;
    renderer.finish()?;
    Ok(outcome)
}

fn license_check(
    files: &[PathBuf],
    date: Option<&str>,
    config: Option<&Config>,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let day: Day = match date {
        Some(d) => calendar::parse_date(d).map_err(anyhow::Error::msg)?,
        None => {
            let tz = config.map(|c| c.timezone).unwrap_or(chrono_tz::UTC);
            calendar::day_of_date(chrono::Utc::now().with_timezone(&tz).date_naive())
        }
    };
    let date = calendar::date_of_day(day);
    let (loaded, errors) = entitlement::load_all(files);
    for e in &errors {
        writeln!(out, "{e}\n  no entitlement is taken from this file")?;
    }
    let ledger = Ledger::new(&loaded);
    for (fi, f) in loaded.iter().enumerate() {
        writeln!(out, "{} (sha256 {})", f.path, f.sha256)?;
        writeln!(
            out,
            "  {:>5}  {:<10} {:<20} {:<12} {:<9} {:<11} {:>9}  {:<11} {:<11} note",
            "line", "type", "feature", "vendor", "version", "expiry", "count", "start", "issued"
        )?;
        for l in &f.lines {
            match &l.feature {
                None => writeln!(
                    out,
                    "  {:>5}  {:<10} {}",
                    l.line,
                    l.keyword.as_str(),
                    l.text
                )?,
                Some(fl) => {
                    let idx = ledger
                        .origin
                        .iter()
                        .position(|&(i, line)| i == fi && line == l.line);
                    let note = match idx.and_then(|i| ledger.ignored[i]) {
                        Some(entitlement::Ignored::Superseded(by)) => {
                            let (bf, bl) = ledger.origin[by];
                            format!("voided by SUPERSEDE at {}:{bl}", loaded[bf].path)
                        }
                        Some(entitlement::Ignored::LaterFeature(first)) => {
                            let (ff, fline) = ledger.origin[first];
                            format!(
                                "ignored: only the first FEATURE line counts ({}:{fline})",
                                loaded[ff].path
                            )
                        }
                        None if !fl.valid_on(date) => format!("not valid on {date}"),
                        None => String::new(),
                    };
                    writeln!(
                        out,
                        "  {:>5}  {:<10} {:<20} {:<12} {:<9} {:<11} {:>9}  {:<11} {:<11} {}",
                        l.line,
                        l.keyword.as_str(),
                        fl.name,
                        fl.vendor,
                        fl.version,
                        fl.expiry.to_string(),
                        fl.count
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "uncounted".into()),
                        fl.start
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "-".into()),
                        fl.issued
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "-".into()),
                        note
                    )?;
                }
            }
        }
    }
    let mut features: Vec<(String, String)> = ledger
        .lines
        .iter()
        .map(|(_, l)| (l.vendor.clone(), l.name.clone()))
        .collect();
    features.sort();
    features.dedup();
    writeln!(out, "\nEntitlement on {date}, per feature:")?;
    for (vendor, name) in &features {
        let f = FeatureRef {
            vendor: Some(vendor.clone()),
            name: name.clone(),
        };
        let e = ledger
            .entitled(std::slice::from_ref(&f), date)
            .map(|e| e.to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(out, "  {:<32} {e:>10}", f.to_string())?;
    }
    if let Some(config) = config {
        writeln!(
            out,
            "\nEntitlement on {date}, per item of {}:",
            config.path.display()
        )?;
        for it in &config.items {
            let e = ledger
                .entitled(&it.features, date)
                .map(|e| e.to_string())
                .unwrap_or_else(|| "none (no line names its features)".into());
            let names: Vec<String> = it.features.iter().map(|f| f.to_string()).collect();
            writeln!(out, "  {:<32} {e:>10}   ({})", it.name, names.join(", "))?;
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn when(t: Option<i64>) -> String {
    t.map(format_utc).unwrap_or_else(|| "never".into())
}

pub fn status(config: &Config, store: &mut dyn Store, out: &mut dyn Write) -> Result<()> {
    let s = store.status()?;
    writeln!(
        out,
        "store: {} ({:.1} MB)",
        s.location,
        s.size_bytes as f64 / 1e6
    )?;
    writeln!(
        out,
        "site: {} (time zone {})",
        config.site,
        config.timezone.name()
    )?;
    writeln!(out, "\ncollectors:")?;
    for c in &config.collectors {
        match s.collectors.iter().find(|x| x.name == c.name()) {
            None => writeln!(out, "  {} ({}): never run", c.name(), c.kind())?,
            Some(x) => {
                writeln!(
                    out,
                    "  {} ({}): {} run(s), {} failed; last success {}; {} event(s), {} duplicate(s), {} snapshot(s), {} line(s) kept aside",
                    x.name,
                    x.kind,
                    x.runs,
                    x.failures,
                    when(x.last_success),
                    x.events,
                    x.duplicates,
                    x.snapshots,
                    x.rejects
                )?;
                if let Some((at, e)) = &x.last_error {
                    writeln!(out, "    last error at {}: {e}", format_utc(*at))?;
                }
            }
        }
    }
    writeln!(
        out,
        "\nstored: {} event(s) from {} to {}; {} snapshot(s); {} tenant(s), {} agent(s), {} group(s)",
        s.events,
        when(s.first_event),
        when(s.last_event),
        s.snapshots,
        s.tenants,
        s.agents,
        s.groups
    )?;
    match s.rolled {
        Some((a, b)) => writeln!(
            out,
            "rolled up: {} to {}",
            Calendar::date_text(a),
            Calendar::date_text(b)
        )?,
        None => writeln!(out, "rolled up: nothing yet (run `seatmeter rollup`)")?,
    }
    if s.pending_days > 0 {
        writeln!(
            out,
            "waiting for the rollup: data of {} UTC day(s)",
            s.pending_days
        )?;
    }
    writeln!(out, "\nlines kept aside: {}", s.rejects)?;
    for r in store.rejects(Some(5))? {
        writeln!(out, "  {}:{}: {}", r.source, r.line, r.reason)?;
    }
    if s.rejects > 5 {
        writeln!(out, "  … `seatmeter rejects` lists them all")?;
    }
    Ok(())
}
