//! Benchmark hooks for `bench/envelope-wasm` (not part of the public API).
//!
//! The envelope benchmark compares sealing and opening a frame with the crate's own
//! AES-256-GCM envelope, compiled to wasm, against WebCrypto in the same page. Timing the
//! loop here, inside wasm, measures the envelope itself and not the JS↔wasm boundary (the
//! SDK seals and opens frames without crossing it). The export is `#[doc(hidden)]` and has
//! no TypeScript declaration; it costs a few hundred bytes of the bundle.

use wasm_bindgen::prelude::*;

use super::JsError;
use crate::crypto::{CryptoError, DirectionKey, Opener, Sealer};

/// Plaintext size of one benchmark frame: 1 KiB, a typical SDP-or-candidate-sized payload.
const FRAME_PLAINTEXT_LEN: usize = 1024;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: sub-millisecond, monotonic (browsers and Node.js alike).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Seals and opens `iterations` 1 KiB frames with fixed keys through the real
/// [`Sealer`] / [`Opener`] (header, AAD, nonce derivation, replay window included) and
/// returns the elapsed milliseconds. Throws if a frame fails to open, which would mean the
/// benchmark measured something broken.
#[doc(hidden)]
#[wasm_bindgen(js_name = benchEnvelope, skip_typescript)]
pub fn bench_envelope(iterations: u32) -> Result<f64, JsError> {
    let key = DirectionKey::from_bytes([0x11; 32], [0x22; 12]);
    let key_id = [0x09; 8];
    let mut sealer = Sealer::new(&key, key_id);
    let mut opener = Opener::new(&key, key_id);
    let (room, sender, recipient) = ([0x01; 16], [0x02; 8], [0x03; 8]);
    let mut plaintext = [0u8; FRAME_PLAINTEXT_LEN];
    for (i, b) in plaintext.iter_mut().enumerate() {
        // Truncation intended: a repeating byte pattern.
        *b = i as u8;
    }
    // Folded over every opened frame so the work cannot be optimised away.
    let mut check = 0u8;
    let start = performance_now();
    for _ in 0..iterations {
        let frame = sealer
            .seal(2, &room, &sender, &recipient, &plaintext)
            .map_err(crate::Error::from)?;
        let (header, opened) = opener.open(&frame).map_err(crate::Error::from)?;
        check ^= opened.last().copied().unwrap_or(0) ^ header.kind;
    }
    let elapsed = performance_now() - start;
    // 255 ^ 2 per frame: an even count of frames folds to 0, an odd count to 253.
    let expected = if iterations % 2 == 0 { 0 } else { 0xff ^ 2 };
    if check != expected {
        return Err(crate::Error::Crypto(CryptoError::AuthenticationFailed).into());
    }
    Ok(elapsed)
}
