//! `seatmeter status`: collectors, stored data, the rollup state, lines kept aside.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use seatmeter::config::Config;
use seatmeter_core::{Calendar, Day};
use seatmeter_store::Store;
use seatmeter_store::alerts::OutboxState;

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
    guardrails(config, store, out)?;
    writeln!(out, "\nlines kept aside: {}", s.rejects)?;
    for r in store.rejects(Some(5))? {
        writeln!(out, "  {}:{}: {}", r.source, r.line, r.reason)?;
    }
    if s.rejects > 5 {
        writeln!(out, "  … `seatmeter rejects` lists them all")?;
    }
    Ok(())
}

/// What expires soon, the open alerts and the notifications not delivered.
fn guardrails(config: &Config, store: &mut dyn Store, out: &mut dyn Write) -> Result<()> {
    let tz = config.timezone;
    let today = Calendar::new(tz).day_of(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let (expiring, errors) = seatmeter::guard::expiry::expiring(config, today, &config.guard);
    if !expiring.is_empty() || !errors.is_empty() {
        writeln!(out, "\nexpiring licenses and grants: {}", expiring.len())?;
        for e in &expiring {
            writeln!(out, "  {}", e.sentence())?;
        }
        for e in &errors {
            writeln!(out, "  could not read: {e}")?;
        }
    }
    let open = store.alert_episodes(true)?;
    let outbox = store.outbox()?;
    let count = |st: OutboxState| outbox.iter().filter(|e| e.state == st).count();
    let (pending, dead) = (count(OutboxState::Pending), count(OutboxState::Dead));
    if config.alerting.rules.is_empty() && open.is_empty() && outbox.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nalerts: {} open; notifications: {pending} pending, {dead} dead-lettered{}",
        open.len(),
        if dead > 0 {
            " (`seatmeter alerts list` shows them, `seatmeter alerts retry --all` sends them again)"
        } else {
            ""
        }
    )?;
    for e in open.iter().take(10) {
        writeln!(
            out,
            "  [{}] since {}: {}",
            e.rule,
            when(Some(e.opened_at), tz),
            e.summary
        )?;
    }
    // A channel failing now: the newest error of a notification still pending.
    let mut failing: Vec<(&str, &str)> = outbox
        .iter()
        .rev()
        .filter(|e| e.state == OutboxState::Pending)
        .filter_map(|e| e.last_error.as_deref().map(|x| (e.channel.as_str(), x)))
        .collect();
    failing.sort_by_key(|f| f.0);
    failing.dedup_by_key(|f| f.0);
    for (channel, error) in failing {
        writeln!(
            out,
            "  channel {channel} failing: {error} (retried with backoff)"
        )?;
    }
    Ok(())
}
