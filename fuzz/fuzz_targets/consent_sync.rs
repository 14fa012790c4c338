#![no_main]
//! Arbitrary app-data bytes into the consent sync decoder: no panic, and whatever decodes
//! re-encodes to the same bytes.
use libfuzzer_sys::fuzz_target;
use teleconsult::consent::SyncMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = SyncMessage::decode(data) {
        assert!(SyncMessage::is_consent(data));
        assert_eq!(m.encode(), data);
    }
});
