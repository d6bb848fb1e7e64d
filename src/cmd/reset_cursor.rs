//! `seatmeter reset-cursor NAME`: the collector reads its source again from the start.

use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The collector's name.
    pub name: String,
}

pub fn run(g: &Global, args: Args) -> Result<ExitCode> {
    let name = args.name;
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    if store.reset_cursor(&name)? {
        println!(
            "collector {name:?} will read its source again from the start; events already stored are not stored twice"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("no collector named {name:?} has a cursor in the store")
    }
}
