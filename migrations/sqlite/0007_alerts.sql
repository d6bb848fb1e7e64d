-- Alerts (docs/ALERTS.md): each episode of a condition (an item over its entitlement, a
-- license about to expire, ...) from the check that found it to the check that found it
-- gone, and the outbox of the notifications to send about it. An episode and its
-- notifications are written in one transaction, so a crash leaves both or neither; a
-- notification stays in the outbox until a channel took it (or it is dead-lettered), so
-- none is lost across restarts, and its key is what receivers de-duplicate on.
CREATE TABLE alert_episode (
    id          INTEGER PRIMARY KEY,
    rule        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    opened_at   INTEGER NOT NULL,
    resolved_at INTEGER,
    summary     TEXT NOT NULL,
    details     TEXT NOT NULL
);
-- At most one open episode per rule and subject.
CREATE UNIQUE INDEX alert_episode_open ON alert_episode (rule, subject) WHERE resolved_at IS NULL;

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    channel    TEXT NOT NULL,
    rule       TEXT NOT NULL,
    episode    INTEGER NOT NULL,
    state      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    done_at    INTEGER
);
CREATE INDEX outbox_state ON outbox (state, channel, rule, id);
