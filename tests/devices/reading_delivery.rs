//! Readings reach the clinician's application exactly once, whatever the channel does:
//! queued while offline, re-sent when an acknowledgement is lost, de-duplicated through
//! reordering, duplication and replay; nothing leaves once consent is withdrawn; hostile
//! bytes change nothing; a full buffer refuses, typed, and never drops what it accepted.
//! The core machines (`devices::delivery`, fed by `devices::state`) are driven directly, in
//! simulated time.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use proptest::prelude::*;
use teleconsult::consent::{DataCategory, Reason};
use teleconsult::devices::delivery::{
    Consent, ReadingReceiver, ReadingSender, ReceiveError, ReceiverOutput, SendError, SenderConfig,
    SenderEvent, Shared, Transmit,
};
use teleconsult::devices::wire::{self, WireError};
use teleconsult::devices::{CaptureError, RawRecord, Reading};

const PATIENT: &str = "00000000000000a1";
const CLINICIAN: &str = "00000000000000c1";
const NOW: u64 = 1_709_624_000_000;
const RESEND: u64 = 2_000;

/// A heart-rate reading of `bpm` (distinct ids: the value differs).
fn heart_rate(bpm: u8) -> (Reading, RawRecord) {
    let raw = RawRecord {
        uuid: 0x2A37,
        value: vec![0x00, bpm],
        device_id: "strap".into(),
        system_id: None,
        pnp_id: None,
        received_at: NOW + u64::from(bpm),
        utc_offset: Some(60),
        weight_feature: None,
        glucose_context: None,
    };
    (raw.capture().unwrap(), raw)
}

fn allow(_: Option<DataCategory>) -> Consent {
    Consent::Allowed
}

fn sender(max_pending: usize) -> ReadingSender {
    ReadingSender::new(
        CLINICIAN.into(),
        SenderConfig {
            max_pending,
            resend_after: Some(RESEND),
        },
    )
}

fn share(s: &mut ReadingSender, bpm: u8) -> Reading {
    let (reading, raw) = heart_rate(bpm);
    assert_eq!(
        s.handle_share(&reading, &raw, Consent::Allowed, NOW),
        Ok(Shared::Queued)
    );
    reading
}

/// Everything the sender would send now.
fn transmits(s: &mut ReadingSender, now: u64) -> Vec<Transmit> {
    std::iter::from_fn(|| s.poll_transmit(now, allow)).collect()
}

/// The receiving side: hands data to the receiver, returns the acknowledgements it sends
/// and records what reached the application.
#[derive(Default)]
struct Clinician {
    receiver: ReadingReceiver,
    shown: Vec<String>,
}

impl Clinician {
    fn receive(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.receiver.handle_data(PATIENT, bytes).unwrap();
        let mut acks = Vec::new();
        while let Some(out) = self.receiver.poll_output() {
            match out {
                ReceiverOutput::Transmit { to, bytes } => {
                    assert_eq!(to, PATIENT);
                    acks.push(bytes);
                }
                ReceiverOutput::Reading { from, reading, raw } => {
                    assert_eq!(from, PATIENT);
                    assert_eq!(
                        raw.capture().unwrap(),
                        *reading,
                        "rebuilt from its raw record"
                    );
                    self.shown.push(reading.id);
                }
            }
        }
        acks
    }
}

fn events(s: &mut ReadingSender) -> Vec<SenderEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn readings_queued_offline_are_delivered_after_reconnect() {
    let mut s = sender(10);
    let mut c = Clinician::default();
    let ids: Vec<String> = (60..63).map(|bpm| share(&mut s, bpm).id).collect();
    // Offline: the channel refuses the first send; everything stays queued.
    let t = s.poll_transmit(NOW, allow).unwrap();
    s.handle_send_failed(&t.id);
    assert_eq!(s.pending(), 3);
    assert_eq!(s.pending_ids().collect::<Vec<_>>(), ids);
    // Back online: all three go, in order, and are acknowledged.
    let sent = transmits(&mut s, NOW + 10);
    assert_eq!(
        sent.iter().map(|t| &t.id).collect::<Vec<_>>(),
        ids.iter().collect::<Vec<_>>()
    );
    for t in sent {
        for ack in c.receive(&t.bytes) {
            assert!(s.handle_data(CLINICIAN, &ack));
        }
    }
    assert_eq!(c.shown, ids);
    assert_eq!(s.pending(), 0);
    assert_eq!(
        events(&mut s),
        ids.iter()
            .map(|id| SenderEvent::Delivered { id: id.clone() })
            .collect::<Vec<_>>()
    );
    assert_eq!(s.poll_timeout(), None, "nothing waits");
}

#[test]
fn a_lost_ack_causes_a_resend_and_the_receiver_deduplicates() {
    let mut s = sender(10);
    let mut c = Clinician::default();
    let id = share(&mut s, 70).id;
    let first = transmits(&mut s, NOW);
    let lost_ack = c.receive(&first[0].bytes);
    assert_eq!(lost_ack.len(), 1, "acknowledged, but the ack is lost");
    assert_eq!(s.poll_timeout(), Some(NOW + RESEND));
    s.handle_timeout(NOW + RESEND - 1);
    assert!(transmits(&mut s, NOW + RESEND - 1).is_empty(), "not yet");
    s.handle_timeout(NOW + RESEND);
    let again = transmits(&mut s, NOW + RESEND);
    assert_eq!(again, first, "the same bytes again");
    let acks = c.receive(&again[0].bytes);
    assert_eq!(c.shown, std::slice::from_ref(&id), "shown once");
    assert!(s.handle_data(CLINICIAN, &acks[0]));
    assert!(
        !s.handle_data(CLINICIAN, &lost_ack[0]),
        "a late ack changes nothing"
    );
    assert_eq!(s.pending(), 0);
    // A loss the channel reports (the participant left) re-sends at once, no timer needed.
    let id2 = share(&mut s, 71).id;
    let _ = transmits(&mut s, NOW);
    s.handle_lost(PATIENT, NOW);
    assert!(
        transmits(&mut s, NOW).is_empty(),
        "another participant's loss"
    );
    s.handle_lost(CLINICIAN, NOW);
    let resent = transmits(&mut s, NOW);
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].id, id2);
}

#[test]
fn reordering_duplication_and_replay_give_each_reading_once() {
    let mut s = sender(10);
    let mut c = Clinician::default();
    let ids: Vec<String> = (80..85).map(|bpm| share(&mut s, bpm).id).collect();
    let mut sent = transmits(&mut s, NOW);
    sent.reverse();
    let dup = sent.clone();
    for t in sent.iter().chain(&dup) {
        for ack in c.receive(&t.bytes) {
            s.handle_data(CLINICIAN, &ack);
        }
    }
    // A replay long after delivery is acknowledged again and shown no more.
    for t in &dup {
        assert_eq!(c.receive(&t.bytes).len(), 1);
    }
    let mut shown = c.shown.clone();
    shown.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(shown, want, "each exactly once");
    assert_eq!(s.pending(), 0);
}

#[test]
fn consent_withdrawn_means_nothing_more_leaves() {
    let mut s = sender(10);
    let withdrawn = |_: Option<DataCategory>| Consent::Refused(Some(Reason::Withdrawn));
    // Refused when shared: reported, never queued.
    let (r, raw) = heart_rate(90);
    assert_eq!(
        s.handle_share(&r, &raw, Consent::Refused(None), NOW),
        Ok(Shared::Withheld)
    );
    assert_eq!(s.pending(), 0);
    assert_eq!(
        events(&mut s),
        [SenderEvent::Withheld {
            id: r.id,
            reason: None
        }]
    );
    // Buffered while offline, then withdrawn: dropped at the next send, with the reason.
    let a = share(&mut s, 91).id;
    let b = share(&mut s, 92).id;
    assert_eq!(s.poll_transmit(NOW, withdrawn), None);
    assert_eq!(s.pending(), 0);
    assert_eq!(
        events(&mut s),
        [
            SenderEvent::Withheld {
                id: a,
                reason: Some(Reason::Withdrawn)
            },
            SenderEvent::Withheld {
                id: b,
                reason: Some(Reason::Withdrawn)
            },
        ]
    );
    // Sent, then lost, then withdrawn: not sent again.
    let c = share(&mut s, 93).id;
    assert_eq!(transmits(&mut s, NOW).len(), 1);
    s.handle_lost(CLINICIAN, NOW + 1);
    s.handle_consent(withdrawn);
    assert_eq!(s.poll_transmit(NOW + 1, allow), None);
    assert_eq!(
        events(&mut s),
        [SenderEvent::Withheld {
            id: c,
            reason: Some(Reason::Withdrawn)
        }]
    );
    // The consent check sees each reading's category.
    let d = share(&mut s, 94).id;
    let mut asked = Vec::new();
    let t = s.poll_transmit(NOW, |cat| {
        asked.push(cat);
        Consent::Allowed
    });
    assert_eq!(t.unwrap().id, d);
    assert_eq!(asked, [Some(DataCategory::HeartRate)]);
}

/// What a garbled message must be refused as.
type Expect = fn(&ReceiveError) -> bool;

#[test]
fn garbled_bytes_give_a_typed_error_and_change_nothing() {
    let mut c = Clinician::default();
    let (reading, raw) = heart_rate(100);
    let good = wire::encode_reading(&reading.id, &raw);
    let text = String::from_utf8(good.clone()).unwrap();
    let cases: Vec<(Vec<u8>, Expect)> = vec![
        (b"hello, this is chat".to_vec(), |e| {
            *e == ReceiveError::NotAReading
        }),
        (br#"{"type":"chat"}"#.to_vec(), |e| {
            *e == ReceiveError::NotAReading
        }),
        (good[..good.len() - 1].to_vec(), |e| {
            *e == ReceiveError::NotAReading
        }),
        (vec![0xff; 40], |e| *e == ReceiveError::NotAReading),
        (text.replacen(&reading.id, "0000", 1).into_bytes(), |e| {
            *e == ReceiveError::IdMismatch
        }),
        (
            text.replacen(&format!(",\"id\":\"{}\"", reading.id), "", 1)
                .into_bytes(),
            |e| *e == ReceiveError::MissingId,
        ),
        (text.replacen("\"AGQ=\"", "\"EGQ=\"", 1).into_bytes(), |e| {
            matches!(e, ReceiveError::Capture(CaptureError::Parse { .. }))
        }),
        (text.replacen("\"AGQ=\"", "\"A\"", 1).into_bytes(), |e| {
            matches!(e, ReceiveError::Malformed(_))
        }),
        (
            text.replacen("\"deviceId\":\"strap\"", "\"deviceId\":\"\"", 1)
                .into_bytes(),
            |e| matches!(e, ReceiveError::Malformed(_)),
        ),
    ];
    for (bytes, want) in &cases {
        let e = c.receiver.handle_data(PATIENT, bytes).unwrap_err();
        assert!(want(&e), "{e:?} for {}", String::from_utf8_lossy(bytes));
        assert_eq!(
            c.receiver.poll_output(),
            None,
            "nothing to send, nothing shown"
        );
        assert!(!c.receiver.has_seen(&reading.id));
        // Errors map onto the SDK's codes.
        let _ = teleconsult::Error::from(e).code();
    }
    // The genuine message still goes through afterwards.
    assert_eq!(c.receive(&good).len(), 1);
    assert_eq!(c.shown, std::slice::from_ref(&reading.id));

    // The sender ignores whatever is not an acknowledgement from its peer.
    let mut s = sender(10);
    let id = share(&mut s, 101).id;
    let _ = transmits(&mut s, NOW);
    for bytes in [&good[..], b"{}", b"\x00", &wire::encode_ack("other")] {
        assert!(!s.handle_data(CLINICIAN, bytes));
    }
    assert!(
        !s.handle_data(PATIENT, &wire::encode_ack(&id)),
        "not from the peer"
    );
    assert_eq!(s.pending(), 1);
    assert!(events(&mut s).is_empty());
    assert_eq!(wire::decode(b"[]"), Err(WireError::NotOurs));
}

#[test]
fn a_full_buffer_refuses_typed_and_never_drops_what_it_accepted() {
    let mut s = sender(2);
    let mut c = Clinician::default();
    let a = share(&mut s, 110).id;
    let b = share(&mut s, 111).id;
    let (r, raw) = heart_rate(112);
    assert_eq!(
        s.handle_share(&r, &raw, Consent::Allowed, NOW),
        Err(SendError::Full)
    );
    assert_eq!(
        s.handle_share(
            &heart_rate(110).0,
            &heart_rate(110).1,
            Consent::Allowed,
            NOW
        ),
        Ok(Shared::AlreadyQueued),
        "the same reading again takes no room"
    );
    assert_eq!(
        s.pending_ids().collect::<Vec<_>>(),
        [a.as_str(), b.as_str()]
    );
    for t in transmits(&mut s, NOW) {
        for ack in c.receive(&t.bytes) {
            s.handle_data(CLINICIAN, &ack);
        }
    }
    assert_eq!(c.shown, [a, b]);
    assert_eq!(
        s.handle_share(&r, &raw, Consent::Allowed, NOW),
        Ok(Shared::Queued)
    );
    s.close();
    assert_eq!(
        s.handle_share(&r, &raw, Consent::Allowed, NOW),
        Err(SendError::Closed)
    );
    assert_eq!(s.poll_transmit(NOW, allow), None);
}

#[test]
fn a_device_value_reaches_the_clinician_through_the_state_machine_and_the_share() {
    use teleconsult::devices::state::{DeviceOutput, DeviceState};
    // The native capture path: bytes → device state (one parse) → sender → wire → receiver,
    // with no JavaScript in between.
    let mut device = DeviceState::new("cuff".into(), None);
    let mut s = sender(10);
    let mut c = Clinician::default();
    let bp = [
        0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 3, 5, 8, 30, 15,
    ];
    let mut ids = Vec::new();
    for out in device.handle_value(0x2A35, &bp, NOW, Some(60)).unwrap() {
        if let DeviceOutput::Reading(r) = out {
            let (reading, raw) = *r;
            assert_eq!(
                s.handle_share(&reading, &raw, Consent::Allowed, NOW),
                Ok(Shared::Queued)
            );
            ids.push(reading.id);
        }
    }
    for t in transmits(&mut s, NOW) {
        for ack in c.receive(&t.bytes) {
            assert!(s.handle_data(CLINICIAN, &ack));
        }
    }
    assert_eq!(c.shown, ids);
    assert_eq!(ids.len(), 1);
    assert_eq!(s.pending(), 0);
}

/// What the channel does to one message in flight.
#[derive(Clone, Copy, Debug)]
enum Net {
    Deliver,
    Drop,
    Duplicate,
    /// Holds it back, to be delivered after the next one.
    Delay,
}

fn net() -> impl Strategy<Value = Net> {
    prop_oneof![
        4 => Just(Net::Deliver),
        2 => Just(Net::Drop),
        1 => Just(Net::Duplicate),
        1 => Just(Net::Delay),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Over any pattern of loss, duplication and reordering in both directions, with the
    /// sender's timer firing and the channel reporting losses now and then, every reading is
    /// shown exactly once and the sender ends with nothing pending.
    #[test]
    fn any_drop_duplicate_reorder_pattern_shows_each_reading_exactly_once(
        count in 1usize..12,
        pattern in proptest::collection::vec(net(), 1..200),
        report_losses in any::<bool>(),
    ) {
        let mut s = sender(64);
        let mut c = Clinician::default();
        let ids: Vec<String> = (0..count).map(|i| share(&mut s, 20 + i as u8).id).collect();
        let mut now = NOW;
        let mut fate = pattern.iter().cycle();
        let mut held: Vec<(bool, Vec<u8>)> = Vec::new();
        let mut rounds = 0;
        while s.pending() > 0 {
            rounds += 1;
            // After the pattern runs out the channel is reliable, so this must end.
            let reliable = rounds > pattern.len();
            prop_assert!(rounds < pattern.len() + 50, "no progress");
            let mut wire: Vec<(bool, Vec<u8>)> = transmits(&mut s, now)
                .into_iter()
                .map(|t| (true, t.bytes))
                .collect();
            wire.append(&mut held);
            let mut i = 0;
            while i < wire.len() {
                let (to_clinician, bytes) = wire[i].clone();
                i += 1;
                let f = if reliable { Net::Deliver } else { *fate.next().unwrap() };
                let copies = match f {
                    Net::Drop => 0,
                    Net::Deliver => 1,
                    Net::Duplicate => 2,
                    Net::Delay => {
                        held.push((to_clinician, bytes));
                        continue;
                    }
                };
                for _ in 0..copies {
                    if to_clinician {
                        for ack in c.receive(&bytes) {
                            wire.push((false, ack));
                        }
                    } else {
                        s.handle_data(CLINICIAN, &bytes);
                    }
                }
            }
            now += RESEND;
            s.handle_timeout(now);
            if report_losses && rounds % 3 == 0 {
                s.handle_lost(CLINICIAN, now);
            }
        }
        let mut shown = c.shown.clone();
        shown.sort();
        shown.dedup();
        prop_assert_eq!(shown.len(), c.shown.len(), "a reading was shown twice");
        let mut want = ids;
        want.sort();
        prop_assert_eq!(shown, want);
    }
}
