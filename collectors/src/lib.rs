//! Seat-event and snapshot types, and every seatmeter collector.
//!
//! A collector reads one source (a spool folder, a folder of configuration snapshots, a
//! database table) from where its cursor says it stopped, and hands [`Batch`]es to a
//! [`Sink`], each with the cursor that follows it. It never writes the store: the sink
//! (in the `seatmeter` crate) commits each batch and its cursor in one transaction, so a
//! crash at any moment neither loses nor doubles an event. The runner, not the collector,
//! owns the timer, the retries and the metrics.
//!
//! Adding a collector kind is one file in this crate (its configuration, implementing
//! [`Kind`], and its [`Collector`]) plus one line in the registry below (`registry!`).

pub mod batch;

use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use batch::{
    Batch, Event, EventFields, EventKind, ListId, Reject, Snapshot, SnapshotAgent, SnapshotPlace,
    Sym, Window, Words,
};

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
        "the stored cursor of collector {collector:?} is unreadable ({reason}); reset it with `seatmeter reset-cursor {collector}`"
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

/// Where batches go, with their cursor as the store keeps it (JSON text). Implemented by
/// the store adapter in the `seatmeter` crate (and by plain vectors in tests).
pub trait Sink {
    /// Stores `batch` and the cursor that follows it, atomically: either both or neither.
    fn deliver(&mut self, batch: Batch, cursor: &str) -> Result<(), CollectError>;

    /// Asks a long collection to stop between batches (shutdown, timeout).
    fn should_stop(&self) -> bool {
        false
    }

    /// The instants the collection accepts (see [`Window`]).
    fn window(&self) -> Window {
        Window::default()
    }
}

/// A collector's side of a [`Sink`]: batches with the collector's own cursor type.
pub struct Delivery<'s, C> {
    sink: &'s mut dyn Sink,
    cursor: PhantomData<fn(&C)>,
}

impl<C: Serialize> Delivery<'_, C> {
    /// Delivers `batch` and the cursor that follows it.
    pub fn deliver(&mut self, batch: Batch, cursor: &C) -> Result<(), CollectError> {
        let text = serde_json::to_string(cursor).expect("a cursor serializes");
        self.sink.deliver(batch, &text)
    }

    pub fn should_stop(&self) -> bool {
        self.sink.should_stop()
    }

    /// The instants the collection accepts: batches are made in it.
    pub fn window(&self) -> Window {
        self.sink.window()
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

/// One source of seat events or configuration snapshots, with its own cursor type.
pub trait Collector: Send {
    /// Where the collector stopped; `Default` is "from the start".
    type Cursor: Serialize + DeserializeOwned + Default;

    fn name(&self) -> &str;

    /// Reads what is new since `cursor` and delivers it in one or more batches, each with
    /// the cursor that follows it.
    fn collect(
        &mut self,
        cursor: Self::Cursor,
        out: &mut Delivery<'_, Self::Cursor>,
    ) -> Result<Summary, CollectError>;
}

/// A collector of any kind, its cursor as the text the store keeps.
pub trait AnyCollector: Send {
    fn name(&self) -> &str;

    /// Reads what is new since `cursor` (None the first time) into `sink`.
    fn collect(
        &mut self,
        cursor: Option<&str>,
        sink: &mut dyn Sink,
    ) -> Result<Summary, CollectError>;
}

impl<T: Collector> AnyCollector for T {
    fn name(&self) -> &str {
        Collector::name(self)
    }

    fn collect(
        &mut self,
        cursor: Option<&str>,
        sink: &mut dyn Sink,
    ) -> Result<Summary, CollectError> {
        let cursor = match cursor {
            None => T::Cursor::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| CollectError::Cursor {
                collector: Collector::name(self).to_string(),
                reason: e.to_string(),
            })?,
        };
        let mut out = Delivery {
            sink,
            cursor: PhantomData,
        };
        Collector::collect(self, cursor, &mut out)
    }
}

/// A collector kind, described by its configuration: how it is named and checked, where
/// its paths are, how it is built, and a sample `[[collector]]` table for `init`, the
/// README and the packaged configuration.
pub trait Kind: Clone + std::fmt::Debug + PartialEq + DeserializeOwned {
    /// `kind = "…"` in the configuration.
    const KIND: &'static str;
    /// A `[[collector]]` table of this kind, with comments, as users are shown it.
    const SAMPLE: &'static str;

    fn name(&self) -> &str;

    /// Time between two collections in `seatmeter serve`.
    fn interval(&self) -> Duration;

    /// Checks what can be checked without the source.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// Makes relative paths relative to `base` (the configuration file's folder).
    fn resolve_paths(&mut self, _base: &Path) {}

    /// What `init` should tell the user about the source (a folder that does not exist yet).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    fn build(&self) -> Box<dyn AnyCollector>;
}

/// Builds the `[[collector]]` enum from one `module: Variant(config type)` line per kind:
/// declares the kind's module (its file), and the variant of its configuration.
macro_rules! registry {
    ($($module:ident: $variant:ident($config:ty)),+ $(,)?) => {
        $(pub mod $module;)+

        /// The `[[collector]]` tables of the configuration file, one variant per kind.
        #[derive(Debug, Clone, serde::Deserialize, PartialEq)]
        #[serde(tag = "kind", rename_all = "kebab-case")]
        pub enum CollectorConfig {
            $($variant($config)),+
        }

        /// Every kind's name and sample `[[collector]]` table, in registry order.
        pub const KINDS: &[(&str, &str)] = &[$((<$config as Kind>::KIND, <$config as Kind>::SAMPLE)),+];

        impl CollectorConfig {
            pub fn kind(&self) -> &'static str {
                match self { $(CollectorConfig::$variant(_) => <$config as Kind>::KIND),+ }
            }
            pub fn name(&self) -> &str {
                match self { $(CollectorConfig::$variant(c) => c.name()),+ }
            }
            pub fn interval(&self) -> Duration {
                match self { $(CollectorConfig::$variant(c) => c.interval()),+ }
            }
            pub fn validate(&self) -> Result<(), String> {
                match self { $(CollectorConfig::$variant(c) => c.validate()),+ }
            }
            pub fn resolve_paths(&mut self, base: &Path) {
                match self { $(CollectorConfig::$variant(c) => c.resolve_paths(base)),+ }
            }
            pub fn warnings(&self) -> Vec<String> {
                match self { $(CollectorConfig::$variant(c) => c.warnings()),+ }
            }
            pub fn build(&self) -> Box<dyn AnyCollector> {
                match self { $(CollectorConfig::$variant(c) => c.build()),+ }
            }
        }
    };
}

// The registry: one line per kind, naming its file (module) and its configuration. The
// variant's name, in kebab-case, is the `kind` of its `[[collector]]` table (a test
// checks it against the kind's `Kind::KIND`).
registry! {
    spool: Spool(spool::SpoolConfig),
    config_xml: ConfigXml(config_xml::ConfigXmlConfig),
    sql_sessions: SqlSessions(sql_sessions::SqlSessionsConfig),
}

/// Default time between two collections of one collector.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// A duration written as text in the configuration (`"5m"`, `"90s"`, `"1h 30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> serde::Deserialize<'de> for HumanDuration {
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

/// Makes a relative path relative to `base`.
pub(crate) fn resolve(base: &Path, p: &mut std::path::PathBuf) {
    if p.is_relative() {
        *p = base.join(&*p);
    }
}

/// The files of a source folder a collector reads, in name order, and what it should
/// say about the entries it does not read.
pub(crate) struct Listing {
    pub files: Vec<(String, std::path::PathBuf)>,
    pub notes: Vec<String>,
}

/// Lists the files of `dir` whose extension is one of `exts` (any case), in name order.
/// Hidden files (`.name`) are skipped. A symbolic link is followed: a link to a file is
/// read under the link's name, unless it points to a file of the same folder that is read
/// anyway (then it is skipped, so that nothing is read twice); a link to nothing or to a
/// folder is skipped with a note. A `dir` that is a file is an error that says so.
pub(crate) fn list_files(dir: &Path, exts: &[&str]) -> Result<Listing, CollectError> {
    if dir.is_file() {
        return Err(CollectError::Source(format!(
            "{} is a file, not a folder: set the collector's path to the folder its files are in",
            dir.display()
        )));
    }
    let rd = std::fs::read_dir(dir).map_err(|e| CollectError::io(dir, e))?;
    let mut listing = Listing {
        files: Vec::new(),
        notes: Vec::new(),
    };
    let mut links = Vec::new();
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
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() {
            listing.files.push((name.to_string(), path));
        } else if kind.is_symlink() {
            links.push((name.to_string(), path));
        }
    }
    for (name, path) in links {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                let target = std::fs::canonicalize(&path).ok();
                let same = target.as_ref().and_then(|t| {
                    listing
                        .files
                        .iter()
                        .find(|(_, p)| std::fs::canonicalize(p).ok().as_ref() == Some(t))
                });
                match same {
                    Some((other, _)) => listing.notes.push(format!(
                        "{name} is a link to {other}, which is read under its own name"
                    )),
                    None => listing.files.push((name, path)),
                }
            }
            Ok(_) => listing
                .notes
                .push(format!("{name} is a link to a folder: not read")),
            Err(e) => listing
                .notes
                .push(format!("{name} is a link to nothing ({e}): not read")),
        }
    }
    listing.files.sort();
    Ok(listing)
}

/// A folder a collector reads, for `init`'s warnings.
pub(crate) fn folder_warnings(path: &Path) -> Vec<String> {
    if path.is_dir() {
        Vec::new()
    } else if path.exists() {
        vec![format!(
            "{} is a file, not a folder: set the collector's path to the folder its files are in",
            path.display()
        )]
    } else {
        vec![format!("folder {} does not exist yet", path.display())]
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;
    use seatmeter_core::time;

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

    #[derive(serde::Deserialize, Debug)]
    struct File {
        collector: Vec<CollectorConfig>,
    }

    #[test]
    fn collector_config_rejects_unknown_keys_and_kinds() {
        let ok: File =
            toml::from_str("[[collector]]\nname='e'\nkind='spool'\npath='spool'\ninterval='90s'\n")
                .unwrap();
        assert_eq!(ok.collector[0].interval(), Duration::from_secs(90));
        let err =
            toml::from_str::<File>("[[collector]]\nname='e'\nkind='spool'\npath='s'\npth='x'\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("pth"), "{err}");
        let err = toml::from_str::<File>("[[collector]]\nname='e'\nkind='ftp'\npath='s'\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ftp") && err.contains("spool"), "{err}");
        let err = toml::from_str::<File>(
            "[[collector]]\nname='e'\nkind='spool'\npath='s'\ninterval='often'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bad duration"), "{err}");
    }

    /// Each kind's sample is a valid `[[collector]]` table of that kind, and the registry's
    /// variant names are the kinds' names.
    #[test]
    fn every_sample_parses_as_its_own_kind() {
        assert_eq!(KINDS.len(), 3);
        for (kind, sample) in KINDS {
            let uncommented: String = sample
                .lines()
                .map(|l| l.strip_prefix("# ").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
            let f: File = toml::from_str(&uncommented)
                .unwrap_or_else(|e| panic!("the sample of {kind} does not parse: {e}\n{sample}"));
            assert_eq!(f.collector.len(), 1, "{kind}");
            let c = &f.collector[0];
            assert_eq!(c.kind(), *kind);
            assert!(c.validate().is_ok(), "{kind}: {:?}", c.validate());
            assert!(sample.contains(&format!("kind = \"{kind}\"")), "{kind}");
        }
    }

    #[test]
    fn a_stored_cursor_that_does_not_read_is_an_error_naming_the_collector() {
        let dir = tempfile::tempdir().unwrap();
        let c = CollectorConfig::Spool(spool::SpoolConfig {
            name: "events".into(),
            path: dir.path().to_path_buf(),
            interval: HumanDuration::default(),
            settle: HumanDuration::default(),
        });
        let err = c
            .build()
            .collect(Some("{\"files\": 3}"), &mut VecSink::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"events\"") && err.contains("seatmeter reset-cursor events"),
            "{err}"
        );
    }
}
