//! `seatmeter token new`: a fresh access token for the service, and the lines to paste.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, Subcommand};
use sha2::{Digest, Sha256};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a new random access token once, and the `[[service.token]]` lines that let
    /// it in.
    ///
    /// The token comes from the operating system's random number generator (32 bytes,
    /// written as `smt_` and 64 hex digits). seatmeter keeps only its SHA-256: paste the
    /// printed lines into the configuration file, give the token to its holder (Prometheus,
    /// a tenant's portal), and restart the service. The token is not shown again; if it is
    /// lost, make a new one and replace the lines.
    ///
    /// Without --tenant the token is an operator's: it sees every report and /metrics. With
    /// --tenant it sees that tenant's tenant and group reports only.
    ///
    /// Example:
    ///   seatmeter token new --tenant acme --name acme-portal
    ///   curl -H "Authorization: Bearer smt_…" "http://127.0.0.1:9184/reports/tenant/daily?from=2026-10-01"
    New(NewArgs),
}

#[derive(ClapArgs, Debug)]
pub struct NewArgs {
    /// The one tenant the token may see (as tenants are named in the events); omitted:
    /// the whole site.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Who holds it, shown in the log when it is refused (default: the tenant's name, or
    /// "operator"). Names must be unique in the configuration.
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(cmd: Command) -> Result<ExitCode> {
    let Command::New(args) = cmd;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the operating system's random number generator failed")?;
    let token = format!("smt_{}", hex(&secret));
    let hash = hex(&Sha256::digest(token.as_bytes()));
    let name = args
        .name
        .or_else(|| args.tenant.clone())
        .unwrap_or_else(|| "operator".into());
    println!("token (shown once; give it to its holder, do not put it in the configuration):");
    println!();
    println!("  {token}");
    println!();
    println!("add to the configuration file, then restart `seatmeter serve`:");
    println!();
    println!("[[service.token]]");
    println!("name = {}", toml_string(&name));
    println!("sha256 = \"{hash}\"");
    match &args.tenant {
        Some(t) => println!("tenant = {}", toml_string(t)),
        None => println!("# no tenant: an operator token (every report, /metrics)"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
