//! The names behind the ids: group ids of both kinds, and how a report's id names them.

use seatmeter_collectors::{Batch, Snapshot, SnapshotAgent, SnapshotPlace};
use seatmeter_core::ScopeKind;

use super::{DAY1, on_both, t};
use crate::Dimensions;

/// A group report's id names one group or every group of a tenant; a tenant name holding
/// `/` can make one id name groups of two tenants (the report, the tenant boundary and the
/// service all ask `groups_named`).
#[test]
fn a_group_id_names_its_groups_whatever_the_slashes() {
    let dims = Dimensions {
        tenants: vec![String::new(), "a".into(), "a/b".into()],
        groups: vec![
            (0, String::new()),
            (1, "b".into()),
            (1, "c".into()),
            (2, "x".into()),
        ],
        ..Dimensions::default()
    };
    let named = |id: &str| dims.groups_named(ScopeKind::Group, id).collect::<Vec<_>>();
    assert_eq!(named("a"), [1, 2]);
    assert_eq!(named("a/c"), [2]);
    assert_eq!(
        named("a/b"),
        [1, 3],
        "group b of a, and every group of tenant a/b"
    );
    assert!(named("z").is_empty());
    assert_eq!(dims.tenant_of_group(ScopeKind::Group, 3), "a/b");
    // Place groups are named the same way, in their own ids.
    let dims = Dimensions {
        place_groups: dims.groups.clone(),
        groups: vec![(0, String::new())],
        ..dims
    };
    assert!(dims.groups_named(ScopeKind::Group, "a").next().is_none());
    assert_eq!(
        dims.groups_named(ScopeKind::PlaceGroup, "a/b")
            .collect::<Vec<_>>(),
        [1, 3]
    );
    assert_eq!(dims.group_label(ScopeKind::PlaceGroup, 2), "a/c");
}

#[test]
fn a_snapshot_is_stored_once() {
    on_both("snapshots", |b| {
        let mut s = b.open();
        let mut batch = Batch::new();
        let (tenant, agent) = (batch.intern("acme"), batch.intern("a1"));
        let media = batch.intern_words(["voice"], true);
        let snap = Snapshot {
            taken: t(DAY1),
            source: "s.xml".into(),
            sha256: [7; 32],
            agents: vec![SnapshotAgent {
                tenant,
                agent,
                enabled: true,
                media,
                groups: 0,
                tags: 0,
                tier: 0,
            }],
            // A place whose group has the name of an agent group elsewhere: its own id.
            places: vec![SnapshotPlace {
                tenant,
                place: batch.intern("desk-4"),
                groups: batch.intern_words(["Floor2", "Support"], false),
            }],
        };
        let support = batch.intern_words(["Support"], false);
        batch.snapshots.push(Snapshot {
            agents: vec![SnapshotAgent {
                groups: support,
                ..snap.agents[0]
            }],
            places: vec![],
            sha256: [8; 32],
            ..snap.clone()
        });
        batch.snapshots.push(snap.clone());
        batch.snapshots.push(snap);
        let st = s.ingest("cfg", "config-xml", &batch, "{}").unwrap();
        assert_eq!(
            (st.snapshots, st.duplicate_snapshots),
            (2, 1),
            "{}",
            b.name()
        );
        let snaps = s.snapshots().unwrap();
        assert_eq!(snaps.len(), 2);
        assert_eq!((snaps[1].taken, snaps[1].agents), (t(DAY1), 1));
        let (rows, places) = s.snapshot_rows(snaps[1].id).unwrap();
        assert!(rows[0].enabled);
        let dims = s.dimensions().unwrap();
        assert_eq!(dims.agents[rows[0].agent as usize].1, "a1");
        // The agent group Support and the place groups Floor2 and Support, apart.
        assert_eq!(dims.groups.len(), 2, "{:?}", dims.groups);
        assert_eq!(places.len(), 1);
        let place_groups: Vec<String> = dims.groupsets[places[0].groups as usize]
            .iter()
            .map(|&g| dims.group_label(ScopeKind::PlaceGroup, g))
            .collect();
        assert_eq!(place_groups, ["acme/Floor2", "acme/Support"]);
        assert!(s.snapshot_rows(snaps[0].id).unwrap().1.is_empty());
    });
}
