//! Recommendations and the decision log, on both stores.

use super::*;
use crate::reco::{RecStatus, Recommendation, verify_chain};

fn rec(id: &str) -> Recommendation {
    Recommendation {
        id: id.into(),
        kind: "reclaim".into(),
        tenant: "acme".into(),
        agent: "a17".into(),
        item: "E-Mail".into(),
        summary: format!("reclaim E-Mail from acme/a17 ({id})"),
        detail: "{}".into(),
        saving: 1500,
        data_fp: "fp1".into(),
        status: RecStatus::Proposed,
        as_of: 20_400,
        proposed_at: 1,
        decided_at: None,
    }
}

#[test]
fn decisions_are_chained_checked_and_append_only() {
    on_both("decisions", |b| {
        let mut s = b.open();
        s.put_recommendations(&[rec("R1"), rec("R2"), rec("R3")])
            .unwrap();
        let e1 = s.decide("R1", true, "ops lead", "", 10).unwrap();
        assert_eq!((e1.seq, e1.prev_hash), (1, [0; 32]));
        let err = s.decide("R2", false, "ops lead", "  ", 11).unwrap_err();
        assert!(err.to_string().contains("needs a reason"), "{err}");
        let err = s
            .decide("R1", false, "ops lead", "changed my mind", 12)
            .unwrap_err();
        assert!(
            err.to_string().contains("is approved, not proposed"),
            "{err}"
        );
        let err = s.decide("R9", true, "ops lead", "", 12).unwrap_err();
        assert!(err.to_string().contains("no recommendation R9"), "{err}");
        let e2 = s
            .decide("R2", false, "finance", "seasonal team", 13)
            .unwrap();
        assert_eq!((e2.seq, e2.prev_hash), (2, e1.hash));
        // A refused decision wrote nothing: two entries, chained.
        let log = s.decisions().unwrap();
        assert_eq!(log, vec![e1.clone(), e2.clone()]);
        verify_chain(&log).unwrap();
        let recs = s.recommendations().unwrap();
        let status: Vec<_> = recs
            .iter()
            .map(|r| (r.id.as_str(), r.status, r.decided_at))
            .collect();
        assert_eq!(
            status,
            [
                ("R1", RecStatus::Approved, Some(10)),
                ("R2", RecStatus::Rejected, Some(13)),
                ("R3", RecStatus::Proposed, None)
            ]
        );
        // An edited entry fails verification, naming it; a dropped one too.
        let mut edited = log.clone();
        edited[0].reason = "approved by the board".into();
        assert!(verify_chain(&edited).unwrap_err().contains("entry 1"));
        assert!(
            verify_chain(&log[1..])
                .unwrap_err()
                .contains("entry 1 is missing")
        );
    });
}

#[test]
fn the_database_refuses_to_change_or_delete_a_decision() {
    on_both("append_only", |b| {
        let mut s = b.open();
        s.put_recommendations(&[rec("R1")]).unwrap();
        s.decide("R1", true, "ops", "", 10).unwrap();
        for sql in [
            "UPDATE decision SET reason = 'edited'",
            "DELETE FROM decision",
        ] {
            let err = match b {
                Backend::Sqlite(dir) => SqliteDialect::open(&dir.path().join("store.db"))
                    .unwrap()
                    .execute(sql, &[])
                    .unwrap_err(),
                Backend::Postgres { .. } => PgDialect::open(&b.config().url.unwrap())
                    .unwrap()
                    .execute(sql, &[])
                    .unwrap_err(),
            };
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(s.decisions().unwrap()[0].reason, "");
    });
}
