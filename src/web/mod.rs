//! The JavaScript API and the browser drivers (wasm32 only).
//!
//! Each exported function or class is a thin wrapper over a core module; this is the only
//! place that names `wasm_bindgen`, `web_sys` or `js_sys`. The browser IO itself (WebSocket,
//! peer connection steps, Web Bluetooth, IndexedDB, MediaRecorder) is written in JavaScript
//! in `snippets/`, because the same steps compiled from Rust weigh several times more in
//! the wasm; the Rust side decides what to do and validates everything a snippet returns.
//!
//! | module | job |
//! | --- | --- |
//! | `capabilities` | `capabilities()`, `requireCapabilities()` |
//! | `consent`, `idb` | `ConsentManager`, `ConsentReplica`, `verifyLedger`; IndexedDB persistence; sync over a consultation |
//! | `consultation` | `Consultation`: the session and what is decided around it; its IO is pkg/src/call-driver.ts |
//! | `devices` | `parseMeasurement`, `captureReading`, `measurementToFhir`, `DeviceSession` (Web Bluetooth), `DeviceBridge`, `ReadingShare`, `ReadingReceiver` |
//! | `invite` | `createInvite()` |
//! | `recording` | `Consultation.startRecording()`, `Recording`, the recording indicator: the recording consent enforcement point |
//! | `screen` | `Consultation.startScreenShare()`, `stopScreenShare()`, the screen-share indicator and telling the screen track from the camera |
//! | `peer`, `timer` | reading a peer connection's events, the media helpers of `snippets/peer.js`; an owned `setTimeout` |
//! | `js` | reading JS objects; core values (readings, FHIR resources, consent records) into JS values with serde-wasm-bindgen |

// Shared by both modules.
mod error;
mod js;
mod timer;

// The call module (feature `web-call`).
#[cfg(feature = "web-call")]
mod bench;
#[cfg(feature = "web-call")]
mod capabilities;
#[cfg(feature = "web-call")]
mod chat;
#[cfg(feature = "web-call")]
mod consent;
#[cfg(feature = "web-call")]
mod consultation;
#[cfg(feature = "web-call")]
mod files;
#[cfg(feature = "web-call")]
mod idb;
#[cfg(feature = "web-call")]
mod invite;
#[cfg(feature = "web-call")]
mod link;
#[cfg(feature = "web-call")]
mod peer;
#[cfg(feature = "web-call")]
mod recording;
#[cfg(feature = "web-call")]
mod relay_url;
#[cfg(feature = "web-call")]
mod resume;
#[cfg(feature = "web-call")]
mod screen;

// The devices module (feature `web-devices`).
#[cfg(feature = "web-devices")]
mod devices;

#[cfg(feature = "web-call")]
pub use capabilities::{capabilities, require_capabilities};
#[cfg(feature = "web-call")]
pub use consent::{JsConsentManager, JsConsentReplica, verify_ledger};
#[cfg(feature = "web-call")]
pub use consultation::Consultation;
#[cfg(feature = "web-devices")]
pub use devices::{
    DeviceBridge, DeviceSession, ReadingReceiver, ReadingShare, capture_reading,
    measurement_to_fhir, parse_measurement, share_readings,
};
pub use error::{Error, JsError, error_codes};
#[cfg(feature = "web-call")]
pub use invite::create_invite;
#[cfg(feature = "web-call")]
pub use recording::Recording;

use wasm_bindgen::prelude::*;

/// Runs when the module is instantiated: schedules one in-memory rehearsal of a call
/// ([`crate::signaling::rehearsal`]) and one throwaway `RTCPeerConnection` for the next free
/// moment of the event loop. Browsers compile WebAssembly functions on their first call and
/// start WebRTC with the first connection; doing both now moves that work to while the app
/// shows its pre-call screen instead of after the patient presses "join"
/// (docs/BENCHMARKS.md, call set-up). Nothing leaves memory.
#[cfg(feature = "web-call")]
#[doc(hidden)]
#[wasm_bindgen(start, skip_typescript)]
fn rehearse_when_idle() {
    let rehearse = Closure::once_into_js(|| {
        let mut entropy = zeroize::Zeroizing::new([0u8; 32]);
        if js::random_bytes(entropy.as_mut()).is_ok() {
            let _ = crate::signaling::rehearsal::rehearse(*entropy, timer::now_ms());
            let _ = crate::signaling::rehearsal::warm_bulk_crypto(*entropy);
        }
        // The first RTCPeerConnection of a page also starts WebRTC itself up (≈ 2–6 ms more
        // than later ones): do that now too, so the connection a join makes is a cheap one.
        // Nothing is configured or gathered; where there is no WebRTC (Node.js, a restricted
        // webview) the constructor throws and this does nothing.
        peer::warm_up();
    });
    let _ = timer::set_timeout(rehearse.unchecked_ref(), 0);
}

/// The SDK version (`"0.1.0"`), the same as the npm package's.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    crate::VERSION.to_owned()
}
