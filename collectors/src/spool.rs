//! The `spool` collector: seat events as JSON Lines (`*.jsonl`) and CSV (`*.csv`) files in
//! one folder (usage-semantics.md, section 2).
//!
//! Within one collection it reads new files in name order, and the lines appended to files
//! it has already read. Its cursor keeps, per file, the byte offset and line number it
//! reached and a digest of the file's first bytes, so that a file replaced under the same
//! name is read again from its start (duplicates are stored once by the store).
//!
//! A line is read once it ends with a newline. A last line without one is read when it is
//! a complete JSON object (JSON Lines), or once the file has not changed for `settle`
//! (CSV, whose half-written line can look complete); until then the collection says it
//! is waiting for it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use smallvec::SmallVec;

use crate::batch::{Batch, EventFields, Reject, Words};
use crate::{CollectError, Collector, HumanDuration, Sink, Summary};

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

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct Cursor {
    files: BTreeMap<String, FileState>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct FileState {
    /// Bytes consumed: everything before this offset has been delivered.
    offset: u64,
    /// Lines consumed.
    line: u64,
    /// SHA-256 (hex) of the first `head_len` bytes.
    head: String,
    head_len: u64,
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
    fn name(&self) -> &str {
        &self.config.name
    }

    fn collect(
        &mut self,
        cursor: Option<&str>,
        sink: &mut dyn Sink,
    ) -> Result<Summary, CollectError> {
        let mut cur: Cursor = match cursor {
            None => Cursor::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| CollectError::Cursor {
                collector: self.config.name.clone(),
                reason: e.to_string(),
            })?,
        };
        let files = crate::list_files(&self.config.path, &["jsonl", "csv"])?;
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
        let window = Window::default();
        let (settle, batch_events) = (self.config.settle.0, self.batch_events);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() || !window.wait_for(i, &stop) {
                            break;
                        }
                        parse_file(
                            &files[i],
                            states[i].clone(),
                            settle,
                            batch_events,
                            &senders[i],
                            &stop,
                            &window,
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
                &window,
            );
            // Workers still sending or waiting (after an error) are released.
            stop.store(true, Ordering::Relaxed);
            window.took(0, true);
            drop(receivers);
            result
        })
    }
}

/// How far the parsing workers are ahead of the consumer: the files it has taken, and the
/// events parsed but not yet taken. A worker waits before starting a file while more than
/// `READ_AHEAD_EVENTS` wait; the lowest file not yet taken never waits, so the two always
/// make progress.
#[derive(Default)]
struct Window {
    state: Mutex<WindowState>,
    moved: Condvar,
}

#[derive(Default)]
struct WindowState {
    taken_files: usize,
    waiting_events: usize,
}

impl Window {
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
    settle: Duration,
    batch_events: usize,
    tx: &mpsc::SyncSender<Piece>,
    stop: &AtomicBool,
    window: &Window,
) {
    let mut summary = Summary::default();
    let mut batch = Batch::new();
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
    };
    let result = reader.read(&mut batch, &mut |b, st| {
        if stop.load(Ordering::Relaxed) {
            return Err(CollectError::Stopped);
        }
        window.parsed(b.events.len());
        tx.send(Piece::Chunk(std::mem::replace(b, Batch::new()), st.clone()))
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
    sink: &mut dyn Sink,
    window: &Window,
) -> Result<Summary, CollectError> {
    let mut summary = Summary::default();
    let mut batch = Batch::new();
    let cursor_text = |cur: &Cursor| serde_json::to_string(cur).expect("cursor serializes");
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
                sink.deliver(
                    std::mem::replace(&mut batch, Batch::new()),
                    &cursor_text(cur),
                )?;
                dirty = false;
            }
        }
        if batch.events.len() >= batch_events {
            sink.deliver(
                std::mem::replace(&mut batch, Batch::new()),
                &cursor_text(cur),
            )?;
            dirty = false;
        }
    }
    if dirty || !batch.is_empty() {
        sink.deliver(batch, &cursor_text(cur))?;
    }
    Ok(summary)
}

struct FileReader<'a> {
    name: &'a str,
    path: &'a Path,
    format: Format,
    settle: Duration,
    batch_events: usize,
    state: FileState,
    summary: &'a mut Summary,
}

/// Column positions of a CSV file, from its header line.
#[derive(Clone, Copy)]
struct Columns {
    idx: [Option<usize>; 7],
    count: usize,
}

impl FileReader<'_> {
    /// Reads what is new in the file into `batch`, calling `flush` whenever the batch is
    /// full. Returns whether the file's state moved.
    fn read(
        &mut self,
        batch: &mut Batch,
        flush: &mut dyn FnMut(&mut Batch, &FileState) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        let io = |e| CollectError::io(self.path, e);
        let mut file = std::fs::File::open(self.path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let len = meta.len();
        let start_state = self.state.clone();
        if self.state.offset > 0 && !self.same_file(&mut file, len)? {
            self.summary.notes.push(format!(
                "{}: the file was replaced or truncated since it was last read; reading it again from the start",
                self.name
            ));
            self.state = FileState::default();
        }
        if len == self.state.offset {
            return Ok(self.state != start_state);
        }
        self.summary.sources += 1;
        let settled = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= self.settle);
        let columns = match self.format {
            Format::Csv => match self.csv_columns(&mut file, batch, settled)? {
                Some(c) => Some(c),
                None => {
                    self.summary.notes.push(format!(
                        "{}:1: the CSV header has no newline yet; the file will be read once it is complete",
                        self.name
                    ));
                    return Ok(self.state != start_state);
                }
            },
            Format::JsonLines => None,
        };
        file.seek(SeekFrom::Start(self.state.offset)).map_err(io)?;
        let mut buf: Vec<u8> = Vec::with_capacity(READ_BLOCK.min(len as usize + 1));
        let mut eof = false;
        while !eof {
            // Append the next block, after any incomplete line kept from before (no zeroing of
            // a whole block for a small file).
            let n = (&mut file)
                .take(READ_BLOCK as u64)
                .read_to_end(&mut buf)
                .map_err(io)?;
            eof = n == 0;
            let complete = match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None => 0,
            };
            if complete > 0 {
                self.take_lines(&buf[..complete], columns, batch);
                buf.drain(..complete);
                if batch.events.len() >= self.batch_events {
                    self.update_head(&mut file)?;
                    flush(batch, &self.state)?;
                }
            }
        }
        if !buf.is_empty() {
            self.last_line(&buf, columns, settled, batch);
        }
        self.update_head(&mut file)?;
        Ok(self.state != start_state)
    }

    /// Whether the file is still the one the cursor describes (same first bytes, not shorter).
    fn same_file(&self, file: &mut std::fs::File, len: u64) -> Result<bool, CollectError> {
        if len < self.state.offset {
            return Ok(false);
        }
        Ok(
            head_digest(file, self.state.head_len).map_err(|e| CollectError::io(self.path, e))?
                == self.state.head,
        )
    }

    fn update_head(&mut self, file: &mut std::fs::File) -> Result<(), CollectError> {
        let want = self.state.offset.min(HEAD_BYTES);
        if want != self.state.head_len {
            self.state.head =
                head_digest(file, want).map_err(|e| CollectError::io(self.path, e))?;
            self.state.head_len = want;
        }
        Ok(())
    }

    /// A last line without its newline: read it if it is certainly complete.
    fn last_line(
        &mut self,
        tail: &[u8],
        columns: Option<Columns>,
        settled: bool,
        batch: &mut Batch,
    ) {
        let line_no = self.state.line + 1;
        let complete = match self.format {
            // A JSON object cannot be the prefix of a longer valid line: if it parses to its
            // end, it is complete; if it ends early, the writer is still writing it.
            Format::JsonLines => match std::str::from_utf8(tail) {
                Ok(text) => !matches!(
                    serde_json::from_str::<serde::de::IgnoredAny>(text),
                    Err(e) if e.is_eof()
                ),
                Err(_) => settled,
            },
            Format::Csv => settled,
        };
        if complete {
            self.take_lines(tail, columns, batch);
        } else {
            self.summary.notes.push(format!(
                "{}:{}: the last line has no newline yet; it will be read once it is complete",
                self.name, line_no
            ));
        }
    }

    /// Reads the CSV header (the file's first line) for its column positions; None while
    /// the header line is still being written. A header without the required columns is
    /// kept aside, and so is every line of the file.
    fn csv_columns(
        &mut self,
        file: &mut std::fs::File,
        batch: &mut Batch,
        settled: bool,
    ) -> Result<Option<Columns>, CollectError> {
        let io = |e| CollectError::io(self.path, e);
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut first = Vec::new();
        let mut block = [0u8; 4096];
        let mut complete = false;
        loop {
            let n = file.read(&mut block).map_err(io)?;
            if n == 0 {
                break;
            }
            if let Some(i) = block[..n].iter().position(|&c| c == b'\n') {
                first.extend_from_slice(&block[..i]);
                complete = true;
                break;
            }
            first.extend_from_slice(&block[..n]);
        }
        if !complete && !settled {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&first);
        let text = text.trim_start_matches('\u{feff}').trim_end_matches('\r');
        let names: Vec<String> = split_csv_record(text)
            .map(|r| r.iter().map(|f| f.trim().to_ascii_lowercase()).collect())
            .unwrap_or_default();
        let mut idx = [None; 7];
        for (i, n) in names.iter().enumerate() {
            if let Some(k) = CSV_HEADER.iter().position(|h| h == n) {
                idx[k] = Some(i);
            }
        }
        let missing: Vec<&str> = [0usize, 1, 3]
            .iter()
            .filter(|&&k| idx[k].is_none())
            .map(|&k| CSV_HEADER[k])
            .collect();
        let columns = Columns {
            idx,
            count: names.len(),
        };
        if !missing.is_empty() && self.state.offset == 0 {
            batch.rejects.push(Reject::new(
                self.name,
                1,
                format!(
                    "CSV header lacks column(s) {}; expected {}",
                    missing.join(", "),
                    CSV_HEADER.join(",")
                ),
                text,
            ));
        }
        Ok(Some(columns))
    }

    /// Parses complete lines (each ends with a newline, except possibly the last), and
    /// moves the file's offset and line past them. The block's UTF-8 is checked once; only
    /// a block that fails is checked line by line.
    fn take_lines(&mut self, bytes: &[u8], columns: Option<Columns>, batch: &mut Batch) {
        let first = self.state.line;
        let mut n = 0;
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                let mut start = 0;
                for end in memchr::memchr_iter(b'\n', bytes).map(|i| i + 1).chain(
                    // A last line without its newline (read once complete).
                    (!bytes.ends_with(b"\n")).then_some(bytes.len()),
                ) {
                    n += 1;
                    self.take_line(first + n, Ok(&text[start..end]), columns, batch);
                    start = end;
                }
            }
            Err(_) => {
                for raw in bytes.split_inclusive(|&c| c == b'\n') {
                    n += 1;
                    self.take_line(
                        first + n,
                        std::str::from_utf8(raw).map_err(|e| (raw, e)),
                        columns,
                        batch,
                    );
                }
            }
        }
        self.state.line += n;
        self.state.offset += bytes.len() as u64;
    }

    fn take_line(
        &mut self,
        line_no: u64,
        line: Result<&str, (&[u8], std::str::Utf8Error)>,
        columns: Option<Columns>,
        batch: &mut Batch,
    ) {
        self.summary.lines += 1;
        if line_no == 1 && self.format == Format::Csv {
            return; // the header
        }
        let result = match line {
            Err((raw, e)) => {
                let raw = trim_eol(raw);
                if raw.iter().all(|c| c.is_ascii_whitespace()) {
                    return;
                }
                Err((
                    format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
                    String::from_utf8_lossy(raw).into_owned(),
                ))
            }
            Ok(text) => {
                let text = text.strip_suffix('\n').unwrap_or(text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                if text.bytes().all(|c| c.is_ascii_whitespace()) {
                    return;
                }
                match columns {
                    None => push_json(batch, text),
                    Some(cols) => push_csv(batch, text, cols),
                }
                .map_err(|reason| (reason, text.to_string()))
            }
        };
        if let Err((reason, text)) = result {
            batch
                .rejects
                .push(Reject::new(self.name, line_no, reason, &text));
        }
    }
}

#[derive(Deserialize)]
struct JsonEvent<'a> {
    #[serde(borrow, default)]
    ts: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tenant: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    agent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    place: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    groups: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    media: Option<Vec<Cow<'a, str>>>,
}

fn push_json(batch: &mut Batch, text: &str) -> Result<(), String> {
    let e: JsonEvent = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            "truncated JSON line".to_string()
        } else {
            format!("not a valid seat event: {e}")
        }
    })?;
    let fields = EventFields {
        ts: e.ts.as_deref().unwrap_or(""),
        event: e.event.as_deref().unwrap_or(""),
        tenant: e.tenant.as_deref(),
        agent: e.agent.as_deref().unwrap_or(""),
        place: e.place.as_deref(),
        groups: Words::List(e.groups.iter().flatten().map(|g| g.as_ref()).collect()),
        media: Words::List(e.media.iter().flatten().map(|m| m.as_ref()).collect()),
    };
    batch.push(&fields)
}

fn push_csv(batch: &mut Batch, text: &str, cols: Columns) -> Result<(), String> {
    let record = split_csv_record(text).ok_or("unbalanced quotes in CSV line")?;
    if record.len() != cols.count {
        return Err(format!(
            "expected {} fields as in the header, found {}",
            cols.count,
            record.len()
        ));
    }
    let field = |k: usize| cols.idx[k].map(|i| record[i].as_ref());
    let list = |k: usize| field(k).map_or(Words::None, |v| Words::Joined(v, ';'));
    let fields = EventFields {
        ts: field(0).unwrap_or(""),
        event: field(1).unwrap_or(""),
        tenant: field(2),
        agent: field(3).unwrap_or(""),
        place: field(4),
        groups: list(5),
        media: list(6),
    };
    batch.push(&fields)
}

/// Splits one CSV record (RFC 4180: fields separated by commas, optionally quoted, with
/// `""` for a quote inside quotes). Returns None on an unterminated quote. Fields borrow
/// from the line unless they were quoted; up to 8 fields need no allocation.
fn split_csv_record(line: &str) -> Option<SmallVec<[Cow<'_, str>; 8]>> {
    let b = line.as_bytes();
    let mut out = SmallVec::new();
    let mut i = 0;
    loop {
        if i < b.len() && b[i] == b'"' {
            let mut val = String::new();
            i += 1;
            loop {
                match line[i..].find('"') {
                    None => return None,
                    Some(q) => {
                        val.push_str(&line[i..i + q]);
                        i += q + 1;
                        if i < b.len() && b[i] == b'"' {
                            val.push('"');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            out.push(Cow::Owned(val));
            // After a closing quote: a separator or the end.
            match b.get(i) {
                None => return Some(out),
                Some(b',') => i += 1,
                Some(_) => return None,
            }
        } else {
            match memchr::memchr(b',', &b[i..]) {
                None => {
                    out.push(Cow::Borrowed(&line[i..]));
                    return Some(out);
                }
                Some(p) => {
                    out.push(Cow::Borrowed(&line[i..i + p]));
                    i += p + 1;
                }
            }
        }
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn head_digest(file: &mut std::fs::File, len: u64) -> std::io::Result<String> {
    let pos = file.stream_position()?;
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; len as usize];
    let n = read_full(file, &mut buf)?;
    buf.truncate(n);
    file.seek(SeekFrom::Start(pos))?;
    Ok(crate::hex(&Sha256::digest(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::VecSink;
    use std::io::Write;

    fn collector(dir: &Path) -> SpoolCollector {
        SpoolCollector::new(SpoolConfig {
            name: "events".into(),
            path: dir.to_path_buf(),
            interval: HumanDuration::default(),
            settle: HumanDuration(Duration::from_secs(3600)),
        })
    }

    fn run(c: &mut SpoolCollector, cursor: Option<&str>) -> (VecSink, Summary) {
        let mut sink = VecSink::default();
        let s = c.collect(cursor, &mut sink).unwrap();
        (sink, s)
    }

    const L1: &str = r#"{"ts":"2026-10-25T00:30:00Z","event":"login","tenant":"acme","agent":"x","groups":["G"],"media":["voice"]}"#;
    const L2: &str =
        r#"{"ts":"2026-10-25T01:05:00Z","event":"logout","tenant":"acme","agent":"x"}"#;

    #[test]
    fn reads_jsonl_then_only_appended_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, format!("{L1}\n")).unwrap();
        let mut c = collector(dir.path());
        let (sink, _) = run(&mut c, None);
        assert_eq!(sink.events().len(), 1);
        let cursor = sink.cursor.clone().unwrap();
        // Nothing new: no batch, same cursor.
        let (again, _) = run(&mut c, Some(&cursor));
        assert!(again.batches.is_empty());
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        writeln!(f, "{L2}").unwrap();
        let (more, _) = run(&mut c, Some(&cursor));
        assert_eq!(
            more.events(),
            vec![(
                "2026-10-25T01:05:00Z".into(),
                "logout",
                "acme".into(),
                "x".into()
            )]
        );
    }

    #[test]
    fn files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.jsonl"), format!("{L2}\n")).unwrap();
        std::fs::write(dir.path().join("a.jsonl"), format!("{L1}\n")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored\n").unwrap();
        let (sink, summary) = run(&mut collector(dir.path()), None);
        let kinds: Vec<_> = sink.events().iter().map(|e| e.1).collect();
        assert_eq!(kinds, ["login", "logout"]);
        assert_eq!(summary.sources, 2);
    }

    #[test]
    fn bad_lines_are_kept_aside_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let body = [
            L1,
            r#"{"ts":"yesterday","event":"login","agent":"a"}"#,
            r#"{"ts":"2026-10-25T00:30:00Z","event":"sign-in","agent":"a"}"#,
            r#"{"ts":"2026-10-25T00:30:00Z","event":"login"}"#,
            r#"{"ts":"2026-10-25T00:30:00Z","event":"lo"#,
            "",
            L2,
        ]
        .join("\n");
        std::fs::write(dir.path().join("a.jsonl"), body + "\n").unwrap();
        let (sink, _) = run(&mut collector(dir.path()), None);
        assert_eq!(sink.events().len(), 2);
        let rejects: Vec<String> = sink.rejects().iter().map(|r| r.to_string()).collect();
        assert_eq!(rejects.len(), 4, "{rejects:?}");
        assert!(
            rejects[0].starts_with("a.jsonl:2: timestamp \"yesterday\""),
            "{rejects:?}"
        );
        assert!(rejects[1].starts_with("a.jsonl:3: unknown event \"sign-in\""));
        assert_eq!(rejects[2], "a.jsonl:4: missing agent");
        assert_eq!(rejects[3], "a.jsonl:5: truncated JSON line");
    }

    #[test]
    fn csv_with_header_lists_and_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let body = "\u{feff}ts,event,tenant,agent,place,groups,media\r\n\
            2026-10-25T00:30:00Z,login,acme,x,\"desk, 4\",Sales;Support,voice;email\r\n\
            2026-10-25T00:40:00Z,login,acme,y,,,,extra,more\r\n\
            2026-10-25T00:50:00Z,logout,acme,x,,,\r\n";
        std::fs::write(dir.path().join("e.csv"), body).unwrap();
        let (sink, _) = run(&mut collector(dir.path()), None);
        let b = &sink.batches[0];
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.string(b.events[0].place), "desk, 4");
        assert_eq!(b.list(b.events[0].groups).len(), 2);
        assert_eq!(b.list(b.events[0].media).len(), 2);
        let rejects = sink.rejects();
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].line, 3);
        assert_eq!(
            rejects[0].reason,
            "expected 7 fields as in the header, found 9"
        );
    }

    #[test]
    fn csv_header_without_required_columns() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("e.csv"),
            "when,what\n2026-10-25T00:30:00Z,login\n",
        )
        .unwrap();
        let (sink, _) = run(&mut collector(dir.path()), None);
        let rejects = sink.rejects();
        assert!(
            rejects[0]
                .reason
                .contains("lacks column(s) ts, event, agent"),
            "{rejects:?}"
        );
        assert_eq!(rejects.len(), 2);
        assert!(sink.events().is_empty());
    }

    #[test]
    fn unterminated_last_line_waits_unless_complete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        // A half-written JSON line waits for the rest.
        std::fs::write(&p, format!("{L1}\n{}", &L2[..20])).unwrap();
        let mut c = collector(dir.path());
        let (sink, summary) = run(&mut c, None);
        assert_eq!(sink.events().len(), 1);
        assert!(sink.rejects().is_empty());
        assert!(summary.notes[0].contains("a.jsonl:2: the last line has no newline yet"));
        // Completed (still without a newline): read.
        std::fs::write(&p, format!("{L1}\n{L2}")).unwrap();
        let (sink2, _) = run(&mut c, sink.cursor.as_deref());
        assert_eq!(sink2.events().len(), 1);
        assert_eq!(sink2.events()[0].1, "logout");
    }

    #[test]
    fn csv_last_line_waits_for_settle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("e.csv"),
            "ts,event,tenant,agent,place,groups,media\n2026-10-25T00:30:00Z,login,acme,x,,,voice",
        )
        .unwrap();
        let (sink, summary) = run(&mut collector(dir.path()), None);
        assert!(sink.events().is_empty());
        assert_eq!(summary.notes.len(), 1);
        let mut settled = collector(dir.path());
        settled.config.settle = HumanDuration(Duration::ZERO);
        let (sink, _) = run(&mut settled, None);
        assert_eq!(sink.events().len(), 1);
    }

    #[test]
    fn a_csv_header_being_written_is_not_judged() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.csv");
        std::fs::write(&p, "ts,event,ten").unwrap();
        let mut c = collector(dir.path());
        let (sink, summary) = run(&mut c, None);
        assert!(sink.rejects().is_empty(), "{:?}", sink.rejects());
        assert!(summary.notes[0].contains("e.csv:1: the CSV header has no newline yet"));
        std::fs::write(
            &p,
            "ts,event,tenant,agent,place,groups,media\n2026-10-25T00:30:00Z,login,acme,x,,,voice\n",
        )
        .unwrap();
        let (sink, _) = run(&mut c, sink.cursor.as_deref());
        assert_eq!(sink.events().len(), 1);
        assert!(sink.rejects().is_empty());
    }

    #[test]
    fn replaced_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, format!("{L1}\n{L2}\n")).unwrap();
        let mut c = collector(dir.path());
        let (sink, _) = run(&mut c, None);
        std::fs::write(&p, format!("{L2}\n")).unwrap();
        let (sink2, summary) = run(&mut c, sink.cursor.as_deref());
        assert_eq!(sink2.events().len(), 1);
        assert!(summary.notes[0].contains("replaced or truncated"));
    }

    #[test]
    fn large_files_are_delivered_in_bounded_batches_with_progressing_cursors() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::new();
        let mut c = collector(dir.path());
        c.batch_events = 1000;
        let n = 250_000;
        for i in 0..n {
            body.push_str(&format!(
                "{{\"ts\":\"2026-10-25T00:30:00Z\",\"event\":\"login\",\"agent\":\"a{i}\"}}\n"
            ));
        }
        std::fs::write(dir.path().join("big.jsonl"), &body).unwrap();
        let (sink, _) = run(&mut c, None);
        // One batch per block read at most, each with its cursor.
        assert!(sink.batches.len() >= 2, "{}", sink.batches.len());
        assert!(
            sink.batches
                .iter()
                .all(|b| b.events.len() <= READ_BLOCK / 40)
        );
        assert_eq!(sink.events().len(), n);
        let cur: Cursor = serde_json::from_str(sink.cursor.as_deref().unwrap()).unwrap();
        assert_eq!(cur.files["big.jsonl"].offset, body.len() as u64);
        assert_eq!(cur.files["big.jsonl"].line, n as u64);
    }

    #[test]
    fn csv_record_splitting() {
        let r = split_csv_record("a,\"b,\"\"c\"\"\",,d,é").unwrap();
        let r: Vec<&str> = r.iter().map(|f| f.as_ref()).collect();
        assert_eq!(r, ["a", "b,\"c\"", "", "d", "é"]);
        assert!(split_csv_record("a,\"b").is_none());
        assert!(split_csv_record("\"a\"b").is_none());
    }
}
