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
//! | [`Authority`], [`RoleSigningKey`] | role proofs: the per-visit clinician and patient keys |
//! | [`Drbg`] | expands caller-supplied entropy into the random bytes the protocol needs |

mod authority;
mod envelope;
mod handshake;
mod keys;
#[cfg(feature = "test-hooks")]
pub mod nonce_audit;
mod resume;
mod rng;
mod sas;

use core::fmt;

pub use authority::{Authority, RoleSigningKey};
pub use envelope::{
    HEADER_LEN, Header, MAX_FRAME_LEN, MAX_SEQ, Opener, REPLAY_WINDOW, ReplayWindow, Reservation,
    Sealer, TAG_LEN, VERSION,
};
pub use handshake::{Ephemeral, PairSecrets, PeerPublic, derive_pair, transcript_hash};
pub use keys::{DirectionKey, ROOM_ID_LEN, ROOM_SECRET_LEN, RoomId, RoomKeys, RoomSecret};
pub use resume::{ResumeDirection, resume_proof};
pub use rng::Drbg;
pub use sas::{EMOJI, Sas, SasInput, encode_fingerprints, sas_binding, sas_commitment};

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

impl CryptoError {
    /// The `Display` text, as a `&'static str` so that [`crate::Error`]'s message can be
    /// written without the formatting machinery.
    pub(crate) const fn message(&self) -> &'static str {
        match self {
            Self::AuthenticationFailed => "frame failed authentication",
            Self::Malformed => "frame is too short or too long",
            Self::UnsupportedVersion => "unsupported protocol version",
            Self::UnknownKey => "frame is for an unknown or retired key",
            Self::Replayed => "frame was already received",
            Self::TooOld => "frame is behind the replay window",
            Self::NonceExhausted => "sequence counter exhausted; re-key required",
            Self::InvalidPublicKey => "peer public key is invalid",
            Self::TooLarge => "payload too large for one frame",
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
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

    /// Intermediate values of the docs/PROTOCOL.md vectors (room 00..0f, secret 42*32).
    #[test]
    fn key_schedule_intermediate_vectors() {
        let room: [u8; 16] = core::array::from_fn(|i| i as u8);
        let keys = RoomKeys::derive(&RoomId(room), &RoomSecret::from_bytes([0x42; 32]));
        let hk = keys.hello_key(
            &[0x0a; 8],
            &[0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7],
        );
        let (sa, ea) = (
            Ephemeral::from_random([0x11; 32]),
            Ephemeral::from_random([0x12; 32]),
        );
        let (sb, eb) = (
            Ephemeral::from_random([0x21; 32]),
            Ephemeral::from_random([0x22; 32]),
        );
        let th = transcript_hash(&room, (&[0x0a; 8], b"core-a"), (&[0x0b; 8], b"core-b"));
        let peer = PeerPublic {
            id: &[0x0b; 8],
            static_public: &sb.public(),
            ephemeral_public: &eb.public(),
        };
        let pa = derive_pair(&room, &keys, &sa, &ea, &[0x0a; 8], peer, &th).unwrap();
        let got = [
            ("psk", hex(keys.psk())),
            ("hello_key", hex(&hk.key)),
            ("hello_iv", hex(&hk.iv)),
            ("S_a", hex(&sa.public())),
            ("E_a", hex(&ea.public())),
            ("S_b", hex(&sb.public())),
            ("E_b", hex(&eb.public())),
            ("k_lh", hex(&pa.send.key)),
            ("iv_lh", hex(&pa.send.iv)),
            ("k_hl", hex(&pa.recv.key)),
            ("iv_hl", hex(&pa.recv.iv)),
            ("sas_prk", hex(&pa.sas_prk)),
        ];
        for (name, value) in &got {
            let want = INTERMEDIATE
                .iter()
                .find(|v| v.0 == *name)
                .map(|v| v.1)
                .unwrap_or("");
            if want.is_empty() {
                println!("(\"{name}\", \"{value}\"),");
            } else {
                assert_eq!(value, want, "{name}");
            }
        }
    }

    const INTERMEDIATE: &[(&str, &str)] = &[
        (
            "psk",
            "13b8b8bcdb1c4ccc75a476a7b0a0290031267839f360166a342aeda4a687cd0d",
        ),
        (
            "hello_key",
            "7abd4ca6a9394bcf5dc165d2e83af767033603e6719e13a130ac6fefc886cea0",
        ),
        ("hello_iv", "3e9743ac12f52bfdcc7d1f4a"),
        (
            "S_a",
            "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13",
        ),
        (
            "E_a",
            "052a50773ac8d91773f2dc9662e12f0defe915e415b8a1c8e20a5a3d6ab2b843",
        ),
        (
            "S_b",
            "7d34a4815fa6b982535e60af3bd9b49556816080f1641ff81d2b7c8ae8268a44",
        ),
        (
            "E_b",
            "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20",
        ),
        (
            "k_lh",
            "4fdbdbc45d7d5bbccf04db0d14b9ad63eb5b6dcc925a87d9ec2f1c43575c8d29",
        ),
        ("iv_lh", "5e4413ba6d6b65c944c3afc8"),
        (
            "k_hl",
            "2f10dfc64158103e5b684bd3d2269a0eeda005fb51420f4e29dc29ebe1cf254e",
        ),
        ("iv_hl", "d66062f75073e1856a5141a4"),
        (
            "sas_prk",
            "1765e38387e9d37827a8ba54608884cb25dc1a28b0543204e6a337da1568a1c5",
        ),
    ];

    #[test]
    fn crypto_errors_name_no_secrets() {
        assert_eq!(
            CryptoError::AuthenticationFailed.to_string(),
            "frame failed authentication"
        );
    }
}
