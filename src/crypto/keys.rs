//! The room secret and the keys derived from it (docs/PROTOCOL.md, "Key schedule").

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a room id.
pub const ROOM_ID_LEN: usize = 16;
/// Length of a room secret (256 bits).
pub const ROOM_SECRET_LEN: usize = 32;

/// A room's public identifier. The relay knows it (it routes by it); it is not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomId(pub [u8; ROOM_ID_LEN]);

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// The 256-bit room secret from the invite's URL fragment. It authenticates the handshake;
/// the relay never sees it. Wiped on drop, never printed, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RoomSecret([u8; ROOM_SECRET_LEN]);

impl RoomSecret {
    /// Wraps 32 bytes; the caller should zeroize its own copy.
    pub fn from_bytes(bytes: [u8; ROOM_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for formatting an invite. Do not log them.
    pub fn expose(&self) -> &[u8; ROOM_SECRET_LEN] {
        &self.0
    }
}

impl PartialEq for RoomSecret {
    fn eq(&self, other: &Self) -> bool {
        super::ct_eq(&self.0, &other.0)
    }
}

impl Eq for RoomSecret {}

impl fmt::Debug for RoomSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomSecret(<redacted>)")
    }
}

/// One direction's AEAD key and IV base: what a [`super::Sealer`] or [`super::Opener`]
/// needs. Wiped on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DirectionKey {
    pub(crate) key: [u8; 32],
    pub(crate) iv: [u8; 12],
}

impl DirectionKey {
    /// Builds a key from raw bytes (tests and test vectors; the protocol derives them).
    pub fn from_bytes(key: [u8; 32], iv: [u8; 12]) -> Self {
        Self { key, iv }
    }
}

impl fmt::Debug for DirectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DirectionKey(<redacted>)")
    }
}

/// What every participant derives from the room id and room secret:
///
/// ```text
/// PRK_room = HKDF-Extract(salt = "tc1 room" || room_id, IKM = room_secret)
/// psk      = HKDF-Expand(PRK_room, "tc1 psk", 32)
/// hello    = HKDF-Expand(PRK_room, "tc1 hello key" || sender || salt, 32)
///            HKDF-Expand(PRK_room, "tc1 hello iv"  || sender || salt, 12)
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RoomKeys {
    prk: [u8; 32],
    psk: [u8; 32],
}

impl RoomKeys {
    /// Derives the room keys.
    pub fn derive(room: &RoomId, secret: &RoomSecret) -> Self {
        let mut salt = [0u8; 8 + ROOM_ID_LEN];
        salt[..8].copy_from_slice(b"tc1 room");
        salt[8..].copy_from_slice(&room.0);
        let prk = super::extract(&salt, &secret.0);
        let mut psk = [0u8; 32];
        super::expand(&prk, &[b"tc1 psk"], &mut psk);
        Self { prk, psk }
    }

    /// The key that seals `sender`'s hellos for the handshake epoch identified by `salt`
    /// (a fresh random value per epoch, so that a key and nonce pair never repeats even
    /// when a restarted client reuses its sequence numbers).
    pub fn hello_key(&self, sender: &[u8; 8], salt: &[u8; 8]) -> DirectionKey {
        let mut key = [0u8; 32];
        let mut iv = [0u8; 12];
        super::expand(&self.prk, &[b"tc1 hello key", sender, salt], &mut key);
        super::expand(&self.prk, &[b"tc1 hello iv", sender, salt], &mut iv);
        DirectionKey { key, iv }
    }

    /// The pre-shared key that salts every pairwise key derivation.
    pub(crate) fn psk(&self) -> &[u8; 32] {
        &self.psk
    }
}

impl fmt::Debug for RoomKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomKeys(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hex;

    #[test]
    fn debug_output_never_shows_secret_bytes() {
        let s = RoomSecret::from_bytes([0xab; 32]);
        let k = RoomKeys::derive(&RoomId([1; 16]), &s);
        let h = k.hello_key(&[2; 8], &[3; 8]);
        for shown in [format!("{s:?}"), format!("{k:?}"), format!("{h:?}")] {
            assert!(!shown.contains("ab"), "{shown}");
            assert!(shown.contains("redacted"));
        }
    }

    #[test]
    fn different_rooms_and_secrets_give_different_keys() {
        let a = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([7; 32]));
        let b = RoomKeys::derive(&RoomId([2; 16]), &RoomSecret::from_bytes([7; 32]));
        let c = RoomKeys::derive(&RoomId([1; 16]), &RoomSecret::from_bytes([8; 32]));
        assert_ne!(hex(a.psk()), hex(b.psk()));
        assert_ne!(hex(a.psk()), hex(c.psk()));
        assert_ne!(
            hex(&a.hello_key(&[1; 8], &[0; 8]).key),
            hex(&a.hello_key(&[1; 8], &[1; 8]).key)
        );
    }
}
