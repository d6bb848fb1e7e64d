-- Right-sizing (docs/FINOPS.md): the recommendations seatmeter proposes, with a stable id
-- and a status, and the log of the decisions people took on them. The log is append-only:
-- each entry carries the SHA-256 of the one before and its own, so an exported log shows
-- whether it is complete and unedited; the trigger refuses an edit or a deletion through
-- seatmeter or anyone else's SQL.
CREATE TABLE recommendation (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    agent       TEXT NOT NULL,
    item        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    saving      BIGINT NOT NULL,
    data_fp     TEXT NOT NULL,
    status      TEXT NOT NULL,
    as_of       INTEGER NOT NULL,
    proposed_at BIGINT NOT NULL,
    decided_at  BIGINT
);

CREATE TABLE decision (
    seq            BIGINT PRIMARY KEY,
    at             BIGINT NOT NULL,
    recommendation TEXT NOT NULL,
    action         TEXT NOT NULL,
    by_whom        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    what           TEXT NOT NULL,
    prev_hash      BYTEA NOT NULL,
    hash           BYTEA NOT NULL
);

CREATE FUNCTION decision_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the decision log is append-only: an entry cannot be changed or deleted';
END;
$$;

CREATE TRIGGER decision_append_only BEFORE UPDATE OR DELETE ON decision
    FOR EACH ROW EXECUTE FUNCTION decision_append_only();
