//! What the two databases do differently, and nothing more: open, run a statement, insert
//! many rows, begin a transaction, and measure the store's size. Everything else is
//! written once, in SQL both understand (`$1` parameters, `ON CONFLICT … DO UPDATE`,
//! `CAST(… AS BIGINT)`), in `sql.rs` and `ingest.rs`.

use crate::StoreError;
use crate::schema::Kind;

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// A statement's parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<u32> for Param<'_> {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}

impl From<i32> for Param<'_> {
    fn from(v: i32) -> Self {
        Param::Int(i64::from(v))
    }
}

impl From<u64> for Param<'_> {
    fn from(v: u64) -> Self {
        Param::Int(v.min(i64::MAX as u64) as i64)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(v: &'a [u8]) -> Self {
        Param::Blob(v)
    }
}

impl<'a> From<&'a Vec<u8>> for Param<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Param::Blob(v)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// A statement's parameters: `params![a, b]`.
macro_rules! params {
    ($($p:expr),* $(,)?) => { &[$($crate::dialect::Param::from($p)),*][..] };
}
pub(crate) use params;

/// One row read, with typed access to its columns; every read is checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("a row has no column {i}")))
    }

    fn wrong(&self, i: usize, want: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "column {i} is {:?} where {want} was expected",
            self.0.get(i)
        ))
    }

    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    pub fn i64(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_i64(i)?.ok_or_else(|| self.wrong(i, "an integer"))
    }

    /// A count or an id: never negative.
    pub fn u64(&self, i: usize) -> Result<u64, StoreError> {
        Ok(self.i64(i)?.max(0) as u64)
    }

    pub fn u32(&self, i: usize) -> Result<u32, StoreError> {
        u32::try_from(self.i64(i)?).map_err(|_| self.wrong(i, "a 32-bit id"))
    }

    pub fn i32(&self, i: usize) -> Result<i32, StoreError> {
        i32::try_from(self.i64(i)?).map_err(|_| self.wrong(i, "a day number"))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "text")),
        }
    }

    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| self.wrong(i, "text"))
    }

    pub fn blob(&self, i: usize) -> Result<&[u8], StoreError> {
        match self.get(i)? {
            Value::Blob(v) => Ok(v),
            _ => Err(self.wrong(i, "a blob")),
        }
    }

    /// The blob of column `i`, moved out of the row.
    pub fn take_blob(&mut self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.0.get_mut(i) {
            Some(Value::Blob(v)) => Ok(std::mem::take(v)),
            _ => Err(self.wrong(i, "a blob")),
        }
    }
}

/// Which transaction to begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// A transaction that writes. Writers are serialised from its first statement on
    /// (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a lock on `meta`'s `next_seq` row), so an
    /// ingest sees every event stored before it when it looks for duplicates, and ids are
    /// given by one writer at a time.
    Write,
    /// A read-only transaction that sees one snapshot of the store.
    Read,
}

/// One database.
pub(crate) trait Dialect: Send {
    /// `SQLite` or `PostgreSQL`, for messages.
    const NAME: &'static str;

    /// Where the store is, for messages (a file path, or a URL without its password).
    fn location(&self) -> String;

    /// Runs a statement and hands each row it returns to `each`, as it comes.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError>;

    /// Inserts rows of `columns` (of the schema's kinds) into `table`, with `conflict` (an
    /// `ON CONFLICT …` clause or nothing), in as few statements as the database allows;
    /// returns how many rows were inserted (or updated by the conflict clause).
    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[(&str, Kind)],
        rows: &[Vec<Param<'_>>],
        conflict: &str,
    ) -> Result<u64, StoreError>;

    fn begin(&mut self, kind: Begin) -> Result<(), StoreError>;
    fn commit(&mut self) -> Result<(), StoreError>;
    /// Undoes the open transaction (after an error; errors of its own are ignored).
    fn rollback(&mut self);

    /// Whether commits are synced to disk from now on. The rollup writes its days unsynced
    /// and syncs once at its end (see `sql.rs`); PostgreSQL always syncs.
    fn set_durable(&mut self, _full: bool) -> Result<(), StoreError> {
        Ok(())
    }

    /// The store's size on disk.
    fn size_bytes(&mut self) -> Result<u64, StoreError>;

    /// Every table and its columns as the database has them (for the schema check).
    #[cfg(test)]
    fn table_columns(&mut self) -> Result<Vec<(String, Vec<String>)>, StoreError>;

    /// Runs a statement and returns every row.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        self.query_each(sql, params, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row a statement returns, if any.
    fn query_row(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `f` in a transaction: committed when it succeeds, rolled back when it fails.
    fn transaction<T>(
        &mut self,
        kind: Begin,
        f: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>
    where
        Self: Sized,
    {
        self.begin(kind)?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}

/// Rows per insert statement, and bytes: bounds the memory of one statement.
pub(crate) const ROWS_PER_STATEMENT: usize = 5_000;
pub(crate) const BYTES_PER_STATEMENT: usize = 32 << 20;

/// Splits `rows` into runs that fit one statement.
pub(crate) fn statements<'r, 'a>(rows: &'r [Vec<Param<'a>>]) -> Vec<&'r [Vec<Param<'a>>]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        bytes += r
            .iter()
            .map(|p| match p {
                Param::Text(t) => t.len(),
                Param::Blob(b) => b.len(),
                _ => 8,
            })
            .sum::<usize>();
        if i + 1 - start >= ROWS_PER_STATEMENT || bytes >= BYTES_PER_STATEMENT {
            out.push(&rows[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}
