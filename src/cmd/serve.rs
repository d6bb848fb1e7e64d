//! `seatmeter serve`: the service (see `seatmeter::service`).

use std::process::ExitCode;

use anyhow::Result;

use super::Global;

pub fn run(g: &Global) -> Result<ExitCode> {
    seatmeter::service::serve(g.load()?)?;
    Ok(ExitCode::SUCCESS)
}
