//! `seatmeter migrate-store`: copies an embedded store into PostgreSQL, table by table,
//! with every id kept, in one PostgreSQL transaction (a failed copy leaves nothing).

use std::path::Path;

use super::StoreError;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

/// A column's type in both dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    Blob,
}

use Kind::{Blob, Int, Text};

/// Every table, in an order that keeps references before their users, with its columns.
pub(crate) const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("meta", &[("key", Text), ("value", Text)]),
    ("tenant", &[("id", Int), ("name", Text)]),
    ("agent", &[("id", Int), ("tenant", Int), ("name", Text)]),
    ("grp", &[("id", Int), ("tenant", Int), ("name", Text)]),
    ("media", &[("id", Int), ("name", Text)]),
    ("place", &[("id", Int), ("name", Text)]),
    ("groupset", &[("id", Int), ("members", Blob)]),
    ("mediaset", &[("id", Int), ("members", Blob)]),
    (
        "event_chunk",
        &[
            ("id", Int),
            ("utc_day", Int),
            ("collector", Text),
            ("n", Int),
            ("min_ts", Int),
            ("max_ts", Int),
            ("data", Blob),
        ],
    ),
    (
        "snapshot",
        &[
            ("id", Int),
            ("taken", Int),
            ("source", Text),
            ("collector", Text),
            ("sha256", Blob),
            ("agents", Int),
            ("data", Blob),
        ],
    ),
    (
        "reject",
        &[
            ("id", Int),
            ("collector", Text),
            ("source", Text),
            ("line", Int),
            ("reason", Text),
            ("text", Text),
            ("at", Int),
        ],
    ),
    (
        "collector",
        &[
            ("name", Text),
            ("kind", Text),
            ("cursor", Text),
            ("last_success", Int),
            ("last_error", Text),
            ("last_error_at", Int),
            ("runs", Int),
            ("failures", Int),
            ("events", Int),
            ("duplicates", Int),
            ("snapshots", Int),
            ("rejects", Int),
        ],
    ),
    ("dirty_day", &[("utc_day", Int), ("seq", Int)]),
    (
        "rollup_day",
        &[
            ("day", Int),
            ("start_fp", Blob),
            ("end_state", Blob),
            ("events", Int),
            ("sessions", Int),
            ("stray_logouts", Int),
        ],
    ),
    (
        "rollup_scope_day",
        &[
            ("id", Int),
            ("scope_kind", Int),
            ("scope_id", Int),
            ("day", Int),
            ("data", Blob),
        ],
    ),
    (
        "anomaly",
        &[("day", Int), ("ts", Int), ("agent", Int), ("kind", Text)],
    ),
];

/// Column values of a run of rows, as PostgreSQL arrays take them.
#[derive(Debug)]
pub(crate) enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Blob(Vec<Option<Vec<u8>>>),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Int => Column::Int(Vec::new()),
            Text => Column::Text(Vec::new()),
            Blob => Column::Blob(Vec::new()),
        }
    }
}

/// Rows per statement, and bytes: bounds memory on large chunk tables.
const ROWS_PER_STATEMENT: usize = 5_000;
const BYTES_PER_STATEMENT: usize = 32 << 20;

/// Copies the SQLite store at `from` into the (new or empty) PostgreSQL store at `to`;
/// returns the rows copied per table. `progress` hears each table as it is done.
pub fn sqlite_to_postgres(
    from: &Path,
    to: &str,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<Vec<(String, u64)>, StoreError> {
    if !from.is_file() {
        return Err(StoreError::Other(format!(
            "{} does not exist (give the path of a seatmeter SQLite store)",
            from.display()
        )));
    }
    let source = SqliteStore::open(from)?;
    let mut target = PgStore::open(to)?;
    target.begin_copy()?;
    let mut counts = Vec::new();
    let result = (|| {
        for &(table, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
            let sql = format!("SELECT {} FROM {table}", names.join(", "));
            let mut st = source.connection().prepare(&sql)?;
            let mut rows = st.query([])?;
            let mut batch: Vec<Column> = columns.iter().map(|c| Column::new(c.1)).collect();
            let (mut n, mut in_batch, mut bytes) = (0u64, 0usize, 0usize);
            while let Some(r) = rows.next()? {
                for (i, col) in batch.iter_mut().enumerate() {
                    match col {
                        Column::Int(v) => v.push(r.get(i)?),
                        Column::Text(v) => {
                            let s: Option<String> = r.get(i)?;
                            bytes += s.as_ref().map_or(0, String::len);
                            v.push(s);
                        }
                        Column::Blob(v) => {
                            let b: Option<Vec<u8>> = r.get(i)?;
                            bytes += b.as_ref().map_or(0, Vec::len);
                            v.push(b);
                        }
                    }
                }
                n += 1;
                in_batch += 1;
                if in_batch >= ROWS_PER_STATEMENT || bytes >= BYTES_PER_STATEMENT {
                    let full = std::mem::replace(
                        &mut batch,
                        columns.iter().map(|c| Column::new(c.1)).collect(),
                    );
                    target.copy_rows(table, &names, full)?;
                    (in_batch, bytes) = (0, 0);
                }
            }
            if in_batch > 0 {
                target.copy_rows(table, &names, batch)?;
            }
            progress(table, n);
            counts.push((table.to_string(), n));
        }
        Ok::<_, StoreError>(())
    })();
    match result {
        Ok(()) => {
            target.end_copy(true)?;
            Ok(counts)
        }
        Err(e) => {
            let _ = target.end_copy(false);
            Err(e)
        }
    }
}
