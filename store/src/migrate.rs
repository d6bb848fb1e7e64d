//! `seatmeter migrate-store`: copies an embedded store into PostgreSQL, table by table,
//! with every id kept, in one PostgreSQL transaction (a failed copy leaves nothing).

use std::path::Path;

use crate::StoreError;
use crate::dialect::{Begin, Dialect, Param, Value, statements};
use crate::postgres::PgDialect;
use crate::schema::TABLES;
use crate::sqlite::SqliteDialect;

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
    let mut source = SqliteDialect::open(from)?;
    let mut target = PgDialect::open(to)?;
    let held = target
        .query_row(
            "SELECT (SELECT count(*) FROM tenant) + (SELECT count(*) FROM event_chunk)
                  + (SELECT count(*) FROM snapshot) + (SELECT count(*) FROM rollup_day)
                  + (SELECT count(*) FROM collector)",
            &[],
        )?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    if held > 0 {
        return Err(StoreError::Other(format!(
            "the store at {} already holds data: migrate into an empty database or schema",
            target.location()
        )));
    }
    target.transaction(Begin::Write, |target| {
        let mut counts = Vec::new();
        for &(table, columns) in TABLES {
            let n = copy_table(&mut source, target, table, columns)?;
            progress(table, n);
            counts.push((table.to_string(), n));
        }
        target.reset_sequences()?;
        Ok(counts)
    })
}

/// Copies one table, a statement's worth of rows at a time.
fn copy_table(
    source: &mut SqliteDialect,
    target: &mut PgDialect,
    table: &str,
    columns: &[(&str, crate::schema::Kind)],
) -> Result<u64, StoreError> {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    // The rows every new store starts with (meta's sequence; place, group set and media
    // set 0) are there already: the sequence is replaced, the others are the same.
    let conflict = if table == "meta" {
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    } else {
        "ON CONFLICT DO NOTHING"
    };
    let mut pending: Vec<Vec<Value>> = Vec::new();
    let mut n = 0u64;
    let mut flush = |pending: &mut Vec<Vec<Value>>| -> Result<(), StoreError> {
        let rows: Vec<Vec<Param<'_>>> = pending
            .iter()
            .map(|r| r.iter().map(param).collect())
            .collect();
        for part in statements(&rows) {
            target.insert_rows(table, columns, part, conflict)?;
        }
        pending.clear();
        Ok(())
    };
    let mut bytes = 0usize;
    source.query_each(
        &format!("SELECT {} FROM {table}", names.join(", ")),
        &[],
        &mut |r| {
            bytes +=
                r.0.iter()
                    .map(|v| match v {
                        Value::Text(t) => t.len(),
                        Value::Blob(b) => b.len(),
                        _ => 8,
                    })
                    .sum::<usize>();
            pending.push(r.0);
            n += 1;
            if pending.len() >= crate::dialect::ROWS_PER_STATEMENT
                || bytes >= crate::dialect::BYTES_PER_STATEMENT
            {
                flush(&mut pending)?;
                bytes = 0;
            }
            Ok(())
        },
    )?;
    flush(&mut pending)?;
    Ok(n)
}

fn param(v: &Value) -> Param<'_> {
    match v {
        Value::Null => Param::Null,
        Value::Int(i) => Param::Int(*i),
        Value::Text(t) => Param::Text(t),
        Value::Blob(b) => Param::Blob(b),
    }
}
