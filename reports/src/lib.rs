//! seatmeter's report model and its renderers.
//!
//! The model is the rows of usage-semantics.md, section 7: one per (scope, period, item).
//! This crate takes rows and renders them; it never reads the store. Rows borrow their
//! strings from the caller, so a month of 10-minute rows streams through a renderer
//! without an allocation per row.

pub mod csv;
pub mod json;
pub mod pdf;
pub mod table;

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKind {
    System,
    Tenant,
    Group,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::System => "system",
            ScopeKind::Tenant => "tenant",
            ScopeKind::Group => "group",
        }
    }
}

impl FromStr for ScopeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "system" => Ok(ScopeKind::System),
            "tenant" => Ok(ScopeKind::Tenant),
            "group" => Ok(ScopeKind::Group),
            _ => Err(format!(
                "unknown scope {s:?}; expected system, tenant or group"
            )),
        }
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    TenMin,
    Hourly,
    Daily,
    Weekly,
    Monthly,
}

impl Granularity {
    pub const ALL: [Granularity; 5] = [
        Granularity::TenMin,
        Granularity::Hourly,
        Granularity::Daily,
        Granularity::Weekly,
        Granularity::Monthly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::TenMin => "10min",
            Granularity::Hourly => "hourly",
            Granularity::Daily => "daily",
            Granularity::Weekly => "weekly",
            Granularity::Monthly => "monthly",
        }
    }
}

impl FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown granularity {s:?}; expected 10min, hourly, daily, weekly or monthly"
                )
            })
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the license files grant an item on a day (section 6); "empty" is `Option::None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entitled {
    Seats(u64),
    Unlimited,
}

impl Entitled {
    /// Whether `measured` seats exceed this entitlement.
    pub fn exceeded_by(self, measured: u64) -> bool {
        match self {
            Entitled::Seats(n) => measured > n,
            Entitled::Unlimited => false,
        }
    }
}

impl fmt::Display for Entitled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entitled::Seats(n) => write!(f, "{n}"),
            Entitled::Unlimited => f.write_str("unlimited"),
        }
    }
}

/// One report row: the measures of one item in one scope and one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    pub scope: ScopeKind,
    /// Empty for the system, the tenant name, or `tenant/group`.
    pub scope_id: &'a str,
    pub granularity: Granularity,
    /// RFC 3339 in the site's time zone, to the second, offset as `+hh:mm`.
    pub period_start: &'a str,
    pub period_end: &'a str,
    pub item: &'a str,
    pub peak_concurrent: u64,
    pub enabled_seats: Option<u64>,
    pub entitled: Option<Entitled>,
    pub over_use: bool,
}

/// The CSV header of section 7, also the JSON keys, in order.
pub const COLUMNS: [&str; 10] = [
    "scope",
    "scope_id",
    "granularity",
    "period_start",
    "period_end",
    "item",
    "peak_concurrent",
    "enabled_seats",
    "entitled",
    "over_use",
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("writing the report failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
}

/// Something that takes report rows in order, and is finished once.
pub trait Renderer {
    fn row(&mut self, row: &Row<'_>) -> Result<(), RenderError>;
    fn finish(self: Box<Self>) -> Result<(), RenderError>;
}

#[cfg(test)]
pub(crate) fn sample_rows() -> Vec<Row<'static>> {
    vec![
        Row {
            scope: ScopeKind::System,
            scope_id: "",
            granularity: Granularity::Hourly,
            period_start: "2026-10-25T01:00:00+01:00",
            period_end: "2026-10-25T01:00:00+00:00",
            item: "Voice",
            peak_concurrent: 1,
            enabled_seats: Some(1),
            entitled: Some(Entitled::Seats(1)),
            over_use: false,
        },
        Row {
            scope: ScopeKind::Tenant,
            scope_id: "Société, \"Générale\"",
            granularity: Granularity::Hourly,
            period_start: "2026-10-25T00:00:00+01:00",
            period_end: "2026-10-25T01:00:00+01:00",
            item: "E-Mail",
            peak_concurrent: 2,
            enabled_seats: None,
            entitled: Some(Entitled::Unlimited),
            over_use: true,
        },
        Row {
            scope: ScopeKind::Group,
            scope_id: "acme/G",
            granularity: Granularity::Hourly,
            period_start: "2026-10-25T00:00:00+01:00",
            period_end: "2026-10-25T01:00:00+01:00",
            item: "Chat",
            peak_concurrent: 0,
            enabled_seats: Some(0),
            entitled: None,
            over_use: false,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for g in Granularity::ALL {
            assert_eq!(g.as_str().parse::<Granularity>().unwrap(), g);
        }
        assert!(
            "daly"
                .parse::<Granularity>()
                .unwrap_err()
                .contains("10min, hourly")
        );
        assert_eq!("group".parse::<ScopeKind>().unwrap(), ScopeKind::Group);
        assert!("site".parse::<ScopeKind>().is_err());
    }

    #[test]
    fn entitlement_comparison() {
        assert!(Entitled::Seats(1).exceeded_by(2));
        assert!(!Entitled::Seats(2).exceeded_by(2));
        assert!(!Entitled::Unlimited.exceeded_by(u64::MAX));
        assert!(Entitled::Seats(0).exceeded_by(1));
    }
}
