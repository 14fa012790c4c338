//! Invite links (protocol version 2):
//!
//! ```text
//! https://host/path#v=2&r=<room id>&k=<room secret>&c=<clinician key>&p=<patient key>[&s=<role key>]
//! ```
//!
//! All values are base64url without padding. `c` and `p` are the visit's clinician and
//! patient Ed25519 public keys, which every link commits to; `s` is the signing seed of the
//! holder's own role — on the clinician's link the clinician's, on the patient's link the
//! patient's, and absent on a guest link (docs/PROTOCOL.md §2). Everything lives in the URL
//! fragment, which browsers never send to a server, so neither the web server nor the relay
//! learns it. A version-1 link (`r` and `k` only) is refused with [`SignalingError::OldInvite`].

use core::fmt;

use zeroize::{Zeroize, Zeroizing};

use super::SignalingError;
use super::relay_wire::Role;
use crate::crypto::{Authority, ROOM_ID_LEN, ROOM_SECRET_LEN, RoleSigningKey, RoomId, RoomSecret};

/// A parsed invite: the room, its secret and the role keys. `Debug` never shows a secret.
#[derive(Clone)]
pub struct Invite {
    /// The room id (public; also in the join token).
    pub room: RoomId,
    /// The room secret.
    pub secret: RoomSecret,
    /// The clinician's public key.
    pub clinician: [u8; 32],
    /// The patient's public key.
    pub patient: [u8; 32],
    /// The holder's own role key (none on a guest link).
    pub signing: Option<RoleSigningKey>,
}

impl PartialEq for Invite {
    fn eq(&self, other: &Self) -> bool {
        let seed = |i: &Self| i.signing.as_ref().map(RoleSigningKey::seed);
        self.room == other.room
            && self.secret == other.secret
            && self.clinician == other.clinician
            && self.patient == other.patient
            && seed(self) == seed(other)
    }
}

impl fmt::Debug for Invite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invite")
            .field("room", &self.room)
            .field("role", &self.role())
            .finish_non_exhaustive()
    }
}

/// The three links of a visit.
#[derive(Debug)]
pub struct VisitLinks {
    /// The clinician's link (carries the clinician's signing key).
    pub clinician: Invite,
    /// The patient's link (carries the patient's signing key).
    pub patient: Invite,
    /// A guest's link (interpreter, family member): proves no role.
    pub guest: Invite,
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

/// Decodes a base64url value of exactly `N` bytes; every intermediate copy is wiped.
fn fixed<const N: usize>(v: &str) -> Result<Zeroizing<[u8; N]>, SignalingError> {
    let mut bytes = base64url_decode(v).ok_or(SignalingError::BadInvite)?;
    let out = bytes.as_slice().try_into().map(Zeroizing::new);
    bytes.zeroize();
    out.map_err(|_| SignalingError::BadInvite)
}

impl Invite {
    /// A visit's three links from a room id, a room secret and the two role seeds (the
    /// clinician side draws all four from a CSPRNG).
    pub fn create(
        room: RoomId,
        secret: RoomSecret,
        clinician_seed: &[u8; 32],
        patient_seed: &[u8; 32],
    ) -> VisitLinks {
        let clinician = RoleSigningKey::from_seed(clinician_seed);
        let patient = RoleSigningKey::from_seed(patient_seed);
        let link = |signing: Option<RoleSigningKey>| Invite {
            room,
            secret: secret.clone(),
            clinician: clinician.public(),
            patient: patient.public(),
            signing,
        };
        VisitLinks {
            clinician: link(Some(clinician.clone())),
            patient: link(Some(patient.clone())),
            guest: link(None),
        }
    }

    /// The role this link lets its holder prove.
    pub fn role(&self) -> Role {
        self.authority().role()
    }

    /// The role keys a session joining with this link needs.
    pub fn authority(&self) -> Authority {
        Authority {
            clinician: self.clinician,
            patient: self.patient,
            signing: self.signing.clone(),
        }
    }

    /// Formats the link: `base` (without any fragment) + `#v=2&r=…&k=…&c=…&p=…[&s=…]`.
    pub fn to_url(&self, base: &str) -> String {
        let base = base.split('#').next().unwrap_or(base);
        let mut url = format!(
            "{base}#v=2&r={}&k={}&c={}&p={}",
            base64url_encode(&self.room.0),
            base64url_encode(self.secret.expose()),
            base64url_encode(&self.clinician),
            base64url_encode(&self.patient),
        );
        if let Some(k) = &self.signing {
            url.push_str("&s=");
            url.push_str(&base64url_encode(k.seed().as_slice()));
        }
        url
    }

    /// Parses a link (or just its fragment). Unknown fragment parameters are ignored; a
    /// missing, repeated or wrong-length value is [`SignalingError::BadInvite`], a
    /// version-1 link [`SignalingError::OldInvite`], and a signing key that matches neither
    /// committed key `BadInvite`.
    pub fn parse(url: &str) -> Result<Self, SignalingError> {
        let fragment = match url.split_once('#') {
            Some((_, f)) => f,
            None => url,
        };
        let mut values: [Option<&str>; 6] = [None; 6];
        for pair in fragment.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let i = match k {
                "v" => 0,
                "r" => 1,
                "k" => 2,
                "c" => 3,
                "p" => 4,
                "s" => 5,
                _ => continue,
            };
            if values[i].replace(v).is_some() {
                return Err(SignalingError::BadInvite);
            }
        }
        let [version, room, secret, clinician, patient, signing] = values;
        match version {
            Some("2") => {}
            None if room.is_some() && secret.is_some() && clinician.is_none() => {
                return Err(SignalingError::OldInvite);
            }
            _ => return Err(SignalingError::BadInvite),
        }
        let room = *fixed::<ROOM_ID_LEN>(room.ok_or(SignalingError::BadInvite)?)?;
        let secret = RoomSecret::from_bytes(*fixed::<ROOM_SECRET_LEN>(
            secret.ok_or(SignalingError::BadInvite)?,
        )?);
        let invite = Self {
            room: RoomId(room),
            secret,
            clinician: *fixed::<32>(clinician.ok_or(SignalingError::BadInvite)?)?,
            patient: *fixed::<32>(patient.ok_or(SignalingError::BadInvite)?)?,
            signing: match signing {
                Some(s) => Some(RoleSigningKey::from_seed(&*fixed::<32>(s)?)),
                None => None,
            },
        };
        if invite.signing.is_some() && invite.role() == Role::Guest {
            return Err(SignalingError::BadInvite);
        }
        Ok(invite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn links() -> VisitLinks {
        Invite::create(
            RoomId([0xfb; 16]),
            RoomSecret::from_bytes([0xee; 32]),
            &[1; 32],
            &[2; 32],
        )
    }

    #[test]
    fn invite_round_trips_and_hides_the_secret() {
        let links = links();
        for (inv, role) in [
            (&links.clinician, Role::Clinician),
            (&links.patient, Role::Patient),
            (&links.guest, Role::Guest),
        ] {
            let url = inv.to_url("https://clinic.example/join?x=1#old");
            assert!(url.starts_with("https://clinic.example/join?x=1#v=2&r="));
            let back = Invite::parse(&url).unwrap();
            assert_eq!(&back, inv);
            assert_eq!(back.role(), role);
            assert!(!format!("{inv:?}").contains("7u7u"));
        }
        assert!(!links.guest.to_url("https://x/").contains("&s="));
    }

    #[test]
    fn version_one_links_are_refused_clearly() {
        let k = base64url_encode(&[1; 32]);
        let r = base64url_encode(&[2; 16]);
        assert_eq!(
            Invite::parse(&format!("https://x/#r={r}&k={k}")),
            Err(SignalingError::OldInvite)
        );
    }

    #[test]
    fn a_signing_key_of_neither_role_is_refused() {
        let url = links().guest.to_url("https://x/");
        let forged = format!("{url}&s={}", base64url_encode(&[9; 32]));
        assert_eq!(Invite::parse(&forged), Err(SignalingError::BadInvite));
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
        let c = base64url_encode(&[3; 32]);
        let ok = format!("#v=2&r={r}&k={k}&c={c}&p={c}");
        assert!(Invite::parse(&ok).is_ok());
        for bad in [
            String::from("https://x/#"),
            format!("#v=2&r={r}"),
            format!("#v=2&k={k}&c={c}&p={c}"),
            format!("{ok}&k={k}"),
            format!("#v=2&r={r}&k={}&c={c}&p={c}", base64url_encode(&[1; 31])),
            format!("#v=2&r=!!&k={k}&c={c}&p={c}"),
            format!("#v=3&r={r}&k={k}&c={c}&p={c}"),
            format!("#v=2&r={r}&k={k}&c={c}"),
        ] {
            assert_eq!(Invite::parse(&bad), Err(SignalingError::BadInvite), "{bad}");
        }
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
