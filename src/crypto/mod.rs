//! Cryptography for the sealed signaling channel: the AES-256-GCM envelope, the HKDF-SHA256
//! key schedule, the X25519 handshake and the short authentication string.
//!
//! Everything here is deterministic: randomness enters as bytes (see [`Drbg`]), so every
//! derivation has a known-answer test and docs/PROTOCOL.md lists the vectors. Secret-holding
//! types wipe themselves on drop and print nothing secret through `Debug`.
//!
//! | item | job |
//! | --- | --- |
//! | [`RoomSecret`], [`RoomKeys`] | the invite secret and what is derived from it |
//! | [`Sealer`], [`Opener`], [`Header`] | the envelope: seal, parse, open, replay window |
//! | [`Ephemeral`], [`derive_pair`], [`transcript_hash`] | the X25519 handshake |
//! | [`Sas`] | the short authentication string, bound to both DTLS fingerprints |
//! | [`Drbg`] | expands caller-supplied entropy into the random bytes the protocol needs |

mod envelope;
mod handshake;
mod keys;
mod rng;
mod sas;

use core::fmt;

pub use envelope::{
    HEADER_LEN, Header, MAX_FRAME_LEN, MAX_SEQ, Opener, REPLAY_WINDOW, ReplayWindow, Sealer,
    TAG_LEN, VERSION,
};
pub use handshake::{Ephemeral, PairSecrets, PeerPublic, derive_pair, transcript_hash};
pub use keys::{DirectionKey, ROOM_ID_LEN, ROOM_SECRET_LEN, RoomId, RoomKeys, RoomSecret};
pub use rng::Drbg;
pub use sas::{EMOJI, Sas, encode_fingerprints};

/// Why a cryptographic operation failed. Messages never contain key material or payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoError {
    /// The frame did not authenticate: wrong key, tampered header or ciphertext, truncated
    /// tag. Deliberately one opaque variant, so that no failure mode leaks which check failed.
    AuthenticationFailed,
    /// The frame is shorter than a header plus a tag, or longer than [`MAX_FRAME_LEN`].
    Malformed,
    /// The header carries a protocol version this implementation does not speak.
    UnsupportedVersion,
    /// The header names a key id that is not the opener's (an old session, another pair).
    UnknownKey,
    /// The sequence number was already accepted (a duplicate or replay).
    Replayed,
    /// The sequence number lies behind the replay window.
    TooOld,
    /// The sender's sequence counter reached [`MAX_SEQ`]; the pair must re-key. Sealing
    /// stops here so that a nonce can never repeat.
    NonceExhausted,
    /// The peer's X25519 public key is a low-order point (the shared secret would be zero).
    InvalidPublicKey,
    /// The plaintext would make a frame longer than [`MAX_FRAME_LEN`].
    TooLarge,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AuthenticationFailed => "frame failed authentication",
            Self::Malformed => "frame is too short or too long",
            Self::UnsupportedVersion => "unsupported protocol version",
            Self::UnknownKey => "frame is for an unknown or retired key",
            Self::Replayed => "frame was already received",
            Self::TooOld => "frame is behind the replay window",
            Self::NonceExhausted => "sequence counter exhausted; re-key required",
            Self::InvalidPublicKey => "peer public key is invalid",
            Self::TooLarge => "payload too large for one frame",
        })
    }
}

impl std::error::Error for CryptoError {}

/// Constant-time equality of two byte strings (length is not secret).
///
/// Used wherever a secret-derived value is compared (SAS confirmation tags), so that the
/// comparison time does not reveal how many leading bytes matched.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Fills `out` with HKDF-SHA256-Expand(`prk`, `info`). `out` is at most 8160 bytes, which
/// every caller in this module guarantees with constant lengths.
pub(crate) fn expand(prk: &[u8; 32], info: &[&[u8]], out: &mut [u8]) {
    let hk = hkdf::Hkdf::<sha2::Sha256>::from_prk(prk)
        .expect("invariant: a 32-byte PRK is always long enough for SHA-256");
    hk.expand_multi_info(info, out)
        .expect("invariant: every caller asks for at most 255 * 32 bytes");
}

/// HKDF-SHA256-Extract(`salt`, `ikm`).
pub(crate) fn extract(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
    let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(salt), ikm);
    prk.into()
}

#[cfg(test)]
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn crypto_errors_name_no_secrets() {
        assert_eq!(
            CryptoError::AuthenticationFailed.to_string(),
            "frame failed authentication"
        );
    }
}
