//! What a session tells its driver: the [`Output`] queue's items, the app's [`Event`]s, the
//! media engine's [`MediaRequest`]s and the [`PeerInfo`] snapshot, with the small enums
//! they carry.

#[cfg(doc)]
use super::Session;
use crate::crypto::Sas;
use crate::signaling::Redacted;
use crate::signaling::message::{Candidate, ScreenShare, SdpKind};
use crate::signaling::relay_wire::{ParticipantId, Role};
use zeroize::Zeroizing;

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
    /// A resume ticket was refused (unknown, expired, used, revoked, another participant's,
    /// or a proof that does not match this pairing): the participant waits to be admitted.
    ResumeRefused = 9,
}

pub(super) const SECURITY_KINDS: usize = 10;

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
    /// No media path to a peer came up within `Timeouts::media_connect` of negotiation
    /// beginning (or of the path failing): likely no TURN server, or a network that blocks
    /// it. Once per attempt; ICE restarts go on, and [`Event::PeerConnected`] follows if
    /// a path comes up after all.
    PeerUnreachable {
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
    /// A peer's hellos do not open under this room's key: its link and ours do not match
    /// (a wrong or garbled secret, or a link of another visit). Retries continue, but cannot
    /// succeed until one side joins with the right link. Once per peer.
    LinkMismatch {
        /// The peer.
        peer: ParticipantId,
        /// Its role, as the relay announced it.
        role: Role,
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
    /// The peer stopped (`paused`) or resumed sending us video because the link cannot
    /// carry it (its audio-only fallback); audio goes on.
    PeerVideoPaused {
        /// The peer.
        peer: ParticipantId,
        /// Paused, or resumed.
        paused: bool,
    },
    /// A clinician started sharing its screen (the track arrives in the stream the notice
    /// names) or stopped. Only from a peer whose hello proved the clinician role, sealed
    /// under its pair key: neither the relay nor another participant can fake or replay it.
    PeerScreenShare {
        /// The clinician.
        peer: ParticipantId,
        /// Started (with the stream id) or stopped (with why).
        notice: ScreenShare,
    },
    /// A peer that had been admitted came back in a new session (a page reload) with a
    /// valid resume ticket: it is admitted again at once, and its SAS starts with the
    /// confirmations the previous pairing had. (On the participant's side: the clinician
    /// accepted its ticket.) A [`Event::PeerAdmitted`] follows on the clinician's side.
    Resumed {
        /// The peer.
        peer: ParticipantId,
    },
    /// (Patients and guests) a clinician issued this participant a resume ticket: keep it
    /// where a reload of this page finds it (and nowhere else), and hand it to the next
    /// session with [`Session::set_resume_ticket`]. A new one replaces it.
    ResumeTicket(super::resume::ResumeTicket),
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
    /// Send this sealed envelope to `peer` as one message on its direct data channel
    /// (only after [`Session::set_direct`] reported one). If it cannot go (the channel
    /// closed, its buffer is full), drop it: the message is sent again, through the relay
    /// once the path is reported down.
    Direct {
        /// The peer whose data channel is meant.
        peer: ParticipantId,
        /// The envelope, exactly as the relay would have carried it.
        frame: Vec<u8>,
    },
    /// (Bulk crypto offload, [`Session::offload_bulk_crypto`]) The AES-256 key of the pair
    /// with `peer` under `key_id`, for sealing (`send`) or opening: import it for AES-GCM,
    /// not extractable, before the [`Output::DirectSeal`] or [`Output::DirectOpen`] that
    /// follow, and let this copy go (it wipes itself).
    OffloadKey {
        /// The peer.
        peer: ParticipantId,
        /// The key id the frames carry (bytes 34..42 of a header).
        key_id: [u8; 8],
        /// Sealing (`true`) or opening.
        send: bool,
        /// The key.
        key: BulkKey,
    },
    /// (Bulk crypto offload) Send `aad || AES-256-GCM(send key of key_id, nonce, aad,
    /// plaintext)` (ciphertext, then the 16-byte tag) to `peer` on its direct data channel,
    /// in the order given; drop it when it cannot go, as [`Output::Direct`].
    DirectSeal {
        /// The peer.
        peer: ParticipantId,
        /// Which of its keys.
        key_id: [u8; 8],
        /// The frame's 50-byte header, authenticated.
        aad: [u8; crate::crypto::HEADER_LEN],
        /// The GCM nonce.
        nonce: [u8; 12],
        /// What to encrypt.
        plaintext: Vec<u8>,
    },
    /// (Bulk crypto offload) Decrypt `frame` from `peer`'s direct path with the open key of
    /// `key_id`: AAD its first 50 bytes, then ciphertext and tag. Report with
    /// [`Session::handle_direct_opened`] or [`Session::handle_direct_open_failed`], in the
    /// order given.
    DirectOpen {
        /// The peer.
        peer: ParticipantId,
        /// Which of its keys.
        key_id: [u8; 8],
        /// The frame's sequence number (to report back).
        seq: u64,
        /// The GCM nonce.
        nonce: [u8; 12],
        /// The whole frame.
        frame: Vec<u8>,
    },
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

/// An AES-256 key handed to the driver ([`Output::OffloadKey`]): wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct BulkKey(pub Zeroizing<[u8; 32]>);

impl core::fmt::Debug for BulkKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BulkKey(<redacted>)")
    }
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
