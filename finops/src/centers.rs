//! Cost-center assignments: which group or tenant belongs to which cost center, and when.
//!
//! Assignments come from `[[finops.cost_center]]` entries and from the CSV file named by
//! `cost_centers_file`. The file has the header `cost_center,kind,name,from,to`; `kind` is
//! `group` or `tenant`; `from` and `to` are `YYYY-MM-DD` dates, inclusive, and may be empty
//! (open-ended).

use std::path::{Path, PathBuf};

use seatmeter_core::Day;
use seatmeter_core::calendar::{Calendar, parse_date};

/// What an assignment names: a group of agents or a whole tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An agent group (an agent belongs to the cost center of its first assigned group).
    Group,
    /// A tenant (the fallback for its agents whose groups have no cost center).
    Tenant,
}

impl Kind {
    /// The word for the kind, as written in the CSV file: `group` or `tenant`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::Tenant => "tenant",
        }
    }
}

/// One group or tenant assigned to one cost center, for a span of days.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Assignment {
    /// The cost center's name.
    pub center: String,
    /// Whether `name` is a group or a tenant.
    pub kind: Kind,
    /// The group's or tenant's name.
    pub name: String,
    /// The first day the assignment holds, or `None` for always before.
    pub from: Option<Day>,
    /// The last day the assignment holds (inclusive), or `None` for always after.
    pub to: Option<Day>,
    /// Where the assignment was written, for messages: `finops.cost_center "Sales"` or
    /// `centers.csv line 4`.
    pub origin: String,
}

impl Assignment {
    /// Whether the assignment holds on `day`.
    pub fn holds_on(&self, day: Day) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }

    /// Whether this assignment and `other` hold on at least one common day.
    pub fn overlaps(&self, other: &Assignment) -> bool {
        let start = self
            .from
            .unwrap_or(Day::MIN)
            .max(other.from.unwrap_or(Day::MIN));
        let end = self
            .to
            .unwrap_or(Day::MAX)
            .min(other.to.unwrap_or(Day::MAX));
        start <= end
    }

    /// The span in words: `from 2026-01-01 to 2026-06-30`, `from 2026-01-01 on`, `always`.
    pub fn span_text(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "always".to_string(),
            (Some(f), None) => format!("from {} on", Calendar::date_text(f)),
            (None, Some(t)) => format!("until {}", Calendar::date_text(t)),
            (Some(f), Some(t)) => format!(
                "from {} to {}",
                Calendar::date_text(f),
                Calendar::date_text(t)
            ),
        }
    }
}

/// A line of the cost-center CSV file that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CsvReject {
    /// The line number in the file (the header is line 1).
    pub line: u64,
    /// Why the line was not loaded, in words.
    pub message: String,
}

/// Why the cost-center CSV file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file is missing or unreadable.
    #[error("cannot read the cost-center file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The first line is not the expected header.
    #[error(
        "the cost-center file {} starts with {found:?}; its first line must be cost_center,kind,name,from,to",
        path.display()
    )]
    Header {
        /// The file.
        path: PathBuf,
        /// The first line as found.
        found: String,
    },
}

/// The header the cost-center CSV file must start with.
pub const CSV_HEADER: [&str; 5] = ["cost_center", "kind", "name", "from", "to"];

/// Reads the cost-center CSV file at `path`.
///
/// Lines that cannot be used (a wrong number of fields, an unknown kind, an empty center
/// or name, a bad date, `from` after `to`) are returned aside with their line number and
/// reason; every other line is loaded. A missing or unreadable file, or a wrong header,
/// is an error. Overlaps between assignments are checked by [`crate::FinopsConfig::check`],
/// not here.
pub fn load_cost_centers_csv(path: &Path) -> Result<(Vec<Assignment>, Vec<CsvReject>), CsvError> {
    let bytes = std::fs::read(path).map_err(|source| CsvError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    read_cost_centers(&bytes[..], &label).map_err(|found| CsvError::Header {
        path: path.to_path_buf(),
        found,
    })
}

/// Reads cost-center CSV text from `reader`, naming lines `LABEL line N` in their origin.
/// Returns the first line as found when it is not the expected header.
pub fn read_cost_centers<R: std::io::Read>(
    reader: R,
    label: &str,
) -> Result<(Vec<Assignment>, Vec<CsvReject>), String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let mut records = rdr.records();
    match records.next() {
        Some(Ok(h))
            if h.len() == CSV_HEADER.len()
                && h.iter()
                    .zip(CSV_HEADER)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b)) => {}
        Some(Ok(h)) => return Err(h.iter().collect::<Vec<_>>().join(",")),
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err(String::new()),
    }
    let mut loaded = Vec::new();
    let mut rejects = Vec::new();
    for rec in records {
        match rec {
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| p.line());
                match parse_line(&rec, label, line) {
                    Ok(a) => loaded.push(a),
                    Err(message) => rejects.push(CsvReject { line, message }),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rejects.push(CsvReject {
                    line,
                    message: format!("unreadable line: {e}"),
                });
            }
        }
    }
    Ok((loaded, rejects))
}

fn parse_line(rec: &csv::StringRecord, label: &str, line: u64) -> Result<Assignment, String> {
    if rec.len() != CSV_HEADER.len() {
        return Err(format!(
            "{} fields where cost_center,kind,name,from,to are 5",
            rec.len()
        ));
    }
    let center = &rec[0];
    let name = &rec[2];
    if center.is_empty() {
        return Err("the cost_center is empty".to_string());
    }
    let kind = match rec[1].to_ascii_lowercase().as_str() {
        "group" => Kind::Group,
        "tenant" => Kind::Tenant,
        other => return Err(format!("kind {other:?} is neither group nor tenant")),
    };
    if name.is_empty() {
        return Err(format!("the {} name is empty", kind.word()));
    }
    let from = optional_date(&rec[3]).map_err(|e| format!("from: {e}"))?;
    let to = optional_date(&rec[4]).map_err(|e| format!("to: {e}"))?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(format!("from {} is after to {}", &rec[3], &rec[4]));
    }
    Ok(Assignment {
        center: center.to_string(),
        kind,
        name: name.to_string(),
        from,
        to,
        origin: format!("{label} line {line}"),
    })
}

/// Parses an optional `YYYY-MM-DD` date; empty text is `None`.
pub(crate) fn optional_date(s: &str) -> Result<Option<Day>, String> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_date(s).map(Some)
    }
}

/// One message per pair of assignments of the same group (or tenant) whose dates overlap,
/// naming both; by kind and name, then in the order given.
pub(crate) fn overlap_errors(all: &[Assignment]) -> Vec<String> {
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&x, &y| (all[x].kind, &all[x].name, x).cmp(&(all[y].kind, &all[y].name, y)));
    let mut errors = Vec::new();
    for same in order.chunk_by(|&x, &y| all[x].kind == all[y].kind && all[x].name == all[y].name) {
        for (n, &i) in same.iter().enumerate() {
            for &j in &same[n + 1..] {
                let (a, b) = (&all[i], &all[j]);
                if a.overlaps(b) {
                    errors.push(format!(
                        "{} {:?} has two cost centers at once: {:?} {} ({}) and {:?} {} ({}); \
                         the effective dates of one {} must not overlap",
                        a.kind.word(),
                        a.name,
                        a.center,
                        a.span_text(),
                        a.origin,
                        b.center,
                        b.span_text(),
                        b.origin,
                        a.kind.word(),
                    ));
                }
            }
        }
    }
    errors
}
