//! The demo's guardrails (docs/ALERTS.md, docs/GUARDRAILS.md): a tenant whose voice use
//! grows towards its grant (a forecast exceedance) and jumps on the last day (a baseline
//! breach), an e-mail add-on that expires in 25 days from today (an expiry warning), and
//! alert rules with a webhook channel, so that the demo can print what it would send.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use chrono::{Days, NaiveDate};

/// The growing tenant, its grant and its agents.
const TENANT: &str = "umbrella";
const GRANT: u32 = 25;

/// Agents of `umbrella` logged in on day `k` of the demo (0-based): 4 and 0.4 more each
/// day, and 22 on the last day.
fn logged_in(k: u32, days: u32) -> u32 {
    if k + 1 == days { 22 } else { 4 + (k * 2) / 5 }
}

/// Adds the guardrails part of the demo to the generated site; `today` dates the expiring
/// add-on (the demo's data is of the past; the license's expiry is from today).
pub fn prepare(
    dir: &Path,
    config: &Path,
    start: NaiveDate,
    days: u32,
    today: NaiveDate,
) -> Result<()> {
    let mut spool = String::new();
    for k in 0..days {
        let day = start + Days::new(k as u64);
        for a in 0..logged_in(k, days) {
            let agent = format!("u{:03}", a + 1);
            let _ = writeln!(
                spool,
                r#"{{"ts":"{day}T08:{:02}:00Z","event":"login","tenant":"{TENANT}","agent":"{agent}","media":["voice"],"groups":["Care"]}}"#,
                a % 60
            );
            let _ = writeln!(
                spool,
                r#"{{"ts":"{day}T16:{:02}:00Z","event":"logout","tenant":"{TENANT}","agent":"{agent}","media":[],"groups":[]}}"#,
                a % 60
            );
        }
    }
    std::fs::write(dir.join("spool").join("umbrella-growth.jsonl"), spool)?;

    // The reseller's grant of umbrella's voice seats.
    let xml_path = dir.join("entitlements.xml");
    let xml = std::fs::read_to_string(&xml_path)?;
    let grant = format!(
        "  <!-- umbrella grows towards its {GRANT} voice seats: the forecast says when it gets there. -->\n  <Tenant name=\"{TENANT}\">\n    <Entitlement item=\"Genesys Inbound Voice\" quantity=\"{GRANT}\" start=\"2026-01-01\"/>\n    <Entitlement item=\"Genesys Interaction Recording\" quantity=\"{GRANT}\" start=\"2026-01-01\"/>\n  </Tenant>\n</Entitlements>"
    );
    std::fs::write(&xml_path, xml.replace("</Entitlements>", &grant))?;

    // An e-mail add-on of 10 seats from today, for 25 days.
    let lic = |d: NaiveDate| d.format("%d-%b-%Y").to_string().to_lowercase();
    let ends = today + Days::new(25);
    let license = dir.join("license.dat");
    let mut text = std::fs::read_to_string(&license)?;
    let _ = write!(
        text,
        "# An e-mail add-on for the winter campaign: 10 seats, not renewed yet.\n\
         INCREMENT DESKTOP_EMAIL genesys.d 8.5 {} 10 ISSUED={} START={} SIGN=\"EE01\"\n",
        lic(ends),
        lic(today),
        lic(today)
    );
    std::fs::write(&license, text)?;

    let text = std::fs::read_to_string(config)?;
    std::fs::write(config, format!("{text}{ALERTS}"))?;
    Ok(())
}

/// Prints the expiry warnings and what the alert rules find now, with the bodies they
/// would send.
pub fn show(
    config: &seatmeter::config::Config,
    store: &mut dyn seatmeter_store::Store,
    today: NaiveDate,
    now: seatmeter_core::Nanos,
) -> Result<()> {
    println!("\n== seatmeter guardrails expiring");
    let day = seatmeter_core::calendar::day_of_date(today);
    let (expiring, _) = seatmeter::guard::expiry::expiring(config, day, &config.guard);
    for e in &expiring {
        println!("  {}", e.sentence());
    }
    println!(
        "\n== seatmeter alerts check --dry-run   (the service checks every minute and delivers through the outbox)"
    );
    crate::cmd::alerts::check(config, store, true, now, &mut std::io::stdout().lock())?;
    Ok(())
}

const ALERTS: &str = r#"
# Guardrails and alerts (docs/GUARDRAILS.md, docs/ALERTS.md).
[guardrails]
baseline_days = 30
tolerance_percent = 15
expiry_warn_days = [90, 60, 30, 7]

[alerts]
dead_letter_after = "24h"

# Where the operations team is told. Nothing listens on this port in the demo: run
# `seatmeter alerts list` to see the notifications wait in the outbox.
[[alerts.channel]]
name = "ops-chat"
kind = "webhook"
url = "http://127.0.0.1:9/hooks/seatmeter"
template = "slack"

[[alerts.rule]]
name = "over-use"
condition = "over_use"
channels = ["ops-chat"]

[[alerts.rule]]
name = "baseline"
condition = "baseline_breach"
channels = ["ops-chat"]

[[alerts.rule]]
name = "forecast-30d"
condition = "forecast"
within_days = 30
channels = ["ops-chat"]

[[alerts.rule]]
name = "expiry"
condition = "expiry"
channels = ["ops-chat"]
"#;
