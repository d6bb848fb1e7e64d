//! The demo's right-sizing: license tiers with prices, cost centers and a shared platform
//! cost in the configuration; in every snapshot, agents assigned a tier above what they use,
//! agents enabled who never log in, a seasonal agent tagged so it is not reclaimed, and two
//! sessions without a logout in time: one of 13.5 hours, one still open when the data
//! ends (docs/FINOPS.md).

use std::path::Path;

use anyhow::Result;

/// Adds the right-sizing part of the demo to the generated site.
pub fn prepare(dir: &Path, config: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir.join("config-snapshots"))? {
        let path = entry?.path();
        let xml = std::fs::read_to_string(&path)?;
        std::fs::write(&path, snapshot(&xml))?;
    }
    let text = std::fs::read_to_string(config)?;
    std::fs::write(config, format!("{text}{FINOPS}"))?;
    std::fs::write(
        dir.join("spool").join("2026-11-03-long-sessions.jsonl"),
        LONG,
    )?;
    Ok(())
}

/// A night-shift agent whose session ran 13.5 hours, and one who never logged out.
const LONG: &str = r#"{"ts":"2026-11-03T06:00:00Z","event":"login","tenant":"acme","agent":"a1992","media":["voice"],"groups":["Support"]}
{"ts":"2026-11-03T19:30:00Z","event":"logout","tenant":"acme","agent":"a1992","media":[],"groups":[]}
{"ts":"2026-11-06T07:00:00Z","event":"login","tenant":"globex","agent":"b2991","media":["voice"],"groups":["Ventes"]}
"#;

/// The snapshot with the demo's right-sizing cases: acme's first six voice-only agents hold
/// tier CX3; acme gets two agents who never log in (one tagged SEASONAL_BURST), globex one.
fn snapshot(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 512);
    let mut tenant = String::new();
    let mut promoted = 0;
    for line in xml.lines() {
        if let Some(rest) = line.trim().strip_prefix("<Tenant name=\"") {
            tenant = rest.split('"').next().unwrap_or_default().to_string();
        }
        if line.trim() == "</Tenant>" {
            match tenant.as_str() {
                "acme" => out.push_str(
                    "    <Agent id=\"a1990\" enabled=\"true\" media=\"voice email\" groups=\"Support\"/>\n    \
                     <Agent id=\"a1991\" enabled=\"true\" media=\"voice\" groups=\"Sales\" tags=\"SEASONAL_BURST\"/>\n",
                ),
                "globex" => out.push_str(
                    "    <Agent id=\"b2990\" enabled=\"true\" media=\"voice chat\" groups=\"Service_Client\" tier=\"CX2\"/>\n",
                ),
                _ => {}
            }
        }
        if tenant == "acme" && promoted < 6 && line.contains("media=\"voice\" ") {
            out.push_str(&line.replace("media=\"voice\" ", "media=\"voice\" tier=\"CX3\" "));
            promoted += 1;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

const FINOPS: &str = r#"
# Right-sizing (docs/FINOPS.md). The demo covers five weeks, so its look-backs are short.
[finops]
inactive_days = 14
lookback_days = 21
renewal_lookback_days = 365
shared_cost = 120000            # 1200.00 EUR a month of platform cost, shared by minutes
shared_cost_label = "Platform and telephony"

[[finops.tier]]
name = "CX1"
items = ["Genesys Inbound Voice", "Genesys Interaction Recording", "Genesys Workforce Management"]
price = 4500                    # 45.00 EUR per agent and month

[[finops.tier]]
name = "CX2"
items = ["Genesys Inbound Voice", "Genesys Interaction Recording", "Genesys Workforce Management", "Genesys E-Mail", "Genesys Web Media"]
price = 7000

[[finops.tier]]
name = "CX3"
items = ["Genesys Inbound Voice", "Genesys Interaction Recording", "Genesys Workforce Management", "Genesys E-Mail", "Genesys Web Media", "Genesys Outbound Contact"]
price = 9500

[[finops.cost_center]]
name = "Customer Care"
groups = ["Support", "Service_Client", "Kundendienst"]
from = "2026-01-01"

[[finops.cost_center]]
name = "Revenue"
groups = ["Sales", "Ventes"]
from = "2026-01-01"
# Billing, Réclamations and the other groups have no cost center: their cost shows on the
# "unallocated" line, to be reconciled.
"#;
