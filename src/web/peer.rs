//! One `RTCPeerConnection` per remote participant, its callbacks owned here and detached on
//! drop. It executes the session's media requests in order, one at a time, because WebRTC's
//! offer/answer methods must not overlap.

use std::collections::VecDeque;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamTrack, RtcPeerConnection};

use crate::quality::{Monitor, Sample};
use crate::signaling::{Candidate, IceState, MediaRequest, SdpKind};

#[wasm_bindgen(module = "/src/web/snippets/peer.js")]
extern "C" {
    #[wasm_bindgen(js_name = createPeer, catch)]
    fn create_peer(
        ice_servers: &JsValue,
        relay_only: bool,
        certificate: &JsValue,
        on_event: &Closure<dyn FnMut(u32, JsValue, JsValue, JsValue)>,
    ) -> Result<RtcPeerConnection, JsValue>;
    /// Makes the session's certificate: resolves to `[certificate, hash name, digest]`.
    #[wasm_bindgen(js_name = createCertificate)]
    pub fn create_certificate() -> Promise;
    /// Adds a received track to the participant's stream (made if need be); returns it.
    #[wasm_bindgen(js_name = addRemoteTrack)]
    pub fn add_remote_track(
        stream: Option<MediaStream>,
        sender_stream: Option<MediaStream>,
        track: &MediaStreamTrack,
    ) -> MediaStream;
    /// Constructs and closes a throwaway connection, to start WebRTC up (see the snippet).
    #[wasm_bindgen(js_name = warmUp)]
    pub fn warm_up();
    #[wasm_bindgen(js_name = sendDirect)]
    fn send_direct(pc: &RtcPeerConnection, frame: &[u8]) -> bool;
    /// The page's WebCrypto for bulk crypto offload, or `null` without one.
    #[wasm_bindgen(js_name = bulkCrypto)]
    pub fn bulk_crypto() -> JsValue;
    #[wasm_bindgen(js_name = importBulkKey)]
    pub fn import_bulk_key(bulk: &JsValue, name: &str, raw: &[u8], send: bool);
    #[wasm_bindgen(js_name = sealDirect)]
    fn seal_direct(
        bulk: &JsValue,
        name: &str,
        pc: &RtcPeerConnection,
        aad: &[u8],
        nonce: &[u8],
        plaintext: &[u8],
    );
    /// Resolves to the frame's body, or `undefined` when its tag did not verify.
    #[wasm_bindgen(js_name = openDirect)]
    pub fn open_direct(bulk: &JsValue, name: &str, nonce: &[u8], frame: &[u8]) -> Promise;
    #[wasm_bindgen(js_name = forgetBulkPeer)]
    pub fn forget_bulk_peer(bulk: &JsValue, peer: &str);
    #[wasm_bindgen(js_name = closePeer, catch)]
    fn close_peer(pc: &RtcPeerConnection) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = receiveAudioAndVideo, catch)]
    fn receive_audio_and_video(pc: &RtcPeerConnection) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = addStream, catch)]
    fn add_stream(pc: &RtcPeerConnection, stream: &MediaStream) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = removeTracksNotIn, catch)]
    fn remove_tracks_not_in(
        pc: &RtcPeerConnection,
        stream: Option<MediaStream>,
        screen: Option<MediaStream>,
    ) -> Result<(), JsValue>;
    fn negotiate(pc: &RtcPeerConnection, op: u32, a: JsValue, b: JsValue, c: JsValue) -> Promise;
    /// What an offer from `pc` would negotiate: each transceiver's kind, direction and sent
    /// track, as one string to compare.
    #[wasm_bindgen(js_name = offerShape)]
    fn offer_shape(pc: &RtcPeerConnection) -> String;
    /// Resolves to the connection's counters for the quality monitor (a `Float64Array`, see
    /// the snippet).
    #[wasm_bindgen(js_name = qualityCounters)]
    fn quality_counters(pc: &RtcPeerConnection) -> Promise;
    /// Whether the app's `iceServers` list a TURN server (`turn:` or `turns:` URLs).
    #[wasm_bindgen(js_name = hasTurnServer)]
    pub fn has_turn_server(ice_servers: &JsValue) -> bool;
    #[wasm_bindgen(js_name = setVideoSending)]
    fn set_video_sending(pc: &RtcPeerConnection, on: bool) -> Promise;
    /// Stops every track of `stream`.
    #[wasm_bindgen(js_name = stopTracks)]
    pub fn stop_tracks(stream: &MediaStream);
    /// Stops the tracks of `kind` and removes them from `stream`; returns how many.
    #[wasm_bindgen(js_name = dropTracks)]
    pub fn drop_tracks(stream: &MediaStream, kind: &str) -> u32;
    /// Enables or disables the tracks of `kind`.
    #[wasm_bindgen(js_name = setEnabled)]
    pub fn set_enabled(stream: &MediaStream, kind: &str, enabled: bool);
    /// Sends each track of `fresh` instead of the current one of its kind (`replaceTrack`,
    /// no renegotiation; never the shared `screen`'s) and puts it in `stream`; resolves to
    /// how many tracks it placed.
    #[wasm_bindgen(js_name = replaceTracks)]
    pub fn replace_tracks(
        stream: &MediaStream,
        fresh: &MediaStream,
        pcs: Vec<RtcPeerConnection>,
        screen: Option<MediaStream>,
    ) -> Promise;
    /// `{ audio?, video? }`: the constraints reopening each kind whose track ended; undefined
    /// when none did.
    #[wasm_bindgen(js_name = endedConstraints)]
    pub fn ended_constraints(stream: &MediaStream) -> JsValue;
    /// `getUserMedia`; see the snippet for how it rejects.
    #[wasm_bindgen(js_name = openMedia)]
    pub fn open_media(constraints: &JsValue) -> Promise;
}

/// What a peer connection reports.
pub enum PeerEvent {
    /// A local ICE candidate (an empty candidate means gathering is complete).
    Candidate(Candidate),
    /// The ICE connection state changed.
    Ice(IceState),
    /// A remote track arrived, with the sender's stream when the browser named one.
    Track(MediaStreamTrack, Option<MediaStream>),
    /// The direct data channel opened (`true`) or closed.
    Direct(bool),
    /// A message on the direct data channel (a sealed envelope, checked by the session).
    DirectFrame(Vec<u8>),
    /// A STUN/TURN server refused us (for example a wrong TURN credential: 401).
    IceError {
        /// The STUN error code (401 unauthorized, 403 forbidden, 701 unreachable, …).
        code: u16,
        /// The server's reason text.
        text: String,
        /// The server URL.
        url: String,
    },
}

/// An offer set as local description before the session asked for one: a patient or guest
/// makes it on its spare connection while the handshake and the admission are under way,
/// so the offer goes out the moment the admission arrives instead of after createOffer and
/// setLocalDescription (~15 ms on the call set-up's critical path, docs/BENCHMARKS.md).
/// Nothing of it leaves the device before the session asks: its candidates wait with it.
pub struct WarmOffer {
    shape: String,
    /// Resolves to the offer's `[type, sdp]` once it is the local description.
    step: Promise,
}

/// A warm offer handed out with its connection, which the request queue settles first:
/// used as the answer to the session's first offer request, or rolled back.
pub struct WarmStart {
    /// The offer.
    pub offer: WarmOffer,
    /// Whether it answers the session's first request (an offer without ICE restart, on
    /// unchanged tracks), or is rolled back before that request runs; `None` until that
    /// request comes (a `Prepare` does not count).
    pub usable: Option<bool>,
    /// Hands the connection's events to its participant: replays those that waited
    /// (`true`), or drops them (`false`, their offer was not used).
    pub release: Box<dyn FnOnce(bool)>,
}

impl WarmStart {
    /// Settles the offer: when it is used, `deliver` gets its SDP before the candidates that
    /// waited are replayed; otherwise it is rolled back and they are dropped. Returns whether
    /// it was used (if not, the request queue goes on as usual).
    pub async fn settle(self, pc: &RtcPeerConnection, deliver: impl FnOnce(String)) -> bool {
        let made = JsFuture::from(self.offer.step).await;
        if self.usable == Some(true)
            && let Ok(step) = made
            && let MediaOutcome::LocalDescription(SdpKind::Offer, sdp) = local_description(&step)
        {
            deliver(sdp);
            (self.release)(true);
            return true;
        }
        // Rolling back a failed offer fails too (the state is stable): nothing to undo then.
        let none = JsValue::UNDEFINED;
        let _ = JsFuture::from(negotiate(pc, 4, none.clone(), none.clone(), none)).await;
        (self.release)(false);
        false
    }
}

/// The result of a media request that the session needs to hear about.
pub enum MediaOutcome {
    /// A local description was created and applied.
    LocalDescription(SdpKind, String),
    /// Nothing to report.
    Done,
}

/// A peer connection and its pending work.
pub struct Peer {
    pc: RtcPeerConnection,
    /// Media requests not yet executed.
    pub queue: VecDeque<MediaRequest>,
    /// A request is executing (the queue is being drained by a task).
    pub busy: bool,
    /// This connection's quality and audio-only fallback.
    pub monitor: Monitor,
    /// An offer made before the connection was handed out, settled before any request.
    pub warm: Option<WarmStart>,
    /// The direct data channel is open, and ICE connected: what the session is told
    /// (`Session::set_direct`) when either changes.
    pub channel_open: bool,
    /// ICE reports the path up (`connected` or `completed`).
    pub ice_up: bool,
    _on_event: Closure<dyn FnMut(u32, JsValue, JsValue, JsValue)>,
}

impl Peer {
    /// Creates the connection with the app's ICE configuration; local tracks are added by
    /// the caller.
    pub fn new(
        ice_servers: &JsValue,
        relay_only: bool,
        certificate: &JsValue,
        monitor: Monitor,
        sink: impl Fn(PeerEvent) + 'static,
    ) -> Result<Self, JsValue> {
        let on_event = Closure::<dyn FnMut(u32, JsValue, JsValue, JsValue)>::new(
            move |kind: u32, a: JsValue, b: JsValue, c: JsValue| {
                if let Some(event) = peer_event(kind, a, b, c) {
                    sink(event);
                }
            },
        );
        let pc = create_peer(ice_servers, relay_only, certificate, &on_event)?;
        Ok(Self {
            pc,
            queue: VecDeque::new(),
            busy: false,
            monitor,
            warm: None,
            channel_open: false,
            ice_up: false,
            _on_event: on_event,
        })
    }

    /// Sends video again, or stops sending it while audio goes on (the encodings' `active`
    /// flag: nothing is renegotiated).
    pub fn set_video_sending(&self, on: bool) {
        let _ = set_video_sending(&self.pc, on);
    }

    /// Creates an offer and sets it as the local description now, ahead of any request (see
    /// [`WarmOffer`]).
    pub fn start_offer(&self) -> WarmOffer {
        let none = JsValue::UNDEFINED;
        WarmOffer {
            shape: offer_shape(&self.pc),
            step: negotiate(&self.pc, 0, false.into(), none.clone(), none),
        }
    }

    /// Whether `warm` offers what this connection would offer now (no track added or
    /// removed since it was made).
    pub fn still_offers(&self, warm: &WarmOffer) -> bool {
        offer_shape(&self.pc) == warm.shape
    }

    /// Sends a sealed envelope on the direct data channel; `false` when it cannot go now
    /// (not open, or its buffer full): the session sends it again.
    pub fn send_direct(&self, frame: &[u8]) -> bool {
        send_direct(&self.pc, frame)
    }

    /// Encrypts a frame with WebCrypto and sends it on the direct data channel, after those
    /// sealed before it (bulk crypto offload; `name` is the key's, `peer:keyId:s`).
    pub fn seal_direct(
        &self,
        bulk: &JsValue,
        name: &str,
        aad: &[u8],
        nonce: &[u8],
        plaintext: &[u8],
    ) {
        seal_direct(bulk, name, &self.pc, aad, nonce, plaintext);
    }

    /// The underlying connection (a cheap handle clone), for async work and stats.
    pub fn connection(&self) -> RtcPeerConnection {
        self.pc.clone()
    }

    /// Asks to receive audio and video whatever is sent, so that the first offer always
    /// carries both media sections (a patient without a camera, or whose camera was denied,
    /// still sees the clinician). `addTrack` later reuses these transceivers.
    pub fn receive_audio_and_video(&self) {
        let _ = receive_audio_and_video(&self.pc);
    }

    /// Adds every track of `stream` that is not sent yet, and receives both kinds whatever
    /// it holds.
    pub fn add_stream(&self, stream: &MediaStream) {
        let _ = add_stream(&self.pc, stream);
    }

    /// Stops sending tracks that are in neither `stream` nor `screen` (all, when both are
    /// `None`).
    pub fn remove_tracks_not_in(&self, stream: Option<&MediaStream>, screen: Option<&MediaStream>) {
        let _ = remove_tracks_not_in(&self.pc, stream.cloned(), screen.cloned());
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = close_peer(&self.pc);
    }
}

/// Reads one event from the connection's handlers; anything malformed is dropped.
fn peer_event(kind: u32, a: JsValue, b: JsValue, c: JsValue) -> Option<PeerEvent> {
    Some(match kind {
        0 => PeerEvent::Candidate(Candidate {
            candidate: a.as_string().unwrap_or_default(),
            sdp_mid: b.as_string(),
            sdp_mline_index: c.as_f64().and_then(super::js::u16_of),
        }),
        1 => PeerEvent::Ice(ice_state(&a.as_string()?)),
        2 => PeerEvent::Track(a.dyn_into().ok()?, b.dyn_into().ok()),
        3 => PeerEvent::IceError {
            code: a.as_f64().and_then(super::js::u16_of)?,
            text: b.as_string().unwrap_or_default(),
            url: c.as_string().unwrap_or_default(),
        },
        4 => PeerEvent::Direct(a.as_bool()?),
        5 => PeerEvent::DirectFrame(a.dyn_into::<js_sys::Uint8Array>().ok()?.to_vec()),
        _ => return None,
    })
}

/// Executes one media request on `pc`.
pub async fn execute(
    pc: &RtcPeerConnection,
    request: MediaRequest,
) -> Result<MediaOutcome, JsValue> {
    let none = JsValue::UNDEFINED;
    let step = match request {
        MediaRequest::CreateOffer { ice_restart } => {
            negotiate(pc, 0, ice_restart.into(), none.clone(), none)
        }
        MediaRequest::CreateAnswer => negotiate(pc, 1, none.clone(), none.clone(), none),
        MediaRequest::SetRemoteDescription { kind, sdp } => {
            let kind = if kind == SdpKind::Offer {
                "offer"
            } else {
                "answer"
            };
            negotiate(pc, 2, kind.into(), sdp.into(), none)
        }
        MediaRequest::AddIceCandidate(c) => negotiate(
            pc,
            3,
            c.candidate.into(),
            c.sdp_mid.map_or(JsValue::NULL, JsValue::from),
            c.sdp_mline_index.map_or(JsValue::NULL, JsValue::from),
        ),
        MediaRequest::Rollback => negotiate(pc, 4, none.clone(), none.clone(), none),
        // The driver handles creating and closing (it owns the Peer); nothing to do on the
        // connection here.
        MediaRequest::Prepare | MediaRequest::ClosePeer => return Ok(MediaOutcome::Done),
    };
    Ok(local_description(&JsFuture::from(step).await?))
}

/// The `[type, sdp]` an offer or answer step resolved to (the type read back from the
/// browser, which picks offer or answer from its signaling state), or nothing to report.
fn local_description(step: &JsValue) -> MediaOutcome {
    let Some(pair) = step.dyn_ref::<js_sys::Array>() else {
        return MediaOutcome::Done;
    };
    let kind = match pair.get(0).as_string().as_deref() {
        Some("offer") => SdpKind::Offer,
        Some("answer") => SdpKind::Answer,
        _ => return MediaOutcome::Done,
    };
    match pair.get(1).as_string() {
        Some(sdp) => MediaOutcome::LocalDescription(kind, sdp),
        None => MediaOutcome::Done,
    }
}

fn ice_state(s: &str) -> IceState {
    match s {
        "checking" => IceState::Checking,
        "connected" => IceState::Connected,
        "completed" => IceState::Completed,
        "disconnected" => IceState::Disconnected,
        "failed" => IceState::Failed,
        "closed" => IceState::Closed,
        _ => IceState::New,
    }
}

/// One sample of `pc`'s counters for the quality monitor, and its video frames decoded;
/// `None` when its stats cannot be read (it closed meanwhile).
pub async fn quality_sample(pc: &RtcPeerConnection) -> Option<(Sample, Option<f64>)> {
    let values = JsFuture::from(quality_counters(pc)).await.ok()?;
    let v = js_sys::Float64Array::new(&values).to_vec();
    let count = |i: usize| {
        v.get(i)
            .copied()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map_or(0, |x| x as u64)
    };
    let finite = |i: usize| v.get(i).copied().filter(|x| x.is_finite() && *x >= 0.0);
    let sample = Sample {
        rtt_ms: finite(0),
        packets_received: count(1),
        packets_lost: count(2),
        packets_sent: count(3),
        packets_sent_lost: count(4),
        available_outgoing_kbps: finite(5).map(|k| k.min(f64::from(u32::MAX)) as u32),
    };
    Some((sample, finite(6)))
}
