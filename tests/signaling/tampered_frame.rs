//! Every single-bit flip anywhere in a sealed frame, every truncation, and oversized
//! frames are rejected without a state change, without a panic, and are counted.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::CryptoError;
use teleconsult::signaling::SecurityKind;
use teleconsult::signaling::SessionError;

const SIGNAL: u8 = 0x02;

/// A fresh call and an app-data frame from the patient that the clinician has not seen.
fn call_with_unseen_frame() -> (Net, Vec<u8>) {
    let mut net = two_party_call();
    net.relay.rule = Some(Box::new(|from, _, _| {
        if from == pid(2) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"blood pressure 120/80", now)
        .unwrap();
    net.flush(1);
    let frame = frames(&net, pid(2), pid(1), 0x03)
        .pop()
        .expect("app-data frame");
    net.relay.rule = None;
    (net, frame)
}

#[test]
fn every_single_bit_flip_is_rejected_without_state_change() {
    let (mut net, frame) = call_with_unseen_frame();
    let before = snapshot(&net.nodes[0].session);
    let _ = non_security_outputs(&mut net, 0);
    for bit in 0..frame.len() * 8 {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let now = net.now;
        let msg = teleconsult::signaling::relay_wire::ServerMessage::Deliver {
            from: pid(2),
            payload: bad,
        };
        let r = net.nodes[0]
            .session
            .handle_relay_message(&msg.encode(), now);
        let byte = bit / 8;
        let e = r.expect_err("a flipped bit must be rejected");
        let ok = match byte {
            0 => matches!(
                e,
                SessionError::Downgrade | SessionError::UnsupportedVersion
            ),
            2..=17 => e == SessionError::WrongRoom,
            18..=25 => e == SessionError::SenderMismatch,
            26..=33 => e == SessionError::Misaddressed,
            34..=41 => e == SessionError::Crypto(CryptoError::UnknownKey),
            _ => matches!(
                e,
                SessionError::Crypto(
                    CryptoError::AuthenticationFailed | CryptoError::Replayed | CryptoError::TooOld
                ) | SessionError::Malformed
            ),
        };
        assert!(ok, "bit {bit} (byte {byte}) gave {e:?}");
        assert!(
            non_security_outputs(&mut net, 0).is_empty(),
            "bit {bit} produced output"
        );
        assert_eq!(
            snapshot(&net.nodes[0].session),
            before,
            "bit {bit} changed state"
        );
    }
    assert!(
        net.nodes[0]
            .session
            .security_count(SecurityKind::AuthenticationFailed)
            > 100
    );
    // The untouched frame still opens: nothing was consumed by the forgeries.
    net.inject_frame(0, pid(2), frame).unwrap();
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        vec![b"blood pressure 120/80".to_vec()]
    );
}

#[test]
fn truncation_at_every_length_is_rejected_without_state_change() {
    let (mut net, frame) = call_with_unseen_frame();
    let before = snapshot(&net.nodes[0].session);
    for len in 0..frame.len() {
        let r = net.inject_frame(0, pid(2), frame[..len].to_vec());
        assert!(r.is_err(), "length {len}");
        assert_eq!(snapshot(&net.nodes[0].session), before, "length {len}");
    }
    // Appending bytes is as bad as removing them.
    let mut longer = frame.clone();
    longer.push(0);
    assert_eq!(
        net.inject_frame(0, pid(2), longer),
        Err(SessionError::Crypto(CryptoError::AuthenticationFailed))
    );
    net.inject_frame(0, pid(2), frame).unwrap();
}

#[test]
fn oversized_frames_are_rejected() {
    let (mut net, mut frame) = call_with_unseen_frame();
    let before = snapshot(&net.nodes[0].session);
    frame.resize(65_001, 0xaa);
    assert_eq!(
        net.inject_frame(0, pid(2), frame),
        Err(SessionError::Crypto(CryptoError::Malformed))
    );
    // Beyond the relay framing's own limit the relay message itself is refused.
    let huge = vec![0x82; 70_000];
    assert!(matches!(
        net.nodes[0].session.handle_relay_message(&huge, 0),
        Err(SessionError::Wire(_))
    ));
    assert_eq!(snapshot(&net.nodes[0].session), before);
    // Senders are bounded too.
    let now = net.now;
    let big = vec![0u8; 40_000];
    assert_eq!(
        net.nodes[0].session.send_app_data(pid(2), &big, now),
        Err(SessionError::TooLarge)
    );
}

#[test]
fn unknown_versions_and_downgrades_are_rejected() {
    let (mut net, frame) = call_with_unseen_frame();
    let mut newer = frame.clone();
    newer[0] = 3;
    assert_eq!(
        net.inject_frame(0, pid(2), newer),
        Err(SessionError::UnsupportedVersion)
    );
    // A version-1 frame (the protocol before this one): refused as a downgrade.
    let mut older = frame.clone();
    older[0] = 1;
    assert_eq!(
        net.inject_frame(0, pid(2), older),
        Err(SessionError::Downgrade)
    );
    assert_eq!(
        net.nodes[0].session.security_count(SecurityKind::Downgrade),
        1
    );
    let _ = SIGNAL;
}
