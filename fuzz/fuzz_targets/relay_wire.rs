#![no_main]
//! Arbitrary bytes into both relay-framing decoders: no panic, and whatever decodes
//! re-encodes to the same bytes.
use libfuzzer_sys::fuzz_target;
use teleconsult::signaling::relay_wire::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ClientMessage::decode(data) {
        assert_eq!(m.encode(), data);
    }
    if let Ok(m) = ServerMessage::decode(data) {
        assert_eq!(m.encode(), data);
    }
});
