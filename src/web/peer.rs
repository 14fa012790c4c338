//! One `RTCPeerConnection` per remote participant, its callbacks owned here and detached on
//! drop. It executes the session's media requests in order, one at a time, because WebRTC's
//! offer/answer methods must not overlap.

use std::collections::VecDeque;

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, RtcConfiguration, RtcIceCandidateInit, RtcIceConnectionState,
    RtcIceTransportPolicy, RtcPeerConnection, RtcPeerConnectionIceErrorEvent,
    RtcPeerConnectionIceEvent, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use crate::signaling::{Candidate, IceState, MediaRequest, SdpKind};

/// Calls a method web-sys lacks by name (the argument-less `setLocalDescription()` that
/// perfect negotiation relies on, and `restartIce()`).
fn call0(pc: &RtcPeerConnection, method: &str) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = Reflect::get(pc, &method.into())?.dyn_into()?;
    f.call0(pc)
}

async fn set_local_description_implicit(pc: &RtcPeerConnection) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::from(call0(pc, "setLocalDescription")?)).await
}

/// What a peer connection reports.
pub enum PeerEvent {
    /// A local ICE candidate (an empty candidate means gathering is complete).
    Candidate(Candidate),
    /// The ICE connection state changed.
    Ice(IceState),
    /// A remote track arrived.
    Track(RtcTrackEvent),
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
    _on_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_ice_state: Closure<dyn FnMut()>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_ice_error: Closure<dyn FnMut(RtcPeerConnectionIceErrorEvent)>,
}

impl Peer {
    /// Creates the connection with the app's ICE configuration; local tracks are added by
    /// the caller.
    pub fn new(
        ice_servers: &JsValue,
        relay_only: bool,
        sink: impl Fn(PeerEvent) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let config = RtcConfiguration::new();
        if !ice_servers.is_undefined() {
            config.set_ice_servers(ice_servers);
        }
        if relay_only {
            config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
        }
        let pc = RtcPeerConnection::new_with_configuration(&config)?;

        let s = sink.clone();
        let on_candidate = Closure::<dyn FnMut(_)>::new(move |e: RtcPeerConnectionIceEvent| {
            let candidate = match e.candidate() {
                Some(c) => Candidate {
                    candidate: c.candidate(),
                    sdp_mid: c.sdp_mid(),
                    sdp_mline_index: c.sdp_m_line_index(),
                },
                None => Candidate {
                    candidate: String::new(),
                    sdp_mid: None,
                    sdp_mline_index: None,
                },
            };
            s(PeerEvent::Candidate(candidate));
        });
        let s = sink.clone();
        let pc2 = pc.clone();
        let on_ice_state = Closure::<dyn FnMut()>::new(move || {
            s(PeerEvent::Ice(ice_state(pc2.ice_connection_state())));
        });
        let s = sink.clone();
        let on_track = Closure::<dyn FnMut(_)>::new(move |e: RtcTrackEvent| s(PeerEvent::Track(e)));
        let on_ice_error =
            Closure::<dyn FnMut(_)>::new(move |e: RtcPeerConnectionIceErrorEvent| {
                sink(PeerEvent::IceError {
                    code: e.error_code(),
                    text: e.error_text(),
                    url: e.url(),
                });
            });
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        pc.set_oniceconnectionstatechange(Some(on_ice_state.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        let _ = Reflect::set(&pc, &"onicecandidateerror".into(), on_ice_error.as_ref());
        Ok(Self {
            pc,
            queue: VecDeque::new(),
            busy: false,
            _on_candidate: on_candidate,
            _on_ice_state: on_ice_state,
            _on_track: on_track,
            _on_ice_error: on_ice_error,
        })
    }

    /// The underlying connection (a cheap handle clone), for async work and stats.
    pub fn connection(&self) -> RtcPeerConnection {
        self.pc.clone()
    }

    /// Asks to receive audio and video even while sending nothing, so that the first offer
    /// always carries both media sections (a patient without a camera still sees the
    /// clinician). `addTrack` later reuses these transceivers.
    pub fn receive_audio_and_video(&self) {
        if let Ok(add) = Reflect::get(&self.pc, &"addTransceiver".into())
            .and_then(|f| f.dyn_into::<js_sys::Function>())
        {
            let init = js_sys::Object::new();
            let _ = Reflect::set(&init, &"direction".into(), &"recvonly".into());
            for kind in ["audio", "video"] {
                let _ = add.call2(&self.pc, &kind.into(), &init);
            }
        }
    }

    /// Whether anything was ever added to send (an `addTrack` sender stays after
    /// `removeTrack`, and its transceiver is reused by the next one).
    pub fn has_senders(&self) -> bool {
        self.pc.get_senders().length() > 0
    }

    /// Adds every track of `stream` that is not sent yet.
    pub fn add_stream(&self, stream: &MediaStream) {
        let sent: Vec<JsValue> = self
            .pc
            .get_senders()
            .iter()
            .filter_map(|s| Reflect::get(&s, &"track".into()).ok())
            .collect();
        for track in stream.get_tracks().iter() {
            if !sent.iter().any(|t| t == &track) {
                let _ = self
                    .pc
                    .add_track(track.unchecked_ref(), stream, &Array::new());
            }
        }
    }

    /// Stops sending tracks that are no longer in `stream` (or all, when `None`).
    pub fn remove_tracks_not_in(&self, stream: Option<&MediaStream>) {
        let keep: Vec<JsValue> = stream
            .map(|s| s.get_tracks().iter().collect())
            .unwrap_or_default();
        for sender in self.pc.get_senders().iter() {
            let track = Reflect::get(&sender, &"track".into()).unwrap_or(JsValue::NULL);
            if !track.is_null() && !keep.iter().any(|t| t == &track) {
                self.pc.remove_track(sender.unchecked_ref());
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_oniceconnectionstatechange(None);
        self.pc.set_ontrack(None);
        let _ = Reflect::set(&self.pc, &"onicecandidateerror".into(), &JsValue::NULL);
        self.pc.close();
    }
}

/// Executes one media request on `pc`.
pub async fn execute(
    pc: &RtcPeerConnection,
    request: MediaRequest,
) -> Result<MediaOutcome, JsValue> {
    match request {
        MediaRequest::CreateOffer { ice_restart } => {
            if ice_restart {
                call0(pc, "restartIce")?;
            }
            set_local_description_implicit(pc).await?;
            Ok(local_description(pc))
        }
        MediaRequest::CreateAnswer => {
            set_local_description_implicit(pc).await?;
            Ok(local_description(pc))
        }
        MediaRequest::SetRemoteDescription { kind, sdp } => {
            let ty = if kind == SdpKind::Offer {
                RtcSdpType::Offer
            } else {
                RtcSdpType::Answer
            };
            let init = RtcSessionDescriptionInit::new(ty);
            init.set_sdp(&sdp);
            JsFuture::from(pc.set_remote_description(&init)).await?;
            Ok(MediaOutcome::Done)
        }
        MediaRequest::AddIceCandidate(c) => {
            let init = RtcIceCandidateInit::new(&c.candidate);
            init.set_sdp_mid(c.sdp_mid.as_deref());
            init.set_sdp_m_line_index(c.sdp_mline_index);
            JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)))
                .await?;
            Ok(MediaOutcome::Done)
        }
        MediaRequest::Rollback => {
            let init = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
            JsFuture::from(pc.set_local_description(&init)).await?;
            Ok(MediaOutcome::Done)
        }
        // The driver handles creating and closing (it owns the Peer); nothing to do on the
        // connection here.
        MediaRequest::Prepare | MediaRequest::ClosePeer => Ok(MediaOutcome::Done),
    }
}

/// The description the implicit `setLocalDescription()` produced; its type is read back
/// rather than assumed, since the browser picks offer or answer from the signaling state.
fn local_description(pc: &RtcPeerConnection) -> MediaOutcome {
    match pc.local_description() {
        Some(d) if d.type_() == RtcSdpType::Offer => {
            MediaOutcome::LocalDescription(SdpKind::Offer, d.sdp())
        }
        Some(d) if d.type_() == RtcSdpType::Answer => {
            MediaOutcome::LocalDescription(SdpKind::Answer, d.sdp())
        }
        _ => MediaOutcome::Done,
    }
}

fn ice_state(s: RtcIceConnectionState) -> IceState {
    match s {
        RtcIceConnectionState::Checking => IceState::Checking,
        RtcIceConnectionState::Connected => IceState::Connected,
        RtcIceConnectionState::Completed => IceState::Completed,
        RtcIceConnectionState::Disconnected => IceState::Disconnected,
        RtcIceConnectionState::Failed => IceState::Failed,
        RtcIceConnectionState::Closed => IceState::Closed,
        _ => IceState::New,
    }
}
