//! What the core reads from a peer connection's events, and the few media helpers the
//! browser layer's Rust side still calls (src/web/snippets/peer.js). The connections
//! themselves are the TypeScript driver's (pkg/src/call-driver.ts, pkg/src/peer.ts).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack};

use crate::signaling::{Candidate, IceState};

#[wasm_bindgen(module = "/src/web/snippets/peer.js")]
extern "C" {
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
    /// Stops every track of `stream`.
    #[wasm_bindgen(js_name = stopTracks)]
    pub fn stop_tracks(stream: &MediaStream);
    /// Stops the tracks of `kind` and removes them from `stream`; returns how many.
    #[wasm_bindgen(js_name = dropTracks)]
    pub fn drop_tracks(stream: &MediaStream, kind: &str) -> u32;
    /// Enables or disables the tracks of `kind`.
    #[wasm_bindgen(js_name = setEnabled)]
    pub fn set_enabled(stream: &MediaStream, kind: &str, enabled: bool);
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

/// Reads one event of a connection as the driver reports it (pkg/src/peer.ts,
/// `createPeer`); anything malformed is dropped.
pub fn peer_event(kind: u32, a: JsValue, b: JsValue, c: JsValue) -> Option<PeerEvent> {
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
