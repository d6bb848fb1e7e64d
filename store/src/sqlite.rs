//! The embedded store: one SQLite file (WAL mode, full sync on commit).

use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, TransactionBehavior};

use crate::StoreError;
use crate::dialect::{Begin, Dialect, Param, Row, Value};
use crate::schema::Kind;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_reject_identity.sql"),
    include_str!("../../migrations/sqlite/0003_reject_tenant.sql"),
    include_str!("../../migrations/sqlite/0004_restatement.sql"),
    include_str!("../../migrations/sqlite/0005_activity_day.sql"),
    include_str!("../../migrations/sqlite/0006_recommendations.sql"),
    include_str!("../../migrations/sqlite/0007_alerts.sql"),
    include_str!("../../migrations/sqlite/0008_place_groups.sql"),
];

pub(crate) struct SqliteDialect {
    conn: Connection,
    path: PathBuf,
    /// Whether commits are synced to disk (`synchronous = FULL`) right now.
    full_sync: bool,
}

/// An error of the store at `path`, naming the file (an operator has to find it).
fn db(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Database {
        dialect: SqliteDialect::NAME,
        message: format!("{}: {e}", path.display()),
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Param::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Blob(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

impl SqliteDialect {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<SqliteDialect, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Other(format!(
                    "cannot create the store's folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let conn = Connection::open(path).map_err(db(path))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db(path))?;
        // Turning a new file to WAL needs it alone for a moment, and SQLite answers "database
        // is locked" at once instead of waiting: two processes opening a new store together
        // would fail. Wait as a busy handler would.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::DatabaseBusy
                        && std::time::Instant::now() < until =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                r => break r.map_err(db(path))?,
            }
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db(path))?;
        // 16 MiB of page cache per connection: 64 MiB made the rollup of the 5 M-session
        // month hold 75 MiB more at no gain in time (docs/PERFORMANCE.md).
        conn.pragma_update(None, "cache_size", -16384)
            .map_err(db(path))?;
        let mut d = SqliteDialect {
            conn,
            path: path.to_path_buf(),
            full_sync: true,
        };
        d.migrate()?;
        Ok(d)
    }

    /// Applies the migrations not applied yet, one transaction each. The version is read
    /// under the write lock, so two processes opening a new store do not both migrate it.
    fn migrate(&mut self) -> Result<(), StoreError> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db(&self.path))?;
            let version: i64 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(db(&self.path))?;
            let Some(sql) = MIGRATIONS.get(version as usize) else {
                if version as usize > MIGRATIONS.len() {
                    return Err(StoreError::Schema(format!(
                        "{} was written by a newer seatmeter (schema version {version}); upgrade seatmeter",
                        self.path.display()
                    )));
                }
                return Ok(());
            };
            tx.execute_batch(sql).map_err(db(&self.path))?;
            tx.pragma_update(None, "user_version", version + 1)
                .map_err(db(&self.path))?;
            tx.commit().map_err(db(&self.path))?;
        }
    }
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        // No column holds reals; one read as an integer would be a damaged store.
        ValueRef::Real(f) => Value::Text(f.to_string()),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl Dialect for SqliteDialect {
    const NAME: &'static str = "SQLite";

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self.conn.prepare_cached(sql).map_err(db(&self.path))?;
        let n = st.column_count();
        let mut rows = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(db(&self.path))?;
        while let Some(r) = rows.next().map_err(db(&self.path))? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(value(r.get_ref(i).map_err(db(&self.path))?));
            }
            each(Row(values))?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let mut st = self.conn.prepare_cached(sql).map_err(db(&self.path))?;
        Ok(st
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(db(&self.path))? as u64)
    }

    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[(&str, Kind)],
        rows: &[Vec<Param<'_>>],
        conflict: &str,
    ) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({}) {conflict}",
            names.join(", "),
            marks.join(", ")
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(db(&self.path))?;
        let mut n = 0;
        for r in rows {
            n += st
                .execute(rusqlite::params_from_iter(r.iter()))
                .map_err(db(&self.path))? as u64;
        }
        Ok(n)
    }

    fn begin(&mut self, kind: Begin) -> Result<(), StoreError> {
        self.conn
            .execute_batch(match kind {
                Begin::Write => "BEGIN IMMEDIATE",
                Begin::Read => "BEGIN",
            })
            .map_err(db(&self.path))
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(db(&self.path))
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Every commit is synced, except the days a rollup writes: those are synced by the
    /// commit that ends the rollup (in WAL mode, syncing the log syncs every earlier commit
    /// in it). A crash before that leaves the dirty marks, so the days are rolled up again.
    fn set_durable(&mut self, full: bool) -> Result<(), StoreError> {
        if self.full_sync != full {
            self.conn
                .pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })
                .map_err(db(&self.path))?;
            self.full_sync = full;
        }
        Ok(())
    }

    fn size_bytes(&mut self) -> Result<u64, StoreError> {
        let get = |pragma: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
                .map_err(db(&self.path))
        };
        Ok((get("page_count")? * get("page_size")?).max(0) as u64)
    }

    #[cfg(test)]
    fn table_columns(&mut self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let tables: Vec<String> = self
            .query(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for t in tables {
            let cols = self
                .query(
                    &format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"),
                    &[],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_, _>>()?;
            out.push((t, cols));
        }
        Ok(out)
    }
}
