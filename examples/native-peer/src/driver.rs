//! The drive loop: one tokio task owns the [`Session`] and everything it talks to.
//!
//! Inputs, one at a time: a message from the relay WebSocket, an event from a webrtc-rs
//! peer connection (callbacks are forwarded through an mpsc channel, tagged with the peer
//! and the connection's generation), the session's next timeout, and a few local ticks
//! (statistics, data-channel probes, stop requests). After every input the loop drains
//! [`Session::poll_output`] and executes the outputs in order: transmits go to the relay,
//! events are printed (and answered, for `--auto-admit` / `--auto-confirm-sas`), and media
//! requests are carried out on webrtc-rs and their results fed back before the next output.
//! Because each media request is awaited in turn, webrtc-rs sees operations in exactly the
//! order the session asked for them, like the browser's operations chain.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use teleconsult::signaling::relay_wire::ParticipantId;
use teleconsult::signaling::{
    Candidate, CloseReason, Event, IceState, MediaRequest, Output, Phase, SdpKind, Session,
};
use tokio::sync::mpsc;
use webrtc::peer_connection::RTCIceConnectionState;

use crate::cli::Options;
use crate::media::{
    DescriptionKind, IceCandidate, LocalCertificate, MediaConfig, MediaEvent, MediaPeer,
    StatsSnapshot,
};
use crate::output::{Out, hex_id};
use crate::relay::{self, Incoming, Socket};

/// Interval between data-channel probes (`--probe`).
const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// Relay reconnection attempts before giving up.
const MAX_RECONNECTS: u32 = 20;
/// Longest data-channel text copied into a `data_channel_message` event.
const MAX_EVENT_TEXT: usize = 128;

/// Milliseconds since the Unix epoch: the session's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How the process should exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The call ended normally (hang-up, ended by the clinician, asked to stop).
    Done,
    /// A clinician turned us away, or nobody admitted us in time.
    NotAdmitted,
    /// The relay could not be reached again.
    RelayGone,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Done => 0,
            Self::RelayGone => 1,
            Self::NotAdmitted => 3,
        }
    }
}

struct PeerMedia {
    generation: u64,
    media: MediaPeer,
}

type Tagged = (ParticipantId, u64, MediaEvent);

/// The session, the relay connection and one webrtc-rs connection per peer.
pub struct Driver {
    opts: Options,
    out: Out,
    session: Session,
    ws_url: String,
    /// The DTLS certificate of every connection (the one the session committed to).
    certificate: LocalCertificate,
    socket: Option<Socket>,
    reconnect_at: Option<tokio::time::Instant>,
    reconnects: u32,
    peers: HashMap<ParticipantId, PeerMedia>,
    generations: u64,
    media_tx: mpsc::UnboundedSender<Tagged>,
    media_rx: mpsc::UnboundedReceiver<Tagged>,
    timeout_at: Option<u64>,
    probes: u64,
    sas_agreed: HashSet<ParticipantId>,
    retired: StatsSnapshot,
    /// When to restart ICE (`--restart-ice-after-ms`, armed by the first connection).
    restart_at: Option<tokio::time::Instant>,
    exit: Option<Exit>,
}

impl Driver {
    /// A driver for `session`, which will connect to `ws_url`. `certificate` must be the
    /// one whose fingerprint is `Config::certificate`: every peer connection presents it.
    pub fn new(
        opts: Options,
        out: Out,
        session: Session,
        ws_url: String,
        certificate: LocalCertificate,
    ) -> Self {
        let (media_tx, media_rx) = mpsc::unbounded_channel();
        Self {
            opts,
            out,
            session,
            ws_url,
            certificate,
            socket: None,
            reconnect_at: None,
            reconnects: 0,
            peers: HashMap::new(),
            generations: 0,
            media_tx,
            media_rx,
            timeout_at: None,
            probes: 0,
            sas_agreed: HashSet::new(),
            retired: StatsSnapshot::default(),
            restart_at: None,
            exit: None,
        }
    }

    /// Runs until the session closes (or the relay is gone for good).
    pub async fn run(mut self) -> Exit {
        self.connect().await;
        let mut stats =
            tokio::time::interval(Duration::from_millis(self.opts.stats_interval_ms.max(100)));
        let mut probe = tokio::time::interval(PROBE_INTERVAL);
        let stop_after = self
            .opts
            .exit_after_ms
            .map(|ms| tokio::time::Instant::now() + Duration::from_millis(ms));
        let (stdin_tx, mut stdin_closed) = mpsc::channel::<()>(1);
        if self.opts.exit_on_stdin_close {
            std::thread::spawn(move || {
                let mut sink = std::io::sink();
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut sink);
                let _ = stdin_tx.blocking_send(());
            });
        }
        let mut restarted = false;
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut stopping = false;
        loop {
            self.drain().await;
            if self.exit.is_some() || self.session.phase() == Phase::Closed {
                break;
            }
            let timer = self.timeout_at.map(|at| {
                tokio::time::Instant::now() + Duration::from_millis(at.saturating_sub(now_ms()))
            });
            tokio::select! {
                incoming = next_message(&mut self.socket) => self.on_socket(incoming),
                Some((peer, generation, event)) = self.media_rx.recv() => {
                    self.on_media_event(peer, generation, event).await;
                }
                () = sleep_until(timer) => self.session.handle_timeout(now_ms()),
                () = sleep_until(self.reconnect_at) => {
                    self.reconnect_at = None;
                    self.connect().await;
                }
                _ = stats.tick(), if self.opts.stats_interval_ms > 0 => self.print_stats(),
                () = sleep_until(self.restart_at), if !restarted => {
                    restarted = true;
                    let ids: Vec<ParticipantId> = self.peers.keys().copied().collect();
                    for peer in ids {
                        self.out.event("restarting_ice", json!({"peer": hex_id(peer)}));
                        let _ = self.session.restart_ice(peer, now_ms());
                    }
                }
                _ = probe.tick(), if self.opts.probe => self.send_probes().await,
                () = sleep_until(stop_after), if !stopping => {
                    stopping = true;
                    self.out.event("stopping", json!({"why": "exit_after"}));
                    let _ = self.session.hang_up(now_ms());
                }
                Some(()) = stdin_closed.recv(), if !stopping => {
                    stopping = true;
                    self.out.event("stopping", json!({"why": "stdin_closed"}));
                    let _ = self.session.hang_up(now_ms());
                }
                Some(()) = next_signal(&mut terminate), if !stopping => {
                    stopping = true;
                    self.out.event("stopping", json!({"why": "sigterm"}));
                    let _ = self.session.hang_up(now_ms());
                }
                _ = tokio::signal::ctrl_c(), if !stopping => {
                    stopping = true;
                    self.out.event("stopping", json!({"why": "signal"}));
                    let _ = self.session.hang_up(now_ms());
                }
            }
        }
        let ids: Vec<ParticipantId> = self.peers.keys().copied().collect();
        for id in ids {
            if let Some(media) = self.retire(id) {
                media.close().await;
            }
        }
        self.print_stats();
        if let Some(mut s) = self.socket.take() {
            let _ = s.close(None).await;
        }
        let exit = self.exit.unwrap_or(Exit::Done);
        self.out.event("exit", json!({"code": exit.code()}));
        exit
    }

    /// Opens the WebSocket and tells the session (first join or resumption).
    async fn connect(&mut self) {
        match relay::connect(&self.ws_url).await {
            Ok(socket) => {
                self.socket = Some(socket);
                if let Err(e) = self.session.handle_relay_connected(now_ms()) {
                    self.out.event(
                        "input_rejected",
                        json!({"input": "relay_connected", "error": e.to_string()}),
                    );
                }
            }
            Err(e) => {
                self.out.event("relay_connect_failed", json!({"error": e}));
                self.schedule_reconnect();
            }
        }
    }

    fn schedule_reconnect(&mut self) {
        if self.reconnect_at.is_some() || self.session.phase() == Phase::Closed {
            return;
        }
        self.reconnects += 1;
        if self.reconnects > MAX_RECONNECTS {
            self.out
                .event("relay_gave_up", json!({"attempts": MAX_RECONNECTS}));
            self.exit = Some(Exit::RelayGone);
            return;
        }
        let backoff = 250u64
            .saturating_mul(1 << self.reconnects.min(5))
            .min(5_000);
        self.reconnect_at = Some(tokio::time::Instant::now() + Duration::from_millis(backoff));
    }

    fn on_socket(&mut self, incoming: Incoming) {
        match incoming {
            Incoming::Binary(bytes) => {
                if let Err(e) = self.session.handle_relay_message(&bytes, now_ms()) {
                    self.out.event(
                        "input_rejected",
                        json!({"input": "relay_message", "error": e.to_string()}),
                    );
                }
            }
            Incoming::Other => {}
            Incoming::Closed => {
                self.socket = None;
                self.session.handle_relay_disconnected(now_ms());
                self.schedule_reconnect();
            }
        }
    }

    /// Executes every pending output, in order.
    async fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Transmit(bytes) => {
                    if let Some(socket) = &mut self.socket {
                        if relay::send(socket, bytes).await.is_err() {
                            // The read side reports the close; the session retransmits later.
                            self.out.log("relay send failed");
                        }
                    }
                }
                Output::Timeout(at) => self.timeout_at = Some(at),
                // This driver never reports a direct path (nor offloads its crypto).
                Output::Direct { .. }
                | Output::OffloadKey { .. }
                | Output::DirectSeal { .. }
                | Output::DirectOpen { .. } => {}
                Output::Event(e) => self.on_event(e),
                Output::Media { peer, request } => self.on_media_request(peer, request).await,
            }
        }
        self.timeout_at = self.session.next_timeout();
    }

    fn on_event(&mut self, e: Event) {
        let now = now_ms();
        let out = self.out;
        match e {
            Event::PhaseChanged(phase) => {
                out.event("phase", json!({"phase": phase_name(phase)}));
            }
            Event::RelayConnected => {
                self.reconnects = 0;
                out.event("relay_connected", json!({}));
            }
            Event::RelayLost => {
                out.event("relay_lost", json!({}));
                self.schedule_reconnect();
            }
            Event::RelayStalled => {
                out.event("relay_stalled", json!({}));
                self.socket = None;
                self.session.handle_relay_disconnected(now);
                self.schedule_reconnect();
            }
            Event::RelayError { code } => out.event("relay_error", json!({"code": code})),
            Event::PeerJoined { peer, role, name } => out.event(
                "peer_joined",
                json!({"peer": hex_id(peer), "role": role.as_str(), "name": name.expose()}),
            ),
            Event::AdmissionRequested { peer, role, name } => {
                out.event(
                    "admission_requested",
                    json!({"peer": hex_id(peer), "role": role.as_str(), "name": name.expose()}),
                );
                if self.opts.auto_admit
                    && let Err(e) = self.session.admit(peer, now)
                {
                    out.event(
                        "input_rejected",
                        json!({"input": "admit", "error": e.to_string()}),
                    );
                }
            }
            Event::PeerAdmitted { peer } => out.event("admitted", json!({"peer": hex_id(peer)})),
            Event::PeerDenied { peer } => out.event("denied", json!({"peer": hex_id(peer)})),
            Event::PeerConnected { peer } => {
                out.event("peer_connected", json!({"peer": hex_id(peer)}));
                if let (Some(ms), None) = (self.opts.restart_ice_after_ms, self.restart_at) {
                    self.restart_at = Some(tokio::time::Instant::now() + Duration::from_millis(ms));
                }
            }
            Event::PeerMediaFailed { peer } => {
                out.event("media_failed", json!({"peer": hex_id(peer)}));
            }
            Event::PeerLeft { peer, reason } => {
                out.event(
                    "peer_left",
                    json!({"peer": hex_id(peer), "reason": format!("{reason:?}").to_lowercase()}),
                );
                if let Some(media) = self.retire(peer) {
                    tokio::spawn(media.close());
                }
            }
            Event::HandshakeTimeout { peer } => {
                out.event("handshake_timeout", json!({"peer": hex_id(peer)}));
            }
            Event::SasReady { peer, sas } => {
                let emoji: Vec<&str> = sas.emoji().iter().map(|(_, name)| *name).collect();
                out.event(
                    "sas",
                    json!({"peer": hex_id(peer), "digits": sas.digits(), "emoji": emoji}),
                );
                out.log(&format!("SAS with {}: {}", hex_id(peer), sas.digits()));
                if self.opts.auto_confirm_sas {
                    match self.session.confirm_sas(peer, now) {
                        Ok(()) => {
                            out.event("sas_confirmed", json!({"peer": hex_id(peer)}));
                            self.check_sas_agreed(peer);
                        }
                        Err(e) => out.event(
                            "input_rejected",
                            json!({"input": "confirm_sas", "error": e.to_string()}),
                        ),
                    }
                }
            }
            Event::SasConfirmedByPeer { peer } => {
                out.event("sas_confirmed_by_peer", json!({"peer": hex_id(peer)}));
                self.check_sas_agreed(peer);
            }
            Event::PeerUnreachable { peer } => {
                out.event("peer_unreachable", json!({"peer": hex_id(peer)}));
            }
            Event::LinkMismatch { peer, role } => out.event(
                "link_mismatch",
                json!({"peer": hex_id(peer), "role": role.as_str()}),
            ),
            Event::PeerVideoPaused { peer, paused } => out.event(
                "video_paused",
                json!({"peer": hex_id(peer), "paused": paused}),
            ),
            Event::AppData { peer, data } => {
                out.event("app_data", json!({"peer": hex_id(peer), "len": data.len()}));
            }
            Event::AppDataUndelivered { peer, count } => out.event(
                "app_data_undelivered",
                json!({"peer": hex_id(peer), "count": count}),
            ),
            Event::Security(s) => out.event(
                "security",
                json!({
                    "kind": format!("{:?}", s.kind),
                    "peer": s.peer.map(hex_id),
                    "total": s.total,
                }),
            ),
            Event::Closed(reason) => {
                out.event(
                    "closed",
                    json!({"reason": format!("{reason:?}").to_lowercase()}),
                );
                if matches!(
                    reason,
                    CloseReason::Denied | CloseReason::WaitingRoomTimeout
                ) {
                    self.exit = Some(Exit::NotAdmitted);
                }
            }
            other => out.event("session_event", json!({"debug": format!("{other:?}")})),
        }
    }

    /// Reports `sas_agreed` once both sides confirmed the same SAS.
    fn check_sas_agreed(&mut self, peer: ParticipantId) {
        let Some(info) = self.session.peer(peer) else {
            return;
        };
        if info.sas_confirmed && info.sas_confirmed_by_peer && self.sas_agreed.insert(peer) {
            let digits = info.sas.map(|s| s.digits());
            self.out.event(
                "sas_agreed",
                json!({"peer": hex_id(peer), "digits": digits}),
            );
        }
    }

    /// The peer's connection, created on first use (without local media: see
    /// [`Self::add_local_media`]).
    async fn media(&mut self, peer: ParticipantId) -> Option<&mut MediaPeer> {
        if !self.peers.contains_key(&peer) {
            self.generations += 1;
            let generation = self.generations;
            let tx = self.media_tx.clone();
            let config = MediaConfig {
                certificate: Some(self.certificate.clone()),
                bind: self.opts.bind.clone(),
                send_video: self.opts.send_video,
                echo: self.opts.echo,
            };
            let media = match MediaPeer::new(&config, move |e| {
                // The receiver lives as long as the driver; after that nobody listens.
                let _ = tx.send((peer, generation, e));
            })
            .await
            {
                Ok(m) => m,
                Err(e) => {
                    self.media_error(peer, &e);
                    return None;
                }
            };
            self.out
                .event("peer_connection_created", json!({"peer": hex_id(peer)}));
            self.peers.insert(peer, PeerMedia { generation, media });
        }
        self.peers.get_mut(&peer).map(|p| &mut p.media)
    }

    /// Adds our video track and data channel to `peer`'s connection (once).
    async fn add_local_media(&mut self, peer: ParticipantId) {
        let data_channel = self.opts.data_channel;
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if let Err(e) = p.media.add_local_media(data_channel).await {
            self.media_error(peer, &e);
        }
    }

    fn media_error(&self, peer: ParticipantId, e: &crate::media::MediaError) {
        self.out.event(
            "media_error",
            json!({"peer": hex_id(peer), "op": e.op, "detail": e.detail}),
        );
    }

    async fn on_media_request(&mut self, peer: ParticipantId, request: MediaRequest) {
        let out = self.out;
        let pid = hex_id(peer);
        match request {
            MediaRequest::CreateOffer { ice_restart } => {
                if self.media(peer).await.is_none() {
                    return;
                }
                self.add_local_media(peer).await;
                let Some(m) = self.media(peer).await else {
                    return;
                };
                match m.create_offer(ice_restart).await {
                    Ok(sdp) => {
                        out.event(
                            "local_description",
                            json!({"peer": pid, "kind": "offer", "ice_restart": ice_restart}),
                        );
                        self.local_description(peer, SdpKind::Offer, &sdp);
                    }
                    Err(e) => self.media_error(peer, &e),
                }
            }
            MediaRequest::CreateAnswer => {
                let Some(p) = self.peers.get(&peer) else {
                    out.event(
                        "media_error",
                        json!({"peer": pid, "op": "create_answer", "detail": "no peer connection"}),
                    );
                    return;
                };
                match p.media.create_answer().await {
                    Ok(sdp) => {
                        out.event("local_description", json!({"peer": pid, "kind": "answer"}));
                        self.local_description(peer, SdpKind::Answer, &sdp);
                        // A remote offer without a video or data section leaves ours out.
                        self.renegotiate_if_needed(peer).await;
                    }
                    Err(e) => self.media_error(peer, &e),
                }
            }
            MediaRequest::SetRemoteDescription { kind, sdp } => {
                let Some(m) = self.media(peer).await else {
                    return;
                };
                let (k, name) = match kind {
                    SdpKind::Offer => (DescriptionKind::Offer, "offer"),
                    SdpKind::Answer => (DescriptionKind::Answer, "answer"),
                };
                match m.set_remote(k, sdp).await {
                    Ok(()) => out.event("remote_description", json!({"peer": pid, "kind": name})),
                    Err(e) => self.media_error(peer, &e),
                }
                // After a first remote offer, so the answer already carries our media.
                self.add_local_media(peer).await;
            }
            MediaRequest::AddIceCandidate(c) => {
                let Some(p) = self.peers.get(&peer) else {
                    return;
                };
                let c = IceCandidate {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_mline_index: c.sdp_mline_index,
                };
                if let Err(e) = p.media.add_candidate(c).await {
                    self.media_error(peer, &e);
                }
            }
            MediaRequest::Rollback => {
                if let Some(p) = self.peers.get(&peer)
                    && p.media.has_local_offer().await
                    && let Err(e) = p.media.rollback().await
                {
                    self.media_error(peer, &e);
                }
            }
            MediaRequest::Prepare => {
                // Creating the connection early is all a prepare asks for.
                let _ = self.media(peer).await;
            }
            MediaRequest::ClosePeer => {
                if let Some(media) = self.retire(peer) {
                    media.close().await;
                    out.event("peer_connection_closed", json!({"peer": pid}));
                }
            }
        }
    }

    /// Asks the session for a new offer when the current descriptions leave out our media.
    async fn renegotiate_if_needed(&mut self, peer: ParticipantId) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        if p.media.needs_negotiation().await {
            self.out
                .event("negotiation_needed", json!({"peer": hex_id(peer)}));
            if let Err(e) = self.session.request_renegotiation(peer, now_ms()) {
                self.out.event(
                    "input_rejected",
                    json!({"input": "renegotiation", "error": e.to_string()}),
                );
            }
        }
    }

    fn local_description(&mut self, peer: ParticipantId, kind: SdpKind, sdp: &str) {
        if let Err(e) = self
            .session
            .handle_local_description(peer, kind, sdp, now_ms())
        {
            self.out.event(
                "input_rejected",
                json!({"input": "local_description", "error": e.to_string()}),
            );
        }
    }

    async fn on_media_event(&mut self, peer: ParticipantId, generation: u64, event: MediaEvent) {
        if self.peers.get(&peer).map(|p| p.generation) != Some(generation) {
            return; // from a connection that has since been closed
        }
        let now = now_ms();
        let out = self.out;
        let pid = hex_id(peer);
        match event {
            MediaEvent::LocalCandidate(c) => {
                let c = Candidate {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_mline_index: c.sdp_mline_index,
                };
                if let Err(e) = self.session.handle_local_candidate(peer, c, now) {
                    out.event(
                        "input_rejected",
                        json!({"input": "local_candidate", "error": e.to_string()}),
                    );
                }
            }
            MediaEvent::GatheringComplete => {
                out.event("gathering_complete", json!({"peer": pid}));
            }
            MediaEvent::NegotiationNeeded => self.renegotiate_if_needed(peer).await,
            MediaEvent::Signaling(_) => {}
            MediaEvent::Ice(state) => {
                out.event(
                    "ice_state",
                    json!({"peer": pid, "state": state.to_string()}),
                );
                if let Some(s) = ice_state(state)
                    && let Err(e) = self.session.handle_ice_state(peer, s, now)
                {
                    out.event(
                        "input_rejected",
                        json!({"input": "ice_state", "error": e.to_string()}),
                    );
                }
            }
            MediaEvent::Connection(state) => {
                out.event(
                    "connection_state",
                    json!({"peer": pid, "state": state.to_string()}),
                );
            }
            MediaEvent::DataChannelOpen { label } => {
                out.event("data_channel_open", json!({"peer": pid, "label": label}));
            }
            MediaEvent::DataChannelMessage {
                label,
                data,
                echoed,
            } => {
                let text = std::str::from_utf8(&data)
                    .ok()
                    .filter(|t| t.len() <= MAX_EVENT_TEXT);
                out.event(
                    "data_channel_message",
                    json!({"peer": pid, "label": label, "len": data.len(), "text": text, "echoed": echoed}),
                );
            }
            MediaEvent::DataChannelClosed { label } => {
                out.event("data_channel_closed", json!({"peer": pid, "label": label}));
            }
            MediaEvent::Track { kind } => {
                out.event("track", json!({"peer": pid, "kind": kind}));
            }
        }
    }

    async fn send_probes(&mut self) {
        for p in self.peers.values() {
            let text = format!("probe-{}", self.probes + 1);
            if p.media.send_text(&text).await > 0 {
                self.probes += 1;
            }
        }
    }

    /// Forgets a peer's connection, printing its final statistics and keeping them in the
    /// totals; returns the connection for closing.
    fn retire(&mut self, peer: ParticipantId) -> Option<MediaPeer> {
        let p = self.peers.remove(&peer)?;
        let s = p.media.stats().snapshot();
        self.stats_event(peer, &s, true);
        self.retired = add(self.retired, s);
        Some(p.media)
    }

    fn stats_event(&self, peer: ParticipantId, s: &StatsSnapshot, last: bool) {
        self.out.event(
            "stats",
            json!({
                "peer": hex_id(peer),
                "final": last,
                "video_rtp_packets": s.video_rtp_packets,
                "video_rtp_bytes": s.video_rtp_bytes,
                "audio_rtp_packets": s.audio_rtp_packets,
                "audio_rtp_bytes": s.audio_rtp_bytes,
                "video_frames_sent": s.video_frames_sent,
                "dc_messages_received": s.dc_messages_received,
                "dc_messages_echoed": s.dc_messages_echoed,
                "probes_sent": self.probes,
            }),
        );
    }

    /// One `stats` event per live connection, and the totals (closed connections included)
    /// as one human line on stderr.
    fn print_stats(&self) {
        let mut total = self.retired;
        for (id, p) in &self.peers {
            let s = p.media.stats().snapshot();
            self.stats_event(*id, &s, false);
            total = add(total, s);
        }
        self.out.log(&format!(
            "video_rtp_packets={} bytes={} audio_rtp_packets={} video_frames_sent={} dc_in={} \
             dc_echoed={}",
            total.video_rtp_packets,
            total.video_rtp_bytes,
            total.audio_rtp_packets,
            total.video_frames_sent,
            total.dc_messages_received,
            total.dc_messages_echoed
        ));
    }
}

fn add(a: StatsSnapshot, b: StatsSnapshot) -> StatsSnapshot {
    StatsSnapshot {
        video_rtp_packets: a.video_rtp_packets.saturating_add(b.video_rtp_packets),
        video_rtp_bytes: a.video_rtp_bytes.saturating_add(b.video_rtp_bytes),
        audio_rtp_packets: a.audio_rtp_packets.saturating_add(b.audio_rtp_packets),
        audio_rtp_bytes: a.audio_rtp_bytes.saturating_add(b.audio_rtp_bytes),
        video_frames_sent: a.video_frames_sent.saturating_add(b.video_frames_sent),
        dc_messages_received: a
            .dc_messages_received
            .saturating_add(b.dc_messages_received),
        dc_messages_echoed: a.dc_messages_echoed.saturating_add(b.dc_messages_echoed),
    }
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Idle => "idle",
        Phase::Joining => "joining",
        Phase::Waiting => "waiting",
        Phase::InCall => "in_call",
        Phase::Closed => "closed",
    }
}

fn ice_state(s: RTCIceConnectionState) -> Option<IceState> {
    Some(match s {
        RTCIceConnectionState::New => IceState::New,
        RTCIceConnectionState::Checking => IceState::Checking,
        RTCIceConnectionState::Connected => IceState::Connected,
        RTCIceConnectionState::Completed => IceState::Completed,
        RTCIceConnectionState::Disconnected => IceState::Disconnected,
        RTCIceConnectionState::Failed => IceState::Failed,
        RTCIceConnectionState::Closed => IceState::Closed,
        _ => return None,
    })
}

async fn next_message(socket: &mut Option<Socket>) -> Incoming {
    match socket {
        Some(s) => relay::next(s).await,
        None => std::future::pending().await,
    }
}

async fn next_signal(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
