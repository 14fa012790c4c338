//! The JavaScript API and the browser drivers (wasm32 only).
//!
//! Each exported function or class is a thin wrapper over a core module; this is the only
//! place that names `wasm_bindgen`, `web_sys` or `js_sys`.
//!
//! | module | job |
//! | --- | --- |
//! | `capabilities` | `capabilities()`, `requireCapabilities()` |
//! | `consent`, `idb` | `ConsentManager`, `ConsentReplica`, `verifyLedger`; IndexedDB persistence; sync over a consultation |
//! | `consultation` | `Consultation`: the session driver (relay socket, peer connections, timers) |
//! | `devices` | `parseMeasurement`, `captureReading`, `measurementToFhir`, `DeviceSession` (Web Bluetooth), `DeviceBridge`, `ReadingShare`, `ReadingReceiver` |
//! | `invite` | `createInvite()` |
//! | `peer`, `socket`, `timer` | owned wrappers of `RTCPeerConnection`, `WebSocket`, `setTimeout` |
//! | `js`, `json`, `to_js` | reading JS objects; core values to JSON text (consent) or JS values (devices) |

mod bench;
mod capabilities;
mod consent;
mod consultation;
mod devices;
mod error;
mod idb;
mod invite;
mod js;
mod json;
mod peer;
mod socket;
mod timer;
mod to_js;

pub use capabilities::{capabilities, require_capabilities};
pub use consent::{JsConsentManager, JsConsentReplica, verify_ledger};
pub use consultation::Consultation;
pub use devices::{
    DeviceBridge, DeviceSession, ReadingReceiver, ReadingShare, capture_reading,
    measurement_to_fhir, parse_measurement, share_readings,
};
pub use error::{JsError, error_codes};
pub use invite::create_invite;

use wasm_bindgen::prelude::*;

/// The SDK version (`"0.1.0"`), the same as the npm package's.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    crate::VERSION.to_owned()
}
