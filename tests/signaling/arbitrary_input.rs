//! Property test: arbitrary bytes and arbitrary event sequences never make a session
//! panic, and nothing it transmits ever carries an unsealed payload.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use proptest::prelude::*;
use teleconsult::signaling::relay_wire::{ClientMessage, ParticipantId, Role, ServerMessage};
use teleconsult::signaling::{Candidate, IceState, Output, SdpKind, Session};

const MARKER: &[u8] = b"PLAINTEXT-MARKER";

#[derive(Clone, Debug)]
enum Op {
    Raw(Vec<u8>),
    Deliver(u8, Vec<u8>),
    Mutate(usize, usize, u8),
    Advance(u32),
    LocalDesc(u8, bool),
    LocalCandidate(u8),
    Ice(u8, u8),
    Admit(u8),
    Deny(u8),
    ConfirmSas(u8),
    AppData(u8),
    Renegotiate(u8),
    RestartIce(u8),
    HangUp,
    Disconnect,
    Connect,
    Joined(u8, u8),
    Left(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let peer = 1u8..5;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..120).prop_map(Op::Raw),
        (peer.clone(), proptest::collection::vec(any::<u8>(), 0..150))
            .prop_map(|(p, b)| Op::Deliver(p, b)),
        (any::<usize>(), any::<usize>(), any::<u8>()).prop_map(|(a, b, c)| Op::Mutate(a, b, c)),
        (0u32..70_000).prop_map(Op::Advance),
        (peer.clone(), any::<bool>()).prop_map(|(p, o)| Op::LocalDesc(p, o)),
        peer.clone().prop_map(Op::LocalCandidate),
        (peer.clone(), 0u8..7).prop_map(|(p, s)| Op::Ice(p, s)),
        peer.clone().prop_map(Op::Admit),
        peer.clone().prop_map(Op::Deny),
        peer.clone().prop_map(Op::ConfirmSas),
        peer.clone().prop_map(Op::AppData),
        peer.clone().prop_map(Op::Renegotiate),
        peer.clone().prop_map(Op::RestartIce),
        Just(Op::HangUp),
        Just(Op::Disconnect),
        Just(Op::Connect),
        (peer.clone(), 1u8..4).prop_map(|(p, r)| Op::Joined(p, r)),
        (peer, 0u8..3).prop_map(|(p, r)| Op::Left(p, r)),
    ]
}

/// Every transmitted message is relay framing whose payload is a sealed envelope that
/// does not contain any plaintext we put into the session.
fn check_outputs(s: &mut Session) -> Result<(), TestCaseError> {
    while let Some(o) = s.poll_output() {
        if let Output::Transmit(bytes) = o {
            let m = ClientMessage::decode(&bytes);
            prop_assert!(m.is_ok(), "transmit is not valid relay framing");
            if let Ok(ClientMessage::Send { payload, .. }) = m {
                prop_assert!(payload.len() >= 66, "payload shorter than an envelope");
                prop_assert_eq!(payload[0], teleconsult::crypto::VERSION);
                prop_assert!(
                    !payload.windows(MARKER.len()).any(|w| w == MARKER),
                    "plaintext leaked"
                );
                prop_assert!(!payload.windows(4).any(|w| w == b"v=0\r"), "SDP leaked");
            }
        }
    }
    Ok(())
}

fn sdp(offer: bool) -> String {
    format!(
        "v=0\r\na=fingerprint:sha-256 AA:BB\r\na=x:{}\r\n",
        String::from_utf8_lossy(MARKER)
    ) + if offer { "" } else { "a=answer\r\n" }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_inputs_never_panic_or_leak(ops in proptest::collection::vec(op(), 1..60)) {
        // Start from a real call so that mutated frames reach deep states.
        let mut net = two_party_call();
        let frames: Vec<Vec<u8>> = net.relay.log.iter().map(|(_, _, p)| p.clone()).collect();
        let s = &mut net.nodes[0].session;
        let mut now = net.now;
        check_outputs(s)?;
        for op in ops {
            let peer = |n: u8| ParticipantId([n; 8]);
            match op {
                Op::Raw(b) => { let _ = s.handle_relay_message(&b, now); }
                Op::Deliver(p, b) => {
                    let m = ServerMessage::Deliver { from: peer(p), payload: b };
                    let _ = s.handle_relay_message(&m.encode(), now);
                }
                Op::Mutate(i, pos, x) => {
                    if !frames.is_empty() {
                        let mut f = frames[i % frames.len()].clone();
                        let k = pos % f.len();
                        f[k] ^= x;
                        let m = ServerMessage::Deliver { from: peer(2), payload: f };
                        let _ = s.handle_relay_message(&m.encode(), now);
                    }
                }
                Op::Advance(ms) => { now += u64::from(ms); s.handle_timeout(now); }
                Op::LocalDesc(p, o) => {
                    let kind = if o { SdpKind::Offer } else { SdpKind::Answer };
                    let _ = s.handle_local_description(peer(p), kind, &sdp(o), now);
                }
                Op::LocalCandidate(p) => {
                    let c = Candidate { candidate: String::from_utf8_lossy(MARKER).into(), sdp_mid: None, sdp_mline_index: Some(0) };
                    let _ = s.handle_local_candidate(peer(p), c, now);
                }
                Op::Ice(p, st) => {
                    let state = [IceState::New, IceState::Checking, IceState::Connected, IceState::Completed, IceState::Disconnected, IceState::Failed, IceState::Closed][usize::from(st)];
                    let _ = s.handle_ice_state(peer(p), state, now);
                }
                Op::Admit(p) => { let _ = s.admit(peer(p), now); }
                Op::Deny(p) => { let _ = s.deny(peer(p), now); }
                Op::ConfirmSas(p) => { let _ = s.confirm_sas(peer(p), now); }
                Op::AppData(p) => { let _ = s.send_app_data(peer(p), MARKER, now); }
                Op::Renegotiate(p) => { let _ = s.request_renegotiation(peer(p), now); }
                Op::RestartIce(p) => { let _ = s.restart_ice(peer(p), now); }
                Op::HangUp => { let _ = s.hang_up(now); }
                Op::Disconnect => s.handle_relay_disconnected(now),
                Op::Connect => { let _ = s.handle_relay_connected(now); }
                Op::Joined(p, r) => {
                    let m = ServerMessage::Joined { id: peer(p), role: Role::from_byte(r).unwrap() };
                    let _ = s.handle_relay_message(&m.encode(), now);
                }
                Op::Left(p, r) => {
                    let reason = [teleconsult::signaling::relay_wire::LeftReason::Closed, teleconsult::signaling::relay_wire::LeftReason::Lost, teleconsult::signaling::relay_wire::LeftReason::Removed][usize::from(r)];
                    let m = ServerMessage::Left { id: peer(p), reason };
                    let _ = s.handle_relay_message(&m.encode(), now);
                }
            }
            check_outputs(s)?;
        }
    }
}
