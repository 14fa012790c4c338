//! `capabilities()` and `requireCapabilities()`: probe the JavaScript host and report what
//! the SDK can use, with reasons from [`crate::capabilities`].

use js_sys::{Object, Reflect};

use super::js::{get, present};
use wasm_bindgen::prelude::*;

use super::JsError;
use crate::capabilities::{NAMES, Platform, Probe, assess};
use crate::web::Error;

fn probe() -> Probe {
    let g: JsValue = js_sys::global().into();
    let navigator = get(&g, "navigator");
    let is_node = present(&get(&get(&get(&g, "process"), "versions"), "node"))
        && !present(&get(&g, "document"));
    let user_agent = get(&navigator, "userAgent").as_string().unwrap_or_default();
    let touch = get(&navigator, "maxTouchPoints").as_f64().unwrap_or(0.0) > 1.0;
    let media = get(&navigator, "mediaDevices");
    Probe {
        platform: Platform::detect(&user_agent, is_node, touch),
        secure_context: get(&g, "isSecureContext").as_bool().unwrap_or(false),
        rtc_peer_connection: present(&get(&g, "RTCPeerConnection")),
        get_user_media: present(&get(&media, "getUserMedia")),
        web_bluetooth: present(&get(&navigator, "bluetooth")),
        indexed_db: present(&get(&g, "indexedDB")),
        web_crypto: present(&get(&get(&g, "crypto"), "subtle")),
        web_socket: present(&get(&g, "WebSocket")),
        get_display_media: present(&get(&media, "getDisplayMedia")),
    }
}

/// The kind of host this is (see `Platform::detect`).
pub(crate) fn platform() -> crate::capabilities::Platform {
    probe().platform
}

/// Reports what this browser, webview or Node.js process offers the SDK: secure context,
/// WebRTC, camera and microphone, Web Bluetooth, IndexedDB, WebCrypto, WebSocket and screen
/// sharing (`getDisplayMedia`, missing in every mobile browser), each
/// with a reason when absent. Never throws; call it before a consultation to show a
/// pre-call check.
#[wasm_bindgen(js_name = capabilities, unchecked_return_type = "any")]
pub fn capabilities() -> JsValue {
    let probe = probe();
    let out = Object::new();
    for c in assess(&probe) {
        let item = Object::new();
        let _ = Reflect::set(&item, &"available".into(), &c.available.into());
        if let Some(reason) = c.reason {
            let _ = Reflect::set(&item, &"reason".into(), &reason.into());
        }
        let _ = Reflect::set(&out, &c.name.into(), &item);
    }
    let _ = Reflect::set(&out, &"platform".into(), &probe.platform.as_str().into());
    out.into()
}

/// Checks that every named capability is available.
///
/// Throws a `TeleconsultError` with code `Unsupported` naming the first missing feature and
/// what to do instead, or `InvalidArgument` when a name is not a `CapabilityName`.
#[wasm_bindgen(js_name = requireCapabilities)]
pub fn require_capabilities(
    #[wasm_bindgen(unchecked_param_type = "readonly any[]")] names: Vec<String>,
) -> Result<(), JsError> {
    if let Some(_unknown) = names.iter().find(|n| !NAMES.contains(&n.as_str())) {
        return Err(Error::InvalidArgument("names: not a capability name").into());
    }
    let report = assess(&probe());
    for name in &names {
        if let Some(c) = report.iter().find(|c| c.name == name && !c.available) {
            return Err(Error::Unsupported(c.reason.unwrap_or(c.name)).into());
        }
    }
    Ok(())
}
