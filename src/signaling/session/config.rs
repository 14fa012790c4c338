//! What a session is built with: the invite's secrets, this participant's identity and
//! certificate, and every wait the protocol makes.

use core::fmt;
use zeroize::Zeroizing;

use crate::crypto::{Authority, RoomId, RoomSecret};
use crate::signaling::Redacted;
use crate::signaling::relay_wire::{ParticipantId, Role};

/// Every wait the session makes, in milliseconds. [`Timeouts::default`] gives the values
/// of docs/PROTOCOL.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Join sent, no welcome: the relay is stalled.
    pub join: u64,
    /// Interval between relay pings while joined.
    pub ping_interval: u64,
    /// Nothing received from the relay for this long: the relay is stalled.
    pub relay_silence: u64,
    /// First hello retransmission (then doubling, capped at 8 s).
    pub hello_retry: u64,
    /// A peer that has not completed the handshake after this long is reported.
    pub handshake: u64,
    /// First retransmission of an unacknowledged reliable message (then doubling).
    pub retransmit: u64,
    /// A patient or guest not admitted after this long gives up.
    pub waiting_room: u64,
    /// A peer the relay lost is forgotten after this long unless it resumes.
    pub peer_lost_grace: u64,
    /// An offer/answer exchange (or the media engine) stuck for this long is retried.
    pub negotiation: u64,
    /// ICE `disconnected` for this long is treated as failed.
    pub ice_disconnected: u64,
    /// The polite peer waits this long after ICE failure for the impolite one to restart.
    pub ice_restart_grace: u64,
    /// ICE restarts per peer before the media path is reported failed.
    pub max_ice_restarts: u32,
    /// No media path to a peer this long after negotiation began (or after it failed) is
    /// reported ([`super::Event::PeerUnreachable`]); restarts go on meanwhile.
    pub media_connect: u64,
    /// How long after a clinician's session last saw an admitted participant a new
    /// session of that participant may still present its resume ticket (a reload) and be
    /// let in without a new admission (docs/PROTOCOL.md, "Resume after a reload").
    pub resume_window: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            join: 10_000,
            ping_interval: 10_000,
            relay_silence: 25_000,
            hello_retry: 1_000,
            handshake: 30_000,
            retransmit: 1_000,
            waiting_room: 30 * 60_000,
            peer_lost_grace: 60_000,
            negotiation: 20_000,
            ice_disconnected: 5_000,
            ice_restart_grace: 3_000,
            max_ice_restarts: 5,
            media_connect: 15_000,
            resume_window: 5 * 60_000,
        }
    }
}

/// What a session is constructed with.
pub struct Config {
    /// The room (from the invite).
    pub room: RoomId,
    /// The room secret (from the invite's fragment).
    pub secret: RoomSecret,
    /// This participant's id: 8 random bytes, kept across reconnections.
    pub id: ParticipantId,
    /// This participant's role (must match the join token's).
    pub role: Role,
    /// The display name shown to the others (truncated to 64 bytes).
    pub display_name: Redacted<String>,
    /// The join token from the integrator's backend (sent only to the relay).
    pub token: Zeroizing<Vec<u8>>,
    /// 32 bytes of real entropy from the platform (the session never reads a random
    /// source itself; see [`Session::add_entropy`](super::Session::add_entropy)).
    pub entropy: [u8; 32],
    /// Capability bits advertised in the hello: [`CAP_RESUME`](crate::signaling::message::CAP_RESUME)
    /// if the driver keeps resume tickets across a reload ([`super::Event::ResumeTicket`]).
    pub capabilities: u32,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// The role keys from the invite link: both committed public keys, and this
    /// participant's own role key (none for a guest).
    pub authority: Authority,
    /// The DTLS certificate every peer connection of this session uses, as `(hash name,
    /// digest)` — made before the handshake (`RTCPeerConnection.generateCertificate`) so
    /// that the SAS exchange can commit to it.
    pub certificate: (String, Vec<u8>),
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("room", &self.room)
            .field("id", &self.id)
            .field("role", &self.role)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}
