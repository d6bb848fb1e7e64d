//! `seatmeter status`: collectors, stored data, the rollup state, lines kept aside.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use seatmeter::config::Config;
use seatmeter_core::{Calendar, Day};
use seatmeter_store::Store;

use super::Global;

pub fn run(g: &Global) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    status(&config, store.as_mut(), &mut std::io::stdout())?;
    Ok(ExitCode::SUCCESS)
}

/// An instant as RFC 3339 in the site's time zone, to the second
/// (`2026-10-25T01:05:00+01:00`), or "never".
fn when(t: Option<i64>, tz: chrono_tz::Tz) -> String {
    t.map(|t| {
        chrono::DateTime::from_timestamp_nanos(t)
            .with_timezone(&tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    })
    .unwrap_or_else(|| "never".into())
}

fn status(config: &Config, store: &mut dyn Store, out: &mut dyn Write) -> Result<()> {
    let s = store.status()?;
    let tz = config.timezone;
    writeln!(
        out,
        "store: {} ({:.1} MB)",
        s.location,
        s.size_bytes as f64 / 1e6
    )?;
    writeln!(
        out,
        "site: {} (time zone {})",
        config.site,
        config.timezone.name()
    )?;
    writeln!(out, "\ncollectors:")?;
    for c in &config.collectors {
        match s.collectors.iter().find(|x| x.name == c.name()) {
            None => writeln!(out, "  {} ({}): never run", c.name(), c.kind())?,
            Some(x) => {
                writeln!(
                    out,
                    "  {} ({}): {} run(s), {} failed; last success {}; {} event(s), {} duplicate(s), {} snapshot(s), {} line(s) kept aside",
                    x.name,
                    x.kind,
                    x.runs,
                    x.failures,
                    when(x.last_success, tz),
                    x.events,
                    x.duplicates,
                    x.snapshots,
                    x.rejects
                )?;
                if let Some((at, e)) = &x.last_error {
                    writeln!(out, "    last error at {}: {e}", when(Some(*at), tz))?;
                }
            }
        }
    }
    writeln!(
        out,
        "\nstored: {} event(s) from {} to {}; {} snapshot(s); {} tenant(s), {} agent(s), {} group(s)",
        s.events,
        when(s.first_event, tz),
        when(s.last_event, tz),
        s.snapshots,
        s.tenants,
        s.agents,
        s.groups
    )?;
    match s.rolled {
        Some((a, b)) => writeln!(
            out,
            "rolled up: {} to {}",
            Calendar::date_text(a),
            Calendar::date_text(b)
        )?,
        None => writeln!(out, "rolled up: nothing yet (run `seatmeter rollup`)")?,
    }
    if s.pending_days > 0 {
        writeln!(
            out,
            "waiting for the rollup: data of {} UTC day(s)",
            s.pending_days
        )?;
    }
    if s.restatements > 0 {
        // Late data changed days already rolled up: what was reported or billed before.
        writeln!(
            out,
            "\nrestated values: {} (the last at {}): reports and bills made before show the old values; reissue them",
            s.restatements,
            when(s.last_restatement, tz)
        )?;
        let dims = store.dimensions()?;
        let cal = Calendar::new(config.timezone);
        let measures = config.measures();
        let mut all = store.restatements(Day::MIN, Day::MAX)?;
        all.sort_by_key(|r| std::cmp::Reverse(r.at));
        for r in all.iter().take(5) {
            writeln!(
                out,
                "  {}",
                seatmeter::report::restatement_line(r, &dims, &measures, &cal)
            )?;
        }
    }
    writeln!(out, "\nlines kept aside: {}", s.rejects)?;
    for r in store.rejects(Some(5))? {
        writeln!(out, "  {}:{}: {}", r.source, r.line, r.reason)?;
    }
    if s.rejects > 5 {
        writeln!(out, "  … `seatmeter rejects` lists them all")?;
    }
    Ok(())
}
