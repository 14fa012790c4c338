//! When to try the relay again after the connection drops: exponential backoff with full
//! jitter and a cap, reset by a successful connection.
//!
//! Jitter spreads the reconnections of every client a relay restart dropped, so that they do
//! not return in one burst. Randomness is passed in, like everywhere in the core.

/// Reconnection delays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    base_ms: u64,
    cap_ms: u64,
    attempt: u32,
}

impl Default for Backoff {
    /// 250 ms doubling to a 10 s cap: a relay restart is bridged within a second or two, and
    /// a long outage costs one attempt every few seconds.
    fn default() -> Self {
        Self::new(250, 10_000)
    }
}

impl Backoff {
    /// A policy starting at `base_ms` and never waiting more than `cap_ms`.
    pub fn new(base_ms: u64, cap_ms: u64) -> Self {
        Self {
            base_ms: base_ms.max(1),
            cap_ms: cap_ms.max(base_ms.max(1)),
            attempt: 0,
        }
    }

    /// How many attempts have failed since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, given a uniformly random `u32`; counts the attempt.
    ///
    /// The ceiling doubles per attempt up to the cap; the delay is uniform in
    /// `[ceiling/2, ceiling]` ("equal jitter"), so it never collapses to zero.
    pub fn next_delay_ms(&mut self, random: u32) -> u64 {
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << self.attempt.min(32))
            .min(self.cap_ms);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + (u64::from(random) * (ceiling - half)) / u64::from(u32::MAX)
    }

    /// A connection succeeded: the next drop starts from the base delay again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_until_the_cap() {
        let mut b = Backoff::new(250, 2_000);
        let highs: Vec<u64> = (0..6).map(|_| b.next_delay_ms(u32::MAX)).collect();
        assert_eq!(highs, [250, 500, 1_000, 2_000, 2_000, 2_000]);
    }

    #[test]
    fn jitter_stays_within_half_to_full_ceiling() {
        let mut b = Backoff::new(1_000, 10_000);
        assert_eq!(b.next_delay_ms(0), 500);
        b.reset();
        assert_eq!(b.next_delay_ms(u32::MAX / 2), 749);
    }

    #[test]
    fn success_resets_to_the_base_delay() {
        let mut b = Backoff::default();
        for _ in 0..10 {
            b.next_delay_ms(7);
        }
        assert_eq!(b.attempts(), 10);
        b.reset();
        assert!(b.next_delay_ms(u32::MAX) <= 250);
    }

    proptest! {
        #[test]
        fn never_exceeds_the_cap_or_overflows(base in 1u64..100_000, cap in 1u64..10_000_000, randoms in proptest::collection::vec(any::<u32>(), 1..100)) {
            let mut b = Backoff::new(base, cap);
            for r in randoms {
                let d = b.next_delay_ms(r);
                prop_assert!(d <= cap.max(base));
            }
        }
    }
}
