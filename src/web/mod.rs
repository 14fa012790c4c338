//! The JavaScript API and the browser drivers (wasm32 only).
//!
//! Each exported function is a thin wrapper over a core module; this is the only place that
//! names `wasm_bindgen`, `web_sys` or `js_sys`.

mod capabilities;
mod error;

pub use capabilities::{capabilities, require_capabilities};
pub use error::{JsError, error_codes};

use wasm_bindgen::prelude::*;

/// The SDK version (`"0.1.0"`), the same as the npm package's.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    crate::VERSION.to_owned()
}
