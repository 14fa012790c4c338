//! The WebRTC half: one webrtc-rs peer connection, driven by explicit calls and reporting
//! back through a channel.
//!
//! [`MediaPeer`] is what the signaling driver calls when the session asks for media work
//! (create an offer or answer, apply a remote description, add a candidate, restart ICE).
//! Everything webrtc-rs reports through its event-handler trait is turned into a
//! [`MediaEvent`] and sent down an unbounded channel, so the driver sees callbacks as one more
//! ordered input instead of code running behind its back.
//!
//! Besides signaling, the peer does three things on its own, because they are the point of a
//! test peer: it echoes every data-channel message it receives (when asked to), it counts the
//! RTP packets and bytes of every remote track, and it sends a synthetic VP8 video track (a
//! real 160×120 key frame, repeated at 15 fps, so a browser on the other side decodes frames).
//!
//! Every connection of one session presents the same DTLS certificate ([`LocalCertificate`],
//! made once before the session starts): protocol v2 commits to its fingerprint in the SAS
//! exchange, and the session refuses to send a description with any other fingerprint.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::crypto::SignatureScheme;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::media::Sample;
use rtc::peer_connection::certificate::CertificateParams;
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_VP8;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::task::JoinHandle;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCCertificate,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceConnectionState, RTCIceGatheringState,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSdpType, RTCSessionDescription,
    RTCSignalingState, Registry, SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

/// A real VP8 key frame (160×120, a synthetic test pattern), produced once with
/// `vpxenc --codec=vp8 -w 160 -h 120 --kf-max-dist=1` (see docs/NATIVE_PEER.md). Sending it
/// repeatedly is a valid VP8 stream: every frame is a key frame.
pub const VP8_KEY_FRAME: &[u8] = include_bytes!("../assets/keyframe-160x120.vp8");

/// Frames per second of the synthetic video track.
pub const VIDEO_FPS: u32 = 15;

/// Label of the data channel this peer opens.
pub const DATA_CHANNEL_LABEL: &str = "teleconsult-echo";

/// Any failure of the media engine, as a message. webrtc-rs errors carry no personal data,
/// but they do not name the operation that failed; [`MediaError::op`] does.
#[derive(Debug)]
pub struct MediaError {
    /// The operation that failed (`create_offer`, `set_remote_description`, …).
    pub op: &'static str,
    /// What webrtc-rs said.
    pub detail: String,
}

impl std::fmt::Display for MediaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.op, self.detail)
    }
}

impl std::error::Error for MediaError {}

fn err(op: &'static str) -> impl FnOnce(webrtc::error::Error) -> MediaError {
    move |e| MediaError {
        op,
        detail: e.to_string(),
    }
}

/// The one DTLS certificate every peer connection of a session presents, and its
/// fingerprint as the session wants it (`Config::certificate`).
///
/// The session commits to this fingerprint for the SAS (a relay that swaps certificates
/// changes the SAS) and refuses to send a local description whose `a=fingerprint` lines
/// name any other certificate, so it must exist before the session does and every
/// connection must be built with it ([`MediaConfig::certificate`]).
#[derive(Clone)]
pub struct LocalCertificate {
    certificate: RTCCertificate,
    fingerprint: (String, Vec<u8>),
}

impl std::fmt::Debug for LocalCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The certificate holds its private key: print only the public fingerprint.
        f.debug_struct("LocalCertificate")
            .field("fingerprint", &self.fingerprint_line())
            .finish_non_exhaustive()
    }
}

impl LocalCertificate {
    /// A fresh self-signed ECDSA P-256 certificate (what browsers and webrtc-rs make by
    /// default), with a random subject name.
    pub fn generate() -> Result<Self, MediaError> {
        let fail = |detail: String| MediaError {
            op: "certificate",
            detail,
        };
        let provider = rtc::crypto::default_provider().map_err(|e| fail(e.to_string()))?;
        let name = format!("{:08x}{:08x}", random_u32(), random_u32());
        let params = CertificateParams::new(vec![name]).map_err(|e| fail(e.to_string()))?;
        let certificate =
            RTCCertificate::generate(provider.crypto(), SignatureScheme::EcdsaP256Sha256, params)
                .map_err(err("certificate"))?;
        let fingerprints = certificate
            .get_fingerprints(provider.crypto())
            .map_err(err("certificate"))?;
        // A self-signed certificate is a chain of one: one fingerprint, which is exactly
        // what webrtc-rs writes into every SDP of a connection built with it.
        let [fp] = fingerprints.as_slice() else {
            return Err(fail(format!("{} fingerprints", fingerprints.len())));
        };
        let fingerprint = teleconsult::signaling::certificate_fingerprint(&fp.algorithm, &fp.value)
            .ok_or_else(|| fail(format!("unreadable fingerprint {fp:?}")))?;
        Ok(Self {
            certificate,
            fingerprint,
        })
    }

    /// The fingerprint as `(hash name, digest)`: what `Config::certificate` takes.
    pub fn fingerprint(&self) -> &(String, Vec<u8>) {
        &self.fingerprint
    }

    /// The fingerprint as an SDP attribute value: `sha-256 AB:CD:…`.
    pub fn fingerprint_line(&self) -> String {
        let hex: Vec<String> = self
            .fingerprint
            .1
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("{} {}", self.fingerprint.0, hex.join(":"))
    }
}

/// How to build a [`MediaPeer`].
#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// The DTLS certificate to present. A session driver must set it (the same one for every
    /// connection of the session); `None` lets webrtc-rs make a fresh one per connection,
    /// which only suits connections signaled without a session (tests).
    pub certificate: Option<LocalCertificate>,
    /// Local UDP addresses to gather host candidates on. The default, `127.0.0.1:0`, keeps
    /// every candidate on loopback (tests run in a loopback-only network namespace). A
    /// wildcard (`0.0.0.0:0`) means every non-loopback interface.
    pub bind: Vec<SocketAddr>,
    /// Send the synthetic VP8 video track.
    pub send_video: bool,
    /// Echo every data-channel message back on the channel it arrived on.
    pub echo: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            certificate: None,
            bind: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            send_video: true,
            echo: true,
        }
    }
}

/// A trickled ICE candidate, as `RTCIceCandidateInit` carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceCandidate {
    /// The `candidate:` attribute (without `a=`).
    pub candidate: String,
    /// The media stream id.
    pub sdp_mid: Option<String>,
    /// The m-line index.
    pub sdp_mline_index: Option<u16>,
}

/// Offer or answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptionKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// Something webrtc-rs reported, in the order it reported it.
#[derive(Clone, Debug)]
pub enum MediaEvent {
    /// A local candidate to trickle to the other side.
    LocalCandidate(IceCandidate),
    /// Candidate gathering finished.
    GatheringComplete,
    /// The connection needs (re)negotiation (a track or channel was added).
    /// webrtc-rs reports it asynchronously, so it often arrives after the exchange that
    /// already covered the change: check [`MediaPeer::needs_negotiation`] before acting.
    NegotiationNeeded,
    /// The signaling state changed.
    Signaling(RTCSignalingState),
    /// The ICE connection state changed.
    Ice(RTCIceConnectionState),
    /// The peer connection state changed.
    Connection(RTCPeerConnectionState),
    /// A data channel opened (ours or the remote's).
    DataChannelOpen {
        /// Its label.
        label: String,
    },
    /// A data-channel message arrived.
    DataChannelMessage {
        /// The channel's label.
        label: String,
        /// The payload.
        data: Vec<u8>,
        /// Whether it was echoed back.
        echoed: bool,
    },
    /// A data channel closed.
    DataChannelClosed {
        /// Its label.
        label: String,
    },
    /// A remote track started.
    Track {
        /// `audio` or `video`.
        kind: &'static str,
    },
}

/// Counters shared between the webrtc-rs callbacks and whoever prints statistics.
#[derive(Debug, Default)]
pub struct MediaStats {
    video_rtp_packets: AtomicU64,
    video_rtp_bytes: AtomicU64,
    audio_rtp_packets: AtomicU64,
    audio_rtp_bytes: AtomicU64,
    video_frames_sent: AtomicU64,
    dc_messages_received: AtomicU64,
    dc_messages_echoed: AtomicU64,
}

/// A copy of [`MediaStats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// RTP packets received on remote video tracks.
    pub video_rtp_packets: u64,
    /// RTP payload bytes received on remote video tracks (headers excluded).
    pub video_rtp_bytes: u64,
    /// RTP packets received on remote audio tracks.
    pub audio_rtp_packets: u64,
    /// RTP payload bytes received on remote audio tracks.
    pub audio_rtp_bytes: u64,
    /// Synthetic video frames handed to the local track.
    pub video_frames_sent: u64,
    /// Data-channel messages received.
    pub dc_messages_received: u64,
    /// Data-channel messages echoed back.
    pub dc_messages_echoed: u64,
}

impl MediaStats {
    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            video_rtp_packets: self.video_rtp_packets.load(Relaxed),
            video_rtp_bytes: self.video_rtp_bytes.load(Relaxed),
            audio_rtp_packets: self.audio_rtp_packets.load(Relaxed),
            audio_rtp_bytes: self.audio_rtp_bytes.load(Relaxed),
            video_frames_sent: self.video_frames_sent.load(Relaxed),
            dc_messages_received: self.dc_messages_received.load(Relaxed),
            dc_messages_echoed: self.dc_messages_echoed.load(Relaxed),
        }
    }
}

/// Open data channels, shared by the handler (which learns of remote ones) and the peer
/// (which sends on them).
type Channels = Arc<Mutex<Vec<(String, Arc<dyn DataChannel>)>>>;

/// Where events go.
type Sink = Arc<dyn Fn(MediaEvent) + Send + Sync>;

/// What the event handler needs; cloned into every task it spawns.
#[derive(Clone)]
struct Shared {
    sink: Sink,
    stats: Arc<MediaStats>,
    channels: Channels,
    echo: bool,
}

impl Shared {
    fn emit(&self, e: MediaEvent) {
        (self.sink)(e);
    }

    /// Polls one data channel until it closes: reports, counts and (optionally) echoes.
    fn watch_channel(&self, dc: Arc<dyn DataChannel>) {
        let me = self.clone();
        tokio::spawn(async move {
            let label = dc.label().await.unwrap_or_default();
            while let Some(event) = dc.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        if let Ok(mut list) = me.channels.lock() {
                            list.push((label.clone(), dc.clone()));
                        }
                        me.emit(MediaEvent::DataChannelOpen {
                            label: label.clone(),
                        });
                    }
                    DataChannelEvent::OnMessage(msg) => {
                        me.stats.dc_messages_received.fetch_add(1, Relaxed);
                        let mut echoed = false;
                        if me.echo {
                            let sent = if msg.is_string {
                                let text = String::from_utf8_lossy(&msg.data).into_owned();
                                dc.send_text(&text).await
                            } else {
                                dc.send(msg.data.clone()).await
                            };
                            echoed = sent.is_ok();
                            if echoed {
                                me.stats.dc_messages_echoed.fetch_add(1, Relaxed);
                            }
                        }
                        me.emit(MediaEvent::DataChannelMessage {
                            label: label.clone(),
                            data: msg.data.to_vec(),
                            echoed,
                        });
                    }
                    DataChannelEvent::OnClose => break,
                    _ => {}
                }
            }
            if let Ok(mut list) = me.channels.lock() {
                list.retain(|(_, c)| !Arc::ptr_eq(c, &dc));
            }
            me.emit(MediaEvent::DataChannelClosed { label });
        });
    }
}

struct Handler(Shared);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_negotiation_needed(&self) {
        self.0.emit(MediaEvent::NegotiationNeeded);
    }

    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            self.0.emit(MediaEvent::LocalCandidate(IceCandidate {
                candidate: init.candidate,
                sdp_mid: init.sdp_mid,
                sdp_mline_index: init.sdp_mline_index,
            }));
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.0.emit(MediaEvent::GatheringComplete);
        }
    }

    async fn on_signaling_state_change(&self, state: RTCSignalingState) {
        self.0.emit(MediaEvent::Signaling(state));
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.0.emit(MediaEvent::Ice(state));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.0.emit(MediaEvent::Connection(state));
    }

    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        self.0.watch_channel(dc);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let shared = self.0.clone();
        tokio::spawn(async move {
            let video = track.kind().await == RtpCodecKind::Video;
            shared.emit(MediaEvent::Track {
                kind: if video { "video" } else { "audio" },
            });
            let (packets, bytes) = if video {
                (
                    &shared.stats.video_rtp_packets,
                    &shared.stats.video_rtp_bytes,
                )
            } else {
                (
                    &shared.stats.audio_rtp_packets,
                    &shared.stats.audio_rtp_bytes,
                )
            };
            while let Some(event) = track.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(pkt) => {
                        packets.fetch_add(1, Relaxed);
                        bytes.fetch_add(pkt.payload.len() as u64, Relaxed);
                    }
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }
}

/// One webrtc-rs peer connection with an echoing data channel, a synthetic video track and
/// receive counters.
pub struct MediaPeer {
    pc: Arc<dyn PeerConnection>,
    shared: Shared,
    send_video: bool,
    local_media_added: bool,
    /// The SSRC of our video track, once added.
    video_ssrc: Option<u32>,
    /// Whether we opened a data channel.
    channel_opened: bool,
    video_pump: Option<JoinHandle<()>>,
}

impl MediaPeer {
    /// Builds the peer connection (no STUN/TURN: host candidates on `config.bind` only);
    /// [`Self::add_local_media`] adds what it sends. Every event is handed to `sink`, in
    /// the order webrtc-rs reports it (it must not block: forward it into a channel).
    pub async fn new(
        config: &MediaConfig,
        sink: impl Fn(MediaEvent) + Send + Sync + 'static,
    ) -> Result<Self, MediaError> {
        let mut media_engine = MediaEngine::default();
        media_engine
            .register_default_codecs()
            .map_err(err("register_default_codecs"))?;
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)
            .map_err(err("register_default_interceptors"))?;
        let shared = Shared {
            sink: Arc::new(sink),
            stats: Arc::new(MediaStats::default()),
            channels: Arc::new(Mutex::new(Vec::new())),
            echo: config.echo,
        };
        // mDNS needs a multicast-capable interface: a loopback-only network namespace has
        // none (binding fails with ENODEV), and loopback candidates have nothing to hide.
        let mdns = if config.bind.iter().all(|a| a.ip().is_loopback()) {
            MulticastDnsMode::Disabled
        } else {
            MulticastDnsMode::QueryOnly
        };
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(mdns)
            .build();
        let mut configuration = RTCConfigurationBuilder::new();
        if let Some(c) = &config.certificate {
            configuration = configuration.with_certificates(vec![c.certificate.clone()]);
        }
        let pc = PeerConnectionBuilder::new()
            .with_configuration(configuration.build())
            .with_setting_engine(settings)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler(shared.clone())))
            .with_udp_addrs(config.bind.clone())
            .build()
            .await
            .map_err(err("build"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        Ok(Self {
            pc,
            shared,
            send_video: config.send_video,
            local_media_added: false,
            video_ssrc: None,
            channel_opened: false,
            video_pump: None,
        })
    }

    /// Adds what this side sends: the synthetic video track (when configured) and, when
    /// `data_channel`, our data channel. Once; later calls do nothing.
    ///
    /// Call it before creating a first offer, or right after applying a first remote
    /// offer: then the track takes over the transceiver the offer created and the channel
    /// rides the offered SCTP association, so the answer covers both and no second
    /// negotiation round is needed.
    pub async fn add_local_media(&mut self, data_channel: bool) -> Result<(), MediaError> {
        if self.local_media_added {
            return Ok(());
        }
        self.local_media_added = true;
        if self.send_video {
            self.add_video().await?;
        }
        if data_channel {
            self.open_data_channel().await?;
        }
        Ok(())
    }

    async fn add_video(&mut self) -> Result<(), MediaError> {
        let ssrc = random_u32();
        let codec = RTCRtpCodec {
            mime_type: MIME_TYPE_VP8.to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        };
        let track = TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                "teleconsult-native".to_owned(),
                "synthetic-video".to_owned(),
                "synthetic-video".to_owned(),
                RtpCodecKind::Video,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec,
                    ..Default::default()
                }],
            ),
        )
        .map_err(err("video track"))?;
        let track = Arc::new(track);
        let sender = self
            .pc
            .add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(err("add_track"))?;
        let stats = self.shared.stats.clone();
        self.video_pump = Some(tokio::spawn(pump_video(track, sender, ssrc, stats)));
        self.video_ssrc = Some(ssrc);
        Ok(())
    }

    /// The receive and echo counters.
    pub fn stats(&self) -> Arc<MediaStats> {
        self.shared.stats.clone()
    }

    /// Opens a data channel ([`DATA_CHANNEL_LABEL`]); unless an SCTP association is already
    /// negotiated, this makes the connection need negotiation.
    pub async fn open_data_channel(&mut self) -> Result<(), MediaError> {
        let dc = self
            .pc
            .create_data_channel(DATA_CHANNEL_LABEL, None)
            .await
            .map_err(err("create_data_channel"))?;
        self.shared.watch_channel(dc);
        self.channel_opened = true;
        Ok(())
    }

    /// Whether the last completed exchange left out something we added: our video track
    /// (no `a=ssrc:` line for it in the current local description) or our data channel
    /// (no `m=application`). False while no exchange has completed or one is under way:
    /// the exchange in flight covers what was added before it.
    pub async fn needs_negotiation(&self) -> bool {
        if self.pc.pending_local_description().await.is_some()
            || self.pc.pending_remote_description().await.is_some()
        {
            return false;
        }
        let Some(local) = self.pc.current_local_description().await else {
            return false;
        };
        let video_missing = self
            .video_ssrc
            .is_some_and(|ssrc| !local.sdp.contains(&format!("a=ssrc:{ssrc} ")));
        let channel_missing = self.channel_opened && !local.sdp.contains("m=application");
        video_missing || channel_missing
    }

    /// Sends `text` on every open data channel; returns how many channels took it.
    pub async fn send_text(&self, text: &str) -> usize {
        let channels: Vec<_> = match self.shared.channels.lock() {
            Ok(list) => list.iter().map(|(_, c)| c.clone()).collect(),
            Err(_) => Vec::new(),
        };
        let mut sent = 0;
        for c in channels {
            if c.send_text(text).await.is_ok() {
                sent += 1;
            }
        }
        sent
    }

    /// Creates an offer (an ICE-restart offer when `ice_restart`), applies it locally and
    /// returns its SDP.
    pub async fn create_offer(&self, ice_restart: bool) -> Result<String, MediaError> {
        // `iceRestart: true` in the options, not `restart_ice()`: the latter also marks the
        // connection as needing negotiation, which would cost a second, useless offer.
        let offer = self
            .pc
            .create_offer(Some(RTCOfferOptions { ice_restart }))
            .await
            .map_err(err("create_offer"))?;
        let sdp = offer.sdp.clone();
        self.pc
            .set_local_description(offer)
            .await
            .map_err(err("set_local_description"))?;
        Ok(sdp)
    }

    /// Creates an answer to the applied remote offer, applies it locally and returns its SDP.
    pub async fn create_answer(&self) -> Result<String, MediaError> {
        let answer = self
            .pc
            .create_answer(None)
            .await
            .map_err(err("create_answer"))?;
        let sdp = answer.sdp.clone();
        self.pc
            .set_local_description(answer)
            .await
            .map_err(err("set_local_description"))?;
        Ok(sdp)
    }

    /// Applies a remote description. A remote offer that collides with our own pending
    /// offer first rolls ours back, as a polite peer does in perfect negotiation (the
    /// session decides whether to accept a colliding offer at all).
    pub async fn set_remote(&self, kind: DescriptionKind, sdp: String) -> Result<(), MediaError> {
        let desc = match kind {
            DescriptionKind::Offer => {
                if self.has_local_offer().await {
                    self.rollback().await?;
                }
                RTCSessionDescription::offer(sdp).map_err(err("parse offer"))?
            }
            DescriptionKind::Answer => {
                RTCSessionDescription::answer(sdp).map_err(err("parse answer"))?
            }
        };
        self.pc
            .set_remote_description(desc)
            .await
            .map_err(err("set_remote_description"))?;
        Ok(())
    }

    /// Whether a local offer is pending (signaling state `have-local-offer`).
    pub async fn has_local_offer(&self) -> bool {
        matches!(
            self.pc.pending_local_description().await,
            Some(d) if d.sdp_type == RTCSdpType::Offer
        )
    }

    /// Rolls back a pending local offer.
    pub async fn rollback(&self) -> Result<(), MediaError> {
        let rb = RTCSessionDescription::rollback(None).map_err(err("rollback"))?;
        self.pc
            .set_local_description(rb)
            .await
            .map_err(err("rollback"))
    }

    /// Adds a remote candidate; an empty candidate line (end of candidates) is ignored.
    pub async fn add_candidate(&self, c: IceCandidate) -> Result<(), MediaError> {
        if c.candidate.is_empty() {
            return Ok(());
        }
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                ..Default::default()
            })
            .await
            .map_err(err("add_ice_candidate"))
    }

    /// The SDP currently applied locally, if any.
    pub async fn local_sdp(&self) -> Option<String> {
        self.pc.local_description().await.map(|d| d.sdp)
    }

    /// Stops the video pump and closes the connection.
    pub async fn close(mut self) {
        if let Some(pump) = self.video_pump.take() {
            pump.abort();
        }
        let _ = self.pc.close().await;
    }
}

impl Drop for MediaPeer {
    fn drop(&mut self) {
        if let Some(pump) = self.video_pump.take() {
            pump.abort();
        }
    }
}

/// Writes the key frame at [`VIDEO_FPS`] with the payload type the sender negotiated for
/// VP8; before negotiation (no VP8 payload type yet) frames are skipped.
async fn pump_video(
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    stats: Arc<MediaStats>,
) {
    let frame = Bytes::from_static(VP8_KEY_FRAME);
    let period = Duration::from_millis(1000 / u64::from(VIDEO_FPS));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let Ok(params) = sender.get_parameters().await else {
            return; // the connection is gone
        };
        let Some(pt) = params
            .rtp_parameters
            .codecs
            .iter()
            .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_VP8))
            .map(|c| c.payload_type)
        else {
            continue;
        };
        let sample = Sample {
            data: frame.clone(),
            duration: period,
            ..Sample::new(Instant::now())
        };
        if track
            .sample_writer(ssrc, pt)
            .write_sample(&sample)
            .await
            .is_ok()
        {
            stats.video_frames_sent.fetch_add(1, Relaxed);
        }
    }
}

/// A random u32 from the OS (SSRCs).
pub fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // Without an OS entropy source the SSRC is merely predictable, which RTP tolerates.
    let _ = getrandom::fill(&mut b);
    u32::from_le_bytes(b)
}
