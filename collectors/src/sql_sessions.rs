//! The `sql-sessions` collector: agent login sessions from a table in a PostgreSQL
//! database, such as the login-session table of Genesys Interaction Concentrator (ICON),
//! which gets one row per session at login and its end time at logout.
//!
//! Every row has a key that increases whenever the row is inserted or updated (ICON's
//! audit key). A collection reads the rows whose key is above its cursor, in key order and
//! in pages; each page becomes a batch, delivered with the last key read as the cursor.
//! A row becomes a `login` at its start and, once it has one, a `logout` at its end; a row
//! read again (its end was set since, or the overlap below) gives the same login again,
//! which the store keeps once. So a session that ends hours later is still closed, the
//! table is never read again from the start, and a source that was down is read from where
//! the cursor stopped: nothing is lost.
//!
//! Keys given by a sequence can become visible out of order (a transaction that took key
//! 100 commits after one that took 101): each collection starts `overlap` keys below the
//! cursor, so such rows are read too.
//!
//! The collector only reads: its connection is opened with
//! `default_transaction_read_only = on`, and it needs no more than SELECT on the table.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Column, ConnectOptions, Connection as _, Row, TypeInfo};

use crate::batch::{Batch, EventFields, Reject, Words};
use crate::{AnyCollector, CollectError, Collector, Delivery, HumanDuration, Kind, Summary};

/// `kind = "sql-sessions"`.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SqlSessionsConfig {
    /// Unique name of this collector.
    pub name: String,
    /// The source database (`postgres://user[:password]@host[:port]/database`); give it a
    /// role that can only read. Prefer PGPASSWORD or ~/.pgpass to a password here.
    pub url: String,
    /// The table the `icon` preset reads (default `g_login_session`; may be
    /// schema-qualified).
    #[serde(default = "default_table")]
    pub table: String,
    /// Instead of the preset: a query returning `key` (bigint, increasing on every insert
    /// and update), `agent`, and either `start` and `end` (a session per row) or `ts` and
    /// `event` (an event per row), with optional `tenant`, `place`, `groups` and `media`
    /// (text, `;`-separated). It takes the cursor as `$1`: `WHERE key > $1`.
    #[serde(default)]
    pub query: Option<String>,
    /// Rows per batch.
    #[serde(default = "default_page")]
    pub page_rows: i64,
    /// How many keys below its cursor a collection starts (see the module notes).
    #[serde(default = "default_overlap")]
    pub overlap: i64,
    /// How long to wait for the database to answer a connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: HumanDuration,
    #[serde(default)]
    pub interval: HumanDuration,
}

fn default_table() -> String {
    "g_login_session".into()
}
fn default_page() -> i64 {
    50_000
}
fn default_overlap() -> i64 {
    1_000
}
fn default_connect_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}

impl fmt::Debug for SqlSessionsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlSessionsConfig")
            .field("name", &self.name)
            .field("url", &seatmeter_core::redact::redact_url(&self.url))
            .field("table", &self.table)
            .field("query", &self.query)
            .field("page_rows", &self.page_rows)
            .field("overlap", &self.overlap)
            .finish()
    }
}

impl Kind for SqlSessionsConfig {
    const KIND: &'static str = "sql-sessions";
    const SAMPLE: &'static str = r#"# [[collector]]                      # login sessions from ICON's database (read-only)
# name = "icon"
# kind = "sql-sessions"
# url = "postgres://seatmeter_ro@icon-db/icon"
# table = "g_login_session"          # or: query = "SELECT ... WHERE key > $1""#;

    fn name(&self) -> &str {
        &self.name
    }

    fn interval(&self) -> Duration {
        self.interval.0
    }

    /// Checks what can be checked without the database.
    fn validate(&self) -> Result<(), String> {
        if self.page_rows < 1 {
            return Err("page_rows must be at least 1".into());
        }
        if self.overlap < 0 {
            return Err("overlap cannot be negative".into());
        }
        if let Some(q) = &self.query
            && !q.contains("$1")
        {
            return Err("query must take the cursor as $1 (e.g. WHERE updateauditkey > $1)".into());
        }
        if !self
            .table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(format!(
                "table {:?}: letters, digits, '_' and '.' only",
                self.table
            ));
        }
        Ok(())
    }

    fn build(&self) -> Box<dyn AnyCollector> {
        Box::new(SqlSessionsCollector::new(self.clone()))
    }
}

impl SqlSessionsConfig {
    /// The query run for each page: the preset or the user's, in key order.
    fn page_query(&self) -> String {
        let inner = match &self.query {
            Some(q) => q.trim().trim_end_matches(';').to_string(),
            None => format!(
                "SELECT updateauditkey AS key, tenant, agent, place, media, added AS start, terminated AS \"end\"
                 FROM {} WHERE updateauditkey > $1",
                self.table
            ),
        };
        format!("SELECT * FROM ({inner}) AS source ORDER BY key LIMIT $2")
    }
}

/// Where the collector stopped.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// The highest key stored.
    key: i64,
}

pub struct SqlSessionsCollector {
    config: SqlSessionsConfig,
}

impl SqlSessionsCollector {
    pub fn new(config: SqlSessionsConfig) -> SqlSessionsCollector {
        SqlSessionsCollector { config }
    }
}

impl Collector for SqlSessionsCollector {
    type Cursor = Cursor;

    fn name(&self) -> &str {
        &self.config.name
    }

    fn collect(
        &mut self,
        cur: Cursor,
        sink: &mut Delivery<'_, Cursor>,
    ) -> Result<Summary, CollectError> {
        self.config.validate().map_err(CollectError::Source)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CollectError::Source(format!("starting the database client: {e}")))?;
        rt.block_on(collect(&self.config, cur, sink))
    }
}

fn source_error(config: &SqlSessionsConfig, what: &str, e: impl fmt::Display) -> CollectError {
    use seatmeter_core::redact::{hide_password, redact_url};
    let text = format!("{what} ({}): {e}", redact_url(&config.url));
    CollectError::Source(hide_password(&text, &config.url))
}

async fn collect(
    config: &SqlSessionsConfig,
    cur: Cursor,
    sink: &mut Delivery<'_, Cursor>,
) -> Result<Summary, CollectError> {
    let options: PgConnectOptions = config
        .url
        .parse()
        .map_err(|e| source_error(config, "bad database URL", e))?;
    let options = options
        .options([("default_transaction_read_only", "on")])
        .application_name("seatmeter");
    let connect = options.connect();
    let mut conn: PgConnection = tokio::time::timeout(config.connect_timeout.0, connect)
        .await
        .map_err(|_| source_error(config, "connecting timed out", "no answer"))?
        .map_err(|e| source_error(config, "connecting failed", e))?;
    let sql = config.page_query();
    let mut summary = Summary::default();
    // Where rows kept aside say they came from.
    let source = match &config.query {
        Some(_) => format!("{} (query)", config.name),
        None => config.table.clone(),
    };
    let mut key = (cur.key - config.overlap).max(i64::MIN + 1);
    let mut stored = cur.key;
    loop {
        if sink.should_stop() {
            return Err(CollectError::Stopped);
        }
        let rows: Vec<PgRow> = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(key)
            .bind(config.page_rows)
            .fetch_all(&mut conn)
            .await
            .map_err(|e| source_error(config, "reading the sessions failed", e))?;
        summary.sources += 1;
        summary.lines += rows.len() as u64;
        let Some(last) = rows.last() else {
            break;
        };
        let last_key: i64 = last
            .try_get("key")
            .map_err(|e| source_error(config, "the query's key column", e))?;
        let mut batch = Batch::in_window(sink.window());
        for row in &rows {
            take_row(row, &source, &mut batch);
        }
        let full = rows.len() as i64 == config.page_rows;
        key = last_key;
        // The cursor never moves back (an overlap page re-reads keys below it).
        stored = stored.max(last_key);
        sink.deliver(batch, &Cursor { key: stored })?;
        if !full {
            break;
        }
    }
    let _ = conn.close().await;
    Ok(summary)
}

/// Text of an optional column: absent, NULL and empty are all "not given".
fn text(row: &PgRow, name: &str) -> Result<Option<String>, String> {
    let Some(col) = row.columns().iter().find(|c| c.name() == name) else {
        return Ok(None);
    };
    let i = col.ordinal();
    let v: Option<String> = match col.type_info().name() {
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" => {
            row.try_get(i).map_err(|e| format!("{name}: {e}"))?
        }
        "INT4" => row
            .try_get::<Option<i32>, _>(i)
            .map_err(|e| format!("{name}: {e}"))?
            .map(|v| v.to_string()),
        "INT8" => row
            .try_get::<Option<i64>, _>(i)
            .map_err(|e| format!("{name}: {e}"))?
            .map(|v| v.to_string()),
        other => return Err(format!("column {name} is {other}; cast it to text")),
    };
    Ok(v.filter(|s| !s.trim().is_empty()))
}

/// An instant column as RFC 3339: timestamptz, or timestamp (read as UTC), or text.
fn instant(row: &PgRow, name: &str) -> Result<Option<String>, String> {
    let Some(col) = row.columns().iter().find(|c| c.name() == name) else {
        return Ok(None);
    };
    let i = col.ordinal();
    let err = |e: sqlx::Error| format!("{name}: {e}");
    Ok(match col.type_info().name() {
        "TIMESTAMPTZ" => row
            .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)
            .map_err(err)?
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        "TIMESTAMP" => row
            .try_get::<Option<chrono::NaiveDateTime>, _>(i)
            .map_err(err)?
            .map(|t| {
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            }),
        _ => text(row, name)?,
    })
}

/// Turns one row into its events, or keeps it aside with its key and why; a row kept
/// aside carries the tenant it names (`default` when none), so that tenant's documents
/// list it.
fn take_row(row: &PgRow, source: &str, batch: &mut Batch) {
    let kept = batch.rejects.len();
    take_row_events(row, source, batch);
    if batch.rejects.len() > kept {
        let tenant = match text(row, "tenant") {
            Ok(Some(t)) if !t.trim().is_empty() => Some(t.trim().to_string()),
            Ok(_) => Some(crate::batch::DEFAULT_TENANT.to_string()),
            Err(_) => None,
        }
        .filter(|t| crate::batch::check_name("tenant", t).is_ok());
        for r in &mut batch.rejects[kept..] {
            r.tenant = tenant.clone();
        }
    }
}

fn take_row_events(row: &PgRow, source: &str, batch: &mut Batch) {
    let key: i64 = row.try_get("key").unwrap_or(0);
    let line = key.max(0) as u64;
    let fields = (|| -> Result<_, String> {
        Ok((
            text(row, "tenant")?,
            text(row, "agent")?.ok_or("no agent")?,
            text(row, "place")?,
            text(row, "groups")?,
            text(row, "media")?,
        ))
    })();
    let (tenant, agent, place, groups, media) = match fields {
        Ok(f) => f,
        Err(reason) => {
            batch
                .rejects
                .push(Reject::new(source, line, reason, &format!("key {key}")));
            return;
        }
    };
    let mut push = |ts: &str, event: &str| {
        let login = event.trim().eq_ignore_ascii_case("login");
        let fields = EventFields {
            ts,
            event,
            tenant: tenant.as_deref(),
            agent: &agent,
            place: place.as_deref(),
            groups: match (&groups, login) {
                (Some(g), true) => Words::Joined(g, ';'),
                _ => Words::None,
            },
            media: match (&media, login) {
                (Some(m), true) => Words::Joined(m, ';'),
                _ => Words::None,
            },
        };
        if let Err(reason) = batch.push(&fields) {
            let text = format!("key {key}: {event} of {agent} at {ts}");
            batch.rejects.push(Reject::new(source, line, reason, &text));
        }
    };
    let has = |name: &str| row.columns().iter().any(|c| c.name() == name);
    if has("start") {
        match (instant(row, "start"), instant(row, "end")) {
            (Ok(Some(start)), Ok(end)) => {
                push(&start, "login");
                if let Some(end) = end {
                    push(&end, "logout");
                }
            }
            (Ok(None), _) => batch.rejects.push(Reject::new(
                source,
                line,
                "the session has no start",
                &format!("key {key}"),
            )),
            (Err(reason), _) | (_, Err(reason)) => {
                batch
                    .rejects
                    .push(Reject::new(source, line, reason, &format!("key {key}")))
            }
        }
    } else {
        match (instant(row, "ts"), text(row, "event")) {
            (Ok(Some(ts)), Ok(Some(event))) => push(&ts, &event),
            (Err(reason), _) | (_, Err(reason)) => {
                batch
                    .rejects
                    .push(Reject::new(source, line, reason, &format!("key {key}")))
            }
            _ => batch.rejects.push(Reject::new(
                source,
                line,
                "the row needs start (and end), or ts and event",
                &format!("key {key}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_text: &str) -> SqlSessionsConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn the_preset_reads_the_icon_table_in_key_order() {
        let c = config("name = \"icon\"\nurl = \"postgres://ro:pw@db/icon\"\n");
        let q = c.page_query();
        assert!(
            q.contains("FROM g_login_session WHERE updateauditkey > $1"),
            "{q}"
        );
        assert!(q.ends_with("ORDER BY key LIMIT $2"), "{q}");
        assert!(c.validate().is_ok());
        assert!(!format!("{c:?}").contains("pw"));
    }

    #[test]
    fn a_custom_query_must_take_the_cursor() {
        let mut c =
            config("name = \"x\"\nurl = \"postgres://db/x\"\nquery = \"SELECT 1 AS key\"\n");
        assert!(c.validate().unwrap_err().contains("$1"));
        c.query = Some(
            "SELECT id AS key, who AS agent, t0 AS start, t1 AS \"end\" FROM s WHERE id > $1;"
                .into(),
        );
        assert!(c.validate().is_ok());
        assert!(c.page_query().contains("WHERE id > $1) AS source"));
        c.table = "x; DROP TABLE y".into();
        assert!(c.validate().is_err());
    }
}
