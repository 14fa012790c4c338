//! Call quality from periodic media statistics, and the audio-only fallback.
//!
//! A visit on a collapsing link must keep its audio: when the link cannot carry video, video
//! pauses by itself and comes back when bandwidth returns (a voice that breaks up ends a
//! consultation; a frozen picture does not). The driver samples each connection's stats every
//! few seconds (`getStats` in the browser) and feeds them here; a [`Monitor`] answers with the
//! quality to report and, when the fallback changes its mind, a [`Decision`] for the sender.
//! Sans-IO: counters and `now` come in, nothing is read here.
//!
//! What counts as congested, per sample:
//! - where the browser estimates the outgoing bandwidth (Chromium's
//!   `availableOutgoingBitrate`): less than [`PAUSE_BELOW_KBPS`];
//! - where it does not (Firefox): what the peer reports lost of what we sent, since the last
//!   sample, at least [`CONGESTED_LOSS_PERCENT`], or a round trip of [`CONGESTED_RTT_MS`] or more.
//!
//! Video pauses after [`PAUSE_AFTER`] congested samples in a row. It resumes after
//! [`RESUME_AFTER`] clear samples in a row (an estimate of at least [`RESUME_AT_KBPS`]), or
//! when its hold time is over: the browser's estimate of a link that carries only audio does
//! not grow (measured in Chromium: it stayed at 89 kbit/s for 18 s after the link healed, and
//! reached 1.3 Mbit/s 2 s after video was sent again), so video is tried again. Within
//! [`TRIAL_MS`] of a resume one congested sample pauses it again, so a failed try costs the
//! voice one sample interval. The hold starts at [`FIRST_HOLD_MS`] and doubles, up to
//! [`MAX_HOLD_MS`], each time video has to pause again soon after it came back.

/// Below this estimated outgoing bandwidth (kbit/s) a sample is congested: less than what
/// the smallest useful video (about 100 kbit/s) and Opus voice (about 30 kbit/s) need.
pub const PAUSE_BELOW_KBPS: u32 = 120;
/// From this estimated outgoing bandwidth (kbit/s) a paused video may come back.
pub const RESUME_AT_KBPS: u32 = 250;
/// Packet loss (percent, since the last sample) from which a sample is congested.
pub const CONGESTED_LOSS_PERCENT: f64 = 10.0;
/// Round-trip time (ms) from which a sample is congested.
pub const CONGESTED_RTT_MS: u32 = 1_000;
/// Congested samples in a row before video pauses.
pub const PAUSE_AFTER: u8 = 2;
/// Clear samples in a row before a paused video comes back.
pub const RESUME_AFTER: u8 = 2;
/// How long video stays paused before it is tried again, the first time.
pub const FIRST_HOLD_MS: u64 = 8_000;
/// The longest hold.
pub const MAX_HOLD_MS: u64 = 32_000;
/// After a resume, how long one congested sample is enough to pause again.
pub const TRIAL_MS: u64 = 5_000;
/// A pause within this long after video came back doubles the hold.
const RELAPSE_WINDOW_MS: u64 = 20_000;

/// Cumulative counters of one connection, as `getStats` reports them; `None` where the
/// browser does not report the value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    /// Current round-trip time of the selected candidate pair, ms.
    pub rtt_ms: Option<f64>,
    /// Packets received from the peer, all media (inbound-rtp `packetsReceived`).
    pub packets_received: u64,
    /// Packets from the peer that were lost (inbound-rtp `packetsLost`).
    pub packets_lost: u64,
    /// Packets sent to the peer (outbound-rtp `packetsSent`).
    pub packets_sent: u64,
    /// Of those, lost as the peer reports (remote-inbound-rtp `packetsLost`).
    pub packets_sent_lost: u64,
    /// The browser's estimate of the outgoing bandwidth, kbit/s.
    pub available_outgoing_kbps: Option<u32>,
}

/// How the connection is, in one word, for the app and the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Nothing to say.
    Good,
    /// Noticeable: some loss, a long round trip or little bandwidth.
    Fair,
    /// Bad: the call may break up.
    Poor,
}

impl Level {
    /// The name the JS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Fair => "fair",
            Self::Poor => "poor",
        }
    }
}

/// What the sender must do with its video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Stop sending video (audio goes on): the link cannot carry it.
    PauseVideo,
    /// Send video again.
    ResumeVideo,
}

/// The quality of one connection over the last interval, and what to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    /// In one word.
    pub level: Level,
    /// Round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// Packets from the peer lost since the last sample, percent (`None` when none came).
    pub loss_percent: Option<f64>,
    /// The browser's estimate of the outgoing bandwidth, kbit/s.
    pub available_outgoing_kbps: Option<u32>,
    /// Whether video is paused for bandwidth (after `decision` is applied).
    pub video_paused: bool,
    /// A change for the sender, when there is one.
    pub decision: Option<Decision>,
}

/// The fallback's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Video {
    /// Video is sent; `congested` samples in a row so far; `resumed_at` when it last came back.
    Sending {
        congested: u8,
        resumed_at: Option<u64>,
    },
    /// Video is paused since `at`, for at least `hold_ms`; `clear` samples in a row so far.
    Paused { at: u64, hold_ms: u64, clear: u8 },
}

/// The quality of one connection and its audio-only fallback.
#[derive(Clone, Debug)]
pub struct Monitor {
    previous: Option<Sample>,
    video: Video,
    /// The hold of the next pause.
    next_hold_ms: u64,
    /// Whether the audio-only fallback may pause video at all (the app's
    /// `audioOnlyFallback`); without it, quality is still assessed and reported.
    fallback: bool,
}

impl Default for Monitor {
    fn default() -> Self {
        Self {
            previous: None,
            video: Video::Sending {
                congested: 0,
                resumed_at: None,
            },
            next_hold_ms: FIRST_HOLD_MS,
            fallback: true,
        }
    }
}

impl Monitor {
    /// A monitor for a new connection: video is sent.
    pub fn new() -> Self {
        Self::default()
    }

    /// A monitor that never pauses video (the app turned the audio-only fallback off): it
    /// only assesses and reports the connection's quality.
    pub fn without_fallback() -> Self {
        Self {
            fallback: false,
            ..Self::default()
        }
    }

    /// Whether video is paused for bandwidth.
    pub fn video_paused(&self) -> bool {
        matches!(self.video, Video::Paused { .. })
    }

    /// One sample of the connection's counters, taken at `now` (ms). Counters that went
    /// backwards (a new connection behind the same peer) start a new interval.
    pub fn handle_sample(&mut self, sample: Sample, now: u64) -> Assessment {
        let previous = self.previous.replace(sample);
        let delta = |new: u64, old: Option<u64>| old.filter(|o| *o <= new).map(|o| new - o);
        let lost = delta(sample.packets_lost, previous.map(|p| p.packets_lost));
        let received = delta(
            sample.packets_received,
            previous.map(|p| p.packets_received),
        );
        let loss_percent = percent(lost, received.zip(lost).map(|(r, l)| r.saturating_add(l)));
        let sent = delta(sample.packets_sent, previous.map(|p| p.packets_sent));
        let sent_lost = delta(
            sample.packets_sent_lost,
            previous.map(|p| p.packets_sent_lost),
        );
        let sent_loss_percent = percent(sent_lost, sent);

        let rtt = sample.rtt_ms.filter(|r| r.is_finite() && *r >= 0.0);
        let congested = match sample.available_outgoing_kbps {
            Some(kbps) => kbps < PAUSE_BELOW_KBPS,
            None => {
                sent_loss_percent.is_some_and(|l| l >= CONGESTED_LOSS_PERCENT)
                    || rtt.is_some_and(|r| r >= f64::from(CONGESTED_RTT_MS))
            }
        };
        let clear = sample
            .available_outgoing_kbps
            .is_some_and(|kbps| kbps >= RESUME_AT_KBPS);
        let decision = if self.fallback {
            self.step(congested, clear, now)
        } else {
            None
        };

        let by_path = match (rtt.unwrap_or(0.0), loss_percent.unwrap_or(0.0)) {
            (r, l) if r < 300.0 && l < 2.0 => Level::Good,
            (r, l) if r < 800.0 && l < 8.0 => Level::Fair,
            _ => Level::Poor,
        };
        let by_bandwidth = match sample.available_outgoing_kbps {
            Some(kbps) if kbps < PAUSE_BELOW_KBPS => Level::Poor,
            Some(kbps) if kbps < 300 => Level::Fair,
            _ => Level::Good,
        };
        let paused = self.video_paused();
        Assessment {
            level: by_path
                .max(by_bandwidth)
                .max(if paused { Level::Poor } else { Level::Good }),
            rtt_ms: rtt,
            loss_percent,
            available_outgoing_kbps: sample.available_outgoing_kbps,
            video_paused: paused,
            decision,
        }
    }

    /// The fallback's transition for one sample.
    fn step(&mut self, congested: bool, clear: bool, now: u64) -> Option<Decision> {
        match self.video {
            Video::Sending {
                congested: n,
                resumed_at,
            } => {
                let n = if congested { n.saturating_add(1) } else { 0 };
                let trial = resumed_at.is_some_and(|at| now.saturating_sub(at) < TRIAL_MS);
                if n < if trial { 1 } else { PAUSE_AFTER } {
                    self.video = Video::Sending {
                        congested: n,
                        resumed_at,
                    };
                    return None;
                }
                let relapse =
                    resumed_at.is_some_and(|at| now.saturating_sub(at) < RELAPSE_WINDOW_MS);
                let hold_ms = if relapse {
                    self.next_hold_ms
                } else {
                    FIRST_HOLD_MS
                };
                self.next_hold_ms = hold_ms.saturating_mul(2).min(MAX_HOLD_MS);
                self.video = Video::Paused {
                    at: now,
                    hold_ms,
                    clear: 0,
                };
                Some(Decision::PauseVideo)
            }
            Video::Paused {
                at,
                hold_ms,
                clear: n,
            } => {
                let n = if clear { n.saturating_add(1) } else { 0 };
                if n >= RESUME_AFTER || now.saturating_sub(at) >= hold_ms {
                    self.video = Video::Sending {
                        congested: 0,
                        resumed_at: Some(now),
                    };
                    Some(Decision::ResumeVideo)
                } else {
                    self.video = Video::Paused {
                        at,
                        hold_ms,
                        clear: n,
                    };
                    None
                }
            }
        }
    }
}

/// `part` of `whole` in percent, at most 100 (a peer may report more lost than was sent);
/// `None` without a whole.
fn percent(part: Option<u64>, whole: Option<u64>) -> Option<f64> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0 => Some((100.0 * p as f64 / w as f64).min(100.0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bandwidth(kbps: u32) -> Sample {
        Sample {
            rtt_ms: Some(20.0),
            available_outgoing_kbps: Some(kbps),
            ..Sample::default()
        }
    }

    /// Feeds `kbps` samples every 2 s from `from`, returning the decisions with their times.
    fn run(m: &mut Monitor, from: u64, kbps: &[u32]) -> Vec<(u64, Decision)> {
        kbps.iter()
            .enumerate()
            .filter_map(|(i, k)| {
                let now = from + 2_000 * i as u64;
                m.handle_sample(bandwidth(*k), now)
                    .decision
                    .map(|d| (now, d))
            })
            .collect()
    }

    #[test]
    fn video_pauses_after_two_congested_samples_and_comes_back_with_bandwidth() {
        let mut m = Monitor::new();
        let d = run(&mut m, 0, &[2000, 90, 90, 90, 300, 300, 300]);
        assert_eq!(
            d,
            [
                (4_000, Decision::PauseVideo),
                (10_000, Decision::ResumeVideo)
            ]
        );
        assert!(!m.video_paused());
    }

    #[test]
    fn without_the_fallback_video_is_never_paused_and_quality_is_still_reported() {
        let mut m = Monitor::without_fallback();
        assert_eq!(run(&mut m, 0, &[2000, 90, 90, 90, 90, 90, 90, 90]), []);
        assert!(!m.video_paused());
        let a = m.handle_sample(bandwidth(90), 20_000);
        assert_eq!(a.level, Level::Poor, "the link is still assessed");
        assert!(!a.video_paused && a.decision.is_none());
    }

    #[test]
    fn one_dip_is_not_enough() {
        let mut m = Monitor::new();
        assert_eq!(run(&mut m, 0, &[90, 2000, 90, 2000, 90]), []);
    }

    #[test]
    fn a_link_that_stays_low_is_tried_again_with_a_growing_hold() {
        let mut m = Monitor::new();
        // Low for good: pause at 2 s, try at 10 s (hold 8 s), pause again at 12 s (a failed
        // try: one sample; hold 16 s), try at 28 s, pause at 30 s (hold 32 s, the most).
        let d = run(&mut m, 0, &[90; 60]);
        let times: Vec<u64> = d.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            times,
            [
                2_000, 10_000, 12_000, 28_000, 30_000, 62_000, 64_000, 96_000, 98_000
            ]
        );
        assert_eq!(d[0].1, Decision::PauseVideo);
        assert_eq!(d[1].1, Decision::ResumeVideo);
    }

    #[test]
    fn a_pause_long_after_recovery_starts_with_the_first_hold_again() {
        let mut m = Monitor::new();
        run(&mut m, 0, &[90, 90, 90, 90, 90, 90]); // paused at 2 s, tried at 10 s
        run(&mut m, 12_000, &[1000; 20]); // fine for 40 s
        let d = run(&mut m, 60_000, &[90; 6]);
        assert_eq!(
            d,
            [
                (62_000, Decision::PauseVideo),
                (70_000, Decision::ResumeVideo)
            ]
        );
    }

    #[test]
    fn without_a_bandwidth_estimate_loss_of_what_we_send_counts() {
        let mut m = Monitor::new();
        let mut at = |sent: u64, lost: u64, now: u64| {
            m.handle_sample(
                Sample {
                    packets_sent: sent,
                    packets_sent_lost: lost,
                    ..Sample::default()
                },
                now,
            )
        };
        assert_eq!(at(1000, 0, 0).decision, None);
        assert_eq!(at(1100, 20, 2_000).decision, None); // 20 %: congested once
        assert_eq!(at(1200, 40, 4_000).decision, Some(Decision::PauseVideo));
    }

    #[test]
    fn level_reports_loss_of_the_last_interval_not_of_the_whole_call() {
        let mut m = Monitor::new();
        let s = |received: u64, lost: u64| Sample {
            rtt_ms: Some(10.0),
            packets_received: received,
            packets_lost: lost,
            ..Sample::default()
        };
        assert_eq!(m.handle_sample(s(1000, 0), 0).level, Level::Good);
        let a = m.handle_sample(s(1900, 100), 2_000);
        assert_eq!(a.loss_percent, Some(10.0));
        assert_eq!(a.level, Level::Poor);
        // The loss stopped: the next interval is good again, whatever the total says.
        let a = m.handle_sample(s(2900, 100), 4_000);
        assert_eq!(a.loss_percent, Some(0.0));
        assert_eq!(a.level, Level::Good);
    }

    #[test]
    fn little_bandwidth_is_fair_and_a_paused_video_is_poor() {
        let mut m = Monitor::new();
        assert_eq!(m.handle_sample(bandwidth(250), 0).level, Level::Fair);
        assert_eq!(m.handle_sample(bandwidth(5000), 2_000).level, Level::Good);
        m.handle_sample(bandwidth(90), 4_000);
        let a = m.handle_sample(bandwidth(200), 6_000);
        assert_eq!(a.decision, None);
        assert!(!a.video_paused, "200 kbit/s breaks the congested streak");
        m.handle_sample(bandwidth(90), 8_000);
        let a = m.handle_sample(bandwidth(90), 10_000);
        assert!(a.video_paused);
        assert_eq!(a.level, Level::Poor);
    }

    #[test]
    fn counters_that_go_backwards_start_a_new_interval_and_hostile_numbers_do_not_panic() {
        let mut m = Monitor::new();
        m.handle_sample(
            Sample {
                packets_received: u64::MAX,
                packets_lost: u64::MAX,
                packets_sent: u64::MAX,
                packets_sent_lost: u64::MAX,
                rtt_ms: Some(f64::NAN),
                available_outgoing_kbps: Some(u32::MAX),
            },
            u64::MAX,
        );
        let a = m.handle_sample(
            Sample {
                rtt_ms: Some(f64::INFINITY),
                ..Sample::default()
            },
            0,
        );
        assert_eq!(a.loss_percent, None);
        assert_eq!(a.rtt_ms, None);
    }
}
