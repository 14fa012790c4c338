//! The JavaScript API and the browser drivers (wasm32 only).
//!
//! Each exported function or class is a thin wrapper over a core module; this is the only
//! place that names `wasm_bindgen`, `web_sys` or `js_sys`.
//!
//! | module | job |
//! | --- | --- |
//! | `capabilities` | `capabilities()`, `requireCapabilities()` |
//! | `consultation` | `Consultation`: the session driver (relay socket, peer connections, timers) |
//! | `invite` | `createInvite()` |
//! | `peer`, `socket`, `timer` | owned wrappers of `RTCPeerConnection`, `WebSocket`, `setTimeout` |

mod bench;
mod capabilities;
mod consultation;
mod error;
mod invite;
mod js;
mod peer;
mod socket;
mod timer;

pub use capabilities::{capabilities, require_capabilities};
pub use consultation::Consultation;
pub use error::{JsError, error_codes};
pub use invite::create_invite;

use wasm_bindgen::prelude::*;

/// The SDK version (`"0.1.0"`), the same as the npm package's.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    crate::VERSION.to_owned()
}
