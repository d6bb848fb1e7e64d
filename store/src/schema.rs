//! The schema, written once for both dialects: every table with its columns (the
//! migrations in `migrations/sqlite` and `migrations/postgres` create exactly these; a test
//! checks both against this list), and the keys of the `meta` table.

/// A column's type in both dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Blob,
}

use Kind::{Blob, Int, Text};

/// Every table, in an order that keeps references before their users, with its columns.
pub const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("meta", &[("key", Text), ("value", Text)]),
    ("tenant", &[("id", Int), ("name", Text)]),
    ("agent", &[("id", Int), ("tenant", Int), ("name", Text)]),
    ("grp", &[("id", Int), ("tenant", Int), ("name", Text)]),
    ("place_grp", &[("id", Int), ("tenant", Int), ("name", Text)]),
    ("media", &[("id", Int), ("name", Text)]),
    ("place", &[("id", Int), ("name", Text)]),
    ("groupset", &[("id", Int), ("members", Blob)]),
    ("mediaset", &[("id", Int), ("members", Blob)]),
    (
        "event_chunk",
        &[
            ("id", Int),
            ("utc_day", Int),
            ("collector", Text),
            ("n", Int),
            ("min_ts", Int),
            ("max_ts", Int),
            ("data", Blob),
        ],
    ),
    (
        "snapshot",
        &[
            ("id", Int),
            ("taken", Int),
            ("source", Text),
            ("collector", Text),
            ("sha256", Blob),
            ("agents", Int),
            ("data", Blob),
        ],
    ),
    (
        "reject",
        &[
            ("id", Int),
            ("collector", Text),
            ("source", Text),
            ("line", Int),
            ("reason", Text),
            ("text", Text),
            ("at", Int),
            ("origin", Text),
            ("tenant", Text),
        ],
    ),
    (
        "collector",
        &[
            ("name", Text),
            ("kind", Text),
            ("cursor", Text),
            ("last_success", Int),
            ("last_error", Text),
            ("last_error_at", Int),
            ("runs", Int),
            ("failures", Int),
            ("events", Int),
            ("duplicates", Int),
            ("snapshots", Int),
            ("rejects", Int),
        ],
    ),
    ("dirty_day", &[("utc_day", Int), ("seq", Int)]),
    (
        "rollup_day",
        &[
            ("day", Int),
            ("start_fp", Blob),
            ("end_state", Blob),
            ("events", Int),
            ("sessions", Int),
            ("stray_logouts", Int),
        ],
    ),
    (
        "rollup_scope_day",
        &[
            ("id", Int),
            ("scope_kind", Int),
            ("scope_id", Int),
            ("day", Int),
            ("data", Blob),
        ],
    ),
    ("activity_day", &[("day", Int), ("data", Blob)]),
    (
        "anomaly",
        &[("day", Int), ("ts", Int), ("agent", Int), ("kind", Text)],
    ),
    (
        "restatement",
        &[
            ("id", Int),
            ("day", Int),
            ("scope_kind", Int),
            ("scope_id", Int),
            ("item", Int),
            ("old_peak", Int),
            ("new_peak", Int),
            ("old_enabled", Int),
            ("new_enabled", Int),
            ("at", Int),
        ],
    ),
    (
        "recommendation",
        &[
            ("id", Text),
            ("kind", Text),
            ("tenant", Text),
            ("agent", Text),
            ("item", Text),
            ("summary", Text),
            ("detail", Text),
            ("saving", Int),
            ("data_fp", Text),
            ("status", Text),
            ("as_of", Int),
            ("proposed_at", Int),
            ("decided_at", Int),
        ],
    ),
    (
        "decision",
        &[
            ("seq", Int),
            ("at", Int),
            ("recommendation", Text),
            ("action", Text),
            ("by_whom", Text),
            ("reason", Text),
            ("what", Text),
            ("prev_hash", Blob),
            ("hash", Blob),
        ],
    ),
    (
        "alert_episode",
        &[
            ("id", Int),
            ("rule", Text),
            ("subject", Text),
            ("opened_at", Int),
            ("resolved_at", Int),
            ("summary", Text),
            ("details", Text),
        ],
    ),
    (
        "outbox",
        &[
            ("id", Int),
            ("key", Text),
            ("channel", Text),
            ("rule", Text),
            ("episode", Int),
            ("state", Text),
            ("payload", Text),
            ("created_at", Int),
            ("next_at", Int),
            ("attempts", Int),
            ("last_error", Text),
            ("done_at", Int),
        ],
    ),
];

/// The columns of `table`, in the order [`TABLES`] gives them.
pub fn columns(table: &str) -> &'static [(&'static str, Kind)] {
    TABLES
        .iter()
        .find(|(t, _)| *t == table)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("no table {table} in the schema"))
}

/// The keys of the `meta` table.
pub mod meta {
    /// The receive sequence number of the next event (every ingest moves it on).
    pub const NEXT_SEQ: &str = "next_seq";
    /// What the last rollup depended on: time zone, items, bundle definitions.
    pub const ROLLUP_FINGERPRINT: &str = "rollup_fingerprint";
    /// When the first configuration snapshot was taken, as the last rollup saw it.
    pub const ROLLUP_FIRST_SNAPSHOT: &str = "rollup_first_snapshot";
    /// Days before this one lost their raw events to retention.
    pub const FROZEN_BEFORE: &str = "frozen_before";
    /// When the service last checked that the store takes writes (`/readyz`).
    pub const WRITE_PROBE: &str = "write_probe";
}
