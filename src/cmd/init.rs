//! `seatmeter init`: writes a commented example configuration when the file does not
//! exist; otherwise checks it and creates the store.

use std::process::ExitCode;

use anyhow::{Context, Result};
use seatmeter::config::{self, Config};
use seatmeter::entitlement::flexnet;

use super::Global;

pub fn run(g: &Global) -> Result<ExitCode> {
    let path = &g.config;
    if !path.exists() {
        std::fs::write(path, config::sample())
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote an example configuration to {}: edit it (time zone, collectors, license files, items), then run init again",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(path)?;
    let mut store = seatmeter_store::open(&config.store)?;
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
    let (_, errors) = flexnet::load_all(&config.license_files);
    for e in &errors {
        eprintln!("warning: {e}");
    }
    for c in &config.collectors {
        for w in c.warnings() {
            eprintln!("warning: collector {:?}: {w}", c.name());
        }
    }
    Ok(ExitCode::SUCCESS)
}
