//! `seatmeter gen`: a generated site (spool files, snapshots, license file,
//! configuration), deterministic from its seed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use seatmeter::dev::sitegen::{self, SiteSpec, SpoolFormat};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenFormat {
    Mixed,
    Csv,
    Jsonl,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Agents of the site.
    #[arg(long, default_value_t = 300)]
    pub agents: usize,
    /// Tenants the agents are spread over.
    #[arg(long, default_value_t = 3)]
    pub tenants: usize,
    /// Days of data.
    #[arg(long, default_value_t = 35)]
    pub days: u32,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-05")]
    pub start: String,
    /// IANA time zone of the site.
    #[arg(long, default_value = "Europe/London")]
    pub timezone: String,
    /// The seed: the same seed and options give the same site, byte for byte.
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

pub fn run(args: Args) -> Result<ExitCode> {
    let spec = SiteSpec {
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
            GenFormat::Mixed => SpoolFormat::Mixed,
            GenFormat::Csv => SpoolFormat::Csv,
            GenFormat::Jsonl => SpoolFormat::JsonLines,
        },
    };
    let g = sitegen::generate(&spec, &args.out)?;
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
