//! The words every stage shares (docs/SEMANTICS.md, sections 1, 3, 4 and 6): the scopes a
//! report is for, its granularities, and what the license files grant an item.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKind {
    System,
    Tenant,
    Group,
    /// The groups of the places agents log in at (docs/SEMANTICS.md, section 11.1).
    PlaceGroup,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::System => "system",
            ScopeKind::Tenant => "tenant",
            ScopeKind::Group => "group",
            ScopeKind::PlaceGroup => "place-group",
        }
    }

    /// A group of agents or of places: ids written `tenant/group`, narrowed by tenant.
    pub fn is_group(self) -> bool {
        matches!(self, ScopeKind::Group | ScopeKind::PlaceGroup)
    }
}

impl FromStr for ScopeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "system" => Ok(ScopeKind::System),
            "tenant" => Ok(ScopeKind::Tenant),
            "group" => Ok(ScopeKind::Group),
            "place-group" => Ok(ScopeKind::PlaceGroup),
            _ => Err(format!(
                "unknown scope {s:?}; expected system, tenant, group or place-group"
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
        assert_eq!(
            "place-group".parse::<ScopeKind>().unwrap(),
            ScopeKind::PlaceGroup
        );
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
