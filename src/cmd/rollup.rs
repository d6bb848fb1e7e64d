//! `seatmeter rollup`: rolls up every day whose data changed (late data included), or the
//! days given.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};
use seatmeter::config::Config;
use seatmeter::rollup::{Days, Rollup, RollupStats};
use seatmeter_core::{Calendar, calendar};
use seatmeter_store::Store;

use super::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// First day to roll up again (YYYY-MM-DD, local to the site's time zone).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day to roll up again (inclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
}

pub fn run(g: &Global, args: Args) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
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

/// Rolls up, printing progress on a terminal and what was done.
pub fn rollup(config: &Config, store: &mut dyn Store, days: Days) -> Result<RollupStats> {
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut n = 0;
    let stats = Rollup::new(store, config).run(days, &mut |d| {
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
