//! Bulk crypto done by the driver (src/signaling/session/offload.rs): on a direct path,
//! app-data frames of at least `OFFLOAD_MIN_LEN` bytes are encrypted and decrypted by the
//! driver's AES-GCM (WebCrypto in a browser; the same crate here) while the session keeps
//! the counter, the checks and the replay window. The frames are the ones the session seals
//! itself, a forged or tampered frame delivers nothing, a frame decrypted twice or a report
//! nobody asked for is refused, and no nonce is ever used twice.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::{CryptoError, HEADER_LEN};
use teleconsult::signaling::relay_wire::ParticipantId;
use teleconsult::signaling::{Event, OFFLOAD_MIN_LEN, Output, SecurityKind, SessionError};

/// A call of clinician (1) and patient (2), direct path up both ways, each side offloading
/// as `offload` says (clinician, patient).
fn direct_call(offload: (bool, bool)) -> Net {
    let mut net = two_party_call();
    let now = net.now;
    for (i, peer, on) in [(0, pid(2), offload.0), (1, pid(1), offload.1)] {
        net.nodes[i].session.offload_bulk_crypto(on);
        net.nodes[i].session.set_direct(peer, true, now);
        net.flush(i);
    }
    net
}

/// A bulk message body big enough to be offloaded, distinct per `n`.
fn chunk(n: u8) -> Vec<u8> {
    vec![n; OFFLOAD_MIN_LEN + 100]
}

fn send_bulk(net: &mut Net, i: usize, to: ParticipantId, data: &[u8]) {
    let now = net.now;
    net.nodes[i]
        .session
        .send_bulk_app_data(to, data, now)
        .unwrap();
    net.flush(i);
}

fn security(net: &Net, i: usize, kind: SecurityKind) -> usize {
    net.nodes[i].count(|e| matches!(e, Event::Security(s) if s.kind == kind))
}

#[test]
fn offloaded_bulk_data_arrives_once_and_in_order() {
    let mut net = direct_call((true, true));
    for n in 0..20 {
        send_bulk(&mut net, 1, pid(1), &chunk(n));
    }
    // The patient's driver sealed them (one key handed over, for sealing, before them).
    assert_eq!(net.nodes[1].direct.len(), 20);
    assert_eq!(net.nodes[1].offload_keys.len(), 1);
    assert!(net.nodes[1].offload_keys[0].2);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    // The clinician's driver opened them: one key, for opening.
    assert_eq!(net.nodes[0].offload_keys.len(), 1);
    assert!(!net.nodes[0].offload_keys[0].2);
    net.run_for(20_000);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        (0..20).map(chunk).collect::<Vec<_>>()
    );
    // Acknowledged: nothing is sent again.
    net.run_for(20_000);
    assert!(net.nodes[1].direct.is_empty(), "retransmitted");
}

#[test]
fn an_offloaded_frame_is_the_frame_the_session_seals_itself() {
    // Only the patient offloads: the clinician opens its frames with its own AES-GCM, and
    // the clinician's frames (sealed in the session) are opened by the patient's driver.
    let mut net = direct_call((false, true));
    send_bulk(&mut net, 1, pid(1), &chunk(1));
    send_bulk(&mut net, 0, pid(2), &chunk(2));
    assert!(net.nodes[0].offload_keys.is_empty());
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    net.run_for(1_000);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![chunk(1)]);
    assert_eq!(net.nodes[1].app_data(pid(1)), vec![chunk(2)]);
    assert!(net.nodes[0].offload_keys.is_empty());
    assert_eq!(net.nodes[1].offload_keys.len(), 2);
}

#[test]
fn small_messages_and_acks_are_never_offloaded() {
    let mut net = direct_call((true, true));
    send_bulk(&mut net, 1, pid(1), &[7; OFFLOAD_MIN_LEN - 9]);
    assert!(net.nodes[1].offload_keys.is_empty());
    assert_eq!(net.nodes[1].direct.len(), 1);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    assert!(net.nodes[0].offload_keys.is_empty() && net.nodes[1].offload_keys.is_empty());
    assert_eq!(net.nodes[0].app_data(pid(2)).len(), 1);
}

#[test]
fn a_tampered_offloaded_frame_delivers_nothing_and_is_sent_again() {
    let mut net = direct_call((true, true));
    send_bulk(&mut net, 1, pid(1), &chunk(5));
    let errors = carry_direct(&mut net, |_| true, |f| f[HEADER_LEN + 10] ^= 1);
    assert_eq!(
        errors,
        vec![SessionError::Crypto(CryptoError::AuthenticationFailed)]
    );
    assert_eq!(security(&net, 0, SecurityKind::AuthenticationFailed), 1);
    assert!(net.nodes[0].app_data(pid(2)).is_empty());
    // Not acknowledged: the sender seals it again (a fresh nonce), and that one arrives.
    net.run_for(2_000);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![chunk(5)]);
}

#[test]
fn a_frame_decrypted_twice_is_delivered_once() {
    let mut net = direct_call((true, true));
    send_bulk(&mut net, 1, pid(1), &chunk(9));
    let (_, frame) = net.nodes[1].direct.pop().unwrap();
    let now = net.now;
    // The channel (or an attacker on it) delivers the frame twice before either is opened.
    for _ in 0..2 {
        net.nodes[0]
            .session
            .handle_direct_frame(pid(2), &frame, now)
            .unwrap();
    }
    net.flush(0);
    let opens = std::mem::take(&mut net.nodes[0].opens);
    assert_eq!(opens.len(), 2);
    let mut verdicts = opens.into_iter().map(|o| report_open(&mut net, 0, o));
    assert_eq!(verdicts.next(), Some(Ok(())));
    assert_eq!(
        verdicts.next(),
        Some(Err(SessionError::Crypto(CryptoError::Replayed)))
    );
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![chunk(9)]);
    assert_eq!(security(&net, 0, SecurityKind::Replay), 1);
    // Once accepted, the frame is refused before any decryption is asked for.
    assert_eq!(
        net.nodes[0]
            .session
            .handle_direct_frame(pid(2), &frame, now),
        Err(SessionError::Crypto(CryptoError::Replayed))
    );
    net.flush(0);
    assert!(net.nodes[0].opens.is_empty());
}

#[test]
fn a_report_nobody_asked_for_is_refused_and_changes_nothing() {
    let mut net = direct_call((true, true));
    send_bulk(&mut net, 1, pid(1), &chunk(3));
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    let delivered = net.nodes[0].app_data(pid(2));
    let key_id = net.nodes[0].offload_keys[0].1;
    let before = snapshot(&net.nodes[0].session);
    let now = net.now;
    // The frame just delivered, sequence numbers never seen, another key id: none is an
    // outstanding decryption, so none is delivered, whatever plaintext comes with it.
    for (k, seq) in [(key_id, 0), (key_id, 1), (key_id, 1_000), ([0xAA; 8], 0)] {
        assert_eq!(
            net.nodes[0]
                .session
                .handle_direct_opened(pid(2), k, seq, &chunk(66), now),
            Err(SessionError::InvalidState)
        );
        assert_eq!(
            net.nodes[0]
                .session
                .handle_direct_open_failed(pid(2), k, seq, now),
            Err(SessionError::InvalidState)
        );
    }
    assert_eq!(non_security_outputs(&mut net, 0), Vec::<Output>::new());
    assert_eq!(snapshot(&net.nodes[0].session), before);
    assert_eq!(net.nodes[0].app_data(pid(2)), delivered);
}

#[test]
fn offloaded_and_local_seals_share_one_counter_and_never_reuse_a_nonce() {
    let _ = teleconsult::crypto::nonce_audit::take();
    let mut net = direct_call((true, true));
    for n in 0..30u8 {
        // Big ones offloaded, small ones sealed here, and acks in between, both ways.
        let body = if n % 3 == 0 { vec![n; 10] } else { chunk(n) };
        send_bulk(&mut net, 1, pid(1), &body);
        send_bulk(&mut net, 0, pid(2), &body);
        if n % 7 == 0 {
            assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
        }
    }
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    net.run_for(5_000);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    assert_eq!(net.nodes[0].app_data(pid(2)).len(), 30);
    assert_eq!(net.nodes[1].app_data(pid(1)).len(), 30);
    let uses = teleconsult::crypto::nonce_audit::take();
    let mut unique = uses.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        uses.len(),
        "a (key, nonce) pair was used twice"
    );
    // Each side's driver got each of its two keys once.
    assert_eq!(
        (
            net.nodes[0].offload_keys.len(),
            net.nodes[1].offload_keys.len()
        ),
        (2, 2)
    );
}

#[test]
fn a_report_under_keys_that_changed_meanwhile_is_dropped_and_the_message_sent_again() {
    let mut net = direct_call((true, true));
    send_bulk(&mut net, 1, pid(1), &chunk(4));
    let (_, frame) = net.nodes[1].direct.pop().unwrap();
    let now = net.now;
    net.nodes[0]
        .session
        .handle_direct_frame(pid(2), &frame, now)
        .unwrap();
    net.flush(0);
    let open = net.nodes[0].opens.pop().unwrap();
    // The patient's connection to the relay drops and comes back: a new epoch, new keys.
    net.disconnect(1);
    net.run_for(1_000);
    net.connect(1);
    net.run_for(5_000);
    assert_eq!(
        report_open(&mut net, 0, open),
        Err(SessionError::Crypto(CryptoError::UnknownKey))
    );
    assert!(net.nodes[0].app_data(pid(2)).is_empty());
    // The message goes again under the new keys (through the relay, or the direct path once
    // the driver reports it again) and arrives once.
    let now = net.now;
    for (i, peer) in [(0, pid(2)), (1, pid(1))] {
        net.nodes[i].session.set_direct(peer, true, now);
        net.flush(i);
    }
    net.run_for(5_000);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    net.run_for(5_000);
    assert!(carry_direct(&mut net, |_| true, |_| {}).is_empty());
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![chunk(4)]);
}
