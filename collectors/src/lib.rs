//! Seat-event and snapshot types, and every seatmeter collector.
//!
//! A collector reads one source (a spool folder, a folder of configuration snapshots, a
//! database table) from where its cursor says it stopped, and hands [`Batch`]es to a
//! [`Sink`], each with the cursor that follows it. It never writes the store: the sink
//! (in the `seatmeter` crate) commits each batch and its cursor in one transaction, so a
//! crash at any moment neither loses nor doubles an event. The runner, not the collector,
//! owns the timer, the retries and the metrics.
//!
//! Adding a collector is one file in this crate plus one variant in [`CollectorConfig`].

pub mod batch;
pub mod config_xml;
pub mod spool;
pub mod sql_sessions;
pub mod time;

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

pub use batch::{
    Batch, Event, EventFields, EventKind, ListId, Reject, Snapshot, SnapshotAgent, Sym, Words,
};
pub use time::Nanos;

/// Why a collection failed as a whole (a bad line is not a failure: it is a [`Reject`]).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the stored cursor of collector {collector:?} is unreadable ({reason}); reset it with `seatmeter collector reset {collector}`"
    )]
    Cursor { collector: String, reason: String },
    #[error("storing a batch failed: {0}")]
    Deliver(String),
    #[error("{0}")]
    Source(String),
    #[error("stopped before the end of the collection")]
    Stopped,
}

impl CollectError {
    pub fn io(path: &Path, source: std::io::Error) -> CollectError {
        CollectError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Where batches go. Implemented by the store adapter in the `seatmeter` crate (and by
/// plain vectors in tests).
pub trait Sink {
    /// Stores `batch` and the cursor that follows it, atomically: either both or neither.
    fn deliver(&mut self, batch: Batch, cursor: &str) -> Result<(), CollectError>;

    /// Asks a long collection to stop between batches (shutdown, timeout).
    fn should_stop(&self) -> bool {
        false
    }
}

/// What a collection saw, for the runner's log line and the `collect` output.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Files (or documents, or queries) read in this collection.
    pub sources: u64,
    /// Lines (or rows) read, including the ones kept aside.
    pub lines: u64,
    /// Things that are not errors but that a user should know: a last line without its
    /// newline yet, a file that was replaced and is read again.
    pub notes: Vec<String>,
}

/// One source of seat events or configuration snapshots.
pub trait Collector: Send {
    fn name(&self) -> &str;

    /// Reads what is new since `cursor` (None the first time) and delivers it to `sink` in
    /// one or more batches, each with the cursor that follows it.
    fn collect(
        &mut self,
        cursor: Option<&str>,
        sink: &mut dyn Sink,
    ) -> Result<Summary, CollectError>;
}

/// Default time between two collections of one collector.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// The `[[collector]]` tables of the configuration file, one variant per kind. `build`
/// turns one into a running collector.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CollectorConfig {
    /// Seat events as JSON Lines (`*.jsonl`) and CSV (`*.csv`) files in a folder.
    Spool(spool::SpoolConfig),
    /// Configuration snapshots as XML files (`*.xml`) in a folder.
    ConfigXml(config_xml::ConfigXmlConfig),
    /// Login sessions from a table of a PostgreSQL database (ICON's login sessions, or
    /// any table through a query).
    SqlSessions(sql_sessions::SqlSessionsConfig),
}

impl CollectorConfig {
    pub fn name(&self) -> &str {
        match self {
            CollectorConfig::Spool(c) => &c.name,
            CollectorConfig::ConfigXml(c) => &c.name,
            CollectorConfig::SqlSessions(c) => &c.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            CollectorConfig::Spool(_) => "spool",
            CollectorConfig::ConfigXml(_) => "config-xml",
            CollectorConfig::SqlSessions(_) => "sql-sessions",
        }
    }

    pub fn interval(&self) -> Duration {
        match self {
            CollectorConfig::Spool(c) => c.interval.0,
            CollectorConfig::ConfigXml(c) => c.interval.0,
            CollectorConfig::SqlSessions(c) => c.interval.0,
        }
    }

    /// Makes relative paths relative to `base` (the configuration file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut std::path::PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        match self {
            CollectorConfig::Spool(c) => resolve(&mut c.path),
            CollectorConfig::ConfigXml(c) => resolve(&mut c.path),
            CollectorConfig::SqlSessions(_) => {}
        }
    }

    pub fn build(&self) -> Box<dyn Collector> {
        match self {
            CollectorConfig::Spool(c) => Box::new(spool::SpoolCollector::new(c.clone())),
            CollectorConfig::ConfigXml(c) => {
                Box::new(config_xml::ConfigXmlCollector::new(c.clone()))
            }
            CollectorConfig::SqlSessions(c) => {
                Box::new(sql_sessions::SqlSessionsCollector::new(c.clone()))
            }
        }
    }
}

/// A duration written as text in the configuration (`"5m"`, `"90s"`, `"1h 30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "bad duration {s:?} ({e}); write e.g. \"5m\" or \"30s\""
                ))
            })
    }
}

impl Default for HumanDuration {
    fn default() -> Self {
        HumanDuration(DEFAULT_INTERVAL)
    }
}

/// Lists the files of `dir` whose extension is one of `exts` (lower case), in name order.
pub(crate) fn list_files(
    dir: &Path,
    exts: &[&str],
) -> Result<Vec<(String, std::path::PathBuf)>, CollectError> {
    let rd = std::fs::read_dir(dir).map_err(|e| CollectError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| CollectError::io(dir, e))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if !ext.is_some_and(|e| exts.contains(&e.as_str())) {
            continue;
        }
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            out.push((name.to_string(), path));
        }
    }
    out.sort();
    Ok(out)
}

/// A database URL with its password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The password of a database URL, as written in it (to keep it out of messages).
pub fn password_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (auth, _) = rest.rsplit_once('@')?;
    auth.split_once(':').map(|(_, p)| p.to_string())
}

/// Hex of a SHA-256 digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// A sink that keeps what it is given.
    #[derive(Default)]
    pub struct VecSink {
        pub batches: Vec<Batch>,
        pub cursor: Option<String>,
    }

    impl Sink for VecSink {
        fn deliver(&mut self, batch: Batch, cursor: &str) -> Result<(), CollectError> {
            self.batches.push(batch);
            self.cursor = Some(cursor.to_string());
            Ok(())
        }
    }

    impl VecSink {
        /// Events of every batch, as readable tuples.
        pub fn events(&self) -> Vec<(String, &'static str, String, String)> {
            self.batches
                .iter()
                .flat_map(|b| {
                    b.events.iter().map(move |e| {
                        (
                            time::format_utc(e.ts),
                            e.kind.as_str(),
                            b.string(e.tenant).to_string(),
                            b.string(e.agent).to_string(),
                        )
                    })
                })
                .collect()
        }

        pub fn rejects(&self) -> Vec<Reject> {
            self.batches
                .iter()
                .flat_map(|b| b.rejects.clone())
                .collect()
        }
    }

    #[test]
    fn collector_config_rejects_unknown_keys_and_kinds() {
        #[derive(Deserialize, Debug)]
        struct F {
            #[allow(dead_code)]
            collector: Vec<CollectorConfig>,
        }
        let ok: F =
            toml::from_str("[[collector]]\nname='e'\nkind='spool'\npath='spool'\ninterval='90s'\n")
                .unwrap();
        assert_eq!(ok.collector[0].interval(), Duration::from_secs(90));
        let err = toml::from_str::<F>("[[collector]]\nname='e'\nkind='spool'\npath='s'\npth='x'\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pth"), "{err}");
        let err = toml::from_str::<F>("[[collector]]\nname='e'\nkind='ftp'\npath='s'\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ftp") && err.contains("spool"), "{err}");
        let err = toml::from_str::<F>(
            "[[collector]]\nname='e'\nkind='spool'\npath='s'\ninterval='often'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bad duration"), "{err}");
    }
}
