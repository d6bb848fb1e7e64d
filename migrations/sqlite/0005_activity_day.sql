-- Agent activity, kept by the rollup with each local day (docs/SEMANTICS.md, "Agent
-- activity"): per agent, the first and last login of the day, the time logged in, and the
-- time per item and per media, in nanoseconds. One blob per day (agents sorted by id),
-- written in the transaction that writes the day's peaks, so a crash loses or doubles
-- none, and rolled up again with the day when late data arrives. Raw events may be
-- deleted by retention; this history stays.
CREATE TABLE activity_day (
    day  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
