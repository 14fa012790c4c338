//! Join-token verification on arbitrary bytes: never panics, and only a correctly MACed
//! token is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use teleconsult_relay::token;

const SECRET: &[u8] = b"fuzz-secret-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let _ = token::verify(SECRET, data, 1_000, 3_600);
    // A token minted from fuzzed claims verifies, or is refused for a claim reason.
    if let Ok(s) = std::str::from_utf8(data) {
        let claims = token::Claims {
            room: s.chars().take(40).collect(),
            role: "guest".into(),
            sub: s.into(),
            exp: 2_000,
            jti: "j".into(),
            reusable: false,
        };
        let t = token::mint(SECRET, &claims);
        match token::verify(SECRET, t.as_bytes(), 1_000, 3_600) {
            Ok(v) => assert_eq!(v.room, claims.room),
            Err(c) => assert!(c.code == 4001 || c.code == 4003),
        }
        assert!(token::verify(b"another-secret-0123456789", t.as_bytes(), 1_000, 3_600).is_err());
    }
});
