#![no_main]
//! Arbitrary relay messages into a joined session with one known peer: never a panic,
//! and nothing transmitted is ever unsealed.
use libfuzzer_sys::fuzz_target;
use teleconsult::crypto::{RoomId, RoomSecret};
use teleconsult::signaling::relay_wire::{ClientMessage, ParticipantId, Role, ServerMessage};
use teleconsult::signaling::{Config, Output, Redacted, Session, Timeouts};

fn drain(s: &mut Session) {
    while let Some(o) = s.poll_output() {
        if let Output::Transmit(bytes) = o {
            let m = ClientMessage::decode(&bytes).expect("valid relay framing");
            if let ClientMessage::Send { payload, .. } = m {
                assert!(payload.len() >= 66 && payload[0] == 1, "unsealed payload");
            }
        }
    }
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
    });
    let mut now = 1_000u64;
    let _ = s.handle_relay_connected(now);
    let welcome = ServerMessage::Welcome {
        role: Role::Clinician,
        present: vec![(ParticipantId([2; 8]), Role::Patient)],
    };
    let _ = s.handle_relay_message(&welcome.encode(), now);
    drain(&mut s);
    // Chunks: u8 selector, u16 length, bytes.
    let mut rest = data;
    while rest.len() >= 3 {
        let sel = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let chunk = &rest[3..3 + len];
        rest = &rest[3 + len..];
        match sel % 4 {
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
            _ => {
                let _ = s.send_app_data(ParticipantId([2; 8]), chunk, now);
            }
        }
        drain(&mut s);
    }
});
