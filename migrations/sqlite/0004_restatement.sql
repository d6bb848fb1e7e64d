-- Restatements: a day already rolled up whose values changed when it was rolled up again
-- (late data). One row per day, scope and item whose day peak or enabled seats changed,
-- written in the transaction that replaces the day, so a crash loses or doubles none.
-- A reseller reads them to know which bills must be reissued (docs/SEMANTICS.md).
CREATE TABLE restatement (
    id INTEGER PRIMARY KEY,
    day         INTEGER NOT NULL,
    scope_kind  INTEGER NOT NULL,
    scope_id    INTEGER NOT NULL,
    item        INTEGER NOT NULL,
    old_peak    INTEGER NOT NULL,
    new_peak    INTEGER NOT NULL,
    old_enabled INTEGER NOT NULL,
    new_enabled INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX restatement_day ON restatement (day);
