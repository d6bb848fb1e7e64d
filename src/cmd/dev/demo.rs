//! `seatmeter demo`: a realistic sample site collected, rolled up and reported, through
//! the same functions as the real commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use seatmeter::config::Config;
use seatmeter::dev::sitegen::{self, SiteSpec};
use seatmeter::report::output::{self, Options};
use seatmeter::report::{OverUse, Request};
use seatmeter::rollup::Days;
use seatmeter_core::{Calendar, Granularity, ScopeKind, calendar};
use seatmeter_reports::Format;

use crate::cmd::{collect, rollup};
use sha2::Digest as _;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to put the site and its reports.
    #[arg(long, default_value = "seatmeter-demo")]
    pub dir: PathBuf,
    /// Then run `seatmeter serve` on the site, with a fresh operator token for the web
    /// console: the URL and the token are printed (the token once). Ctrl-C stops it.
    #[arg(long)]
    pub serve: bool,
}

/// Marks a folder as made by the demo, so that running it again may replace it.
const MARKER: &str = ".seatmeter-demo";

pub fn run(args: Args) -> Result<ExitCode> {
    let dir = args.dir.as_path();
    let started = std::time::Instant::now();
    prepare(dir)?;
    let spec = SiteSpec::demo();
    let generated = sitegen::generate(&spec, dir)
        .with_context(|| format!("writing the demo site in {}", dir.display()))?;
    println!(
        "== A sample site: {} tenants, {} agents, {} days from {} ({}), {} spool files, {} snapshots",
        spec.tenants,
        spec.agents,
        spec.days,
        spec.start,
        spec.timezone.name(),
        generated.files,
        generated.snapshots
    );
    reseller(dir, &generated.config)?;
    super::demo_finops::prepare(dir, &generated.config)?;
    let now = seatmeter_core::time::now_nanos();
    let today = chrono::DateTime::from_timestamp_nanos(now)
        .with_timezone(&spec.timezone)
        .date_naive();
    super::demo_guard::prepare(dir, &generated.config, spec.start, spec.days, today)?;
    let config = Config::load(&generated.config)?;
    let mut store = seatmeter_store::open(&config.store)?;

    println!("\n== seatmeter collect --once");
    collect::collect_all(&config, store.as_mut(), None)?;
    println!("\n== seatmeter rollup");
    rollup::rollup(&config, store.as_mut(), Days::Changed)?;

    let first = calendar::day_of_date(spec.start);
    let last = first + spec.days as i32 - 1;
    let reports = dir.join("reports");
    println!("\n== seatmeter report (system, tenant and group scope)");
    let (written, over) = write_reports(&config, store.as_mut(), &reports, first, last)?;

    println!("\n== seatmeter report --scope system --granularity monthly --format table");
    let req = Request {
        scope: ScopeKind::System,
        id: None,
        granularity: Granularity::Monthly,
        from: first,
        to: last,
    };
    output::report_to(
        &config,
        store.as_mut(),
        &req,
        Format::Table,
        None,
        Options::default(),
    )?;

    println!(
        "\n== seatmeter export billing --month 2026-10 --out {}",
        reports.join("billing").display()
    );
    let billed = seatmeter::export::billing::export(
        store.as_mut(),
        &config,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date"),
        None,
        &reports.join("billing"),
        &Default::default(),
        &mut |_| {},
    )?;
    let summary = reports.join("billing/seatmeter-billing-2026-10-summary.csv");
    print!("{}", std::fs::read_to_string(&summary)?);
    println!(
        "  ({} files; per tenant, month and day, with a SHA-256 manifest)",
        billed.files.len()
    );

    println!(
        "\n== seatmeter recommend propose   (then: recommend list, approve ID --by NAME, reject ID --by NAME --reason …)"
    );
    let (analysis, _) = seatmeter::finops::proposals::propose(store.as_mut(), &config, last, now)?;
    crate::cmd::recommend::print_analysis(&analysis, &config)?;
    println!("\n== seatmeter showback --month 2026-10");
    let (oct_first, oct_last) = calendar::month_bounds(calendar::day_of_date(
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date"),
    ));
    let (shown, gaps) =
        seatmeter::finops::showback::showback(store.as_mut(), &config, oct_first, oct_last)?;
    crate::cmd::showback::write(
        &mut std::io::stdout().lock(),
        &shown,
        &gaps,
        "2026-10",
        crate::cmd::recommend::ListFormat::Table,
        &config,
    )?;

    super::demo_guard::show(&config, store.as_mut(), today, now)?;

    println!("\n== Reports written");
    for (path, rows) in &written {
        println!("  {} ({rows} rows)", path.display());
    }
    print_over_use(&over);
    println!(
        "\nThe site is in {dir}; try: seatmeter --config {cfg} status\n         or: seatmeter --config {cfg} report --scope tenant --granularity weekly --from {from} --to {to} --format table",
        dir = dir.display(),
        cfg = config.path.display(),
        from = Calendar::date_text(first),
        to = Calendar::date_text(last),
    );
    println!(
        "(demo finished in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    if args.serve {
        drop(store);
        serve_console(&config.path)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds a fresh operator token to the demo's configuration, prints the console's URL and
/// the token, and runs the service.
fn serve_console(config_path: &Path) -> Result<()> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| anyhow::anyhow!("the OS random number generator: {e}"))?;
    let token = format!("smt_{}", crate::cmd::token::hex(&secret));
    let hash = crate::cmd::token::hex(&sha2::Sha256::digest(token.as_bytes()));
    let text = std::fs::read_to_string(config_path)?;
    let text = format!(
        "{text}\n# The demo console's operator token (`seatmeter demo --serve` made it).\n[[service.token]]\nname = \"demo-operator\"\nsha256 = \"{hash}\"\n"
    );
    std::fs::write(config_path, text)?;
    let config = Config::load(config_path)?;
    println!(
        "\n== The web console: open http://{}/ and sign in with this one-time operator token:\n\n  {token}\n",
        config.service.listen
    );
    seatmeter::service::serve(config)?;
    Ok(())
}

/// The reseller's side of the demo: an entitlement file that provisions each tenant and
/// defines two bundles, and a price list (docs/ENTITLEMENTS.md, docs/BILLING.md).
fn reseller(dir: &Path, config: &Path) -> Result<()> {
    std::fs::write(
        dir.join("entitlements.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- What the reseller sold: bundles, and each tenant's provisioned seats (acme's voice
     seats were raised on 2026-10-20, after the over-use of the month's first weeks). -->
<Entitlements>
  <Bundle name="Bundle Basic" issued="2026-01-15" start="2026-01-01">
    <Include item="Genesys Inbound Voice"/>
  </Bundle>
  <Bundle name="Bundle Advanced" issued="2026-01-15" start="2026-01-01">
    <Include item="Genesys E-Mail"/>
    <Include item="Genesys Web Media"/>
    <Exclude item="Genesys Outbound Contact"/>
  </Bundle>
  <System>
    <Entitlement bundle="Bundle Basic" quantity="200" start="2026-01-01"/>
    <Entitlement bundle="Bundle Advanced" quantity="120" start="2026-01-01"/>
  </System>
  <Tenant name="acme">
    <Entitlement item="Genesys Inbound Voice" quantity="70" start="2026-01-01" end="2026-10-19"/>
    <Entitlement item="Genesys Inbound Voice" quantity="95" start="2026-10-20"/>
    <Entitlement item="Genesys E-Mail" quantity="45" start="2026-01-01"/>
    <Entitlement bundle="Bundle Advanced" quantity="60" start="2026-01-01"/>
    <Entitlement item="Genesys Outbound Contact" quantity="10" start="2026-01-01"/>
    <Entitlement item="Genesys Interaction Recording" quantity="100" start="2026-01-01"/>
    <Entitlement item="Genesys Workforce Management" quantity="130" start="2026-01-01"/>
  </Tenant>
  <!-- globex outgrew its voice seats: the over-use a reseller raises with it. -->
  <Tenant name="globex">
    <Entitlement item="Genesys Inbound Voice" quantity="60" start="2026-01-01"/>
    <Entitlement bundle="Bundle Advanced" quantity="40" start="2026-01-01"/>
    <Entitlement item="Genesys Outbound Contact" quantity="15" start="2026-01-01"/>
    <Entitlement item="Genesys Interaction Recording" quantity="95" start="2026-01-01"/>
    <Entitlement item="Genesys Workforce Management" quantity="105" start="2026-01-01"/>
  </Tenant>
  <Tenant name="nordwind">
    <Entitlement item="Genesys Inbound Voice" quantity="55" start="2026-01-01"/>
    <Entitlement item="Genesys E-Mail" quantity="32" start="2026-01-01"/>
    <Entitlement item="Genesys Web Media" quantity="16" start="2026-01-01"/>
    <Entitlement item="Genesys Outbound Contact" quantity="14" start="2026-01-01"/>
    <Entitlement item="Genesys Interaction Recording" quantity="55" start="2026-01-01"/>
    <Entitlement item="Genesys Workforce Management" quantity="65" start="2026-01-01"/>
  </Tenant>
  <Tenant name="initech">
    <Entitlement item="Genesys Inbound Voice" quantity="10" start="2026-11-01"/>
  </Tenant>
</Entitlements>
"#,
    )?;
    let text = std::fs::read_to_string(config)?;
    let text = text.replace(
        "files = [\"license.dat\"]",
        "files = [\"license.dat\"]\nentitlements = [\"entitlements.xml\"]",
    );
    std::fs::write(
        config,
        format!(
            r#"{text}
[billing]
currency = "EUR"
minimum = "500.00"
fair_peak_minutes = 15

[billing.prices]
"Genesys Inbound Voice" = "18.50"
"Genesys E-Mail" = "9.75"
"Genesys Web Media" = "9.75"
"Genesys Workforce Management" = "4.20"
"Bundle Advanced" = "6.00"

[billing.daily_prices]
"Genesys Inbound Voice" = "0.62"
"#
        ),
    )?;
    Ok(())
}

/// Makes `dir` ready for a fresh demo: creates it, or clears a previous demo's site.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        let is_demo = dir.join(MARKER).exists();
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !is_demo && !empty {
            bail!(
                "{} exists and was not made by `seatmeter demo`; choose another folder with --dir",
                dir.display()
            );
        }
        for entry in std::fs::read_dir(dir)? {
            let p = entry?.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p)?;
            } else {
                std::fs::remove_file(&p)?;
            }
        }
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "made by `seatmeter demo`; the next demo replaces this folder\n",
    )?;
    Ok(())
}

/// The report files written, with their rows, and the monthly over-use.
type Written = (Vec<(PathBuf, u64)>, Vec<OverUse>);

/// The demo's reports: every scope at several granularities, in CSV, JSON and PDF; returns
/// the files with their rows, and the monthly over-use.
fn write_reports(
    config: &Config,
    store: &mut dyn seatmeter_store::Store,
    reports: &Path,
    first: seatmeter_core::Day,
    last: seatmeter_core::Day,
) -> Result<Written> {
    let mut written = Vec::new();
    let mut over: Vec<OverUse> = Vec::new();
    let jobs = [
        (ScopeKind::System, Granularity::TenMin, &[Format::Csv][..]),
        (
            ScopeKind::System,
            Granularity::Daily,
            &[Format::Csv, Format::Json, Format::Pdf],
        ),
        (
            ScopeKind::System,
            Granularity::Monthly,
            &[Format::Csv, Format::Json],
        ),
        (
            ScopeKind::Tenant,
            Granularity::Daily,
            &[Format::Csv, Format::Json, Format::Pdf],
        ),
        (
            ScopeKind::Tenant,
            Granularity::Monthly,
            &[Format::Csv, Format::Json],
        ),
        (
            ScopeKind::Group,
            Granularity::Daily,
            &[Format::Csv, Format::Json, Format::Pdf],
        ),
        (ScopeKind::Group, Granularity::Monthly, &[Format::Csv]),
        (
            ScopeKind::PlaceGroup,
            Granularity::Monthly,
            &[Format::Csv, Format::Pdf],
        ),
    ];
    for (scope, granularity, formats) in jobs {
        let req = Request {
            scope,
            id: None,
            granularity,
            from: first,
            to: last,
        };
        for &format in formats {
            let path = reports.join(format!("{scope}-{granularity}.{}", format.extension()));
            let options = Options {
                guardrails: Some(seatmeter::guard::pdf::guardrails_page),
                ..Options::default()
            };
            let outcome = output::report_to(config, store, &req, format, Some(&path), options)?;
            for w in &outcome.gaps {
                eprintln!("warning: {w}");
            }
            if format == Format::Csv && granularity == Granularity::Monthly {
                over.extend(outcome.over_use);
            }
            written.push((path, outcome.rows));
        }
    }
    Ok((written, over))
}

/// The worst 10-minute period of each item, scope and month over its entitlement.
fn print_over_use(over: &[OverUse]) {
    println!("\n== Over-use (the worst 10-minute period of each item, scope and month)");
    if over.is_empty() {
        println!("  none: every item stayed within its entitlement");
    }
    let mut by_item: Vec<&OverUse> = over.iter().collect();
    by_item.sort_by(|a, b| (a.scope, &a.item, &a.scope_id).cmp(&(b.scope, &b.item, &b.scope_id)));
    for o in by_item {
        let scope = if o.scope_id.is_empty() {
            "system".to_string()
        } else {
            format!("{} {}", o.scope, o.scope_id)
        };
        println!(
            "  {:<32} {:<28} {} month: {} seats against {} entitled (+{})",
            o.item,
            scope,
            &o.period_start[..7],
            o.measured,
            o.entitled,
            o.measured - o.entitled
        );
    }
}
