//! `seatmeter man [--out DIR]`: roff man pages, generated from the same clap definitions as
//! `--help`: seatmeter.1 and one page per subcommand (seatmeter-report.1,
//! seatmeter-license-check.1, …).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, CommandFactory};

use super::Cli;

#[derive(ClapArgs, Debug)]
#[command(after_long_help = "\
Examples:
  seatmeter man | man -l -                                  read seatmeter(1) now
  seatmeter man --out /usr/local/share/man/man1 && mandb -q  install every page
  man seatmeter-report                                      then read one

The date of the pages is SOURCE_DATE_EPOCH's when it is set (reproducible builds), else
today's.")]
pub struct Args {
    /// Write seatmeter.1 and one page per subcommand (seatmeter-report.1, …) into this
    /// folder, creating it if needed (it says how many on standard error). Without it,
    /// seatmeter.1 is printed on standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match args.out {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&page(&cmd)?)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written = 0;
            write_pages(&cmd, &dir, &mut written)?;
            eprintln!("wrote {written} man page(s) to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the page of `cmd` and those of its subcommands, depth first.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut usize) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page(cmd)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    *written += 1;
    Ok(())
}

/// The page of one command, its `.TH` line first. roff puts the definition of the
/// apostrophe string (`.ie`/`.el … Aq`) before it; it is moved after the title, where it
/// still comes before any use, so that tools reading the title from the first line (and
/// `man` itself) see a page that starts as man pages do.
fn page(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .date(date())
        .source(format!("seatmeter {}", env!("CARGO_PKG_VERSION")))
        .manual("seatmeter manual")
        .render(&mut roff)?;
    let text = String::from_utf8(roff).context("the man page is not UTF-8")?;
    let mut preamble = String::new();
    let mut rest = String::new();
    let mut lines = text.split_inclusive('\n');
    for line in lines.by_ref() {
        if line.starts_with(".TH ") {
            rest.push_str(line);
            break;
        }
        preamble.push_str(line);
    }
    rest.push_str(&preamble);
    rest.extend(lines);
    Ok(rest.into_bytes())
}

/// The pages' date: SOURCE_DATE_EPOCH's day when it is set, so that a package built twice
/// from one commit holds the same bytes; else today.
fn date() -> String {
    let at = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    at.format("%Y-%m-%d").to_string()
}
