//! The configuration file (usage-semantics.md, section 8): TOML, every key checked.
//!
//! The doc comments of these structs are the reference for users; `docs/CONFIGURATION.md`
//! repeats them with examples.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::entitlement::FeatureRef;
use seatmeter_collectors::{CollectorConfig, HumanDuration};

/// The most items one site may define (an agent's items are kept as a 128-bit set).
pub const MAX_ITEMS: usize = 128;

#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    site: Option<String>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    store: Option<Spanned<StoreConfig>>,
    #[serde(default)]
    collector: Vec<Spanned<CollectorConfig>>,
    #[serde(default)]
    license: LicenseConfig,
    #[serde(default)]
    item: Vec<Spanned<ItemConfig>>,
    #[serde(default)]
    service: ServiceConfig,
    #[serde(default)]
    billing: crate::billing::BillingConfig,
}

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
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: "127.0.0.1:9184".into(),
            rollup_delay: HumanDuration(std::time::Duration::from_secs(15 * 60)),
            retention: HumanDuration(std::time::Duration::from_secs(400 * 86_400)),
            timeout: HumanDuration(std::time::Duration::from_secs(600)),
            max_backoff: HumanDuration(std::time::Duration::from_secs(1800)),
        }
    }
}

/// `[store]`: where seatmeter keeps events, snapshots, cursors and rollups.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The embedded SQLite file (default `seatmeter.db` next to the configuration file).
    pub path: Option<PathBuf>,
    /// A PostgreSQL URL, instead of `path`.
    pub url: Option<String>,
}

impl fmt::Debug for StoreConfig {
    // Never print a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("path", &self.path)
            .field("url", &self.url.as_deref().map(redact_url))
            .finish()
    }
}

pub use seatmeter_collectors::redact_url;

/// `[license]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LicenseConfig {
    /// FlexNet license files, relative to the configuration file's folder.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Entitlement XML files (docs/ENTITLEMENTS.md): system and tenant grants.
    #[serde(default)]
    pub entitlements: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Over-use when peak concurrent seats exceed the entitlement.
    #[default]
    Concurrent,
    /// Over-use when enabled (configured) seats exceed the entitlement.
    Named,
}

/// `[[item]]`: a sellable item.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ItemConfig {
    /// The name reports show, e.g. "Genesys Inbound Voice".
    pub name: String,
    /// Media that consume a seat of this item; `"*"` for any login.
    #[serde(default)]
    pub media: Vec<String>,
    /// License features that entitle it: `FEATURE` (any vendor) or `vendor:FEATURE`.
    #[serde(default)]
    pub features: Vec<String>,
    /// `concurrent` (default) or `named`.
    #[serde(default)]
    pub model: Model,
}

/// A sellable item, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    /// Lower-case media words; empty when `any` is set.
    pub media: Vec<String>,
    /// Media `*`: any login uses a seat.
    pub any: bool,
    pub features: Vec<FeatureRef>,
    pub model: Model,
}

impl Item {
    /// Whether a login with these media uses a seat of this item (section 2.2).
    pub fn consumed_by<'a>(&self, mut media: impl Iterator<Item = &'a str>) -> bool {
        self.any || media.any(|m| self.media.iter().any(|x| x == m))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file.
    pub path: PathBuf,
    /// Site name, shown on reports.
    pub site: String,
    pub timezone: Tz,
    pub store: StoreConfig,
    pub collectors: Vec<CollectorConfig>,
    pub license_files: Vec<PathBuf>,
    /// Entitlement XML files: system grants added to the license files', and tenants'.
    pub entitlement_files: Vec<PathBuf>,
    pub items: Vec<Item>,
    pub service: ServiceConfig,
    /// `[billing]`: prices for `export billing`.
    pub billing: crate::billing::Billing,
    /// Bundles defined in the entitlement files, in the order first defined.
    pub bundles: Vec<crate::entitlement_xml::Bundle>,
}

/// What reports measure: every item, then every bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub name: String,
    pub model: Model,
    /// A bundle (reported in system and tenant reports only).
    pub bundle: bool,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            line: None,
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "configuration file not found; `seatmeter --config FILE init` writes a commented example there".into()
            } else {
                format!("cannot read the configuration file: {e}")
            },
        })?;
        Config::parse(path, &text)
    }

    /// Parses configuration text; `path` names the file in messages and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let line_at =
            |offset: usize| Some(1 + text[..offset.min(text.len())].matches('\n').count());
        let err = |offset: Option<usize>, message: String| ConfigError {
            path: shown.clone(),
            line: offset.and_then(line_at),
            message,
        };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| err(e.span().map(|s| s.start), e.message().trim().to_string()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &Path| {
            if p.is_relative() {
                base.join(p)
            } else {
                p.to_path_buf()
            }
        };

        let timezone = match &raw.timezone {
            None => Tz::UTC,
            Some(tz) => tz.get_ref().parse::<Tz>().map_err(|_| {
                err(
                    Some(tz.span().start),
                    format!(
                        "unknown time zone {:?}; use an IANA name such as \"Europe/London\" or \"America/New_York\"",
                        tz.get_ref()
                    ),
                )
            })?,
        };

        let (mut store, store_at) = match raw.store {
            Some(s) => {
                let at = s.span().start;
                (s.into_inner(), Some(at))
            }
            None => (StoreConfig::default(), None),
        };
        if store.path.is_some() && store.url.is_some() {
            return Err(err(
                store_at,
                "[store] takes either path or url, not both".into(),
            ));
        }
        if store.url.is_none() {
            store.path = Some(resolve(
                store.path.as_deref().unwrap_or(Path::new("seatmeter.db")),
            ));
        }

        let mut names = HashSet::new();
        let mut collectors = Vec::new();
        for c in raw.collector {
            let at = c.span().start;
            let mut c = c.into_inner();
            if c.name().trim().is_empty() {
                return Err(err(Some(at), "a [[collector]] needs a name".into()));
            }
            if !names.insert(c.name().to_string()) {
                return Err(err(
                    Some(at),
                    format!(
                        "two collectors are named {:?}; names must be unique",
                        c.name()
                    ),
                ));
            }
            if let CollectorConfig::SqlSessions(s) = &c
                && let Err(e) = s.validate()
            {
                return Err(err(Some(at), format!("collector {:?}: {e}", c.name())));
            }
            c.resolve_paths(&base);
            collectors.push(c);
        }

        let mut items = Vec::new();
        let mut item_names = HashSet::new();
        for it in raw.item {
            let at = Some(it.span().start);
            let it = it.into_inner();
            if it.name.trim().is_empty() {
                return Err(err(at, "an [[item]] needs a name".into()));
            }
            if !item_names.insert(it.name.clone()) {
                return Err(err(
                    at,
                    format!("two items are named {:?}; names must be unique", it.name),
                ));
            }
            if it.media.is_empty() {
                return Err(err(
                    at,
                    format!(
                        "item {:?} has no media; list the media that use it (e.g. media = [\"voice\"]), or media = [\"*\"] for any login",
                        it.name
                    ),
                ));
            }
            let mut media: Vec<String> = Vec::new();
            let mut any = false;
            for m in &it.media {
                let m = m.trim();
                if m == "*" {
                    any = true;
                } else if m.is_empty() || m.chars().any(char::is_whitespace) {
                    return Err(err(
                        at,
                        format!("item {:?}: {m:?} is not a media word", it.name),
                    ));
                } else {
                    media.push(m.to_lowercase());
                }
            }
            if any {
                media.clear();
            }
            items.push(Item {
                name: it.name,
                media,
                any,
                features: it
                    .features
                    .iter()
                    .map(|f| FeatureRef::parse(f.trim()))
                    .collect(),
                model: it.model,
            });
        }
        if items.is_empty() {
            return Err(err(
                None,
                "no [[item]] is defined; define the sellable items to report (name, media, features)".into(),
            ));
        }
        if items.len() > MAX_ITEMS {
            return Err(err(
                None,
                format!(
                    "{} items are defined; at most {MAX_ITEMS} are supported",
                    items.len()
                ),
            ));
        }

        // Bundles are measured by the rollup: read them now (the grants are read again
        // when reports run, so that a changed quantity needs no rollup).
        let entitlement_files: Vec<PathBuf> = raw
            .license
            .entitlements
            .iter()
            .map(|p| resolve(p))
            .collect();
        let bundles = if entitlement_files.is_empty() {
            Vec::new()
        } else {
            let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
            crate::entitlement_xml::load_all(&entitlement_files, &names)
                .map_err(|e| ConfigError {
                    path: e.path.clone(),
                    line: Some(e.line),
                    message: e.message.clone(),
                })?
                .bundles
        };
        if items.len() + bundles.len() > MAX_ITEMS {
            return Err(err(
                None,
                format!(
                    "{} items and {} bundles are defined; at most {MAX_ITEMS} together are supported",
                    items.len(),
                    bundles.len()
                ),
            ));
        }
        Ok(Config {
            path: path.to_path_buf(),
            site: raw.site.unwrap_or_else(|| "seatmeter site".to_string()),
            timezone,
            store,
            collectors,
            license_files: raw.license.files.iter().map(|p| resolve(p)).collect(),
            entitlement_files,
            billing: raw
                .billing
                .check(
                    &items
                        .iter()
                        .map(|i| i.name.clone())
                        .chain(bundles.iter().map(|b| b.name.clone()))
                        .collect::<Vec<_>>(),
                )
                .map_err(|m| err(None, m))?,
            bundles,
            items,
            service: raw.service,
        })
    }

    /// Every item, then every bundle: the rows of a report, in order.
    pub fn measures(&self) -> Vec<Measure> {
        self.items
            .iter()
            .map(|i| Measure {
                name: i.name.clone(),
                model: i.model,
                bundle: false,
            })
            .chain(self.bundles.iter().map(|b| Measure {
                name: b.name.clone(),
                model: Model::Concurrent,
                bundle: true,
            }))
            .collect()
    }

    /// What the stored rollups depend on: the time zone, the items' names and media, and
    /// the bundles' definitions. If it changes, every day is rolled up again.
    pub fn rollup_fingerprint(&self) -> String {
        let mut s = format!("tz={}", self.timezone.name());
        for b in &self.bundles {
            for d in &b.defs {
                s.push_str(&format!(
                    ";bundle={:?}:{}:{}:{:?}:{:x}:{:x}",
                    b.name, d.issued, d.start, d.end, d.include, d.exclude
                ));
            }
        }
        for it in &self.items {
            s.push_str(&format!(
                ";item={:?}:{}",
                it.name,
                if it.any {
                    "*".to_string()
                } else {
                    it.media.join(",")
                }
            ));
        }
        s
    }
}

/// A commented example configuration, written by `init` when the file does not exist.
pub const SAMPLE: &str = r#"# seatmeter configuration. Reference: docs/CONFIGURATION.md
site = "Example contact center"     # shown on reports
timezone = "Europe/London"          # IANA name; all periods are local to it

[store]
path = "seatmeter.db"               # embedded SQLite (the default)
# url = "postgres://seatmeter@db.example.com/seatmeter"   # or PostgreSQL

[[collector]]
name = "events"
kind = "spool"                      # seat events as JSON Lines / CSV files
path = "spool"                      # new files and appended lines are read
interval = "5m"

[[collector]]
name = "cfg"
kind = "config-xml"                 # configuration snapshots (enabled agents)
path = "config-snapshots"

# [[collector]]                     # login sessions from ICON's database (read-only)
# name = "icon"
# kind = "sql-sessions"
# url = "postgres://seatmeter_ro@icon-db.example.com/icon"
# table = "g_login_session"

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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/seatmeter/site.toml"), text)
    }

    const ITEM: &str = "[[item]]\nname = \"Voice\"\nmedia = [\"voice\"]\nfeatures = [\"V\"]\n";

    #[test]
    fn sample_parses_with_defaults_and_relative_paths() {
        let c = parse(SAMPLE).unwrap();
        assert_eq!(c.timezone.name(), "Europe/London");
        assert_eq!(
            c.store.path.as_deref(),
            Some(Path::new("/etc/seatmeter/seatmeter.db"))
        );
        assert_eq!(c.collectors.len(), 2);
        assert_eq!(
            c.license_files,
            vec![PathBuf::from("/etc/seatmeter/license.dat")]
        );
        assert_eq!(c.items[0].model, Model::Concurrent);
        let c = parse(ITEM).unwrap();
        assert_eq!(c.timezone, Tz::UTC);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let cases = [
            (
                format!("timezone = \"UTC\"\ncolour = \"red\"\n{ITEM}"),
                Some(2),
                "unknown field `colour`",
            ),
            (
                format!("{ITEM}model = \"seats\"\n"),
                Some(5),
                "unknown variant `seats`",
            ),
            (
                format!("timezone = \"Europe/Londn\"\n{ITEM}"),
                Some(1),
                "unknown time zone \"Europe/Londn\"",
            ),
            (
                "[[item]]\nname = \"Chat\"\nfeatures = [\"C\"]\n".to_string(),
                Some(1),
                "item \"Chat\" has no media",
            ),
            (
                format!("{ITEM}{ITEM}"),
                Some(5),
                "two items are named \"Voice\"",
            ),
            (
                "timezone = \"UTC\"\n".to_string(),
                None,
                "no [[item]] is defined",
            ),
            (
                format!("[store]\npath = \"a.db\"\nurl = \"postgres://x\"\n{ITEM}"),
                Some(1),
                "either path or url",
            ),
            (
                format!(
                    "[[collector]]\nname = \"e\"\nkind = \"spool\"\npath = \"s\"\nspeed = 3\n{ITEM}"
                ),
                Some(1),
                "unknown field `speed`",
            ),
        ];
        for (text, line, want) in cases {
            let e = parse(&text).unwrap_err();
            assert_eq!(e.line, line, "{text}\n{e}");
            assert!(e.message.contains(want), "{text}\n{e}");
            assert!(e.to_string().starts_with("/etc/seatmeter/site.toml"), "{e}");
        }
    }

    #[test]
    fn media_and_models() {
        let c = parse("[[item]]\nname = \"Any\"\nmedia = [\"*\"]\nmodel = \"named\"\n[[item]]\nname = \"E\"\nmedia = [\"Email\", \"chat\"]\n").unwrap();
        assert!(c.items[0].any && c.items[0].model == Model::Named);
        assert!(c.items[0].consumed_by(["anything"].into_iter()));
        assert_eq!(c.items[1].media, ["email", "chat"]);
        assert!(c.items[1].consumed_by(["voice", "chat"].into_iter()));
        assert!(!c.items[1].consumed_by(["voice"].into_iter()));
    }

    #[test]
    fn passwords_are_never_printed() {
        assert_eq!(
            redact_url("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        let c = parse(&format!(
            "[store]\nurl = \"postgres://u:s3cret@h/db\"\n{ITEM}"
        ))
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
