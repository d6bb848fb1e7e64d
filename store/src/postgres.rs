//! The PostgreSQL store, for central deployments: the same tables and encodings as the
//! embedded store (migrations/postgres), through sqlx on a runtime of its own, so that the
//! rest of seatmeter keeps one synchronous [`crate::Store`] interface.
//!
//! Writes are few and wide: a batch of events is a handful of rows (one compact chunk per
//! UTC day), and many rows of one table go in one statement (`unnest` of arrays). Writing
//! transactions lock the `next_seq` row of `meta` first, so two collectors writing at once
//! are serialised as on SQLite.

use futures_util::StreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Column, Connection, Row as _, TypeInfo};

use crate::StoreError;
use crate::dialect::{Begin, Dialect, Param, Row, Value, statements};
use crate::schema::{Kind, TABLES};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The `application_name` of the store's connections.
pub const APPLICATION_NAME: &str = "seatmeter-store";

pub(crate) struct PgDialect {
    /// Always Some until dropped (see the Drop impl).
    rt: Option<tokio::runtime::Runtime>,
    conn: PgConnection,
    /// The URL without its password, for messages.
    location: String,
    /// The URL as given, to keep its password out of messages.
    url: String,
}

impl PgDialect {
    fn error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Database {
            dialect: Self::NAME,
            message: seatmeter_core::redact::hide_password(&e.to_string(), &self.url),
        }
    }

    /// Connects to the database at `url` and applies the migrations not applied yet.
    pub fn open(url: &str) -> Result<PgDialect, StoreError> {
        use seatmeter_core::redact::{hide_password, redact_url};
        let location = redact_url(url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Other(format!("starting the PostgreSQL client: {e}")))?;
        let options: PgConnectOptions = url.parse().map_err(|e| {
            StoreError::Other(hide_password(&format!("store URL {location}: {e}"), url))
        })?;
        // Named, so that an administrator sees seatmeter's connections in pg_stat_activity
        // (unless the URL names them).
        let options = match options.get_application_name() {
            Some(_) => options,
            None => options.application_name(APPLICATION_NAME),
        };
        let conn = rt
            .block_on(PgConnection::connect_with(&options))
            .map_err(|e| StoreError::Database {
                dialect: Self::NAME,
                message: hide_password(&format!("connecting to {location} failed: {e}"), url),
            })?;
        let mut d = PgDialect {
            rt: Some(rt),
            conn,
            location,
            url: url.to_string(),
        };
        let schema = d.query_row("SELECT current_schema()", &[])?;
        if schema.and_then(|r| r.opt_text(0).ok().flatten()).is_none() {
            return Err(StoreError::Schema(format!(
                "{}: no schema to keep seatmeter's tables in; the search_path names a schema that does not exist: create it first (CREATE SCHEMA ...)",
                d.location
            )));
        }
        let rt = d.rt.as_ref().expect("runtime until dropped");
        rt.block_on(MIGRATOR.run(&mut d.conn))
            .map_err(|e| StoreError::Schema(format!("migrating the PostgreSQL store: {e}")))?;
        Ok(d)
    }

    fn run<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, StoreError> {
        let rt = self.rt.as_ref().expect("runtime until dropped");
        let result = rt.block_on(f(&mut self.conn));
        result.map_err(|e| self.error(e))
    }

    /// Moves the id sequences past the ids copied in by `migrate-store`: the tables whose
    /// rows are numbered by the database (chunks, snapshots, rejects) go on from there.
    pub(crate) fn reset_sequences(&mut self) -> Result<(), StoreError> {
        for &(table, columns) in TABLES {
            // Tables numbered by the database: an integer `id` first (a recommendation's
            // id is text, chosen by seatmeter).
            if columns.first() == Some(&("id", crate::schema::Kind::Int)) {
                self.execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    ),
                    &[],
                )?;
            }
        }
        Ok(())
    }
}

/// The service may drop a store on one of its async threads, where a runtime cannot be
/// dropped (it would block): let it go in the background instead.
impl Drop for PgDialect {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn bind<'q>(mut q: PgQuery<'q>, params: &[Param<'q>]) -> PgQuery<'q> {
    for p in params {
        q = match *p {
            Param::Null => q.bind(None::<i64>),
            Param::Int(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
            Param::Blob(v) => q.bind(v),
        };
    }
    q
}

fn value(row: &PgRow, i: usize) -> Result<Value, sqlx::Error> {
    let ty = row.columns()[i].type_info().name().to_string();
    Ok(match ty.as_str() {
        "INT8" => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        "INT4" => row
            .try_get::<Option<i32>, _>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        "INT2" => row
            .try_get::<Option<i16>, _>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        "BOOL" => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        "BYTEA" => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, Value::Blob),
        _ => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

fn row_values(row: &PgRow) -> Result<Row, sqlx::Error> {
    (0..row.columns().len())
        .map(|i| value(row, i))
        .collect::<Result<_, _>>()
        .map(Row)
}

/// One column of rows as the PostgreSQL array `unnest` takes.
enum Array {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Blob(Vec<Option<Vec<u8>>>),
}

impl Array {
    fn new(kind: Kind, n: usize) -> Array {
        match kind {
            Kind::Int => Array::Int(Vec::with_capacity(n)),
            Kind::Text => Array::Text(Vec::with_capacity(n)),
            Kind::Blob => Array::Blob(Vec::with_capacity(n)),
        }
    }

    fn push(&mut self, p: &Param<'_>) -> Result<(), String> {
        match (self, *p) {
            (Array::Int(v), Param::Int(x)) => v.push(Some(x)),
            (Array::Int(v), Param::Null) => v.push(None),
            (Array::Text(v), Param::Text(x)) => v.push(Some(x.to_string())),
            (Array::Text(v), Param::Null) => v.push(None),
            (Array::Blob(v), Param::Blob(x)) => v.push(Some(x.to_vec())),
            (Array::Blob(v), Param::Null) => v.push(None),
            (_, p) => return Err(format!("a value {p:?} of the wrong type")),
        }
        Ok(())
    }
}

impl Dialect for PgDialect {
    const NAME: &'static str = "PostgreSQL";

    fn location(&self) -> String {
        self.location.clone()
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let rt = self.rt.as_ref().expect("runtime until dropped");
        let mut failed: Option<StoreError> = None;
        let result = rt.block_on(async {
            let q = bind(sqlx::query(sqlx::AssertSqlSafe(sql)), params);
            let mut rows = q.fetch(&mut self.conn);
            while let Some(r) = rows.next().await {
                let row = row_values(&r?)?;
                if let Err(e) = each(row) {
                    failed = Some(e);
                    break;
                }
            }
            Ok::<_, sqlx::Error>(())
        });
        if let Some(e) = failed {
            return Err(e);
        }
        result.map_err(|e| self.error(e))
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        self.run(async |c| {
            let q = bind(sqlx::query(sqlx::AssertSqlSafe(sql)), params);
            Ok(q.execute(c).await?.rows_affected())
        })
    }

    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[(&str, Kind)],
        rows: &[Vec<Param<'_>>],
        conflict: &str,
    ) -> Result<u64, StoreError> {
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let arrays: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, k))| {
                let t = match k {
                    Kind::Int => "bigint[]",
                    Kind::Text => "text[]",
                    Kind::Blob => "bytea[]",
                };
                format!("${}::{t}", i + 1)
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT * FROM unnest({}) {conflict}",
            names.join(", "),
            arrays.join(", ")
        );
        let mut n = 0;
        for part in statements(rows) {
            let mut cols: Vec<Array> = columns
                .iter()
                .map(|(_, k)| Array::new(*k, part.len()))
                .collect();
            for r in part {
                for (col, p) in cols.iter_mut().zip(r) {
                    col.push(p)
                        .map_err(|e| StoreError::Other(format!("inserting into {table}: {e}")))?;
                }
            }
            let sql = sql.as_str();
            n += self.run(async |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for col in cols {
                    q = match col {
                        Array::Int(v) => q.bind(v),
                        Array::Text(v) => q.bind(v),
                        Array::Blob(v) => q.bind(v),
                    };
                }
                Ok(q.execute(c).await?.rows_affected())
            })?;
        }
        Ok(n)
    }

    fn begin(&mut self, kind: Begin) -> Result<(), StoreError> {
        match kind {
            Begin::Write => {
                self.execute("BEGIN", &[])?;
                // The lock that serialises writers; the row exists from the first migration.
                if let Err(e) = self.execute(
                    "SELECT value FROM meta WHERE key = 'next_seq' FOR UPDATE",
                    &[],
                ) {
                    self.rollback();
                    return Err(e);
                }
                Ok(())
            }
            Begin::Read => self
                .execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &[])
                .map(|_| ()),
        }
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.execute("COMMIT", &[]).map(|_| ())
    }

    fn rollback(&mut self) {
        let _ = self.execute("ROLLBACK", &[]);
    }

    fn size_bytes(&mut self) -> Result<u64, StoreError> {
        let r = self.query_row(
            "SELECT CAST(sum(pg_total_relation_size(c.oid)) AS BIGINT) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            &[],
        )?;
        Ok(r.map(|r| r.opt_i64(0))
            .transpose()?
            .flatten()
            .unwrap_or(0)
            .max(0) as u64)
    }

    #[cfg(test)]
    fn table_columns(&mut self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let rows = self.query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'
             ORDER BY table_name, ordinal_position",
            &[],
        )?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in rows {
            let (t, c) = (r.text(0)?, r.text(1)?);
            match out.last_mut() {
                Some((last, cols)) if *last == t => cols.push(c),
                _ => out.push((t, vec![c])),
            }
        }
        Ok(out)
    }
}
