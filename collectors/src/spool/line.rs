//! One spool line into a seat event: a JSON Lines object, or a CSV record by the header's
//! column positions.

use std::borrow::Cow;

use serde::Deserialize;
use smallvec::SmallVec;

use crate::batch::{Batch, EventFields, Words};

/// Column positions of a CSV file, from its header line.
#[derive(Clone, Copy)]
pub(super) struct Columns {
    pub(super) idx: [Option<usize>; 7],
    pub(super) count: usize,
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

pub(super) fn push_json(batch: &mut Batch, text: &str) -> Result<(), String> {
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

pub(super) fn push_csv(batch: &mut Batch, text: &str, cols: Columns) -> Result<(), String> {
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

/// The tenant a line that was kept aside names, when it can be read: its `tenant` field,
/// or `default` when the line is readable and names none (as an event of it would have
/// been counted). None when the line cannot be split into fields, or the name is one the
/// store refuses; such a line is listed to the site operator only.
pub(super) fn tenant_of(text: &str, columns: Option<Columns>) -> Option<String> {
    let named: Option<String> = match columns {
        None => {
            let v: serde_json::Value = serde_json::from_str(text).ok()?;
            match v.as_object()?.get("tenant") {
                None | Some(serde_json::Value::Null) => None,
                Some(t) => Some(t.as_str()?.to_string()),
            }
        }
        Some(cols) => {
            let record = split_csv_record(text)?;
            cols.idx[2].and_then(|i| record.get(i).map(|t| t.to_string()))
        }
    };
    let tenant = match named.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => crate::batch::DEFAULT_TENANT.to_string(),
    };
    crate::batch::check_name("tenant", &tenant).ok()?;
    Some(tenant)
}

/// Splits one CSV record (RFC 4180: fields separated by commas, optionally quoted, with
/// `""` for a quote inside quotes). Returns None on an unterminated quote. Fields borrow
/// from the line unless they were quoted; up to 8 fields need no allocation.
pub(super) fn split_csv_record(line: &str) -> Option<SmallVec<[Cow<'_, str>; 8]>> {
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
