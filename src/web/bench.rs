//! Benchmark hooks for `bench/envelope-wasm` (not part of the public API).
//!
//! The envelope benchmark compares sealing and opening a frame with the crate's own
//! AES-256-GCM envelope, compiled to wasm, against WebCrypto in the same page. Timing the
//! loop here, inside wasm, measures the envelope itself and not the JS↔wasm boundary (the
//! SDK seals and opens frames without crossing it). The export is `#[doc(hidden)]` and has
//! no TypeScript declaration; it costs about 0.6 KB of the gzipped bundle (docs/BENCHMARKS.md).

use wasm_bindgen::prelude::*;

use crate::crypto::{DirectionKey, Opener, Sealer};

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
/// returns the elapsed milliseconds, or NaN if a frame failed to seal or open (the benchmark
/// would have measured something broken). NaN rather than a thrown error keeps the JS glue,
/// and so the shipped bundle, smaller.
#[doc(hidden)]
#[wasm_bindgen(js_name = benchEnvelope, skip_typescript)]
pub fn bench_envelope(iterations: u32) -> f64 {
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
        let Ok(frame) = sealer.seal(2, &room, &sender, &recipient, &plaintext) else {
            return f64::NAN;
        };
        let Ok((header, opened)) = opener.open(&frame) else {
            return f64::NAN;
        };
        check ^= opened.last().copied().unwrap_or(0) ^ header.kind;
    }
    let elapsed = performance_now() - start;
    // 255 ^ 2 per frame: an even count of frames folds to 0, an odd count to 253.
    let expected = if iterations % 2 == 0 { 0 } else { 0xff ^ 2 };
    if check != expected {
        return f64::NAN;
    }
    elapsed
}
