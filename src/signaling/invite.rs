//! Invite links: `https://host/path#r=<room id>&k=<room secret>` (both base64url without
//! padding). The secret lives only in the URL fragment, which browsers never send to a
//! server, so neither the web server nor the relay learns it.

use core::fmt;

use super::SignalingError;
use crate::crypto::{ROOM_ID_LEN, ROOM_SECRET_LEN, RoomId, RoomSecret};

/// A parsed invite: the room and its secret. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Invite {
    /// The room id (public; also in the join token).
    pub room: RoomId,
    /// The room secret.
    pub secret: RoomSecret,
}

impl fmt::Debug for Invite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invite")
            .field("room", &self.room)
            .finish_non_exhaustive()
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648 §5).
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // `get`, not indexing: `chunks` never yields an empty chunk, but the compiler does
        // not know it and would keep a panic path.
        let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let b = [byte(0), byte(1), byte(2)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(B64[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    out
}

/// Decodes base64url without padding; rejects padding, other alphabets and non-canonical
/// trailing bits.
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| B64.iter().position(|&x| x == c).map(|p| p as u32);
    let bytes = s.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        let all = n.to_be_bytes();
        // The spare low bits of a short final chunk must be zero (canonical encoding).
        if chunk.len() < 4 && n & ((1 << (24 - 8 * produced)) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&all[1..1 + produced]);
    }
    Some(out)
}

impl Invite {
    /// An invite for a room id and secret (the clinician side draws both from a CSPRNG).
    pub fn new(room: RoomId, secret: RoomSecret) -> Self {
        Self { room, secret }
    }

    /// Formats the link: `base` (without any fragment) + `#r=…&k=…`.
    pub fn to_url(&self, base: &str) -> String {
        let base = base.split('#').next().unwrap_or(base);
        format!(
            "{base}#r={}&k={}",
            base64url_encode(&self.room.0),
            base64url_encode(self.secret.expose())
        )
    }

    /// Parses a link (or just its fragment). Unknown fragment parameters are ignored;
    /// a missing, repeated or wrong-length `r` or `k` is an error.
    pub fn parse(url: &str) -> Result<Self, SignalingError> {
        let fragment = match url.split_once('#') {
            Some((_, f)) => f,
            None => url,
        };
        let (mut room, mut secret) = (None, None);
        for pair in fragment.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k {
                "r" => &mut room,
                "k" => &mut secret,
                _ => continue,
            };
            if slot.is_some() {
                return Err(SignalingError::BadInvite);
            }
            *slot = Some(base64url_decode(v).ok_or(SignalingError::BadInvite)?);
        }
        let room: [u8; ROOM_ID_LEN] = room
            .ok_or(SignalingError::BadInvite)?
            .try_into()
            .map_err(|_| SignalingError::BadInvite)?;
        let mut secret_vec = secret.ok_or(SignalingError::BadInvite)?;
        let secret_arr: Result<[u8; ROOM_SECRET_LEN], _> = secret_vec.as_slice().try_into();
        zeroize::Zeroize::zeroize(&mut secret_vec);
        let secret = RoomSecret::from_bytes(secret_arr.map_err(|_| SignalingError::BadInvite)?);
        Ok(Self {
            room: RoomId(room),
            secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invite_round_trips_and_hides_the_secret() {
        let inv = Invite::new(RoomId([0xfb; 16]), RoomSecret::from_bytes([0xee; 32]));
        let url = inv.to_url("https://clinic.example/join?x=1#old");
        assert!(url.starts_with("https://clinic.example/join?x=1#r="));
        assert_eq!(Invite::parse(&url).unwrap(), inv);
        assert!(!format!("{inv:?}").contains("7u7u"));
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(raw.as_bytes()), enc);
            assert_eq!(base64url_decode(enc).unwrap(), raw.as_bytes());
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert!(
            base64url_decode("Zh").is_none(),
            "non-canonical trailing bits"
        );
        assert!(base64url_decode("Zg==").is_none());
        assert!(base64url_decode("Z").is_none());
    }

    #[test]
    fn bad_invites_are_rejected() {
        let k = base64url_encode(&[1; 32]);
        let r = base64url_encode(&[2; 16]);
        for bad in [
            String::from("https://x/#"),
            format!("#r={r}"),
            format!("#k={k}"),
            format!("#r={r}&k={k}&k={k}"),
            format!("#r={r}&k={}", base64url_encode(&[1; 31])),
            format!("#r=!!&k={k}"),
        ] {
            assert_eq!(Invite::parse(&bad), Err(SignalingError::BadInvite), "{bad}");
        }
        assert!(Invite::parse(&format!("#v=1&r={r}&k={k}")).is_ok());
    }

    proptest! {
        #[test]
        fn base64url_round_trips(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base64url_decode(&base64url_encode(&b)), Some(b));
        }

        #[test]
        fn arbitrary_links_never_panic(s in ".{0,120}") {
            let _ = Invite::parse(&s);
        }
    }
}
