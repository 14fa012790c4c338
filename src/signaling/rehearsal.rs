//! A whole consultation rehearsed in memory: a clinician and a patient session joined through a
//! loopback stand-in for the relay — hello handshake, admission, offer and answer, trickled
//! candidates, acknowledgements, connection, SAS, application data and hang-up.
//!
//! Why: browsers compile WebAssembly lazily, each function on its first call (V8 with
//! Liftoff). Without a rehearsal, the patient's first `join` pays for compiling the whole
//! signaling and crypto path while the clock runs — measured at about 10 ms of a 130 ms call
//! set-up on the benchmark machine. The browser driver rehearses once in idle time after the
//! module loads, so that compilation happens while the app shows its pre-call screen. It is
//! also a power-on self-test of that path in the engine that will run it: it reports whether
//! both sides connected and derived the same SAS.
//!
//! Nothing leaves memory: no socket, no peer connection, no clock (times are simulated).

use super::relay_wire::{ClientMessage, ParticipantId, Role, ServerMessage};
use super::{
    Candidate, Config, Event, IceState, MediaRequest, Output, Redacted, SdpKind, Session, Timeouts,
};
use crate::crypto::{Authority, RoleSigningKey, RoomId, RoomSecret, Sas};

/// Steps after which a rehearsal that has not finished counts as failed (a finished one
/// takes a few dozen).
const MAX_STEPS: usize = 500;

/// An SDP shaped like a browser's (its fingerprint line is what the SAS binds to).
fn description(fingerprint: u8, kind: &str) -> String {
    let mut sdp = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    sdp.push_str("a=group:BUNDLE 0 1\r\na=fingerprint:sha-256 ");
    for i in 0..32u8 {
        if i > 0 {
            sdp.push(':');
        }
        for nibble in [
            fingerprint.wrapping_add(i) >> 4,
            fingerprint.wrapping_add(i) & 15,
        ] {
            sdp.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    sdp.push_str("\r\na=setup:");
    sdp.push_str(if kind == "offer" { "actpass" } else { "active" });
    sdp.push_str("\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendrecv\r\n");
    sdp.push_str("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendrecv\r\n");
    sdp
}

fn host_candidate() -> Candidate {
    Candidate {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    }
}

/// One side of the rehearsal.
struct Side {
    session: Session,
    id: ParticipantId,
    role: Role,
    fingerprint: u8,
    /// Local and remote description applied, per the (single) peer.
    described: (bool, bool),
    connected: bool,
    sas: Option<Sas>,
}

impl Side {
    fn new(
        role: Role,
        id: u8,
        secret: [u8; 32],
        entropy: [u8; 32],
        roles: &[RoleSigningKey; 2],
    ) -> Self {
        let id = ParticipantId([id; 8]);
        let signing = match role {
            Role::Clinician => Some(roles[0].clone()),
            Role::Patient => Some(roles[1].clone()),
            Role::Guest => None,
        };
        Self {
            session: Session::new(Config {
                room: RoomId([0x52; 16]),
                secret: RoomSecret::from_bytes(secret),
                id,
                role,
                display_name: Redacted::new(String::from("rehearsal")),
                token: zeroize::Zeroizing::new(Vec::new()),
                entropy,
                capabilities: 0,
                timeouts: Timeouts::default(),
                authority: Authority {
                    clinician: roles[0].public(),
                    patient: roles[1].public(),
                    signing,
                },
                certificate: (
                    String::from("sha-256"),
                    (0..32u8).map(|i| id.0[0].wrapping_add(i)).collect(),
                ),
            }),
            id,
            role,
            fingerprint: id.0[0],
            described: (false, false),
            connected: false,
            sas: None,
        }
    }
}

/// Runs the rehearsal with fresh `entropy` (both sides' keys and the room secret are drawn
/// from it) at simulated time `now`: `Ok` when both sides connected and showed the same SAS,
/// and the patient received the clinician's application data; otherwise the step that went
/// wrong (a test failing in one engine then says where).
pub fn rehearse(entropy: [u8; 32], now: u64) -> Result<(), &'static str> {
    let secret = seed(entropy, 1);
    run(secret, secret, entropy, now)
}

/// How much the bulk warm-up seals: enough calls of the AES block function for V8 to
/// optimise it (its budget is about 1.8 MB of executed code, ~640 calls of that function).
const WARM_AES_BYTES: usize = 64 * 1024;
/// Key agreements in the bulk warm-up: enough for V8 to optimise X25519's ladder.
const WARM_X25519_ROUNDS: usize = 8;

/// Runs the call's two bulk primitives, AES-256-GCM and X25519, long enough for the engine to
/// optimise them now rather than during the call.
///
/// Why: a rehearsal calls each function a few times, which compiles it (Liftoff) but leaves
/// the two hottest ones to be optimised (TurboFan) during the first call's set-up, on a
/// background thread that then competes for the CPU with the page and WebRTC (5–9 ms and
/// 3–7 ms on the benchmark machine, `--js-flags=--trace-wasm-compilation-times`). Keys are
/// drawn from `entropy` and every output is discarded: nothing here is ever used again.
/// Returns a byte of the output so that the work cannot be optimised away.
pub fn warm_bulk_crypto(entropy: [u8; 32]) -> u8 {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use aes_gcm::{Aes256Gcm, Nonce};
    let cipher = Aes256Gcm::new(&seed(entropy, 6).into());
    let mut buffer = vec![0u8; WARM_AES_BYTES];
    // One key, one nonce, one message: the key is random and thrown away with the output.
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&[0; 12]), &[], &mut buffer)
        .map(|t| t[0])
        .unwrap_or(0);
    let mut public = x25519_dalek::PublicKey::from(seed(entropy, 7));
    for round in 0..WARM_X25519_ROUNDS {
        let secret = x25519_dalek::StaticSecret::from(seed(entropy, 8 + round as u8));
        public = x25519_dalek::PublicKey::from(secret.diffie_hellman(&public).to_bytes());
    }
    tag ^ buffer.last().copied().unwrap_or(0) ^ public.as_bytes()[0]
}

/// `entropy` with its first byte varied by `label`: distinct keys for each use.
fn seed(entropy: [u8; 32], label: u8) -> [u8; 32] {
    let mut s = entropy;
    s[0] ^= label;
    s
}

/// The rehearsal with each side's room secret given (they differ only in tests).
fn run(
    clinician_secret: [u8; 32],
    patient_secret: [u8; 32],
    entropy: [u8; 32],
    now: u64,
) -> Result<(), &'static str> {
    let roles = [
        RoleSigningKey::from_seed(&seed(entropy, 4)),
        RoleSigningKey::from_seed(&seed(entropy, 5)),
    ];
    let mut sides = [
        Side::new(
            Role::Clinician,
            0x11,
            clinician_secret,
            seed(entropy, 2),
            &roles,
        ),
        Side::new(
            Role::Patient,
            0x22,
            patient_secret,
            seed(entropy, 3),
            &roles,
        ),
    ];
    // Messages in flight to side 0 or 1, in order. Only this module pushes to it, always
    // with index 0 or 1, so indexing `sides` and `joined` by it (and by `1 - from`) is in bounds.
    let mut wire: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut joined = [false, false];
    let mut app_data_received = false;
    let mut data_sent = false;
    // Both join; the loopback relay handles the clinician's join first, as in a real call.
    for (i, side) in sides.iter_mut().enumerate() {
        if side.session.handle_relay_connected(now).is_err() {
            return Err("a side could not start joining");
        }
        drain(i, side, &mut wire, now);
    }
    for _ in 0..MAX_STEPS {
        // The loopback relay: answer joins, route sends.
        let mut delivered = Vec::new();
        for (from, bytes) in wire.drain(..) {
            match ClientMessage::decode(&bytes) {
                Ok(ClientMessage::Join { .. }) => {
                    let other = 1 - from;
                    let present = if joined[other] {
                        vec![(sides[other].id, sides[other].role)]
                    } else {
                        Vec::new()
                    };
                    joined[from] = true;
                    let welcome = ServerMessage::Welcome {
                        role: sides[from].role,
                        present,
                    };
                    delivered.push((from, welcome.encode()));
                    if joined[other] {
                        let announce = ServerMessage::Joined {
                            id: sides[from].id,
                            role: sides[from].role,
                        };
                        delivered.push((other, announce.encode()));
                    }
                }
                Ok(ClientMessage::Send { payload, .. }) => {
                    let to = 1 - from;
                    let deliver = ServerMessage::Deliver {
                        from: sides[from].id,
                        payload,
                    };
                    delivered.push((to, deliver.encode()));
                }
                Ok(ClientMessage::Ping { nonce }) => {
                    delivered.push((from, ServerMessage::Pong { nonce }.encode()));
                }
                Err(_) => return Err("a side sent a message the relay cannot read"),
            }
        }
        if delivered.is_empty() {
            return Err("stalled: nothing in flight and no call");
        }
        for (to, bytes) in delivered {
            if sides[to].session.handle_relay_message(&bytes, now).is_err() {
                return Err("a side refused a relay message");
            }
            let events = drain(to, &mut sides[to], &mut wire, now);
            for event in events {
                match event {
                    Event::AdmissionRequested { peer, .. } => {
                        if sides[to].session.admit(peer, now).is_err() {
                            return Err("the clinician could not admit the patient");
                        }
                        drain(to, &mut sides[to], &mut wire, now);
                    }
                    Event::SasReady { sas, .. } => sides[to].sas = Some(sas),
                    Event::AppData { .. } => app_data_received = true,
                    _ => {}
                }
            }
        }
        let up = sides.iter().all(|s| s.connected && s.sas.is_some());
        if up && !data_sent {
            data_sent = true;
            let patient = sides[1].id;
            if sides[0]
                .session
                .send_app_data(patient, b"rehearsal", now)
                .is_err()
            {
                return Err("the clinician could not send app data");
            }
            drain(0, &mut sides[0], &mut wire, now);
        }
        if app_data_received {
            let same_sas = sides[0].sas == sides[1].sas;
            for (i, side) in sides.iter_mut().enumerate() {
                let _ = side.session.hang_up(now);
                drain(i, side, &mut wire, now);
            }
            return if same_sas {
                Ok(())
            } else {
                Err("the two sides show different SAS")
            };
        }
    }
    Err("no call within the step budget")
}

/// Carries out `side`'s outputs: transmissions go on the wire, media requests are answered
/// as a browser would (a description, one host candidate, then "connected"); returns the
/// events for the caller to react to.
fn drain(index: usize, side: &mut Side, wire: &mut Vec<(usize, Vec<u8>)>, now: u64) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(output) = side.session.poll_output() {
        match output {
            Output::Transmit(bytes) => wire.push((index, bytes)),
            // No direct path here (and so no offloaded crypto either).
            Output::Timeout(_)
            | Output::Direct { .. }
            | Output::OffloadKey { .. }
            | Output::DirectSeal { .. }
            | Output::DirectOpen { .. } => {}
            Output::Event(Event::PeerConnected { .. }) => side.connected = true,
            Output::Event(event) => events.push(event),
            Output::Media { peer, request } => match request {
                MediaRequest::CreateOffer { .. } | MediaRequest::CreateAnswer => {
                    let kind = if matches!(request, MediaRequest::CreateAnswer) {
                        SdpKind::Answer
                    } else {
                        SdpKind::Offer
                    };
                    let label = if kind == SdpKind::Offer {
                        "offer"
                    } else {
                        "answer"
                    };
                    let sdp = description(side.fingerprint, label);
                    let _ = side.session.handle_local_description(peer, kind, &sdp, now);
                    let _ = side
                        .session
                        .handle_local_candidate(peer, host_candidate(), now);
                    side.described.0 = true;
                }
                MediaRequest::SetRemoteDescription { .. } => side.described.1 = true,
                MediaRequest::AddIceCandidate(_)
                | MediaRequest::Rollback
                | MediaRequest::Prepare
                | MediaRequest::ClosePeer => {}
            },
        }
        if side.described == (true, true) && !side.connected {
            // Both descriptions are applied: ICE "connects".
            side.described = (false, false);
            let _ = side
                .session
                .handle_ice_state(peer_of(side), IceState::Connected, now);
        }
    }
    events
}

/// The other side's id (a rehearsal has exactly two participants).
fn peer_of(side: &Side) -> ParticipantId {
    if side.role == Role::Clinician {
        ParticipantId([0x22; 8])
    } else {
        ParticipantId([0x11; 8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rehearsal_connects_with_the_same_sas_on_both_sides() {
        assert_eq!(rehearse([7; 32], 1_700_000_000_000), Ok(()));
    }

    #[test]
    fn a_rehearsal_between_different_rooms_fails() {
        // The patient's hello cannot be opened with another room's keys: no call, `false`.
        assert!(run([1; 32], [2; 32], [7; 32], 1_700_000_000_000).is_err());
    }

    #[test]
    fn the_bulk_warm_up_is_computed_from_its_entropy() {
        // Its result depends on the sealed bytes and the key agreements, so neither can be
        // skipped; the same entropy gives the same work, other entropy other keys.
        assert_eq!(warm_bulk_crypto([7; 32]), warm_bulk_crypto([7; 32]));
        let results: std::collections::BTreeSet<u8> =
            (0..16u8).map(|b| warm_bulk_crypto([b; 32])).collect();
        assert!(results.len() > 4, "{results:?}");
    }

    #[test]
    fn rehearsals_with_other_entropy_connect_too() {
        for b in [0u8, 1, 0x80, 0xff] {
            assert_eq!(
                rehearse([b; 32], 1_700_000_000_000),
                Ok(()),
                "entropy byte {b}"
            );
        }
    }
}
