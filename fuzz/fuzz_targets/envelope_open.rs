#![no_main]
//! Arbitrary bytes into the envelope: header parsing and opening never panic and never
//! succeed without the key; anything sealed opens to the same bytes exactly once. The checks
//! for a frame decrypted elsewhere (bulk crypto offload) change nothing, and a frame accepted
//! that way is accepted once.
use libfuzzer_sys::fuzz_target;
use teleconsult::crypto::{DirectionKey, Header, Opener, Sealer};

fuzz_target!(|data: &[u8]| {
    let key = DirectionKey::from_bytes([0x11; 32], [0x22; 12]);
    let _ = Header::parse(data);
    let mut opener = Opener::new(&key, [9; 8]);
    let before = opener.window();
    let _ = opener.precheck(data);
    assert_eq!(opener.window(), before, "precheck changed the window");
    assert!(opener.open(data).is_err(), "forged frame opened");

    let mut sealer = Sealer::new(&key, [9; 8]);
    if let Ok(frame) = sealer.seal(0x02, &[1; 16], &[2; 8], &[3; 8], data) {
        let (h, plain) = opener.open(&frame).expect("own frame opens");
        assert_eq!(plain, data);
        assert_eq!(h.seq, 0);
        assert!(opener.open(&frame).is_err(), "replay accepted");
        assert!(opener.precheck(&frame).is_err(), "replay passed the precheck");
        assert!(opener.accept_authenticated(h.seq).is_err(), "replay accepted after a check elsewhere");
    }
    // A reserved frame: the next sequence number, accepted once after its check.
    if let Ok(r) = sealer.reserve(0x03, &[1; 16], &[2; 8], &[3; 8], data.len()) {
        let mut frame = r.header.to_vec();
        frame.extend_from_slice(data);
        frame.extend_from_slice(&[0; 16]);
        if let Ok((h, _)) = opener.precheck(&frame) {
            assert_eq!(h.seq, 1);
            assert!(opener.accept_authenticated(h.seq).is_ok());
            assert!(opener.accept_authenticated(h.seq).is_err(), "accepted twice");
        }
    }
});
