//! Recording a consultation: `Consultation.startRecording()`, the `Recording` it resolves
//! to, and the recording indicator on the other participants' pages.
//!
//! The enforcement point: a clinician may record only while every other participant in
//! the call (each patient and guest) is covered by a `recording` grant in a
//! `ConsentReplica` bound to them on this consultation
//! ([`super::consent::recording_decision`], deciding with
//! [`crate::consent::check_recording`]). The decision is taken again on every consent
//! change, when a participant enters the call, and when the earliest covering grant's
//! period ends; a denial stops the recorder at once.
//!
//! What is recorded: one `MediaRecorder` over a stream holding one video track (the first
//! patient's or guest's camera, else any other participant's, else this side's) and one
//! audio track mixing every participant's microphone and this side's (WebAudio; where that
//! is unavailable, the first participant's audio only).
//!
//! The others learn of it through a [`RecordingSignal`] on the end-to-end encrypted
//! app-data channel; only a clinician's signal is believed.
//!
//! The browser IO (tracks, mixing, the `MediaRecorder`, its chunks, the final `Blob`) is
//! `snippets/recording.js`: far smaller as JavaScript than as web-sys calls and closures.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use super::consultation::{self, Consultation, Shared};
use super::js::{self, get, object, present, set};
use super::timer::{Timer, now_ms};
use crate::Error as CoreError;
use crate::consent::{Reason, RecordingDecision, RecordingSignal, StopReason};
use crate::signaling::SignalingError;
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::web::Error;

#[wasm_bindgen(module = "/src/web/snippets/recording.js")]
extern "C" {
    /// Starts a `MediaRecorder` (see the snippet); resolves to its handle or a failure code.
    #[wasm_bindgen(js_name = startRecorder, catch)]
    fn start_recorder(
        streams: &Array,
        mime: &str,
        timeslice: f64,
        video_bps: Option<f64>,
        audio_bps: Option<f64>,
        events: &EventTarget,
        on_end: &Function,
    ) -> Result<JsValue, JsValue>;
    /// Asks the recorder to stop; false when no `stop` event will come.
    #[wasm_bindgen(js_name = stopRecorder)]
    fn stop_recorder(handle: &JsValue) -> bool;
    /// Detaches the callbacks, releases the mixer, returns the whole recording's Blob.
    #[wasm_bindgen(js_name = finishRecorder)]
    fn finish_recorder(handle: &JsValue) -> JsValue;
}

/// The recording state of one consultation (held in its driver).
#[derive(Default)]
pub(super) struct CallRecording {
    /// This side's recording, while it runs.
    own: Option<Rc<RefCell<Rec>>>,
    /// Clinicians who told us they are recording.
    remote: Vec<ParticipantId>,
}

impl CallRecording {
    fn state(&self, local: ParticipantId) -> (bool, Option<ParticipantId>) {
        if self.own.is_some() {
            (true, Some(local))
        } else {
            (!self.remote.is_empty(), self.remote.first().copied())
        }
    }
}

type Handler = Closure<dyn FnMut(JsValue)>;

/// A running or finished recording.
struct Rec {
    /// The snippet's handle (recorder, chunks, byte count, mixer).
    recorder: JsValue,
    mime: String,
    started_at: f64,
    events: EventTarget,
    /// "recording", "stopping" or "stopped".
    state: &'static str,
    stop: Option<(StopReason, Option<String>, Option<Reason>)>,
    blob: Option<JsValue>,
    waiters: Vec<Function>,
    /// The consultation's recording slot: cleared on stop.
    call: std::rc::Weak<RefCell<consultation::Inner>>,
    /// Participants told that we record (they are told when it stops).
    told: Vec<ParticipantId>,
    /// Participants covered at the last decision: a denial naming one of them is a
    /// withdrawal, naming anyone else is a newcomer.
    covered: Vec<String>,
    /// Takes the decision again when the earliest covering grant ends.
    expiry: Option<Timer>,
    /// Called by the recorder's `stop` and `error` events; the snippet detaches it in
    /// `finishRecorder`, before this struct (and so the closure) can be dropped.
    _on_end: Option<Handler>,
    /// This recording itself while it stops: the app and the consultation may let go of it
    /// then, and its Blob and `stop` event are still due. A deliberate cycle, broken once
    /// the `stop` event was handled (`finish`).
    keep_alive: Option<Rc<RefCell<Rec>>>,
}

/// A recording of the call, from `Consultation.startRecording()`.
#[wasm_bindgen]
pub struct Recording {
    inner: Rc<RefCell<Rec>>,
}

#[wasm_bindgen]
impl Recording {
    /// `"recording"`, `"stopping"` (the last chunk is on its way) or `"stopped"`.
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "\"recording\" | \"stopping\" | \"stopped\""
    )]
    pub fn state(&self) -> String {
        self.inner.borrow().state.to_owned()
    }

    /// The recording's MIME type, e.g. `"video/webm;codecs=vp8,opus"`.
    #[wasm_bindgen(getter, js_name = mimeType)]
    pub fn mime_type(&self) -> String {
        self.inner.borrow().mime.clone()
    }

    /// When it started (ms since the epoch).
    #[wasm_bindgen(getter, js_name = startedAt)]
    pub fn started_at(&self) -> f64 {
        self.inner.borrow().started_at
    }

    /// Bytes recorded so far (the sum of the chunks).
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        get(&self.inner.borrow().recorder, "bytes")
            .as_f64()
            .unwrap_or(0.0)
    }

    /// Why it stopped, once it did.
    #[wasm_bindgen(getter, js_name = stopReason, unchecked_return_type = "any")]
    pub fn stop_reason(&self) -> Option<String> {
        self.inner
            .borrow()
            .stop
            .as_ref()
            .map(|(r, ..)| r.name().to_owned())
    }

    /// Stops recording (if it still runs) and tells the other participants. Resolves to the
    /// whole recording as one `Blob` once the recorder delivered its last chunk — also after
    /// a stop for consent or hang-up, with what was recorded until then.
    #[wasm_bindgen(unchecked_return_type = "Promise<Blob>")]
    pub fn stop(&self) -> Promise {
        let done = self.inner.borrow().blob.clone();
        if let Some(blob) = done {
            return Promise::resolve(&blob);
        }
        let mut resolve = None;
        let promise = Promise::new(&mut |r, _| resolve = Some(r));
        if let Some(r) = resolve {
            self.inner.borrow_mut().waiters.push(r);
            stop(&self.inner, StopReason::Stopped, None, None);
        }
        promise
    }

    /// Where this object's events (`RecordingEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.inner.borrow().events.clone()
    }
}

#[wasm_bindgen]
impl Consultation {
    /// (Clinicians) records the call with the browser's `MediaRecorder`: one video track
    /// (the patient's camera) and every participant's audio mixed into one track.
    ///
    /// Consent: it starts only if every other participant in the call (each patient and
    /// guest) is covered, for this clinician and this moment, by a `recording` grant in a
    /// `ConsentReplica` attached to this consultation for them
    /// (`replica.attachConsultation(consultation, participantId)`, with the replica's
    /// `recipient` and `notice` options set). It stops by itself as soon as that is no
    /// longer true: a withdrawal, an expiry, a new notice version, or someone without a
    /// grant entering the call. The other participants are told (their `recording` event).
    ///
    /// Resolves to the `Recording`. Rejects with `ConsentDenied` (a
    /// `RecordingConsentError`: `participantId` names whose consent is missing, `reason`
    /// why), `InvalidState` (not a clinician, nobody else in the call, already recording,
    /// or the call ended), `Unsupported` (no `MediaRecorder`), `InvalidArgument` (bad
    /// options, an unsupported `mimeType`) or `MediaFailed` (no track to record yet).
    #[wasm_bindgen(js_name = startRecording, unchecked_return_type = "Promise<Recording>")]
    pub fn start_recording(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "any")] options: Option<JsValue>,
    ) -> Promise {
        let inner = Rc::clone(self.shared());
        // In a microtask, as when this was an `async fn` (see `js::spawn_promise`).
        js::spawn_promise(Box::pin(async move {
            start(&inner, options.unwrap_or(JsValue::UNDEFINED)).map(Into::into)
        }))
    }

    /// Whether someone records the call: this side (`startedBy` is this side's id) or a
    /// clinician elsewhere, as their signal said.
    #[wasm_bindgen(getter, unchecked_return_type = "any")]
    pub fn recording(&self) -> JsValue {
        let inner = self.shared();
        let local = consultation::local_id(inner);
        let (active, by) =
            consultation::with_recording(inner, |r| r.state(local)).unwrap_or((false, None));
        state_js(active, by, None).into()
    }
}

fn state_js(active: bool, by: Option<ParticipantId>, reason: Option<StopReason>) -> Object {
    let o = object(&[("active", active.into())]);
    if let Some(by) = by {
        set(&o, "startedBy", js::hex(&by.0));
    }
    if let Some(r) = reason {
        set(&o, "reason", r.name());
    }
    o
}

fn error(e: Error, message: Option<String>, participant: Option<&str>) -> JsValue {
    let err: JsValue = super::JsError(e).into();
    if let Some(m) = message {
        let _ = Reflect::set(&err, &"message".into(), &m.into());
    }
    if let Some(p) = participant {
        let _ = Reflect::set(&err, &"participantId".into(), &p.into());
    }
    err
}

fn invalid_state(message: &str) -> JsValue {
    error(
        CoreError::Signaling(SignalingError::InvalidState).into(),
        Some(format!("recording: {message}")),
        None,
    )
}

/// The participants whose consent a recording needs: everyone in the call but clinicians.
fn consenting_peers(view: &consultation::CallView) -> Vec<String> {
    view.peers
        .iter()
        .filter(|p| p.in_call && p.role != Role::Clinician)
        .map(|p| js::hex(&p.id.0))
        .collect()
}

fn decide(inner: &Shared) -> Option<(consultation::CallView, RecordingDecision<String>)> {
    let view = consultation::call_view(inner)?;
    let peers = consenting_peers(&view);
    let d = super::consent::recording_decision(&consultation::ledgers(inner), &peers, now_ms());
    Some((view, d))
}

fn role_name(view: &consultation::CallView, id: &str) -> &'static str {
    view.peers
        .iter()
        .find(|p| js::hex(&p.id.0) == id)
        .map_or("participant", |p| p.role.as_str())
}

fn denial_message(who: &str, role: &str, reason: Reason, no_record: bool) -> String {
    let why = if no_record {
        "no consent record (ConsentReplica) is attached for them".to_owned()
    } else {
        format!("their record says {}", super::consent::reason_name(reason))
    };
    format!(
        "recording needs every participant's consent: {role} {who} has not granted recording ({why})"
    )
}

fn start(inner: &Shared, options: JsValue) -> Result<Recording, JsValue> {
    if present(&options) && !options.is_object() {
        return Err(error(
            Error::InvalidArgument("options: expected an object"),
            None,
            None,
        ));
    }
    let Some((view, decision)) = decide(inner) else {
        return Err(invalid_state("the consultation is busy"));
    };
    if view.ended {
        return Err(error(
            CoreError::Signaling(SignalingError::Closed).into(),
            None,
            None,
        ));
    }
    if view.role != Role::Clinician {
        return Err(invalid_state("only a clinician may record the call"));
    }
    if consultation::with_recording(inner, |r| r.own.is_some()).unwrap_or(true) {
        return Err(invalid_state("already recording"));
    }
    let until = match decision {
        RecordingDecision::Allowed { until } => until,
        RecordingDecision::NoParticipants => {
            return Err(invalid_state("nobody else is in the call"));
        }
        RecordingDecision::Denied {
            participant,
            reason,
            no_record,
            ..
        } => {
            let msg = denial_message(
                &participant,
                role_name(&view, &participant),
                reason,
                no_record,
            );
            return Err(error(
                CoreError::ConsentDenied(reason).into(),
                Some(msg),
                Some(&participant),
            ));
        }
    };
    if !get(&js_sys::global(), "MediaRecorder").is_function() {
        return Err(error(
            Error::Unsupported("MediaRecorder is missing"),
            None,
            None,
        ));
    }
    let opts = recorder_options(&options).map_err(|e| error(e, None, None))?;
    let events = EventTarget::new()
        .map_err(|_| error(Error::Unsupported("EventTarget is missing"), None, None))?;
    let rec = Rc::new(RefCell::new(Rec {
        recorder: JsValue::UNDEFINED,
        mime: String::new(),
        started_at: js_sys::Date::now(),
        events: events.clone(),
        state: "recording",
        stop: None,
        blob: None,
        waiters: Vec::new(),
        call: Rc::downgrade(inner),
        told: Vec::new(),
        covered: consenting_peers(&view),
        expiry: None,
        _on_end: None,
        keep_alive: None,
    }));
    let on_end = on_end(&rec);
    let started = start_recorder(
        &sources(&view),
        &opts.mime,
        opts.timeslice,
        opts.video_bps,
        opts.audio_bps,
        &events,
        on_end.as_ref().unchecked_ref(),
    );
    let handle = match started {
        Ok(h) if h.is_object() => h,
        Ok(code) => return Err(start_failed(code.as_string().as_deref())),
        Err(_) => return Err(start_failed(None)),
    };
    {
        let mut r = rec.borrow_mut();
        r.mime = get(&handle, "mime").as_string().unwrap_or_default();
        r.recorder = handle;
        r._on_end = Some(on_end);
    }
    consultation::with_recording(inner, |r| r.own = Some(rec.clone()));
    arm_expiry(&rec, until);
    tell_newcomers(inner, &rec);
    consultation::dispatch_event(inner, "recording", state_js(true, Some(view.local), None));
    Ok(Recording { inner: rec })
}

/// `RecordingOptions`, checked.
struct RecorderOptions {
    /// Empty for the snippet's default (WebM, else MP4).
    mime: String,
    timeslice: f64,
    video_bps: Option<f64>,
    audio_bps: Option<f64>,
}

/// Reads and checks `RecordingOptions` (whether the browser supports `mimeType` is for the
/// recorder to say).
fn recorder_options(options: &JsValue) -> Result<RecorderOptions, Error> {
    let timeslice = get(options, "timeslice");
    let timeslice = if present(&timeslice) {
        timeslice
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 1.0 && *t <= 3_600_000.0)
            .ok_or(Error::InvalidArgument(
                "timeslice: expected milliseconds (1 to 3600000)",
            ))?
    } else {
        1000.0
    };
    let bits = |key: &str| -> Result<Option<f64>, Error> {
        let v = get(options, key);
        if !present(&v) {
            return Ok(None);
        }
        v.as_f64()
            .filter(|n| n.is_finite() && *n > 0.0)
            .map(Some)
            .ok_or(Error::InvalidArgument(
                "bitsPerSecond: expected a positive number",
            ))
    };
    Ok(RecorderOptions {
        mime: js::opt_string(options, "mimeType")?.unwrap_or_default(),
        timeslice,
        video_bps: bits("videoBitsPerSecond")?,
        audio_bps: bits("audioBitsPerSecond")?,
    })
}

/// The error for a recorder that did not start, from the snippet's code.
fn start_failed(code: Option<&str>) -> JsValue {
    let e = match code {
        Some("mime") => {
            Error::InvalidArgument("mimeType: not supported by this browser's MediaRecorder")
        }
        Some("nothing") => {
            Error::Media("nothing to record yet: no participant sends audio or video")
        }
        Some("start") => Error::Media("MediaRecorder failed to start"),
        _ => Error::Media("MediaRecorder refused the stream or options"),
    };
    error(e, None, None)
}

/// The streams to take tracks from, in order: patients and guests first, then other
/// clinicians, then this side. The first live video track among them is recorded.
fn sources(view: &consultation::CallView) -> Array {
    let out = Array::new();
    for clinicians in [false, true] {
        for p in view.peers.iter().filter(|p| p.in_call) {
            if (p.role == Role::Clinician) == clinicians
                && let Some((_, s)) = view.remote_streams.iter().find(|(id, _)| *id == p.id)
            {
                out.push(s);
            }
        }
    }
    if let Some(s) = &view.local_stream {
        out.push(s);
    }
    out
}

/// The recorder's `stop` (argument false: its last chunk arrived) and `error` (true).
fn on_end(rec: &Rc<RefCell<Rec>>) -> Handler {
    let weak = Rc::downgrade(rec);
    Closure::new(move |failed: JsValue| {
        let Some(rec) = weak.upgrade() else { return };
        if failed.as_bool() == Some(true) {
            stop(&rec, StopReason::Failed, None, None);
        } else {
            finish(&rec);
        }
    })
}

fn arm_expiry(rec: &Rc<RefCell<Rec>>, until: Option<u64>) {
    let weak = Rc::downgrade(rec);
    let timer = until.and_then(|at| {
        // Past the end: `check` denies from `end` on (exclusive), so wake just after it.
        let delay = at.saturating_sub(now_ms()).saturating_add(1) as f64;
        Timer::once(delay, move || {
            let call = weak.upgrade().and_then(|r| r.borrow().call.upgrade());
            if let Some(call) = call {
                enforce(&call);
            }
        })
        .ok()
    });
    rec.borrow_mut().expiry = timer;
}

/// Sends `Started` to every participant in the call not yet told.
fn tell_newcomers(inner: &Shared, rec: &Rc<RefCell<Rec>>) {
    let Some(view) = consultation::call_view(inner) else {
        return;
    };
    let told = rec.borrow().told.clone();
    for p in view
        .peers
        .iter()
        .filter(|p| p.in_call && !told.contains(&p.id))
    {
        if consultation::send_app_data(inner, p.id, &RecordingSignal::Started.encode()).is_ok() {
            rec.borrow_mut().told.push(p.id);
        }
    }
}

/// Stops the recorder (if it runs) for `reason`, tells the others and the app.
fn stop(rec: &Rc<RefCell<Rec>>, reason: StopReason, who: Option<String>, why: Option<Reason>) {
    // After a hang-up the session is closed: nothing can be sent (the others see us leave).
    let tell = reason != StopReason::HungUp;
    let (recorder, call, told) = {
        let mut r = rec.borrow_mut();
        if r.state != "recording" {
            return;
        }
        r.state = "stopping";
        r.stop = Some((reason, who, why));
        r.expiry = None;
        r.keep_alive = Some(rec.clone());
        (
            r.recorder.clone(),
            r.call.upgrade(),
            std::mem::take(&mut r.told),
        )
    };
    if let Some(call) = &call {
        consultation::with_recording(call, |c| {
            if c.own.as_ref().is_some_and(|o| Rc::ptr_eq(o, rec)) {
                c.own = None;
            }
        });
        let signal = RecordingSignal::Stopped(reason).encode();
        for peer in told.into_iter().filter(|_| tell) {
            let _ = consultation::send_app_data(call, peer, &signal);
        }
    }
    if !stop_recorder(&recorder) {
        // Already inactive (it failed): no `stop` event will come.
        finish(rec);
    }
    if let Some(call) = &call {
        let local = consultation::local_id(call);
        consultation::dispatch_event(
            call,
            "recording",
            state_js(false, Some(local), Some(reason)),
        );
    }
}

/// After the recorder's last chunk: the final Blob, the `stop` event, release everything.
fn finish(rec: &Rc<RefCell<Rec>>) {
    let (blob, waiters, events, stop) = {
        let mut r = rec.borrow_mut();
        if r.blob.is_some() {
            return;
        }
        if r.stop.is_none() {
            // The browser stopped it by itself (every track ended).
            r.stop = Some((StopReason::Failed, None, None));
        }
        r.expiry = None;
        let blob = finish_recorder(&r.recorder);
        r.blob = Some(blob.clone());
        r.state = "stopped";
        (
            blob,
            std::mem::take(&mut r.waiters),
            r.events.clone(),
            r.stop.clone(),
        )
    };
    let call = rec.borrow().call.upgrade();
    if let Some(call) = call {
        // A recorder that stopped by itself still leaves the consultation's slot.
        consultation::with_recording(&call, |c| {
            if c.own.as_ref().is_some_and(|o| Rc::ptr_eq(o, rec)) {
                c.own = None;
            }
        });
    }
    for w in waiters {
        let _ = w.call1(&JsValue::UNDEFINED, &blob);
    }
    let detail = object(&[("blob", blob)]);
    if let Some((reason, who, why)) = stop {
        set(&detail, "reason", reason.name());
        if let Some(w) = who {
            set(&detail, "participantId", w);
        }
        if let Some(r) = why {
            set(&detail, "consentReason", super::consent::reason_name(r));
        }
    }
    consultation::fire(&events, "stop", &detail.into());
    // Let go of the keep-alive after this event handler returns.
    let me = rec.clone();
    js::spawn(Box::pin(async move {
        let kept = me.borrow_mut().keep_alive.take();
        drop(kept);
    }));
}

// ----- hooks called by the consultation driver ------------------------------------------

/// Takes the consent decision again (after a consent change, a participant entering the
/// call, or a grant's end) and stops this side's recording if it no longer holds.
pub(super) fn enforce(inner: &Shared) {
    let Some(rec) = consultation::with_recording(inner, |r| r.own.clone()).flatten() else {
        return;
    };
    let Some((_, decision)) = decide(inner) else {
        return;
    };
    match decision {
        RecordingDecision::Allowed { until } => {
            if let Some(view) = consultation::call_view(inner) {
                rec.borrow_mut().covered = consenting_peers(&view);
            }
            arm_expiry(&rec, until);
            tell_newcomers(inner, &rec);
        }
        // The last patient or guest left: nobody's consent is at stake.
        RecordingDecision::NoParticipants => tell_newcomers(inner, &rec),
        RecordingDecision::Denied {
            participant,
            reason,
            ..
        } => {
            let known = rec.borrow().covered.contains(&participant);
            let why = if known {
                StopReason::ConsentWithdrawn
            } else {
                StopReason::ParticipantJoined
            };
            stop(&rec, why, Some(participant), Some(reason));
        }
    }
}

/// A recording signal arrived from `peer`: believed from clinicians only (only they may
/// record); anything malformed or from anyone else is dropped.
pub(super) fn on_signal(inner: &Shared, peer: ParticipantId, data: &[u8]) {
    let Ok(signal) = RecordingSignal::decode(data) else {
        return;
    };
    let Some(view) = consultation::call_view(inner) else {
        return;
    };
    let clinician = view
        .peers
        .iter()
        .any(|p| p.id == peer && p.role == Role::Clinician);
    if !clinician {
        return;
    }
    let changed = consultation::with_recording(inner, |r| {
        let had = r.remote.contains(&peer);
        match signal {
            RecordingSignal::Started => {
                if !had {
                    r.remote.push(peer);
                }
                !had
            }
            RecordingSignal::Stopped(_) => {
                r.remote.retain(|p| *p != peer);
                had
            }
        }
    })
    .unwrap_or(false);
    if changed {
        let detail = match signal {
            RecordingSignal::Started => state_js(true, Some(peer), None),
            RecordingSignal::Stopped(reason) => state_js(false, Some(peer), Some(reason)),
        };
        consultation::dispatch_event(inner, "recording", detail);
    }
}

/// `peer` left: a recording they announced is over as far as this side can tell.
pub(super) fn peer_left(inner: &Shared, peer: ParticipantId) {
    let had = consultation::with_recording(inner, |r| {
        let had = r.remote.contains(&peer);
        r.remote.retain(|p| *p != peer);
        had
    })
    .unwrap_or(false);
    if had {
        consultation::dispatch_event(
            inner,
            "recording",
            state_js(false, Some(peer), Some(StopReason::HungUp)),
        );
    }
}

/// The consultation ends: stop this side's recording (its last chunk still arrives and
/// `stop()` resolves) and forget the others'.
pub(super) fn hung_up(inner: &Shared) {
    let own = consultation::with_recording(inner, |r| {
        r.remote.clear();
        r.own.clone()
    })
    .flatten();
    if let Some(rec) = own {
        stop(&rec, StopReason::HungUp, None, None);
    }
}
