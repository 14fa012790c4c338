//! The WebSocket to the relay: binary frames in and out, with its callbacks owned here and
//! detached on drop, so a closed consultation leaves no live socket or closure behind.

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

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

/// An open or opening WebSocket and the closures it calls.
pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Connects to `url`; every event goes to `sink`, which must not call back into this
    /// socket synchronously (the driver defers its work).
    pub fn connect(
        url: &str,
        sink: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let s = sink.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || s(SocketEvent::Open));
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            // Text frames are not part of the protocol; they are ignored like any junk.
            if let Ok(buf) = e.data().dyn_into::<js_sys::ArrayBuffer>() {
                s(SocketEvent::Message(js_sys::Uint8Array::new(&buf).to_vec()));
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            sink(SocketEvent::Closed { code: e.code() });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends one binary message; returns false if the socket is not open.
    pub fn send(&self, bytes: &[u8]) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_u8_array(bytes).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self
            .ws
            .close_with_code_and_reason(1000, "closed by the application");
    }
}
