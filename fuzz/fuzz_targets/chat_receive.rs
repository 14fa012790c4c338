#![no_main]
//! Arbitrary app-data frames from arbitrary peers into a chat conversation, and arbitrary
//! bytes into the stored-chat decoder: no panic, whatever decodes re-encodes to the same
//! bytes, and nothing accepted is ever lost (the held messages only grow).
use libfuzzer_sys::fuzz_target;
use teleconsult::chat::{Conversation, Frame, Peer, store};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};

fuzz_target!(|data: &[u8]| {
    if let Ok(messages) = store::decode(data) {
        assert_eq!(store::encode(&messages), data);
    }
    let mut c = Conversation::new(ParticipantId([1; 8]), Role::Clinician);
    // Frames separated by a one-byte header: the sender (0..4), its role and whether it is
    // in the call, then a one-byte length.
    let mut rest = data;
    while let [head, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let from = Peer {
            id: ParticipantId([head & 3; 8]),
            role: Role::from_byte(1 + (head >> 2) % 3).unwrap_or(Role::Guest),
            in_call: head & 0x20 == 0,
        };
        if let Ok(f) = Frame::decode(frame) {
            assert_eq!(f.encode(), frame);
        }
        let before = c.messages().to_vec();
        let _ = c.receive(from, frame);
        if head & 0x40 != 0 {
            let _ = c.send("x", u64::from(*head));
        }
        assert!(before.iter().all(|m| c.messages().contains(m)));
    }
});
