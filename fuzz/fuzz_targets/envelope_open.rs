#![no_main]
//! Arbitrary bytes into the envelope: header parsing and opening never panic and never
//! succeed without the key; anything sealed opens to the same bytes exactly once.
use libfuzzer_sys::fuzz_target;
use teleconsult::crypto::{DirectionKey, Header, Opener, Sealer};

fuzz_target!(|data: &[u8]| {
    let key = DirectionKey::from_bytes([0x11; 32], [0x22; 12]);
    let _ = Header::parse(data);
    let mut opener = Opener::new(&key, [9; 8]);
    assert!(opener.open(data).is_err(), "forged frame opened");

    let mut sealer = Sealer::new(&key, [9; 8]);
    if let Ok(frame) = sealer.seal(0x02, &[1; 16], &[2; 8], &[3; 8], data) {
        let (h, plain) = opener.open(&frame).expect("own frame opens");
        assert_eq!(plain, data);
        assert_eq!(h.seq, 0);
        assert!(opener.open(&frame).is_err(), "replay accepted");
    }
});
