//! The audio-only fallback over arbitrary stats: whatever the browser reports (counters going
//! backwards, NaN round trips, huge numbers), the monitor never panics, its decisions
//! alternate (a pause, then a resume, never two of one kind), and what it reports agrees
//! with the decisions it gave.

use proptest::prelude::*;
use teleconsult::quality::{Decision, Level, Monitor, Sample};

fn sample() -> impl Strategy<Value = Sample> {
    (
        prop_oneof![
            Just(None),
            any::<f64>().prop_map(Some),
            (0.0..2_000.0f64).prop_map(Some)
        ],
        any::<u64>(),
        prop_oneof![0..10_000u64, any::<u64>()],
        any::<u64>(),
        prop_oneof![0..10_000u64, any::<u64>()],
        prop_oneof![
            Just(None),
            any::<u32>().prop_map(Some),
            (0..600u32).prop_map(Some)
        ],
    )
        .prop_map(
            |(rtt_ms, packets_received, packets_lost, packets_sent, packets_sent_lost, kbps)| {
                Sample {
                    rtt_ms,
                    packets_received,
                    packets_lost,
                    packets_sent,
                    packets_sent_lost,
                    available_outgoing_kbps: kbps,
                }
            },
        )
}

proptest! {
    #[test]
    fn decisions_alternate_and_agree_with_the_reported_state(
        steps in proptest::collection::vec((sample(), 0..30_000u64), 1..200)
    ) {
        let mut m = Monitor::new();
        let mut now = 0u64;
        let mut paused = false;
        for (s, gap) in steps {
            now = now.saturating_add(gap);
            let a = m.handle_sample(s, now);
            match a.decision {
                Some(Decision::PauseVideo) => { prop_assert!(!paused); paused = true; }
                Some(Decision::ResumeVideo) => { prop_assert!(paused); paused = false; }
                None => {}
            }
            prop_assert_eq!(a.video_paused, paused);
            prop_assert_eq!(m.video_paused(), paused);
            if paused { prop_assert_eq!(a.level, Level::Poor); }
            if let Some(l) = a.loss_percent { prop_assert!((0.0..=100.0).contains(&l)); }
        }
    }
}
