//! Configuration snapshots as the rollup needs them (docs/SEMANTICS.md, sections 5 and
//! 11.1): each listed agent's groups (for logins that name none), each place's groups (for
//! logins at it), and enabled seats per (scope, item).

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use seatmeter_core::Nanos;
use seatmeter_core::calendar::DaySlots;
use seatmeter_store::{SnapshotInfo, StoreError};

use super::items::any_items;
use super::keys::{Key, PLACE_GROUP};
use super::{ItemMask, Rollup};

/// What the rollup needs of a snapshot: each listed agent's groups, and enabled seats per key.
pub(super) struct SnapshotView {
    pub(super) groups: HashMap<u32, Rc<[u32]>>,
    /// (tenant, place) -> the place's groups, as ids marked with [`PLACE_GROUP`].
    pub(super) places: HashMap<(u32, u32), Rc<[u32]>>,
    /// Shared with the thread that sweeps the day.
    pub(super) enabled: Arc<HashMap<Key, u32>>,
}

impl Rollup<'_> {
    /// The day's snapshots: the one in force at its start and those taken during it, each
    /// with the instant it was taken.
    pub(super) fn day_views(
        &mut self,
        slots: &DaySlots,
    ) -> Result<Vec<(Nanos, Rc<SnapshotView>)>, StoreError> {
        let (t0, t1) = (slots.starts[0], slots.end);
        let first = self
            .snapshots
            .partition_point(|s| s.taken <= t0)
            .saturating_sub(1);
        let day_snaps: Vec<(Nanos, u32)> = self.snapshots[first..]
            .iter()
            .take_while(|s| s.taken < t1)
            .map(|s| (s.taken, s.id))
            .collect();
        let mut views = Vec::with_capacity(day_snaps.len());
        for (taken, id) in &day_snaps {
            views.push((*taken, self.view(*id)?));
        }
        // Views of snapshots before the one in force are no longer needed.
        let keep: Vec<u32> = day_snaps.iter().map(|s| s.1).collect();
        self.views.retain(|id, _| keep.contains(id));
        Ok(views)
    }

    fn view(&mut self, id: u32) -> Result<Rc<SnapshotView>, StoreError> {
        if let Some(v) = self.views.get(&id) {
            return Ok(v.clone());
        }
        let (rows, place_rows) = self.store.snapshot_rows(id)?;
        if rows.iter().any(|r| {
            r.agent as usize >= self.dims.agents.len()
                || r.media as usize >= self.media_items.len()
                || r.groups as usize >= self.dims.groupsets.len()
        }) || place_rows.iter().any(|p| {
            p.tenant as usize >= self.dims.tenants.len()
                || p.groups as usize >= self.dims.groupsets.len()
        }) {
            self.load_dimensions()?;
        }
        let mut places = HashMap::with_capacity(place_rows.len());
        for p in place_rows {
            let marked = self.dims.groupsets[p.groups as usize]
                .iter()
                .map(|g| g | PLACE_GROUP)
                .collect();
            places.insert((p.tenant, p.place), self.intern_groups(marked));
        }
        let mut groups = HashMap::with_capacity(rows.len());
        let mut enabled: HashMap<Key, u32> = HashMap::new();
        let mut keys = Vec::new();
        for r in rows {
            let g = self.groupsets[r.groups as usize].clone();
            if r.enabled {
                let items = self.measures(self.items_for_snapshot(r.media));
                let tenant = self.dims.agents[r.agent as usize].0;
                keys.clear();
                self.keys(tenant, items, &g, &mut keys);
                for &k in &keys {
                    *enabled.entry(k).or_default() += 1;
                }
            }
            groups.insert(r.agent, g);
        }
        let v = Rc::new(SnapshotView {
            groups,
            places,
            enabled: Arc::new(enabled),
        });
        self.views.insert(id, v.clone());
        Ok(v)
    }

    /// Items an enabled agent of a snapshot counts for: those whose media it has (any agent
    /// for items with media `*`).
    fn items_for_snapshot(&self, mediaset: u32) -> ItemMask {
        self.media_items[mediaset as usize] | any_items(self.items)
    }

    /// The snapshot in force at `t`: the latest taken at or before it (of two taken at the
    /// same instant, the one stored last).
    pub(super) fn in_force_at(&self, t: Nanos) -> Option<&SnapshotInfo> {
        let i = self.snapshots.partition_point(|s| s.taken <= t);
        i.checked_sub(1).map(|i| &self.snapshots[i])
    }
}
