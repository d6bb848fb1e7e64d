//! `seatmeter license check`: each line of FlexNet license files with its count, start
//! and expiry, and what they grant on a day (per feature, and per item with a
//! configuration).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use seatmeter::config::Config;
use seatmeter::entitlement::flexnet::{self, FeatureRef, Ledger, LicenseFile};
use seatmeter_core::{Day, calendar};

use super::Global;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Parse license files; print each line, its counts, start and expiry, and what the
    /// files grant on a day (today by default). With --config, per configured item too.
    Check {
        /// FlexNet license files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The day to evaluate (YYYY-MM-DD); default today in the site's time zone.
        #[arg(long)]
        date: Option<String>,
    },
}

pub fn run(g: &Global, cmd: Command) -> Result<ExitCode> {
    let Command::Check { files, date } = cmd;
    // The configuration is optional here: with one, entitlement per item is shown.
    let config = if g.config.exists() {
        Some(g.load()?)
    } else {
        None
    };
    license_check(
        &files,
        date.as_deref(),
        config.as_ref(),
        &mut std::io::stdout(),
    )
}

fn license_check(
    files: &[PathBuf],
    date: Option<&str>,
    config: Option<&Config>,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let day: Day = match date {
        Some(d) => calendar::parse_date(d).map_err(anyhow::Error::msg)?,
        None => {
            let tz = config.map(|c| c.timezone).unwrap_or(chrono_tz::UTC);
            calendar::day_of_date(chrono::Utc::now().with_timezone(&tz).date_naive())
        }
    };
    let date = calendar::date_of_day(day);
    let (loaded, errors) = flexnet::load_all(files);
    for e in &errors {
        writeln!(out, "{e}\n  no entitlement is taken from this file")?;
    }
    let ledger = Ledger::new(&loaded);
    for (fi, f) in loaded.iter().enumerate() {
        file_lines(out, &loaded, &ledger, fi, f, date)?;
    }
    let mut features: Vec<(String, String)> = ledger
        .lines
        .iter()
        .map(|(_, l)| (l.vendor.clone(), l.name.clone()))
        .collect();
    features.sort();
    features.dedup();
    writeln!(out, "\nEntitlement on {date}, per feature:")?;
    for (vendor, name) in &features {
        let f = FeatureRef {
            vendor: Some(vendor.clone()),
            name: name.clone(),
        };
        let e = ledger
            .entitled(std::slice::from_ref(&f), date)
            .map(|e| e.to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(out, "  {:<32} {e:>10}", f.to_string())?;
    }
    if let Some(config) = config {
        writeln!(
            out,
            "\nEntitlement on {date}, per item of {}:",
            config.path.display()
        )?;
        for it in &config.items {
            let e = ledger
                .entitled(&it.features, date)
                .map(|e| e.to_string())
                .unwrap_or_else(|| "none (no line names its features)".into());
            let names: Vec<String> = it.features.iter().map(|f| f.to_string()).collect();
            writeln!(out, "  {:<32} {e:>10}   ({})", it.name, names.join(", "))?;
        }
    }
    let guard = config.map(|c| c.guard.clone()).unwrap_or_default();
    let soon = seatmeter::guard::expiry::license_expiring(&loaded, day, &guard);
    let horizon = guard.expiry_warn_days.first().copied().unwrap_or(0);
    if soon.is_empty() {
        writeln!(
            out,
            "\nNothing expires within {horizon} days of {date} (or it is renewed by another line)."
        )?;
    } else {
        writeln!(
            out,
            "\nExpiring within {horizon} days of {date} (warned at {} days):",
            guard.thresholds_text()
        )?;
        for e in &soon {
            writeln!(out, "  {}", e.sentence())?;
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every line of one license file, with what the rules make of it on `date`.
fn file_lines(
    out: &mut dyn Write,
    loaded: &[LicenseFile],
    ledger: &Ledger,
    fi: usize,
    f: &LicenseFile,
    date: chrono::NaiveDate,
) -> Result<()> {
    writeln!(out, "{} (sha256 {})", f.path, f.sha256)?;
    writeln!(
        out,
        "  {:>5}  {:<10} {:<20} {:<12} {:<9} {:<11} {:>9}  {:<11} {:<11} note",
        "line", "type", "feature", "vendor", "version", "expiry", "count", "start", "issued"
    )?;
    for l in &f.lines {
        match &l.feature {
            None => writeln!(
                out,
                "  {:>5}  {:<10} {}",
                l.line,
                l.keyword.as_str(),
                l.text
            )?,
            Some(fl) => {
                let idx = ledger
                    .origin
                    .iter()
                    .position(|&(i, line)| i == fi && line == l.line);
                let note = match idx.and_then(|i| ledger.ignored[i]) {
                    Some(flexnet::Ignored::Superseded(by)) => {
                        let (bf, bl) = ledger.origin[by];
                        format!("voided by SUPERSEDE at {}:{bl}", loaded[bf].path)
                    }
                    Some(flexnet::Ignored::LaterFeature(first)) => {
                        let (ff, fline) = ledger.origin[first];
                        format!(
                            "ignored: only the first FEATURE line counts ({}:{fline})",
                            loaded[ff].path
                        )
                    }
                    None if !fl.valid_on(date) => format!("not valid on {date}"),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "  {:>5}  {:<10} {:<20} {:<12} {:<9} {:<11} {:>9}  {:<11} {:<11} {}",
                    l.line,
                    l.keyword.as_str(),
                    fl.name,
                    fl.vendor,
                    fl.version,
                    fl.expiry.to_string(),
                    fl.count
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "uncounted".into()),
                    fl.start
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                    fl.issued
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                    note
                )?;
            }
        }
    }
    Ok(())
}
