//! `seatmeter alerts`: the alert episodes and the notification outbox (docs/ALERTS.md):
//! list them, check the rules now, send what is due, retry dead notifications,
//! acknowledge them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use seatmeter::config::Config;
use seatmeter::guard::live::live_usage;
use seatmeter_alerts::Notification;
use seatmeter_core::{Calendar, Nanos};
use seatmeter_store::Store;
use seatmeter_store::alerts::OutboxState;

use super::Global;

pub const EXAMPLES: &str = "\
Examples:
  seatmeter alerts list                  open alerts, and notifications not delivered yet
  seatmeter alerts list --all            every episode and notification
  seatmeter alerts check --dry-run       what the rules find now, and the notifications they would send
  seatmeter alerts check                 check now and write what changed (as the service does every minute)
  seatmeter alerts send                  deliver what is due now (the service does this every 5 seconds)
  seatmeter alerts retry --all           dead-lettered notifications back to the outbox
  seatmeter alerts ack 42                let notification 42 go (it is not sent)
  seatmeter alerts test                  send a sample notification to every channel now (checks URL, secret, SMTP)
  seatmeter alerts test ops-mail         … to one channel";

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Open alert episodes, and the notifications not delivered yet (pending, dead).
    List {
        /// Every episode (resolved ones too) and every notification.
        #[arg(long)]
        all: bool,
    },
    /// Check every rule now (live usage, baselines, forecasts, expiries, restatements):
    /// open and resolve episodes and write their notifications to the outbox. Collector
    /// health is checked by the service only.
    Check {
        /// Print what would change and the body of each notification; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Attempt every notification that is due now, once; failures are retried later with
    /// backoff, by the service or the next `send`.
    Send,
    /// Put dead-lettered notifications back to pending (one by its number, or --all).
    Retry {
        /// The notification's number (the first column of `seatmeter alerts list`).
        id: Option<i64>,
        /// Every dead-lettered notification.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Acknowledge a dead or pending notification: it is not sent.
    Ack {
        /// The notification's number (the first column of `seatmeter alerts list`).
        id: i64,
    },
    /// Send a sample notification (marked as a test) to every channel, or to the one
    /// named, now, and say what each receiver answered. Nothing is written to the outbox.
    Test {
        /// The channel (its `name` in `[[alerts.channel]]`).
        channel: Option<String>,
    },
}

fn now() -> Nanos {
    chrono::Utc::now()
        .timestamp_nanos_opt()
        .expect("a date before 2262")
}

fn when(t: Nanos, config: &Config) -> String {
    chrono::DateTime::from_timestamp_nanos(t)
        .with_timezone(&config.timezone)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

pub fn run(g: &Global, cmd: Command) -> Result<ExitCode> {
    let config = g.load()?;
    let mut store = seatmeter_store::open(&config.store)?;
    let out = &mut std::io::stdout();
    match cmd {
        Command::List { all } => list(&config, store.as_mut(), all, out),
        Command::Check { dry_run } => check(&config, store.as_mut(), dry_run, now(), out),
        Command::Send => {
            let r = seatmeter::guard::outbox::deliver_due(store.as_mut(), &config.alerting, &now)?;
            for (c, k) in &r.delivered {
                writeln!(out, "delivered {k} to {c}")?;
            }
            for (c, k, e) in &r.failed {
                writeln!(out, "not delivered {k} to {c}: {e}")?;
            }
            for k in &r.dead {
                writeln!(out, "dead-lettered {k}")?;
            }
            if r.delivered.is_empty() && r.failed.is_empty() {
                writeln!(out, "nothing due")?;
            }
            Ok(if r.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Retry { id, all } => {
            if id.is_none() && !all {
                bail!(
                    "name the notification to retry (its number in `seatmeter alerts list`), or --all"
                );
            }
            let n = store.outbox_retry(id, now())?;
            writeln!(out, "{n} notification(s) back to pending")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Test { channel } => test(&config, channel.as_deref(), out),
        Command::Ack { id } => {
            if !store.outbox_acknowledge(id, now())? {
                bail!("no pending or dead notification {id}: `seatmeter alerts list` shows them");
            }
            writeln!(out, "notification {id} acknowledged: it will not be sent")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(
    config: &Config,
    store: &mut dyn Store,
    all: bool,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let episodes = store.alert_episodes(!all)?;
    writeln!(
        out,
        "{} alert(s){}:",
        episodes.len(),
        if all { "" } else { " open" }
    )?;
    for e in &episodes {
        let state = match e.resolved_at {
            Some(t) => format!("resolved {}", when(t, config)),
            None => "open".into(),
        };
        writeln!(
            out,
            "  [{}] since {} ({state}): {}",
            e.rule,
            when(e.opened_at, config),
            e.summary
        )?;
    }
    let outbox: Vec<_> = store
        .outbox()?
        .into_iter()
        .filter(|e| all || matches!(e.state, OutboxState::Pending | OutboxState::Dead))
        .collect();
    writeln!(
        out,
        "\n{} notification(s){}:",
        outbox.len(),
        if all { "" } else { " not delivered" }
    )?;
    for e in &outbox {
        let error = e
            .last_error
            .as_ref()
            .map(|x| format!("; last error: {x}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:>5} {:<12} {} → {} (key {}, {} attempt(s), written {}{error})",
            e.id,
            e.state.as_str(),
            e.rule,
            e.channel,
            e.key,
            e.attempts,
            when(e.created_at, config)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks now; prints the findings and what changed (or would).
pub fn check(
    config: &Config,
    store: &mut dyn Store,
    dry_run: bool,
    now: Nanos,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    if config.alerting.rules.is_empty() {
        writeln!(
            out,
            "no [[alerts.rule]] configured: nothing to check (docs/ALERTS.md)"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let live = live_usage(store, config, now).ok();
    let (report, changes) = seatmeter::guard::evaluate(store, config, now, live, None)?;
    let cal = Calendar::new(config.timezone);
    writeln!(
        out,
        "checked {} rule(s) at {} ({}):",
        config.alerting.rules.len(),
        when(now, config),
        Calendar::date_text(cal.day_of(now))
    )?;
    for f in &report.findings {
        writeln!(out, "  [{}] {}", f.rule, f.summary)?;
    }
    if report.findings.is_empty() {
        writeln!(out, "  nothing found")?;
    }
    for r in &report.skipped {
        writeln!(
            out,
            "  [{r}] not checked here: collector health is the service's to see"
        )?;
    }
    for e in &report.errors {
        writeln!(out, "  warning: {e}")?;
    }
    let notes: usize = changes.iter().map(|c| c.notify.len()).sum();
    if dry_run {
        writeln!(out, "\nwould send {notes} notification(s):")?;
        for c in &changes {
            for n in &c.notify {
                let state = if c.fire { "fired" } else { "resolved" };
                let body = serde_json::from_str::<Notification>(&n.payload)
                    .map_err(|e| e.to_string())
                    .and_then(|note| {
                        let ch = config
                            .alerting
                            .channels
                            .iter()
                            .find(|ch| ch.name == n.channel);
                        ch.map_or(Ok(n.payload.clone()), |ch| {
                            seatmeter_alerts::preview(ch, &note)
                        })
                    })
                    .unwrap_or_else(|e| format!("(does not render: {e})"));
                writeln!(out, "  → {} ({state}, key {}): {body}", n.channel, n.key)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let changed = store.apply_alerts(&changes, now)?;
    writeln!(
        out,
        "\n{} episode(s) opened or resolved; {notes} notification(s) written to the outbox (`seatmeter alerts send` or the service delivers them)",
        changed.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Sends a sample notification to each channel (or the one named).
fn test(config: &Config, only: Option<&str>, out: &mut dyn Write) -> Result<ExitCode> {
    let channels: Vec<_> = config
        .alerting
        .channels
        .iter()
        .filter(|c| only.is_none_or(|n| n == c.name))
        .collect();
    if channels.is_empty() {
        match only {
            Some(n) => bail!(
                "no channel {n:?} in [[alerts.channel]] (there are: {})",
                config
                    .alerting
                    .channels
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => bail!("no [[alerts.channel]] configured (docs/ALERTS.md)"),
        }
    }
    let mut failed = 0;
    for c in channels {
        let mut n = Notification::sample();
        n.rule = "test".into();
        n.summary = format!("a test of channel {} from `seatmeter alerts test`", c.name);
        n.site = config.site.clone();
        n.at = chrono::DateTime::from_timestamp_nanos(now())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        n.key = format!("test-{}", now());
        let origin = config
            .channel_origins
            .get(&c.name)
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        match seatmeter_alerts::deliver(c, &n, config.alerting.timeout) {
            seatmeter_alerts::Attempt::Delivered => {
                writeln!(out, "channel {}: delivered (key {})", c.name, n.key)?
            }
            seatmeter_alerts::Attempt::Retry { error, .. } => {
                failed += 1;
                writeln!(out, "channel {}{origin}: not delivered: {error}", c.name)?
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
