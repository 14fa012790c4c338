//! `DeviceSession`: capture through Web Bluetooth.
//!
//! The device chooser (`requestDevice`, from a user gesture), the GATT connection, Device
//! Information / System ID / PnP ID / Battery / Weight Scale Feature reads for provenance,
//! notifications and indications of every supported measurement, reconnection with backoff
//! after `gattserverdisconnected`, and stored glucose record download through the Record
//! Access Control Point.
//!
//! The browser calls themselves live in a JS snippet (`src/web/snippets/bluetooth.js`): one
//! `await` here per operation (choose, connect and read, subscribe, write) instead of a
//! web-sys call sequence, which weighed more (1.4 KB of the gzipped package). Nor does it
//! need web-sys Bluetooth types, which exist only under `--cfg=web_sys_unstable_apis` (a
//! build without that flag, say an integrator setting `RUSTFLAGS`, would lose the class).
//! Everything the snippet returns is checked here like any input from a device.
//!
//! Ownership: one `Shared` per session; every closure (value listeners, the disconnect
//! listener, timers) is owned by the session's state and dropped on `close()`, and holds only
//! a `Weak`. A connection `generation` is bumped on every connect and disconnect, so an async
//! step that finishes after the link changed does nothing.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::EventTarget;

use super::state::{events_of, info_js};
use super::{
    Events, FhirOptions, OffsetChoice, bytes_of, error_detail, js_error, reading_detail,
    utc_offset_option,
};
use crate::ErrorCode;
use crate::devices::gatt::racp::{RacpRequest, RacpResponse, RecordFilter, ResponseCode};
use crate::devices::state::{DeviceOutput as Output, DeviceState};
use crate::devices::{ParseError, SERVICES, uuid16_from_str};
use crate::reconnect::Backoff;
use crate::web::Error;
use crate::web::js::{self, get, present, set};
use crate::web::timer::{Timer, now_ms};

// Every argument is a JavaScript value (strings and numbers converted beforehand): such
// functions are imported as they are, with no conversion shim in the glue. None throws (the
// async ones reject instead), so none needs `catch`.
#[wasm_bindgen(module = "/src/web/snippets/bluetooth.js")]
extern "C" {
    /// `navigator.bluetooth.requestDevice` for service UUIDs (each list one space-separated
    /// string); resolves to the chosen `BluetoothDevice`.
    #[wasm_bindgen(js_name = btRequest)]
    fn bt_request(services: &JsValue, optional: &JsValue) -> Promise;
    /// Connects, discovers, reads `read` (arrays of 16-bit UUIDs); resolves to
    /// `{ reads, subs }` (see the snippet).
    #[wasm_bindgen(js_name = btConnect)]
    fn bt_connect(device: &JsValue, read: &Array, subscribe: &Array) -> Promise;
    /// Starts notifications on `subs`; resolves to the function that removes the listeners.
    #[wasm_bindgen(js_name = btSubscribe)]
    fn bt_subscribe(subs: &JsValue, on_value: &Function) -> Promise;
    /// `writeValueWithResponse` on a characteristic.
    #[wasm_bindgen(js_name = btWrite)]
    fn bt_write(characteristic: &JsValue, bytes: &Uint8Array) -> Promise;
    /// Drops a device's GATT link.
    #[wasm_bindgen(js_name = btDisconnect)]
    fn bt_disconnect(device: &JsValue);
}

/// Characteristics read once per connection, for provenance (Serial Number 0x2A25 is on the
/// Web Bluetooth blocklist and never offered).
const READ: [u16; 9] = [
    0x2A29, 0x2A24, 0x2A27, 0x2A26, 0x2A28, 0x2A23, 0x2A50, 0x2A19, 0x2A9E,
];
/// Characteristics subscribed to where they notify or indicate: the measurements, the Record
/// Access Control Point, and Battery Level (read above too; some devices also notify it).
const SUBSCRIBE: [u16; 11] = [
    0x2A37, 0x2A35, 0x2A36, 0x2A1C, 0x2A9D, 0x2A18, 0x2A34, 0x2A52, 0x2A5E, 0x2A5F, 0x2A19,
];
/// The Record Access Control Point.
const RACP: u16 = 0x2A52;
/// The measurement services by `DeviceKind`.
const KINDS: [(&str, u16); 6] = [
    ("heart-rate", 0x180D),
    ("blood-pressure", 0x1810),
    ("thermometer", 0x1809),
    ("weight-scale", 0x181D),
    ("glucose", 0x1808),
    ("pulse-oximeter", 0x1822),
];
/// Reconnection: 500 ms doubling to 30 s. Devices go out of range for minutes; a slow cap
/// keeps the radio and battery quiet meanwhile.
const BACKOFF_BASE_MS: u64 = 500;
const BACKOFF_CAP_MS: u64 = 30_000;
const DEFAULT_RACP_TIMEOUT_MS: f64 = 30_000.0;

/// A `TeleconsultError` with a code the core `Error` has no variant for.
fn coded(code: ErrorCode, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name("TeleconsultError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.as_str().into());
    err.into()
}

fn uuid128(uuid16: u16) -> String {
    format!("0000{uuid16:04x}-0000-1000-8000-00805f9b34fb")
}

/// A service UUID for the chooser: a 16-bit alias or number, or any well-formed 128-bit UUID.
fn service_uuid(v: &JsValue) -> Result<String, Error> {
    const BAD: Error = Error::InvalidArgument("services: expected Bluetooth UUIDs");
    if let Some(n) = v.as_f64() {
        return if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
            Ok(uuid128(n as u16))
        } else {
            Err(BAD)
        };
    }
    let s = v.as_string().ok_or(BAD)?;
    match uuid16_from_str(&s) {
        Ok(u) => Ok(uuid128(u)),
        Err(ParseError::UnsupportedCharacteristic { .. }) => Ok(s.to_ascii_lowercase()),
        Err(_) => Err(BAD),
    }
}

/// The services the chooser filters on.
fn requested_services(options: &JsValue) -> Result<Vec<String>, Error> {
    let kinds = get(options, "kinds");
    let services = get(options, "services");
    let list: Vec<String> = if Array::is_array(&kinds) {
        let arr: &Array = kinds.unchecked_ref();
        let mut out = Vec::new();
        for k in arr.iter() {
            let k = k.as_string().unwrap_or_default();
            let (_, uuid) = KINDS.iter().find(|(name, _)| *name == k).ok_or(
                Error::InvalidArgument(
                    "kinds: expected heart-rate, blood-pressure, thermometer, weight-scale, glucose or pulse-oximeter",
                ),
            )?;
            out.push(uuid128(*uuid));
        }
        out
    } else if Array::is_array(&services) {
        let arr: &Array = services.unchecked_ref();
        arr.iter()
            .map(|s| service_uuid(&s))
            .collect::<Result<_, _>>()?
    } else {
        return Err(Error::InvalidArgument(
            "options: expected { kinds: [...] } or { services: [...] }",
        ));
    };
    if list.is_empty() || list.len() > 16 {
        return Err(Error::InvalidArgument(
            "options: name 1 to 16 kinds or services",
        ));
    }
    Ok(list)
}

/// What Web Bluetooth's `requestDevice` rejections mean to an app (with the browser's own
/// message, which names no device or person, for whoever debugs it).
fn request_error(err: &JsValue) -> JsValue {
    let (code, meaning) = match get(err, "name").as_string().as_deref() {
        Some("NotFoundError") => (
            ErrorCode::PermissionDenied,
            "no device was chosen: the user closed the chooser, or no nearby device offers the requested services",
        ),
        Some("SecurityError") => (
            ErrorCode::InvalidState,
            "requestDevice must be called from a user gesture (a click or key handler), in a secure context, where the bluetooth permissions policy allows it",
        ),
        Some("NotAllowedError") => (
            ErrorCode::PermissionDenied,
            "Bluetooth is blocked here (permissions policy, browser setting or the user)",
        ),
        Some("TypeError") => (ErrorCode::InvalidArgument, "requestDevice: invalid options"),
        _ => (
            ErrorCode::Unsupported,
            "Bluetooth is unavailable: the adapter is missing or turned off",
        ),
    };
    match get(err, "message").as_string() {
        Some(why) if !why.is_empty() => coded(code, &format!("{meaning} ({why})")),
        _ => coded(code, meaning),
    }
}

/// A download in progress on one device.
struct RacpOp {
    received: u32,
    total: Option<u16>,
    timeout_ms: f64,
    /// Resolved (with nothing) when the next RACP indication arrives in `response`.
    waiter: Option<(Function, Function)>,
    response: Option<RacpResponse>,
    /// Rejects the waiter when the meter falls silent; re-armed by every record.
    timer: Option<Timer>,
}

/// Called by the snippet with every `{ uuid, value }` notified on one connection.
type ValueListener = Closure<dyn FnMut(JsValue)>;

/// The value listener of one connection and the snippet's function that detaches it from
/// every characteristic. Calling `stop` before dropping the closure matters: a listener left
/// on a characteristic object (reused after a reconnection) would fire twice, or call a
/// dropped closure.
struct Subscription {
    stop: Function,
    _listener: ValueListener,
}

impl Subscription {
    fn stop(self) {
        let _ = self.stop.call0(&JsValue::NULL);
    }
}

/// One device of the session.
struct Conn {
    /// The `BluetoothDevice`, opaque here: only the snippet calls its methods.
    device: JsValue,
    state: DeviceState,
    generation: u32,
    connected: bool,
    /// The app asked for this device to be disconnected: no reconnection.
    released: bool,
    subscription: Option<Subscription>,
    on_disconnect: Option<Closure<dyn FnMut()>>,
    /// The Record Access Control Point characteristic, when subscribed to.
    racp: Option<JsValue>,
    racp_op: Option<RacpOp>,
    reconnect_timer: Option<Timer>,
    backoff: Backoff,
}

impl Conn {
    /// Stops listening to every characteristic (their objects may be reused after a
    /// reconnection, so a listener left behind would fire twice).
    fn unsubscribe(&mut self) {
        if let Some(s) = self.subscription.take() {
            s.stop();
        }
        self.racp = None;
    }
}

struct Inner {
    fhir: Option<FhirOptions>,
    offset: OffsetChoice,
    reconnect: bool,
    closed: bool,
    devices: Vec<Conn>,
}

impl Inner {
    fn conn(&mut self, id: &str) -> Option<&mut Conn> {
        self.devices.iter_mut().find(|c| c.state.id() == id)
    }
}

struct Shared {
    inner: RefCell<Inner>,
    events: Events,
}

impl Shared {
    fn dispatch_all(&self, events: Vec<(&'static str, JsValue)>) {
        for (kind, detail) in events {
            self.events.dispatch(kind, &detail);
        }
    }
}

/// Web Bluetooth capture of one or more devices.
///
/// ```js
/// const session = new DeviceSession({ fhir: { subject: 'Patient/123' } });
/// session.addEventListener('reading', (e) => show(e.detail.reading, e.detail.observations));
/// button.onclick = () => session.requestDevice({ kinds: ['blood-pressure'] });
/// ```
#[wasm_bindgen]
pub struct DeviceSession {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl DeviceSession {
    /// A session; no device yet. Options: `fhir` (attach Observations to `reading` events),
    /// `utcOffsetMinutes`, `reconnect` (default true). Throws `InvalidArgument`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "any")] options: Option<JsValue>,
    ) -> Result<DeviceSession, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let build = || -> Result<DeviceSession, Error> {
            let reconnect = get(&options, "reconnect");
            Ok(DeviceSession {
                shared: Rc::new(Shared {
                    inner: RefCell::new(Inner {
                        fhir: FhirOptions::from_js(&get(&options, "fhir"))?,
                        offset: utc_offset_option(&options)?,
                        reconnect: reconnect.as_bool().unwrap_or(true),
                        closed: false,
                        devices: Vec::new(),
                    }),
                    events: Events::new()?,
                }),
            })
        };
        build().map_err(js_error)
    }

    /// Whether this browser offers Web Bluetooth at all (else use `DeviceBridge`).
    #[wasm_bindgen(js_name = isSupported)]
    pub fn is_supported() -> bool {
        present(&get(&get(&js_sys::global(), "navigator"), "bluetooth"))
    }

    /// Opens the browser's device chooser for the given kinds or services, connects, reads
    /// device information and subscribes to every supported measurement. Call it from a
    /// user gesture (a click handler).
    ///
    /// Resolves to the `DeviceInfo`. Throws or rejects with a `TeleconsultError`:
    /// `Unsupported` (no Web Bluetooth here: use `DeviceBridge`; or no adapter),
    /// `InvalidState` (no user gesture, or the session is closed), `PermissionDenied` (the
    /// user closed the chooser, or Bluetooth is blocked), `NetworkError` (the GATT
    /// connection failed), `InvalidArgument` (bad options).
    #[wasm_bindgen(js_name = requestDevice, unchecked_return_type = "Promise<any>")]
    pub fn request_device(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] options: JsValue,
    ) -> Result<Promise, JsValue> {
        if self.shared.inner.borrow().closed {
            return Err(coded(
                ErrorCode::InvalidState,
                "the device session is closed",
            ));
        }
        let services = requested_services(&options).map_err(js_error)?;
        let global: JsValue = js_sys::global().into();
        let navigator = get(&global, "navigator");
        let bluetooth = get(&navigator, "bluetooth");
        if !present(&bluetooth) {
            return Err(js_error(Error::Unsupported(
                "Web Bluetooth is not available in this browser or webview (Firefox, Safari, every iOS browser, Android WebView): let the host app read the device and push its values into DeviceBridge (docs/DEVICES.md)",
            )));
        }
        if get(&global, "isSecureContext").as_bool() == Some(false) {
            return Err(js_error(Error::Unsupported(
                "Web Bluetooth needs a secure context (https or localhost)",
            )));
        }
        if get(&get(&navigator, "userActivation"), "isActive").as_bool() == Some(false) {
            return Err(coded(
                ErrorCode::InvalidState,
                "requestDevice must be called from a user gesture: call it directly in a click or key handler",
            ));
        }
        // Every service, so that provenance is readable whatever the chooser filtered on.
        let optional: Vec<String> = SERVICES
            .iter()
            .map(|(u, _)| uuid128(*u))
            .chain(services.iter().cloned())
            .collect();
        // Well-formed UUIDs hold no spaces: the lists go to the snippet as one string each.
        let promise = bt_request(&services.join(" ").into(), &optional.join(" ").into());
        let shared = Rc::clone(&self.shared);
        Ok(js::spawn_promise(Box::pin(async move {
            let device = JsFuture::from(promise)
                .await
                .map_err(|e| request_error(&e))?;
            attach(&shared, device).await
        })))
    }

    /// The devices of this session.
    #[wasm_bindgen(unchecked_return_type = "any[]")]
    pub fn devices(&self) -> Array {
        self.shared
            .inner
            .borrow()
            .devices
            .iter()
            .map(|c| {
                let info = info_js(&c.state);
                if let Some(o) = info.dyn_ref::<Object>() {
                    set(o, "connected", c.connected);
                }
                info
            })
            .collect()
    }

    /// Downloads stored glucose records through the Record Access Control Point: all, or
    /// those with `since` or a higher sequence number. Records arrive as `reading` events
    /// (duplicates of records seen before carry the same id), with `recordprogress` events.
    ///
    /// Resolves to `{ received, total? }`. Rejects with `InvalidState` (unknown or
    /// disconnected device, no control point, a download already running),
    /// `Timeout` (the meter fell silent), `NetworkError` (the link dropped), `Unsupported`
    /// (the meter refused the request), `InvalidArgument`. The Glucose service requires a
    /// bonded link for control-point writes; the browser pairs when the meter asks.
    #[wasm_bindgen(
        js_name = downloadRecords,
        unchecked_return_type = "Promise<{ received: number; total?: number }>"
    )]
    pub fn download_records(
        &self,
        #[wasm_bindgen(js_name = deviceId)] device_id: String,
        #[wasm_bindgen(unchecked_param_type = "any")] options: Option<JsValue>,
    ) -> Result<Promise, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let filter = match get(&options, "since") {
            v if !present(&v) => RecordFilter::All,
            v => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => {
                    RecordFilter::SequenceAtLeast { min: n as u16 }
                }
                _ => return Err(js_error(Error::InvalidArgument("since: expected 0-65535"))),
            },
        };
        let timeout_ms = match get(&options, "timeoutMs") {
            v if !present(&v) => DEFAULT_RACP_TIMEOUT_MS,
            v => match v.as_f64() {
                Some(n) if (1.0..=600_000.0).contains(&n) => n,
                _ => return Err(js_error(Error::InvalidArgument("timeoutMs: 1 to 600000"))),
            },
        };
        {
            let mut inner = self.shared.inner.borrow_mut();
            let conn = inner
                .conn(&device_id)
                .ok_or_else(|| coded(ErrorCode::InvalidState, "no such device in this session"))?;
            if !conn.connected || conn.racp.is_none() {
                return Err(coded(
                    ErrorCode::InvalidState,
                    "the device is not connected or has no Record Access Control Point",
                ));
            }
            if conn.racp_op.is_some() {
                return Err(coded(
                    ErrorCode::InvalidState,
                    "a download is already running",
                ));
            }
            conn.racp_op = Some(RacpOp {
                received: 0,
                total: None,
                timeout_ms,
                waiter: None,
                response: None,
                timer: None,
            });
        }
        let shared = Rc::clone(&self.shared);
        Ok(js::spawn_promise(Box::pin(async move {
            let result = download(&shared, &device_id, filter).await;
            // Whatever happened, the download is over; a record waiting for its context
            // goes out now.
            let events = {
                let mut inner = shared.inner.borrow_mut();
                let fhir = inner.fhir.clone();
                inner.conn(&device_id).map_or_else(Vec::new, |c| {
                    c.racp_op = None;
                    c.state
                        .release()
                        .map(|r| ("reading", reading_detail(&r.0, &r.1, fhir.as_ref()).into()))
                        .into_iter()
                        .collect()
                })
            };
            shared.dispatch_all(events);
            result
        })))
    }

    /// Disconnects one device and stops reconnecting to it.
    pub fn disconnect(&self, #[wasm_bindgen(js_name = deviceId)] device_id: &str) {
        let device = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.conn(device_id).map(|c| {
                c.released = true;
                c.reconnect_timer = None;
                c.device.clone()
            })
        };
        if let Some(device) = device {
            bt_disconnect(&device);
        }
    }

    /// Disconnects every device, stops reconnecting, drops every listener and timer, and
    /// rejects a running download. The session cannot be used again.
    pub fn close(&self) {
        let conns = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.closed = true;
            std::mem::take(&mut inner.devices)
        };
        for mut c in conns {
            c.generation = c.generation.wrapping_add(1);
            c.unsubscribe();
            if let Some(listener) = c.on_disconnect.take() {
                let _ = c
                    .device
                    .unchecked_ref::<EventTarget>()
                    .remove_event_listener_with_callback(
                        "gattserverdisconnected",
                        listener.as_ref().unchecked_ref(),
                    );
            }
            if let Some((_, reject)) = c.racp_op.take().and_then(|op| op.waiter) {
                let _ = reject.call1(
                    &JsValue::NULL,
                    &coded(ErrorCode::InvalidState, "the device session was closed"),
                );
            }
            bt_disconnect(&c.device);
        }
    }

    /// Where this object's events (`DeviceSessionEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.shared.events.target()
    }
}

/// Adds a chosen device to the session (once) and connects it.
async fn attach(shared: &Rc<Shared>, device: JsValue) -> Result<JsValue, JsValue> {
    // The browser's id for the device (random per origin); checked like any input.
    let id = get(&device, "id")
        .as_string()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| coded(ErrorCode::NetworkError, "Bluetooth: the device has no id"))?;
    let known = {
        let mut inner = shared.inner.borrow_mut();
        if inner.closed {
            return Err(coded(
                ErrorCode::InvalidState,
                "the device session is closed",
            ));
        }
        match inner.conn(&id) {
            Some(c) => {
                c.released = false;
                Some(c.connected)
            }
            None => None,
        }
    };
    match known {
        Some(true) => {
            let inner = shared.inner.borrow();
            return Ok(inner
                .devices
                .iter()
                .find(|c| c.state.id() == id)
                .map_or(JsValue::UNDEFINED, |c| info_js(&c.state)));
        }
        Some(false) => {}
        None => {
            let weak = Rc::downgrade(shared);
            let key = id.clone();
            let listener = Closure::<dyn FnMut()>::new(move || on_disconnected(&weak, &key));
            let _ = device
                .unchecked_ref::<EventTarget>()
                .add_event_listener_with_callback(
                    "gattserverdisconnected",
                    listener.as_ref().unchecked_ref(),
                );
            let state = DeviceState::new(id.clone(), get(&device, "name").as_string());
            shared.inner.borrow_mut().devices.push(Conn {
                device,
                state,
                generation: 0,
                connected: false,
                released: false,
                subscription: None,
                on_disconnect: Some(listener),
                racp: None,
                racp_op: None,
                reconnect_timer: None,
                backoff: Backoff::new(BACKOFF_BASE_MS, BACKOFF_CAP_MS),
            });
        }
    }
    connect(shared, &id, false).await
}

/// UUIDs as a JavaScript array of numbers: with only JavaScript values to convert, the
/// snippet's functions are imported without a glue shim.
fn numbers(uuids: &[u16]) -> Array {
    uuids.iter().map(|u| JsValue::from(*u)).collect()
}

/// A `{ uuid, value }` from the snippet, checked: `uuid` one of `allowed`, `value` the
/// browser's `DataView`, read like any `BytesLike` (so no longer than a GATT attribute can
/// be). Anything else is dropped.
fn uuid_value(v: &JsValue, allowed: &[u16]) -> Option<(u16, Vec<u8>)> {
    let n = get(v, "uuid").as_f64()?;
    let uuid = allowed.iter().copied().find(|u| f64::from(*u) == n)?;
    Some((uuid, bytes_of(&get(v, "value"), "value").ok()?))
}

/// The entries of a JavaScript array (none when `v` is not one).
fn entries(v: &JsValue) -> Array {
    v.dyn_ref::<Array>().cloned().unwrap_or_default()
}

/// The characteristic object of `uuid` among the snippet's `subs`, if any.
fn characteristic_of(subs: &JsValue, uuid: u16) -> Option<JsValue> {
    entries(subs)
        .iter()
        .find(|s| get(s, "uuid").as_f64() == Some(f64::from(uuid)))
        .map(|s| get(&s, "characteristic"))
        .filter(JsValue::is_object)
}

/// Connects (or reconnects) a device of the session: GATT, provenance reads, subscriptions.
/// Resolves to the `DeviceInfo`; dispatches `connected`.
async fn connect(shared: &Rc<Shared>, id: &str, reconnected: bool) -> Result<JsValue, JsValue> {
    let gone = || coded(ErrorCode::InvalidState, "the device session is closed");
    let (device, generation) = {
        let mut inner = shared.inner.borrow_mut();
        let conn = inner.conn(id).ok_or_else(gone)?;
        conn.generation = conn.generation.wrapping_add(1);
        conn.unsubscribe();
        (conn.device.clone(), conn.generation)
    };
    let still_current = |shared: &Shared| -> bool {
        let mut inner = shared.inner.borrow_mut();
        !inner.closed && inner.conn(id).is_some_and(|c| c.generation == generation)
    };
    // The browser's own reason (a DOMException name and message) helps; it holds no data.
    let failed = |e: JsValue| {
        let why = get(&e, "message").as_string().unwrap_or_default();
        coded(
            ErrorCode::NetworkError,
            &format!("Bluetooth: could not connect to the device ({why})"),
        )
    };
    let link = JsFuture::from(bt_connect(&device, &numbers(&READ), &numbers(&SUBSCRIBE)))
        .await
        .map_err(failed)?;
    // Provenance first: System ID and PnP ID go into every reading's id and identity.
    let mut problems = Vec::new();
    for v in entries(&get(&link, "reads")).iter() {
        let Some((uuid, bytes)) = uuid_value(&v, &READ) else {
            continue;
        };
        let mut inner = shared.inner.borrow_mut();
        let offset = inner.offset;
        if let Some(conn) = inner.conn(id) {
            if let Err(e) = conn
                .state
                .handle_value(uuid, &bytes, now_ms(), offset.now())
            {
                problems.push(e);
            }
        }
    }
    if !still_current(shared) {
        return Err(gone());
    }
    let subs = get(&link, "subs");
    let (weak, key) = (Rc::downgrade(shared), id.to_owned());
    let listener = ValueListener::new(move |v: JsValue| {
        if let Some((uuid, bytes)) = uuid_value(&v, &SUBSCRIBE) {
            on_value(&weak, &key, uuid, &bytes);
        }
    });
    // On a dropped link the snippet has removed its listeners before rejecting, and the
    // disconnect handler takes over.
    let stop = JsFuture::from(bt_subscribe(&subs, listener.as_ref().unchecked_ref()))
        .await
        .map_err(failed)?;
    let subscription = Subscription {
        // Not a function (never, from the snippet): `call0` then fails harmlessly.
        stop: stop.unchecked_into(),
        _listener: listener,
    };
    let info = {
        let mut inner = shared.inner.borrow_mut();
        let closed = inner.closed;
        let conn = match inner.conn(id) {
            Some(c) if !closed && c.generation == generation => c,
            _ => {
                subscription.stop();
                return Err(gone());
            }
        };
        conn.subscription = Some(subscription);
        conn.racp = characteristic_of(&subs, RACP);
        conn.connected = true;
        conn.backoff.reset();
        conn.reconnect_timer = None;
        info_js(&conn.state)
    };
    let mut events: Vec<(&'static str, JsValue)> = problems
        .iter()
        .map(|e| ("error", device_error_detail(&Error::Core(e.clone()), id)))
        .collect();
    events.push((
        "connected",
        js::object(&[
            ("device", info.clone()),
            ("reconnected", reconnected.into()),
        ])
        .into(),
    ));
    shared.dispatch_all(events);
    Ok(info)
}

fn device_error_detail(e: &Error, id: &str) -> JsValue {
    let detail = error_detail(e);
    set(&detail, "deviceId", id);
    detail.into()
}

/// A notification or indication arrived.
fn on_value(weak: &Weak<Shared>, id: &str, uuid: u16, bytes: &[u8]) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let mut resolve = None;
    let events = {
        let mut inner = shared.inner.borrow_mut();
        let fhir = inner.fhir.clone();
        let offset = inner.offset;
        let Some(conn) = inner.conn(id) else {
            return;
        };
        match conn.state.handle_value(uuid, bytes, now_ms(), offset.now()) {
            Ok(outputs) => {
                let mut events = events_of(&conn.state, &outputs, fhir.as_ref());
                if let Some(op) = conn.racp_op.as_mut() {
                    for o in &outputs {
                        match o {
                            Output::Reading(_) => {
                                op.received = op.received.saturating_add(1);
                                let progress = js::object(&[
                                    ("deviceId", id.into()),
                                    ("received", op.received.into()),
                                ]);
                                if let Some(t) = op.total {
                                    set(&progress, "total", t);
                                }
                                events.push(("recordprogress", progress.into()));
                            }
                            Output::Racp(r) => {
                                if let Some(w) = op.waiter.take() {
                                    op.timer = None;
                                    op.response = Some(*r);
                                    resolve = Some(w.0);
                                }
                            }
                            Output::Info => {}
                        }
                    }
                    if op.waiter.is_some() && resolve.is_none() {
                        op.timer = racp_timer(weak, id, op.timeout_ms);
                    }
                }
                events
            }
            Err(e) => vec![("error", device_error_detail(&Error::Core(e), id))],
        }
    };
    shared.dispatch_all(events);
    if let Some(f) = resolve {
        let _ = f.call0(&JsValue::NULL);
    }
}

/// The link dropped.
fn on_disconnected(weak: &Weak<Shared>, id: &str) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let mut reject = None;
    let mut events = Vec::new();
    let retry = {
        let mut inner = shared.inner.borrow_mut();
        let fhir = inner.fhir.clone();
        let (closed, reconnect) = (inner.closed, inner.reconnect);
        let Some(conn) = inner.conn(id) else {
            return;
        };
        let was_connected = conn.connected;
        conn.connected = false;
        conn.generation = conn.generation.wrapping_add(1);
        conn.unsubscribe();
        if let Some(r) = conn.state.release() {
            events.push(("reading", reading_detail(&r.0, &r.1, fhir.as_ref()).into()));
        }
        if let Some(op) = conn.racp_op.as_mut() {
            op.timer = None;
            reject = op.waiter.take().map(|w| w.1);
        }
        if was_connected {
            events.push((
                "disconnected",
                js::object(&[("deviceId", id.into())]).into(),
            ));
        }
        !closed && reconnect && !conn.released
    };
    shared.dispatch_all(events);
    if let Some(f) = reject {
        let _ = f.call1(
            &JsValue::NULL,
            &coded(
                ErrorCode::NetworkError,
                "the device disconnected during the download",
            ),
        );
    }
    if retry {
        schedule_reconnect(&shared, id);
    }
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // Without a random source the jitter is lost, not the reconnection.
    let _ = js::random_bytes(&mut b);
    u32::from_le_bytes(b)
}

/// Arms the next reconnection attempt, with backoff.
fn schedule_reconnect(shared: &Rc<Shared>, id: &str) {
    let event = {
        let mut inner = shared.inner.borrow_mut();
        let Some(conn) = inner.conn(id) else {
            return;
        };
        let delay = conn.backoff.next_delay_ms(random_u32());
        let attempt = conn.backoff.attempts();
        let (weak, key) = (Rc::downgrade(shared), id.to_owned());
        // The timer's own callback must not drop the timer: the attempt runs as a task.
        conn.reconnect_timer = Timer::once(delay as f64, move || {
            js::spawn(Box::pin(reconnect(weak, key)));
        })
        .ok();
        js::object(&[
            ("deviceId", id.into()),
            ("attempt", attempt.into()),
            ("delayMs", (delay as f64).into()),
        ])
    };
    shared.events.dispatch("reconnecting", &event.into());
}

async fn reconnect(weak: Weak<Shared>, id: String) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    {
        let mut inner = shared.inner.borrow_mut();
        let closed = inner.closed;
        match inner.conn(&id) {
            Some(c) if !closed && !c.released && !c.connected => c.reconnect_timer = None,
            _ => return,
        }
    }
    if let Err(err) = connect(&shared, &id, true).await {
        let detail = js::object(&[
            ("deviceId", id.as_str().into()),
            ("code", get(&err, "code")),
            ("message", get(&err, "message")),
        ]);
        shared.events.dispatch("error", &detail.into());
        let again = {
            let mut inner = shared.inner.borrow_mut();
            let closed = inner.closed;
            inner.conn(&id).is_some_and(|c| {
                !closed && !c.released && !c.connected && c.reconnect_timer.is_none()
            })
        };
        if again {
            schedule_reconnect(&shared, &id);
        }
    }
}

/// Rejects the pending RACP exchange with `Timeout` after `ms` of silence.
fn racp_timer(weak: &Weak<Shared>, id: &str, ms: f64) -> Option<Timer> {
    let (weak, key) = (weak.clone(), id.to_owned());
    Timer::once(ms, move || {
        js::spawn(Box::pin(async move {
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let reject = {
                let mut inner = shared.inner.borrow_mut();
                inner
                    .conn(&key)
                    .and_then(|c| c.racp_op.as_mut())
                    .and_then(|op| {
                        op.timer = None;
                        op.waiter.take()
                    })
            };
            if let Some((_, reject)) = reject {
                let _ = reject.call1(
                    &JsValue::NULL,
                    &coded(
                        ErrorCode::Timeout,
                        "the meter stopped answering the record request",
                    ),
                );
            }
        }));
    })
    .ok()
}

/// Writes one RACP request and waits for the meter's indication.
async fn exchange(
    shared: &Rc<Shared>,
    id: &str,
    request: &RacpRequest,
) -> Result<RacpResponse, JsValue> {
    let bytes = request.encode().map_err(|e| js_error(e.into()))?;
    let mut slot = None;
    let waiter = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
    let characteristic = {
        let weak = Rc::downgrade(shared);
        let mut inner = shared.inner.borrow_mut();
        let conn = inner
            .conn(id)
            .ok_or_else(|| coded(ErrorCode::InvalidState, "the device left the session"))?;
        let racp = conn
            .racp
            .clone()
            .ok_or_else(|| coded(ErrorCode::NetworkError, "the device disconnected"))?;
        let op = conn
            .racp_op
            .as_mut()
            .ok_or_else(|| coded(ErrorCode::InvalidState, "the download was cancelled"))?;
        op.waiter = slot;
        op.response = None;
        op.timer = racp_timer(&weak, id, op.timeout_ms);
        racp
    };
    JsFuture::from(bt_write(
        &characteristic,
        &Uint8Array::from(bytes.as_slice()),
    ))
    .await
    .map_err(|_| {
        coded(
            ErrorCode::NetworkError,
            "writing the Record Access Control Point failed (the meter may require a bonded link)",
        )
    })?;
    JsFuture::from(waiter).await?;
    let mut inner = shared.inner.borrow_mut();
    inner
        .conn(id)
        .and_then(|c| c.racp_op.as_mut())
        .and_then(|op| op.response.take())
        .ok_or_else(|| coded(ErrorCode::InvalidState, "the download was cancelled"))
}

/// Count, then report, the stored records matching `filter`.
async fn download(shared: &Rc<Shared>, id: &str, filter: RecordFilter) -> Result<JsValue, JsValue> {
    let total = match exchange(
        shared,
        id,
        &RacpRequest::ReportNumberOfStoredRecords(filter),
    )
    .await?
    {
        RacpResponse::NumberOfRecords { count } => Some(count),
        RacpResponse::Response {
            code: ResponseCode::NoRecordsFound,
            ..
        } => Some(0),
        // Counting is optional for some meters; the report still works.
        RacpResponse::Response { .. } => None,
    };
    let received = |shared: &Rc<Shared>| -> u32 {
        shared
            .inner
            .borrow_mut()
            .conn(id)
            .and_then(|c| c.racp_op.as_ref())
            .map_or(0, |op| op.received)
    };
    let result = |received: u32, total: Option<u16>| -> JsValue {
        let o = js::object(&[("received", received.into())]);
        if let Some(t) = total {
            set(&o, "total", t);
        }
        o.into()
    };
    if total == Some(0) {
        return Ok(result(0, total));
    }
    if let Some(op) = shared
        .inner
        .borrow_mut()
        .conn(id)
        .and_then(|c| c.racp_op.as_mut())
    {
        op.total = total;
    }
    match exchange(shared, id, &RacpRequest::ReportStoredRecords(filter)).await? {
        RacpResponse::Response {
            code: ResponseCode::Success | ResponseCode::NoRecordsFound,
            ..
        } => Ok(result(received(shared), total)),
        RacpResponse::Response {
            code:
                ResponseCode::OpCodeNotSupported
                | ResponseCode::OperatorNotSupported
                | ResponseCode::OperandNotSupported,
            ..
        } => Err(coded(
            ErrorCode::Unsupported,
            "the meter does not support this record request",
        )),
        _ => Err(coded(
            ErrorCode::InvalidState,
            "the meter did not complete the record request",
        )),
    }
}
