//! Readings over a consultation's end-to-end encrypted app-data channel: the browser
//! drivers of the core [`crate::devices::delivery`] machines.
//!
//! Every decision — the queue and its bound, consent at each send, acknowledgements,
//! re-sends, de-duplication, rebuilding and checking each reading, and the wire format
//! ([`crate::devices::wire`]) — is the core's. Here: listening to the consultation and the
//! sources, turning JavaScript readings into raw records (`raw` is rebuilt and checked),
//! asking the consent registry and the app's `allow(reading)` hook, calling `sendData`, and
//! dispatching `delivered`, `withheld`, `reading` and `error` events.
//!
//! Consent is enforced twice. When a `ConsentManager` is attached to the consultation, a
//! reading is queued and sent only while a grant covers its category for that recipient at
//! that moment (checked again at each send, so a withdrawal also drops what was buffered).
//! The app can add its own rule through `allow(reading)`, called before a reading is queued
//! (and, on the receiving side, before it is shown). Nothing is sent when either refuses.
//!
//! The listeners' plumbing lives in a JS snippet (`src/web/snippets/share.js`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use super::raw::RawJs;
use super::{Events, FhirOptions, error_detail, js_error, reading_detail, reading_js};
use crate::ErrorCode;
use crate::consent::{DataCategory, Reason};
use crate::devices::RawRecord;
use crate::devices::delivery::{
    self, Consent, ReadingReceiver as Receiver, ReadingSender, ReceiveError, ReceiverOutput,
    SendError, SenderConfig, SenderEvent, Shared,
};
use crate::devices::wire::MAX_MESSAGE_LEN;
use crate::web::Error;
use crate::web::js::{self, get, present};
use crate::web::timer::now_ms;

/// What consent says about sharing `category` in `consultation` now: only a consent
/// manager attached to that consultation can refuse. The consent registry lives in the
/// other wasm module (the call module), so this asks the consultation object itself
/// (`consentRefusal`, answered there); an answer that names no reason refuses too.
fn consent_now(consultation: &JsValue, category: Option<DataCategory>) -> Consent {
    let Some(category) = category else {
        return Consent::Allowed;
    };
    match sh_consent_refusal(consultation, category as u8) {
        Ok(v) if v.is_undefined() => Consent::Allowed,
        Ok(v) => Consent::Refused(Some(
            v.as_string()
                .and_then(|n| Reason::from_name(&n))
                .unwrap_or(Reason::NoGrant),
        )),
        Err(_) => Consent::Refused(Some(Reason::NoGrant)),
    }
}

/// The consultation events a `ReadingShare` listens to: an acknowledgement (`data`), a
/// possible loss (`dataundelivered`, `participantleft`), and the rest, after which a queued
/// reading may now go through.
const SHARE_ON: [&str; 9] = [
    "data",
    "dataundelivered",
    "participantleft",
    "statechange",
    "participantjoined",
    "participantadmitted",
    "participantconnected",
    "sas",
    "sasconfirmed",
];

// The event plumbing; see the snippet for why it is there.
#[wasm_bindgen(module = "/src/web/snippets/share.js")]
extern "C" {
    /// Adds `on_detail(event.detail)` as a `kind` listener of `target`; returns the function
    /// that removes it.
    #[wasm_bindgen(js_name = shListen, catch)]
    fn sh_listen(
        target: &JsValue,
        kind: &JsValue,
        on_detail: &Function,
    ) -> Result<Function, JsValue>;
    /// `consultation.sendData(participant, bytes)`.
    #[wasm_bindgen(js_name = shSend, catch)]
    fn sh_send(consultation: &JsValue, participant: &str, bytes: Vec<u8>) -> Result<(), JsValue>;
    /// `consultation.consentRefusal(category)`: a reason name, or `undefined` when allowed.
    #[wasm_bindgen(js_name = shConsentRefusal, catch)]
    fn sh_consent_refusal(consultation: &JsValue, category: u8) -> Result<JsValue, JsValue>;
}

/// Called with each event's `detail`.
type Listener = Closure<dyn FnMut(JsValue)>;

/// A listener this object added to someone else's `EventTarget`, removed on `close()`. One
/// closure per event type, as the original listeners: one event's handler may cause another
/// synchronously (a send answered by an acknowledgement), and wasm-bindgen refuses to
/// re-enter a closure.
struct Subscription {
    /// Removes the listener.
    stop: Function,
    _listener: Listener,
}

impl Subscription {
    fn add(target: &JsValue, kind: &str, listener: Listener) -> Result<Self, Error> {
        let stop = sh_listen(target, &kind.into(), listener.as_ref().unchecked_ref())
            .map_err(|_| Error::InvalidArgument("expected an object with addEventListener"))?;
        Ok(Self {
            stop,
            _listener: listener,
        })
    }
}

/// Removes every listener of `subs`.
fn stop_all(subs: Vec<Subscription>) {
    for s in subs {
        let _ = s.stop.call0(&JsValue::NULL);
    }
}

fn coded(code: ErrorCode, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name("TeleconsultError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.as_str().into());
    err.into()
}

/// Whether the consent hook allows a reading (called with `reading`, and `from` when given);
/// a missing hook allows, a throwing one refuses.
fn allowed(allow: Option<&Function>, reading: &JsValue, from: Option<&JsValue>) -> bool {
    let Some(f) = allow else {
        return true;
    };
    match from {
        None => f.call1(&JsValue::NULL, reading),
        Some(from) => f.call2(&JsValue::NULL, reading, from),
    }
    .is_ok_and(|out| out.is_truthy())
}

fn opt_function(options: &JsValue, key: &'static str) -> Result<Option<Function>, Error> {
    match get(options, key) {
        v if !present(&v) => Ok(None),
        v => v
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| Error::InvalidArgument(key)),
    }
}

// ----- sending -----------------------------------------------------------------------------

struct ShareInner {
    consultation: JsValue,
    allow: Option<Function>,
    /// The core: queue, consent at each send, acknowledgements, re-sends.
    sender: ReadingSender,
    /// This object's listeners (consultation and sources).
    subscriptions: Vec<Subscription>,
    flushing: bool,
}

struct ShareShared {
    inner: RefCell<ShareInner>,
    events: Events,
}

/// Shares readings with one participant of a consultation: consent-checked, queued while
/// they cannot be delivered, re-sent until the receiving app acknowledges each one.
#[wasm_bindgen]
pub struct ReadingShare {
    shared: Rc<ShareShared>,
}

#[wasm_bindgen]
impl ReadingShare {
    /// Shares with `participantId` (16 hex digits) over `consultation`'s app-data channel.
    /// Options: `allow` (the consent hook), `maxPending`. Throws `InvalidArgument`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "any")] consultation: JsValue,
        #[wasm_bindgen(js_name = participantId)] participant_id: String,
        #[wasm_bindgen(unchecked_param_type = "any")] options: Option<JsValue>,
    ) -> Result<ReadingShare, JsValue> {
        Self::build(
            consultation,
            participant_id,
            options.unwrap_or(JsValue::UNDEFINED),
        )
        .map_err(js_error)
    }

    /// Queues a reading (one this SDK produced; it is rebuilt from `raw` and checked) and
    /// sends it as soon as possible. Returns false when `allow` withheld it (a `withheld`
    /// event also says so); true when it is queued, or already was.
    ///
    /// Throws `InvalidArgument` / `MalformedMeasurement` for a reading that does not rebuild,
    /// `LimitExceeded` when `maxPending` readings already wait, `InvalidState` after `close()`.
    pub fn share(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] reading: JsValue,
    ) -> Result<bool, JsValue> {
        let queued = enqueue(&self.shared, &reading)?;
        flush(&self.shared);
        Ok(queued)
    }

    /// Shares every `reading` event of `source` (a `DeviceSession` or `DeviceBridge`) until
    /// `close()`. Failures become `error` events of this object.
    pub fn attach(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] source: JsValue,
    ) -> Result<(), JsValue> {
        let sub = subscribe(&self.shared, &source, "reading").map_err(js_error)?;
        self.shared.inner.borrow_mut().subscriptions.push(sub);
        Ok(())
    }

    /// Tries to send what is queued now (it also happens on every consultation event that
    /// may have made delivery possible).
    pub fn flush(&self) {
        flush(&self.shared);
    }

    /// Readings not yet acknowledged by the receiver.
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> usize {
        self.shared.inner.borrow().sender.pending()
    }

    /// The ids of the readings not yet acknowledged, oldest first (persist them with the
    /// readings if they must survive a page reload, and `share` them again after it).
    #[wasm_bindgen(js_name = pendingIds, unchecked_return_type = "string[]")]
    pub fn pending_ids(&self) -> Array {
        let ids = Array::new();
        for id in self.shared.inner.borrow().sender.pending_ids() {
            ids.push(&id.into());
        }
        ids
    }

    /// Stops sharing: removes every listener (consultation and sources) and drops the queue.
    pub fn close(&self) {
        let subs = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.sender.close();
            std::mem::take(&mut inner.subscriptions)
        };
        stop_all(subs);
    }

    /// Where this object's events (`ReadingShareEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.shared.events.target()
    }
}

impl ReadingShare {
    fn build(consultation: JsValue, participant: String, options: JsValue) -> Result<Self, Error> {
        if js::parse_hex8(&participant).is_none() {
            return Err(Error::InvalidArgument(
                "participantId: expected 16 hex digits",
            ));
        }
        if !get(&consultation, "sendData").is_function() {
            return Err(Error::InvalidArgument(
                "consultation: expected a Consultation",
            ));
        }
        let max_pending = match get(&options, "maxPending") {
            v if !present(&v) => delivery::DEFAULT_MAX_PENDING,
            v => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (1.0..=100_000.0).contains(&n) => n as usize,
                _ => return Err(Error::InvalidArgument("maxPending: 1 to 100000")),
            },
        };
        // No timed re-sends: the session reports every possible loss (`dataundelivered`,
        // `participantleft`), and `handle_lost` re-sends then.
        let config = SenderConfig {
            max_pending,
            resend_after: None,
        };
        let shared = Rc::new(ShareShared {
            inner: RefCell::new(ShareInner {
                consultation: consultation.clone(),
                allow: opt_function(&options, "allow")?,
                sender: ReadingSender::new(participant, config),
                subscriptions: Vec::new(),
                flushing: false,
            }),
            events: Events::new()?,
        });
        let mut subs = Vec::new();
        for kind in SHARE_ON {
            match subscribe(&shared, &consultation, kind) {
                Ok(sub) => subs.push(sub),
                Err(e) => {
                    stop_all(subs);
                    return Err(e);
                }
            }
        }
        shared.inner.borrow_mut().subscriptions = subs;
        Ok(Self { shared })
    }
}

/// Listens to `kind` events of `target` (the consultation, or a source of readings).
fn subscribe(
    shared: &Rc<ShareShared>,
    target: &JsValue,
    kind: &'static str,
) -> Result<Subscription, Error> {
    let weak = Rc::downgrade(shared);
    let listener = Listener::new(move |detail: JsValue| {
        if let Some(s) = weak.upgrade() {
            on_share_event(&s, kind, &detail);
        }
    });
    Subscription::add(target, kind, listener)
}

/// Every event a `ReadingShare` listens to: `reading` from a source, the rest from the
/// consultation.
fn on_share_event(shared: &ShareShared, kind: &str, detail: &JsValue) {
    match kind {
        "reading" => match enqueue(shared, &get(detail, "reading")) {
            Ok(_) => flush(shared),
            Err(err) => {
                let detail = js::object(&[
                    ("code", get(&err, "code")),
                    ("message", get(&err, "message")),
                ]);
                shared.events.dispatch("error", &detail.into());
            }
        },
        "data" => {
            let from = get(detail, "participantId").as_string().unwrap_or_default();
            if let Some(bytes) = app_data(detail) {
                shared.inner.borrow_mut().sender.handle_data(&from, &bytes);
                dispatch_sender_events(shared);
            }
        }
        "dataundelivered" | "participantleft" => {
            let from = get(detail, "participantId").as_string().unwrap_or_default();
            shared
                .inner
                .borrow_mut()
                .sender
                .handle_lost(&from, now_ms());
            flush(shared);
        }
        _ => flush(shared),
    }
}

/// The bytes of a `data` event: a `Uint8Array` of at most [`MAX_MESSAGE_LEN`] bytes (longer
/// app data is never a reading message, and is not copied).
fn app_data(detail: &JsValue) -> Option<Vec<u8>> {
    let data = get(detail, "data").dyn_into::<Uint8Array>().ok()?;
    (data.length() as usize <= MAX_MESSAGE_LEN).then(|| data.to_vec())
}

/// Rebuilds the reading, asks consent and the `allow` hook, and hands it to the core;
/// `Ok(false)` when withheld.
fn enqueue(shared: &ShareShared, reading: &JsValue) -> Result<bool, JsValue> {
    let (allow, closed, consultation) = {
        let inner = shared.inner.borrow();
        (
            inner.allow.clone(),
            inner.sender.is_closed(),
            inner.consultation.clone(),
        )
    };
    if closed {
        return Err(coded(ErrorCode::InvalidState, SendError::Closed.message()));
    }
    let (rebuilt, raw) = RawRecord::rebuild(reading).map_err(js_error)?;
    let mut consent = consent_now(
        &consultation,
        delivery::reading_category(&rebuilt.measurement),
    );
    // The hook sees the rebuilt reading, never fields a caller could have edited.
    if consent == Consent::Allowed && !allowed(allow.as_ref(), &reading_js(&rebuilt, &raw), None) {
        consent = Consent::Refused(None);
    }
    let result = shared
        .inner
        .borrow_mut()
        .sender
        .handle_share(&rebuilt, &raw, consent, now_ms());
    dispatch_sender_events(shared);
    match result {
        Ok(Shared::Withheld) => Ok(false),
        Ok(Shared::Queued | Shared::AlreadyQueued) => Ok(true),
        Err(e @ SendError::Full) => Err(coded(ErrorCode::LimitExceeded, e.message())),
        Err(e) => Err(coded(ErrorCode::InvalidState, e.message())),
    }
}

/// Dispatches the core's `delivered` and `withheld` events, holding no borrow while a
/// listener runs.
fn dispatch_sender_events(shared: &ShareShared) {
    loop {
        let Some(event) = shared.inner.borrow_mut().sender.poll_event() else {
            return;
        };
        match event {
            SenderEvent::Delivered { id } => {
                let detail = js::object(&[("id", id.as_str().into())]);
                shared.events.dispatch("delivered", &detail.into());
            }
            SenderEvent::Withheld { id, reason } => {
                let detail = js::object(&[("id", id.as_str().into())]);
                if let Some(r) = reason {
                    super::set(&detail, "reason", r.name());
                }
                shared.events.dispatch("withheld", &detail.into());
            }
        }
    }
}

/// Hands every unsent reading to `sendData`, in order, until one is refused (the
/// participant is not reachable yet: the next consultation event retries). Consent is
/// checked again at the moment of sending: a reading buffered while offline is dropped if
/// its grant was withdrawn or expired meanwhile.
fn flush(shared: &ShareShared) {
    let consultation = {
        let mut inner = shared.inner.borrow_mut();
        if inner.flushing || inner.sender.is_closed() {
            return;
        }
        inner.flushing = true;
        let consultation = inner.consultation.clone();
        inner
            .sender
            .handle_consent(|category| consent_now(&consultation, category));
        consultation
    };
    dispatch_sender_events(shared);
    loop {
        let (participant, transmit) = {
            let mut inner = shared.inner.borrow_mut();
            let t = inner
                .sender
                .poll_transmit(now_ms(), |category| consent_now(&consultation, category));
            (inner.sender.peer().to_owned(), t)
        };
        let Some(t) = transmit else {
            break;
        };
        // No borrow is held while the consultation runs: it may dispatch events
        // synchronously (an acknowledgement).
        if sh_send(&consultation, &participant, t.bytes).is_err() {
            shared.inner.borrow_mut().sender.handle_send_failed(&t.id);
            break;
        }
    }
    shared.inner.borrow_mut().flushing = false;
    dispatch_sender_events(shared);
}

/// `new ReadingShare(consultation, participantId, options)` attached to `source`.
#[wasm_bindgen(js_name = shareReadings)]
pub fn share_readings(
    #[wasm_bindgen(unchecked_param_type = "any")] consultation: JsValue,
    #[wasm_bindgen(js_name = participantId)] participant_id: String,
    #[wasm_bindgen(unchecked_param_type = "any")] source: JsValue,
    #[wasm_bindgen(unchecked_param_type = "any")] options: Option<JsValue>,
) -> Result<ReadingShare, JsValue> {
    let share = ReadingShare::new(consultation, participant_id, options)?;
    share.attach(source)?;
    Ok(share)
}

// ----- receiving ---------------------------------------------------------------------------

struct ReceiverInner {
    consultation: JsValue,
    fhir: Option<FhirOptions>,
    allow: Option<Function>,
    /// The core: rebuilding, id checks, acknowledgements, de-duplication.
    receiver: Receiver,
    /// The `data` listener; `None` once closed.
    subscription: Option<Subscription>,
}

struct ReceiverShared {
    inner: RefCell<ReceiverInner>,
    events: Events,
}

/// Turns reading envelopes arriving over a consultation into typed `reading` events: each
/// rebuilt from its raw value with the same parsers, checked against its id, acknowledged,
/// and dispatched once per id with its FHIR form.
#[wasm_bindgen]
pub struct ReadingReceiver {
    shared: Rc<ReceiverShared>,
}

#[wasm_bindgen]
impl ReadingReceiver {
    /// Listens to `consultation`'s `data` events. Options: `fhir`, `allow`.
    /// Throws `InvalidArgument`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "any")] consultation: JsValue,
        #[wasm_bindgen(unchecked_param_type = "any")] options: Option<JsValue>,
    ) -> Result<ReadingReceiver, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let build = || -> Result<ReadingReceiver, Error> {
            let shared = Rc::new(ReceiverShared {
                inner: RefCell::new(ReceiverInner {
                    consultation: consultation.clone(),
                    fhir: FhirOptions::from_js(&get(&options, "fhir"))?,
                    allow: opt_function(&options, "allow")?,
                    receiver: Receiver::new(),
                    subscription: None,
                }),
                events: Events::new()?,
            });
            let weak = Rc::downgrade(&shared);
            let listener = Listener::new(move |detail: JsValue| on_receive(&weak, &detail));
            let sub = Subscription::add(&consultation, "data", listener)?;
            shared.inner.borrow_mut().subscription = Some(sub);
            Ok(ReadingReceiver { shared })
        };
        build().map_err(js_error)
    }

    /// Stops listening.
    pub fn close(&self) {
        let sub = self.shared.inner.borrow_mut().subscription.take();
        stop_all(sub.into_iter().collect());
    }

    /// Where this object's events (`ReadingReceiverEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.shared.events.target()
    }
}

fn on_receive(weak: &Weak<ReceiverShared>, detail: &JsValue) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let Some(from) = get(detail, "participantId").as_string() else {
        return;
    };
    let Some(bytes) = app_data(detail) else {
        return;
    };
    let (consultation, fhir, allow, outputs) = {
        let mut inner = shared.inner.borrow_mut();
        match inner.receiver.handle_data(&from, &bytes) {
            Ok(()) => {}
            // Other app data (chat, the app's own messages).
            Err(ReceiveError::NotAReading) => return,
            Err(e) => {
                drop(inner);
                report(&shared, &from, &Error::from(e));
                return;
            }
        }
        let outputs: Vec<ReceiverOutput> =
            std::iter::from_fn(|| inner.receiver.poll_output()).collect();
        (
            inner.consultation.clone(),
            inner.fhir.clone(),
            inner.allow.clone(),
            outputs,
        )
    };
    // The acknowledgement comes first, so the sender stops re-sending even if the app's
    // listener throws.
    for output in outputs {
        match output {
            ReceiverOutput::Transmit { to, bytes } => {
                let _ = sh_send(&consultation, &to, bytes);
            }
            ReceiverOutput::Reading { from, reading, raw } => {
                let detail = reading_detail(&reading, &raw, fhir.as_ref());
                if allowed(
                    allow.as_ref(),
                    &get(&detail, "reading"),
                    Some(&from.as_str().into()),
                ) {
                    super::set(&detail, "participantId", from.as_str());
                    shared.events.dispatch("reading", &detail.into());
                }
            }
        }
    }
}

fn report(shared: &ReceiverShared, from: &str, e: &Error) {
    let detail = error_detail(e);
    super::set(&detail, "participantId", from);
    shared.events.dispatch("error", &detail.into());
}
