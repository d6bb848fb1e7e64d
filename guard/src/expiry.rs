//! Expiry warnings (docs/GUARDRAILS.md, "Expiry").
//!
//! A line or grant valid through day `L` has `L − today` days left. It is warned about once
//! that is at most the largest threshold, at the smallest threshold that is still at least
//! the days left: with the defaults 90, 60, 30 and 7, 61 to 90 days left warn at 90, 31 to
//! 60 at 60, 8 to 30 at 30 and 0 to 7 at 7 (0 days left: today is its last day). From the day
//! after `L` it has expired, and it is reported as expired for [`EXPIRED_SHOWN_DAYS`] days.

use crate::{Day, Guard};

/// How many days after its last day an expired line or grant is still reported.
pub const EXPIRED_SHOWN_DAYS: i32 = 30;

/// A warning about one expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryWarning {
    /// The last day it is valid.
    pub expires: Day,
    /// `expires − today`: 0 on its last day, negative once expired.
    pub days_left: i32,
    /// The threshold it is within (None once expired).
    pub threshold: Option<u32>,
    /// Whether today is after its last day.
    pub expired: bool,
}

/// The warning about something valid through `expires`, as of `today` (None: not yet within
/// the largest threshold, or expired more than [`EXPIRED_SHOWN_DAYS`] ago).
pub fn expiry_warning(expires: Day, today: Day, guard: &Guard) -> Option<ExpiryWarning> {
    let days_left = expires - today;
    if days_left < 0 {
        return (days_left >= -EXPIRED_SHOWN_DAYS).then_some(ExpiryWarning {
            expires,
            days_left,
            threshold: None,
            expired: true,
        });
    }
    // Largest first: the last threshold still at least the days left is the smallest such.
    let threshold = guard
        .expiry_warn_days
        .iter()
        .copied()
        .filter(|&t| t as i64 >= days_left as i64)
        .min()?;
    Some(ExpiryWarning {
        expires,
        days_left,
        threshold: Some(threshold),
        expired: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_is_reached_on_its_day_and_left_the_day_after() {
        let g = Guard::default();
        let today = 20_000;
        let at =
            |left: i32| expiry_warning(today + left, today, &g).map(|w| (w.threshold, w.expired));
        assert_eq!(at(91), None, "beyond the largest threshold");
        assert_eq!(at(90), Some((Some(90), false)));
        assert_eq!(at(61), Some((Some(90), false)));
        assert_eq!(at(60), Some((Some(60), false)));
        assert_eq!(at(31), Some((Some(60), false)));
        assert_eq!(at(30), Some((Some(30), false)));
        assert_eq!(at(8), Some((Some(30), false)));
        assert_eq!(at(7), Some((Some(7), false)));
        assert_eq!(at(0), Some((Some(7), false)), "its last day is still valid");
        assert_eq!(at(-1), Some((None, true)));
        assert_eq!(at(-EXPIRED_SHOWN_DAYS), Some((None, true)));
        assert_eq!(at(-EXPIRED_SHOWN_DAYS - 1), None);
        let w = expiry_warning(today + 12, today, &g).unwrap();
        assert_eq!((w.expires, w.days_left), (today + 12, 12));
    }

    #[test]
    fn configured_thresholds_replace_the_defaults() {
        let g = crate::GuardConfig {
            expiry_warn_days: vec![14, 3],
            ..Default::default()
        }
        .check()
        .unwrap();
        let at = |left: i32| expiry_warning(100 + left, 100, &g).and_then(|w| w.threshold);
        assert_eq!(at(15), None);
        assert_eq!(at(14), Some(14));
        assert_eq!(at(4), Some(14));
        assert_eq!(at(3), Some(3));
    }
}
