-- seatmeter store, SQLite dialect. Applied once; the version is kept in PRAGMA user_version.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Dimensions: every string an event or snapshot names, once, with a small integer id.
CREATE TABLE tenant (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE agent (
    id     INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name   TEXT NOT NULL,
    UNIQUE (tenant, name)
);
CREATE TABLE grp (
    id     INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name   TEXT NOT NULL,
    UNIQUE (tenant, name)
);
CREATE TABLE media (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE place (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
-- Sets of group ids / media ids, members as sorted varints; id 0 is the empty set.
CREATE TABLE groupset (id INTEGER PRIMARY KEY, members BLOB NOT NULL UNIQUE);
CREATE TABLE mediaset (id INTEGER PRIMARY KEY, members BLOB NOT NULL UNIQUE);
INSERT INTO place (id, name) VALUES (0, '');
INSERT INTO groupset (id, members) VALUES (0, x'');
INSERT INTO mediaset (id, members) VALUES (0, x'');

-- Seat events, as compact chunks: one per ingested batch and UTC day, sorted by (ts, seq).
CREATE TABLE event_chunk (
    id        INTEGER PRIMARY KEY,
    utc_day   INTEGER NOT NULL,
    collector TEXT NOT NULL,
    n         INTEGER NOT NULL,
    min_ts    INTEGER NOT NULL,
    max_ts    INTEGER NOT NULL,
    data      BLOB NOT NULL
);
CREATE INDEX event_chunk_day ON event_chunk (utc_day);

-- Configuration snapshots; a document read twice is stored once.
CREATE TABLE snapshot (
    id        INTEGER PRIMARY KEY,
    taken     INTEGER NOT NULL,
    source    TEXT NOT NULL,
    collector TEXT NOT NULL,
    sha256    BLOB NOT NULL UNIQUE,
    agents    INTEGER NOT NULL,
    data      BLOB NOT NULL
);
CREATE INDEX snapshot_taken ON snapshot (taken);

-- Lines (or documents) a collector could not read, kept with where they were and why.
CREATE TABLE reject (
    id        INTEGER PRIMARY KEY,
    collector TEXT NOT NULL,
    source    TEXT NOT NULL,
    line      INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    text      TEXT NOT NULL,
    at        INTEGER NOT NULL
);

CREATE TABLE collector (
    name          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    cursor        TEXT,
    last_success  INTEGER,
    last_error    TEXT,
    last_error_at INTEGER,
    runs          INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    events        INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    snapshots     INTEGER NOT NULL DEFAULT 0,
    rejects       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- UTC days that received data since the rollup last took them in, with the sequence
-- number of the latest such data.
CREATE TABLE dirty_day (
    utc_day INTEGER PRIMARY KEY,
    seq     INTEGER NOT NULL
) WITHOUT ROWID;

-- Rollups: one row per local day, and the 10-minute values per (scope, day, item).
CREATE TABLE rollup_day (
    day           INTEGER PRIMARY KEY,
    start_fp      BLOB NOT NULL,
    end_state     BLOB NOT NULL,
    events        INTEGER NOT NULL,
    sessions      INTEGER NOT NULL,
    stray_logouts INTEGER NOT NULL
) WITHOUT ROWID;

-- Every item of one scope on one day in one row (codec::encode_scope_day): per item its
-- day's peak and enabled seats, the values when the day ends, and per-period arrays as runs.
CREATE TABLE rollup_scope_day (
    id         INTEGER PRIMARY KEY,
    scope_kind INTEGER NOT NULL,
    scope_id   INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    data       BLOB NOT NULL
);
CREATE UNIQUE INDEX rollup_scope_day_key ON rollup_scope_day (scope_kind, scope_id, day);
CREATE INDEX rollup_scope_day_day ON rollup_scope_day (day);

CREATE TABLE anomaly (
    day   INTEGER NOT NULL,
    ts    INTEGER NOT NULL,
    agent INTEGER NOT NULL,
    kind  TEXT NOT NULL
);
CREATE INDEX anomaly_day ON anomaly (day);
