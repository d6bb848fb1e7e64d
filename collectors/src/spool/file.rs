//! Reading one spool file from where its cursor stopped: complete lines only, the CSV
//! header for the column positions, a last line without its newline when it is surely
//! complete, and the fingerprint of the file's first bytes that tells a replaced file.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::line::{Columns, push_csv, push_json, split_csv_record, tenant_of};
use super::{CSV_HEADER, FileState, Format, HEAD_BYTES, READ_BLOCK};
use crate::batch::{Batch, Reject};
use crate::{CollectError, Summary};

pub(super) struct FileReader<'a> {
    pub(super) name: &'a str,
    pub(super) path: &'a Path,
    pub(super) format: Format,
    pub(super) settle: Duration,
    pub(super) batch_events: usize,
    pub(super) state: FileState,
    pub(super) summary: &'a mut Summary,
    /// The digest of the file's first lines, once a line is kept aside.
    pub(super) origin: Option<String>,
}

/// How much of a file's start its origin is read from, at most.
const ORIGIN_BYTES: usize = 64 << 10;

impl FileReader<'_> {
    /// What the file's rejected lines are part of, whatever it is called: the digest of
    /// its first two lines (the first, while it has no second), which a renamed,
    /// re-read or replaced-by-the-same file keeps.
    fn origin(&mut self) -> String {
        if let Some(o) = &self.origin {
            return o.clone();
        }
        let mut head = Vec::new();
        if let Ok(f) = std::fs::File::open(self.path) {
            let _ = f.take(ORIGIN_BYTES as u64).read_to_end(&mut head);
        }
        let mut ends = memchr::memchr_iter(b'\n', &head);
        let end = match (ends.next(), ends.next()) {
            (_, Some(second)) => second + 1,
            (Some(first), None) => first + 1,
            (None, None) => head.len(),
        };
        let o = format!(
            "{}:{}",
            self.name.rsplit_once('.').map_or("", |(_, ext)| ext),
            &seatmeter_core::hex(&Sha256::digest(&head[..end]))[..32]
        );
        self.origin = Some(o.clone());
        o
    }

    /// Reads what is new in the file into `batch`, calling `flush` whenever the batch is
    /// full. Returns whether the file's state moved.
    pub(super) fn read(
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
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok());
        let settled = Settled {
            settled: age.is_some_and(|age| age >= self.settle),
            abandoned: age.is_some_and(|age| age >= self.settle.max(ABANDONED)),
        };
        let columns = match self.format {
            Format::Csv => match self.csv_columns(&mut file, batch, settled.settled)? {
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
            if std::mem::take(&mut self.state.open_line) {
                self.end_open_line(&mut buf);
            }
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

    /// The first bytes read after a last line that was read without its newline: the
    /// newline the writer adds ends that line (it is no line of its own); anything else
    /// continues it, so it keeps that line's number.
    fn end_open_line(&mut self, buf: &mut Vec<u8>) {
        let eol = if buf.starts_with(b"\r\n") {
            2
        } else if buf.starts_with(b"\n") {
            1
        } else {
            0
        };
        if eol > 0 {
            buf.drain(..eol);
            self.state.offset += eol as u64;
        } else if !buf.is_empty() {
            self.state.line = self.state.line.saturating_sub(1);
        } else {
            self.state.open_line = true;
        }
    }

    /// A last line without its newline: read it if it is certainly complete. One cut inside
    /// a UTF-8 character, a JSON object not closed yet, a CSV record that does not parse or
    /// lacks columns, waits for the rest, until the file is abandoned.
    fn last_line(
        &mut self,
        tail: &[u8],
        columns: Option<Columns>,
        settled: Settled,
        batch: &mut Batch,
    ) {
        let line_no = self.state.line + 1;
        let complete = settled.abandoned
            || match std::str::from_utf8(tail) {
                // Cut inside a character: surely more to come.
                Err(e) if e.error_len().is_none() => false,
                // Bytes that are no UTF-8 whatever follows: bad once settled.
                Err(_) => settled.settled,
                Ok(text) => match columns {
                    // A JSON object cannot be the prefix of a longer valid line: if it
                    // parses to its end, it is complete; if it ends early, the writer is
                    // still writing it. Any other error is there whatever follows.
                    None => !matches!(
                        serde_json::from_str::<serde::de::IgnoredAny>(text),
                        Err(e) if e.is_eof()
                    ),
                    Some(cols) => settled.settled && csv_complete(text, cols),
                },
            };
        if complete {
            self.take_lines(tail, columns, batch);
            self.state.open_line = true;
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
            let origin = self.origin();
            batch.rejects.push(Reject {
                origin,
                ..Reject::new(
                self.name,
                1,
                format!(
                    "CSV header lacks column(s) {}; expected {}",
                    missing.join(", "),
                    CSV_HEADER.join(",")
                ),
                text,
            )
            });
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
                // A byte-order mark before the first line is no part of it.
                let text = match line_no {
                    1 => text.strip_prefix('\u{feff}').unwrap_or(text),
                    _ => text,
                };
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
            batch.rejects.push(Reject {
                origin: self.origin(),
                tenant: tenant_of(&text, columns),
                ..Reject::new(self.name, line_no, reason, &text)
            });
        }
    }
}

/// How long a file must stay unchanged before a last line without its newline that does
/// not look complete is read as it is (and kept aside if it is bad).
pub(super) const ABANDONED: Duration = Duration::from_secs(24 * 3600);

/// How long the file has stayed unchanged: `settle` or more, `ABANDONED` or more.
#[derive(Clone, Copy)]
struct Settled {
    settled: bool,
    abandoned: bool,
}

/// Whether a CSV line without its newline looks whole: every column of the header, and a
/// record that parses into an event (a cut line may still lack a column, or a quote).
fn csv_complete(text: &str, cols: Columns) -> bool {
    let text = text.strip_suffix('\r').unwrap_or(text);
    split_csv_record(text).is_some_and(|r| r.len() >= cols.count)
        && push_csv(&mut Batch::default(), text, cols).is_ok()
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
    Ok(seatmeter_core::hex(&Sha256::digest(&buf)))
}
