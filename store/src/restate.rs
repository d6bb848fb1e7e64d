//! What rolling a day up again restates: the day's records grouped by scope, and the
//! changes of each scope's and item's day values against those stored before.

use rustc_hash::FxHashMap as HashMap;
use seatmeter_core::Day;

use crate::dialect::{Dialect, params};
use crate::{
    Restatement, Scope, SlotRecord, StoreError, codec, scope_kind_code, scope_kind_from_code,
};

/// The records of one day, grouped by scope (in the order they come).
pub(crate) fn group_by_scope(slots: &[SlotRecord]) -> Vec<(Scope, Vec<&SlotRecord>)> {
    let mut out: Vec<(Scope, Vec<&SlotRecord>)> = Vec::new();
    let mut index: HashMap<Scope, usize> = HashMap::default();
    for s in slots {
        let i = *index.entry(s.scope).or_insert_with(|| {
            out.push((s.scope, Vec::new()));
            out.len() - 1
        });
        out[i].1.push(s);
    }
    out
}

/// What rolling up `day` again with `slots` changes, when the day was rolled up before:
/// every scope and item whose day peak or enabled seats differ (a value not stored is 0).
pub(crate) fn restatements_of<D: Dialect>(
    d: &mut D,
    day: Day,
    slots: &[SlotRecord],
) -> Result<Vec<Restatement>, StoreError> {
    let before = d.query_row("SELECT 1 FROM rollup_day WHERE day = $1", params![day])?;
    if before.is_none() {
        return Ok(Vec::new());
    }
    let mut values: std::collections::BTreeMap<(i64, u32, u16), [u32; 4]> = Default::default();
    let mut records = Vec::new();
    d.query_each(
        "SELECT scope_kind, scope_id, data FROM rollup_scope_day WHERE day = $1",
        params![day],
        &mut |r| {
            let scope = Scope {
                kind: scope_kind_from_code(r.i64(0)?)?,
                id: r.u32(1)?,
            };
            records.clear();
            codec::decode_scope_day(r.blob(2)?, scope, false, &mut records)?;
            for rec in &records {
                let v = values.entry((r.i64(0)?, scope.id, rec.item)).or_default();
                (v[0], v[2]) = (rec.day_peak, rec.day_enabled);
            }
            Ok(())
        },
    )?;
    for rec in slots {
        let v = values
            .entry((scope_kind_code(rec.scope.kind), rec.scope.id, rec.item))
            .or_default();
        (v[1], v[3]) = (rec.day_peak, rec.day_enabled);
    }
    values
        .into_iter()
        .filter(|(_, v)| v[0] != v[1] || v[2] != v[3])
        .map(|((kind, id, item), v)| {
            Ok(Restatement {
                day,
                scope: Scope {
                    kind: scope_kind_from_code(kind)?,
                    id,
                },
                item,
                old_peak: v[0],
                new_peak: v[1],
                old_enabled: v[2],
                new_enabled: v[3],
                at: 0,
            })
        })
        .collect()
}
