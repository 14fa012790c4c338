//! When to try the relay again after the connection drops: exponential backoff with full
//! jitter and a cap, reset by a successful connection.
//!
//! Jitter spreads the reconnections of every client a relay restart dropped, so that they do
//! not return in one burst. Randomness is passed in, like everywhere in the core.
//!
//! [`Failover`] picks which of several relay URLs (relay nodes sharing rooms through NATS)
//! the next attempt goes to: the same one after a drop, the next one in order once an attempt
//! there failed or the relay said it is shutting down (close 4013).

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

/// What to do after the connection to a relay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterClose {
    /// Try again, after the backoff delay, at [`Failover::current`] (which may have moved on).
    Retry,
    /// Stop: the relay refused for good (or, before the first join, every URL failed).
    GiveUp,
}

/// Which relay URL of an ordered list to connect to, and whether a close is worth a retry.
///
/// - Before the first successful join, a URL that cannot be reached (a drop, a join timeout,
///   4013) moves on to the next one; the join fails once every URL failed once, or at once
///   on any other relay refusal (4000–4999).
/// - After it, a drop of a joined connection retries the **same** URL first; an attempt that
///   fails before its join is accepted, or a close 4013 ("shutting down"), moves to the next
///   URL, wrapping around. Retries go on (with the caller's backoff) until a refusal a retry
///   cannot fix: 4001, 4002, 4004, 4005, 4006.
/// - 4003 after the first join is retried on the same URL, at most
///   [`Failover::MAX_HELD_ID_RETRIES`] times in a row: a participant with a reusable token
///   (a shared guest link) that resumes before the relay noticed its old connection died —
///   a node that was killed is noticed within 2.5 s, a silent socket within the relay's idle
///   timeout — gets 4003 ("the id is held") until then. Any other 4003 (a URL or token for
///   another room or role) repeats and ends the visit after those attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover {
    count: usize,
    current: usize,
    /// URLs that failed in a row without a join accepted in between.
    failed_in_a_row: usize,
    held_id_retries: u32,
    joined_once: bool,
}

impl Failover {
    /// Consecutive 4003 refusals retried after the first join. With the default [`Backoff`]
    /// (capped at 10 s, equal jitter) twelve attempts span about 45–95 s, longer than the
    /// relay's default idle timeout (60 s).
    pub const MAX_HELD_ID_RETRIES: u32 = 12;

    /// A policy over `count` URLs (at least one), starting with the first.
    pub fn new(count: usize) -> Self {
        Self {
            count: count.max(1),
            current: 0,
            failed_in_a_row: 0,
            held_id_retries: 0,
            joined_once: false,
        }
    }

    /// The index of the URL to connect to.
    pub fn current(&self) -> usize {
        self.current
    }

    /// The relay at [`Self::current`] accepted the join: it stays the URL to try first.
    pub fn handle_joined(&mut self) {
        self.joined_once = true;
        self.failed_in_a_row = 0;
        self.held_id_retries = 0;
    }

    /// The connection ended with WebSocket close `code` (1006 for a drop or a join timeout);
    /// `was_joined` tells whether the relay had accepted this connection's join.
    pub fn handle_closed(&mut self, code: u16, was_joined: bool) -> AfterClose {
        let relay_code = (4000..5000).contains(&code);
        if !self.joined_once {
            if relay_code && code != 4013 {
                return AfterClose::GiveUp;
            }
            self.failed_in_a_row += 1;
            if self.failed_in_a_row >= self.count {
                return AfterClose::GiveUp;
            }
            self.advance();
            return AfterClose::Retry;
        }
        match code {
            4001 | 4002 | 4004..=4006 => AfterClose::GiveUp,
            4003 => {
                self.held_id_retries += 1;
                if self.held_id_retries > Self::MAX_HELD_ID_RETRIES {
                    AfterClose::GiveUp
                } else {
                    AfterClose::Retry
                }
            }
            4013 => {
                self.advance();
                AfterClose::Retry
            }
            _ if was_joined => AfterClose::Retry,
            _ => {
                self.advance();
                AfterClose::Retry
            }
        }
    }

    fn advance(&mut self) {
        self.current = (self.current + 1) % self.count;
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

    #[test]
    fn a_drop_retries_the_same_url_then_moves_on_and_wraps() {
        let mut f = Failover::new(3);
        f.handle_joined();
        assert_eq!(f.handle_closed(1006, true), AfterClose::Retry);
        assert_eq!(f.current(), 0, "the same relay first");
        assert_eq!(f.handle_closed(1006, false), AfterClose::Retry);
        assert_eq!(f.current(), 1);
        assert_eq!(f.handle_closed(1006, false), AfterClose::Retry);
        assert_eq!(f.handle_closed(1006, false), AfterClose::Retry);
        assert_eq!(f.current(), 0, "wraps around");
        f.handle_joined();
        assert_eq!(f.handle_closed(1006, true), AfterClose::Retry);
        assert_eq!(f.current(), 0);
    }

    #[test]
    fn shutting_down_moves_on_at_once() {
        let mut f = Failover::new(2);
        f.handle_joined();
        assert_eq!(f.handle_closed(4013, true), AfterClose::Retry);
        assert_eq!(f.current(), 1);
    }

    #[test]
    fn a_single_url_behaves_as_before() {
        let mut f = Failover::new(1);
        assert_eq!(
            f.handle_closed(1006, false),
            AfterClose::GiveUp,
            "join fails"
        );
        let mut f = Failover::new(1);
        f.handle_joined();
        for _ in 0..50 {
            assert_eq!(f.handle_closed(1006, false), AfterClose::Retry);
            assert_eq!(f.current(), 0);
        }
        assert_eq!(f.handle_closed(4001, false), AfterClose::GiveUp);
    }

    #[test]
    fn before_the_first_join_each_url_is_tried_once() {
        let mut f = Failover::new(3);
        assert_eq!(f.handle_closed(1006, false), AfterClose::Retry);
        assert_eq!(f.handle_closed(4013, false), AfterClose::Retry);
        assert_eq!(f.current(), 2);
        assert_eq!(f.handle_closed(1006, false), AfterClose::GiveUp);
        let mut f = Failover::new(3);
        assert_eq!(
            f.handle_closed(4007, false),
            AfterClose::GiveUp,
            "a refusal is final"
        );
    }

    #[test]
    fn a_held_id_is_retried_a_bounded_number_of_times() {
        let mut f = Failover::new(2);
        f.handle_joined();
        for _ in 0..Failover::MAX_HELD_ID_RETRIES {
            assert_eq!(f.handle_closed(4003, false), AfterClose::Retry);
            assert_eq!(f.current(), 0, "the relay answered: it is alive");
        }
        assert_eq!(f.handle_closed(4003, false), AfterClose::GiveUp);
        let mut f = Failover::new(2);
        f.handle_joined();
        assert_eq!(f.handle_closed(4003, false), AfterClose::Retry);
        f.handle_joined();
        for _ in 0..Failover::MAX_HELD_ID_RETRIES {
            assert_eq!(f.handle_closed(4003, false), AfterClose::Retry);
        }
    }

    #[test]
    fn permanent_refusals_end_the_visit() {
        for code in [4001, 4002, 4004, 4005, 4006] {
            let mut f = Failover::new(2);
            f.handle_joined();
            assert_eq!(f.handle_closed(code, true), AfterClose::GiveUp, "{code}");
        }
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
