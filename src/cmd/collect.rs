//! `seatmeter collect --once`: reads what is new from every collector (or one) into the
//! store, and says what each stored.

use std::process::ExitCode;

use anyhow::{Result, bail};
use seatmeter::collect::{self, RunReport};
use seatmeter::config::Config;
use seatmeter_store::Store;

use super::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Collect once and exit (the service, `seatmeter serve`, collects on every interval).
    #[arg(long)]
    pub once: bool,
    /// Run only this collector.
    #[arg(long)]
    pub collector: Option<String>,
}

pub fn run(g: &Global, args: Args) -> Result<ExitCode> {
    if !args.once {
        bail!(
            "`collect` reads once with --once; to collect on every interval, run `seatmeter serve`"
        );
    }
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    let reports = collect_all(&config, store.as_mut(), args.collector.as_deref())?;
    let failed = reports.iter().any(|r| r.error.is_some());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs every collector (or one) once and prints what each stored.
pub fn collect_all(
    config: &Config,
    store: &mut dyn Store,
    only: Option<&str>,
) -> Result<Vec<RunReport>> {
    if let Some(name) = only
        && !config.collectors.iter().any(|c| c.name() == name)
    {
        bail!("no collector named {name:?} in {}", config.path.display());
    }
    let chosen: Vec<_> = config
        .collectors
        .iter()
        .filter(|c| only.is_none_or(|n| n == c.name()))
        .collect();
    let margin = config.collection.future_margin.0;
    let reports = collect::run_all(&config.store, store, &chosen, margin)?;
    for r in &reports {
        println!("{r}");
        if let Some(e) = &r.error {
            eprintln!("error: collector {}: {e}", r.name);
        }
    }
    if config.collectors.is_empty() {
        eprintln!(
            "warning: no [[collector]] is configured in {}",
            config.path.display()
        );
    }
    Ok(reports)
}
