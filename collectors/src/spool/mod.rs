//! The `spool` collector: seat events as JSON Lines (`*.jsonl`) and CSV (`*.csv`) files in
//! one folder (docs/SEMANTICS.md, section 2).
//!
//! Within one collection it reads new files in name order, and the lines appended to files
//! it has already read. Its cursor keeps, per file, the byte offset and line number it
//! reached and a digest of the file's first bytes, so that a file replaced under the same
//! name is read again from its start (duplicates are stored once by the store).
//!
//! A line is read once it ends with a newline. A last line without one is read when it is
//! a complete JSON object (JSON Lines), or a CSV record of every column that parses, once
//! the file has not changed for `settle` (a half-written CSV line can look complete); a
//! last line cut inside a UTF-8 character, or one that does not parse yet, waits for its
//! writer, however long it pauses, and the collection says it is waiting for it. Only when
//! the file has not changed for a day (`ABANDONED`, or `settle` if longer) is such a line
//! read as it is, and kept aside if it is bad: nothing waits for ever unseen.

mod file;
mod line;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::batch::{Batch, Window};
use crate::{AnyCollector, CollectError, Collector, Delivery, HumanDuration, Kind, Summary};
use file::FileReader;

/// `kind = "spool"`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpoolConfig {
    /// Unique name of this collector; its cursor and metrics are kept under it.
    pub name: String,
    /// The spool folder. Relative to the configuration file's folder.
    pub path: PathBuf,
    /// Time between two collections in `seatmeter serve` (default "5m").
    #[serde(default)]
    pub interval: HumanDuration,
    /// How long a CSV file must stay unchanged before a last line without a newline is
    /// read (default "30s").
    #[serde(default = "default_settle")]
    pub settle: HumanDuration,
}

fn default_settle() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}

impl Kind for SpoolConfig {
    const KIND: &'static str = "spool";
    const SAMPLE: &'static str = r#"[[collector]]
name = "events"
kind = "spool"                       # seat events as JSON Lines / CSV files
path = "spool"                       # a folder: new files and appended lines are read
interval = "5m""#;

    fn name(&self) -> &str {
        &self.name
    }

    fn interval(&self) -> Duration {
        self.interval.0
    }

    fn resolve_paths(&mut self, base: &Path) {
        crate::resolve(base, &mut self.path);
    }

    fn warnings(&self) -> Vec<String> {
        crate::folder_warnings(&self.path)
    }

    fn build(&self) -> Box<dyn AnyCollector> {
        Box::new(SpoolCollector::new(self.clone()))
    }
}

/// Events per delivered batch: bounds memory on large spools, and makes progress durable.
const BATCH_EVENTS: usize = 1 << 20;
/// How many events may wait parsed, ahead of the file being taken: bounds memory when the
/// store is slower than the parsers (a spool of thousands of small files).
const READ_AHEAD_EVENTS: usize = 1 << 20;
/// Bytes read from a file at a time.
const READ_BLOCK: usize = 8 << 20;
/// How much of a file's start the cursor fingerprints to notice a replaced file.
const HEAD_BYTES: u64 = 1024;

pub const CSV_HEADER: [&str; 7] = ["ts", "event", "tenant", "agent", "place", "groups", "media"];

/// Per file, where the collector stopped.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    files: BTreeMap<String, FileState>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileState {
    /// Bytes consumed: everything before this offset has been delivered.
    offset: u64,
    /// Lines consumed.
    line: u64,
    /// SHA-256 (hex) of the first `head_len` bytes.
    head: String,
    head_len: u64,
    /// The last line read had no newline (it was complete without one): a newline the
    /// writer adds after it ends that line, and is no line of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    open_line: bool,
}

pub struct SpoolCollector {
    config: SpoolConfig,
    /// Events per delivered batch.
    batch_events: usize,
}

impl SpoolCollector {
    pub fn new(config: SpoolConfig) -> SpoolCollector {
        SpoolCollector {
            config,
            batch_events: BATCH_EVENTS,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

impl Collector for SpoolCollector {
    type Cursor = Cursor;

    fn name(&self) -> &str {
        &self.config.name
    }

    fn collect(
        &mut self,
        mut cur: Cursor,
        sink: &mut Delivery<'_, Cursor>,
    ) -> Result<Summary, CollectError> {
        let listing = crate::list_files(&self.config.path, &["jsonl", "csv"])?;
        let (files, listing_notes) = (listing.files, listing.notes);
        // Forget files that are gone, so that the cursor stays small; one that comes back
        // is read again and its duplicates are stored once.
        let before = cur.files.len();
        cur.files
            .retain(|name, _| files.iter().any(|(n, _)| n == name));
        let dirty = cur.files.len() != before;
        let states: Vec<FileState> = files
            .iter()
            .map(|(n, _)| cur.files.get(n).cloned().unwrap_or_default())
            .collect();

        // Files are parsed on every core, each into its own channel; their pieces are taken
        // in file order, so events keep the order in which they were received.
        let (senders, receivers): (Vec<_>, Vec<_>) =
            files.iter().map(|_| mpsc::sync_channel::<Piece>(1)).unzip();
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4)
            .min(files.len().max(1));
        let ahead = ReadAhead::default();
        let accept = sink.window();
        let (settle, batch_events) = (self.config.settle.0, self.batch_events);
        let result = std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() || !ahead.wait_for(i, &stop) {
                            break;
                        }
                        parse_file(
                            &files[i],
                            states[i].clone(),
                            (settle, batch_events, accept),
                            &senders[i],
                            &stop,
                            &ahead,
                        );
                    }
                });
            }
            let result = take_in_order(
                &files,
                &receivers,
                &mut cur,
                dirty,
                batch_events,
                sink,
                &ahead,
            );
            // Workers still sending or waiting (after an error) are released.
            stop.store(true, Ordering::Relaxed);
            ahead.took(0, true);
            drop(receivers);
            result
        });
        result.map(|mut summary| {
            summary.notes.splice(0..0, listing_notes);
            summary
        })
    }
}

/// How far the parsing workers are ahead of the consumer: the files it has taken, and the
/// events parsed but not yet taken. A worker waits before starting a file while more than
/// `READ_AHEAD_EVENTS` wait; the lowest file not yet taken never waits, so the two always
/// make progress.
#[derive(Default)]
struct ReadAhead {
    state: Mutex<WindowState>,
    moved: Condvar,
}

#[derive(Default)]
struct WindowState {
    taken_files: usize,
    waiting_events: usize,
}

impl ReadAhead {
    /// Waits until file `i` may be parsed; false when the collection stops.
    fn wait_for(&self, i: usize, stop: &AtomicBool) -> bool {
        let mut st = self.state.lock().expect("window lock");
        while i > st.taken_files && st.waiting_events >= READ_AHEAD_EVENTS {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            st = self.moved.wait(st).expect("window lock");
        }
        !stop.load(Ordering::Relaxed)
    }

    /// A worker parsed `n` more events.
    fn parsed(&self, n: usize) {
        self.state.lock().expect("window lock").waiting_events += n;
    }

    /// The consumer took `n` events, and finished a file if `file_done` (or the
    /// collection stopped): wakes the waiting workers.
    fn took(&self, n: usize, file_done: bool) {
        let mut st = self.state.lock().expect("window lock");
        st.waiting_events = st.waiting_events.saturating_sub(n);
        st.taken_files += usize::from(file_done);
        drop(st);
        self.moved.notify_all();
    }
}

/// What a worker sends for a file: pieces of its lines while it reads, then the end.
enum Piece {
    Chunk(Batch, FileState),
    Done {
        batch: Batch,
        state: FileState,
        changed: bool,
        summary: Summary,
    },
    Failed(CollectError),
}

fn parse_file(
    (name, path): &(String, PathBuf),
    state: FileState,
    (settle, batch_events, accept): (Duration, usize, Window),
    tx: &mpsc::SyncSender<Piece>,
    stop: &AtomicBool,
    window: &ReadAhead,
) {
    let mut summary = Summary::default();
    let mut batch = Batch::in_window(accept);
    let format = if name.to_ascii_lowercase().ends_with(".csv") {
        Format::Csv
    } else {
        Format::JsonLines
    };
    let mut reader = FileReader {
        name,
        path,
        format,
        settle,
        batch_events,
        state,
        summary: &mut summary,
        origin: None,
    };
    let result = reader.read(&mut batch, &mut |b, st| {
        if stop.load(Ordering::Relaxed) {
            return Err(CollectError::Stopped);
        }
        window.parsed(b.events.len());
        tx.send(Piece::Chunk(
            std::mem::replace(b, Batch::in_window(accept)),
            st.clone(),
        ))
            .map_err(|_| CollectError::Stopped)
    });
    let state = reader.state;
    let piece = match result {
        Ok(changed) => Piece::Done {
            batch,
            state,
            changed,
            summary,
        },
        Err(e) => Piece::Failed(e),
    };
    if let Piece::Done { batch, .. } = &piece {
        window.parsed(batch.events.len());
    }
    let _ = tx.send(piece);
}

/// Takes the files' pieces in file order into batches of about `batch_events` events, each
/// delivered with the cursor that follows it.
fn take_in_order(
    files: &[(String, PathBuf)],
    receivers: &[mpsc::Receiver<Piece>],
    cur: &mut Cursor,
    mut dirty: bool,
    batch_events: usize,
    sink: &mut Delivery<'_, Cursor>,
    window: &ReadAhead,
) -> Result<Summary, CollectError> {
    let mut summary = Summary::default();
    let mut batch = Batch::new();
    for ((name, _), rx) in files.iter().zip(receivers) {
        if sink.should_stop() {
            return Err(CollectError::Stopped);
        }
        loop {
            match rx.recv().map_err(|_| CollectError::Stopped)? {
                Piece::Chunk(b, state) => {
                    window.took(b.events.len(), false);
                    batch.absorb(b);
                    cur.files.insert(name.clone(), state);
                    dirty = true;
                }
                Piece::Done {
                    batch: b,
                    state,
                    changed,
                    summary: s,
                } => {
                    window.took(b.events.len(), true);
                    batch.absorb(b);
                    if changed {
                        cur.files.insert(name.clone(), state);
                        dirty = true;
                    }
                    summary.sources += s.sources;
                    summary.lines += s.lines;
                    summary.notes.extend(s.notes);
                    break;
                }
                Piece::Failed(e) => return Err(e),
            }
            if batch.events.len() >= batch_events {
                sink.deliver(std::mem::replace(&mut batch, Batch::new()), cur)?;
                dirty = false;
            }
        }
        if batch.events.len() >= batch_events {
            sink.deliver(std::mem::replace(&mut batch, Batch::new()), cur)?;
            dirty = false;
        }
    }
    if dirty || !batch.is_empty() {
        sink.deliver(batch, cur)?;
    }
    Ok(summary)
}
