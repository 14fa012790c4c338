//! Consent in JavaScript: `ConsentManager` (the patient's signed ledger, persisted in
//! IndexedDB), `ConsentReplica` (the clinician's countersigning copy), `verifyLedger` (offline
//! verification, also in Node.js), and the sync of both over a `Consultation`'s end-to-end
//! encrypted app-data channel.
//!
//! Enforcement points elsewhere in the SDK call [`allows_for_consultation`] (or
//! [`allows`]) before capturing or sharing anything. Each consultation holds the ledgers
//! attached to it ([`Attached`]) and each ledger its consultations ([`Link`]): no registry
//! joins them by id.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

use super::JsError;
use super::consultation::{self, Consultation};
use super::idb::{self, Idb, Write};
use super::js::{self, get, object, parse_hex, present};
use super::timer::now_ms;
use crate::Error as CoreError;
use crate::consent::{
    self as core, Checkpoint, Collection, ConsentKey, DataCategory, Decision, Grant, LedgerError,
    LedgerReplica, LedgerStore, LinkError, LinkOutput, Notice, PatientEvent, PatientSync, Period,
    Purpose, Reason, ReceiptContext, Recipient, ReplicaEvent, ReplicaSync, Request, StoreError,
    SyncMessage,
};
use crate::signaling::relay_wire::ParticipantId;
use crate::web::Error;

// ----- small helpers ---------------------------------------------------------------------

/// The stable name of a decision reason (the same string serde gives `ConsentDecision`).
pub(crate) fn reason_name(reason: Reason) -> &'static str {
    match reason {
        Reason::Granted => "Granted",
        Reason::NoGrant => "NoGrant",
        Reason::OtherRecipient => "OtherRecipient",
        Reason::PurposeNotCovered => "PurposeNotCovered",
        Reason::Withdrawn => "Withdrawn",
        Reason::Expired => "Expired",
        Reason::NotYetValid => "NotYetValid",
        Reason::NoticeChanged => "NoticeChanged",
        Reason::ClockBehindLedger => "ClockBehindLedger",
    }
}

/// Reads a value of a closed code list (categories, purposes, recipient kinds) from its code
/// string, without serde: hand-written readers keep the wasm small.
fn code<T: Copy>(
    all: &[T],
    name: fn(T) -> &'static str,
    v: &JsValue,
    what: &'static str,
) -> Result<T, Error> {
    let s = v.as_string().ok_or(Error::InvalidArgument(what))?;
    all.iter()
        .copied()
        .find(|c| name(*c) == s)
        .ok_or(Error::InvalidArgument(what))
}

fn category(v: &JsValue) -> Result<DataCategory, Error> {
    code(
        DataCategory::ALL,
        DataCategory::code,
        v,
        "category: expected a ConsentCategory",
    )
}

fn purpose(v: &JsValue) -> Result<Purpose, Error> {
    code(
        Purpose::ALL,
        Purpose::code,
        v,
        "purpose: expected a ConsentPurpose",
    )
}

/// `obj[key]` as a list of codes; an absent key is an empty list.
fn codes<T>(
    obj: &JsValue,
    key: &'static str,
    read: fn(&JsValue) -> Result<T, Error>,
) -> Result<Option<Vec<T>>, Error> {
    let v = get(obj, key);
    if !present(&v) {
        return Ok(None);
    }
    if !js_sys::Array::is_array(&v) {
        return Err(Error::InvalidArgument(key));
    }
    js_sys::Array::from(&v)
        .iter()
        .map(|item| read(&item))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// An optional integer field (milliseconds, sequence numbers): a safe non-negative integer.
fn opt_u64(obj: &JsValue, key: &'static str) -> Result<Option<u64>, Error> {
    let v = get(obj, key);
    if !present(&v) {
        return Ok(None);
    }
    v.as_f64()
        .and_then(|n| seq_arg(n).ok())
        .map(Some)
        .ok_or(Error::InvalidArgument(key))
}

fn recipient(v: &JsValue) -> Result<Recipient, Error> {
    const WHAT: &str = "recipient: expected { kind: \"Practitioner\" | \"Organization\", id }";
    if !v.is_object() {
        return Err(Error::InvalidArgument(WHAT));
    }
    Ok(Recipient {
        kind: code(
            core::RecipientKind::ALL,
            core::RecipientKind::code,
            &get(v, "kind"),
            WHAT,
        )?,
        id: get(v, "id")
            .as_string()
            .ok_or(Error::InvalidArgument(WHAT))?
            .into(),
    })
}

fn opt_recipient(obj: &JsValue, key: &'static str) -> Result<Option<Recipient>, Error> {
    let v = get(obj, key);
    if present(&v) {
        recipient(&v).map(Some)
    } else {
        Ok(None)
    }
}

fn collection(v: &JsValue) -> Result<Collection, Error> {
    match js::string(v, "method")?.as_str() {
        "patient-action" => Ok(Collection::PatientAction),
        "verbal-attested" => Ok(Collection::VerbalAttested {
            clinician: js::string(v, "clinician")?.into(),
        }),
        _ => Err(Error::InvalidArgument(
            "collection.method: expected patient-action or verbal-attested",
        )),
    }
}

fn receipt_context(v: &JsValue) -> Result<ReceiptContext, Error> {
    let controller = get(v, "controller");
    Ok(ReceiptContext {
        controller: core::Controller {
            name: js::string(&controller, "name")?,
            contact: js::string(&controller, "contact")?,
        },
        jurisdiction: js::string(v, "jurisdiction")?,
        withdrawal_method: js::string(v, "withdrawalMethod")?,
    })
}

fn bytes_arg(value: &JsValue, what: &'static str) -> Result<Vec<u8>, Error> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or(Error::InvalidArgument(what))
}

/// A 32-byte key argument (a `Uint8Array`), copied into zeroized memory.
fn key_arg(value: &JsValue, what: &'static str) -> Result<zeroize::Zeroizing<[u8; 32]>, Error> {
    let array = value
        .dyn_ref::<Uint8Array>()
        .filter(|a| a.length() == 32)
        .ok_or(Error::InvalidArgument(what))?;
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    array.copy_to(out.as_mut());
    Ok(out)
}

/// The optional `link` option: a version-2 invite link, parsed (it commits to the
/// clinician's key; the clinician's link also carries its signing seed).
fn invite_opt(options: &JsValue) -> Result<Option<crate::signaling::Invite>, Error> {
    let Some(link) = js::opt_string(options, "link")? else {
        return Ok(None);
    };
    let link = zeroize::Zeroizing::new(link);
    Ok(Some(crate::signaling::Invite::parse(&link)?))
}

/// The clinician's public key from the `clinicianPublicKey` option (32 bytes), else from the
/// `link` option's commitment.
fn clinician_public_key_opt(options: &JsValue) -> Result<Option<[u8; 32]>, Error> {
    let v = get(options, "clinicianPublicKey");
    if present(&v) {
        return Ok(Some(*key_arg(
            &v,
            "clinicianPublicKey: expected a Uint8Array of 32 bytes",
        )?));
    }
    Ok(invite_opt(options)?.map(|i| i.clinician))
}

/// The clinician's signing seed from the `clinicianSigningKey` option, else from the
/// clinician's `link`; `None` when neither is given.
fn clinician_seed_opt(options: &JsValue) -> Result<Option<zeroize::Zeroizing<[u8; 32]>>, Error> {
    let given = get(options, "clinicianSigningKey");
    if present(&given) {
        return key_arg(
            &given,
            "clinicianSigningKey: expected a Uint8Array of 32 bytes",
        )
        .map(Some);
    }
    let Some(invite) = invite_opt(options)? else {
        return Ok(None);
    };
    match (&invite.signing, invite.role()) {
        (Some(key), crate::signaling::relay_wire::Role::Clinician) => Ok(Some(key.seed())),
        _ => Err(Error::InvalidArgument(
            "link: a replica needs the clinician's link (it carries the signing key)",
        )),
    }
}

fn store_failed() -> Error {
    Error::Core(CoreError::Consent(LedgerError::Store(StoreError(
        "IndexedDB write failed",
    ))))
}

fn new_events() -> Result<EventTarget, Error> {
    EventTarget::new().map_err(|_| Error::Unsupported("EventTarget is missing"))
}

fn dispatch(events: &EventTarget, kind: &str, detail: &JsValue) {
    let init = CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(kind, &init) {
        let _ = events.dispatch_event(&event);
    }
}

fn error_detail(e: &Error, peer: Option<&str>) -> JsValue {
    let detail = object(&[
        ("code", e.code().as_str().into()),
        ("message", e.to_string().into()),
    ]);
    if let Error::Core(CoreError::Consent(ledger)) = e {
        js::set(&detail, "consentCode", ledger.code());
    }
    if let Some(p) = peer {
        js::set(&detail, "participantId", p);
    }
    detail.into()
}

fn notice_input(value: &JsValue) -> Result<(Notice, Vec<u8>), Error> {
    if !value.is_object() {
        return Err(Error::InvalidArgument("notice: expected an object"));
    }
    let text = get(value, "text");
    let text = match text.as_string() {
        Some(s) => s.into_bytes(),
        None => bytes_arg(&text, "notice.text: expected a string or a Uint8Array")?,
    };
    let notice = Notice::for_text(
        &js::string(value, "uri")?,
        &js::string(value, "version")?,
        &js::string(value, "language")?,
        &text,
    );
    Ok((notice, text))
}

// ----- defaults from the options ---------------------------------------------------------

/// What the `open` options fill in when a grant or request leaves it out.
struct Defaults {
    patient: String,
    recipient: Option<Recipient>,
    purpose: Purpose,
    notice: Option<(Notice, Vec<u8>)>,
}

impl Defaults {
    fn from_options(options: &JsValue, patient: String) -> Result<Self, Error> {
        let notice = get(options, "notice");
        Ok(Self {
            patient,
            recipient: opt_recipient(options, "recipient")?,
            purpose: {
                let p = get(options, "purpose");
                if present(&p) {
                    purpose(&p)?
                } else {
                    Purpose::Treatment
                }
            },
            notice: if present(&notice) {
                Some(notice_input(&notice)?)
            } else {
                None
            },
        })
    }

    fn request(&self, value: JsValue, recipient: Option<&Recipient>) -> Result<Request, Error> {
        if !value.is_object() {
            return Err(Error::InvalidArgument("request: expected a ConsentRequest"));
        }
        let p = get(&value, "purpose");
        let input_recipient = opt_recipient(&value, "recipient")?;
        let input_purpose = if present(&p) {
            Some(purpose(&p)?)
        } else {
            None
        };
        Ok(Request {
            category: category(&get(&value, "category"))?,
            recipient: input_recipient
                .or_else(|| recipient.cloned())
                .or_else(|| self.recipient.clone())
                .ok_or(Error::InvalidArgument(
                    "request.recipient (or the recipient option)",
                ))?,
            purpose: input_purpose.unwrap_or(self.purpose),
            now: opt_u64(&value, "now")?.unwrap_or_else(now_ms),
            notice_version: js::opt_string(&value, "noticeVersion")?
                .or_else(|| self.notice.as_ref().map(|(n, _)| n.version.clone()))
                .ok_or(Error::InvalidArgument(
                    "request.noticeVersion (or the notice option)",
                ))?,
        })
    }

    /// The decision for `category` to `recipient` now, with every other field defaulted;
    /// denies (`NoGrant`) when there is no recipient or notice to check against.
    fn decide(
        &self,
        state: &core::ConsentState,
        category: DataCategory,
        recipient: Option<&Recipient>,
        now: u64,
    ) -> Decision {
        let (Some(recipient), Some((notice, _))) =
            (recipient.or(self.recipient.as_ref()), &self.notice)
        else {
            return Decision {
                allowed: false,
                reason: Reason::NoGrant,
                grant: None,
            };
        };
        core::check(
            state,
            &Request {
                category,
                recipient: recipient.clone(),
                purpose: self.purpose,
                now,
                notice_version: notice.version.clone(),
            },
        )
    }
}

// ----- the write-through store -----------------------------------------------------------

/// The [`LedgerStore`] under a JS `ConsentManager`: everything was loaded before the manager
/// opened; each change is queued here and persisted (IndexedDB) by the async method that
/// made it, which rolls the change back if the write fails.
struct WebStore {
    loaded: Vec<Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
    pending: Rc<RefCell<Vec<Write>>>,
}

impl LedgerStore for WebStore {
    fn load(&self, _: &[u8; 16]) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.loaded.clone())
    }

    fn append(&mut self, _: &[u8; 16], entry: &[u8]) -> Result<(), StoreError> {
        let seq = entry
            .get(1..9)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or(StoreError("entry too short to store"))?;
        self.pending
            .borrow_mut()
            .push(Write::Entry(seq, entry.to_vec()));
        Ok(())
    }

    fn load_checkpoint(&self, _: &[u8; 16]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.checkpoint.clone())
    }

    fn save_checkpoint(&mut self, _: &[u8; 16], record: &[u8]) -> Result<(), StoreError> {
        self.pending
            .borrow_mut()
            .push(Write::Checkpoint(record.to_vec()));
        Ok(())
    }
}

// ----- consultation links ----------------------------------------------------------------

#[wasm_bindgen(module = "/src/web/snippets/consent.js")]
extern "C" {
    /// Listens for a link's consultation events; returns the function removing the
    /// listeners. Throws when `consultation` takes no listeners.
    #[wasm_bindgen(js_name = linkListen, catch)]
    fn link_listen(
        consultation: &JsValue,
        peer: &str,
        on_event: &Closure<dyn Fn(u32, bool, JsValue)>,
    ) -> Result<Function, JsValue>;
    /// `consultation.sendData(peer, bytes)`, failures ignored.
    #[wasm_bindgen(js_name = linkSend)]
    fn link_send(consultation: &JsValue, peer: &str, bytes: Vec<u8>);
}

/// Event listeners on a consultation, removed when dropped (never leaked with `forget`).
struct Listeners {
    detach: Function,
    _handler: Closure<dyn Fn(u32, bool, JsValue)>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        let _ = self.detach.call0(&JsValue::UNDEFINED);
    }
}

/// The IO half of one consultation a manager or replica syncs over, with one remote
/// participant: where its messages go. What the link decides lives in the core's
/// [`PatientSync`] / [`ReplicaSync`], under the same id.
///
/// This driver arms no timers: it never calls `handle_timeout`, so a link resyncs when the
/// consultation says the peer may be reachable again (a participant connected or was
/// admitted, the SAS or the state changed), as it always has.
struct Link {
    id: u32,
    via: Via,
    /// The other side's participant id.
    peer: String,
    to: ParticipantId,
    /// (Patient side) who the peer is, for enforcement.
    recipient: Option<Recipient>,
    _listeners: Option<Listeners>,
}

/// How a link reaches its consultation.
#[derive(Clone)]
enum Via {
    /// One of this module's consultations (not kept alive by the link): its event target
    /// and its session, directly; the ledger is attached to it for its enforcement points.
    Call(Weak<RefCell<consultation::Inner>>),
    /// An object with a consultation's surface (a native bridge, a test double): its
    /// `addEventListener` and `sendData`. It has no enforcement points here.
    Object(JsValue),
}

/// A message to send once no borrow is held (sending may run JavaScript).
struct Outgoing {
    via: Via,
    to: ParticipantId,
    peer: String,
    bytes: Vec<u8>,
}

/// Sends each message on its consultation, failures ignored (the link resyncs on its own).
fn flush(out: Vec<Outgoing>) {
    for o in out {
        match o.via {
            Via::Call(call) => {
                if let Some(call) = call.upgrade() {
                    let _ = consultation::send_app_data(&call, o.to, &o.bytes);
                }
            }
            Via::Object(object) => link_send(&object, &o.peer, o.bytes),
        }
    }
}

/// Where the message a core sync side asks to send on `link` goes (`None`: a link already
/// detached here).
fn outgoing(links: &[Link], link: u32, bytes: Vec<u8>) -> Option<Outgoing> {
    let l = links.iter().find(|l| l.id == link)?;
    Some(Outgoing {
        via: l.via.clone(),
        to: l.to,
        peer: l.peer.clone(),
        bytes,
    })
}

/// The live consultations of this module that `links` sync over, each once.
fn linked_calls(links: &[Link]) -> Vec<consultation::Shared> {
    let mut calls: Vec<consultation::Shared> = Vec::new();
    let live = links.iter().filter_map(|l| match &l.via {
        Via::Call(call) => call.upgrade(),
        Via::Object(_) => None,
    });
    for call in live {
        if !calls.iter().any(|c| Rc::ptr_eq(c, &call)) {
            calls.push(call);
        }
    }
    calls
}

/// Has each of `calls` take its consent decisions again (a grant, withdrawal, expiry or
/// notice changed, or a ledger was attached or detached). Call with no borrow held.
fn enforce(calls: Vec<consultation::Shared>) {
    for call in calls {
        consultation::consent_changed(&call);
    }
}

/// The participant id of `link`'s peer, for event details.
fn peer_of(links: &[Link], link: u32) -> Option<&str> {
    links.iter().find(|l| l.id == link).map(|l| l.peer.as_str())
}

/// A link error as the SDK error an `error` event carries.
fn link_error(e: LinkError, patient_side: bool) -> Error {
    match e {
        LinkError::Ledger(e) => Error::Core(CoreError::Consent(e)),
        LinkError::Misdirected if patient_side => {
            Error::InvalidArgument("a patient-side message arrived from the clinician")
        }
        LinkError::Misdirected => {
            Error::InvalidArgument("a clinician-side message arrived from the patient")
        }
    }
}

/// What a consultation event means to a link.
enum LinkEvent {
    Data(Vec<u8>),
    Kick,
    PeerLeft,
}

/// What event `kind` (its index in the snippet's list: data, participantleft,
/// participantadmitted, participantconnected, sas, statechange) means to a link; `ours`
/// when it concerns the link's peer. Every other state change may make the peer reachable
/// again, so it retries the sync hello.
fn link_event(kind: u32, ours: bool, data: JsValue) -> Option<LinkEvent> {
    match kind {
        0 if ours => {
            let data = data.dyn_into::<Uint8Array>().ok()?;
            // Only consent messages; other app data (device readings) is someone else's.
            let first = (data.length() > 0).then(|| data.get_index(0))?;
            SyncMessage::is_consent(&[first]).then(|| LinkEvent::Data(data.to_vec()))
        }
        1 if ours => Some(LinkEvent::PeerLeft),
        5 => Some(LinkEvent::Kick),
        2..=4 if ours => Some(LinkEvent::Kick),
        _ => None,
    }
}

/// Registers `handler` for the consultation events a link needs (boxed: one copy for both
/// sides).
fn listen(
    events: &JsValue,
    handler: Box<dyn Fn(LinkEvent)>,
    peer: &str,
) -> Result<Listeners, Error> {
    let closure =
        Closure::<dyn Fn(u32, bool, JsValue)>::new(move |kind: u32, ours: bool, data: JsValue| {
            if let Some(ev) = link_event(kind, ours, data) {
                handler(ev);
            }
        });
    let detach = link_listen(events, peer, &closure)
        .map_err(|_| Error::InvalidArgument("consultation: expected a Consultation"))?;
    Ok(Listeners {
        detach,
        _handler: closure,
    })
}

/// A participant id argument: as the consultation's events spell it, and parsed.
fn peer_arg(participant_id: &str) -> Result<(String, ParticipantId), Error> {
    js::parse_hex8(participant_id)
        .map(|b| (js::hex(&b), ParticipantId(b)))
        .ok_or(Error::InvalidArgument(
            "participantId: expected 16 hex digits",
        ))
}

// ----- enforcement hook for the rest of the SDK ------------------------------------------

/// The consent ledgers attached to one consultation, each with the id of its link to it:
/// what that consultation's enforcement points ask. Held by the consultation; the ledgers
/// are not kept alive by it.
#[derive(Clone, Default)]
pub(super) struct Attached {
    /// This side's `ConsentManager`s (a patient's or guest's page).
    gates: Vec<(u32, Weak<RefCell<Patient>>)>,
    /// `ConsentReplica`s, each bound to the participant its link names (a clinician's page).
    replicas: Vec<(u32, Weak<RefCell<Clinician>>)>,
}

/// Adds `side`'s link `link` (dropping entries of freed sides).
fn attach<T>(list: &mut Vec<(u32, Weak<RefCell<T>>)>, link: u32, side: &Rc<RefCell<T>>) {
    list.retain(|(_, w)| w.strong_count() > 0);
    list.push((link, Rc::downgrade(side)));
}

/// Removes every link of `side`.
fn detach<T>(list: &mut Vec<(u32, Weak<RefCell<T>>)>, side: &Rc<RefCell<T>>) {
    let me = Rc::downgrade(side);
    list.retain(|(_, w)| w.strong_count() > 0 && !w.ptr_eq(&me));
}

/// How a link reaches `consultation`, and where it listens: a consultation of this module
/// (`call`, the TypeScript layer has checked its class) or an object with its surface.
fn via(call: Option<&Consultation>, object: JsValue) -> (Via, JsValue) {
    match call {
        Some(c) => (
            Via::Call(Rc::downgrade(c.shared())),
            c.event_target().into(),
        ),
        None => (Via::Object(object.clone()), object),
    }
}

/// The consent decision for capturing or sharing `category` in the consultation that holds
/// `attached`, at `now` (ms since the epoch).
///
/// `None` when no `ConsentManager` is attached to that consultation (the caller decides
/// whether that means "not enforced here" or "deny"). Otherwise every attached manager must
/// allow, each for the recipient its link names (the attach option, else its `recipient`
/// option), for its default purpose and presented notice version; a link without a
/// recipient or a manager without a notice denies (`NoGrant`). Meant for
/// `Consultation.startMedia` (video, audio), screen sharing, recording and the
/// device-reading sharing path; map a denial to [`Error::ConsentDenied`].
pub(super) fn allows_for_consultation(
    attached: &Attached,
    category: DataCategory,
    now: u64,
) -> Option<Decision> {
    let gates: Vec<(u32, Rc<RefCell<Patient>>)> = attached
        .gates
        .iter()
        .filter_map(|(link, w)| Some((*link, w.upgrade()?)))
        .collect();
    let mut last = None;
    for (link, patient) in gates {
        let p = patient.borrow();
        let recipient = p
            .links
            .iter()
            .find(|l| l.id == link)
            .and_then(|l| l.recipient.as_ref());
        let d = p
            .defaults
            .decide(p.sync.manager().ledger().state(), category, recipient, now);
        if !d.allowed {
            return Some(d);
        }
        last = Some(d);
    }
    last
}

#[wasm_bindgen]
impl Consultation {
    /// The bridge from the devices module (`teleconsult/devices`, its own wasm instance,
    /// which cannot reach the ledgers attached here): why the consent managers attached to
    /// this consultation refuse sharing the category whose encoding byte is `category` now (a
    /// `ConsentReason` name), or `undefined` when they allow, none is attached, or the byte
    /// names no category. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = consentRefusal, skip_typescript)]
    pub fn consent_refusal(&self, category: u8) -> Option<String> {
        let category = DataCategory::from_byte(category)?;
        let decided = consultation::with_consent(self.shared(), |a| {
            allows_for_consultation(a, category, now_ms())
        });
        // A busy driver (never expected) shares nothing it cannot decide for.
        let Some(decided) = decided else {
            return Some(Reason::NoGrant.name().to_owned());
        };
        let d = decided?;
        (!d.allowed).then(|| d.reason.name().to_owned())
    }
}

/// The decision of one manager for `category` to `recipient` (default: its `recipient`
/// option) at `now`, with its default purpose and presented notice version.
pub(crate) fn allows(
    manager: &JsConsentManager,
    category: DataCategory,
    recipient: Option<&Recipient>,
    now: u64,
) -> Decision {
    let p = manager.inner.borrow();
    p.defaults
        .decide(p.sync.manager().ledger().state(), category, recipient, now)
}

/// Whether the consultation that holds `attached` may be recorded at `now`, given the other
/// participants `peers` (16 hex digits each) whose consent it needs: each must be bound to a
/// `ConsentReplica` attached to this consultation
/// (`replica.attachConsultation(consultation, peerId)`) whose ledger grants `recording` to
/// the replica's `recipient` option, for its `purpose`, under its `notice` version. A peer
/// with no replica, or with a replica lacking those options, is not covered. Several
/// replicas bound to one peer must all allow. The decision itself is
/// [`core::check_recording`].
pub(super) fn recording_decision(
    attached: &Attached,
    peers: &[String],
    now: u64,
) -> core::RecordingDecision<String> {
    replicas_decision(attached, peers, DataCategory::Recording, now)
}

/// [`replicas_decision`] as a plain [`Decision`]: allowed only when every one of `peers`
/// grants `category` (no peers: `NoGrant`).
pub(super) fn everyone_decision(
    attached: &Attached,
    peers: &[String],
    category: DataCategory,
    now: u64,
) -> Decision {
    let deny = |reason| Decision {
        allowed: false,
        reason,
        grant: None,
    };
    match replicas_decision(attached, peers, category, now) {
        core::RecordingDecision::Allowed { .. } => Decision {
            allowed: true,
            reason: core::Reason::Granted,
            grant: None,
        },
        core::RecordingDecision::NoParticipants => deny(core::Reason::NoGrant),
        core::RecordingDecision::Denied { reason, .. } => deny(reason),
    }
}

/// [`recording_decision`] for any category every one of `peers` must grant (chat history
/// for a late joiner: `chat-history`), decided by [`core::check_everyone`].
pub(super) fn replicas_decision(
    attached: &Attached,
    peers: &[String],
    category: DataCategory,
    now: u64,
) -> core::RecordingDecision<String> {
    // The link names the patient (or guest) whose ledger the replica holds: that is how a
    // participant of the call is bound to a consent record.
    let bound: Vec<(String, Rc<RefCell<Clinician>>)> = attached
        .replicas
        .iter()
        .filter_map(|(link, w)| {
            let c = w.upgrade()?;
            let peer = c
                .try_borrow()
                .ok()?
                .links
                .iter()
                .find(|l| l.id == *link)?
                .peer
                .clone();
            Some((peer, c))
        })
        .collect();
    // A replica busy elsewhere (never expected: no borrow spans app code) counts as absent.
    let held: Vec<(&String, std::cell::Ref<'_, Clinician>)> = bound
        .iter()
        .filter_map(|(peer, c)| Some((peer, c.try_borrow().ok()?)))
        .collect();
    let empty = core::ConsentState::default();
    let mut parties = Vec::new();
    for peer in peers {
        let mine: Vec<_> = held.iter().filter(|(p, _)| *p == peer).collect();
        if mine.is_empty() {
            parties.push(core::Party {
                id: peer.clone(),
                consent: None,
            });
        }
        for (_, c) in mine {
            let d = &c.defaults;
            let consent = match (&d.recipient, &d.notice) {
                (Some(recipient), Some((notice, _))) => Some(core::PartyConsent {
                    state: c.sync.enforced_state().unwrap_or(&empty),
                    recipient,
                    purpose: d.purpose,
                    notice_version: &notice.version,
                }),
                _ => None,
            };
            parties.push(core::Party {
                id: peer.clone(),
                consent,
            });
        }
    }
    core::check_everyone(&parties, category, now)
}

// ----- ConsentManager --------------------------------------------------------------------

enum Storage {
    Memory,
    IndexedDb(Idb),
}

struct Patient {
    /// The manager and the sync links' decisions.
    sync: PatientSync<WebStore>,
    pending: Rc<RefCell<Vec<Write>>>,
    storage: Rc<Storage>,
    defaults: Defaults,
    events: EventTarget,
    /// The newest mutation in flight: each mutation waits for the one before, so writes
    /// complete in ledger order and a failed one is always the newest to roll back.
    tail: Option<Promise>,
    links: Vec<Link>,
    next_link: u32,
    closed: bool,
}

/// Persists queued writes (no-op in memory).
async fn persist(storage: &Storage, writes: Vec<Write>) -> Result<(), Error> {
    match storage {
        Storage::Memory => Ok(()),
        Storage::IndexedDb(db) => db.write(&writes).await,
    }
}

/// One ledger change, run by `JsConsentManager::mutate` when its turn comes.
type Change = dyn FnOnce(&mut core::ConsentManager<WebStore>, u64) -> Result<Vec<u8>, LedgerError>;

/// Holds the manager's mutation turn; the next mutation starts when it drops.
struct Turn(Option<Function>);

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

async fn turn(inner: &Rc<RefCell<Patient>>) -> Turn {
    let mut release = None;
    let mine = Promise::new(&mut |resolve, _| release = Some(resolve));
    let before = inner.borrow_mut().tail.replace(mine);
    if let Some(before) = before {
        let _ = JsFuture::from(before).await;
    }
    Turn(release)
}

/// The patient's consent: grants, withdrawals, checks and exports, persisted on the device
/// and synced to the clinician. Open it with `ConsentManager.open(options)`.
#[wasm_bindgen(js_name = ConsentManager)]
pub struct JsConsentManager {
    inner: Rc<RefCell<Patient>>,
}

#[wasm_bindgen(js_class = ConsentManager)]
impl JsConsentManager {
    /// Opens the patient's ledger: loads every entry and the device key from IndexedDB (or
    /// starts empty in memory), creating a ledger and a device key on first use, and
    /// verifies everything it loaded.
    ///
    /// Resolves to the `ConsentManager`. Rejects with `InvalidArgument` (bad options),
    /// `Unsupported` (no IndexedDB or WebCrypto for `storage: "indexeddb"`), or `Consent`
    /// (the stored ledger fails verification; `consentCode` says how, e.g. `BadSignature`
    /// for an edited entry, `Truncated` for entries lost after a checkpoint, `Store` when
    /// IndexedDB fails).
    #[wasm_bindgen(unchecked_return_type = "Promise<ConsentManager>")]
    pub fn open(#[wasm_bindgen(unchecked_param_type = "any")] options: JsValue) -> Promise {
        js::promise(async move {
            if !options.is_object() {
                return Err(Error::InvalidArgument("options: expected an object").into());
            }
            let patient = js::string(&options, "patient")?;
            if patient.is_empty() {
                return Err(Error::InvalidArgument("patient: expected a non-empty id").into());
            }
            let defaults = Defaults::from_options(&options, patient.clone())?;
            let clinician = clinician_public_key_opt(&options)?;
            let ledger_id = match js::opt_string(&options, "ledgerId")? {
                Some(h) => Some(
                    parse_hex::<16>(&h)
                        .ok_or(Error::InvalidArgument("ledgerId: expected 32 hex digits"))?,
                ),
                None => None,
            };
            let storage = match js::opt_string(&options, "storage")?.as_deref() {
                Some("indexeddb") => true,
                Some("memory") => false,
                None => present(&get(&js_sys::global(), "indexedDB")),
                Some(_) => {
                    return Err(Error::InvalidArgument(
                        "storage: expected \"indexeddb\" or \"memory\"",
                    )
                    .into());
                }
            };
            let (storage, loaded) = if storage {
                let name = js::opt_string(&options, "databaseName")?
                    .unwrap_or_else(|| "teleconsult-consent".to_owned());
                let (db, loaded) = idb::open(&name, ledger_id, &patient).await?;
                (Storage::IndexedDb(db), loaded)
            } else {
                let mut seed = zeroize::Zeroizing::new([0u8; 32]);
                js::random_bytes(seed.as_mut())?;
                let ledger_id = match ledger_id {
                    Some(id) => id,
                    None => {
                        let mut id = [0u8; 16];
                        js::random_bytes(&mut id)?;
                        id
                    }
                };
                (
                    Storage::Memory,
                    idb::Loaded {
                        ledger_id,
                        seed,
                        entries: Vec::new(),
                        checkpoint: None,
                    },
                )
            };
            let pending = Rc::new(RefCell::new(Vec::new()));
            let store = WebStore {
                loaded: loaded.entries,
                checkpoint: loaded.checkpoint,
                pending: pending.clone(),
            };
            let mut manager =
                match core::ConsentManager::open(&loaded.seed, loaded.ledger_id, store) {
                    Ok(m) => m,
                    Err(e) => {
                        if let Storage::IndexedDb(db) = &storage {
                            db.close();
                        }
                        return Err(CoreError::Consent(e).into());
                    }
                };
            pending.borrow_mut().clear();
            if let Some(key) = clinician {
                manager.expect_clinician(key);
            }
            Ok(JsConsentManager {
                inner: Rc::new(RefCell::new(Patient {
                    sync: PatientSync::new(manager),
                    pending,
                    storage: Rc::new(storage),
                    defaults,
                    events: new_events()?,
                    tail: None,
                    links: Vec::new(),
                    next_link: 0,
                    closed: false,
                })),
            })
        })
    }

    /// The ledger id (32 hex digits): pass it as `ledgerId` to reopen this ledger.
    #[wasm_bindgen(getter, js_name = ledgerId)]
    pub fn ledger_id(&self) -> String {
        js::hex(&self.inner.borrow().sync.manager().ledger().id())
    }

    /// The device's Ed25519 public key (64 hex digits): give it to verifiers and the clinician.
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> String {
        js::hex(&self.inner.borrow().sync.manager().public_key())
    }

    /// Number of entries in the ledger.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        self.inner.borrow().sync.manager().ledger().size() as f64
    }

    /// Hash of the newest entry (64 hex digits; the genesis hash when empty).
    #[wasm_bindgen(getter)]
    pub fn head(&self) -> String {
        js::hex(&self.inner.borrow().sync.manager().ledger().head())
    }

    /// Where the ledger is kept: `"indexeddb"` or `"memory"`.
    #[wasm_bindgen(getter, unchecked_return_type = "\"indexeddb\" | \"memory\"")]
    pub fn storage(&self) -> String {
        match *self.inner.borrow().storage {
            Storage::Memory => "memory",
            Storage::IndexedDb(_) => "indexeddb",
        }
        .to_owned()
    }

    /// Records a grant, signed by the device key, persisted, then sent to every attached
    /// clinician. Resolves to the new `ConsentGrantRecord` (its `seq` names the grant).
    /// Rejects with `InvalidArgument` (a missing or malformed field), or `Consent`
    /// (`InvalidEvent` for empty sets or a bad period, `GrantExpired`, `NoticeHashMismatch`
    /// when the same notice version was recorded with another text, `Store` when the write
    /// failed — the grant is then not recorded).
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub fn grant(&self, #[wasm_bindgen(unchecked_param_type = "any")] grant: JsValue) -> Promise {
        let this = JsConsentManager {
            inner: Rc::clone(&self.inner),
        };
        js::promise(async move {
            let (g, text) = this.grant_input(&grant)?;
            let seq = this.mutate(move |m, now| m.grant(g, &text, now)).await?;
            let p = this.inner.borrow();
            Ok(p.sync
                .manager()
                .ledger()
                .state()
                .grant(seq)
                .map(js::to_value)
                .unwrap_or(JsValue::UNDEFINED))
        })
    }

    /// Withdraws grant `grantSeq`: effective at once for every check on this device, and on
    /// the clinician's side as soon as the entry arrives. Resolves to the withdrawal's `seq`.
    /// Rejects with `Consent` (`UnknownGrant`, `GrantNotActive`, `Store`).
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn withdraw(&self, grant_seq: f64) -> Promise {
        let this = JsConsentManager {
            inner: Rc::clone(&self.inner),
        };
        js::promise(async move {
            let grant = seq_arg(grant_seq)?;
            let seq = this.mutate(move |m, now| m.withdraw(grant, now)).await?;
            Ok(seq as f64)
        })
    }

    /// Records that grant `grantSeq` reached the end of its period (the checks honour the
    /// period without it; this puts the expiry on the record). Resolves to the entry's `seq`.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn expire(&self, grant_seq: f64) -> Promise {
        let this = JsConsentManager {
            inner: Rc::clone(&self.inner),
        };
        js::promise(async move {
            let grant = seq_arg(grant_seq)?;
            let seq = this
                .mutate(move |m, now| m.record(core::Event::Expire { grant }, now))
                .await?;
            Ok(seq as f64)
        })
    }

    /// Records that a new version of a notice was published: grants under older versions of
    /// the same URI stop allowing anything, and `notice` becomes the default for grants and
    /// checks. Resolves to the entry's `seq`.
    #[wasm_bindgen(js_name = updateNotice, unchecked_return_type = "Promise<number>")]
    pub fn update_notice(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] notice: JsValue,
    ) -> Promise {
        let this = JsConsentManager {
            inner: Rc::clone(&self.inner),
        };
        js::promise(async move {
            let (n, text) = notice_input(&notice)?;
            let record = n.clone();
            let seq = this
                .mutate(move |m, now| m.record(core::Event::NoticeUpdated(record), now))
                .await?;
            this.inner.borrow_mut().defaults.notice = Some((n, text));
            Ok(seq as f64)
        })
    }

    /// Records that this side's user compared and confirmed the SAS with `participantId` in
    /// `consultation` (after `consultation.confirmSas`). The entry binds the SAS the SDK
    /// computed (the participant's `sasBinding`), never bytes the app passes in. Resolves to
    /// the entry's `seq`; rejects with `InvalidArgument` (no such participant) or
    /// `InvalidState` (no SAS yet, or not confirmed on this side).
    #[wasm_bindgen(js_name = recordSasConfirmed, unchecked_return_type = "Promise<number>")]
    pub fn record_sas_confirmed(
        &self,
        consultation: &Consultation,
        #[wasm_bindgen(js_name = participantId, unchecked_param_type = "string")]
        participant_id: JsValue,
    ) -> Promise {
        let this = JsConsentManager {
            inner: Rc::clone(&self.inner),
        };
        let binding = consultation::confirmed_sas_binding(consultation, &participant_id);
        js::promise(async move {
            let transcript = binding?;
            let seq = this
                .mutate(move |m, now| m.record(core::Event::SasConfirmed { transcript }, now))
                .await?;
            Ok(seq as f64)
        })
    }

    /// The enforcement decision for `request` (default deny). Throws `InvalidArgument` when
    /// the request names no recipient or notice version and the options give none.
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn check(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let p = self.inner.borrow();
        let req = p.defaults.request(request, None)?;
        Ok(js::to_value(&p.sync.manager().check(&req)))
    }

    /// The decision for sharing `category` now with `recipient` (default: the `recipient`
    /// option), for the default purpose and the presented notice — what the SDK's own
    /// enforcement points ask. Never throws for lack of a recipient: it denies (`NoGrant`).
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn allows(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] category: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "any")] recipient: Option<JsValue>,
    ) -> Result<JsValue, JsError> {
        let category = self::category(&category)?;
        let recipient = match recipient.filter(present) {
            Some(r) => Some(self::recipient(&r)?),
            None => None,
        };
        Ok(js::to_value(&allows(
            self,
            category,
            recipient.as_ref(),
            now_ms(),
        )))
    }

    /// Every grant with its status, in ledger order.
    #[wasm_bindgen(unchecked_return_type = "any[]")]
    pub fn list(&self) -> JsValue {
        js::to_value(self.inner.borrow().sync.manager().list())
    }

    /// Every entry, decoded, in order.
    #[wasm_bindgen(unchecked_return_type = "any[]")]
    pub fn entries(&self) -> JsValue {
        let p = self.inner.borrow();
        js::to_value(&p.sync.manager().ledger().entries().collect::<Vec<_>>())
    }

    /// The encoding of entry `seq` (what travels to the clinician), if it exists.
    #[wasm_bindgen(js_name = entryBytes)]
    pub fn entry_bytes(&self, seq: f64) -> Option<Uint8Array> {
        let seq = seq_arg(seq).ok()?;
        let p = self.inner.borrow();
        p.sync
            .manager()
            .ledger()
            .entry_bytes(seq)
            .map(Uint8Array::from)
    }

    /// Re-verifies every entry and the newest countersigned checkpoint. Throws `Consent`
    /// (with `consentCode`) if anything fails.
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn verify(&self) -> Result<JsValue, JsError> {
        let s = self
            .inner
            .borrow()
            .sync
            .manager()
            .verify()
            .map_err(CoreError::Consent)?;
        Ok(js::to_value(&s))
    }

    /// FHIR R4 Consent resources, one per grant (`inactive` once withdrawn, expired or
    /// superseded).
    #[wasm_bindgen(js_name = toFhir, unchecked_return_type = "any[]")]
    pub fn to_fhir(&self) -> JsValue {
        js::to_value(&self.inner.borrow().sync.manager().to_fhir())
    }

    /// The ISO/IEC TS 27560 style receipt of grant `seq`; `context` names the controller,
    /// jurisdiction and withdrawal method. Throws `Consent` (`UnknownGrant`) or
    /// `InvalidArgument`.
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn receipt(
        &self,
        seq: f64,
        #[wasm_bindgen(unchecked_param_type = "any")] context: JsValue,
    ) -> Result<JsValue, JsError> {
        let ctx = receipt_context(&context)?;
        let r = self
            .inner
            .borrow()
            .sync
            .manager()
            .receipt(seq_arg(seq)?, &ctx)
            .map_err(CoreError::Consent)?;
        Ok(js::to_value(&r))
    }

    /// The whole ledger, encoded (docs/CONSENT.md "Encoding"): archive it, or check it
    /// anywhere with `verifyLedger(bytes, publicKey, checkpoint)`.
    pub fn export(&self) -> Uint8Array {
        Uint8Array::from(self.inner.borrow().sync.manager().export().as_slice())
    }

    /// The newest countersigned checkpoint accepted from a clinician, if any.
    #[wasm_bindgen(getter, unchecked_return_type = "any")]
    pub fn checkpoint(&self) -> JsValue {
        let p = self.inner.borrow();
        match p.sync.manager().ledger().checkpoint() {
            Some((cp, key)) => checkpoint_js(cp, key),
            None => JsValue::UNDEFINED,
        }
    }

    /// Checks a checkpoint the clinician returned (when not syncing through
    /// `attachConsultation`) against this ledger and keeps it. Resolves once stored.
    /// Rejects with `Consent` (`UnknownClinicianKey`: not the key of the `clinicianPublicKey`
    /// option, `WrongLedger`, `BadCheckpointSignature`, `Truncated`: the clinician saw
    /// entries this device lost, `CheckpointMismatch`: history differs).
    #[wasm_bindgen(js_name = acceptCheckpoint, unchecked_return_type = "Promise<void>")]
    pub fn accept_checkpoint(&self, checkpoint: Uint8Array, clinician_public_key: &str) -> Promise {
        let this = JsConsentManager {
            inner: Rc::clone(&self.inner),
        };
        let clinician_public_key = clinician_public_key.to_owned();
        js::promise(async move {
            let key = parse_hex::<32>(&clinician_public_key).ok_or(Error::InvalidArgument(
                "clinicianPublicKey: expected 64 hex digits",
            ))?;
            let cp = checkpoint.to_vec();
            let (storage, writes) = {
                let mut p = this.inner.borrow_mut();
                p.sync
                    .manager_mut()
                    .accept_checkpoint(&cp, &key)
                    .map_err(CoreError::Consent)?;
                (p.storage.clone(), p.pending.take())
            };
            persist(&storage, writes).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Syncs this ledger with the clinician `participantId` of `consultation`, over its
    /// end-to-end encrypted app-data channel: announces the ledger, sends every entry the
    /// clinician's `ConsentReplica` lacks and then each new one, and checks each
    /// countersigned checkpoint that comes back (`checkpoint` event). Also makes this
    /// manager the consent the consultation's enforcement points ask. Other app data on the
    /// channel is left alone (consent messages start with a byte in 0xC0..0xC4).
    // This export takes an object with a consultation's surface (a native bridge, a test
    // double); the TypeScript layer hands this module's own consultations to `attachCall`.
    #[wasm_bindgen(js_name = attachConsultation)]
    pub fn attach_consultation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Consultation")] consultation: JsValue,
        participant_id: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "any")] options: Option<JsValue>,
    ) -> Result<(), JsError> {
        self.attach(None, consultation, participant_id, options)
    }

    /// `attachConsultation` for one of this module's consultations. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = attachCall, skip_typescript)]
    pub fn attach_call(
        &self,
        consultation: &Consultation,
        participant_id: &str,
        options: Option<JsValue>,
    ) -> Result<(), JsError> {
        self.attach(
            Some(consultation),
            JsValue::UNDEFINED,
            participant_id,
            options,
        )
    }
}

impl JsConsentManager {
    fn attach(
        &self,
        call: Option<&Consultation>,
        object: JsValue,
        participant_id: &str,
        options: Option<JsValue>,
    ) -> Result<(), JsError> {
        let (peer, to) = peer_arg(participant_id)?;
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let recipient = opt_recipient(&options, "recipient")?;
        let clinician = clinician_public_key_opt(&options)?;
        let (via, events) = via(call, object);
        let id = {
            let mut p = self.inner.borrow_mut();
            if p.closed {
                return Err(Error::InvalidArgument("the ConsentManager is closed").into());
            }
            if let Some(key) = clinician {
                p.sync.manager_mut().expect_clinician(key);
            }
            p.next_link += 1;
            p.next_link
        };
        let weak = Rc::downgrade(&self.inner);
        let listeners = listen(
            &events,
            Box::new(move |ev| {
                if let Some(inner) = weak.upgrade() {
                    patient_link_event(&inner, id, ev);
                }
            }),
            &peer,
        )?;
        if let Some(c) = call {
            consultation::with_consent_mut(c.shared(), |a| attach(&mut a.gates, id, &self.inner))?;
        }
        {
            let mut p = self.inner.borrow_mut();
            p.links.push(Link {
                id,
                via,
                peer,
                to,
                recipient,
                _listeners: Some(listeners),
            });
            p.sync.add_link(id, now_ms());
        }
        patient_drain(&self.inner, Vec::new());
        Ok(())
    }
}

#[wasm_bindgen(js_class = ConsentManager)]
impl JsConsentManager {
    /// Stops syncing with every consultation (the ledger stays open).
    #[wasm_bindgen(js_name = detachConsultations)]
    pub fn detach_consultations(&self) {
        let links = {
            let mut p = self.inner.borrow_mut();
            p.sync.remove_links();
            std::mem::take(&mut p.links)
        };
        for call in linked_calls(&links) {
            let _ = consultation::with_consent_mut(&call, |a| detach(&mut a.gates, &self.inner));
        }
        drop(links);
    }

    /// Detaches every consultation and closes the database. Later changes are refused.
    pub fn close(&self) {
        self.detach_consultations();
        let mut p = self.inner.borrow_mut();
        p.closed = true;
        if let Storage::IndexedDb(db) = &*p.storage {
            db.close();
        }
    }

    /// Where this object's events (`ConsentEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.inner.borrow().events.clone()
    }
}

fn seq_arg(seq: f64) -> Result<u64, Error> {
    if seq.is_finite() && seq >= 0.0 && seq.fract() == 0.0 && seq < 9_007_199_254_740_992.0 {
        Ok(seq as u64)
    } else {
        Err(Error::InvalidArgument(
            "seq: expected a non-negative integer",
        ))
    }
}

fn checkpoint_js(cp: &Checkpoint, clinician: &[u8; 32]) -> JsValue {
    object(&[
        ("bytes", Uint8Array::from(cp.encode().as_slice()).into()),
        ("ledgerId", js::hex(&cp.ledger_id).into()),
        ("size", (cp.size as f64).into()),
        ("head", js::hex(&cp.head).into()),
        ("time", (cp.time as f64).into()),
        ("clinicianPublicKey", js::hex(clinician).into()),
    ])
    .into()
}

impl JsConsentManager {
    fn grant_input(&self, value: &JsValue) -> Result<(Grant, Vec<u8>), Error> {
        if !value.is_object() {
            return Err(Error::InvalidArgument("grant: expected an object"));
        }
        let period = get(value, "period");
        let coll = get(value, "collection");
        let p = self.inner.borrow();
        let d = &p.defaults;
        let notice = get(value, "notice");
        let (notice, text) = if present(&notice) {
            notice_input(&notice)?
        } else {
            d.notice.clone().ok_or(Error::InvalidArgument(
                "grant.notice (or the notice option)",
            ))?
        };
        Ok((
            Grant {
                patient: js::opt_string(value, "patient")?
                    .unwrap_or_else(|| d.patient.clone())
                    .into(),
                recipient: opt_recipient(value, "recipient")?
                    .or_else(|| d.recipient.clone())
                    .ok_or(Error::InvalidArgument(
                        "grant.recipient (or the recipient option)",
                    ))?,
                purposes: codes(value, "purposes", purpose)?
                    .ok_or(Error::InvalidArgument("grant.purposes"))?,
                categories: codes(value, "categories", category)?
                    .ok_or(Error::InvalidArgument("grant.categories"))?,
                period: Period {
                    start: opt_u64(&period, "start")?.unwrap_or_else(now_ms),
                    end: opt_u64(&period, "end")?,
                },
                notice,
                collection: if present(&coll) {
                    collection(&coll)?
                } else {
                    Collection::PatientAction
                },
            },
            text,
        ))
    }

    /// Runs one ledger change in turn: appends in memory, persists, rolls back if the write
    /// fails, then sends the entry to attached clinicians and dispatches `change`. Resolves
    /// to the new entry's sequence number.
    fn mutate(
        &self,
        change: impl FnOnce(&mut core::ConsentManager<WebStore>, u64) -> Result<Vec<u8>, LedgerError>
        + 'static,
    ) -> impl std::future::Future<Output = Result<u64, Error>> + '_ {
        self.mutate_boxed(Box::new(change))
    }

    /// [`mutate`](Self::mutate) with the change boxed: one copy of this async body in the
    /// wasm instead of one per kind of change.
    async fn mutate_boxed(&self, change: Box<Change>) -> Result<u64, Error> {
        let _turn = turn(&self.inner).await;
        let (storage, writes, _entry) = {
            let mut p = self.inner.borrow_mut();
            if p.closed {
                return Err(Error::InvalidArgument("the ConsentManager is closed"));
            }
            let bytes = change(p.sync.manager_mut(), now_ms());
            let writes = p.pending.take();
            (
                p.storage.clone(),
                writes,
                bytes.map_err(CoreError::Consent)?,
            )
        };
        if persist(&storage, writes).await.is_err() {
            self.inner.borrow_mut().sync.manager_mut().rollback_last();
            return Err(store_failed());
        }
        let seq = self
            .inner
            .borrow()
            .sync
            .manager()
            .ledger()
            .size()
            .saturating_sub(1);
        local_change(&self.inner, seq);
        Ok(seq)
    }
}

/// After a local change is stored: send it on links that are in step, then tell the app.
fn local_change(inner: &Rc<RefCell<Patient>>, seq: u64) {
    let (out, events, entry) = {
        let mut guard = inner.borrow_mut();
        let p = &mut *guard;
        p.sync.handle_local_entry(seq, now_ms());
        let mut out = Vec::new();
        // Only transmits follow a local entry.
        while let Some(o) = p.sync.poll_output() {
            if let LinkOutput::Transmit { link, bytes } = o {
                out.extend(outgoing(&p.links, link, bytes));
            }
        }
        let entry = p.sync.manager().ledger().entries().last().map(js::to_value);
        (out, p.events.clone(), entry)
    };
    flush(out);
    let detail = object(&[
        ("seq", (seq as f64).into()),
        ("entry", entry.unwrap_or(JsValue::UNDEFINED)),
        ("origin", "local".into()),
    ]);
    dispatch(&events, "change", &detail.into());
    // Withdrawal (or any change) takes effect at once on this device's media.
    let calls = linked_calls(&inner.borrow().links);
    enforce(calls);
}

/// Feeds a consultation event of link `link_id` to the patient's sync side, then carries
/// out what it asks.
fn patient_link_event(inner: &Rc<RefCell<Patient>>, link_id: u32, ev: LinkEvent) {
    let notes = {
        let mut guard = inner.borrow_mut();
        let p = &mut *guard;
        let now = now_ms();
        match ev {
            LinkEvent::PeerLeft => {
                p.sync.handle_peer_left(link_id);
                Vec::new()
            }
            LinkEvent::Kick => {
                p.sync.handle_reachable(link_id, now);
                Vec::new()
            }
            LinkEvent::Data(bytes) => match p.sync.handle_data(link_id, &bytes, now) {
                Ok(()) => Vec::new(),
                Err(e) => vec![(
                    "error",
                    error_detail(&link_error(e, true), peer_of(&p.links, link_id)),
                )],
            },
        }
    };
    patient_drain(inner, notes);
}

/// Carries out the patient sync side's outputs: sends its messages, dispatches its events
/// after `notes` (events from the last input), and persists a checkpoint it kept.
fn patient_drain(inner: &Rc<RefCell<Patient>>, notes: Vec<(&'static str, JsValue)>) {
    let mut out = Vec::new();
    let mut events_out = Vec::new();
    let (events, storage, writes) = {
        let mut guard = inner.borrow_mut();
        let p = &mut *guard;
        while let Some(o) = p.sync.poll_output() {
            match o {
                LinkOutput::Transmit { link, bytes } => out.extend(outgoing(&p.links, link, bytes)),
                LinkOutput::Event(PatientEvent::Checkpoint {
                    link,
                    checkpoint,
                    clinician,
                    matches_head,
                }) => {
                    let detail = object(&[
                        ("size", (checkpoint.size as f64).into()),
                        ("head", js::hex(&checkpoint.head).into()),
                        ("time", (checkpoint.time as f64).into()),
                        ("clinicianPublicKey", js::hex(&clinician).into()),
                        ("matchesHead", matches_head.into()),
                    ]);
                    if let Some(peer) = peer_of(&p.links, link) {
                        js::set(&detail, "participantId", peer);
                    }
                    events_out.push(("checkpoint", detail.into()));
                }
            }
        }
        (p.events.clone(), p.storage.clone(), p.pending.take())
    };
    flush(out);
    for (kind, detail) in events_out.into_iter().chain(notes) {
        dispatch(&events, kind, &detail);
    }
    if !writes.is_empty() {
        js::spawn(Box::pin(async move {
            if persist(&storage, writes).await.is_err() {
                dispatch(&events, "error", &error_detail(&store_failed(), None));
            }
        }));
    }
}

// ----- ConsentReplica --------------------------------------------------------------------

struct Clinician {
    /// The replica (once the ledger is known), the clinician's signing key and the sync
    /// links' decisions.
    sync: ReplicaSync,
    /// Where the replica is kept (IndexedDB), if anywhere.
    store: Option<Rc<idb::ReplicaDb>>,
    defaults: Defaults,
    events: EventTarget,
    links: Vec<Link>,
    next_link: u32,
}

/// The clinician's copy of one patient's ledger: verifies each entry the patient sends and
/// countersigns a checkpoint of its head. Create it with `new ConsentReplica(options)`; it
/// learns the ledger from the patient's announcement over `attachConsultation`, or from
/// `ledgerId` and `patientPublicKey` given up front (then only that ledger is accepted).
/// It countersigns with the clinician's per-visit identity key (`clinicianSigningKey`), and
/// records when it received each entry: an entry whose signed time is more than 5 minutes
/// from its arrival is refused (`Untimely`; see docs/CONSENT.md, "Entry times").
#[wasm_bindgen(js_name = ConsentReplica)]
pub struct JsConsentReplica {
    inner: Rc<RefCell<Clinician>>,
}

#[wasm_bindgen(js_class = ConsentReplica)]
impl JsConsentReplica {
    /// A new replica kept in memory. Options: `clinicianSigningKey` (required: the
    /// clinician's per-visit identity key, a 32-byte Ed25519 seed from the invite link);
    /// `ledgerId` and `patientPublicKey` (hex) pin the ledger; `ledger` (an exported ledger,
    /// `Uint8Array`) resumes from a copy kept earlier, verified against `patientPublicKey`,
    /// with `receivedAt` (its entries' receive times, `timing()`); `recipient`, `purpose`,
    /// `notice` are the defaults of `check` as for `ConsentManager.open`. Throws
    /// `InvalidArgument`, or `Consent` if the resumed ledger fails verification. To keep the
    /// replica across reloads, use `ConsentReplica.open`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "any")] options: JsValue,
    ) -> Result<JsConsentReplica, JsError> {
        let seed = clinician_seed_opt(&options)?.ok_or(Error::InvalidArgument(
            "clinicianSigningKey: expected a Uint8Array of 32 bytes (or the clinician's link)",
        ))?;
        let exported = get(&options, "ledger");
        let exported = if present(&exported) {
            Some(bytes_arg(&exported, "ledger: expected a Uint8Array")?)
        } else {
            None
        };
        let received = received_arg(&get(&options, "receivedAt"))?;
        Ok(Self::build(
            &options,
            seed,
            exported.map(|e| (e, None)),
            received,
            None,
        )?)
    }

    /// Opens (or creates) the replica named `name` in IndexedDB: its received entries, their
    /// receive times and the clinician's signing key, wrapped under a non-extractable
    /// WebCrypto key as the patient's device key is. Each accepted entry is written through.
    /// With `storage: "memory"` it is `new ConsentReplica(options)` behind a Promise.
    ///
    /// Resolves to the `ConsentReplica`. Rejects with `InvalidArgument` (bad options; no
    /// `clinicianSigningKey` for a replica not stored yet; one that differs from the stored
    /// replica's key), `Unsupported` (no IndexedDB or WebCrypto), or `Consent` (the stored
    /// copy fails verification; `Store` when IndexedDB fails).
    #[wasm_bindgen(unchecked_return_type = "Promise<ConsentReplica>")]
    pub fn open(#[wasm_bindgen(unchecked_param_type = "any")] options: JsValue) -> Promise {
        js::promise::<JsValue>(async move {
            if !options.is_object() {
                return Err(Error::InvalidArgument("options: expected an object").into());
            }
            let given = clinician_seed_opt(&options)?;
            let indexeddb = match js::opt_string(&options, "storage")?.as_deref() {
                Some("indexeddb") => true,
                Some("memory") => false,
                None => present(&get(&js_sys::global(), "indexedDB")),
                Some(_) => {
                    return Err(Error::InvalidArgument(
                        "storage: expected \"indexeddb\" or \"memory\"",
                    )
                    .into());
                }
            };
            if !indexeddb {
                let seed = given.ok_or(Error::InvalidArgument(
                    "clinicianSigningKey: expected a Uint8Array of 32 bytes",
                ))?;
                return Ok(Self::build(&options, seed, None, Vec::new(), None)?.into());
            }
            let name = js::string(&options, "name")?;
            if name.is_empty() {
                return Err(Error::InvalidArgument("name: expected a non-empty string").into());
            }
            let db_name = js::opt_string(&options, "databaseName")?
                .unwrap_or_else(|| "teleconsult-consent-replicas".to_owned());
            let (db, loaded) = idb::open_replica(&db_name, &name, given.as_deref()).await?;
            let built = Self::build(
                &options,
                loaded.seed,
                loaded
                    .ledger
                    .map(|(ledger, patient)| (ledger, Some(patient))),
                loaded.received,
                Some(Rc::new(db)),
            );
            Ok(built?.into())
        })
    }

    /// The clinician key that signs checkpoints (64 hex digits).
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> String {
        js::hex(&self.inner.borrow().sync.public_key())
    }

    /// Signed and receive time of every entry held (`ConsentEntryTiming[]`).
    #[wasm_bindgen(unchecked_return_type = "any[]")]
    pub fn timing(&self) -> JsValue {
        let c = self.inner.borrow();
        let list: Vec<core::EntryTiming> = c.sync.replica().map_or_else(Vec::new, |r| {
            (0..r.ledger().size()).filter_map(|s| r.timing(s)).collect()
        });
        js::to_value(&list)
    }

    /// The replicated ledger's id, once known.
    #[wasm_bindgen(getter, js_name = ledgerId)]
    pub fn ledger_id(&self) -> Option<String> {
        let c = self.inner.borrow();
        c.sync.replica().map(|r| js::hex(&r.ledger().id()))
    }

    /// The patient's device key, once known.
    #[wasm_bindgen(getter, js_name = patientPublicKey)]
    pub fn patient_public_key(&self) -> Option<String> {
        let c = self.inner.borrow();
        c.sync
            .replica()
            .map(|r| js::hex(&r.ledger().patient_public_key()))
    }

    /// Entries held.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        let c = self.inner.borrow();
        c.sync.replica().map_or(0.0, |r| r.ledger().size() as f64)
    }

    /// Hash of the newest entry held (64 hex digits), once the ledger is known.
    #[wasm_bindgen(getter)]
    pub fn head(&self) -> Option<String> {
        let c = self.inner.borrow();
        c.sync.replica().map(|r| js::hex(&r.ledger().head()))
    }

    /// Verifies one encoded entry from the patient and appends it; returns the countersigned
    /// checkpoint of the new head, timed now. Throws `InvalidState` before the ledger is
    /// known, and `Consent` for anything the ledger rejects (`Replayed`, `Fork`,
    /// `MissingEntry`, `BadSignature`, `Untimely`: signed more than 5 minutes from now —
    /// the replica then enforces nothing until the patient announces again, …).
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn receive(&self, entry: Uint8Array) -> Result<JsValue, JsError> {
        let bytes = entry.to_vec();
        let received = {
            let mut c = self.inner.borrow_mut();
            let c = &mut *c;
            let replica = c.sync.replica_mut().ok_or(CoreError::Signaling(
                crate::signaling::SignalingError::InvalidState,
            ))?;
            let got = replica
                .receive(&bytes, now_ms())
                .map(|cp| (cp, remote_change(replica, None)));
            if got.is_ok() {
                save_replica(c);
            }
            got.map(|(cp, detail)| (cp, c.sync.public_key(), c.events.clone(), detail))
        };
        let (cp, key, events, detail) = match received {
            Ok(r) => r,
            Err(e) => {
                if matches!(e, LedgerError::Untimely { .. }) {
                    // The replica now enforces nothing: a recording that relied on it stops.
                    let calls = linked_calls(&self.inner.borrow().links);
                    enforce(calls);
                }
                return Err(CoreError::Consent(e).into());
            }
        };
        dispatch(&events, "change", &detail);
        // A withdrawal stops a recording at once.
        let calls = linked_calls(&self.inner.borrow().links);
        enforce(calls);
        Ok(checkpoint_js(&cp, &key))
    }

    /// A countersigned checkpoint of the current head, once the ledger is known.
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn checkpoint(&self) -> JsValue {
        let c = self.inner.borrow();
        match c.sync.replica() {
            Some(r) => checkpoint_js(&r.checkpoint(now_ms()), &c.sync.public_key()),
            None => JsValue::UNDEFINED,
        }
    }

    /// The decision for `request` against the replicated ledger (default deny; an unknown
    /// ledger denies everything). Defaults come from the constructor options.
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn check(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let c = self.inner.borrow();
        let req = c.defaults.request(request, None)?;
        let empty = core::ConsentState::default();
        let state = c.sync.replica().map_or(&empty, |r| r.enforced_state());
        Ok(js::to_value(&core::check(state, &req)))
    }

    /// Every grant with its status.
    #[wasm_bindgen(unchecked_return_type = "any[]")]
    pub fn list(&self) -> JsValue {
        let c = self.inner.borrow();
        match c.sync.replica() {
            Some(r) => js::to_value(&r.ledger().state().grants),
            None => js_sys::Array::new().into(),
        }
    }

    /// Re-verifies the replicated ledger and its current checkpoint.
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn verify(&self) -> Result<JsValue, JsError> {
        let c = self.inner.borrow();
        let r = c.sync.replica().ok_or(CoreError::Signaling(
            crate::signaling::SignalingError::InvalidState,
        ))?;
        let cp = r.checkpoint(now_ms());
        let s = r
            .ledger()
            .verify(Some((&cp, &c.sync.public_key())))
            .map_err(CoreError::Consent)?;
        Ok(js::to_value(&s))
    }

    /// FHIR R4 Consent resources of the replicated ledger.
    #[wasm_bindgen(js_name = toFhir, unchecked_return_type = "any[]")]
    pub fn to_fhir(&self) -> JsValue {
        let c = self.inner.borrow();
        match c.sync.replica() {
            Some(r) => js::to_value(&core::fhir_consents(r.ledger())),
            None => js_sys::Array::new().into(),
        }
    }

    /// The replicated ledger, encoded (empty until the ledger is known).
    pub fn export(&self) -> Uint8Array {
        let c = self.inner.borrow();
        let bytes = c
            .sync
            .replica()
            .map(|r| r.ledger().encode())
            .unwrap_or_default();
        Uint8Array::from(bytes.as_slice())
    }

    /// Syncs with the patient `participantId` of `consultation`: asks the patient's
    /// `ConsentManager` to announce its ledger, verifies each entry it sends, answers with a
    /// countersigned checkpoint, and dispatches `change` for each new entry.
    // Like the manager's, this export takes an object with a consultation's surface; the
    // TypeScript layer hands this module's own consultations to `attachCall`.
    #[wasm_bindgen(js_name = attachConsultation)]
    pub fn attach_consultation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Consultation")] consultation: JsValue,
        participant_id: &str,
    ) -> Result<(), JsError> {
        self.attach(None, consultation, participant_id)
    }

    /// `attachConsultation` for one of this module's consultations, which then asks this
    /// replica before recording. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = attachCall, skip_typescript)]
    pub fn attach_call(
        &self,
        consultation: &Consultation,
        participant_id: &str,
    ) -> Result<(), JsError> {
        self.attach(Some(consultation), JsValue::UNDEFINED, participant_id)
    }
}

impl JsConsentReplica {
    fn attach(
        &self,
        call: Option<&Consultation>,
        object: JsValue,
        participant_id: &str,
    ) -> Result<(), JsError> {
        let (peer, to) = peer_arg(participant_id)?;
        let (via, events) = via(call, object);
        let id = {
            let mut c = self.inner.borrow_mut();
            c.next_link += 1;
            c.next_link
        };
        let weak = Rc::downgrade(&self.inner);
        let listeners = listen(
            &events,
            Box::new(move |ev| {
                if let Some(inner) = weak.upgrade() {
                    replica_link_event(&inner, id, ev);
                }
            }),
            &peer,
        )?;
        if let Some(c) = call {
            consultation::with_consent_mut(c.shared(), |a| {
                attach(&mut a.replicas, id, &self.inner);
            })?;
        }
        {
            let mut c = self.inner.borrow_mut();
            c.links.push(Link {
                id,
                via,
                peer,
                to,
                recipient: None,
                _listeners: Some(listeners),
            });
            c.sync.add_link(id, now_ms());
        }
        replica_drain(&self.inner, Vec::new());
        Ok(())
    }
}

#[wasm_bindgen(js_class = ConsentReplica)]
impl JsConsentReplica {
    /// Stops syncing with every consultation; a recording that needed this record stops.
    #[wasm_bindgen(js_name = detachConsultations)]
    pub fn detach_consultations(&self) {
        let links = {
            let mut c = self.inner.borrow_mut();
            c.sync.remove_links();
            std::mem::take(&mut c.links)
        };
        let calls = linked_calls(&links);
        for call in &calls {
            let _ = consultation::with_consent_mut(call, |a| detach(&mut a.replicas, &self.inner));
        }
        drop(links);
        enforce(calls);
    }

    /// Where this object's events (`ConsentEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.inner.borrow().events.clone()
    }
}

/// The `receivedAt` option: receive times (ms) or null, one per entry.
fn received_arg(value: &JsValue) -> Result<Vec<Option<u64>>, Error> {
    const WHAT: &str = "receivedAt: expected an array of integers (ms) or null";
    if !present(value) {
        return Ok(Vec::new());
    }
    let list = value
        .dyn_ref::<js_sys::Array>()
        .ok_or(Error::InvalidArgument(WHAT))?;
    list.iter()
        .map(|v| {
            if v.is_null() {
                return Ok(None);
            }
            let t = v.as_f64().ok_or(Error::InvalidArgument(WHAT))?;
            seq_arg(t)
                .map(Some)
                .map_err(|_| Error::InvalidArgument(WHAT))
        })
        .collect()
}

impl JsConsentReplica {
    /// The replica from its options, its signing key's seed, and optionally a ledger to
    /// resume (encoded, with the patient key it was stored with; otherwise the
    /// `patientPublicKey` option verifies it) and its receive times.
    fn build(
        options: &JsValue,
        seed: zeroize::Zeroizing<[u8; 32]>,
        resume: Option<(Vec<u8>, Option<[u8; 32]>)>,
        received: Vec<Option<u64>>,
        store: Option<Rc<idb::ReplicaDb>>,
    ) -> Result<Self, Error> {
        let id = js::opt_string(options, "ledgerId")?
            .map(|h| {
                parse_hex::<16>(&h)
                    .ok_or(Error::InvalidArgument("ledgerId: expected 32 hex digits"))
            })
            .transpose()?;
        let pk = js::opt_string(options, "patientPublicKey")?
            .map(|h| {
                parse_hex::<32>(&h).ok_or(Error::InvalidArgument(
                    "patientPublicKey: expected 64 hex digits",
                ))
            })
            .transpose()?;
        let key = || ConsentKey::from_seed(&seed);
        let replica = match resume {
            Some((bytes, stored)) => {
                let pk = stored.or(pk).ok_or(Error::InvalidArgument(
                    "patientPublicKey (needed to verify ledger)",
                ))?;
                let ledger = core::Ledger::decode(&bytes, &pk).map_err(CoreError::Consent)?;
                if id.is_some_and(|id| id != ledger.id()) {
                    return Err(CoreError::Consent(LedgerError::WrongLedger).into());
                }
                Some(LedgerReplica::resume(ledger, received, key()).map_err(CoreError::Consent)?)
            }
            None => match (id, pk) {
                (Some(id), Some(pk)) => {
                    Some(LedgerReplica::new(id, &pk, key()).map_err(CoreError::Consent)?)
                }
                _ => None,
            },
        };
        let pinned = id.zip(pk);
        let defaults = Defaults::from_options(options, String::new())?;
        Ok(JsConsentReplica {
            inner: Rc::new(RefCell::new(Clinician {
                sync: ReplicaSync::new(&seed, replica, pinned),
                store,
                defaults,
                events: new_events()?,
                links: Vec::new(),
                next_link: 0,
            })),
        })
    }
}

/// Writes the replica through to IndexedDB (if it is kept there), after a change; a failed
/// write is an `error` event (the in-memory copy stays: it was verified).
fn save_replica(c: &Clinician) {
    let (Some(store), Some(r)) = (c.store.clone(), c.sync.replica()) else {
        return;
    };
    let ledger = r.ledger().encode();
    let patient = r.ledger().patient_public_key();
    let received = r.received().to_vec();
    let events = c.events.clone();
    js::spawn(Box::pin(async move {
        if store.save(&ledger, &patient, &received).await.is_err() {
            dispatch(&events, "error", &error_detail(&store_failed(), None));
        }
    }));
}

fn remote_change(replica: &LedgerReplica, peer: Option<&str>) -> JsValue {
    let ledger = replica.ledger();
    let detail = object(&[
        ("seq", (ledger.size().saturating_sub(1) as f64).into()),
        (
            "entry",
            ledger
                .entries()
                .last()
                .map(js::to_value)
                .unwrap_or(JsValue::UNDEFINED),
        ),
        ("origin", "remote".into()),
    ]);
    if let Some(t) = replica.timing(ledger.size().saturating_sub(1)) {
        if let Some(at) = t.received_at {
            js::set(&detail, "receivedAt", at as f64);
        }
        js::set(&detail, "late", t.late);
    }
    if let Some(p) = peer {
        js::set(&detail, "participantId", p);
    }
    detail.into()
}

/// Feeds a consultation event of link `link_id` to the replica's sync side, then carries
/// out what it asks.
fn replica_link_event(inner: &Rc<RefCell<Clinician>>, link_id: u32, ev: LinkEvent) {
    let notes = {
        let mut guard = inner.borrow_mut();
        let c = &mut *guard;
        let now = now_ms();
        match ev {
            LinkEvent::PeerLeft => {
                c.sync.handle_peer_left(link_id);
                Vec::new()
            }
            LinkEvent::Kick => {
                c.sync.handle_reachable(link_id, now);
                Vec::new()
            }
            LinkEvent::Data(bytes) => match c.sync.handle_data(link_id, &bytes, now) {
                Ok(()) => Vec::new(),
                Err(e) => vec![(
                    "error",
                    error_detail(&link_error(e, false), peer_of(&c.links, link_id)),
                )],
            },
        }
    };
    replica_drain(inner, notes);
}

/// Carries out the replica sync side's outputs: sends its messages, keeps the replica
/// after an accepted entry, dispatches its events and then `notes` (events from the last
/// input), and stops a recording whose consent changed.
fn replica_drain(inner: &Rc<RefCell<Clinician>>, notes: Vec<(&'static str, JsValue)>) {
    let mut out = Vec::new();
    let mut events_out = Vec::new();
    let mut changed = false;
    let events = {
        let mut guard = inner.borrow_mut();
        let c = &mut *guard;
        let mut save = false;
        while let Some(o) = c.sync.poll_output() {
            match o {
                LinkOutput::Transmit { link, bytes } => out.extend(outgoing(&c.links, link, bytes)),
                LinkOutput::Event(ReplicaEvent::Entry { link, .. }) => {
                    if let Some(r) = c.sync.replica() {
                        events_out.push(("change", remote_change(r, peer_of(&c.links, link))));
                    }
                    save = true;
                    changed = true;
                }
                // Refused for its time: this copy now enforces nothing, so a recording that
                // relied on it stops (the refusal itself is among `notes`).
                LinkOutput::Event(ReplicaEvent::Halted { .. }) => changed = true,
            }
        }
        if save {
            save_replica(c);
        }
        c.events.clone()
    };
    flush(out);
    for (kind, detail) in events_out.into_iter().chain(notes) {
        dispatch(&events, kind, &detail);
    }
    if changed {
        // A withdrawal (or expiry, or new notice) stops a recording at once.
        let calls = linked_calls(&inner.borrow().links);
        enforce(calls);
    }
}

// ----- offline verification --------------------------------------------------------------

/// Verifies an exported ledger (`ConsentManager.export()`, `ConsentReplica.export()`)
/// offline — in a browser or in Node.js — against the patient's public key (64 hex digits)
/// and, if given, a countersigned checkpoint (`{ bytes, clinicianPublicKey }`, as
/// `checkpoint` returns).
///
/// Returns a `ConsentSummary`. Throws `InvalidArgument` for malformed arguments and
/// `Consent` when verification fails; its `consentCode` names the attack: `BadSignature` (an
/// edited entry), `BrokenChain`, `MissingEntry`, `Reordered`, `Replayed`, `WrongSigner`,
/// `Malformed`, `Truncated` (entries cut off after the checkpoint), `CheckpointMismatch`
/// (history rewritten), `BadCheckpointSignature`, `WrongLedger`.
#[wasm_bindgen(js_name = verifyLedger, unchecked_return_type = "any")]
pub fn verify_ledger(
    bytes: Uint8Array,
    patient_public_key: &str,
    #[wasm_bindgen(
        unchecked_optional_param_type = "{ bytes: Uint8Array; clinicianPublicKey: string }"
    )]
    checkpoint: Option<JsValue>,
) -> Result<JsValue, JsError> {
    let checkpoint = checkpoint.unwrap_or(JsValue::UNDEFINED);
    let pk = parse_hex::<32>(patient_public_key).ok_or(Error::InvalidArgument(
        "patientPublicKey: expected 64 hex digits",
    ))?;
    let cp = if present(&checkpoint) {
        let cp = bytes_arg(
            &get(&checkpoint, "bytes"),
            "checkpoint.bytes: expected a Uint8Array",
        )?;
        let key = js::string(&checkpoint, "clinicianPublicKey")?;
        let key = parse_hex::<32>(&key).ok_or(Error::InvalidArgument(
            "checkpoint.clinicianPublicKey: expected 64 hex digits",
        ))?;
        Some((
            Checkpoint::decode(&cp).map_err(|e| CoreError::Consent(e.into()))?,
            key,
        ))
    } else {
        None
    };
    let summary =
        core::verify_exported(&bytes.to_vec(), &pk, cp.as_ref().map(|(cp, key)| (cp, key)))
            .map_err(CoreError::Consent)?;
    Ok(js::to_value(&summary))
}
