//! The X25519 handshake and the pairwise key schedule (docs/PROTOCOL.md, "Handshake").
//!
//! ```text
//! TH       = SHA-256("tc1 transcript" || room_id
//!                    || id_lo || u16(len core_lo) || core_lo
//!                    || id_hi || u16(len core_hi) || core_hi)
//! dh       = X25519(my_secret, their_public)          (rejected if all-zero)
//! PRK_pair = HKDF-Extract(salt = psk, IKM = dh)
//! k_lh     = HKDF-Expand(PRK_pair, "tc1 key lh" || TH, 32)   lower id -> higher id
//! iv_lh    = HKDF-Expand(PRK_pair, "tc1 iv lh"  || TH, 12)
//! k_hl     = HKDF-Expand(PRK_pair, "tc1 key hl" || TH, 32)   higher id -> lower id
//! iv_hl    = HKDF-Expand(PRK_pair, "tc1 iv hl"  || TH, 12)
//! sid      = HKDF-Expand(PRK_pair, "tc1 sid"    || TH, 8)    the pair's key id
//! sas_prk  = HKDF-Expand(PRK_pair, "tc1 sas"    || TH, 32)
//! ```

use core::fmt;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, DirectionKey, RoomKeys};

/// A participant's X25519 key for one handshake epoch. Wiped on drop; replaced on every
/// reconnection, which is what gives forward secrecy.
pub struct Ephemeral {
    secret: StaticSecret,
    public: [u8; 32],
}

impl Ephemeral {
    /// Builds the key from 32 random bytes (clamped as X25519 requires).
    pub fn from_random(mut bytes: [u8; 32]) -> Self {
        let secret = StaticSecret::from(bytes);
        bytes.zeroize();
        let public = PublicKey::from(&secret).to_bytes();
        Self { secret, public }
    }

    /// The public key sent in the hello.
    pub fn public(&self) -> [u8; 32] {
        self.public
    }
}

impl fmt::Debug for Ephemeral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ephemeral(<redacted>)")
    }
}

/// The transcript hash of a pair: binds the room and both hellos' transcript cores, in
/// participant-id order so that both sides compute the same value.
pub fn transcript_hash(room: &[u8; 16], a: (&[u8; 8], &[u8]), b: (&[u8; 8], &[u8])) -> [u8; 32] {
    let (lo, hi) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    let mut h = Sha256::new();
    h.update(b"tc1 transcript");
    h.update(room);
    for (id, core) in [lo, hi] {
        h.update(id);
        // Transcript cores are bounded far below 64 KiB by the hello format.
        h.update((core.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
        h.update(core);
    }
    h.finalize().into()
}

/// Everything a pair of participants derives from one handshake.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PairSecrets {
    /// The key for frames this participant sends to the peer.
    pub send: DirectionKey,
    /// The key for frames the peer sends to this participant.
    pub recv: DirectionKey,
    /// The pair session's key id (public; stamped in every header).
    pub session_id: [u8; 8],
    /// The PRK from which the SAS and its confirmation tags are derived.
    pub sas_prk: [u8; 32],
    /// The transcript hash the keys are bound to.
    pub transcript: [u8; 32],
}

impl fmt::Debug for PairSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairSecrets").field("session_id", &self.session_id).finish_non_exhaustive()
    }
}

/// Derives the pair's directional keys from my ephemeral key, the peer's public key and
/// the transcript hash. Fails on a low-order public key.
pub fn derive_pair(
    room: &RoomKeys,
    mine: &Ephemeral,
    my_id: &[u8; 8],
    their_public: &[u8; 32],
    their_id: &[u8; 8],
    transcript: &[u8; 32],
) -> Result<PairSecrets, CryptoError> {
    let shared = mine.secret.diffie_hellman(&PublicKey::from(*their_public));
    if !shared.was_contributory() {
        return Err(CryptoError::InvalidPublicKey);
    }
    let prk = super::extract(room.psk(), shared.as_bytes());
    let mut k_lh = [0u8; 32];
    let mut iv_lh = [0u8; 12];
    let mut k_hl = [0u8; 32];
    let mut iv_hl = [0u8; 12];
    let mut session_id = [0u8; 8];
    let mut sas_prk = [0u8; 32];
    super::expand(&prk, &[b"tc1 key lh", transcript], &mut k_lh);
    super::expand(&prk, &[b"tc1 iv lh", transcript], &mut iv_lh);
    super::expand(&prk, &[b"tc1 key hl", transcript], &mut k_hl);
    super::expand(&prk, &[b"tc1 iv hl", transcript], &mut iv_hl);
    super::expand(&prk, &[b"tc1 sid", transcript], &mut session_id);
    super::expand(&prk, &[b"tc1 sas", transcript], &mut sas_prk);
    let mut prk = prk;
    prk.zeroize();
    let lh = DirectionKey { key: k_lh, iv: iv_lh };
    let hl = DirectionKey { key: k_hl, iv: iv_hl };
    k_lh.zeroize();
    k_hl.zeroize();
    let (send, recv) = if my_id < their_id { (lh, hl) } else { (hl, lh) };
    Ok(PairSecrets { send, recv, session_id, sas_prk, transcript: *transcript })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{RoomId, RoomSecret, hex};

    #[test]
    fn both_sides_derive_mirrored_keys() {
        let room = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([2; 32]));
        let a = Ephemeral::from_random([3; 32]);
        let b = Ephemeral::from_random([4; 32]);
        let (ia, ib) = ([0xa; 8], [0xb; 8]);
        let th = transcript_hash(&[1; 16], (&ia, b"core a"), (&ib, b"core b"));
        assert_eq!(th, transcript_hash(&[1; 16], (&ib, b"core b"), (&ia, b"core a")));
        let pa = derive_pair(&room, &a, &ia, &b.public(), &ib, &th).unwrap();
        let pb = derive_pair(&room, &b, &ib, &a.public(), &ia, &th).unwrap();
        assert_eq!(hex(&pa.send.key), hex(&pb.recv.key));
        assert_eq!(hex(&pa.recv.iv), hex(&pb.send.iv));
        assert_ne!(hex(&pa.send.key), hex(&pa.recv.key));
        assert_eq!(pa.session_id, pb.session_id);
        assert_eq!(pa.sas_prk, pb.sas_prk);
    }

    #[test]
    fn another_room_secret_gives_other_keys() {
        let r1 = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([2; 32]));
        let r2 = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([9; 32]));
        let a = Ephemeral::from_random([3; 32]);
        let b = Ephemeral::from_random([4; 32]);
        let th = [0; 32];
        let p1 = derive_pair(&r1, &a, &[1; 8], &b.public(), &[2; 8], &th).unwrap();
        let p2 = derive_pair(&r2, &a, &[1; 8], &b.public(), &[2; 8], &th).unwrap();
        assert_ne!(p1.session_id, p2.session_id);
    }

    #[test]
    fn low_order_public_keys_are_rejected() {
        let room = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([2; 32]));
        let a = Ephemeral::from_random([3; 32]);
        let r = derive_pair(&room, &a, &[1; 8], &[0; 32], &[2; 8], &[0; 32]);
        assert_eq!(r.err(), Some(CryptoError::InvalidPublicKey));
    }
}
