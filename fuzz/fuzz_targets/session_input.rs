#![no_main]
//! Arbitrary relay messages into a joined session with one known peer — raw bytes, sealed
//! payloads, and relay-injected control messages (fake joins, leaves, stale welcomes), frames
//! on the direct path, and (bulk crypto offload) the driver's reports of decryptions, asked
//! for or not — never a panic, and nothing transmitted is ever unsealed.
use libfuzzer_sys::fuzz_target;
use teleconsult::crypto::{Authority, RoleSigningKey, RoomId, RoomSecret, VERSION};
use teleconsult::signaling::relay_wire::{
    ClientMessage, LeftReason, ParticipantId, Role, ServerMessage,
};
use teleconsult::signaling::{Config, Output, Redacted, Session, Timeouts};

/// Checks every output; returns the last decryption asked for, `(peer, key id, seq)`.
fn drain(s: &mut Session) -> Option<(ParticipantId, [u8; 8], u64)> {
    let mut open = None;
    while let Some(o) = s.poll_output() {
        match o {
            Output::Transmit(bytes) => {
                let m = ClientMessage::decode(&bytes).expect("valid relay framing");
                if let ClientMessage::Send { payload, .. } = m {
                    assert!(payload.len() >= 66 && payload[0] == VERSION, "unsealed payload");
                }
            }
            Output::DirectOpen { peer, key_id, seq, .. } => open = Some((peer, key_id, seq)),
            _ => {}
        }
    }
    open
}

fuzz_target!(|data: &[u8]| {
    let mut s = Session::new(Config {
        room: RoomId([5; 16]),
        secret: RoomSecret::from_bytes([6; 32]),
        id: ParticipantId([1; 8]),
        role: Role::Clinician,
        display_name: Redacted::new("c".into()),
        token: zeroize::Zeroizing::new(b"t".to_vec()),
        entropy: [7; 32],
        capabilities: 0,
        timeouts: Timeouts::default(),
        authority: Authority {
            clinician: RoleSigningKey::from_seed(&[8; 32]).public(),
            patient: RoleSigningKey::from_seed(&[9; 32]).public(),
            signing: Some(RoleSigningKey::from_seed(&[8; 32])),
        },
        certificate: ("sha-256".into(), vec![0xab; 32]),
    });
    let mut now = 1_000u64;
    let _ = s.handle_relay_connected(now);
    let welcome = ServerMessage::Welcome {
        role: Role::Clinician,
        present: vec![(ParticipantId([2; 8]), Role::Patient)],
    };
    let _ = s.handle_relay_message(&welcome.encode(), now);
    drain(&mut s);
    let mut last_open = None;
    // Chunks: u8 selector, u16 length, bytes.
    let mut rest = data;
    while rest.len() >= 3 {
        let sel = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let chunk = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let role = |b: u8| [Role::Clinician, Role::Patient, Role::Guest][usize::from(b % 3)];
        let id = |b: u8| ParticipantId([b % 4; 8]);
        match sel % 11 {
            0 => {
                let _ = s.handle_relay_message(chunk, now);
            }
            1 => {
                let m = ServerMessage::Deliver {
                    from: ParticipantId([2; 8]),
                    payload: chunk.to_vec(),
                };
                let _ = s.handle_relay_message(&m.encode(), now);
            }
            2 => {
                now = now.saturating_add(u64::from(sel) * 500);
                s.handle_timeout(now);
            }
            3 => {
                let _ = s.send_app_data(ParticipantId([2; 8]), chunk, now);
            }
            4 => {
                let b = chunk.first().copied().unwrap_or(2);
                let m = ServerMessage::Joined {
                    id: id(b),
                    role: role(b >> 2),
                };
                let _ = s.handle_relay_message(&m.encode(), now);
            }
            5 => {
                let b = chunk.first().copied().unwrap_or(2);
                let reason = [LeftReason::Closed, LeftReason::Lost, LeftReason::Removed]
                    [usize::from((b >> 2) % 3)];
                let m = ServerMessage::Left { id: id(b), reason };
                let _ = s.handle_relay_message(&m.encode(), now);
            }
            7 => {
                // A frame on the direct (peer-to-peer) path, from a peer or not.
                let b = chunk.first().copied().unwrap_or(2);
                let _ = s.handle_direct_frame(id(b), chunk, now);
            }
            8 => {
                // The driver reports the direct path up or down, then bulk data follows.
                let b = chunk.first().copied().unwrap_or(2);
                s.set_direct(id(b), b & 0x80 != 0, now);
                let _ = s.send_bulk_app_data(id(b), chunk, now);
            }
            9 => {
                // Offload switched on or off, then a report of a decryption: of one asked
                // for (the last `DirectOpen`), or of anything.
                let b = chunk.first().copied().unwrap_or(2);
                s.offload_bulk_crypto(b & 1 != 0);
                let asked = last_open.take().filter(|_| b & 2 != 0);
                let (peer, key_id, seq) = asked.unwrap_or((id(b >> 2), [b; 8], u64::from(b)));
                let _ = if b & 4 != 0 {
                    s.handle_direct_opened(peer, key_id, seq, chunk, now)
                } else {
                    s.handle_direct_open_failed(peer, key_id, seq, now)
                };
            }
            10 => {
                // A bulk message big enough to be offloaded on a direct path.
                let b = chunk.first().copied().unwrap_or(2);
                s.offload_bulk_crypto(true);
                s.set_direct(id(b), true, now);
                let _ = s.send_bulk_app_data(id(b), &[b; teleconsult::signaling::OFFLOAD_MIN_LEN], now);
            }
            _ => {
                let b = chunk.first().copied().unwrap_or(2);
                let m = ServerMessage::Welcome {
                    role: role(b),
                    present: vec![(id(b >> 2), role(b >> 4))],
                };
                let _ = s.handle_relay_message(&m.encode(), now);
            }
        }
        if let Some(open) = drain(&mut s) {
            last_open = Some(open);
        }
    }
});
