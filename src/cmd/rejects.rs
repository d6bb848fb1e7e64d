//! `seatmeter rejects`: every line the collectors kept aside, with file, line and reason.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show at most this many (oldest first).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
}

pub fn run(g: &Global, args: Args) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    let mut out = std::io::stdout().lock();
    let rejects = store.rejects(Some(args.limit))?;
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
