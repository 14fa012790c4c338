//! The sans-IO session: one participant's view of a consultation (docs/PROTOCOL.md,
//! "State machine").
//!
//! Inputs are `handle_*` calls and user actions, each given `now` (milliseconds since the
//! Unix epoch); outputs are pulled with [`Session::poll_output`]. Nothing here reads a clock
//! or a random source, touches a socket or spawns anything.

use std::collections::VecDeque;

use crate::sorted_map::SortedMap;

use core::fmt;
use zeroize::Zeroizing;

use super::memory::{PeerMemory, Refusal};
use super::message::{
    self, Candidate, Hello, KIND_ACK, KIND_APP_DATA, KIND_BYE, KIND_HELLO, KIND_SIGNAL, SdpKind,
    Signal,
};
use super::relay_wire::{ClientMessage, LeftReason, ParticipantId, Role, ServerMessage};
use super::{
    MAX_APP_DATA_LEN, MAX_CANDIDATE_LEN, MAX_NAME_LEN, MAX_OUTBOX, MAX_PARTICIPANTS, MAX_SDP_LEN,
    REORDER_WINDOW, Redacted, SignalingError, sdp,
};
use crate::Error;
use crate::crypto::{
    self, Authority, CryptoError, Drbg, Ephemeral, Header, Opener, PeerPublic, ReplayWindow,
    RoomId, RoomKeys, RoomSecret, Sas, SasInput, Sealer, VERSION,
};

/// Hellos accepted from one peer per [`HELLO_RATE_WINDOW_MS`]; more are dropped unopened.
pub const HELLO_BURST: u32 = 12;
/// The window of the hello rate limit.
pub const HELLO_RATE_WINDOW_MS: u64 = 10_000;
/// At most one security event of a kind is emitted per this interval (the count goes on).
pub const SECURITY_EVENT_INTERVAL_MS: u64 = 1_000;
/// Most reliable messages held back while a pair may not negotiate media yet.
const MAX_DEFERRED: usize = 64;
/// Most remote candidates queued before the remote description exists.
const MAX_QUEUED_CANDIDATES: usize = 200;
/// Minimum gap between two answers to the same peer's repeated hellos.
const HELLO_REPLY_GAP_MS: u64 = 500;
/// Longest gap between retransmissions.
const MAX_BACKOFF_MS: u64 = 8_000;

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
    /// source itself; see [`Session::add_entropy`]).
    pub entropy: [u8; 32],
    /// Capability bits advertised in the hello (none defined yet).
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

/// The participant's phase in the consultation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Constructed; not connected to the relay yet.
    Idle,
    /// Join sent, waiting for the relay's welcome.
    Joining,
    /// In the waiting room: a patient or guest not yet admitted by a clinician.
    Waiting,
    /// In the call: media may be negotiated with other in-call participants.
    InCall,
    /// Ended; every further input is refused.
    Closed,
}

/// Why the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// This participant hung up.
    HungUp,
    /// A clinician ended the consultation for everyone.
    EndedByClinician,
    /// A clinician turned this participant away.
    Denied,
    /// Nobody admitted this participant in time.
    WaitingRoomTimeout,
}

/// Why a peer left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaveReason {
    /// It hung up (sealed bye) or closed its relay connection.
    Left,
    /// The relay lost it and it did not resume within the grace period.
    Lost,
    /// The relay removed it.
    Removed,
    /// It restarted (a new session under the same id): the old one is gone.
    Restarted,
}

/// ICE connection state, as the media engine reports it (`RTCIceConnectionState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IceState {
    /// `new`.
    New,
    /// `checking`.
    Checking,
    /// `connected`.
    Connected,
    /// `completed`.
    Completed,
    /// `disconnected`.
    Disconnected,
    /// `failed`.
    Failed,
    /// `closed`.
    Closed,
}

/// The kinds of security events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecurityKind {
    /// A sealed frame failed authentication (tampering, wrong room secret).
    AuthenticationFailed = 0,
    /// A frame was replayed or is too old.
    Replay = 1,
    /// A frame for another room or participant, or with a forged sender.
    Misrouted = 2,
    /// A participant claimed a role it was not granted, or a second patient appeared.
    RoleConflict = 3,
    /// A peer sent something the protocol forbids.
    ProtocolViolation = 4,
    /// A peer flooded hellos.
    RateLimited = 5,
    /// A frame or hello tried an older protocol version.
    Downgrade = 6,
    /// A peer's SAS confirmation does not match ours: possible man in the middle.
    SasMismatch = 7,
    /// A frame too short or too long to be an envelope.
    Malformed = 8,
}

const SECURITY_KINDS: usize = 9;

/// A security event for the app: something hostile or broken was seen and dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecurityEvent {
    /// What happened.
    pub kind: SecurityKind,
    /// The relay-authenticated sender, when known.
    pub peer: Option<ParticipantId>,
    /// How many events of this kind this session has seen (events are rate-limited to one
    /// per kind per second; the count includes suppressed ones).
    pub total: u64,
}

/// Something the app should know.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The phase changed.
    PhaseChanged(Phase),
    /// The relay welcomed us (first join or resumption); handshakes are under way.
    RelayConnected,
    /// The relay connection dropped; reconnect and call
    /// [`Session::handle_relay_connected`]. State is kept; keys are renewed.
    RelayLost,
    /// The relay did not answer in time; close the connection, then reconnect.
    RelayStalled,
    /// The relay refused something (codes in docs/PROTOCOL.md); it closes the connection
    /// after sending this.
    RelayError {
        /// The relay's code (4000–4999 close codes).
        code: u16,
    },
    /// A peer completed the handshake for the first time.
    PeerJoined {
        /// The peer.
        peer: ParticipantId,
        /// Its role.
        role: Role,
        /// Its display name.
        name: Redacted<String>,
    },
    /// (Clinicians) a patient or guest is in the waiting room: call
    /// [`Session::admit`] or [`Session::deny`].
    AdmissionRequested {
        /// The peer.
        peer: ParticipantId,
        /// Its role.
        role: Role,
        /// Its display name.
        name: Redacted<String>,
    },
    /// A peer was admitted into the call.
    PeerAdmitted {
        /// The peer.
        peer: ParticipantId,
    },
    /// (Clinicians) a peer was turned away.
    PeerDenied {
        /// The peer.
        peer: ParticipantId,
    },
    /// The media path to a peer is up (ICE connected).
    PeerConnected {
        /// The peer.
        peer: ParticipantId,
    },
    /// The media path to a peer failed for good (restarts exhausted or stuck negotiation).
    PeerMediaFailed {
        /// The peer.
        peer: ParticipantId,
    },
    /// A peer left.
    PeerLeft {
        /// The peer.
        peer: ParticipantId,
        /// Why.
        reason: LeaveReason,
    },
    /// A peer the relay announced has not completed the handshake in time (wrong room
    /// secret, or it is stuck); retries continue.
    HandshakeTimeout {
        /// The peer.
        peer: ParticipantId,
    },
    /// The SAS for a peer is ready to show (or changed because a DTLS certificate did).
    SasReady {
        /// The peer.
        peer: ParticipantId,
        /// The SAS.
        sas: Sas,
    },
    /// The peer's user confirmed the same SAS.
    SasConfirmedByPeer {
        /// The peer.
        peer: ParticipantId,
    },
    /// Application data from a peer (exactly once, in order).
    AppData {
        /// The peer.
        peer: ParticipantId,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A peer left or restarted before acknowledging `count` application-data messages;
    /// they were not delivered.
    AppDataUndelivered {
        /// The peer.
        peer: ParticipantId,
        /// How many.
        count: usize,
    },
    /// Something hostile or broken was dropped.
    Security(SecurityEvent),
    /// The session ended.
    Closed(CloseReason),
}

/// A request for the media engine (`RTCPeerConnection` of one peer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaRequest {
    /// Create the peer connection if needed, create an offer, set it as local description
    /// and report it with [`Session::handle_local_description`].
    CreateOffer {
        /// Create it with `iceRestart: true`.
        ice_restart: bool,
    },
    /// Create an answer, set it as local description and report it.
    CreateAnswer,
    /// Create the peer connection if needed and set this remote description.
    SetRemoteDescription {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP.
        sdp: String,
    },
    /// Add a remote ICE candidate (the remote description is already set).
    AddIceCandidate(Candidate),
    /// Roll the local offer back (`setLocalDescription({type: "rollback"})`).
    Rollback,
    /// Create the peer connection now, with the local tracks, so that the offer or answer
    /// that follows does not wait for it (creating one and adding tracks costs several
    /// milliseconds of main-thread time in a browser, time that overlaps a network round trip
    /// this way). Nothing leaves the device: no description is set, so no ICE gathering
    /// starts. A prepared connection is closed with [`MediaRequest::ClosePeer`] like any other.
    Prepare,
    /// Close and forget the peer connection.
    ClosePeer,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes as one binary WebSocket message to the relay.
    Transmit(Vec<u8>),
    /// Call [`Session::handle_timeout`] at this time (ms since the epoch).
    Timeout(u64),
    /// Tell the app.
    Event(Event),
    /// Ask the media engine.
    Media {
        /// The peer whose connection is meant.
        peer: ParticipantId,
        /// What to do.
        request: MediaRequest,
    },
}

/// A snapshot of one peer, for the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer.
    pub id: ParticipantId,
    /// Its relay-granted role.
    pub role: Role,
    /// Its display name, once the handshake told it.
    pub name: Option<Redacted<String>>,
    /// The relay currently reports it present.
    pub present: bool,
    /// Pairwise keys are established and confirmed.
    pub secured: bool,
    /// It is in the call (admitted, or a clinician).
    pub in_call: bool,
    /// ICE reports the media path up.
    pub connected: bool,
    /// The SAS, once both DTLS fingerprints are known.
    pub sas: Option<Sas>,
    /// Our user confirmed the SAS.
    pub sas_confirmed: bool,
    /// The peer's user confirmed the same SAS.
    pub sas_confirmed_by_peer: bool,
    /// The public value naming this SAS (both sides compute the same): what a consent
    /// ledger records when the SAS is confirmed.
    pub sas_binding: Option<[u8; 32]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relay {
    Disconnected,
    Joining { since: u64 },
    Joined,
}

struct OwnHello {
    epoch: u64,
    ephemeral: Ephemeral,
    sealer: Sealer,
    /// The transcript core (what the role proof signs).
    core: Vec<u8>,
    /// The encoded hello without `reply_to`.
    body: Vec<u8>,
}

struct Remote {
    epoch: u64,
    static_public: [u8; 32],
    role: Role,
    name: Redacted<String>,
    core: Vec<u8>,
}

struct Keys {
    sealer: Sealer,
    opener: Opener,
}

struct OutMsg {
    id: u64,
    kind: u8,
    payload: Vec<u8>,
    next_retx: Option<u64>,
    backoff: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sig {
    Stable,
    LocalOffer,
    RemoteOffer,
}

struct Neg {
    started: bool,
    sig: Sig,
    offer_pending: bool,
    needed: bool,
    restart_needed: bool,
    ignore_offer: bool,
    remote_set: bool,
    queued: Vec<Candidate>,
    deadline: Option<u64>,
    ice: IceState,
    ice_timer: Option<u64>,
    restarts: u32,
    connected: bool,
    failed_reported: bool,
}

impl Neg {
    fn new() -> Self {
        Self {
            started: false,
            sig: Sig::Stable,
            offer_pending: false,
            needed: false,
            restart_needed: false,
            ignore_offer: false,
            remote_set: false,
            queued: Vec::new(),
            deadline: None,
            ice: IceState::New,
            ice_timer: None,
            restarts: 0,
            connected: false,
            failed_reported: false,
        }
    }
}

struct Peer {
    relay_role: Role,
    present: bool,
    absent_since: Option<u64>,
    remote: Option<Remote>,
    sas_prk: Option<Zeroizing<[u8; 32]>>,
    keys: Option<Keys>,
    confirmed: bool,
    /// We answered the peer's current hello: it derives the keys from that reply before
    /// anything we send after it arrives (the relay keeps a sender's frames in order), so
    /// sealed messages may follow the reply at once, before key confirmation (0.5-RTT, as
    /// TLS 1.3 servers do; PROTOCOL.md §8).
    replied: bool,
    hello_window: Option<([u8; 8], ReplayWindow)>,
    hello_rate: (u64, u32),
    last_reply_at: Option<u64>,
    hello_retry_at: Option<u64>,
    hello_backoff: u64,
    handshake_deadline: Option<u64>,
    next_out: u64,
    outbox: VecDeque<OutMsg>,
    next_in: u64,
    reorder: SortedMap<u64, (u8, Vec<u8>)>,
    deferred: VecDeque<Signal>,
    admitted: bool,
    denied: bool,
    joined_announced: bool,
    neg: Neg,
    /// A [`MediaRequest::Prepare`] was emitted (the driver holds a connection for this peer
    /// even if negotiation has not started).
    prepared: bool,
    /// The pair's identity hash, for the SAS binding.
    identity: [u8; 32],
    /// This pairing's SAS (kept across re-keys of the same pair).
    sas: SasState,
    pending_confirm: Option<[u8; 16]>,
}

/// One pairing's SAS: the commit/reveal exchange (docs/PROTOCOL.md §13) and what came of
/// it. Kept across re-keys of the same pair, and carried in the lifetime memory when the
/// peer's record is dropped, so that both sides keep agreeing on it.
#[derive(Clone, Default)]
struct SasState {
    /// Our nonce for this pairing: set when the exchange starts (fresh per pairing).
    nonce: Option<[u8; 32]>,
    /// (The higher id of the pair) the peer's commitment.
    commitment: Option<[u8; 32]>,
    /// The peer's reveal, verified against its commitment: nonce and fingerprint.
    peer: Option<([u8; 32], Vec<u8>)>,
    /// The encoded fingerprint of the peer's last remote description.
    remote_fp: Option<Vec<u8>>,
    /// The exchange failed: a reveal that does not open the commitment, a second
    /// commitment, or an SDP with another certificate. No SAS is ever shown for the pair.
    failed: bool,
    code: Option<Sas>,
    binding: Option<[u8; 32]>,
    confirmed_local: bool,
    confirmed_remote: bool,
}

/// What a dropped peer record hands to the lifetime memory, restored if the same peer
/// session comes back (docs/PROTOCOL.md §11.5).
#[derive(Clone)]
struct Carried {
    next_in: u64,
    next_out: u64,
    admitted: bool,
    denied: bool,
    sas: SasState,
}

/// Makes every queued message due now with a fresh backoff: the keys changed, so whatever
/// was sent before must be sent again under the new ones.
fn restart_outbox(p: &mut Peer, backoff: u64) {
    for m in p.outbox.iter_mut() {
        m.next_retx = None;
        m.backoff = backoff;
    }
}

impl Peer {
    fn new(relay_role: Role, now: u64, t: &Timeouts) -> Self {
        Self {
            relay_role,
            present: true,
            absent_since: None,
            remote: None,
            sas_prk: None,
            keys: None,
            confirmed: false,
            replied: false,
            hello_window: None,
            hello_rate: (now, 0),
            last_reply_at: None,
            hello_retry_at: Some(now.saturating_add(t.hello_retry)),
            hello_backoff: t.hello_retry,
            handshake_deadline: Some(now.saturating_add(t.handshake)),
            next_out: 1,
            outbox: VecDeque::new(),
            next_in: 1,
            reorder: SortedMap::new(),
            deferred: VecDeque::new(),
            admitted: false,
            denied: false,
            joined_announced: false,
            neg: Neg::new(),
            prepared: false,
            identity: [0; 32],
            sas: SasState::default(),
            pending_confirm: None,
        }
    }

    fn in_call(&self) -> bool {
        self.remote.is_some()
            && !self.denied
            && (self.relay_role == Role::Clinician || self.admitted)
    }

    /// The driver holds a peer connection for this peer (prepared or negotiating).
    fn has_connection(&self) -> bool {
        self.neg.started || self.prepared
    }

    fn undelivered_app_data(&self) -> usize {
        self.outbox
            .iter()
            .filter(|m| m.kind == KIND_APP_DATA)
            .count()
    }
}

/// One participant's end-to-end encrypted signaling session. See the module docs and
/// docs/PROTOCOL.md; the drive loop is shown in the crate docs.
pub struct Session {
    room: RoomId,
    room_keys: RoomKeys,
    /// Role keys from the link: who may claim clinician or patient.
    authority: Authority,
    /// The encoded fingerprint of this session's DTLS certificate (one entry).
    own_fp: Vec<u8>,
    id: ParticipantId,
    role: Role,
    name: Redacted<String>,
    token: Zeroizing<Vec<u8>>,
    capabilities: u32,
    t: Timeouts,
    rng: Drbg,
    static_key: Ephemeral,
    phase: Phase,
    relay: Relay,
    last_rx: u64,
    next_ping: u64,
    hello: Option<OwnHello>,
    /// The first epoch's ephemeral key, made with the session so that the key generation
    /// happens while the relay socket opens rather than when the relay's welcome arrives.
    first_ephemeral: Option<Ephemeral>,
    epoch: u64,
    self_admitted: bool,
    waiting_since: Option<u64>,
    pre_admitted: Vec<ParticipantId>,
    peers: SortedMap<ParticipantId, Peer>,
    /// Lifetime memory of every peer ever keyed (replays, retired keys, carried counters).
    memory: PeerMemory<Carried>,
    out: VecDeque<Output>,
    timeout_reported: bool,
    security_total: [u64; SECURITY_KINDS],
    security_last: [Option<u64>; SECURITY_KINDS],
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("phase", &self.phase)
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}

type R = Result<(), Error>;

fn err(e: SignalingError) -> R {
    Err(Error::Signaling(e))
}

impl Session {
    /// Creates a session. It does nothing until [`Self::handle_relay_connected`].
    pub fn new(config: Config) -> Self {
        let Config {
            room,
            secret,
            id,
            role,
            display_name,
            token,
            entropy,
            capabilities,
            timeouts,
            authority,
            certificate,
        } = config;
        let mut rng = Drbg::new(entropy);
        let static_key = Ephemeral::from_random(rng.array());
        let first_ephemeral = Some(Ephemeral::from_random(rng.array()));
        let mut name = display_name.expose().clone();
        if name.len() > MAX_NAME_LEN {
            let mut cut = MAX_NAME_LEN;
            while !name.is_char_boundary(cut) {
                cut -= 1;
            }
            name.truncate(cut);
        }
        Self {
            own_fp: crypto::encode_fingerprints(&[certificate]),
            authority,
            room_keys: RoomKeys::derive(&room, &secret),
            room,
            id,
            role,
            name: Redacted::new(name),
            token,
            capabilities,
            t: timeouts,
            rng,
            static_key,
            phase: Phase::Idle,
            relay: Relay::Disconnected,
            last_rx: 0,
            next_ping: 0,
            hello: None,
            first_ephemeral,
            epoch: 0,
            self_admitted: role == Role::Clinician,
            waiting_since: None,
            pre_admitted: Vec::new(),
            peers: SortedMap::new(),
            memory: PeerMemory::default(),
            out: VecDeque::new(),
            timeout_reported: false,
            security_total: [0; SECURITY_KINDS],
            security_last: [None; SECURITY_KINDS],
        }
    }

    // ----- getters -----------------------------------------------------------------------

    /// This participant's id.
    pub fn id(&self) -> ParticipantId {
        self.id
    }

    /// This participant's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the relay has welcomed us on the current connection.
    pub fn is_relay_joined(&self) -> bool {
        self.relay == Relay::Joined
    }

    /// Snapshots of every known peer, ordered by id.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.peers.keys().filter_map(|id| self.peer(*id)).collect()
    }

    /// A snapshot of one peer.
    pub fn peer(&self, id: ParticipantId) -> Option<PeerInfo> {
        let p = self.peers.get(&id)?;
        Some(PeerInfo {
            id,
            role: p.relay_role,
            name: p.remote.as_ref().map(|r| r.name.clone()),
            present: p.present,
            secured: p.keys.is_some() && p.confirmed,
            in_call: p.in_call(),
            connected: p.neg.connected,
            sas: p.sas.code,
            sas_confirmed: p.sas.confirmed_local,
            sas_confirmed_by_peer: p.sas.confirmed_remote,
            sas_binding: p.sas.binding,
        })
    }

    /// How many security events of `kind` this session has seen.
    pub fn security_count(&self, kind: SecurityKind) -> u64 {
        self.security_total[kind as usize]
    }

    /// The earliest time at which [`Self::handle_timeout`] has something to do.
    pub fn next_timeout(&self) -> Option<u64> {
        if self.phase == Phase::Closed {
            return None;
        }
        let mut best: Option<u64> = None;
        let mut add = |t: Option<u64>| {
            if let Some(t) = t {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        };
        match self.relay {
            Relay::Joining { since } => add(Some(since.saturating_add(self.t.join))),
            Relay::Joined => {
                add(Some(self.next_ping));
                add(Some(self.last_rx.saturating_add(self.t.relay_silence)));
            }
            Relay::Disconnected => {}
        }
        if self.phase == Phase::Waiting {
            add(self
                .waiting_since
                .map(|w| w.saturating_add(self.t.waiting_room)));
        }
        for p in self.peers.values() {
            add(p
                .absent_since
                .map(|a| a.saturating_add(self.t.peer_lost_grace)));
            add(p.neg.deadline);
            add(p.neg.ice_timer);
            if self.relay == Relay::Joined {
                if !p.confirmed && p.present {
                    add(p.hello_retry_at);
                    add(p.handshake_deadline);
                }
                if p.confirmed && p.keys.is_some() {
                    for m in &p.outbox {
                        add(Some(m.next_retx.unwrap_or(0)));
                    }
                }
            }
        }
        best
    }

    // ----- inputs from the relay connection ------------------------------------------------

    /// The WebSocket to the relay is open: queues the join. Also used to resume after
    /// [`Event::RelayLost`] / [`Event::RelayStalled`].
    pub fn handle_relay_connected(&mut self, now: u64) -> R {
        self.timeout_reported = false;
        if self.phase == Phase::Closed {
            return err(SignalingError::Closed);
        }
        if self.relay != Relay::Disconnected {
            return err(SignalingError::InvalidState);
        }
        self.relay = Relay::Joining { since: now };
        self.last_rx = now;
        if self.phase == Phase::Idle {
            self.set_phase(Phase::Joining);
        }
        let join = ClientMessage::Join {
            id: self.id,
            token: self.token.to_vec(),
        };
        self.out.push_back(Output::Transmit(join.encode()));
        Ok(())
    }

    /// The WebSocket closed or failed. Keys are discarded at once (forward secrecy); the
    /// call state is kept for the resumption.
    pub fn handle_relay_disconnected(&mut self, _now: u64) {
        self.timeout_reported = false;
        if self.relay == Relay::Disconnected {
            return;
        }
        self.relay = Relay::Disconnected;
        self.drop_keys();
        if self.phase != Phase::Closed {
            self.event(Event::RelayLost);
        }
    }

    /// One binary WebSocket message from the relay. An `Err` means the message was
    /// dropped and nothing changed (security counters aside).
    pub fn handle_relay_message(&mut self, bytes: &[u8], now: u64) -> R {
        self.timeout_reported = false;
        if self.phase == Phase::Closed {
            return err(SignalingError::Closed);
        }
        let msg = ServerMessage::decode(bytes).map_err(SignalingError::Wire)?;
        if self.relay == Relay::Disconnected {
            return err(SignalingError::InvalidState);
        }
        self.last_rx = now;
        match msg {
            ServerMessage::Welcome { role, present } => self.on_welcome(role, present, now),
            ServerMessage::Deliver { from, payload } => {
                if self.relay != Relay::Joined {
                    return err(SignalingError::ProtocolViolation);
                }
                self.on_frame(from, &payload, now)
            }
            ServerMessage::Joined { id, role } => self.on_joined(id, role, now),
            ServerMessage::Left { id, reason } => {
                match reason {
                    LeftReason::Lost => {
                        if let Some(p) = self.peers.get_mut(&id) {
                            p.present = false;
                            p.absent_since.get_or_insert(now);
                        }
                    }
                    LeftReason::Closed => self.remove_peer(id, LeaveReason::Left, now),
                    LeftReason::Removed => self.remove_peer(id, LeaveReason::Removed, now),
                }
                Ok(())
            }
            ServerMessage::Pong { .. } => Ok(()),
            ServerMessage::Error { code, .. } => {
                self.event(Event::RelayError { code });
                Ok(())
            }
        }
    }

    /// Time passed: run every timer due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        self.timeout_reported = false;
        if self.phase == Phase::Closed {
            return;
        }
        match self.relay {
            Relay::Joining { since } if now >= since.saturating_add(self.t.join) => self.stall(),
            Relay::Joined if now >= self.last_rx.saturating_add(self.t.relay_silence) => {
                self.stall()
            }
            Relay::Joined if now >= self.next_ping => {
                let nonce = self.rng.array();
                self.out
                    .push_back(Output::Transmit(ClientMessage::Ping { nonce }.encode()));
                self.next_ping = now.saturating_add(self.t.ping_interval);
            }
            _ => {}
        }
        if self.phase == Phase::Waiting
            && self
                .waiting_since
                .is_some_and(|w| now >= w.saturating_add(self.t.waiting_room))
        {
            self.close(CloseReason::WaitingRoomTimeout);
            return;
        }
        let ids: Vec<ParticipantId> = self.peers.keys().copied().collect();
        for pid in ids {
            self.peer_timers(pid, now);
        }
    }

    // ----- inputs from the media engine ------------------------------------------------------

    /// The media engine set a local description for `peer` (after
    /// [`MediaRequest::CreateOffer`] or [`MediaRequest::CreateAnswer`]). A stale offer
    /// (overtaken by a remote offer) is ignored.
    pub fn handle_local_description(
        &mut self,
        peer: ParticipantId,
        kind: SdpKind,
        sdp: &str,
        now: u64,
    ) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if sdp.len() > MAX_SDP_LEN {
            return err(SignalingError::TooLarge);
        }
        if crypto::encode_fingerprints(&sdp::fingerprints(sdp)) != self.own_fp {
            return err(SignalingError::CertificateMismatch);
        }
        let t_neg = self.t.negotiation;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SignalingError::InvalidState)?;
        if !p.neg.started {
            return err(SignalingError::InvalidState);
        }
        match kind {
            SdpKind::Offer => {
                if !p.neg.offer_pending || p.neg.sig != Sig::Stable {
                    return Ok(());
                }
                p.neg.offer_pending = false;
                p.neg.sig = Sig::LocalOffer;
                p.neg.deadline = Some(now.saturating_add(t_neg));
            }
            SdpKind::Answer => {
                if p.neg.sig != Sig::RemoteOffer {
                    return err(SignalingError::InvalidState);
                }
                p.neg.sig = Sig::Stable;
                p.neg.deadline = None;
            }
        }
        self.enqueue_signal(
            peer,
            &Signal::Description {
                kind,
                sdp: sdp.to_owned(),
            },
            now,
        )?;
        if kind == SdpKind::Answer {
            self.offer_if_needed(peer, now);
        }
        Ok(())
    }

    /// The media engine gathered a local ICE candidate for `peer` (trickle ICE).
    pub fn handle_local_candidate(
        &mut self,
        peer: ParticipantId,
        candidate: Candidate,
        now: u64,
    ) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if candidate.candidate.len() > MAX_CANDIDATE_LEN
            || candidate.sdp_mid.as_ref().is_some_and(|m| m.len() > 255)
        {
            return err(SignalingError::TooLarge);
        }
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SignalingError::InvalidState);
        }
        self.enqueue_signal(peer, &Signal::Candidate(candidate), now)
    }

    /// The ICE connection state of `peer`'s connection changed. `failed` (or
    /// `disconnected` for too long) triggers an ICE restart.
    pub fn handle_ice_state(&mut self, peer: ParticipantId, state: IceState, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        let impolite = self.id > peer;
        let t = self.t;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SignalingError::InvalidState)?;
        p.neg.ice = state;
        match state {
            IceState::Connected | IceState::Completed => {
                p.neg.ice_timer = None;
                p.neg.restarts = 0;
                p.neg.failed_reported = false;
                if !p.neg.connected {
                    p.neg.connected = true;
                    self.event(Event::PeerConnected { peer });
                }
            }
            IceState::Disconnected => {
                p.neg.ice_timer = Some(now.saturating_add(t.ice_disconnected));
            }
            IceState::Failed => {
                p.neg.connected = false;
                if impolite {
                    p.neg.ice_timer = None;
                    self.try_restart(peer, now);
                } else {
                    p.neg.ice_timer = Some(now.saturating_add(t.ice_restart_grace));
                }
            }
            IceState::New | IceState::Checking | IceState::Closed => {}
        }
        Ok(())
    }

    /// Mixes more platform entropy into the session's generator (optional; useful before
    /// a resumption).
    pub fn add_entropy(&mut self, entropy: &[u8]) {
        self.rng.reseed(entropy);
    }

    // ----- user actions ----------------------------------------------------------------------

    /// (Clinicians) admits a waiting patient or guest into the call.
    pub fn admit(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if self.role != Role::Clinician {
            return err(SignalingError::NotPermitted);
        }
        let p = self.peers.get(&peer).ok_or(SignalingError::InvalidState)?;
        if p.remote.is_none() || p.denied || p.relay_role == Role::Clinician {
            return err(SignalingError::InvalidState);
        }
        if p.admitted {
            return Ok(());
        }
        let others: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(id, q)| **id != peer && q.in_call())
            .map(|(id, _)| *id)
            .collect();
        let mut in_call = others.clone();
        in_call.push(self.id);
        in_call.truncate(MAX_PARTICIPANTS);
        self.enqueue_signal(peer, &Signal::Admit { in_call }, now)?;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.admitted = true;
        }
        for q in others {
            // Best effort: a full queue towards q only delays q's view of the newcomer.
            let _ = self.enqueue_signal(q, &Signal::Admitted(peer), now);
        }
        self.event(Event::PeerAdmitted { peer });
        self.maybe_start(peer, now);
        Ok(())
    }

    /// (Clinicians) turns a waiting participant away (or removes an admitted one).
    pub fn deny(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if self.role != Role::Clinician {
            return err(SignalingError::NotPermitted);
        }
        let p = self.peers.get(&peer).ok_or(SignalingError::InvalidState)?;
        if p.remote.is_none() || p.relay_role == Role::Clinician {
            return err(SignalingError::InvalidState);
        }
        self.enqueue_signal(peer, &Signal::Deny, now)?;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.denied = true;
            p.admitted = false;
            if p.has_connection() {
                p.neg = Neg::new();
                p.prepared = false;
                self.out.push_back(Output::Media {
                    peer,
                    request: MediaRequest::ClosePeer,
                });
            }
        }
        self.event(Event::PeerDenied { peer });
        Ok(())
    }

    /// The user compared the SAS with `peer` and it matched: record it and tell the peer.
    pub fn confirm_sas(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        let me = self.id;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SignalingError::InvalidState)?;
        let (Some(_), Some(prk), Some((lo, hi))) = (
            p.sas.code,
            p.sas_prk.as_ref(),
            sas_inputs(&self.own_fp, me, peer, &p.sas),
        ) else {
            return err(SignalingError::InvalidState);
        };
        let tag = Sas::confirm_tag(prk, &me.0, lo.input(), hi.input());
        p.sas.confirmed_local = true;
        self.enqueue_signal(peer, &Signal::SasConfirm(tag), now)
    }

    /// Leaves the consultation: a sealed bye to every peer, then every peer connection
    /// closes. Idempotent.
    pub fn hang_up(&mut self, now: u64) -> R {
        self.timeout_reported = false;
        if self.phase == Phase::Closed {
            return Ok(());
        }
        self.broadcast_bye(0, now);
        self.close(CloseReason::HungUp);
        Ok(())
    }

    /// (Clinicians) ends the consultation for everyone.
    pub fn end_consultation(&mut self, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if self.role != Role::Clinician {
            return err(SignalingError::NotPermitted);
        }
        self.broadcast_bye(1, now);
        self.close(CloseReason::HungUp);
        Ok(())
    }

    /// Sends application data (consent events, readings, chat) to `peer`: sealed, reliable,
    /// in order, exactly once while both sessions live (docs/PROTOCOL.md, "App data").
    pub fn send_app_data(&mut self, peer: ParticipantId, data: &[u8], now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if data.len() > MAX_APP_DATA_LEN {
            return err(SignalingError::TooLarge);
        }
        if !self
            .peers
            .get(&peer)
            .is_some_and(|p| p.remote.is_some() && !p.denied)
        {
            return err(SignalingError::InvalidState);
        }
        self.enqueue(peer, KIND_APP_DATA, data.to_vec(), now)
    }

    /// The media engine needs a new offer for `peer` (a track was added or removed:
    /// `negotiationneeded`).
    pub fn request_renegotiation(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SignalingError::InvalidState);
        }
        self.request_offer(peer, false, now);
        Ok(())
    }

    /// Restarts ICE with `peer` (network change, or the app decided so).
    pub fn restart_ice(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SignalingError::InvalidState);
        }
        self.request_offer(peer, true, now);
        Ok(())
    }

    /// Test hook (feature `test-hooks`): processes `sig` as if `from` had sent it over
    /// the pair's sealed channel — an insider peer that sends whatever it likes.
    #[cfg(feature = "test-hooks")]
    pub fn test_deliver_signal(&mut self, from: ParticipantId, sig: Signal, now: u64) {
        self.on_signal(from, sig, now);
    }

    // ----- output ----------------------------------------------------------------------------

    /// The next thing to do. Call until it returns `None`; a [`Output::Timeout`] is
    /// returned once after the queue drains (when a timer is pending).
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        if !self.timeout_reported {
            self.timeout_reported = true;
            return self.next_timeout().map(Output::Timeout);
        }
        None
    }

    // ----- internals: relay ------------------------------------------------------------------

    fn check_open(&self) -> Result<(), SignalingError> {
        if self.phase == Phase::Closed {
            Err(SignalingError::Closed)
        } else {
            Ok(())
        }
    }

    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    fn set_phase(&mut self, phase: Phase) {
        if self.phase != phase {
            self.phase = phase;
            self.event(Event::PhaseChanged(phase));
        }
    }

    fn security(&mut self, kind: SecurityKind, peer: Option<ParticipantId>, now: u64) {
        let i = kind as usize;
        self.security_total[i] = self.security_total[i].saturating_add(1);
        let due = self.security_last[i]
            .is_none_or(|t| now >= t.saturating_add(SECURITY_EVENT_INTERVAL_MS));
        if due {
            self.security_last[i] = Some(now);
            let total = self.security_total[i];
            self.event(Event::Security(SecurityEvent { kind, peer, total }));
        }
    }

    fn stall(&mut self) {
        self.relay = Relay::Disconnected;
        self.drop_keys();
        self.event(Event::RelayStalled);
    }

    fn drop_keys(&mut self) {
        self.hello = None;
        for p in self.peers.values_mut() {
            p.keys = None;
            p.confirmed = false;
            p.replied = false;
        }
    }

    fn transmit_to(&mut self, to: ParticipantId, payload: Vec<u8>) {
        self.out.push_back(Output::Transmit(
            ClientMessage::Send { to, payload }.encode(),
        ));
    }

    fn on_welcome(&mut self, role: Role, present: Vec<(ParticipantId, Role)>, now: u64) -> R {
        if !matches!(self.relay, Relay::Joining { .. }) {
            return err(SignalingError::ProtocolViolation);
        }
        if role != self.role {
            return err(SignalingError::RoleConflict);
        }
        self.relay = Relay::Joined;
        self.next_ping = now.saturating_add(self.t.ping_interval);
        self.start_epoch(now);
        let mut listed = Vec::new();
        for (id, r) in present {
            if id == self.id || id.is_broadcast() || listed.contains(&id) {
                continue;
            }
            if self.add_or_refresh_peer(id, r, now).is_ok() {
                listed.push(id);
            }
        }
        let t = self.t;
        for (id, p) in self.peers.iter_mut() {
            if listed.contains(id) {
                p.hello_retry_at = Some(now.saturating_add(t.hello_retry));
                p.hello_backoff = t.hello_retry;
                p.handshake_deadline = Some(now.saturating_add(t.handshake));
            } else if p.present {
                p.present = false;
                p.absent_since = Some(now);
            }
        }
        match self.phase {
            Phase::Joining | Phase::Idle if self.self_admitted => self.set_phase(Phase::InCall),
            Phase::Joining | Phase::Idle => {
                self.waiting_since.get_or_insert(now);
                self.set_phase(Phase::Waiting);
            }
            _ => {}
        }
        self.send_hello(ParticipantId::BROADCAST, 0);
        self.event(Event::RelayConnected);
        for id in listed {
            self.prepare_for_clinician(id);
        }
        Ok(())
    }

    fn on_joined(&mut self, id: ParticipantId, role: Role, now: u64) -> R {
        if self.relay != Relay::Joined || id == self.id || id.is_broadcast() {
            return err(SignalingError::ProtocolViolation);
        }
        self.add_or_refresh_peer(id, role, now)?;
        self.prepare_for_clinician(id);
        Ok(())
    }

    /// A patient or guest will make the first offer to a clinician as soon as it is admitted
    /// (see [`Session::maybe_start`]): its connection is prepared while the handshake and the
    /// admission are in flight. Nothing is sent until then.
    fn prepare_for_clinician(&mut self, id: ParticipantId) {
        if self.role != Role::Clinician
            && self
                .peers
                .get(&id)
                .is_some_and(|p| p.relay_role == Role::Clinician)
        {
            self.prepare(id);
        }
    }

    fn add_or_refresh_peer(&mut self, id: ParticipantId, role: Role, now: u64) -> R {
        if let Some(p) = self.peers.get_mut(&id) {
            if p.relay_role != role {
                self.security(SecurityKind::RoleConflict, Some(id), now);
                return err(SignalingError::RoleConflict);
            }
            p.present = true;
            p.absent_since = None;
            p.handshake_deadline
                .get_or_insert(now.saturating_add(self.t.handshake));
            return Ok(());
        }
        if self.peers.len() + 1 >= MAX_PARTICIPANTS {
            return err(SignalingError::RoomFull);
        }
        if role == Role::Patient && self.has_other_patient(id) {
            self.security(SecurityKind::RoleConflict, Some(id), now);
            return err(SignalingError::RoleConflict);
        }
        self.peers.insert(id, Peer::new(role, now, &self.t));
        Ok(())
    }

    /// Whether someone other than `id` is the patient: this session, or a present peer
    /// whose hello proved the patient role (a relay's announcement alone does not count,
    /// so an impostor announced as patient cannot keep the real one out).
    fn has_other_patient(&self, id: ParticipantId) -> bool {
        self.role == Role::Patient
            || self.peers.iter().any(|(q, p)| {
                *q != id && p.present && p.remote.as_ref().is_some_and(|r| r.role == Role::Patient)
            })
    }

    fn start_epoch(&mut self, now: u64) {
        self.epoch = self.epoch.saturating_add(1).max(now);
        let ephemeral = match self.first_ephemeral.take() {
            Some(e) => e,
            None => Ephemeral::from_random(self.rng.array()),
        };
        let salt: [u8; 8] = self.rng.array();
        let key = self.room_keys.hello_key(&self.id.0, &salt);
        let mut hello = Hello {
            max_version: VERSION,
            epoch: self.epoch,
            static_public: self.static_key.public(),
            ephemeral_public: ephemeral.public(),
            role: self.role,
            capabilities: self.capabilities,
            name: self.name.expose().clone(),
            proof: None,
            reply_to: 0,
        };
        let core = hello.core();
        hello.proof = self.authority.prove(&self.room.0, &self.id.0, &core);
        let mut body = hello.encode();
        body.truncate(body.len() - 8); // reply_to is appended per send
        self.hello = Some(OwnHello {
            epoch: self.epoch,
            ephemeral,
            sealer: Sealer::new(&key, salt),
            core,
            body,
        });
        for p in self.peers.values_mut() {
            p.keys = None;
            p.confirmed = false;
            p.replied = false;
        }
    }

    fn send_hello(&mut self, to: ParticipantId, reply_to: u64) {
        let (room, me) = (self.room.0, self.id.0);
        let Some(h) = self.hello.as_mut() else { return };
        let mut body = h.body.clone();
        body.extend_from_slice(&reply_to.to_be_bytes());
        if let Ok(frame) = h.sealer.seal(KIND_HELLO, &room, &me, &to.0, &body) {
            self.transmit_to(to, frame);
        }
    }

    // ----- internals: frames -----------------------------------------------------------------

    fn on_frame(&mut self, from: ParticipantId, payload: &[u8], now: u64) -> R {
        if !self.peers.contains_key(&from) {
            return err(SignalingError::UnknownPeer);
        }
        let h = match Header::parse(payload) {
            Ok(h) => h,
            Err(e) => {
                self.security(SecurityKind::Malformed, Some(from), now);
                return Err(e.into());
            }
        };
        if h.version != VERSION {
            if h.version < VERSION {
                self.security(SecurityKind::Downgrade, Some(from), now);
                return err(SignalingError::Downgrade);
            }
            return err(SignalingError::UnsupportedVersion);
        }
        let misroute = if h.room != self.room.0 {
            Some(SignalingError::WrongRoom)
        } else if h.sender != from.0 {
            Some(SignalingError::SenderMismatch)
        } else if h.recipient != self.id.0 && !(h.kind == KIND_HELLO && h.recipient == [0; 8]) {
            Some(SignalingError::Misaddressed)
        } else {
            None
        };
        if let Some(e) = misroute {
            self.security(SecurityKind::Misrouted, Some(from), now);
            return err(e);
        }
        match h.kind {
            KIND_HELLO => self.on_hello(from, &h, payload, now),
            KIND_SIGNAL | KIND_APP_DATA | KIND_ACK | KIND_BYE => self.on_sealed(from, payload, now),
            _ => {
                self.security(SecurityKind::Malformed, Some(from), now);
                err(SignalingError::Malformed)
            }
        }
    }

    fn on_sealed(&mut self, from: ParticipantId, payload: &[u8], now: u64) -> R {
        let p = self
            .peers
            .get_mut(&from)
            .ok_or(SignalingError::UnknownPeer)?;
        let Some(keys) = p.keys.as_mut() else {
            return Err(CryptoError::UnknownKey.into());
        };
        let (h, body) = match keys.opener.open(payload) {
            Ok(x) => x,
            Err(e) => {
                match e {
                    CryptoError::UnknownKey => {}
                    CryptoError::Replayed | CryptoError::TooOld => {
                        self.security(SecurityKind::Replay, Some(from), now)
                    }
                    _ => self.security(SecurityKind::AuthenticationFailed, Some(from), now),
                }
                return Err(e.into());
            }
        };
        if !p.confirmed {
            p.confirmed = true;
            self.on_confirmed(from, now);
        }
        match h.kind {
            KIND_ACK => self.on_ack(from, &body, now),
            KIND_BYE => self.on_bye(from, &body, now),
            kind => self.on_reliable(from, kind, &body, now),
        }
    }

    fn violation(&mut self, from: ParticipantId, now: u64) -> R {
        self.security(SecurityKind::ProtocolViolation, Some(from), now);
        err(SignalingError::ProtocolViolation)
    }

    fn on_hello(&mut self, from: ParticipantId, h: &Header, payload: &[u8], now: u64) -> R {
        // Rate limit before any cryptography: a flood costs one comparison per frame.
        {
            let p = self
                .peers
                .get_mut(&from)
                .ok_or(SignalingError::UnknownPeer)?;
            if now.saturating_sub(p.hello_rate.0) >= HELLO_RATE_WINDOW_MS {
                p.hello_rate = (now, 0);
            }
            if p.hello_rate.1 >= HELLO_BURST {
                self.security(SecurityKind::RateLimited, Some(from), now);
                return err(SignalingError::RateLimited);
            }
            p.hello_rate.1 += 1;
        }
        let key = self.room_keys.hello_key(&from.0, &h.key_id);
        let p = self.peers.get(&from).ok_or(SignalingError::UnknownPeer)?;
        let window = match p.hello_window {
            Some((salt, w)) if salt == h.key_id => w,
            _ => ReplayWindow::default(),
        };
        let mut opener = Opener::with_window(&key, h.key_id, window);
        let body = match opener.open(payload) {
            Ok((_, body)) => body,
            Err(e) => {
                let kind = match e {
                    CryptoError::Replayed | CryptoError::TooOld => SecurityKind::Replay,
                    _ => SecurityKind::AuthenticationFailed,
                };
                self.security(kind, Some(from), now);
                return Err(e.into());
            }
        };
        let Ok(hello) = Hello::decode(&body) else {
            return self.violation(from, now);
        };
        if hello.max_version < VERSION {
            self.security(SecurityKind::Downgrade, Some(from), now);
            return err(SignalingError::Downgrade);
        }
        // First contact: our reply hello depends on nothing the peer sent but its epoch, so
        // it goes out before the expensive checks (the role proof, then X25519), and the
        // peer verifies ours while we verify its own. A hello that then fails them gets
        // nothing more: we never key it. Our hello is no secret from anyone who can open
        // the peer's (the room secret seals both).
        let my_epoch = self.hello.as_ref().map_or(0, |o| o.epoch);
        let replied_early = p.remote.is_none()
            && hello.reply_to != my_epoch
            && hello.role == p.relay_role
            && self
                .memory
                .check(from, &hello.static_public, hello.epoch)
                .is_ok();
        if replied_early {
            self.send_hello(from, hello.epoch);
        }
        let Some(p) = self.peers.get(&from) else {
            return err(SignalingError::UnknownPeer);
        };
        let entitled = self.authority.verify(
            hello.role,
            &self.room.0,
            &from.0,
            &hello.core(),
            hello.proof.as_ref(),
        );
        if !entitled
            || hello.role != p.relay_role
            || (hello.role == Role::Patient && self.has_other_patient(from))
        {
            self.security(SecurityKind::RoleConflict, Some(from), now);
            return err(SignalingError::RoleConflict);
        }
        let core = hello.core();
        let restarted = match &p.remote {
            Some(r) if r.static_public == hello.static_public => {
                if hello.epoch < r.epoch {
                    self.security(SecurityKind::Replay, Some(from), now);
                    return Err(CryptoError::Replayed.into());
                }
                if hello.epoch == r.epoch && p.keys.is_none() && core == r.core {
                    // Our own epoch changed (we resumed): derive new keys from the peer's
                    // unchanged hello below.
                    false
                } else if hello.epoch == r.epoch {
                    if core != r.core {
                        return self.violation(from, now);
                    }
                    self.commit_hello_window(from, h.key_id, opener.window());
                    self.on_repeated_hello(from, hello.reply_to, my_epoch, now);
                    return Ok(());
                } else {
                    false
                }
            }
            Some(_) => true,
            None => false,
        };
        // A new handshake epoch (first contact, resumption, or a restarted peer). The
        // lifetime memory refuses a retired static key or an epoch older than one keyed.
        match self.memory.check(from, &hello.static_public, hello.epoch) {
            Ok(()) => {}
            Err(Refusal::Replay) => {
                self.security(SecurityKind::Replay, Some(from), now);
                return Err(CryptoError::Replayed.into());
            }
            Err(Refusal::Full) => {
                self.security(SecurityKind::RateLimited, Some(from), now);
                return err(SignalingError::RateLimited);
            }
        }
        if restarted {
            // Also moves us to a new epoch: our ephemeral keyed the peer's old session.
            self.reset_peer(from, now);
        }
        let Some(own) = self.hello.as_ref() else {
            return err(SignalingError::InvalidState);
        };
        let my_epoch = own.epoch;
        let th = crypto::transcript_hash(&self.room.0, (&self.id.0, &own.core), (&from.0, &core));
        let peer_pub = PeerPublic {
            id: &from.0,
            static_public: &hello.static_public,
            ephemeral_public: &hello.ephemeral_public,
        };
        let secrets = match crypto::derive_pair(
            &self.room.0,
            &self.room_keys,
            &self.static_key,
            &own.ephemeral,
            &self.id.0,
            peer_pub,
            &th,
        ) {
            Ok(s) => s,
            Err(_) => return self.violation(from, now),
        };
        if self.memory.used_session_id(from, &secrets.session_id) {
            // These exact keys were installed before: installing them again would restart
            // a sealer at sequence 0. Never happens unless the memory above was bypassed.
            self.security(SecurityKind::Replay, Some(from), now);
            return Err(CryptoError::Replayed.into());
        }
        let carried = self
            .memory
            .keyed(from, hello.static_public, hello.epoch, secrets.session_id);
        self.commit_hello_window(from, h.key_id, opener.window());
        let name = Redacted::new(hello.name.clone());
        let pre_admitted = self.pre_admitted.contains(&from);
        let p = self
            .peers
            .get_mut(&from)
            .ok_or(SignalingError::UnknownPeer)?;
        p.remote = Some(Remote {
            epoch: hello.epoch,
            static_public: hello.static_public,
            role: hello.role,
            name: name.clone(),
            core,
        });
        p.sas_prk = Some(Zeroizing::new(secrets.sas_prk));
        p.keys = Some(Keys {
            sealer: Sealer::new(&secrets.send, secrets.session_id),
            opener: Opener::new(&secrets.recv, secrets.session_id),
        });
        p.confirmed = false;
        p.identity = secrets.identity;
        if let Some(c) = carried {
            // The same peer session is back after its record was dropped (it left, or the
            // relay said so): continue its message ids, so nothing is delivered twice, and
            // its SAS, which the peer still holds.
            p.next_in = p.next_in.max(c.next_in);
            p.next_out = p.next_out.max(c.next_out);
            p.admitted |= c.admitted;
            p.denied |= c.denied;
            p.sas = c.sas;
        }
        if pre_admitted {
            p.admitted = true;
        }
        let first = !p.joined_announced;
        p.joined_announced = true;
        let admitted = p.admitted;
        let announce = first.then_some((hello.role, name, admitted));
        if hello.reply_to == my_epoch {
            self.announce(from, announce);
            if let Some(p) = self.peers.get_mut(&from) {
                p.confirmed = true;
            }
            self.send_ack(from);
            self.on_confirmed(from, now);
        } else {
            // The reply goes out before the app hears of the newcomer: the peer is waiting
            // for it, and the app's handlers (an admission dialog, say) may take a while.
            if !replied_early {
                self.send_hello(from, hello.epoch);
            }
            let (t, t_retx) = (self.t.hello_retry, self.t.retransmit);
            if let Some(p) = self.peers.get_mut(&from) {
                p.last_reply_at = Some(now);
                p.hello_retry_at = Some(now.saturating_add(t));
                p.hello_backoff = t;
                p.replied = true;
                restart_outbox(p, t_retx);
            }
            // Anything queued for this peer follows the reply under the new keys.
            self.pump(from, now);
            self.announce(from, announce);
        }
        self.start_sas(from, now);
        self.update_sas(from, now);
        Ok(())
    }

    /// Tells the app about a peer's first hello: it joined, and (to a clinician) that it
    /// asks to be admitted.
    fn announce(&mut self, from: ParticipantId, first: Option<(Role, Redacted<String>, bool)>) {
        let Some((role, name, admitted)) = first else {
            return;
        };
        self.event(Event::PeerJoined {
            peer: from,
            role,
            name: name.clone(),
        });
        if self.role == Role::Clinician && role != Role::Clinician && !admitted {
            self.event(Event::AdmissionRequested {
                peer: from,
                role,
                name,
            });
        }
    }

    fn commit_hello_window(&mut self, from: ParticipantId, salt: [u8; 8], w: ReplayWindow) {
        if let Some(p) = self.peers.get_mut(&from) {
            p.hello_window = Some((salt, w));
        }
    }

    /// A retransmitted hello of the current epoch: answer it (rate-limited) so that a lost
    /// reply or key confirmation cannot leave the pair half-established.
    fn on_repeated_hello(&mut self, from: ParticipantId, reply_to: u64, my_epoch: u64, now: u64) {
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if p.keys.is_none() {
            return;
        }
        let newly = reply_to == my_epoch && !p.confirmed;
        if newly {
            p.confirmed = true;
        }
        let may_answer = p
            .last_reply_at
            .is_none_or(|t| now >= t.saturating_add(HELLO_REPLY_GAP_MS));
        if newly || may_answer {
            p.last_reply_at = Some(now);
            let epoch = p.remote.as_ref().map_or(0, |r| r.epoch);
            if reply_to == my_epoch {
                // Key confirmation: our first sealed frame tells the peer we hold the keys.
                self.send_ack(from);
            } else {
                self.send_hello(from, epoch);
            }
        }
        if newly {
            self.on_confirmed(from, now);
        }
    }

    fn on_confirmed(&mut self, from: ParticipantId, now: u64) {
        let t = self.t.retransmit;
        if let Some(p) = self.peers.get_mut(&from) {
            p.hello_retry_at = None;
            p.handshake_deadline = None;
            // What went out after our reply was sealed with these keys already: it keeps its
            // retransmission timer. Anything else is (re)sent now under them.
            if !p.replied {
                restart_outbox(p, t);
            }
        }
        self.pump(from, now);
        self.maybe_start(from, now);
    }

    fn send_ack(&mut self, to: ParticipantId) {
        let next = self.peers.get(&to).map_or(1, |p| p.next_in);
        self.seal_and_send(to, KIND_ACK, &next.to_be_bytes());
    }

    fn seal_and_send(&mut self, to: ParticipantId, kind: u8, body: &[u8]) -> bool {
        let (room, me) = (self.room.0, self.id.0);
        let Some(keys) = self.peers.get_mut(&to).and_then(|p| p.keys.as_mut()) else {
            return false;
        };
        match keys.sealer.seal(kind, &room, &me, &to.0, body) {
            Ok(frame) => {
                self.transmit_to(to, frame);
                true
            }
            Err(CryptoError::NonceExhausted) => {
                // Hard stop reached: re-key every pair with a fresh epoch.
                if self.relay == Relay::Joined {
                    let now = self.epoch.saturating_add(1);
                    self.start_epoch(now);
                    self.send_hello(ParticipantId::BROADCAST, 0);
                }
                false
            }
            Err(_) => false,
        }
    }

    fn on_ack(&mut self, from: ParticipantId, body: &[u8], now: u64) -> R {
        let Ok(next) = message::decode_ack(body) else {
            return self.violation(from, now);
        };
        let p = self
            .peers
            .get_mut(&from)
            .ok_or(SignalingError::UnknownPeer)?;
        if next > p.next_out {
            return self.violation(from, now);
        }
        p.outbox.retain(|m| m.id >= next);
        Ok(())
    }

    fn on_bye(&mut self, from: ParticipantId, body: &[u8], now: u64) -> R {
        let Ok(reason) = message::decode_bye(body) else {
            return self.violation(from, now);
        };
        let clinician = self
            .peers
            .get(&from)
            .is_some_and(|p| p.relay_role == Role::Clinician);
        if reason == 1 && clinician {
            self.close(CloseReason::EndedByClinician);
        } else {
            self.remove_peer(from, LeaveReason::Left, now);
        }
        Ok(())
    }

    fn on_reliable(&mut self, from: ParticipantId, kind: u8, body: &[u8], now: u64) -> R {
        let Ok((id, payload)) = message::split_reliable(body) else {
            return self.violation(from, now);
        };
        let p = self
            .peers
            .get_mut(&from)
            .ok_or(SignalingError::UnknownPeer)?;
        if id == 0 {
            return self.violation(from, now);
        }
        if id >= p.next_in.saturating_add(REORDER_WINDOW) {
            // Too far ahead to buffer; not acknowledged, so the sender retransmits it.
            return Ok(());
        }
        if id >= p.next_in && !p.reorder.contains_key(&id) {
            p.reorder.insert(id, (kind, payload.to_vec()));
        }
        let mut ready = Vec::new();
        while let Some(m) = p.reorder.remove(&p.next_in) {
            p.next_in += 1;
            ready.push(m);
        }
        self.send_ack(from);
        for (kind, payload) in ready {
            if kind == KIND_APP_DATA {
                let keep = self.peers.get(&from).is_some_and(|p| !p.denied);
                if keep {
                    self.event(Event::AppData {
                        peer: from,
                        data: payload,
                    });
                }
                continue;
            }
            match Signal::decode(&payload) {
                Ok(sig) => self.on_signal(from, sig, now),
                Err(_) => {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                }
            }
        }
        Ok(())
    }

    fn media_allowed(&self, pid: ParticipantId) -> bool {
        self.phase == Phase::InCall && self.peers.get(&pid).is_some_and(Peer::in_call)
    }

    fn is_clinician_peer(&self, pid: ParticipantId) -> bool {
        self.peers.get(&pid).is_some_and(|p| {
            p.relay_role == Role::Clinician
                && p.remote.as_ref().is_some_and(|r| r.role == Role::Clinician)
        })
    }

    fn on_signal(&mut self, from: ParticipantId, sig: Signal, now: u64) {
        match sig {
            Signal::Description { .. } | Signal::Candidate(_) => {
                if self.media_allowed(from) {
                    self.apply_media(from, sig, now);
                } else if let Some(p) = self.peers.get_mut(&from) {
                    if !p.denied && p.deferred.len() < MAX_DEFERRED {
                        p.deferred.push_back(sig);
                    }
                }
            }
            Signal::Admit { in_call } => {
                if !self.is_clinician_peer(from) || self.role == Role::Clinician {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                    return;
                }
                for id in in_call {
                    self.mark_admitted(id);
                }
                if !self.self_admitted {
                    self.self_admitted = true;
                    self.waiting_since = None;
                    if self.phase == Phase::Waiting {
                        self.set_phase(Phase::InCall);
                    }
                }
                let ids: Vec<ParticipantId> = self.peers.keys().copied().collect();
                for id in ids {
                    self.maybe_start(id, now);
                }
            }
            Signal::Deny => {
                if !self.is_clinician_peer(from) || self.role == Role::Clinician {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                    return;
                }
                self.close(CloseReason::Denied);
            }
            Signal::Admitted(id) => {
                if !self.is_clinician_peer(from) {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                    return;
                }
                self.mark_admitted(id);
                self.maybe_start(id, now);
            }
            Signal::SasConfirm(tag) => {
                if let Some(p) = self.peers.get_mut(&from) {
                    p.pending_confirm = Some(tag);
                }
                self.check_sas_confirm(from, now);
            }
            Signal::SasCommit(c) => self.on_sas_commit(from, c, now),
            Signal::SasReveal { nonce, fingerprint } => {
                self.on_sas_reveal(from, nonce, fingerprint, now)
            }
        }
    }

    fn mark_admitted(&mut self, id: ParticipantId) {
        if id == self.id {
            return;
        }
        match self.peers.get_mut(&id) {
            Some(p) if p.relay_role != Role::Clinician => {
                if !p.admitted {
                    p.admitted = true;
                    self.event(Event::PeerAdmitted { peer: id });
                }
            }
            Some(_) => {}
            None => {
                if !self.pre_admitted.contains(&id) && self.pre_admitted.len() < MAX_PARTICIPANTS {
                    self.pre_admitted.push(id);
                }
            }
        }
    }

    // ----- internals: reliable delivery --------------------------------------------------------

    fn enqueue_signal(&mut self, to: ParticipantId, sig: &Signal, now: u64) -> R {
        self.enqueue(to, KIND_SIGNAL, sig.encode(), now)
    }

    fn enqueue(&mut self, to: ParticipantId, kind: u8, payload: Vec<u8>, now: u64) -> R {
        let backoff = self.t.retransmit;
        let p = self
            .peers
            .get_mut(&to)
            .ok_or(SignalingError::InvalidState)?;
        if p.outbox.len() >= MAX_OUTBOX {
            return err(SignalingError::QueueFull);
        }
        let id = p.next_out;
        p.next_out += 1;
        p.outbox.push_back(OutMsg {
            id,
            kind,
            payload,
            next_retx: None,
            backoff,
        });
        self.pump(to, now);
        Ok(())
    }

    /// Sends every queued message that is due, if the pair has confirmed keys.
    fn pump(&mut self, to: ParticipantId, now: u64) {
        if self.relay != Relay::Joined {
            return;
        }
        let Some(p) = self.peers.get_mut(&to) else {
            return;
        };
        if !(p.confirmed || p.replied) || p.keys.is_none() {
            return;
        }
        let mut due = Vec::new();
        for m in p.outbox.iter_mut() {
            if m.next_retx.is_none_or(|t| t <= now) {
                let mut body = m.id.to_be_bytes().to_vec();
                body.extend_from_slice(&m.payload);
                due.push((m.kind, body));
                m.next_retx = Some(now.saturating_add(m.backoff));
                m.backoff = m.backoff.saturating_mul(2).min(MAX_BACKOFF_MS);
            }
        }
        for (kind, body) in due {
            if !self.seal_and_send(to, kind, &body) {
                break;
            }
        }
    }

    fn peer_timers(&mut self, pid: ParticipantId, now: u64) {
        let t = self.t;
        let joined = self.relay == Relay::Joined;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.absent_since
            .is_some_and(|a| now >= a.saturating_add(t.peer_lost_grace))
        {
            self.remove_peer(pid, LeaveReason::Lost, now);
            return;
        }
        if joined && !p.confirmed && p.present {
            if p.hello_retry_at.is_some_and(|r| now >= r) {
                let reply_to = p.remote.as_ref().map_or(0, |r| r.epoch);
                p.hello_backoff = p.hello_backoff.saturating_mul(2).min(MAX_BACKOFF_MS);
                p.hello_retry_at = Some(now.saturating_add(p.hello_backoff));
                self.send_hello(pid, reply_to);
            }
            let Some(p) = self.peers.get_mut(&pid) else {
                return;
            };
            if p.handshake_deadline.is_some_and(|d| now >= d) {
                p.handshake_deadline = None;
                self.event(Event::HandshakeTimeout { peer: pid });
            }
        }
        self.pump(pid, now);
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.deadline.is_some_and(|d| now >= d) {
            p.neg.deadline = None;
            self.negotiation_expired(pid, now);
        }
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.ice_timer.is_some_and(|d| now >= d) {
            p.neg.ice_timer = None;
            if matches!(p.neg.ice, IceState::Disconnected | IceState::Failed) {
                self.try_restart(pid, now);
            }
        }
    }

    // ----- internals: negotiation --------------------------------------------------------------

    fn maybe_start(&mut self, pid: ParticipantId, now: u64) {
        if !self.media_allowed(pid) {
            return;
        }
        let t = self.t.negotiation;
        let me = self.role;
        let id = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        // Who makes the first offer: the participant joining a clinician (the one who was
        // admitted) offers, so media starts as soon as the admission arrives; between equals
        // the impolite (higher id) side offers. Glare is still resolved by politeness.
        let offers_first = match (me, p.relay_role) {
            (Role::Clinician, Role::Patient | Role::Guest) => false,
            (Role::Patient | Role::Guest, Role::Clinician) => true,
            _ => id > pid,
        };
        // The answerer prepares its connection once the pair is confirmed — after the
        // admission went out (on_confirmed sends it first), while the other side is busy
        // making its offer.
        let prepare = !offers_first && p.confirmed;
        if !p.neg.started {
            p.neg.started = true;
            if !offers_first {
                p.neg.deadline = Some(now.saturating_add(t));
            } else {
                self.request_offer(pid, false, now);
            }
        }
        if prepare {
            self.prepare(pid);
        }
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        let deferred: Vec<Signal> = p.deferred.drain(..).collect();
        for sig in deferred {
            self.apply_media(pid, sig, now);
        }
    }

    /// Asks the driver to create the connection for `pid` ahead of negotiation (once).
    fn prepare(&mut self, pid: ParticipantId) {
        if let Some(p) = self.peers.get_mut(&pid)
            && !p.prepared
        {
            p.prepared = true;
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::Prepare,
            });
        }
    }

    fn request_offer(&mut self, pid: ParticipantId, ice_restart: bool, now: u64) {
        let t = self.t.negotiation;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.sig == Sig::Stable && !p.neg.offer_pending {
            p.neg.offer_pending = true;
            p.neg.deadline = Some(now.saturating_add(t));
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::CreateOffer { ice_restart },
            });
        } else {
            p.neg.needed = true;
            p.neg.restart_needed |= ice_restart;
        }
    }

    fn offer_if_needed(&mut self, pid: ParticipantId, now: u64) {
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.needed && p.neg.sig == Sig::Stable && !p.neg.offer_pending {
            p.neg.needed = false;
            let restart = core::mem::take(&mut p.neg.restart_needed);
            self.request_offer(pid, restart, now);
        }
    }

    fn try_restart(&mut self, pid: ParticipantId, now: u64) {
        let max = self.t.max_ice_restarts;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if !p.neg.started {
            return;
        }
        if p.neg.restarts >= max {
            if !p.neg.failed_reported {
                p.neg.failed_reported = true;
                self.event(Event::PeerMediaFailed { peer: pid });
            }
            return;
        }
        p.neg.restarts += 1;
        self.request_offer(pid, true, now);
    }

    fn negotiation_expired(&mut self, pid: ParticipantId, now: u64) {
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        match (p.neg.sig, p.neg.offer_pending) {
            (Sig::LocalOffer, _) => {
                p.neg.sig = Sig::Stable;
                self.out.push_back(Output::Media {
                    peer: pid,
                    request: MediaRequest::Rollback,
                });
                self.try_restart(pid, now);
            }
            (_, true) => {
                p.neg.offer_pending = false;
                self.try_restart(pid, now);
            }
            (Sig::RemoteOffer, false) => {
                if !p.neg.failed_reported {
                    p.neg.failed_reported = true;
                    self.event(Event::PeerMediaFailed { peer: pid });
                }
            }
            (Sig::Stable, false) => {
                // The polite side waited for a first offer that never came: offer itself.
                if !p.neg.remote_set {
                    self.request_offer(pid, false, now);
                }
            }
        }
    }

    fn apply_media(&mut self, pid: ParticipantId, sig: Signal, now: u64) {
        let polite = self.id < pid;
        let t = self.t.negotiation;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        let mut reqs = Vec::new();
        match sig {
            Signal::Description { kind, sdp } => {
                // Exactly one certificate, which the SAS exchange must show is the one the
                // peer committed to (checked in update_sas): no extra, unchecked lines.
                let fp = crypto::encode_fingerprints(&sdp::fingerprints(&sdp));
                if fp.first() != Some(&1) {
                    self.sas_failed(pid, now);
                    return;
                }
                p.sas.remote_fp = Some(fp);
                p.neg.started = true;
                match kind {
                    SdpKind::Offer => {
                        let collision = p.neg.offer_pending || p.neg.sig == Sig::LocalOffer;
                        p.neg.ignore_offer = !polite && collision;
                        if p.neg.ignore_offer {
                            return;
                        }
                        if collision {
                            if p.neg.sig == Sig::LocalOffer || p.neg.offer_pending {
                                reqs.push(MediaRequest::Rollback);
                            }
                            p.neg.offer_pending = false;
                            p.neg.needed = true;
                        }
                        p.neg.sig = Sig::RemoteOffer;
                        p.neg.remote_set = true;
                        p.neg.ice_timer = None;
                        p.neg.deadline = Some(now.saturating_add(t));
                        reqs.push(MediaRequest::SetRemoteDescription { kind, sdp });
                        reqs.extend(p.neg.queued.drain(..).map(MediaRequest::AddIceCandidate));
                        reqs.push(MediaRequest::CreateAnswer);
                    }
                    SdpKind::Answer => {
                        if p.neg.sig != Sig::LocalOffer {
                            return;
                        }
                        p.neg.ignore_offer = false;
                        p.neg.sig = Sig::Stable;
                        p.neg.remote_set = true;
                        p.neg.deadline = None;
                        reqs.push(MediaRequest::SetRemoteDescription { kind, sdp });
                        reqs.extend(p.neg.queued.drain(..).map(MediaRequest::AddIceCandidate));
                    }
                }
            }
            Signal::Candidate(c) => {
                if p.neg.ignore_offer {
                    return;
                }
                if p.neg.remote_set {
                    reqs.push(MediaRequest::AddIceCandidate(c));
                } else if p.neg.queued.len() < MAX_QUEUED_CANDIDATES {
                    p.neg.queued.push(c);
                }
            }
            _ => {}
        }
        for request in reqs {
            self.out.push_back(Output::Media { peer: pid, request });
        }
        self.offer_if_needed(pid, now);
        self.update_sas(pid, now);
    }

    // ----- internals: SAS ----------------------------------------------------------------------

    /// Starts a new pairing's SAS exchange once its keys exist: a fresh nonce, and (the
    /// lower id) the commitment to our inputs. A pairing that already has one keeps it.
    fn start_sas(&mut self, pid: ParticipantId, now: u64) {
        let nonce: [u8; 32] = self.rng.array();
        let me = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.sas.nonce.is_some() {
            return;
        }
        p.sas.nonce = Some(nonce);
        if me < pid {
            let c = crypto::sas_commitment(SasInput {
                fingerprint: &self.own_fp,
                nonce: &nonce,
            });
            let _ = self.enqueue_signal(pid, &Signal::SasCommit(c), now);
        }
    }

    /// (The higher id) the peer committed: reveal ours, now that its inputs are fixed.
    fn on_sas_commit(&mut self, from: ParticipantId, c: [u8; 32], now: u64) {
        if self.id < from {
            self.security(SecurityKind::ProtocolViolation, Some(from), now);
            return;
        }
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        match p.sas.commitment {
            Some(old) if old == c => return,
            Some(_) => return self.sas_failed(from, now),
            None => p.sas.commitment = Some(c),
        }
        self.send_reveal(from, now);
    }

    /// The peer revealed its inputs: the higher id checks them against the commitment; the
    /// lower id, which committed first, now reveals its own.
    fn on_sas_reveal(&mut self, from: ParticipantId, nonce: [u8; 32], fp: Vec<u8>, now: u64) {
        let me = self.id;
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if let Some((n, f)) = &p.sas.peer {
            if *n != nonce || *f != fp {
                self.sas_failed(from, now);
            }
            return;
        }
        let opens = match p.sas.commitment {
            _ if !is_single_fingerprint(&fp) => false,
            // We committed first; the peer revealed without knowing our nonce.
            None if me < from => p.sas.nonce.is_some(),
            None => {
                self.security(SecurityKind::ProtocolViolation, Some(from), now);
                return;
            }
            Some(c) => {
                let fingerprint = fp.as_slice();
                let got = crypto::sas_commitment(SasInput {
                    fingerprint,
                    nonce: &nonce,
                });
                crypto::ct_eq(&got, &c)
            }
        };
        if !opens {
            return self.sas_failed(from, now);
        }
        p.sas.peer = Some((nonce, fp));
        if me < from {
            self.send_reveal(from, now);
        }
        self.update_sas(from, now);
    }

    fn send_reveal(&mut self, to: ParticipantId, now: u64) {
        let Some(nonce) = self.peers.get(&to).and_then(|p| p.sas.nonce) else {
            return;
        };
        let reveal = Signal::SasReveal {
            nonce,
            fingerprint: self.own_fp.clone(),
        };
        let _ = self.enqueue_signal(to, &reveal, now);
    }

    /// A man in the middle (or a broken peer): no SAS is ever shown for this pairing.
    fn sas_failed(&mut self, pid: ParticipantId, now: u64) {
        if let Some(p) = self.peers.get_mut(&pid) {
            p.sas.failed = true;
            p.sas.code = None;
            p.sas.binding = None;
        }
        self.security(SecurityKind::SasMismatch, Some(pid), now);
    }

    /// Shows the SAS once both inputs are revealed and the peer's SDP carries exactly the
    /// certificate it committed to.
    fn update_sas(&mut self, pid: ParticipantId, now: u64) {
        let me = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.sas.failed {
            return;
        }
        let (Some(prk), Some((_, peer_fp)), Some(sdp_fp)) =
            (p.sas_prk.as_ref(), &p.sas.peer, &p.sas.remote_fp)
        else {
            return;
        };
        if peer_fp != sdp_fp {
            return self.sas_failed(pid, now);
        }
        let Some((lo, hi)) = sas_inputs(&self.own_fp, me, pid, &p.sas) else {
            return;
        };
        let sas = Sas::derive(prk, lo.input(), hi.input());
        if p.sas.code != Some(sas) {
            p.sas.code = Some(sas);
            p.sas.binding = Some(crypto::sas_binding(&p.identity, lo.input(), hi.input()));
            p.sas.confirmed_local = false;
            p.sas.confirmed_remote = false;
            self.event(Event::SasReady { peer: pid, sas });
            self.check_sas_confirm(pid, now);
        }
    }

    fn check_sas_confirm(&mut self, pid: ParticipantId, now: u64) {
        let me = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        let (Some(tag), Some(_), Some(prk), Some((lo, hi))) = (
            p.pending_confirm,
            p.sas.code,
            p.sas_prk.as_ref(),
            sas_inputs(&self.own_fp, me, pid, &p.sas),
        ) else {
            return;
        };
        p.pending_confirm = None;
        let expected = Sas::confirm_tag(prk, &pid.0, lo.input(), hi.input());
        if crypto::ct_eq(&expected, &tag) {
            p.sas.confirmed_remote = true;
            self.event(Event::SasConfirmedByPeer { peer: pid });
        } else {
            self.security(SecurityKind::SasMismatch, Some(pid), now);
        }
    }

    // ----- internals: leaving ------------------------------------------------------------------

    fn broadcast_bye(&mut self, reason: u8, _now: u64) {
        let ids: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.confirmed)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.seal_and_send(id, KIND_BYE, &[reason]);
        }
    }

    /// Forgets everything about a restarted peer except its relay presence (its lifetime
    /// memory stays), and moves to a new epoch.
    fn reset_peer(&mut self, pid: ParticipantId, now: u64) {
        let Some(old) = self.peers.remove(&pid) else {
            return;
        };
        self.remember(pid, &old, now);
        if old.has_connection() {
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::ClosePeer,
            });
        }
        let undelivered = old.undelivered_app_data();
        if undelivered > 0 {
            self.event(Event::AppDataUndelivered {
                peer: pid,
                count: undelivered,
            });
        }
        if old.joined_announced {
            self.event(Event::PeerLeft {
                peer: pid,
                reason: LeaveReason::Restarted,
            });
        }
        let mut fresh = Peer::new(old.relay_role, now, &self.t);
        fresh.hello_rate = old.hello_rate;
        fresh.present = old.present;
        self.peers.insert(pid, fresh);
    }

    fn remove_peer(&mut self, pid: ParticipantId, reason: LeaveReason, now: u64) {
        let Some(old) = self.peers.remove(&pid) else {
            return;
        };
        self.remember(pid, &old, now);
        if old.has_connection() {
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::ClosePeer,
            });
        }
        let undelivered = old.undelivered_app_data();
        if undelivered > 0 {
            self.event(Event::AppDataUndelivered {
                peer: pid,
                count: undelivered,
            });
        }
        self.event(Event::PeerLeft { peer: pid, reason });
    }

    /// A keyed peer's record is being dropped: keep what protects against its replay, and
    /// retire our ephemeral key, which must never key that peer again (a fresh record
    /// would restart its sealer at sequence 0 under the same keys).
    fn remember(&mut self, pid: ParticipantId, old: &Peer, now: u64) {
        if old.remote.is_none() {
            return;
        }
        self.memory.forget_peer(
            pid,
            Carried {
                next_in: old.next_in,
                next_out: old.next_out,
                admitted: old.admitted,
                denied: old.denied,
                sas: old.sas.clone(),
            },
        );
        if self.relay == Relay::Joined && self.phase != Phase::Closed {
            self.start_epoch(now);
            self.send_hello(ParticipantId::BROADCAST, 0);
        } else {
            // The next welcome starts the new epoch.
            self.hello = None;
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if self.phase == Phase::Closed {
            return;
        }
        let started: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.has_connection())
            .map(|(id, _)| *id)
            .collect();
        for peer in started {
            self.out.push_back(Output::Media {
                peer,
                request: MediaRequest::ClosePeer,
            });
        }
        self.drop_keys();
        for p in self.peers.values_mut() {
            p.sas_prk = None;
        }
        self.set_phase(Phase::Closed);
        self.event(Event::Closed(reason));
    }
}

/// One side's revealed SAS inputs, owned.
struct OwnedInput {
    fingerprint: Vec<u8>,
    nonce: [u8; 32],
}

impl OwnedInput {
    fn input(&self) -> SasInput<'_> {
        SasInput {
            fingerprint: &self.fingerprint,
            nonce: &self.nonce,
        }
    }
}

/// Both sides' SAS inputs, lower participant id first, once both are known.
fn sas_inputs(
    own_fp: &[u8],
    me: ParticipantId,
    peer: ParticipantId,
    sas: &SasState,
) -> Option<(OwnedInput, OwnedInput)> {
    let mine = OwnedInput {
        fingerprint: own_fp.to_vec(),
        nonce: sas.nonce?,
    };
    let (nonce, fingerprint) = sas.peer.clone()?;
    let theirs = OwnedInput { fingerprint, nonce };
    Some(if me < peer {
        (mine, theirs)
    } else {
        (theirs, mine)
    })
}

/// Whether `fp` is a canonical fingerprint encoding with exactly one entry.
fn is_single_fingerprint(fp: &[u8]) -> bool {
    let Some((&1, rest)) = fp.split_first() else {
        return false;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return false;
    };
    let Some((name, rest)) = rest.split_at_checked(usize::from(n)) else {
        return false;
    };
    let Some((&d, digest)) = rest.split_first() else {
        return false;
    };
    let canonical = crypto::encode_fingerprints(&[(
        String::from_utf8_lossy(name).into_owned(),
        digest.to_vec(),
    )]);
    usize::from(d) == digest.len() && canonical == fp
}
