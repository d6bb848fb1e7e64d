//! The command line (docs/SEMANTICS.md, section 9): one file per subcommand, each with
//! its arguments and what it does; this file holds the options every command shares and
//! the dispatch.

mod alerts;
mod collect;
mod completions;
mod dev;
mod export;
mod guardrails;
mod init;
mod license;
mod logs;
mod man;
mod migrate_store;
mod recommend;
mod rejects;
mod report;
mod reset_cursor;
mod rollup;
mod serve;
mod showback;
mod status;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use seatmeter::config::Config;

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

Try it on a generated site first: seatmeter demo

Exit status: 0 done and complete; 1 error, or a report refused (incomplete or too
large); 3 a report or export written with --allow-incomplete whose numbers are
incomplete (it says so where the numbers are).";

const COLLECT_EXAMPLES: &str = "\
Examples:
  seatmeter collect --once                      every collector of seatmeter.toml
  seatmeter -c /etc/seatmeter/seatmeter.toml collect --once --collector spool";

const ROLLUP_EXAMPLES: &str = "\
Examples:
  seatmeter rollup                              every day whose data changed
  seatmeter rollup --from 2026-10-01 --to 2026-10-31";

const REPORT_EXAMPLES: &str = "\
Examples:
  seatmeter report --scope system --granularity daily --from 2026-10-01 --to 2026-10-31
  seatmeter report --scope tenant --id acme --granularity 10min --from 2026-10-25 --format table
  seatmeter report --scope group --granularity monthly --from 2026-10-01 --format pdf --out october.pdf";

const EXPORT_EXAMPLES: &str = "\
Examples:
  seatmeter export billing --month 2026-10 --out /srv/billing
  seatmeter export billing --month 2026-10 --tenant acme --out /srv/billing/acme";

#[derive(Parser, Debug)]
#[command(name = "seatmeter", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// The configuration file (TOML; see docs/CONFIGURATION.md).
    #[arg(
        long,
        short = 'c',
        global = true,
        help_heading = "Global options",
        env = "SEATMETER_CONFIG",
        default_value = "seatmeter.toml"
    )]
    pub config: PathBuf,

    /// Log lines (on standard error) as text, as JSON objects for log shippers, or for
    /// the systemd journal (a `<N>` priority prefix, no timestamp). Set the level with
    /// SEATMETER_LOG (e.g. debug); the service logs at info, other commands at warn.
    /// Text is coloured only on a terminal and when NO_COLOR is not set.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_enum,
        default_value = "text",
        env = "SEATMETER_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
    Journal,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the store and check the configuration. Writes a commented example
    /// configuration first if the file does not exist.
    Init,
    /// Read what is new from every collector into the store, once: `collect --once`.
    ///
    /// `--once` is required so that nobody starts a one-off read believing it keeps
    /// collecting: to collect on every interval, run the service, `seatmeter serve`.
    /// Running `collect --once` again reads only what is new (each source keeps a cursor);
    /// nothing is stored twice.
    #[command(after_help = COLLECT_EXAMPLES)]
    Collect(collect::Args),
    /// Roll up every day whose data changed since the last rollup (or the days given).
    ///
    /// A day's rollup holds its exact peaks per 10 minutes for every scope and item; reports
    /// read only rollups. Late or corrected data marks its days changed, so running
    /// `rollup` after every `collect` is enough; `--from/--to` rolls days up again anyway.
    #[command(after_help = ROLLUP_EXAMPLES)]
    Rollup(rollup::Args),
    /// Write a compliance report from the stored rollups.
    ///
    /// One row per scope, period and item: peak concurrent seats (and when), enabled
    /// seats, the entitlement and over-use. A report whose days are not rolled up, or whose
    /// collectors are behind, is refused unless --allow-incomplete is given.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(report::Args),
    /// Check FlexNet license files and show what they grant.
    #[command(subcommand)]
    License(license::Command),
    /// Write files for other systems (billing).
    #[command(subcommand, after_help = EXPORT_EXAMPLES)]
    Export(export::Command),
    /// Right-sizing: propose which licenses to reclaim, downgrade or renew, and approve
    /// or reject each proposal on the record (docs/FINOPS.md).
    #[command(subcommand, after_help = recommend::EXAMPLES)]
    Recommend(recommend::Command),
    /// Alerts: the open episodes, the notification outbox, checking the rules now,
    /// delivering, retrying and acknowledging notifications (docs/ALERTS.md).
    #[command(subcommand, after_help = alerts::EXAMPLES)]
    Alerts(alerts::Command),
    /// Guardrails as rows: baseline breaches, forecasts, expiring licenses and grants
    /// (docs/GUARDRAILS.md); PDF reports show them on their guardrails page.
    #[command(subcommand, after_help = guardrails::EXAMPLES)]
    Guardrails(guardrails::Command),
    /// A month's license cost per cost center: direct seats, the shared platform cost by
    /// logged-in minutes, and an "unallocated" line for groups no cost center holds.
    ///
    /// Example: seatmeter showback --month 2026-10 --format csv
    Showback(showback::Args),
    /// Show collectors, stored data, lines kept aside and the rollup state.
    Status,
    /// List the lines the collectors kept aside, with file, line and reason.
    Rejects(rejects::Args),
    /// Forget a collector's cursor, so that its source is read again from the start
    /// (events already stored are not stored twice).
    ResetCursor(reset_cursor::Args),
    /// Generate a realistic sample site, collect it, roll it up and report on it.
    Demo(dev::demo::Args),
    /// Generate a site (spool files, snapshots, license file, configuration) from a seed.
    Gen(dev::generate::Args),
    /// Copy an embedded (SQLite) store into PostgreSQL, every table and id, in one
    /// transaction; prints the rows copied per table. The target must be empty. Then set
    /// `[store] url` in the configuration to the target.
    ///
    /// Example: seatmeter migrate-store --from seatmeter.db --to postgres://seatmeter@db/site1
    MigrateStore(migrate_store::Args),
    /// Read every file below a folder and split it into lines, on every core, doing
    /// nothing else: the machine's limit that `bench` compares the ingest with.
    #[command(hide = true)]
    Scan(dev::scan::Args),
    /// Measure the pipeline: generate a site of a given size, then time `collect --once`,
    /// `rollup` and month-long 10-minute reports (CSV for every scope, PDF for the system),
    /// each as its own process with its peak memory. Several sizes print the scaling curve.
    ///
    /// Example: seatmeter bench --sessions 0.25,0.5,1,2,5 (build with --release first).
    Bench(dev::bench::Args),
    /// Make access tokens for the service (`token new --help`).
    #[command(subcommand)]
    Token(token::Command),
    /// Run as a service: collect on every interval, roll up after local midnight, serve
    /// /healthz, /metrics and /reports; stops cleanly on SIGTERM or SIGINT.
    Serve,
    /// Print the shell completion script for bash, zsh or fish, generated from the same
    /// definitions as `--help` (so it always names the commands and options there are).
    /// The Debian package installs all three where the shells look for them.
    Completions(completions::Args),
    /// Write the man pages (roff): seatmeter.1 and one per subcommand (seatmeter-report.1,
    /// seatmeter-license-check.1, …), generated from the same definitions as `--help`.
    /// Without --out, print seatmeter.1. The Debian package installs them, gzipped.
    Man(man::Args),
}

/// The exit status of a report or export written with `--allow-incomplete` whose numbers
/// are incomplete: written, but not "all is well" (0), nor an error (1).
pub fn incomplete() -> ExitCode {
    ExitCode::from(3)
}

/// What every command may use: where the configuration is.
pub struct Global {
    pub config: PathBuf,
}

impl Global {
    /// The configuration, checked.
    pub fn load(&self) -> Result<Config> {
        let config = Config::load(&self.config)?;
        for w in &config.warnings {
            tracing::warn!("{w}");
        }
        Ok(config)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if matches!(cli.command, Command::Serve) {
        "info"
    } else {
        "warn"
    };
    logs::init(cli.log_format, level);
    let journal = cli.log_format == LogFormat::Journal;
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let message = format!("error: {e:#}");
            if journal {
                // Each line is an entry of its own in the journal: each an error.
                for line in message.lines() {
                    eprintln!("<3>{line}");
                }
            } else {
                eprintln!("{message}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let g = Global { config: cli.config };
    match cli.command {
        Command::Init => init::run(&g),
        Command::Collect(args) => collect::run(&g, args),
        Command::Rollup(args) => rollup::run(&g, args),
        Command::Report(args) => report::run(&g, args),
        Command::License(cmd) => license::run(&g, cmd),
        Command::Export(cmd) => export::run(&g, cmd),
        Command::Recommend(cmd) => recommend::run(&g, cmd),
        Command::Alerts(cmd) => alerts::run(&g, cmd),
        Command::Guardrails(cmd) => guardrails::run(&g, cmd),
        Command::Showback(args) => showback::run(&g, args),
        Command::Status => status::run(&g),
        Command::Rejects(args) => rejects::run(&g, args),
        Command::ResetCursor(args) => reset_cursor::run(&g, args),
        Command::Demo(args) => dev::demo::run(args),
        Command::Gen(args) => dev::generate::run(args),
        Command::MigrateStore(args) => migrate_store::run(args),
        Command::Bench(args) => dev::bench::run(args),
        Command::Scan(args) => dev::scan::run(args),
        Command::Serve => serve::run(&g),
        Command::Token(cmd) => token::run(cmd),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command and subcommand, with its path (`seatmeter export billing`).
    fn commands() -> Vec<(String, clap::Command)> {
        fn walk(path: String, c: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            out.push((path.clone(), c.clone()));
            for s in c.get_subcommands() {
                walk(format!("{path} {}", s.get_name()), s, out);
            }
        }
        let mut out = Vec::new();
        let mut cli = Cli::command();
        cli.build();
        walk("seatmeter".into(), &cli, &mut out);
        out
    }

    #[test]
    fn every_command_and_option_is_described() {
        let mut missing = Vec::new();
        for (path, c) in commands() {
            if path != "seatmeter" && c.get_about().is_none() && c.get_name() != "help" {
                missing.push(path.clone());
            }
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if a.is_hide_set() || matches!(id, "help" | "version") {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
        }
        assert!(missing.is_empty(), "not described: {missing:?}");
    }

    #[test]
    fn global_options_have_their_own_heading_and_examples_are_given() {
        for (path, c) in commands() {
            for a in c.get_arguments().filter(|a| a.is_global_set()) {
                assert_eq!(a.get_help_heading(), Some("Global options"), "{path}");
            }
        }
        for name in ["report", "rollup", "export", "collect"] {
            let mut cli = Cli::command();
            cli.build();
            let c = cli.find_subcommand_mut(name).unwrap();
            let help = c.render_long_help().to_string();
            assert!(help.contains("Examples:\n  seatmeter"), "{name}: {help}");
            assert!(help.contains("Global options:"), "{name}: {help}");
        }
    }
}
