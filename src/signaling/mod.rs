//! The sans-IO consultation session: wire format and state machine.
//!
//! | item | job |
//! | --- | --- |
//! | [`relay_wire`] | the client ↔ relay framing (all the relay sees) |
//! | [`Session`] | one participant's end-to-end encrypted signaling session (its parts: handshake, delivery, admission, negotiation, SAS), refusing input with a [`SessionError`] |
//! | [`Invite`] | parse and format invite links (room id and secret in the URL fragment) |
//! | [`message`] | the binary encodings of sealed message bodies |
//! | [`rehearsal`] | a whole call in memory: warms the wasm code path and self-tests it |
//!
//! docs/PROTOCOL.md is the normative specification; this module implements it.
//!
//! ## Driving a session
//!
//! A driver (the browser driver in `web`, or a native one) owns the WebSocket, the peer
//! connections and a timer, and loops over [`Session::poll_output`] after every input:
//!
//! ```
//! use teleconsult::crypto::{RoomId, RoomSecret};
//! use teleconsult::signaling::relay_wire::{ClientMessage, ParticipantId, Role, ServerMessage};
//! use teleconsult::signaling::{Config, Invite, Output, Redacted, Session, Timeouts};
//!
//! // The clinician side makes the visit's links (room id, secret and role seeds from a CSPRNG).
//! let links = Invite::create(RoomId([1; 16]), RoomSecret::from_bytes([2; 32]), &[5; 32], &[6; 32]);
//! let mut session = Session::new(Config {
//!     room: links.clinician.room,
//!     secret: links.clinician.secret.clone(),     // from the invite's URL fragment
//!     authority: links.clinician.authority(),     // the role keys the link carries
//!     certificate: ("sha-256".into(), vec![7; 32]), // RTCPeerConnection.generateCertificate
//!     id: ParticipantId([3; 8]),                  // random, kept across reconnections
//!     role: Role::Clinician,
//!     display_name: Redacted::new("Dr. Example".into()),
//!     token: zeroize::Zeroizing::new(b"join token from the backend".to_vec()),
//!     entropy: [4; 32],                            // crypto.getRandomValues / getrandom
//!     capabilities: 0,
//!     timeouts: Timeouts::default(),
//! });
//! let mut now = 1_700_000_000_000;                 // ms since the Unix epoch
//! let mut to_relay = Vec::new();
//! session.handle_relay_connected(now)?;            // the WebSocket opened
//! let welcome = ServerMessage::Welcome { role: Role::Clinician, present: vec![] };
//! session.handle_relay_message(&welcome.encode(), now)?; // a binary message arrived
//! while let Some(output) = session.poll_output() {
//!     match output {
//!         Output::Transmit(bytes) => to_relay.push(bytes), // ws.send(bytes)
//!         Output::Timeout(at) => now = at,                 // setTimeout → handle_timeout
//!         Output::Event(_event) => {}                      // tell the app
//!         Output::Media { peer: _, request: _ } => {}      // drive that RTCPeerConnection
//!         Output::Direct { peer: _, frame: _ } => {}       // its data channel, if open
//!         _ => {}                        // bulk crypto offload, if the driver enabled it
//!     }
//! }
//! session.handle_timeout(now);
//! assert!(matches!(ClientMessage::decode(&to_relay[0]), Ok(ClientMessage::Join { .. })));
//! assert_eq!(to_relay.len(), 2, "the join, then the sealed hello broadcast");
//! # Ok::<(), teleconsult::Error>(())
//! ```

pub mod invite;
mod memory;
pub mod message;
pub mod rehearsal;
pub mod relay_wire;
mod sdp;
mod session;

use core::fmt;

pub use invite::{Invite, VisitLinks};

/// Reads a certificate fingerprint as `RTCCertificate.getFingerprints()` or an SDP's
/// `a=fingerprint:` line gives it (`"sha-256"`, `"AB:CD:…"`): `(hash name, digest)`.
pub fn certificate_fingerprint(algorithm: &str, value: &str) -> Option<(String, Vec<u8>)> {
    let line = format!("a=fingerprint:{algorithm} {value}");
    let mut fps = sdp::fingerprints(&line);
    if fps.len() == 1 { fps.pop() } else { None }
}
pub use message::{
    Candidate, MAX_STREAM_ID_LEN, ScreenShare, ScreenShareEnd, SdpKind, valid_stream_id,
};
pub use session::{
    BulkKey, CloseReason, Config, DIRECT_ACK_DELAY_MS, DIRECT_ACK_EVERY, Event, IceState,
    LeaveReason, MediaRequest, OFFLOAD_MIN_LEN, Output, PeerInfo, Phase, RESUME_DEFER_MS,
    RESUME_TICKET_LEN, ResumeTicket, SecurityEvent, SecurityKind, Session, SessionError, Timeouts,
};

/// Most participants in a room, this one included (pairwise sessions: at most 15 pairs).
pub const MAX_PARTICIPANTS: usize = 6;
/// Largest SDP accepted or sent.
pub const MAX_SDP_LEN: usize = 48 * 1024;
/// Largest ICE candidate line.
pub const MAX_CANDIDATE_LEN: usize = 1024;
/// Largest application-data message.
pub const MAX_APP_DATA_LEN: usize = 32 * 1024;
/// Largest display name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 64;
/// Most reliable messages queued, unacknowledged, towards one peer.
pub const MAX_OUTBOX: usize = 256;
/// How far ahead of the next expected message a reliable message may arrive and be kept.
pub const REORDER_WINDOW: u64 = 64;

/// Personal data (display names): `Debug` and `Display` print `<redacted>`, so it never
/// reaches a log by accident. Read it with [`Redacted::expose`] only to show it to a user.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value, to display to the user.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why the session refused an input or an action. An input that fails leaves the session
/// unchanged (except for security counters) and is otherwise ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignalingError {
    /// The relay message is malformed.
    Wire(relay_wire::WireError),
    /// A sealed frame's body does not decode, or its kind is unknown.
    Malformed,
    /// The frame's version is newer than this implementation speaks.
    UnsupportedVersion,
    /// The frame's version is older than the version this implementation requires.
    Downgrade,
    /// The frame names another room.
    WrongRoom,
    /// The frame is addressed to another participant.
    Misaddressed,
    /// The frame's sender differs from the participant the relay says sent it.
    SenderMismatch,
    /// The frame comes from a participant the relay has not announced.
    UnknownPeer,
    /// A participant claims a role other than the one the relay granted it, a second
    /// role, or a second patient joins.
    RoleConflict,
    /// The room already holds [`MAX_PARTICIPANTS`].
    RoomFull,
    /// A peer sends hellos faster than the protocol allows.
    RateLimited,
    /// A well-formed message that the protocol forbids here (e.g. an admit from a patient).
    ProtocolViolation,
    /// The call is not valid in the current state (e.g. confirm a SAS not yet shown).
    InvalidState,
    /// This participant's role may not do that (e.g. a patient admitting someone).
    NotPermitted,
    /// A payload exceeds its limit.
    TooLarge,
    /// Too many messages are waiting for acknowledgement towards that peer.
    QueueFull,
    /// The session has ended.
    Closed,
    /// An invite link is malformed.
    BadInvite,
    /// An invite link made by protocol version 1 (no role keys): ask for a new link.
    OldInvite,
    /// A local description does not carry exactly the certificate the session committed
    /// to (the driver must create every connection with that certificate).
    CertificateMismatch,
}

impl SignalingError {
    /// Appends the `Display` text to `out`, without the formatting machinery (see
    /// [`crate::Error`]'s message).
    pub(crate) fn push_message(&self, out: &mut String) {
        let text = match self {
            Self::Wire(e) => {
                out.push_str("relay framing: ");
                e.message()
            }
            Self::Malformed => "malformed sealed message",
            Self::UnsupportedVersion => "unsupported protocol version",
            Self::Downgrade => "protocol downgrade rejected",
            Self::WrongRoom => "frame for another room",
            Self::Misaddressed => "frame addressed to another participant",
            Self::SenderMismatch => "frame sender does not match the relay's sender",
            Self::UnknownPeer => "frame from an unknown participant",
            Self::RoleConflict => "participant role conflict",
            Self::RoomFull => "room is full",
            Self::RateLimited => "peer is rate limited",
            Self::ProtocolViolation => "protocol violation",
            Self::InvalidState => "not valid in the current state",
            Self::NotPermitted => "not permitted for this role",
            Self::TooLarge => "payload too large",
            Self::QueueFull => "too many unacknowledged messages",
            Self::Closed => "session closed",
            Self::BadInvite => "malformed invite link",
            Self::OldInvite => "invite link from an older version; ask for a new link",
            Self::CertificateMismatch => "local description does not use the committed certificate",
        };
        out.push_str(text);
    }
}

impl fmt::Display for SignalingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.push_message(&mut out);
        f.write_str(&out)
    }
}

impl std::error::Error for SignalingError {}

impl From<relay_wire::WireError> for SignalingError {
    fn from(e: relay_wire::WireError) -> Self {
        Self::Wire(e)
    }
}
