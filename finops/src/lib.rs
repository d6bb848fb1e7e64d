//! seatmeter's right-sizing engines and their configuration.
//!
//! Every engine is a pure function of its inputs: no clock (each takes `as_of`, the last
//! day of data, inclusive), no store, no I/O. Money is in integer minor units (cents),
//! never floating point. The only I/O in the crate is reading the cost-center CSV file
//! named by `cost_centers_file` (see [`centers::load_cost_centers_csv`]).

#![deny(missing_docs)]

pub mod centers;
pub mod config;
pub mod downgrade;
pub mod inactive;
pub mod renewal;
pub mod sessions;
pub mod showback;

pub use centers::{Assignment, CsvError, CsvReject, Kind, load_cost_centers_csv};
pub use config::{CostCenterConfig, Finops, FinopsConfig, TagConfig, Tier, TierConfig};
pub use downgrade::{Downgrade, downgrade};
pub use inactive::{Reclaim, inactive};
pub use renewal::{Band, NearPeak, Renewal, near_peak, renewal};
pub use sessions::{LongSession, Session, long_sessions};
pub use showback::{Showback, ShowbackAgent, ShowbackLine, showback};

pub use seatmeter_core::{Day, Nanos};

/// The rollup keeps, with the day they end on, the sessions longer than this many hours:
/// the shortest `long_session_hours` the long-session rule can be given.
pub const KEPT_SESSION_HOURS: u32 = 8;

/// One licensed item as the engines see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    /// The item's name, as in the `[[item]]` configuration (`E-Mail`).
    pub name: String,
    /// Whether the item is licensed by concurrent peak (true) or per named user (false).
    pub concurrent: bool,
    /// The price of one seat per month, in minor units, if a price is configured.
    pub price: Option<i64>,
}

/// One agent's licensing and use, as the inactive-seat and downgrade engines see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentUse {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent's identifier within its tenant.
    pub agent: String,
    /// The agent's groups, in the order the snapshot gives them.
    pub groups: Vec<String>,
    /// The items enabled for the agent, as indexes into the item list.
    pub enabled_items: Vec<usize>,
    /// The agent's tags from the snapshot (configured tags are added by the engines).
    pub tags: Vec<String>,
    /// The agent's license tier as the snapshot names it, if any.
    pub tier: Option<String>,
    /// The last local day the agent logged in, or `None` if it never did.
    pub last_login: Option<Day>,
    /// Per item index: the last local day the agent used the item, or `None` if never.
    /// A shorter list means `None` for the missing indexes.
    pub last_use: Vec<Option<Day>>,
}

impl AgentUse {
    /// The last day the agent used item `item`, or `None` if it never did.
    pub fn last_use_of(&self, item: usize) -> Option<Day> {
        self.last_use.get(item).copied().flatten()
    }
}

/// The note added to a row whose items are all licensed concurrently, naming them:
/// reclaiming a named user from such an item saves nothing by itself.
pub(crate) fn concurrent_note(names: &[&str]) -> String {
    let (list, verb) = match names {
        [one] => ((*one).to_string(), "is"),
        _ => (join_and(names), "are"),
    };
    format!(
        "{list} {verb} licensed concurrently: reclaiming named users lowers nothing, only the peak does"
    )
}

/// `A`, `A and B`, `A, B and C`.
pub(crate) fn join_and(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
