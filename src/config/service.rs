//! `[service]`: how `seatmeter serve` runs; `[collection]`: what every collection accepts.

use std::path::PathBuf;

use seatmeter_collectors::HumanDuration;
use serde::Deserialize;
use toml::Spanned;

/// `[service]`: how `seatmeter serve` runs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// Address of `/healthz`, `/metrics` and `/reports/...` (default 127.0.0.1:9184).
    pub listen: String,
    /// How long after local midnight the day is rolled up, so that late events are in
    /// (default "15m").
    pub rollup_delay: HumanDuration,
    /// How long raw events are kept (default "400d"). Older events are deleted once their
    /// days are rolled up; those days are then final. Rollups are kept forever.
    pub retention: HumanDuration,
    /// The longest a collection may take before it is stopped between batches (default "10m").
    pub timeout: HumanDuration,
    /// The longest wait between retries of a failing collector (default "30m"); waits
    /// double from 10 s, with jitter.
    pub max_backoff: HumanDuration,
    /// The most rows a `/reports` request may ask for (default 10,000,000; PDF reports at
    /// most 100,000): beyond, the answer is 413.
    pub max_report_rows: u64,
    /// How long a client has to send a request's headers (default "10s"): a slow or
    /// silent client is disconnected.
    pub header_timeout: HumanDuration,
    /// How many HTTP connections may be open at once (default 256); more are closed.
    pub max_connections: usize,
    /// Store connections of the HTTP side (default 2): at most this many requests read
    /// the store at once, the others wait.
    pub http_store_connections: usize,
    /// `[[service.token]]`: who may ask what over HTTP. With none, the service answers
    /// anyone, and so listens on a loopback address only.
    #[serde(rename = "token")]
    pub tokens: Vec<Spanned<TokenConfig>>,
    /// A PEM file with the server's certificate chain: the service then speaks HTTPS only
    /// (with `tls_key`).
    pub tls_certificate: Option<Spanned<PathBuf>>,
    /// A PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<Spanned<PathBuf>>,
    /// How often the live usage is computed and the alert rules are checked (default
    /// "1m"; docs/ALERTS.md).
    pub guard_interval: HumanDuration,
    /// How often the notifications due are attempted (default "5s").
    pub deliver_interval: HumanDuration,
}

/// `[[service.token]]`: an access token, by its SHA-256 (the token itself is never in
/// the configuration; `seatmeter token new` makes one).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (logged on a refused request, never the token).
    pub name: String,
    /// The SHA-256 of the token, 64 hex digits.
    pub sha256: Option<String>,
    /// The one tenant it may see (its tenant and group reports); omitted: the operator,
    /// who may see everything, `/metrics` included.
    pub tenant: Option<String>,
}

/// What an access token may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The whole site.
    Operator,
    /// One tenant's reports.
    Tenant(String),
}

/// An access token, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    pub name: String,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    pub role: Role,
    /// Where it is defined in the configuration file.
    pub line: usize,
}

/// `tls_certificate` and `tls_key`, resolved; read when the service starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// The lines of `tls_certificate` and `tls_key` in the configuration file.
    pub certificate_line: usize,
    pub key_line: usize,
}

/// Who may ask what, and over what: `[[service.token]]`, `tls_certificate`, `tls_key`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    pub tokens: Vec<AccessToken>,
    pub tls: Option<Tls>,
}

/// The SHA-256 of a `sha256 = "…"` value: 64 hex digits (either case).
pub fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// `[collection]`: what every collection (by `collect` or the service) accepts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectionConfig {
    /// How far after the collection's wall clock an instant may be (default "1d"): a line
    /// whose instant is later (a typo like 2126, a broken clock) is kept aside, as is any
    /// instant before 2000.
    pub future_margin: HumanDuration,
}

impl Default for CollectionConfig {
    fn default() -> Self {
        CollectionConfig {
            future_margin: HumanDuration(std::time::Duration::from_secs(86_400)),
        }
    }
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: "127.0.0.1:9184".into(),
            rollup_delay: HumanDuration(std::time::Duration::from_secs(15 * 60)),
            guard_interval: HumanDuration(std::time::Duration::from_secs(60)),
            deliver_interval: HumanDuration(std::time::Duration::from_secs(5)),
            retention: HumanDuration(std::time::Duration::from_secs(400 * 86_400)),
            timeout: HumanDuration(std::time::Duration::from_secs(600)),
            max_backoff: HumanDuration(std::time::Duration::from_secs(1800)),
            max_report_rows: 10_000_000,
            header_timeout: HumanDuration(std::time::Duration::from_secs(10)),
            max_connections: 256,
            http_store_connections: 2,
            tokens: Vec::new(),
            tls_certificate: None,
            tls_key: None,
        }
    }
}
