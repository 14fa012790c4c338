//! The sans-IO session: one participant's view of a consultation (docs/PROTOCOL.md,
//! "State machine").
//!
//! Inputs are `handle_*` calls and user actions, each given `now` (milliseconds since the
//! Unix epoch); outputs are pulled with [`Session::poll_output`]. Nothing here reads a clock
//! or a random source, touches a socket or spawns anything.
//!
//! This file holds the [`Session`] itself — its state, getters, inputs, user actions and
//! `poll_output`, in quinn-proto's order — and the dispatch between the parts of the
//! protocol, each in its own module:
//!
//! | module | job |
//! | --- | --- |
//! | `config` | what a session is built with: [`Config`], [`Timeouts`] |
//! | `output` | what it tells its driver: [`Output`], [`Event`], [`MediaRequest`], [`PeerInfo`] |
//! | `error` | why it refuses an input: [`SessionError`] |
//! | `peer` | the record kept per peer |
//! | `presence` | which peers exist: the relay's welcome and announcements, leaving, forgetting |
//! | `handshake` | hellos, pairwise keys, key confirmation (PROTOCOL.md §8) |
//! | `delivery` | sealed frames in and out: message ids, acknowledgements, retransmission |
//! | `admission` | the waiting room: who is admitted or denied |
//! | `negotiation` | perfect negotiation, trickle ICE, ICE restarts |
//! | `sas` | the short authentication string's commit/reveal exchange (§13) |
//! | `resume` | resume tickets: a reloaded participant comes back without a new admission |

mod admission;
mod config;
mod delivery;
mod error;
mod handshake;
mod negotiation;
mod offload;
mod output;
mod peer;
mod presence;
mod resume;
mod sas;

use std::collections::VecDeque;

use core::fmt;
use zeroize::Zeroizing;

use super::memory::PeerMemory;
use super::message::{
    self, Candidate, KIND_APP_DATA, ScreenShare, SdpKind, Signal, valid_stream_id,
};
use super::relay_wire::{ClientMessage, LeftReason, ParticipantId, Role, ServerMessage};
use super::{MAX_APP_DATA_LEN, MAX_CANDIDATE_LEN, MAX_NAME_LEN, Redacted};
use crate::crypto::{self, Authority, Drbg, Ephemeral, RoomId, RoomKeys};
use crate::sorted_map::SortedMap;

pub use config::{Config, Timeouts};
pub use delivery::{DIRECT_ACK_DELAY_MS, DIRECT_ACK_EVERY};
pub use error::SessionError;
pub use offload::OFFLOAD_MIN_LEN;
pub use output::{
    BulkKey, CloseReason, Event, IceState, LeaveReason, MediaRequest, Output, PeerInfo, Phase,
    SecurityEvent, SecurityKind,
};
pub use resume::{RESUME_DEFER_MS, RESUME_TICKET_LEN, ResumeTicket};

use handshake::{Keying, OwnHello};
use output::SECURITY_KINDS;
use peer::{Carried, Peer};

/// At most one security event of a kind is emitted per this interval (the count goes on).
pub const SECURITY_EVENT_INTERVAL_MS: u64 = 1_000;
/// Most reliable messages held back while a pair may not negotiate media yet.
const MAX_DEFERRED: usize = 64;
/// Longest gap between retransmissions (of hellos and of reliable messages).
const MAX_BACKOFF_MS: u64 = 8_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relay {
    Disconnected,
    Joining { since: u64 },
    Joined,
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
    /// The driver does the AES-GCM of bulk frames on direct paths (`offload`).
    offload: bool,
    security_total: [u64; SECURITY_KINDS],
    security_last: [Option<u64>; SECURITY_KINDS],
    /// (Clinicians) resume tickets issued and not yet used.
    issued: Vec<resume::Issued>,
    /// (Patients and guests) the ticket of a previous session, to present.
    held: Option<resume::Held>,
    /// (Clinicians) the stream id of the screen this side shares, announced to every peer
    /// whose negotiation starts while it lasts.
    screen: Option<String>,
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

type R = Result<(), SessionError>;

fn err(e: SessionError) -> R {
    Err(e)
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
            offload: false,
            security_total: [0; SECURITY_KINDS],
            security_last: [None; SECURITY_KINDS],
            issued: Vec::new(),
            held: None,
            screen: None,
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
            secured: p.keying.is_confirmed(),
            in_call: p.in_call(),
            connected: p.neg.connected,
            sas: p.sas.shown.code(),
            sas_confirmed: p.sas.shown.confirmations().0,
            sas_confirmed_by_peer: p.sas.shown.confirmations().1,
            sas_binding: p.sas.shown.binding(),
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
            add(p.neg.connect_by);
            add(p.admission_deferred_until);
            add(p.ack_due);
            if self.relay == Relay::Joined {
                if !p.keying.is_confirmed() && p.present {
                    add(p.hello_retry_at);
                    add(p.handshake_deadline);
                }
                if p.keying.is_confirmed() {
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
            return err(SessionError::Closed);
        }
        if self.relay != Relay::Disconnected {
            return err(SessionError::InvalidState);
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
            return err(SessionError::Closed);
        }
        let msg = ServerMessage::decode(bytes).map_err(SessionError::Wire)?;
        if self.relay == Relay::Disconnected {
            return err(SessionError::InvalidState);
        }
        self.last_rx = now;
        match msg {
            ServerMessage::Welcome { role, present } => self.on_welcome(role, present, now),
            ServerMessage::Deliver { from, payload } => {
                if self.relay != Relay::Joined {
                    return err(SessionError::ProtocolViolation);
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
                            let sas = p.sas.shown.confirmations();
                            // Perhaps a reload: the ticket may be used from now, until the
                            // same session shows up again (`holder_back`).
                            self.holder_left(id, now, sas);
                        }
                    }
                    LeftReason::Closed => self.remove_peer(id, LeaveReason::Left, now),
                    LeftReason::Removed => {
                        self.remove_peer(id, LeaveReason::Removed, now);
                        self.revoke_tickets(id);
                    }
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
        self.local_description(peer, kind, sdp, now)
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
            return err(SessionError::TooLarge);
        }
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SessionError::InvalidState);
        }
        self.enqueue_signal(peer, &Signal::Candidate(candidate), now)
    }

    /// The ICE connection state of `peer`'s connection changed. `failed` (or
    /// `disconnected` for too long) triggers an ICE restart.
    pub fn handle_ice_state(&mut self, peer: ParticipantId, state: IceState, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        self.ice_state(peer, state, now)
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
        self.admit_peer(peer, now)
    }

    /// (Clinicians) turns a waiting participant away (or removes an admitted one).
    pub fn deny(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        self.deny_peer(peer, now)
    }

    /// The user compared the SAS with `peer` and it matched: record it and tell the peer.
    pub fn confirm_sas(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        self.confirm_own_sas(peer, now)
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
            return err(SessionError::NotPermitted);
        }
        self.broadcast_bye(1, now);
        self.close(CloseReason::HungUp);
        Ok(())
    }

    /// Sends application data (consent events, readings, chat) to `peer`: sealed, reliable,
    /// in order, exactly once while both sessions live (docs/PROTOCOL.md, "App data").
    pub fn send_app_data(&mut self, peer: ParticipantId, data: &[u8], now: u64) -> R {
        self.app_data(peer, data, false, now)
    }

    /// Sends bulk application data (file chunks) to `peer`: exactly as
    /// [`Self::send_app_data`] (the same sealed, reliable, ordered channel), but sent over
    /// the peer's direct path while [`Self::set_direct`] reports one ([`Output::Direct`]),
    /// through the relay otherwise (docs/PROTOCOL.md, "Direct path").
    pub fn send_bulk_app_data(&mut self, peer: ParticipantId, data: &[u8], now: u64) -> R {
        self.app_data(peer, data, true, now)
    }

    /// The driver's direct path to `peer` (a data channel on its peer connection) is up
    /// (open, and ICE connected) or down. From now on bulk messages and acknowledgements
    /// take it, or the relay again; going down, every message not yet acknowledged is sent
    /// again at once through the relay (what was in the closed channel may be lost), and
    /// the receiver's window drops whatever arrives twice.
    pub fn set_direct(&mut self, peer: ParticipantId, up: bool, now: u64) {
        self.timeout_reported = false;
        let backoff = self.t.retransmit;
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let up = up && !p.admission.is_denied();
        if p.direct == up {
            return;
        }
        p.direct = up;
        if !up {
            delivery::restart_outbox(p, backoff);
            self.pump(peer, now);
        }
    }

    /// One message from `peer`'s direct data channel: handled exactly as a frame the relay
    /// delivered from `peer` (header, key, authentication, replay window, message ids), so
    /// a frame of anyone else, tampered or replayed is refused as it would be from the
    /// relay. Only what the direct path carries is accepted: sealed app data and
    /// acknowledgements (hellos and signaling always go through the relay).
    pub fn handle_direct_frame(&mut self, peer: ParticipantId, frame: &[u8], now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if self.relay != Relay::Joined {
            return err(SessionError::InvalidState);
        }
        if !matches!(
            frame.get(1),
            Some(&(message::KIND_APP_DATA | message::KIND_ACK))
        ) {
            if !self.peers.contains_key(&peer) {
                return err(SessionError::UnknownPeer);
            }
            self.security(SecurityKind::ProtocolViolation, Some(peer), now);
            return err(SessionError::ProtocolViolation);
        }
        if self.offloads_open(frame) {
            return self.offload_open(peer, frame, now);
        }
        self.on_frame(peer, frame, now)
    }

    /// The media engine needs a new offer for `peer` (a track was added or removed:
    /// `negotiationneeded`).
    pub fn request_renegotiation(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SessionError::InvalidState);
        }
        self.request_offer(peer, false, now);
        Ok(())
    }

    /// Restarts ICE with `peer` (network change, or the app decided so).
    pub fn restart_ice(&mut self, peer: ParticipantId, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SessionError::InvalidState);
        }
        self.request_offer(peer, true, now);
        Ok(())
    }

    /// Tells `peer` that this side stopped (`paused`) or resumed sending it video because the
    /// link cannot carry it (the audio-only fallback, `crate::quality`), so its side can show
    /// it. Only once media negotiation with the peer has started.
    pub fn set_video_paused(&mut self, peer: ParticipantId, paused: bool, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if !self.peers.get(&peer).is_some_and(|p| p.neg.started) {
            return err(SessionError::InvalidState);
        }
        self.enqueue_signal(peer, &Signal::VideoPaused(paused), now)
    }

    /// (Clinicians) tells every peer in the call that this side started sharing its screen
    /// in the stream `notice` names, or stopped; a peer whose negotiation starts later hears
    /// of a share under way before its first description (docs/PROTOCOL.md, "Screen
    /// sharing"). Call it *before* asking for the renegotiation that adds the screen track:
    /// the notice travels ahead of the offer on the same ordered channel, so the receiver
    /// knows the stream id when the track arrives.
    ///
    /// Errors: `NotPermitted` for a patient or guest (only a clinician shares its screen),
    /// `InvalidState` when a stream id is malformed, a stop without a share, or the session
    /// closed; `QueueFull` as for any signal.
    pub fn set_screen_share(&mut self, notice: ScreenShare, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if self.role != Role::Clinician {
            return err(SessionError::NotPermitted);
        }
        match &notice {
            ScreenShare::Started { stream_id } if valid_stream_id(stream_id) => {
                self.screen = Some(stream_id.clone());
            }
            ScreenShare::Stopped(_) if self.screen.take().is_some() => {}
            _ => return err(SessionError::InvalidState),
        }
        let started: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.neg.started)
            .map(|(id, _)| *id)
            .collect();
        let sig = Signal::ScreenShare(notice);
        let mut result = Ok(());
        for id in started {
            // One full queue must not keep the others from hearing of it.
            result = result.and(self.enqueue_signal(id, &sig, now));
        }
        result
    }

    /// The screen share under way, announced to `pid` as its negotiation starts; whether
    /// there is one.
    pub(super) fn announce_screen(&mut self, pid: ParticipantId, now: u64) -> bool {
        let Some(stream_id) = self.screen.clone() else {
            return false;
        };
        let sig = Signal::ScreenShare(ScreenShare::Started { stream_id });
        let _ = self.enqueue_signal(pid, &sig, now);
        true
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

    // ----- internals: helpers and dispatch ---------------------------------------------------

    fn app_data(&mut self, peer: ParticipantId, data: &[u8], bulk: bool, now: u64) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        if data.len() > MAX_APP_DATA_LEN {
            return err(SessionError::TooLarge);
        }
        if !self
            .peers
            .get(&peer)
            .is_some_and(|p| p.remote.is_some() && !p.admission.is_denied())
        {
            return err(SessionError::InvalidState);
        }
        self.enqueue_as(peer, KIND_APP_DATA, data.to_vec(), bulk, now)
    }

    fn check_open(&self) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            Err(SessionError::Closed)
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
            p.keying = Keying::None;
        }
    }

    fn transmit_to(&mut self, to: ParticipantId, payload: Vec<u8>) {
        self.out.push_back(Output::Transmit(
            ClientMessage::Send { to, payload }.encode(),
        ));
    }

    pub(super) fn on_signal(&mut self, from: ParticipantId, sig: Signal, now: u64) {
        match sig {
            Signal::Description { .. } | Signal::Candidate(_) => {
                if self.media_allowed(from) {
                    self.apply_media(from, sig, now);
                } else if let Some(p) = self.peers.get_mut(&from) {
                    if !p.admission.is_denied() && p.deferred.len() < MAX_DEFERRED {
                        p.deferred.push_back(sig);
                    }
                }
            }
            Signal::Admit { in_call } => {
                if !self.is_clinician_peer(from) || self.role == Role::Clinician {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                    return;
                }
                // Admitted: a ticket not accepted by now never will be.
                self.held = None;
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
            Signal::VideoPaused(paused) => {
                if self.peers.get(&from).is_some_and(|p| p.neg.started) {
                    self.event(Event::PeerVideoPaused { peer: from, paused });
                }
            }
            Signal::ScreenShare(notice) => {
                // Only a clinician shares its screen: the role its hello proved, and the
                // relay's role for it, must both say so.
                if !self.is_clinician_peer(from) {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                    return;
                }
                if self.media_allowed(from) {
                    self.event(Event::PeerScreenShare { peer: from, notice });
                }
            }
            Signal::ResumeTicket { id, secret } => {
                self.on_resume_ticket(from, id, secret.expose().clone(), now)
            }
            Signal::Resume { id, flags, proof } => self.on_resume(from, id, flags, proof, now),
            Signal::SasCommit(c) => self.on_sas_commit(from, c, now),
            Signal::SasReveal { nonce, fingerprint } => {
                self.on_sas_reveal(from, nonce, fingerprint, now)
            }
        }
    }

    pub(super) fn peer_timers(&mut self, pid: ParticipantId, now: u64) {
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
        if p.ack_due.is_some_and(|d| now >= d) {
            self.send_ack(pid);
        }
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if joined && !p.keying.is_confirmed() && p.present {
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
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.connect_by.is_some_and(|d| now >= d) {
            p.neg.connect_by = None;
            if !p.neg.connected {
                self.event(Event::PeerUnreachable { peer: pid });
            }
        }
        if self
            .peers
            .get(&pid)
            .and_then(|p| p.admission_deferred_until)
            .is_some_and(|d| now >= d)
        {
            self.request_deferred_admission(pid);
        }
    }
}
