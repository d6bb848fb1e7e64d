//! The retry schedule: exponential backoff with jitter, and a receiver's `Retry-After`.

use std::time::Duration;

/// The wait before the attempt after `failures` failed ones (1: after the first failure).
///
/// Without a `Retry-After`, it is `base · 2^(failures − 1)` capped at `max`, of which a
/// random half is kept ("equal jitter": between half and all of it), so that many
/// notifications failing together do not retry together; the randomness comes from `seed`
/// (the outbox entry's id) so the schedule can be reproduced. A receiver's `Retry-After` is
/// honoured as asked, but never less than `base` and never more than a day.
pub fn next_delay(
    failures: u32,
    retry_after: Option<Duration>,
    base: Duration,
    max: Duration,
    seed: u64,
) -> Duration {
    if let Some(asked) = retry_after {
        return asked.clamp(base, Duration::from_secs(86_400).max(base));
    }
    let doublings = failures.saturating_sub(1).min(32);
    let full = base
        .saturating_mul(1u32 << doublings.min(31))
        .min(max)
        .max(Duration::from_millis(1));
    let half = full / 2;
    // splitmix64 of (seed, failures): a well-spread fraction in [0, 1).
    let mut z = seed ^ (failures as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let fraction = (z >> 11) as f64 / (1u64 << 53) as f64;
    half + half.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_jitter_and_retry_after_wins() {
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(600));
        for seed in 0..50u64 {
            for failures in 1..12u32 {
                let d = next_delay(failures, None, base, max, seed);
                let full = (base * 2u32.pow(failures - 1)).min(max);
                assert!(
                    d >= full / 2 && d <= full,
                    "{failures} failures: {d:?} of {full:?}"
                );
            }
        }
        // Jitter: not every seed waits the same.
        let waits: std::collections::BTreeSet<Duration> =
            (0..20).map(|s| next_delay(3, None, base, max, s)).collect();
        assert!(waits.len() > 10, "{waits:?}");
        // The same seed, the same schedule.
        assert_eq!(
            next_delay(4, None, base, max, 7),
            next_delay(4, None, base, max, 7)
        );
        let asked = Duration::from_secs(120);
        assert_eq!(next_delay(1, Some(asked), base, max, 1), asked);
        assert_eq!(next_delay(1, Some(Duration::ZERO), base, max, 1), base);
        assert_eq!(
            next_delay(1, Some(Duration::from_secs(10 * 86_400)), base, max, 1),
            Duration::from_secs(86_400)
        );
        // Enormous failure counts do not overflow.
        assert!(next_delay(u32::MAX, None, base, max, 3) <= max);
    }
}
