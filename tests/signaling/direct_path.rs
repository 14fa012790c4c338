//! The direct path (docs/PROTOCOL.md, "Direct path"): bulk app data (file chunks) and
//! acknowledgements go over the peers' own data channel while the driver reports it up,
//! sealed exactly as the relay would carry them; everything else stays on the relay. What
//! arrives on the channel goes through every check a relayed frame does: another
//! participant's frame, a replay or a hello is refused; switching paths mid-stream loses
//! and duplicates nothing.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::CryptoError;
use teleconsult::signaling::message::{KIND_ACK, KIND_APP_DATA, KIND_SIGNAL};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};
use teleconsult::signaling::{SecurityKind, SessionError};

fn set_direct(net: &mut Net, i: usize, peer: ParticipantId, up: bool) {
    let now = net.now;
    net.nodes[i].session.set_direct(peer, up, now);
    net.flush(i);
}

/// A call of clinician (1) and patient (2) whose direct path is up on both sides.
fn direct_call() -> Net {
    let mut net = two_party_call();
    set_direct(&mut net, 0, pid(2), true);
    set_direct(&mut net, 1, pid(1), true);
    net
}

/// A direct call in which the patient sent one bulk message `chunk`: the envelope it put on
/// the channel (still there, not delivered).
fn one_chunk_on_the_channel() -> (Net, Vec<u8>) {
    let mut net = direct_call();
    let now = net.now;
    net.nodes[1]
        .session
        .send_bulk_app_data(pid(1), b"chunk", now)
        .unwrap();
    net.flush(1);
    let (_, frame) = net.nodes[1].direct.first().cloned().unwrap();
    (net, frame)
}

fn relayed(net: &Net, from: ParticipantId, to: ParticipantId, kind: u8) -> usize {
    frames(net, from, to, kind).len()
}

#[test]
fn bulk_data_and_its_acks_take_the_direct_path_and_the_relay_sees_none() {
    let mut net = direct_call();
    let (data_before, acks_before) = (
        relayed(&net, pid(2), pid(1), KIND_APP_DATA),
        relayed(&net, pid(1), pid(2), KIND_ACK),
    );
    let now = net.now;
    for n in 0..40u8 {
        net.nodes[1]
            .session
            .send_bulk_app_data(pid(1), &[n; 100], now)
            .unwrap();
    }
    net.flush(1);
    assert_eq!(net.nodes[1].direct.len(), 40);
    // The same envelope the relay would carry: version, kind, a sealed body.
    assert!(net.nodes[1].direct.iter().all(|(to, f)| *to == pid(1)
        && f.first() == Some(&teleconsult::crypto::VERSION)
        && f.get(1) == Some(&KIND_APP_DATA)
        && !f.windows(100).any(|w| w.iter().all(|b| *b == w[0]))));
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    net.run_for(20_000);
    let got = net.nodes[0].app_data(pid(2));
    assert_eq!(got, (0..40u8).map(|n| vec![n; 100]).collect::<Vec<_>>());
    // Acknowledged over the channel: nothing sent again, nothing of it on the relay.
    assert!(net.nodes[1].direct.is_empty(), "retransmitted");
    assert_eq!(relayed(&net, pid(2), pid(1), KIND_APP_DATA), data_before);
    assert_eq!(relayed(&net, pid(1), pid(2), KIND_ACK), acks_before);
    // Ordinary app data (chat, consent) stays on the relay.
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"chat", now)
        .unwrap();
    net.run_for(100);
    assert!(net.nodes[1].direct.is_empty());
    assert_eq!(
        relayed(&net, pid(2), pid(1), KIND_APP_DATA),
        data_before + 1
    );
}

#[test]
fn without_a_direct_path_bulk_data_goes_through_the_relay() {
    let mut net = two_party_call();
    let before = relayed(&net, pid(2), pid(1), KIND_APP_DATA);
    let now = net.now;
    net.nodes[1]
        .session
        .send_bulk_app_data(pid(1), b"chunk", now)
        .unwrap();
    net.run_for(100);
    assert!(net.nodes[1].direct.is_empty());
    assert_eq!(relayed(&net, pid(2), pid(1), KIND_APP_DATA), before + 1);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![b"chunk".to_vec()]);
}

#[test]
fn another_participants_frame_on_the_direct_path_is_refused() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    let g = net.add(3, Role::Guest);
    net.connect(c);
    net.run_for(50);
    net.connect(p);
    net.connect(g);
    net.run_for(1_000);
    net.admit_all();
    net.run_for(3_000);
    set_direct(&mut net, c, pid(2), true);
    // The guest's sealed frame to the clinician, injected on the patient's channel.
    let now = net.now;
    net.nodes[g]
        .session
        .send_app_data(pid(1), b"from the guest", now)
        .unwrap();
    net.flush(g);
    let frame = frames(&net, pid(3), pid(1), KIND_APP_DATA).pop().unwrap();
    let before = snapshot(&net.nodes[c].session);
    let misrouted = net.nodes[c].session.security_count(SecurityKind::Misrouted);
    assert_eq!(
        net.nodes[c]
            .session
            .handle_direct_frame(pid(2), &frame, now),
        Err(SessionError::SenderMismatch)
    );
    assert_eq!(snapshot(&net.nodes[c].session), before);
    assert_eq!(
        net.nodes[c].session.security_count(SecurityKind::Misrouted),
        misrouted + 1
    );
    net.flush(c);
    assert!(net.nodes[c].app_data(pid(2)).is_empty());
    assert!(net.nodes[c].app_data(pid(3)).is_empty());
}

#[test]
fn a_frame_replayed_on_the_direct_path_is_refused_and_applied_once() {
    let (mut net, frame) = one_chunk_on_the_channel();
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    let replays = net.nodes[0].session.security_count(SecurityKind::Replay);
    // Again on the channel, then through the relay: the one replay window refuses both.
    let now = net.now;
    assert_eq!(
        net.nodes[0]
            .session
            .handle_direct_frame(pid(2), &frame, now),
        Err(SessionError::Crypto(CryptoError::Replayed))
    );
    assert_eq!(
        net.inject_frame(0, pid(2), frame),
        Err(SessionError::Crypto(CryptoError::Replayed))
    );
    net.flush(0);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![b"chunk".to_vec()]);
    assert_eq!(
        net.nodes[0].session.security_count(SecurityKind::Replay),
        replays + 2
    );
}

#[test]
fn signaling_is_refused_on_the_direct_path() {
    let mut net = direct_call();
    let now = net.now;
    net.nodes[1]
        .session
        .set_video_paused(pid(1), true, now)
        .unwrap();
    net.flush(1);
    let frame = frames(&net, pid(2), pid(1), KIND_SIGNAL).pop().unwrap();
    assert_eq!(
        net.nodes[0]
            .session
            .handle_direct_frame(pid(2), &frame, now),
        Err(SessionError::ProtocolViolation)
    );
    net.flush(0);
    assert!(
        !net.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, teleconsult::signaling::Event::PeerVideoPaused { .. }))
    );
}

#[test]
fn switching_paths_mid_stream_loses_and_duplicates_nothing() {
    let mut net = direct_call();
    let send = |net: &mut Net, range: core::ops::Range<u8>| {
        let now = net.now;
        for n in range {
            net.nodes[1]
                .session
                .send_bulk_app_data(pid(1), &[n; 64], now)
                .unwrap();
        }
        net.flush(1);
    };
    send(&mut net, 0..30);
    // The channel delivers the first 10, then closes with the other 20 in it; 5 of those
    // still arrive late, after the relay has carried them again.
    let mut sent = 0;
    let mut late = Vec::new();
    let errors = carry_direct(
        &mut net,
        |f| {
            sent += 1;
            if sent > 10 && f.get(1) == Some(&KIND_APP_DATA) {
                if late.len() < 5 {
                    late.push(f.to_vec());
                }
                return false;
            }
            true
        },
        |_| {},
    );
    assert!(errors.is_empty());
    set_direct(&mut net, 0, pid(2), false);
    set_direct(&mut net, 1, pid(1), false);
    send(&mut net, 30..40);
    net.run_for(5_000);
    for f in late {
        // Authentic and never seen under this nonce, but already delivered: dropped.
        let now = net.now;
        assert_eq!(
            net.nodes[0].session.handle_direct_frame(pid(2), &f, now),
            Ok(())
        );
        net.flush(0);
    }
    // Back on the direct path for the rest.
    set_direct(&mut net, 0, pid(2), true);
    set_direct(&mut net, 1, pid(1), true);
    send(&mut net, 40..60);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    net.run_for(20_000);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    let got = net.nodes[0].app_data(pid(2));
    assert_eq!(got, (0..60u8).map(|n| vec![n; 64]).collect::<Vec<_>>());
    assert_eq!(
        net.nodes[0]
            .events
            .iter()
            .filter(|e| matches!(e, teleconsult::signaling::Event::AppDataUndelivered { .. }))
            .count(),
        0
    );
}

#[test]
fn a_tampered_frame_on_the_direct_path_is_refused_without_state_change() {
    let (mut net, frame) = one_chunk_on_the_channel();
    net.nodes[1].direct.clear();
    let now = net.now;
    let before = snapshot(&net.nodes[0].session);
    for bit in [8 * 40, 8 * (frame.len() - 1)] {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1;
        assert!(
            net.nodes[0]
                .session
                .handle_direct_frame(pid(2), &bad, now)
                .is_err()
        );
    }
    assert_eq!(snapshot(&net.nodes[0].session), before);
    net.flush(0);
    assert!(net.nodes[0].app_data(pid(2)).is_empty());
    // The authentic frame still opens: the forgeries spent nothing.
    assert_eq!(
        net.nodes[0]
            .session
            .handle_direct_frame(pid(2), &frame, now),
        Ok(())
    );
    net.flush(0);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![b"chunk".to_vec()]);
}

/// Acks of `from`'s messages that node `i` put on its direct path, taken off it.
fn direct_acks(net: &mut Net, i: usize) -> usize {
    let acks = net.nodes[i]
        .direct
        .iter()
        .filter(|(_, f)| f.get(1) == Some(&KIND_ACK))
        .count();
    net.nodes[i]
        .direct
        .retain(|(_, f)| f.get(1) != Some(&KIND_ACK));
    acks
}

#[test]
fn in_order_bulk_data_is_acknowledged_every_few_messages_and_a_gap_at_once() {
    use teleconsult::signaling::{DIRECT_ACK_DELAY_MS, DIRECT_ACK_EVERY};
    let mut net = direct_call();
    let now = net.now;
    let n = DIRECT_ACK_EVERY as usize * 2 + 3;
    for k in 0..n {
        net.nodes[1]
            .session
            .send_bulk_app_data(pid(1), &[k as u8; 64], now)
            .unwrap();
    }
    net.flush(1);
    let frames: Vec<Vec<u8>> = std::mem::take(&mut net.nodes[1].direct)
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    for f in &frames {
        net.nodes[0]
            .session
            .handle_direct_frame(pid(2), f, now)
            .unwrap();
    }
    net.flush(0);
    // One ack per DIRECT_ACK_EVERY messages; the last three wait...
    assert_eq!(direct_acks(&mut net, 0), 2);
    assert_eq!(net.nodes[0].app_data(pid(2)).len(), n);
    // ...at most DIRECT_ACK_DELAY_MS.
    net.run_for(DIRECT_ACK_DELAY_MS);
    assert_eq!(direct_acks(&mut net, 0), 1);
    // A duplicate (the sender missed an ack) is acknowledged at once.
    net.nodes[0]
        .session
        .handle_direct_frame(pid(2), &frames[0], now)
        .unwrap_err();
    let now = net.now;
    net.nodes[1]
        .session
        .send_bulk_app_data(pid(1), b"after a gap", now)
        .unwrap();
    net.nodes[1]
        .session
        .send_bulk_app_data(pid(1), b"next", now)
        .unwrap();
    net.flush(1);
    let (_, first) = net.nodes[1].direct.remove(0);
    let (_, second) = net.nodes[1].direct.remove(0);
    // Out of order (the first lost for now): acknowledged at once, so the sender learns of
    // the gap no later than before.
    net.nodes[0]
        .session
        .handle_direct_frame(pid(2), &second, now)
        .unwrap();
    net.flush(0);
    assert_eq!(direct_acks(&mut net, 0), 1);
    net.nodes[0]
        .session
        .handle_direct_frame(pid(2), &first, now)
        .unwrap();
    net.flush(0);
    assert_eq!(net.nodes[0].app_data(pid(2)).len(), n + 2);
}
