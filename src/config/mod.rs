//! The configuration file (docs/SEMANTICS.md, section 8): TOML, every key checked.
//!
//! Parsing is pure: [`ConfigFile::parse`] reads nothing but the text it is given. The one
//! thing a site's configuration takes from another file, the bundle definitions of its
//! entitlement files (the rollup measures bundles), is added in a second, explicit step
//! ([`ConfigFile::with_bundles`]); [`Config::load`] does both.
//!
//! The doc comments of these structs are the reference for users; `docs/CONFIGURATION.md`
//! repeats them with examples.

pub mod billing;
mod guard;
mod sample;
pub mod service;
mod timezone;

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use seatmeter_collectors::CollectorConfig;
use seatmeter_store::StoreConfig;
use serde::Deserialize;
use toml::Spanned;

use crate::entitlement::{Bundle, FeatureRef};
pub use billing::{Billing, BillingConfig};
pub use sample::sample;
pub use service::{Access, AccessToken, CollectionConfig, Role, ServiceConfig, Tls};

/// The most items one site may define (an agent's items are kept as a 128-bit set).
pub const MAX_ITEMS: usize = 128;

#[derive(Debug, Clone, thiserror::Error)]
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
    week_start: Option<Spanned<String>>,
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
    collection: CollectionConfig,
    #[serde(default)]
    billing: BillingConfig,
    finops: Option<Spanned<seatmeter_finops::FinopsConfig>>,
    guardrails: Option<Spanned<seatmeter_guard::GuardConfig>>,
    alerts: Option<Spanned<seatmeter_alerts::AlertsConfig>>,
}

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

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Concurrent => "concurrent",
            Model::Named => "named",
        }
    }
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

/// What the configuration file says, checked, before the bundle definitions of its
/// entitlement files are added.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The site's configuration, with no bundles yet and no billing.
    config: Config,
    billing: BillingConfig,
}

/// A site's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file.
    pub path: PathBuf,
    /// Site name, shown on reports.
    pub site: String,
    pub timezone: Tz,
    /// The day weekly periods start on (`week_start`; Monday, ISO weeks, by default).
    pub week_start: chrono::Weekday,
    pub store: StoreConfig,
    pub collectors: Vec<CollectorConfig>,
    pub license_files: Vec<PathBuf>,
    /// Entitlement XML files: system grants added to the license files', and tenants'.
    pub entitlement_files: Vec<PathBuf>,
    pub items: Vec<Item>,
    pub service: ServiceConfig,
    /// `[[service.token]]` and TLS: who may ask what over HTTP, and over what.
    pub access: Access,
    /// `[collection]`: what every collection accepts.
    pub collection: CollectionConfig,
    /// `[billing]`: prices for `export billing`.
    pub billing: Billing,
    /// `[finops]`: right-sizing rules, tiers and cost centers (docs/FINOPS.md), checked.
    pub finops: seatmeter_finops::Finops,
    /// `[guardrails]`: baselines, forecasts and expiry thresholds (docs/GUARDRAILS.md).
    pub guard: seatmeter_guard::Guard,
    /// `[alerts]`: rules and channels (docs/ALERTS.md).
    pub alerting: seatmeter_alerts::Alerting,
    /// Where each alert channel is defined (`file:line`), by name, for the errors of a
    /// channel that fails at run time.
    pub channel_origins: BTreeMap<String, String>,
    /// Bundles defined in the entitlement files, in the order first defined.
    pub bundles: Vec<Bundle>,
    /// What was accepted but deserves a word (a legacy time-zone name), with its line:
    /// every command logs these as warnings.
    pub warnings: Vec<ConfigError>,
}

/// What reports measure: every item, then every bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub name: String,
    pub model: Model,
    /// A bundle (reported in system and tenant reports only).
    pub bundle: bool,
}

/// Where in the file a problem is, for [`ConfigError`]s.
struct Place<'t> {
    path: String,
    text: &'t str,
}

impl Place<'_> {
    fn err(&self, offset: Option<usize>, message: String) -> ConfigError {
        ConfigError {
            path: self.path.clone(),
            line: offset.map(|o| 1 + self.text[..o.min(self.text.len())].matches('\n').count()),
            message,
        }
    }
}

impl Config {
    /// Reads the configuration file, then the bundle definitions of the entitlement files
    /// it names.
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
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let file = ConfigFile::parse(path, text)?;
        let bundles = file.read_bundles()?;
        file.with_bundles(bundles)
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

    /// The names of the items, in configuration order.
    pub fn item_names(&self) -> Vec<String> {
        self.items.iter().map(|i| i.name.clone()).collect()
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

impl ConfigFile {
    /// Parses configuration text; `path` names the file in messages and anchors relative
    /// paths. Reads no file.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let place = Place {
            path: path.display().to_string(),
            text,
        };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| place.err(e.span().map(|s| s.start), e.message().trim().to_string()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &Path| {
            if p.is_relative() {
                base.join(p)
            } else {
                p.to_path_buf()
            }
        };
        let (tz, tz_warning) = timezone(&place, raw.timezone.as_ref())?;
        let items = items(&place, raw.item)?;
        let (finops, finops_warnings) = finops(&place, raw.finops, &items, &resolve)?;
        let guard = guard::guardrails(&place, raw.guardrails)?;
        let (alerting, channel_origins) = guard::alerts(&place, raw.alerts, &items)?;
        let config = Config {
            path: path.to_path_buf(),
            site: raw.site.unwrap_or_else(|| "seatmeter site".to_string()),
            timezone: tz,
            week_start: week_start(&place, raw.week_start.as_ref())?,
            store: store(&place, raw.store, &resolve)?,
            collectors: collectors(&place, raw.collector, &base)?,
            license_files: raw.license.files.iter().map(|p| resolve(p)).collect(),
            entitlement_files: raw
                .license
                .entitlements
                .iter()
                .map(|p| resolve(p))
                .collect(),
            items,
            access: access(&place, &raw.service, &resolve)?,
            service: raw.service,
            collection: raw.collection,
            billing: Billing::default(),
            finops,
            guard,
            alerting,
            channel_origins,
            bundles: Vec::new(),
            warnings: tz_warning.into_iter().chain(finops_warnings).collect(),
        };
        Ok(ConfigFile {
            config,
            billing: raw.billing,
        })
    }

    /// The entitlement files the configuration names.
    pub fn entitlement_files(&self) -> &[PathBuf] {
        &self.config.entitlement_files
    }

    /// Reads the bundle definitions of the entitlement files (the grants are read again
    /// when reports run, so that a changed quantity needs no rollup).
    pub fn read_bundles(&self) -> Result<Vec<Bundle>, ConfigError> {
        if self.config.entitlement_files.is_empty() {
            return Ok(Vec::new());
        }
        let names = self.config.item_names();
        crate::entitlement::xml::load_all(&self.config.entitlement_files, &names)
            .map(|e| e.bundles)
            .map_err(|e| ConfigError {
                path: e.path.clone(),
                line: Some(e.line),
                message: e.message.clone(),
            })
    }

    /// The site's configuration with these bundles; checks what depends on them (how many
    /// items and bundles there are, and the prices, which may name bundles).
    pub fn with_bundles(self, bundles: Vec<Bundle>) -> Result<Config, ConfigError> {
        let mut config = self.config;
        let place = Place {
            path: config.path.display().to_string(),
            text: "",
        };
        if config.items.len() + bundles.len() > MAX_ITEMS {
            return Err(place.err(
                None,
                format!(
                    "{} items and {} bundles are defined; at most {MAX_ITEMS} together are supported",
                    config.items.len(),
                    bundles.len()
                ),
            ));
        }
        config.bundles = bundles;
        let measures: Vec<String> = config.measures().into_iter().map(|m| m.name).collect();
        config.billing = self
            .billing
            .check(&measures)
            .map_err(|m| place.err(None, m))?;
        Ok(config)
    }
}

/// `[finops]`, checked against the items (an absent section has every default), and the
/// lines of its cost-center file that were kept aside, as warnings naming file and line.
fn finops(
    place: &Place<'_>,
    raw: Option<Spanned<seatmeter_finops::FinopsConfig>>,
    items: &[Item],
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<(seatmeter_finops::Finops, Vec<ConfigError>), ConfigError> {
    let Some(raw) = raw else {
        return Ok((seatmeter_finops::Finops::default(), Vec::new()));
    };
    let at = raw.span().start;
    let mut f = raw.into_inner();
    let file = f.cost_centers_file.as_deref().map(resolve);
    f.cost_centers_file = file.clone();
    let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
    let floor = seatmeter_finops::KEPT_SESSION_HOURS;
    if f.long_session_hours < floor {
        return Err(place.err(
            Some(at),
            format!(
                "[finops]: long_session_hours = {}: the rollup keeps sessions longer than {floor} hours, so the limit is at least {floor}",
                f.long_session_hours
            ),
        ));
    }
    let checked = f
        .check(&names)
        .map_err(|errors| place.err(Some(at), format!("[finops]: {}", errors.join("; "))))?;
    let warnings = checked
        .csv_rejects
        .iter()
        .map(|r| ConfigError {
            path: file
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            line: Some(r.line as usize),
            message: format!("cost-center line kept aside: {}", r.message),
        })
        .collect();
    Ok((checked, warnings))
}

/// The time zone (UTC when not given), and the warning a legacy name deserves.
fn timezone(
    place: &Place<'_>,
    tz: Option<&Spanned<String>>,
) -> Result<(Tz, Option<ConfigError>), ConfigError> {
    let Some(tz) = tz else {
        return Ok((Tz::UTC, None));
    };
    let at = Some(tz.span().start);
    let checked = timezone::check(tz.get_ref()).map_err(|m| place.err(at, m))?;
    Ok((checked.tz, checked.warning.map(|m| place.err(at, m))))
}

/// The first day of a business week: a day's English name (`"sunday"`), Monday when not
/// given.
fn week_start(
    place: &Place<'_>,
    day: Option<&Spanned<String>>,
) -> Result<chrono::Weekday, ConfigError> {
    let Some(day) = day else {
        return Ok(chrono::Weekday::Mon);
    };
    let name = day.get_ref().trim().to_ascii_lowercase();
    const DAYS: [(&str, chrono::Weekday); 7] = [
        ("monday", chrono::Weekday::Mon),
        ("tuesday", chrono::Weekday::Tue),
        ("wednesday", chrono::Weekday::Wed),
        ("thursday", chrono::Weekday::Thu),
        ("friday", chrono::Weekday::Fri),
        ("saturday", chrono::Weekday::Sat),
        ("sunday", chrono::Weekday::Sun),
    ];
    DAYS.iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, d)| d)
        .ok_or_else(|| {
            place.err(
                Some(day.span().start),
                format!(
                    "week_start = {:?} is not a day of the week: write one of monday, tuesday, wednesday, thursday, friday, saturday, sunday",
                    day.get_ref()
                ),
            )
        })
}

fn store(
    place: &Place<'_>,
    raw: Option<Spanned<StoreConfig>>,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<StoreConfig, ConfigError> {
    let (mut store, at) = match raw {
        Some(s) => {
            let at = s.span().start;
            (s.into_inner(), Some(at))
        }
        None => (StoreConfig::default(), None),
    };
    if store.path.is_some() && store.url.is_some() {
        return Err(place.err(at, "[store] takes either path or url, not both".into()));
    }
    if store.url.is_none() {
        store.path = Some(resolve(
            store.path.as_deref().unwrap_or(Path::new("seatmeter.db")),
        ));
    }
    Ok(store)
}

/// The access tokens and TLS files of `[service]`, checked (the files are read when the
/// service starts).
fn access(
    place: &Place<'_>,
    service: &ServiceConfig,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<Access, ConfigError> {
    let line = |offset: usize| place.err(Some(offset), String::new()).line.unwrap_or(0);
    let mut tokens: Vec<AccessToken> = Vec::new();
    for t in &service.tokens {
        let at = Some(t.span().start);
        let raw = t.get_ref();
        if raw.name.trim().is_empty() {
            return Err(place.err(at, "a [[service.token]] needs a name".into()));
        }
        let Some(hex) = &raw.sha256 else {
            return Err(place.err(
                at,
                format!(
                    "token {:?} has no sha256; `seatmeter token new` makes a token and prints its hash",
                    raw.name
                ),
            ));
        };
        let Some(sha256) = service::parse_sha256(hex.trim()) else {
            return Err(place.err(
                at,
                format!(
                    "token {:?}: sha256 must be the 64 hex digits of the token's SHA-256 (not the token itself); `seatmeter token new` prints it",
                    raw.name
                ),
            ));
        };
        if tokens.iter().any(|o| o.name == raw.name) {
            return Err(place.err(
                at,
                format!("two tokens are named {:?}; names must be unique", raw.name),
            ));
        }
        if let Some(o) = tokens.iter().find(|o| o.sha256 == sha256) {
            return Err(place.err(
                at,
                format!(
                    "token {:?} has the same sha256 as token {:?} (line {}); give each holder a token of its own",
                    raw.name, o.name, o.line
                ),
            ));
        }
        let role = match &raw.tenant {
            None => Role::Operator,
            Some(t) if t.trim().is_empty() => {
                return Err(place.err(
                    at,
                    format!(
                        "token {:?}: tenant is empty; name the tenant, or omit it for an operator token",
                        raw.name
                    ),
                ));
            }
            Some(t) => Role::Tenant(t.clone()),
        };
        tokens.push(AccessToken {
            name: raw.name.clone(),
            sha256,
            role,
            line: line(t.span().start),
        });
    }
    let tls = match (&service.tls_certificate, &service.tls_key) {
        (None, None) => None,
        (Some(c), Some(k)) => Some(Tls {
            certificate: resolve(c.get_ref()),
            key: resolve(k.get_ref()),
            certificate_line: line(c.span().start),
            key_line: line(k.span().start),
        }),
        (Some(c), None) => {
            return Err(place.err(
                Some(c.span().start),
                "[service] tls_certificate is given without tls_key; give both (PEM files), or neither".into(),
            ));
        }
        (None, Some(k)) => {
            return Err(place.err(
                Some(k.span().start),
                "[service] tls_key is given without tls_certificate; give both (PEM files), or neither".into(),
            ));
        }
    };
    Ok(Access { tokens, tls })
}

/// The shortest collection interval a configuration may give.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

fn collectors(
    place: &Place<'_>,
    raw: Vec<Spanned<CollectorConfig>>,
    base: &Path,
) -> Result<Vec<CollectorConfig>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for c in raw {
        let at = Some(c.span().start);
        let mut c = c.into_inner();
        if c.name().trim().is_empty() {
            return Err(place.err(at, "a [[collector]] needs a name".into()));
        }
        if !names.insert(c.name().to_string()) {
            return Err(place.err(
                at,
                format!(
                    "two collectors are named {:?}; names must be unique",
                    c.name()
                ),
            ));
        }
        c.validate()
            .map_err(|e| place.err(at, format!("collector {:?}: {e}", c.name())))?;
        // "0s" would collect in a busy loop.
        if c.interval() < MIN_INTERVAL {
            return Err(place.err(
                at,
                format!(
                    "collector {:?}: interval {:?} is shorter than the 100ms minimum (the default is 5m)",
                    c.name(),
                    c.interval()
                ),
            ));
        }
        c.resolve_paths(base);
        out.push(c);
    }
    Ok(out)
}

fn items(place: &Place<'_>, raw: Vec<Spanned<ItemConfig>>) -> Result<Vec<Item>, ConfigError> {
    let mut items = Vec::new();
    let mut item_names = HashSet::new();
    for it in raw {
        let at = Some(it.span().start);
        let it = it.into_inner();
        if it.name.trim().is_empty() {
            return Err(place.err(at, "an [[item]] needs a name".into()));
        }
        if !item_names.insert(it.name.clone()) {
            return Err(place.err(
                at,
                format!("two items are named {:?}; names must be unique", it.name),
            ));
        }
        items.push(item(place, at, it)?);
    }
    if items.is_empty() {
        return Err(place.err(
            None,
            "no [[item]] is defined; define the sellable items to report (name, media, features)"
                .into(),
        ));
    }
    if items.len() > MAX_ITEMS {
        return Err(place.err(
            None,
            format!(
                "{} items are defined; at most {MAX_ITEMS} are supported",
                items.len()
            ),
        ));
    }
    Ok(items)
}

fn item(place: &Place<'_>, at: Option<usize>, it: ItemConfig) -> Result<Item, ConfigError> {
    if it.media.is_empty() {
        return Err(place.err(
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
            return Err(place.err(at, format!("item {:?}: {m:?} is not a media word", it.name)));
        } else {
            // Lower-cased as the collectors lower-case the media of events and snapshots
            // (ASCII letters only), so that the same word always matches.
            media.push(m.to_ascii_lowercase());
        }
    }
    if any {
        media.clear();
    }
    Ok(Item {
        name: it.name,
        media,
        any,
        features: it
            .features
            .iter()
            .map(|f| FeatureRef::parse(f.trim()))
            .collect(),
        model: it.model,
    })
}

#[cfg(test)]
mod tests;
