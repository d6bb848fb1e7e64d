//! The commented example configuration `init` writes when the file does not exist: the
//! collector tables are each kind's own sample, so they cannot drift from the code.

const HEAD: &str = r#"# seatmeter configuration. Reference: docs/CONFIGURATION.md
site = "Example contact center"     # shown on reports
timezone = "Europe/London"          # IANA name; all periods are local to it
# week_start = "monday"             # first day of weekly periods (monday: ISO weeks)

[store]
path = "seatmeter.db"               # embedded SQLite (the default)
# url = "postgres://seatmeter@db.example.com/seatmeter"   # or PostgreSQL
"#;

const TAIL: &str = r#"
[license]
files = ["license.dat"]             # FlexNet license files
# entitlements = ["entitlements.xml"]   # a reseller's tenant grants and bundles

# [billing]                         # for `seatmeter export billing` (docs/BILLING.md)
# currency = "EUR"
# minimum = "250.00"
# [billing.prices]
# "Genesys Inbound Voice" = "18.50"

[[item]]
name = "Genesys Inbound Voice"
media = ["voice"]
features = ["DESKTOP_VOICE"]
model = "concurrent"                # or "named"

[[item]]
name = "Genesys E-Mail"
media = ["email"]
features = ["DESKTOP_EMAIL"]
"#;

/// The example configuration: site and store, every collector kind's sample, license
/// files and items.
pub fn sample() -> String {
    let mut s = HEAD.to_string();
    for (_, kind) in seatmeter_collectors::KINDS {
        s.push('\n');
        s.push_str(kind);
        s.push('\n');
    }
    s.push_str(TAIL);
    s
}
