//! Readings over a consultation's end-to-end encrypted app-data channel.
//!
//! Wire format (UTF-8 JSON in one `sendData` message):
//! `{"type":"teleconsult/reading","id":"<reading id>","raw":{…ReadingRaw…}}`, answered by
//! `{"type":"teleconsult/reading-ack","id":"<reading id>"}`.
//!
//! The session delivers app data exactly once and in order while both participants stay in
//! the call, and reports `dataundelivered` when a participant left or restarted first. So
//! the sender keeps every reading until the receiver's *application* acknowledges it, and
//! re-sends on `dataundelivered` or when the participant leaves and comes back; the receiver
//! de-duplicates by id (ids are content-derived, so a re-send or a re-download has the same
//! id). Only `raw` travels: the receiver rebuilds the reading with its own parsers and checks
//! the id, so a peer can only ever send what a device could have sent.
//!
//! Consent is enforced twice. When a `ConsentManager` is attached to the consultation, a
//! reading is queued and sent only while a grant covers its category for that recipient at
//! that moment (checked again at each send, so a withdrawal also drops what was buffered).
//! The app can add its own rule through `allow(reading)`, called before a reading is queued
//! (and, on the receiving side, before it is shown). Nothing is sent when either refuses.
//!
//! The listeners' plumbing and the UTF-8 JSON codec live in a JS snippet
//! (`src/web/snippets/share.js`); every decision stays here.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::raw::RawRecord;
use super::{Events, FhirOptions, error_detail, js_error, reading_detail, reading_js};
use crate::consent::DataCategory;
use crate::devices::Measurement;
use crate::web::js::{self, get, present};
use crate::web::timer::now_ms;
use crate::{Error, ErrorCode};

/// The consent category a reading belongs to (`None`: not a reading consent covers).
fn reading_category(m: &Measurement) -> Option<DataCategory> {
    Some(match m {
        Measurement::HeartRate(_) => DataCategory::HeartRate,
        Measurement::BloodPressure(_) | Measurement::IntermediateCuffPressure(_) => {
            DataCategory::BloodPressure
        }
        Measurement::Temperature(_) => DataCategory::BodyTemperature,
        Measurement::Weight(_) => DataCategory::BodyWeight,
        Measurement::Glucose(_) => DataCategory::BloodGlucose,
        Measurement::PlxSpotCheck(_) | Measurement::PlxContinuous(_) => DataCategory::Spo2,
        _ => return None,
    })
}

/// Why consent refuses sharing `category` in `consultation` now, if it does: only when a
/// consent manager is attached to that consultation.
fn consent_refusal(consultation: &JsValue, category: Option<DataCategory>) -> Option<String> {
    let local = get(consultation, "participantId").as_string()?;
    let decision = crate::web::consent::allows_for_consultation(&local, category?, now_ms())?;
    (!decision.allowed).then(|| decision.reason.name().to_owned())
}

const READING: &str = "teleconsult/reading";
const ACK: &str = "teleconsult/reading-ack";
/// Ids remembered for de-duplication, oldest forgotten first.
const SEEN_LIMIT: usize = 10_000;
const DEFAULT_MAX_PENDING: usize = 1_000;

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

// The event plumbing and the UTF-8 JSON codec; see the snippet for why they are there.
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
    /// `consultation.sendData(participant, UTF-8 JSON of message)`.
    #[wasm_bindgen(js_name = shSend, catch)]
    fn sh_send(
        consultation: &JsValue,
        participant: &JsValue,
        message: &JsValue,
    ) -> Result<(), JsValue>;
    /// The app-data message of type `kind` in `data`, else `undefined`.
    #[wasm_bindgen(js_name = shDecode)]
    fn sh_decode(data: &JsValue, kind: &JsValue) -> JsValue;
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

struct Pending {
    id: String,
    /// The envelope object, JSON-encoded at each send.
    message: JsValue,
    /// What consent must cover at each send.
    category: Option<DataCategory>,
    /// Handed to `sendData`; waiting for the receiver's acknowledgement.
    sent: bool,
}

struct ShareInner {
    consultation: JsValue,
    participant: String,
    allow: Option<Function>,
    max_pending: usize,
    queue: VecDeque<Pending>,
    /// This object's listeners (consultation and sources).
    subscriptions: Vec<Subscription>,
    flushing: bool,
    closed: bool,
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
        #[wasm_bindgen(unchecked_param_type = "Consultation")] consultation: JsValue,
        #[wasm_bindgen(js_name = participantId)] participant_id: String,
        #[wasm_bindgen(unchecked_param_type = "ReadingShareOptions")] options: Option<JsValue>,
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
        #[wasm_bindgen(unchecked_param_type = "Reading")] reading: JsValue,
    ) -> Result<bool, JsValue> {
        let queued = enqueue(&self.shared, &reading)?;
        flush(&self.shared);
        Ok(queued)
    }

    /// Shares every `reading` event of `source` (a `DeviceSession` or `DeviceBridge`) until
    /// `close()`. Failures become `error` events of this object.
    pub fn attach(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadingSource")] source: JsValue,
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
        self.shared.inner.borrow().queue.len()
    }

    /// The ids of the readings not yet acknowledged, oldest first (persist them with the
    /// readings if they must survive a page reload, and `share` them again after it).
    #[wasm_bindgen(js_name = pendingIds, unchecked_return_type = "string[]")]
    pub fn pending_ids(&self) -> Array {
        let ids = Array::new();
        for p in &self.shared.inner.borrow().queue {
            ids.push(&p.id.as_str().into());
        }
        ids
    }

    /// Stops sharing: removes every listener (consultation and sources) and drops the queue.
    pub fn close(&self) {
        let subs = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.closed = true;
            inner.queue.clear();
            std::mem::take(&mut inner.subscriptions)
        };
        stop_all(subs);
    }

    /// Adds an event listener; see `ReadingShareEventMap`.
    #[wasm_bindgen(js_name = addEventListener, skip_typescript)]
    pub fn add_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.shared.events.add(kind, listener)
    }

    /// Removes an event listener.
    #[wasm_bindgen(js_name = removeEventListener, skip_typescript)]
    pub fn remove_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.shared.events.remove(kind, listener)
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
            v if !present(&v) => DEFAULT_MAX_PENDING,
            v => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (1.0..=100_000.0).contains(&n) => n as usize,
                _ => return Err(Error::InvalidArgument("maxPending: 1 to 100000")),
            },
        };
        let shared = Rc::new(ShareShared {
            inner: RefCell::new(ShareInner {
                consultation: consultation.clone(),
                participant,
                allow: opt_function(&options, "allow")?,
                max_pending,
                queue: VecDeque::new(),
                subscriptions: Vec::new(),
                flushing: false,
                closed: false,
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
        "data" => on_ack(shared, detail),
        "dataundelivered" | "participantleft" => on_lost(shared, detail),
        _ => flush(shared),
    }
}

/// Checks consent and queues; `Ok(false)` when withheld.
fn enqueue(shared: &ShareShared, reading: &JsValue) -> Result<bool, JsValue> {
    let (allow, closed, consultation) = {
        let inner = shared.inner.borrow();
        (
            inner.allow.clone(),
            inner.closed,
            inner.consultation.clone(),
        )
    };
    if closed {
        return Err(coded(
            ErrorCode::InvalidState,
            "the reading share is closed",
        ));
    }
    let (rebuilt, raw) = RawRecord::rebuild(reading).map_err(js_error)?;
    let id = rebuilt.id.clone();
    let category = reading_category(&rebuilt.measurement);
    if let Some(reason) = consent_refusal(&consultation, category) {
        withheld(shared, &id, Some(reason));
        return Ok(false);
    }
    // The hook sees the rebuilt reading, never fields a caller could have edited.
    let shown = reading_js(&rebuilt, &raw);
    if !allowed(allow.as_ref(), &shown, None) {
        withheld(shared, &id, None);
        return Ok(false);
    }
    let message = js::object(&[
        ("type", READING.into()),
        ("id", id.as_str().into()),
        ("raw", raw.to_js()),
    ]);
    let mut inner = shared.inner.borrow_mut();
    if inner.queue.iter().any(|p| p.id == id) {
        return Ok(true);
    }
    if inner.queue.len() >= inner.max_pending {
        return Err(coded(
            ErrorCode::LimitExceeded,
            "too many readings wait for delivery (maxPending)",
        ));
    }
    inner.queue.push_back(Pending {
        id,
        message: message.into(),
        category,
        sent: false,
    });
    Ok(true)
}

/// The `withheld` event: `{ id }`, and `reason` when consent refused.
fn withheld(shared: &ShareShared, id: &str, reason: Option<String>) {
    let detail = js::object(&[("id", id.into())]);
    if let Some(r) = reason {
        super::set(&detail, "reason", r);
    }
    shared.events.dispatch("withheld", &detail.into());
}

/// Hands every unsent reading to `sendData`, in order, until one is refused (the
/// participant is not reachable yet: the next consultation event retries).
fn flush(shared: &ShareShared) {
    let (consultation, participant, batch, refused): (_, JsValue, _, _) = {
        let mut inner = shared.inner.borrow_mut();
        if inner.flushing || inner.closed {
            return;
        }
        inner.flushing = true;
        // Consent is checked again at the moment of sending: a reading buffered while
        // offline is dropped if its grant was withdrawn or expired meanwhile.
        let consultation = inner.consultation.clone();
        let mut refused = Vec::new();
        inner
            .queue
            .retain(|p| match consent_refusal(&consultation, p.category) {
                Some(reason) if !p.sent => {
                    refused.push((p.id.clone(), reason));
                    false
                }
                _ => true,
            });
        let batch: Vec<(String, JsValue)> = inner
            .queue
            .iter()
            .filter(|p| !p.sent)
            .map(|p| (p.id.clone(), p.message.clone()))
            .collect();
        (
            consultation,
            inner.participant.as_str().into(),
            batch,
            refused,
        )
    };
    for (id, reason) in refused {
        withheld(shared, &id, Some(reason));
    }
    // No borrow is held while the consultation runs: it may dispatch events synchronously.
    let mut sent = Vec::new();
    for (id, message) in batch {
        if sh_send(&consultation, &participant, &message).is_err() {
            break;
        }
        sent.push(id);
    }
    let mut inner = shared.inner.borrow_mut();
    inner.flushing = false;
    for p in inner.queue.iter_mut() {
        if sent.contains(&p.id) {
            p.sent = true;
        }
    }
}

/// App data from a participant: an acknowledgement when it is one from ours.
fn on_ack(shared: &ShareShared, detail: &JsValue) {
    let from = get(detail, "participantId").as_string().unwrap_or_default();
    let ack = sh_decode(&get(detail, "data"), &ACK.into());
    let Some(id) = get(&ack, "id").as_string() else {
        return;
    };
    let removed = {
        let mut inner = shared.inner.borrow_mut();
        if from != inner.participant {
            return;
        }
        let before = inner.queue.len();
        inner.queue.retain(|p| p.id != id);
        before != inner.queue.len()
    };
    if removed {
        shared.events.dispatch(
            "delivered",
            &js::object(&[("id", id.as_str().into())]).into(),
        );
    }
}

/// Messages to the participant may be lost: send everything unacknowledged again.
fn on_lost(shared: &ShareShared, detail: &JsValue) {
    let from = get(detail, "participantId").as_string();
    {
        let mut inner = shared.inner.borrow_mut();
        if from.as_deref() != Some(inner.participant.as_str()) {
            return;
        }
        for p in inner.queue.iter_mut() {
            p.sent = false;
        }
    }
    flush(shared);
}

/// `new ReadingShare(consultation, participantId, options)` attached to `source`.
#[wasm_bindgen(js_name = shareReadings)]
pub fn share_readings(
    #[wasm_bindgen(unchecked_param_type = "Consultation")] consultation: JsValue,
    #[wasm_bindgen(js_name = participantId)] participant_id: String,
    #[wasm_bindgen(unchecked_param_type = "ReadingSource")] source: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ReadingShareOptions")] options: Option<JsValue>,
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
    /// Ids already dispatched, oldest first, at most `SEEN_LIMIT`. A linear search (ids
    /// differ in their first bytes, so ~10 µs for a full window) instead of a `BTreeSet`:
    /// the B-tree's code for one more key type costs several KB of wasm.
    seen: VecDeque<String>,
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
        #[wasm_bindgen(unchecked_param_type = "Consultation")] consultation: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ReadingReceiverOptions")] options: Option<JsValue>,
    ) -> Result<ReadingReceiver, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let build = || -> Result<ReadingReceiver, Error> {
            let shared = Rc::new(ReceiverShared {
                inner: RefCell::new(ReceiverInner {
                    consultation: consultation.clone(),
                    fhir: FhirOptions::from_js(&get(&options, "fhir"))?,
                    allow: opt_function(&options, "allow")?,
                    seen: VecDeque::new(),
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

    /// Adds an event listener; see `ReadingReceiverEventMap`.
    #[wasm_bindgen(js_name = addEventListener, skip_typescript)]
    pub fn add_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.shared.events.add(kind, listener)
    }

    /// Removes an event listener.
    #[wasm_bindgen(js_name = removeEventListener, skip_typescript)]
    pub fn remove_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.shared.events.remove(kind, listener)
    }
}

fn on_receive(weak: &Weak<ReceiverShared>, detail: &JsValue) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let Some(from) = get(detail, "participantId").as_string() else {
        return;
    };
    let envelope = sh_decode(&get(detail, "data"), &READING.into());
    if envelope.is_undefined() {
        return;
    }
    let (rebuilt, raw) = match RawRecord::rebuild(&envelope) {
        Ok(r) if get(&envelope, "id").is_string() => r,
        Ok(_) => {
            let e = Error::InvalidArgument("reading envelope without an id");
            report(&shared, &from, &e);
            return;
        }
        Err(e) => {
            report(&shared, &from, &e);
            return;
        }
    };
    // Acknowledge first, so the sender stops re-sending even if the app's listener throws.
    let ack = js::object(&[("type", ACK.into()), ("id", rebuilt.id.as_str().into())]);
    let (consultation, fhir, allow, fresh) = {
        let mut inner = shared.inner.borrow_mut();
        let fresh = !inner.seen.contains(&rebuilt.id);
        if fresh {
            inner.seen.push_back(rebuilt.id.clone());
            if inner.seen.len() > SEEN_LIMIT {
                inner.seen.pop_front();
            }
        }
        (
            inner.consultation.clone(),
            inner.fhir.clone(),
            inner.allow.clone(),
            fresh,
        )
    };
    let _ = sh_send(&consultation, &from.as_str().into(), &ack.into());
    if !fresh {
        return;
    }
    let detail = reading_detail(&rebuilt, &raw, fhir.as_ref());
    if !allowed(
        allow.as_ref(),
        &get(&detail, "reading"),
        Some(&from.as_str().into()),
    ) {
        return;
    }
    super::set(&detail, "participantId", from.as_str());
    shared.events.dispatch("reading", &detail.into());
}

fn report(shared: &ReceiverShared, from: &str, e: &Error) {
    let detail = error_detail(e);
    super::set(&detail, "participantId", from);
    shared.events.dispatch("error", &detail.into());
}
