//! The WebSocket to the relay: binary frames in and out, with its callbacks owned here and
//! detached on drop, so a closed consultation leaves no live socket or closure behind.

use wasm_bindgen::prelude::*;
use web_sys::WebSocket;

#[wasm_bindgen(module = "/src/web/snippets/platform.js")]
extern "C" {
    #[wasm_bindgen(js_name = openSocket, catch)]
    fn open_socket(
        url: &str,
        on_event: &Closure<dyn FnMut(u32, JsValue)>,
    ) -> Result<WebSocket, JsValue>;
    #[wasm_bindgen(js_name = closeSocket, catch)]
    fn close_socket(ws: &WebSocket) -> Result<(), JsValue>;
}

/// What the socket reports to its owner.
pub enum SocketEvent {
    /// The connection is open.
    Open,
    /// A binary message arrived.
    Message(Vec<u8>),
    /// The connection closed (or failed to open), with its close code (1006 when it
    /// dropped without a close frame; 4000–4999 are the relay's, see docs/PROTOCOL.md).
    Closed {
        /// WebSocket close code.
        code: u16,
    },
}

/// An open or opening WebSocket and the one closure its handlers call.
pub struct Socket {
    ws: WebSocket,
    _on_event: Closure<dyn FnMut(u32, JsValue)>,
}

impl Socket {
    /// Connects to `url`; every event goes to `sink`, which must not call back into this
    /// socket synchronously (the driver defers its work).
    pub fn connect(url: &str, sink: impl Fn(SocketEvent) + 'static) -> Result<Self, JsValue> {
        let on_event = Closure::<dyn FnMut(u32, JsValue)>::new(move |kind: u32, value: JsValue| {
            let event = match kind {
                0 => SocketEvent::Open,
                1 => match value.dyn_into::<js_sys::Uint8Array>() {
                    Ok(bytes) => SocketEvent::Message(bytes.to_vec()),
                    Err(_) => return,
                },
                _ => SocketEvent::Closed {
                    // A code outside u16 is no code the protocol knows: read it as a drop.
                    code: value.as_f64().and_then(super::js::u16_of).unwrap_or(1006),
                },
            };
            sink(event);
        });
        let ws = open_socket(url, &on_event)?;
        Ok(Self {
            ws,
            _on_event: on_event,
        })
    }

    /// Sends one binary message; returns false if the socket is not open.
    pub fn send(&self, bytes: &[u8]) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_u8_array(bytes).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = close_socket(&self.ws);
    }
}
