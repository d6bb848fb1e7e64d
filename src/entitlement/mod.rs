//! What a site is entitled to: FlexNet license files ([`flexnet`], docs/SEMANTICS.md
//! section 6), a reseller's entitlement XML with tenant grants and bundle definitions
//! ([`xml`], docs/ENTITLEMENTS.md), and the rules that combine them.

pub mod flexnet;
pub mod xml;

use seatmeter_core::Entitled;

pub use flexnet::{FeatureRef, Ledger, LicenseError, LicenseFile, MAX_SEATS};
pub use xml::{Bundle, BundleDef, Entitlements, XmlError};

/// Two entitlements of one item on one day, from different sources: grants add up.
pub fn add(a: Option<Entitled>, b: Option<Entitled>) -> Option<Entitled> {
    match (a, b) {
        (Some(Entitled::Seats(x)), Some(Entitled::Seats(y))) => {
            Some(Entitled::Seats(x.saturating_add(y)))
        }
        (Some(Entitled::Unlimited), _) | (_, Some(Entitled::Unlimited)) => {
            Some(Entitled::Unlimited)
        }
        (x, None) => x,
        (None, y) => y,
    }
}

/// The entitlement of a period of several days: the smallest daily value, ignoring days
/// with none (docs/SEMANTICS.md, section 4).
pub fn smallest(a: Option<Entitled>, b: Option<Entitled>) -> Option<Entitled> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_add_up_and_a_period_takes_its_smallest_day() {
        let (s, u) = (Entitled::Seats, Entitled::Unlimited);
        assert_eq!(add(Some(s(2)), Some(s(3))), Some(s(5)));
        assert_eq!(add(Some(s(2)), Some(u)), Some(u));
        assert_eq!(add(None, Some(s(3))), Some(s(3)));
        assert_eq!(add(None, None), None);
        assert_eq!(smallest(Some(s(2)), Some(s(3))), Some(s(2)));
        assert_eq!(
            smallest(Some(u), Some(s(3))),
            Some(s(3)),
            "a number is below unlimited"
        );
        assert_eq!(
            smallest(None, Some(s(3))),
            Some(s(3)),
            "days without any are ignored"
        );
    }
}
