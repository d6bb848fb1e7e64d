//! (scope, item) pairs as numbers: a [`Key`] packs the scope kind, scope id and item
//! index in one `u64`; [`DenseKeys`] numbers the pairs of one day densely, for arrays.

use seatmeter_core::ScopeKind;
use seatmeter_store::{Dimensions, Scope, scope_kind_code, scope_kind_from_code};

use super::ItemMask;

/// Marks a place group's id in a seat's groups (docs/SEMANTICS.md, section 11.1): a seat
/// holds the ids of its agent groups and, marked with this bit, of its place groups, so the
/// state carried between days and the unions of a second login need nothing new.
pub(super) const PLACE_GROUP: u32 = 1 << 31;

/// A (scope, item) pair as one number: scope kind, scope id and item index.
pub(super) type Key = u64;

pub(super) fn key(scope: Scope, item: u32) -> Key {
    ((scope_kind_code(scope.kind) as u64) << 48) | ((scope.id as u64) << 8) | item as u64
}

pub(super) fn key_scope(k: Key) -> (Scope, u16) {
    let kind = scope_kind_from_code((k >> 48) as i64).expect("keys are built by key()");
    (
        Scope {
            kind,
            id: ((k >> 8) & 0xffff_ffff) as u32,
        },
        (k & 0xff) as u16,
    )
}

/// (scope, item) pairs as dense indices: the system, then every tenant id, then every group
/// id, then every place-group id, each followed by its items. Dimensions only grow, so
/// indices of one day are stable.
pub(super) struct DenseKeys {
    items: u32,
    tenants: u32,
    groups: u32,
    place_groups: u32,
}

impl DenseKeys {
    pub(super) fn new(dims: &Dimensions, items: usize) -> DenseKeys {
        DenseKeys {
            items: items as u32,
            tenants: dims.tenants.len() as u32,
            groups: dims.groups.len() as u32,
            place_groups: dims.place_groups.len() as u32,
        }
    }

    pub(super) fn len(&self) -> usize {
        ((1 + self.tenants + self.groups + self.place_groups) * self.items) as usize
    }

    /// The scope index of a seat's group: an agent group, or a place group (marked).
    fn group_index(&self, g: u32) -> u32 {
        match g & PLACE_GROUP {
            0 => 1 + self.tenants + g,
            _ => 1 + self.tenants + self.groups + (g & !PLACE_GROUP),
        }
    }

    /// The keys a seat counts in: the system, its tenant and each of its groups, for each
    /// item it uses.
    pub(super) fn keys(&self, tenant: u32, items: ItemMask, groups: &[u32], out: &mut Vec<u32>) {
        let mut m = items;
        while m != 0 {
            let i = m.trailing_zeros();
            m &= m - 1;
            out.push(i);
            out.push((1 + tenant) * self.items + i);
            for &g in groups {
                out.push(self.group_index(g) * self.items + i);
            }
        }
    }

    pub(super) fn index_of(&self, k: Key) -> u32 {
        let (scope, item) = key_scope(k);
        let s = match scope.kind {
            ScopeKind::System => 0,
            ScopeKind::Tenant => 1 + scope.id,
            ScopeKind::Group => 1 + self.tenants + scope.id,
            ScopeKind::PlaceGroup => 1 + self.tenants + self.groups + scope.id,
        };
        s * self.items + item as u32
    }

    pub(super) fn scope_of(&self, k: u32) -> (Scope, u16) {
        let (s, item) = (k / self.items, (k % self.items) as u16);
        let scope = if s == 0 {
            Scope::SYSTEM
        } else if s <= self.tenants {
            Scope {
                kind: ScopeKind::Tenant,
                id: s - 1,
            }
        } else if s <= self.tenants + self.groups {
            Scope {
                kind: ScopeKind::Group,
                id: s - 1 - self.tenants,
            }
        } else {
            Scope {
                kind: ScopeKind::PlaceGroup,
                id: s - 1 - self.tenants - self.groups,
            }
        };
        (scope, item)
    }
}
