//! Who a document is for, and how it names what it shows: a tenant's document names files
//! by their file name and collectors by their place, never the server's paths or the
//! operator's names (docs/SEMANTICS.md, "Tenant documents").

use seatmeter_core::{Calendar, ScopeKind};
use seatmeter_store::Dimensions;

use crate::config::Measure;

/// Who a document is for (docs/SEMANTICS.md, "Tenant documents"): the site operator, or
/// one tenant — a tenant report narrowed to it, or a group report narrowed to it or to one
/// of its groups. A tenant's document holds its own data only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Audience {
    #[default]
    Site,
    Tenant(String),
}

impl Audience {
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Audience::Site => None,
            Audience::Tenant(t) => Some(t),
        }
    }
}

/// The file name of a configured path: what a tenant's document names a file by (with its
/// SHA-256), never the server's path.
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A collector as a tenant's document names it: by its kind and place in the
/// configuration, since the site's names for its collectors are the operator's.
pub fn collector_label(index: usize, kind: &str) -> String {
    format!("collector {} ({kind})", index + 1)
}

/// One restatement as people read it: "2026-10-14 tenant acme, Voice: peak 41 → 43,
/// enabled 50 → 50 (rolled up again at …)".
pub fn restatement_line(
    r: &seatmeter_store::Restatement,
    dims: &Dimensions,
    measures: &[Measure],
    cal: &Calendar,
) -> String {
    let scope = match r.scope.kind {
        ScopeKind::System => "system".to_string(),
        ScopeKind::Tenant => format!(
            "tenant {}",
            dims.tenants
                .get(r.scope.id as usize)
                .map_or("?", |t| t.as_str())
        ),
        k @ (ScopeKind::Group | ScopeKind::PlaceGroup) => {
            let word = if k == ScopeKind::Group {
                "group"
            } else {
                "place group"
            };
            match (r.scope.id as usize) < dims.groups_of(k).len() {
                true => format!("{word} {}", dims.group_label(k, r.scope.id)),
                false => format!("{word} ?"),
            }
        }
    };
    let item = measures
        .get(r.item as usize)
        .map_or("?", |m| m.name.as_str());
    format!(
        "{} {scope}, {item}: peak {} → {}, enabled {} → {} (rolled up again at {})",
        Calendar::date_text(r.day),
        r.old_peak,
        r.new_peak,
        r.old_enabled,
        r.new_enabled,
        cal.format(r.at)
    )
}
