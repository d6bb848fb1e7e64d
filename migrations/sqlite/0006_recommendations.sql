-- Right-sizing (docs/FINOPS.md): the recommendations seatmeter proposes, with a stable id
-- and a status, and the log of the decisions people took on them. The log is append-only:
-- each entry carries the SHA-256 of the one before and its own, so an exported log shows
-- whether it is complete and unedited; the triggers refuse an edit or a deletion through
-- seatmeter or anyone else's SQL.
CREATE TABLE recommendation (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    agent       TEXT NOT NULL,
    item        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    saving      INTEGER NOT NULL,
    data_fp     TEXT NOT NULL,
    status      TEXT NOT NULL,
    as_of       INTEGER NOT NULL,
    proposed_at INTEGER NOT NULL,
    decided_at  INTEGER
);

CREATE TABLE decision (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    recommendation TEXT NOT NULL,
    action         TEXT NOT NULL,
    by_whom        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    what           TEXT NOT NULL,
    prev_hash      BLOB NOT NULL,
    hash           BLOB NOT NULL
);

CREATE TRIGGER decision_append_only_update BEFORE UPDATE ON decision
BEGIN
    SELECT RAISE(ABORT, 'the decision log is append-only: an entry cannot be changed');
END;

CREATE TRIGGER decision_append_only_delete BEFORE DELETE ON decision
BEGIN
    SELECT RAISE(ABORT, 'the decision log is append-only: an entry cannot be deleted');
END;
