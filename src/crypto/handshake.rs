//! The X25519 handshake and the pairwise key schedule (docs/PROTOCOL.md, "Handshake").
//!
//! Every participant holds a *static* key pair for the lifetime of its session (its
//! identity in this call; the SAS authenticates it) and an *ephemeral* key pair per
//! handshake epoch (replaced on every reconnection: forward secrecy).
//!
//! ```text
//! TH       = SHA-256("tc1 transcript" || room_id
//!                    || id_lo || u16(len core_lo) || core_lo
//!                    || id_hi || u16(len core_hi) || core_hi)
//! IH       = SHA-256("tc1 identity" || room_id || id_lo || S_lo || id_hi || S_hi)
//! dh_ee    = X25519(e_mine, E_theirs)       dh_ss = X25519(s_mine, S_theirs)
//!            (either all-zero: rejected)
//! PRK_pair = HKDF-Extract(salt = psk, IKM = dh_ee || dh_ss)
//! k_lh     = HKDF-Expand(PRK_pair, "tc1 key lh" || TH, 32)   lower id -> higher id
//! iv_lh    = HKDF-Expand(PRK_pair, "tc1 iv lh"  || TH, 12)
//! k_hl     = HKDF-Expand(PRK_pair, "tc1 key hl" || TH, 32)   higher id -> lower id
//! iv_hl    = HKDF-Expand(PRK_pair, "tc1 iv hl"  || TH, 12)
//! sid      = HKDF-Expand(PRK_pair, "tc1 sid"    || TH, 8)    the pair's key id
//! PRK_id   = HKDF-Extract(salt = psk, IKM = dh_ss)
//! sas_prk  = HKDF-Expand(PRK_id, "tc1 sas" || IH, 32)        stable across resumptions
//! ```

use core::fmt;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, DirectionKey, RoomKeys};

/// An X25519 key pair: a participant's static (per session) or ephemeral (per epoch) key.
/// Wiped on drop.
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

    /// The public key, sent in the hello.
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
    /// The pair's identity hash `IH` (public: both ids and static keys).
    pub identity: [u8; 32],
}

impl fmt::Debug for PairSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairSecrets")
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

/// One side of a pair, as [`derive_pair`] needs it.
#[derive(Clone, Copy, Debug)]
pub struct PeerPublic<'a> {
    /// The participant id.
    pub id: &'a [u8; 8],
    /// The static public key.
    pub static_public: &'a [u8; 32],
    /// The ephemeral public key of the current epoch.
    pub ephemeral_public: &'a [u8; 32],
}

/// Derives the pair's directional keys and SAS key from my static and ephemeral keys, the
/// peer's public keys and the transcript hash. Fails on a low-order public key.
pub fn derive_pair(
    room_id: &[u8; 16],
    room: &RoomKeys,
    my_static: &Ephemeral,
    my_ephemeral: &Ephemeral,
    my_id: &[u8; 8],
    peer: PeerPublic<'_>,
    transcript: &[u8; 32],
) -> Result<PairSecrets, CryptoError> {
    let ee = my_ephemeral
        .secret
        .diffie_hellman(&PublicKey::from(*peer.ephemeral_public));
    let ss = my_static
        .secret
        .diffie_hellman(&PublicKey::from(*peer.static_public));
    if !ee.was_contributory() || !ss.was_contributory() {
        return Err(CryptoError::InvalidPublicKey);
    }
    let mut ikm = [0u8; 64];
    ikm[..32].copy_from_slice(ee.as_bytes());
    ikm[32..].copy_from_slice(ss.as_bytes());
    let mut prk = super::extract(room.psk(), &ikm);
    ikm.zeroize();
    let mut k_lh = [0u8; 32];
    let mut iv_lh = [0u8; 12];
    let mut k_hl = [0u8; 32];
    let mut iv_hl = [0u8; 12];
    let mut session_id = [0u8; 8];
    super::expand(&prk, &[b"tc1 key lh", transcript], &mut k_lh);
    super::expand(&prk, &[b"tc1 iv lh", transcript], &mut iv_lh);
    super::expand(&prk, &[b"tc1 key hl", transcript], &mut k_hl);
    super::expand(&prk, &[b"tc1 iv hl", transcript], &mut iv_hl);
    super::expand(&prk, &[b"tc1 sid", transcript], &mut session_id);
    prk.zeroize();

    let my_static_public = my_static.public();
    let ((id_lo, s_lo), (id_hi, s_hi)) = if my_id < peer.id {
        ((my_id, &my_static_public), (peer.id, peer.static_public))
    } else {
        ((peer.id, peer.static_public), (my_id, &my_static_public))
    };
    let mut h = Sha256::new();
    h.update(b"tc1 identity");
    h.update(room_id);
    h.update(id_lo);
    h.update(s_lo);
    h.update(id_hi);
    h.update(s_hi);
    let identity: [u8; 32] = h.finalize().into();
    let mut prk_id = super::extract(room.psk(), ss.as_bytes());
    let mut sas_prk = [0u8; 32];
    super::expand(&prk_id, &[b"tc1 sas", &identity], &mut sas_prk);
    prk_id.zeroize();

    let lh = DirectionKey {
        key: k_lh,
        iv: iv_lh,
    };
    let hl = DirectionKey {
        key: k_hl,
        iv: iv_hl,
    };
    k_lh.zeroize();
    k_hl.zeroize();
    let (send, recv) = if my_id < peer.id { (lh, hl) } else { (hl, lh) };
    Ok(PairSecrets {
        send,
        recv,
        session_id,
        sas_prk,
        transcript: *transcript,
        identity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{RoomId, RoomSecret, hex};

    fn setup(secret: u8) -> (RoomKeys, [Ephemeral; 4]) {
        let room = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([secret; 32]));
        (room, [3, 4, 5, 6].map(|b| Ephemeral::from_random([b; 32])))
    }

    fn derive(room: &RoomKeys, k: &[Ephemeral; 4], a_side: bool, th: &[u8; 32]) -> PairSecrets {
        let (ia, ib) = ([0xa; 8], [0xb; 8]);
        let (sa, ea, sb, eb) = (&k[0], &k[1], &k[2], &k[3]);
        if a_side {
            let p = PeerPublic {
                id: &ib,
                static_public: &sb.public(),
                ephemeral_public: &eb.public(),
            };
            derive_pair(&[1; 16], room, sa, ea, &ia, p, th).unwrap()
        } else {
            let p = PeerPublic {
                id: &ia,
                static_public: &sa.public(),
                ephemeral_public: &ea.public(),
            };
            derive_pair(&[1; 16], room, sb, eb, &ib, p, th).unwrap()
        }
    }

    #[test]
    fn both_sides_derive_mirrored_keys() {
        let (room, k) = setup(2);
        let th = transcript_hash(&[1; 16], (&[0xa; 8], b"core a"), (&[0xb; 8], b"core b"));
        assert_eq!(
            th,
            transcript_hash(&[1; 16], (&[0xb; 8], b"core b"), (&[0xa; 8], b"core a"))
        );
        let pa = derive(&room, &k, true, &th);
        let pb = derive(&room, &k, false, &th);
        assert_eq!(hex(&pa.send.key), hex(&pb.recv.key));
        assert_eq!(hex(&pa.recv.iv), hex(&pb.send.iv));
        assert_ne!(hex(&pa.send.key), hex(&pa.recv.key));
        assert_eq!(pa.session_id, pb.session_id);
        assert_eq!(pa.sas_prk, pb.sas_prk);
    }

    #[test]
    fn another_room_secret_gives_other_keys() {
        let (r1, k1) = setup(2);
        let (r2, k2) = setup(9);
        let th = [0; 32];
        assert_ne!(
            derive(&r1, &k1, true, &th).session_id,
            derive(&r2, &k2, true, &th).session_id
        );
    }

    #[test]
    fn the_sas_key_survives_a_new_transcript_but_session_keys_do_not() {
        let (room, k) = setup(2);
        let p1 = derive(&room, &k, true, &[1; 32]);
        let p2 = derive(&room, &k, true, &[2; 32]);
        assert_eq!(p1.sas_prk, p2.sas_prk);
        assert_ne!(p1.session_id, p2.session_id);
    }

    #[test]
    fn low_order_public_keys_are_rejected() {
        let (room, k) = setup(2);
        let zero = [0u8; 32];
        let good = k[3].public();
        for (s, e) in [(&zero, &good), (&good, &zero)] {
            let p = PeerPublic {
                id: &[2; 8],
                static_public: s,
                ephemeral_public: e,
            };
            let r = derive_pair(&[1; 16], &room, &k[0], &k[1], &[1; 8], p, &[0; 32]);
            assert_eq!(r.err(), Some(CryptoError::InvalidPublicKey));
        }
    }
}
