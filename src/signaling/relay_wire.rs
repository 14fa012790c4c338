//! The relay framing: what travels between a client and the relay, and all the relay sees.
//!
//! Every WebSocket message is binary; byte 0 is the message type. Multi-byte integers are
//! big-endian. The relay reads only this outer layer: a participant id, a role, a
//! recipient, and an opaque payload (a sealed envelope it cannot open). docs/PROTOCOL.md
//! is the normative description; this module is its only implementation, shared by the
//! SDK and the relay.

use core::fmt;

/// Version of this framing, sent in [`ClientMessage::Join`].
pub const RELAY_WIRE_VERSION: u8 = 1;
/// Largest WebSocket message either side accepts, header included.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// Largest join token, in bytes.
pub const MAX_TOKEN_LEN: usize = 1024;
/// Most participants a welcome may list.
pub const MAX_LISTED_PARTICIPANTS: usize = 64;

/// A participant's id in a room: 8 random bytes chosen by the client at first join and
/// kept across reconnections, so that a resumed connection is recognisably the same peer.
/// All-zero is reserved (it addresses the whole room).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub [u8; 8]);

impl ParticipantId {
    /// The reserved id that addresses every other participant in the room.
    pub const BROADCAST: Self = Self([0; 8]);

    /// Whether this is the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }
}

impl fmt::Debug for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParticipantId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// A participant's role, as granted by the join token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A clinician: opens the room, admits and denies others.
    Clinician = 1,
    /// The patient.
    Patient = 2,
    /// A guest: interpreter, family member, second clinician in a consult.
    Guest = 3,
}

impl Role {
    /// Decodes a role byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Clinician),
            2 => Some(Self::Patient),
            3 => Some(Self::Guest),
            _ => None,
        }
    }

    /// The role's name in tokens, logs and JavaScript.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Clinician => "clinician",
            Self::Patient => "patient",
            Self::Guest => "guest",
        }
    }

    /// Parses a role name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "clinician" => Some(Self::Clinician),
            "patient" => Some(Self::Patient),
            "guest" => Some(Self::Guest),
            _ => None,
        }
    }
}

/// Why a participant left, in [`ServerMessage::Left`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftReason {
    /// The participant closed its connection.
    Closed = 0,
    /// The connection dropped or timed out; the participant may resume.
    Lost = 1,
    /// The relay removed it (limits, abuse).
    Removed = 2,
}

impl LeftReason {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Closed),
            1 => Some(Self::Lost),
            2 => Some(Self::Removed),
            _ => None,
        }
    }
}

/// A message from a client to the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMessage {
    /// `0x01 version:u8 id:[8] token_len:u16 token` — the first message on a connection.
    Join {
        /// The participant's id (not broadcast).
        id: ParticipantId,
        /// The join token issued by the integrator's backend.
        token: Vec<u8>,
    },
    /// `0x02 to:[8] payload` — forward `payload` to one participant, or to all others when
    /// `to` is [`ParticipantId::BROADCAST`].
    Send {
        /// The recipient.
        to: ParticipantId,
        /// An opaque sealed frame.
        payload: Vec<u8>,
    },
    /// `0x03 nonce:[8]` — application-level liveness check; answered by a pong.
    Ping {
        /// Echoed back in the pong.
        nonce: [u8; 8],
    },
}

/// A message from the relay to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    /// `0x81 role:u8 count:u16 (id:[8] role:u8)*` — the join succeeded; lists the others
    /// already in the room.
    Welcome {
        /// This participant's role, as the token granted it.
        role: Role,
        /// Participants already present.
        present: Vec<(ParticipantId, Role)>,
    },
    /// `0x82 from:[8] payload` — a frame forwarded from another participant.
    Deliver {
        /// The sender, as the relay authenticated it.
        from: ParticipantId,
        /// The opaque sealed frame.
        payload: Vec<u8>,
    },
    /// `0x83 id:[8] role:u8` — another participant joined (or resumed).
    Joined {
        /// Who joined.
        id: ParticipantId,
        /// Their role.
        role: Role,
    },
    /// `0x84 id:[8] reason:u8` — another participant left.
    Left {
        /// Who left.
        id: ParticipantId,
        /// Why.
        reason: LeftReason,
    },
    /// `0x85 nonce:[8]` — answer to a ping.
    Pong {
        /// The ping's nonce.
        nonce: [u8; 8],
    },
    /// `0x86 code:u16 reason` — the relay refuses something; it closes the connection after
    /// sending this when `code` is a WebSocket close code (4000–4999).
    Error {
        /// Stable error code (see docs/PROTOCOL.md).
        code: u16,
        /// Human-readable reason without personal data.
        reason: String,
    },
}

/// A malformed relay message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// Empty message or an unknown type byte.
    UnknownType,
    /// The message ends before its fields do, or has bytes after them.
    BadLength,
    /// The message exceeds [`MAX_MESSAGE_LEN`] or a field exceeds its limit.
    TooLarge,
    /// Unsupported framing version in a join.
    UnsupportedVersion,
    /// A field holds a value outside its range (role, reason, reserved id, UTF-8).
    BadField,
}

impl WireError {
    /// The `Display` text, as a `&'static str` (see [`crate::Error`]'s message).
    pub(crate) const fn message(&self) -> &'static str {
        match self {
            Self::UnknownType => "unknown relay message type",
            Self::BadLength => "relay message length does not match its fields",
            Self::TooLarge => "relay message too large",
            Self::UnsupportedVersion => "unsupported relay framing version",
            Self::BadField => "relay message field out of range",
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for WireError {}

/// A bounds-checked reader: every accessor fails instead of panicking.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    // `split_at_checked` and `split_first_chunk`: no panicking split or copy behind the
    // length checks, so no panic paths in the wasm.
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(WireError::BadLength)?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(WireError::BadLength)?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        let [b] = self.array()?;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn array8(&mut self) -> Result<[u8; 8], WireError> {
        self.array()
    }
    fn id(&mut self) -> Result<ParticipantId, WireError> {
        Ok(ParticipantId(self.array8()?))
    }
    fn role(&mut self) -> Result<Role, WireError> {
        Role::from_byte(self.u8()?).ok_or(WireError::BadField)
    }
    fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.0)
    }
    fn end(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError::BadLength)
        }
    }
}

fn check_size(bytes: &[u8]) -> Result<Reader<'_>, WireError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(WireError::TooLarge);
    }
    Ok(Reader(bytes))
}

impl ClientMessage {
    /// Decodes a client message; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = check_size(bytes)?;
        let msg = match r.u8().map_err(|_| WireError::UnknownType)? {
            0x01 => {
                if r.u8()? != RELAY_WIRE_VERSION {
                    return Err(WireError::UnsupportedVersion);
                }
                let id = r.id()?;
                if id.is_broadcast() {
                    return Err(WireError::BadField);
                }
                let len = usize::from(r.u16()?);
                if len > MAX_TOKEN_LEN {
                    return Err(WireError::TooLarge);
                }
                let token = r.take(len)?.to_vec();
                Self::Join { id, token }
            }
            0x02 => {
                let to = r.id()?;
                Self::Send {
                    to,
                    payload: r.rest().to_vec(),
                }
            }
            0x03 => Self::Ping { nonce: r.array8()? },
            _ => return Err(WireError::UnknownType),
        };
        r.end()?;
        Ok(msg)
    }

    /// Encodes this message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Join { id, token } => {
                out.push(0x01);
                out.push(RELAY_WIRE_VERSION);
                out.extend_from_slice(&id.0);
                let len = token.len().min(MAX_TOKEN_LEN);
                // `len` is capped at MAX_TOKEN_LEN (< u16::MAX), so the cast is lossless.
                out.extend_from_slice(&(len as u16).to_be_bytes());
                out.extend_from_slice(&token[..len]);
            }
            Self::Send { to, payload } => {
                out.push(0x02);
                out.extend_from_slice(&to.0);
                out.extend_from_slice(payload);
            }
            Self::Ping { nonce } => {
                out.push(0x03);
                out.extend_from_slice(nonce);
            }
        }
        out
    }
}

impl ServerMessage {
    /// Decodes a relay message; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = check_size(bytes)?;
        let msg = match r.u8().map_err(|_| WireError::UnknownType)? {
            0x81 => {
                let role = r.role()?;
                let count = usize::from(r.u16()?);
                if count > MAX_LISTED_PARTICIPANTS {
                    return Err(WireError::TooLarge);
                }
                let mut present = Vec::with_capacity(count);
                for _ in 0..count {
                    present.push((r.id()?, r.role()?));
                }
                Self::Welcome { role, present }
            }
            0x82 => {
                let from = r.id()?;
                Self::Deliver {
                    from,
                    payload: r.rest().to_vec(),
                }
            }
            0x83 => Self::Joined {
                id: r.id()?,
                role: r.role()?,
            },
            0x84 => Self::Left {
                id: r.id()?,
                reason: LeftReason::from_byte(r.u8()?).ok_or(WireError::BadField)?,
            },
            0x85 => Self::Pong { nonce: r.array8()? },
            0x86 => {
                let code = r.u16()?;
                let reason = core::str::from_utf8(r.rest()).map_err(|_| WireError::BadField)?;
                Self::Error {
                    code,
                    reason: reason.to_owned(),
                }
            }
            _ => return Err(WireError::UnknownType),
        };
        r.end()?;
        Ok(msg)
    }

    /// Encodes this message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Welcome { role, present } => {
                out.push(0x81);
                out.push(*role as u8);
                let count = present.len().min(MAX_LISTED_PARTICIPANTS);
                // `count` is capped at MAX_LISTED_PARTICIPANTS, so the cast is lossless.
                out.extend_from_slice(&(count as u16).to_be_bytes());
                for (id, role) in &present[..count] {
                    out.extend_from_slice(&id.0);
                    out.push(*role as u8);
                }
            }
            Self::Deliver { from, payload } => {
                out.push(0x82);
                out.extend_from_slice(&from.0);
                out.extend_from_slice(payload);
            }
            Self::Joined { id, role } => {
                out.push(0x83);
                out.extend_from_slice(&id.0);
                out.push(*role as u8);
            }
            Self::Left { id, reason } => {
                out.push(0x84);
                out.extend_from_slice(&id.0);
                out.push(*reason as u8);
            }
            Self::Pong { nonce } => {
                out.push(0x85);
                out.extend_from_slice(nonce);
            }
            Self::Error { code, reason } => {
                out.push(0x86);
                out.extend_from_slice(&code.to_be_bytes());
                out.extend_from_slice(reason.as_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: ParticipantId = ParticipantId([1, 2, 3, 4, 5, 6, 7, 8]);

    #[test]
    fn every_message_round_trips() {
        let client = [
            ClientMessage::Join {
                id: A,
                token: b"tok".to_vec(),
            },
            ClientMessage::Send {
                to: ParticipantId::BROADCAST,
                payload: vec![9; 100],
            },
            ClientMessage::Ping { nonce: [7; 8] },
        ];
        for m in client {
            assert_eq!(ClientMessage::decode(&m.encode()), Ok(m));
        }
        let server = [
            ServerMessage::Welcome {
                role: Role::Patient,
                present: vec![(A, Role::Clinician)],
            },
            ServerMessage::Deliver {
                from: A,
                payload: vec![1, 2, 3],
            },
            ServerMessage::Joined {
                id: A,
                role: Role::Guest,
            },
            ServerMessage::Left {
                id: A,
                reason: LeftReason::Lost,
            },
            ServerMessage::Pong { nonce: [3; 8] },
            ServerMessage::Error {
                code: 4001,
                reason: "token expired".into(),
            },
        ];
        for m in server {
            assert_eq!(ServerMessage::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn join_bytes_match_the_spec_layout() {
        let bytes = ClientMessage::Join {
            id: A,
            token: b"ab".to_vec(),
        }
        .encode();
        assert_eq!(
            bytes,
            [0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x02, b'a', b'b']
        );
    }

    #[test]
    fn malformed_messages_get_precise_errors() {
        assert_eq!(ClientMessage::decode(&[]), Err(WireError::UnknownType));
        assert_eq!(ClientMessage::decode(&[0x7f]), Err(WireError::UnknownType));
        assert_eq!(
            ClientMessage::decode(&[0x01, 2]),
            Err(WireError::UnsupportedVersion)
        );
        assert_eq!(
            ClientMessage::decode(&[0x03, 1, 2]),
            Err(WireError::BadLength)
        );
        assert_eq!(
            ClientMessage::decode(&[0x03, 0, 0, 0, 0, 0, 0, 0, 0, 9]),
            Err(WireError::BadLength)
        );
        let mut broadcast_join = vec![0x01, 0x01];
        broadcast_join.extend_from_slice(&[0; 8]);
        broadcast_join.extend_from_slice(&[0, 0]);
        assert_eq!(
            ClientMessage::decode(&broadcast_join),
            Err(WireError::BadField)
        );
        let huge = vec![0x02; MAX_MESSAGE_LEN + 1];
        assert_eq!(ClientMessage::decode(&huge), Err(WireError::TooLarge));
        assert_eq!(
            ServerMessage::decode(&[0x83, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            Err(WireError::BadField)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = ClientMessage::decode(&bytes);
            let _ = ServerMessage::decode(&bytes);
        }

        #[test]
        fn decoded_messages_re_encode_to_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(m) = ClientMessage::decode(&bytes) { prop_assert_eq!(m.encode(), bytes.clone()); }
            if let Ok(m) = ServerMessage::decode(&bytes) { prop_assert_eq!(m.encode(), bytes); }
        }
    }
}
