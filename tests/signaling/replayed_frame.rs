//! Replayed frames (immediately and after a resumption) are rejected; reordering inside
//! the replay window is accepted and delivered in order, outside it rejected.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::CryptoError;
use teleconsult::signaling::SecurityKind;
use teleconsult::signaling::SessionError;

const APP: u8 = 0x03;

#[test]
fn a_frame_replayed_immediately_is_rejected_and_applied_once() {
    let mut net = two_party_call();
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"once", now)
        .unwrap();
    net.run_for(100);
    let frame = frames(&net, pid(2), pid(1), APP).pop().unwrap();
    let before = snapshot(&net.nodes[0].session);
    assert_eq!(
        net.inject_frame(0, pid(2), frame.clone()),
        Err(SessionError::Crypto(CryptoError::Replayed))
    );
    assert_eq!(
        net.inject_frame(0, pid(2), frame),
        Err(SessionError::Crypto(CryptoError::Replayed))
    );
    assert_eq!(snapshot(&net.nodes[0].session), before);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![b"once".to_vec()]);
    assert_eq!(net.nodes[0].session.security_count(SecurityKind::Replay), 2);
}

#[test]
fn frames_replayed_after_resume_are_rejected() {
    let mut net = two_party_call();
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"before", now)
        .unwrap();
    net.run_for(100);
    let old = frames(&net, pid(2), pid(1), APP).pop().unwrap();
    let old_hellos = frames(
        &net,
        pid(2),
        teleconsult::signaling::relay_wire::ParticipantId::BROADCAST,
        0x01,
    );
    net.disconnect(1);
    net.run_for(100);
    net.connect(1);
    net.run_for(2_000);
    assert!(net.all_connected(&[0, 1]));
    let before = snapshot(&net.nodes[0].session);
    // The old session key is gone: the frame cannot even be attributed to a live key.
    assert_eq!(
        net.inject_frame(0, pid(2), old),
        Err(SessionError::Crypto(CryptoError::UnknownKey))
    );
    // An old-epoch hello cannot roll the pair back to old keys.
    for h in old_hellos {
        assert!(net.inject_frame(0, pid(2), h).is_err());
    }
    assert_eq!(snapshot(&net.nodes[0].session), before);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![b"before".to_vec()]);
}

#[test]
fn reordering_inside_the_window_is_delivered_in_order() {
    let mut net = two_party_call();
    // Hold the patient's next frames back, then deliver them in reverse.
    net.relay.rule = Some(Box::new(|from, _, _| {
        if from == pid(2) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    for k in 0..10u8 {
        let now = net.now;
        net.nodes[1]
            .session
            .send_app_data(pid(1), &[k], now)
            .unwrap();
    }
    net.flush(1);
    let held = frames(&net, pid(2), pid(1), APP);
    let held = &held[held.len() - 10..];
    net.relay.rule = None;
    for f in held.iter().rev() {
        net.inject_frame(0, pid(2), f.clone()).unwrap();
    }
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        (0..10u8).map(|k| vec![k]).collect::<Vec<_>>()
    );
}

#[test]
fn reordering_beyond_the_window_is_rejected_as_too_old() {
    let mut net = two_party_call();
    net.relay.rule = Some(Box::new(|from, _, _| {
        if from == pid(2) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    for k in 0..140u8 {
        let now = net.now;
        net.nodes[1]
            .session
            .send_app_data(pid(1), &[k], now)
            .unwrap();
    }
    net.flush(1);
    let held = frames(&net, pid(2), pid(1), APP);
    let held = held[held.len() - 140..].to_vec();
    // The newest frame arrives first; the first ones are now more than 128 behind.
    net.inject_frame(0, pid(2), held[139].clone()).unwrap();
    assert_eq!(
        net.inject_frame(0, pid(2), held[0].clone()),
        Err(SessionError::Crypto(CryptoError::TooOld))
    );
    assert!(
        net.inject_frame(0, pid(2), held[20].clone()).is_ok(),
        "inside the window"
    );
    // Retransmission (under new sequence numbers) still delivers everything, once, in order.
    net.relay.rule = None;
    net.run_for(30_000);
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        (0..140u8).map(|k| vec![k]).collect::<Vec<_>>()
    );
}
