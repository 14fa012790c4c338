//! `Consultation`: the sans-IO [`Session`] with what the browser layer decides around it
//! (the events for the app, consent on local media, the relay failover policy, the link
//! quality monitors, the SDK's recording, chat, files and screen sharing).
//!
//! Its IO — the relay socket, the peer connections, the timers, the local media — is the
//! TypeScript driver's (pkg/src/call-driver.ts): the driver feeds each IO event in through
//! the hidden methods below, then drains [`Consultation::poll`], which hands it what to
//! carry out. No borrow of `Inner` is ever held while JavaScript runs app code (event
//! listeners) or the driver, so both may call back into the consultation freely.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{CustomEvent, CustomEventInit, EventTarget, MediaStream};
use zeroize::Zeroizing;

use super::JsError;
use super::js::{self, get, object, present, set};
use super::peer::{self, PeerEvent};
use super::timer::now_ms;
use crate::Error as CoreError;
use crate::consent::{DataCategory, Decision, RecordingSignal};
use crate::quality::Monitor;
use crate::reconnect::{AfterClose, Backoff, Failover};
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{
    CloseReason, Config, Event, IceState, Invite, LeaveReason, MediaRequest, Output, PeerInfo,
    Phase, Redacted, SdpKind, SecurityKind, Session, SessionError, Timeouts, message::CAP_RESUME,
};
use crate::sorted_map::SortedMap;
use crate::web::Error;

/// The SAS binding of `peer` (16 hex digits) in `consultation` once this side's user
/// confirmed that SAS: what a consent ledger records (`recordSasConfirmed`). `peer` comes
/// from JS unchecked: anything but a participant id string is `InvalidArgument`, never a
/// trap.
pub(super) fn confirmed_sas_binding(
    consultation: &Consultation,
    peer: &JsValue,
) -> Result<[u8; 32], Error> {
    let inner = &consultation.inner;
    let id = peer
        .as_string()
        .and_then(|hex| js::parse_hex8(&hex))
        .ok_or(Error::InvalidArgument(
            "participantId: expected 16 hex digits",
        ))?;
    let info = inner
        .borrow()
        .session
        .peer(ParticipantId(id))
        .ok_or(Error::InvalidArgument("participantId: no such participant"))?;
    match info.sas_binding {
        Some(binding) if info.sas_confirmed => Ok(binding),
        _ => Err(CoreError::Signaling(crate::signaling::SignalingError::InvalidState).into()),
    }
}

/// Called by a consent manager or replica attached to `inner` after every change (grant,
/// withdrawal, expiry, notice, attach, detach): the consultation stops sending what consent
/// no longer covers.
pub(super) fn consent_changed(inner: &Shared) {
    enforce_consent(inner);
    super::recording::enforce(inner);
    super::files::enforce(inner);
}

/// Runs `f` on the consent ledgers attached to `inner` (`None` while the driver is busy).
pub(super) fn with_consent<R>(
    inner: &Shared,
    f: impl FnOnce(&super::consent::Attached) -> R,
) -> Option<R> {
    Some(f(&inner.try_borrow().ok()?.consent))
}

/// The consent ledgers attached to `inner` as they are now, for a decision taken while the
/// driver is borrowed (file and chat sharing, recording). Empty while the driver is busy
/// (never expected), which those decisions read as "no consent".
pub(super) fn ledgers(inner: &Shared) -> super::consent::Attached {
    with_consent(inner, Clone::clone).unwrap_or_default()
}

/// Attaches or detaches a consent ledger (`InvalidState` while the driver is busy, never
/// expected: no borrow spans app code).
pub(super) fn with_consent_mut(
    inner: &Shared,
    f: impl FnOnce(&mut super::consent::Attached),
) -> Result<(), Error> {
    let mut i = inner.try_borrow_mut().map_err(|_| {
        Error::Core(CoreError::Signaling(
            crate::signaling::SignalingError::InvalidState,
        ))
    })?;
    f(&mut i.consent);
    Ok(())
}

/// The consent decision for `category` in this consultation: `None` when no consent
/// manager is attached to it (the app manages consent itself), else the attached managers'
/// combined decision.
fn consent_decision(inner: &Shared, category: DataCategory) -> Option<Decision> {
    with_consent(inner, |a| {
        super::consent::allows_for_consultation(a, category, now_ms())
    })
    .unwrap_or(Some(Decision {
        // Busy (never expected): nothing is allowed that cannot be decided.
        allowed: false,
        reason: crate::consent::Reason::NoGrant,
        grant: None,
    }))
}

fn media_category(kind: &str) -> Option<DataCategory> {
    match kind {
        "video" => Some(DataCategory::Video),
        "audio" => Some(DataCategory::Audio),
        _ => None,
    }
}

/// Stops every local track whose category consent does not allow (default deny once a
/// consent manager is attached), stops sending it, and tells the app.
fn enforce_consent(inner: &Shared) {
    let Some(stream) = inner.borrow().local_stream.clone() else {
        return;
    };
    let mut stopped = Vec::new();
    for kind in ["audio", "video"] {
        let Some(category) = media_category(kind) else {
            continue;
        };
        if let Some(decision) = consent_decision(inner, category)
            && !decision.allowed
            && peer::drop_tracks(&stream, kind) > 0
        {
            stopped.push((kind, decision.reason));
        }
    }
    if stopped.is_empty() {
        return;
    }
    renegotiate_all(inner);
    for (kind, reason) in stopped {
        let detail = object(&[("kind", kind.into()), ("reason", reason.name().into())]);
        dispatch(inner, "localmediastopped", detail);
    }
}
pub(super) type Shared = Rc<RefCell<Inner>>;

#[wasm_bindgen]
extern "C" {
    /// The consultation's IO in TypeScript (pkg/src/call-driver.ts): the relay socket, the
    /// peer connections, the timers and the local media. The core tells it when the session
    /// has something for it to carry out (`wake`: it then drains [`Consultation::poll`]), and
    /// when the connections must follow the local media and the shared screen again
    /// (`renegotiate`).
    #[derive(Clone)]
    #[wasm_bindgen(typescript_type = "unknown")]
    pub type Driver;
    #[wasm_bindgen(method)]
    fn wake(this: &Driver);
    #[wasm_bindgen(method)]
    fn renegotiate(this: &Driver);
}

/// The first element of each array [`Consultation::poll`] hands the driver: what to do, then
/// its arguments. pkg/src/call-driver.ts lists the same numbers.
mod todo {
    /// `[0, bytes]`: send on the relay socket.
    pub const TRANSMIT: u32 = 0;
    /// `[1, peer, frame]`: send on the direct channel to `peer`.
    pub const DIRECT: u32 = 1;
    /// `[2, name, key, send]`: import a bulk-crypto key into WebCrypto.
    pub const OFFLOAD_KEY: u32 = 2;
    /// `[3, peer, name, aad, nonce, plaintext]`: seal with WebCrypto, send on the direct channel.
    pub const DIRECT_SEAL: u32 = 3;
    /// `[4, peer, name, keyId, seq, nonce, frame]`: open with WebCrypto, then `directOpened`.
    pub const DIRECT_OPEN: u32 = 4;
    /// `[5, at]`: call `timeout` at `at` (ms since the epoch).
    pub const TIMEOUT: u32 = 5;
    /// `[6, peer, op, a, b, c]`: a media request (the driver's `negotiate` ops; 5 prepare a
    /// connection, 6 close it).
    pub const MEDIA: u32 = 6;
    /// `[7]`: the relay accepted the join.
    pub const JOINED: u32 = 7;
    /// `[8]`: the relay did not answer the join: close the socket, then `relayClosed`.
    pub const STALLED: u32 = 8;
    /// `[9, error]`: the join failed; reject it with `error`.
    pub const JOIN_FAILED: u32 = 9;
    /// `[10]`: a clinician arrived: make the spare connection's offer soon.
    pub const WARM_SOON: u32 = 10;
    /// `[11]`: a participant connected: replace the used spare connection later.
    pub const REPLENISH: u32 = 11;
    /// `[12, peer]`: the participant left: forget its bulk-crypto keys.
    pub const PEER_LEFT: u32 = 12;
    /// `[13]`: the consultation ended: release every connection, socket, timer and listener.
    pub const ENDED: u32 = 13;
}

/// The consultation's state: everything but its IO (the driver's). Private to this module
/// but for the hooks at the end.
pub(super) struct Inner {
    session: Session,
    /// The consent ledgers attached to this consultation (`attachConsultation`).
    consent: super::consent::Attached,
    /// The visit, for the resume ticket kept in `sessionStorage` (`super::resume`).
    room: crate::crypto::RoomId,
    /// The join option `audioOnlyFallback` (default true): whether a link that cannot carry
    /// video pauses it so that audio goes on (src/quality.rs).
    audio_only_fallback: bool,
    /// The relay URLs from `relayUrl`, in order; `failover` picks the one to connect to.
    relay_urls: Vec<String>,
    failover: Failover,
    backoff: Backoff,
    /// The app's `iceServers` list a TURN server (what an unreachable peer's error says).
    has_turn: bool,
    /// What the driver must do besides the session's outputs, in order (see `todo`).
    notices: VecDeque<JsValue>,
    /// Each connected participant's link quality and audio-only fallback.
    monitors: SortedMap<ParticipantId, Monitor>,
    /// Per participant: its direct channel is open, and ICE is up. The direct path is both.
    direct: SortedMap<ParticipantId, (bool, bool)>,
    remote_streams: SortedMap<ParticipantId, MediaStream>,
    local_stream: Option<MediaStream>,
    joined_once: bool,
    ended: Option<&'static str>,
    state: &'static str,
    events: EventTarget,
    driver: Driver,
    /// This side's recording and the others' (src/web/recording.rs).
    recording: super::recording::CallRecording,
    /// The consultation's chat (src/web/chat.rs).
    chat: super::chat::CallChat,
    /// The consultation's file transfers (src/web/files.rs).
    files: super::files::CallFiles,
    /// This side's screen share and the others' (src/web/screen.rs).
    screen: super::screen::CallScreen,
}

/// A video consultation: join it with `Consultation.join(options)`.
#[wasm_bindgen]
pub struct Consultation {
    inner: Shared,
}

// ----- construction ------------------------------------------------------------------

fn parse_role(s: &str) -> Result<Role, Error> {
    Role::parse(s).ok_or(Error::InvalidArgument(
        "role: expected clinician, patient or guest",
    ))
}

/// Reads the invite from `link` (room id, secret and role keys) and checks that it is a link
/// for `role`. Every copy of a secret made here is wiped when it is dropped.
fn invite_from_options(options: &JsValue, role: Role) -> Result<Invite, Error> {
    let link = Zeroizing::new(js::string(options, "link")?);
    let invite = Invite::parse(&link)?;
    if invite.role() != role {
        return Err(Error::InvalidArgument(match invite.role() {
            Role::Clinician => "link: this is the clinician's link; role must be clinician",
            Role::Patient => "link: this is the patient's link; role must be patient",
            Role::Guest => "link: this is a guest link; role must be guest",
        }));
    }
    Ok(invite)
}

/// Most relay URLs `relayUrl` may list.
const MAX_RELAY_URLS: usize = 16;

/// `relayUrl`: one URL or a non-empty array of at most [`MAX_RELAY_URLS`], each checked by
/// `check_relay_url`. Never empty.
fn relay_urls(value: &JsValue) -> Result<Vec<String>, Error> {
    const EXPECTED: Error =
        Error::InvalidArgument("relayUrl: expected a URL or an array of 1 to 16 URLs");
    let urls = if let Some(url) = value.as_string() {
        vec![url]
    } else if Array::is_array(value) {
        let list = Array::from(value);
        if list.length() == 0 || list.length() as usize > MAX_RELAY_URLS {
            return Err(EXPECTED);
        }
        list.iter()
            .map(|v| v.as_string().ok_or(EXPECTED))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        return Err(EXPECTED);
    };
    for url in &urls {
        super::relay_url::check_relay_url(url)?;
    }
    Ok(urls)
}

/// What the driver knows when it opens the core: the session certificate's fingerprint
/// (`algorithm`, colon-hex `value`), whether WebCrypto takes the bulk crypto, whether
/// `iceServers` lists a TURN server.
struct Opening {
    algorithm: String,
    value: String,
    offload: bool,
    has_turn: bool,
}

/// The join options, checked.
struct JoinOptions {
    role: Role,
    relay_urls: Vec<String>,
    invite: Invite,
    token: Zeroizing<Vec<u8>>,
    display_name: String,
    /// `participantId`, when the app asks for one.
    asked: Option<[u8; 8]>,
    audio_only_fallback: bool,
    local_stream: Option<MediaStream>,
}

/// Checks every option the core reads (the driver reads `iceServers` and
/// `iceTransportPolicy`, which the TypeScript layer checked).
fn parse_options(options: &JsValue) -> Result<JoinOptions, Error> {
    if !options.is_object() {
        return Err(Error::InvalidArgument("options: expected an object"));
    }
    let role = parse_role(&js::string(options, "role")?)?;
    let relay_urls = relay_urls(&get(options, "relayUrl"))?;
    let invite = invite_from_options(options, role)?;
    let token = Zeroizing::new(js::string(options, "token")?.into_bytes());
    let display_name = js::string(options, "displayName")?;
    let asked = match js::opt_string(options, "participantId")? {
        Some(hex) => Some(js::parse_hex8(&hex).filter(|b| *b != [0; 8]).ok_or(
            Error::InvalidArgument("participantId: expected 16 hex digits"),
        )?),
        None => None,
    };
    let audio_only_fallback = match get(options, "audioOnlyFallback") {
        v if !present(&v) => true,
        v => v.as_bool().ok_or(Error::InvalidArgument(
            "audioOnlyFallback: expected a boolean",
        ))?,
    };
    let local_stream = get(options, "localStream");
    let local_stream = if present(&local_stream) {
        Some(
            local_stream
                .dyn_into::<MediaStream>()
                .map_err(|_| Error::InvalidArgument("localStream: expected a MediaStream"))?,
        )
    } else {
        None
    };
    Ok(JoinOptions {
        role,
        relay_urls,
        invite,
        token,
        display_name,
        asked,
        audio_only_fallback,
        local_stream,
    })
}

/// Makes the consultation's state.
fn build(options: JoinOptions, opening: Opening, driver: Driver) -> Result<Shared, Error> {
    let role = options.role;
    let authority = options.invite.authority();
    let (room, secret) = (options.invite.room, options.invite.secret);
    let certificate = crate::signaling::certificate_fingerprint(&opening.algorithm, &opening.value)
        .ok_or(Error::Unsupported(
            "WebRTC certificates (RTCPeerConnection.generateCertificate)",
        ))?;
    // A reload of a page whose participant a clinician admitted: its ticket, and its id.
    let resume = (role != Role::Clinician)
        .then(|| super::resume::take(&room, options.asked))
        .flatten();
    let id = match options.asked.or(resume.as_ref().map(|(id, _)| *id)) {
        Some(id) => id,
        None => {
            let mut b = [0u8; 8];
            js::random_bytes(&mut b)?;
            b[0] |= 1; // never the all-zero broadcast address
            b
        }
    };
    let mut entropy = Zeroizing::new([0u8; 32]);
    js::random_bytes(entropy.as_mut())?;
    let events = EventTarget::new().map_err(|_| Error::Unsupported("EventTarget is missing"))?;
    let mut session = Session::new(Config {
        room,
        secret,
        id: ParticipantId(id),
        role,
        display_name: Redacted::new(options.display_name),
        token: options.token,
        entropy: *entropy,
        capabilities: CAP_RESUME,
        timeouts: Timeouts::default(),
        authority,
        certificate,
    });
    if let Some((_, ticket)) = resume {
        session.set_resume_ticket(ticket);
    }
    session.offload_bulk_crypto(opening.offload);
    Ok(Rc::new(RefCell::new(Inner {
        session,
        consent: Default::default(),
        room,
        audio_only_fallback: options.audio_only_fallback,
        failover: Failover::new(options.relay_urls.len()),
        relay_urls: options.relay_urls,
        backoff: Backoff::default(),
        has_turn: opening.has_turn,
        notices: VecDeque::new(),
        monitors: SortedMap::new(),
        direct: SortedMap::new(),
        remote_streams: SortedMap::new(),
        local_stream: options.local_stream,
        joined_once: false,
        ended: None,
        state: "connecting",
        events,
        driver,
        recording: Default::default(),
        screen: Default::default(),
        chat: Default::default(),
        files: Default::default(),
    })))
}

#[wasm_bindgen]
impl Consultation {
    /// This participant's id (16 hex digits); pass it as `participantId` to resume after a
    /// page reload.
    #[wasm_bindgen(getter, js_name = participantId)]
    pub fn participant_id(&self) -> String {
        js::hex(&self.inner.borrow().session.id().0)
    }

    /// This participant's role.
    #[wasm_bindgen(getter, unchecked_return_type = "any")]
    pub fn role(&self) -> String {
        self.inner.borrow().session.role().as_str().to_owned()
    }

    /// The current state.
    #[wasm_bindgen(getter, unchecked_return_type = "any")]
    pub fn state(&self) -> String {
        self.inner.borrow().state.to_owned()
    }

    /// Why the consultation ended, once `state` is `ended`.
    #[wasm_bindgen(getter, js_name = endReason, unchecked_return_type = "any")]
    pub fn end_reason(&self) -> Option<String> {
        self.inner.borrow().ended.map(str::to_owned)
    }

    /// Everyone else this side knows of.
    #[wasm_bindgen(unchecked_return_type = "any[]")]
    pub fn participants(&self) -> Array {
        self.inner
            .borrow()
            .session
            .peers()
            .iter()
            .map(participant_js)
            .collect()
    }

    /// The camera and microphone stream this side sends, if started.
    #[wasm_bindgen(getter, js_name = localStream)]
    pub fn local_stream(&self) -> Option<MediaStream> {
        self.inner.borrow().local_stream.clone()
    }

    /// The stream received from a participant, once its first track arrived.
    #[wasm_bindgen(js_name = remoteStream)]
    pub fn remote_stream(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Option<MediaStream> {
        let id = ParticipantId(js::parse_hex8(participant_id)?);
        self.inner.borrow().remote_streams.get(&id).cloned()
    }

    /// Where this object's events (`ConsultationEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.inner.borrow().events.clone()
    }

    /// (Clinicians) lets a waiting participant into the call. Throws `InvalidState` if this
    /// side is not a clinician or the participant is not waiting.
    pub fn admit(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Result<(), JsError> {
        let id = parse_id(participant_id)?;
        act(&self.inner, &mut |s, now| s.admit(id, now))
    }

    /// (Clinicians) turns a waiting participant away; their consultation ends as `denied`.
    pub fn deny(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Result<(), JsError> {
        let id = parse_id(participant_id)?;
        act(&self.inner, &mut |s, now| s.deny(id, now))
    }

    /// Records that this user compared the SAS with the participant and it matched. The
    /// other side is told (`sasconfirmed`); a mismatch raises a `sas-mismatch` security event.
    #[wasm_bindgen(js_name = confirmSas)]
    pub fn confirm_sas(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Result<(), JsError> {
        let id = parse_id(participant_id)?;
        act(&self.inner, &mut |s, now| s.confirm_sas(id, now))
    }

    /// Sends application data to a participant over the end-to-end encrypted channel:
    /// delivered once, in order, while both stay in the call (`dataundelivered` otherwise).
    #[wasm_bindgen(js_name = sendData)]
    pub fn send_data(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
        data: &[u8],
    ) -> Result<(), JsError> {
        let id = parse_id(participant_id)?;
        act(&self.inner, &mut |s, now| s.send_app_data(id, data, now))
    }

    /// Restarts ICE with a participant (new candidates, same encryption keys): use it when
    /// the network path changed. The SDK also does this by itself when ICE fails and when
    /// the device comes back online.
    #[wasm_bindgen(js_name = restartIce)]
    pub fn restart_ice(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Result<(), JsError> {
        let id = parse_id(participant_id)?;
        act(&self.inner, &mut |s, now| s.restart_ice(id, now))
    }

    /// Leaves the consultation: tells the others (sealed), then closes every peer connection,
    /// stops local tracks, closes the relay socket and releases every timer and callback.
    /// A clinician passing `endForEveryone: true` ends it for all participants.
    #[wasm_bindgen(js_name = hangUp)]
    pub fn hang_up(
        &self,
        #[wasm_bindgen(js_name = endForEveryone)] end_for_everyone: Option<bool>,
    ) {
        if self.inner.borrow().ended.is_some() {
            return;
        }
        let _ = act(&self.inner, &mut |s, now| {
            if end_for_everyone == Some(true) {
                s.end_consultation(now)
            } else {
                s.hang_up(now)
            }
        });
        teardown(&self.inner, "hung-up");
    }
}

// ----- the driver's side (pkg/src/call-driver.ts); not public API ----------------------------
//
// The driver feeds each IO event in, then drains `poll`. Every method here tolerates any
// value JavaScript passes (a malformed one is ignored or refused), though only the driver
// calls them.

#[wasm_bindgen]
impl Consultation {
    /// `relayUrl` checked: the URLs to connect to, in order.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = relayUrls, skip_typescript)]
    pub fn relay_urls_of(value: &JsValue) -> Result<Vec<String>, JsError> {
        Ok(relay_urls(value)?)
    }

    /// Checks the join options (what `open` would refuse, without opening anything).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = checkOptions, skip_typescript)]
    pub fn check_options(options: &JsValue) -> Result<(), JsError> {
        parse_options(options)?;
        Ok(())
    }

    /// The session's certificate, made ahead of need where it can be: resolves to
    /// `[RTCCertificate, hash name, colon-hex digest]` (src/web/snippets/peer.js).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = makeCertificate, skip_typescript)]
    pub fn make_certificate() -> Promise {
        peer::create_certificate()
    }

    /// Makes the consultation from the join options and the session certificate's
    /// fingerprint (`algorithm`, `value`); its IO is `driver`'s.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = open, skip_typescript)]
    pub fn open(
        options: &JsValue,
        algorithm: String,
        value: String,
        offload: bool,
        has_turn: bool,
        driver: Driver,
    ) -> Result<Consultation, JsError> {
        let opening = Opening {
            algorithm,
            value,
            offload,
            has_turn,
        };
        Ok(Consultation {
            inner: build(parse_options(options)?, opening, driver)?,
        })
    }

    /// The next thing the driver must do, as `[kind, …]` (see `todo`), or `undefined` when
    /// nothing is left (the public state is then brought up to date). The session's events
    /// for the app are dispatched on the way.
    #[doc(hidden)]
    #[wasm_bindgen(skip_typescript)]
    pub fn poll(&self) -> JsValue {
        loop {
            let output = {
                let Ok(mut guard) = self.inner.try_borrow_mut() else {
                    return JsValue::UNDEFINED;
                };
                if let Some(notice) = guard.notices.pop_front() {
                    return notice;
                }
                guard.session.poll_output()
            };
            let Some(output) = output else {
                update_state(&self.inner);
                return JsValue::UNDEFINED;
            };
            if let Some(todo) = output_js(&self.inner, output) {
                return todo;
            }
        }
    }

    /// The relay socket opened.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = relayOpened, skip_typescript)]
    pub fn relay_opened(&self) {
        input(&self.inner, |i, now| {
            let _ = i.session.handle_relay_connected(now);
        });
    }

    /// A binary message from the relay.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = relayMessage, skip_typescript)]
    pub fn relay_message(&self, bytes: &[u8]) {
        input(&self.inner, |i, now| {
            let _ = i.session.handle_relay_message(bytes, now);
        });
    }

    /// The relay socket closed with `code` (1006 for a drop, or a join that `stalled`): the
    /// failover policy picks the next attempt (src/reconnect.rs). Returns the delay before
    /// it, in ms; `undefined` when there is none (the join failed, or the visit ended).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = relayClosed, skip_typescript)]
    pub fn relay_closed(&self, code: f64, stalled: bool) -> Option<f64> {
        // A code outside u16 is no code the protocol knows: read it as a drop.
        let code = js::u16_of(code).unwrap_or(1006);
        let inner = &self.inner;
        let (next, joined_once) = {
            let mut guard = inner.try_borrow_mut().ok()?;
            if guard.ended.is_some() {
                return None;
            }
            let was_joined = guard.session.is_relay_joined();
            guard.session.handle_relay_disconnected(now_ms());
            (
                guard.failover.handle_closed(code, was_joined),
                guard.joined_once,
            )
        };
        match (next, joined_once) {
            (AfterClose::Retry, _) => {
                let mut r = [0u8; 4];
                let _ = js::random_bytes(&mut r);
                let delay = inner
                    .borrow_mut()
                    .backoff
                    .next_delay_ms(u32::from_le_bytes(r));
                Some(delay as f64)
            }
            (AfterClose::GiveUp, false) => {
                let err = if (4000..5000).contains(&code) {
                    Error::Relay(code)
                } else if stalled {
                    Error::Network("the relay did not answer the join in time")
                } else {
                    Error::Network("the relay closed the connection before the join completed")
                };
                fail_join(inner, err);
                None
            }
            (AfterClose::GiveUp, true) => {
                dispatch(inner, "error", error_detail(&Error::Relay(code), None));
                teardown(inner, "relay-refused");
                None
            }
        }
    }

    /// The URL of the relay to connect to now (the failover policy's pick).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = relayUrl, skip_typescript)]
    pub fn relay_url(&self) -> String {
        let guard = self.inner.borrow();
        // `failover` counts exactly `relay_urls.len()` URLs, so the index is always in range.
        guard
            .relay_urls
            .get(guard.failover.current())
            .cloned()
            .unwrap_or_default()
    }

    /// The device came back online, or the page became visible: the next attempt goes at once.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = resetBackoff, skip_typescript)]
    pub fn reset_backoff(&self) {
        self.inner.borrow_mut().backoff.reset();
    }

    /// The session's timer fired.
    #[doc(hidden)]
    #[wasm_bindgen(skip_typescript)]
    pub fn timeout(&self) {
        input(&self.inner, |i, now| i.session.handle_timeout(now));
    }

    /// An event of the connection to `peer`: `kind` and `a`, `b`, `c` as
    /// pkg/src/peer.ts's `createPeer` reports them.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = peerEvent, skip_typescript)]
    pub fn peer_event(&self, peer: &str, kind: u32, a: JsValue, b: JsValue, c: JsValue) {
        if let (Ok(id), Some(event)) = (parse_id(peer), peer::peer_event(kind, a, b, c)) {
            on_peer(&self.inner, id, event);
        }
    }

    /// The local description a media request made on the connection to `peer`.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = localDescription, skip_typescript)]
    pub fn local_description(&self, peer: &str, kind: &str, sdp: String) {
        let kind = match kind {
            "offer" => SdpKind::Offer,
            "answer" => SdpKind::Answer,
            _ => return,
        };
        if let Ok(id) = parse_id(peer) {
            input(&self.inner, |i, now| {
                let _ = i.session.handle_local_description(id, kind, &sdp, now);
            });
        }
    }

    /// The media path to `peer` failed: no `RTCPeerConnection` could be made for it
    /// (`connection`), or a WebRTC negotiation step failed (the session's negotiation
    /// timeout retries). The app hears about it.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = mediaFailed, skip_typescript)]
    pub fn media_failed(&self, peer: &str, connection: bool) {
        let error = Error::Media(if connection {
            "cannot create RTCPeerConnection"
        } else {
            "a WebRTC negotiation step failed"
        });
        let detail = error_detail(&error, parse_id(peer).ok());
        dispatch(&self.inner, "error", detail);
    }

    /// What WebCrypto made of a frame from `peer`'s direct path (`body`, or `undefined` when
    /// its tag did not verify), for the session (bulk crypto offload).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = directOpened, skip_typescript)]
    pub fn direct_opened(&self, peer: &str, key_id: &str, seq: f64, body: Option<Vec<u8>>) {
        let (Ok(id), Some(key_id)) = (parse_id(peer), js::parse_hex8(key_id)) else {
            return;
        };
        if !(seq.is_finite() && seq >= 0.0) {
            return;
        }
        let seq = seq as u64;
        input(&self.inner, |i, now| {
            let _ = match body {
                Some(body) => i.session.handle_direct_opened(id, key_id, seq, &body, now),
                None => i.session.handle_direct_open_failed(id, key_id, seq, now),
            };
        });
    }

    /// One stats sample of the connection to `peer` (pkg/src/peer.ts's
    /// `qualityCounters`) for its monitor (src/quality.rs). Tells the app (`quality`, and
    /// `videopaused` / `videoresumed` on a change) and returns the audio-only fallback's
    /// decision for the driver to apply: 1 send video again, 0 stop sending it, -1 none.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = qualitySample, skip_typescript)]
    pub fn quality_sample(&self, peer: &str, counters: &[f64]) -> i32 {
        let Ok(id) = parse_id(peer) else { return -1 };
        assess_quality(&self.inner, id, counters)
    }

    /// Asks the session to renegotiate with `peer` (after the driver changed its tracks).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = requestRenegotiation, skip_typescript)]
    pub fn request_renegotiation(&self, peer: &str) {
        if let Ok(id) = parse_id(peer) {
            let _ = act(&self.inner, &mut |s, now| s.request_renegotiation(id, now));
        }
    }

    /// Stops the local media consent does not cover (before a new connection gets tracks).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = enforceConsent, skip_typescript)]
    pub fn enforce_consent(&self) {
        enforce_consent(&self.inner);
    }

    /// Consent's refusal of sending local media of `kind` (`"audio"` or `"video"`): the
    /// `ConsentDenied` error, or `undefined` when it may be sent.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = mediaRefusal, skip_typescript)]
    pub fn media_refusal(&self, kind: &str) -> JsValue {
        match media_category(kind).and_then(|c| consent_decision(&self.inner, c)) {
            Some(d) if !d.allowed => JsError(CoreError::ConsentDenied(d.reason).into()).into(),
            _ => JsValue::UNDEFINED,
        }
    }

    /// The error of a media call the consultation's state refuses: `InvalidState` after the
    /// end (`ended`), or without local media.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = stateError, skip_typescript)]
    pub fn state_error(ended: bool) -> JsValue {
        let e = if ended {
            crate::signaling::SignalingError::Closed
        } else {
            crate::signaling::SignalingError::InvalidState
        };
        JsError(CoreError::Signaling(e).into()).into()
    }

    /// The local media the driver now sends (`startMedia`, `stopMedia`).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = setLocalStream, skip_typescript)]
    pub fn set_local_stream(&self, stream: Option<MediaStream>) {
        if let Ok(mut guard) = self.inner.try_borrow_mut() {
            guard.local_stream = stream;
        }
    }

    /// The shared screen this side sends, if any (the connections send it too).
    #[doc(hidden)]
    #[wasm_bindgen(getter = ownScreen, skip_typescript)]
    pub fn own_screen(&self) -> Option<MediaStream> {
        self.inner.borrow().screen.own_stream().cloned()
    }

    /// Whether the relay accepted this consultation's join at least once.
    #[doc(hidden)]
    #[wasm_bindgen(getter = joinedOnce, skip_typescript)]
    pub fn joined_once(&self) -> bool {
        self.inner.borrow().joined_once
    }

    /// Whether this platform keeps one live capture per kind (iOS): the old camera must stop
    /// before another opens (docs/BROWSERS.md).
    #[doc(hidden)]
    #[wasm_bindgen(getter = oneCapturePerKind, skip_typescript)]
    pub fn one_capture_per_kind(&self) -> bool {
        super::capabilities::platform().one_capture_per_kind()
    }

    /// Whether the consultation ended.
    #[doc(hidden)]
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn ended(&self) -> bool {
        self.inner.borrow().ended.is_some()
    }

    /// The join failed: the consultation ends (`relay-refused`).
    #[doc(hidden)]
    #[wasm_bindgen(skip_typescript)]
    pub fn abandon(&self) {
        teardown(&self.inner, "relay-refused");
    }
}

// ----- inputs ----------------------------------------------------------------------------

fn parse_id(s: &str) -> Result<ParticipantId, Error> {
    js::parse_hex8(s)
        .map(ParticipantId)
        .ok_or(Error::InvalidArgument(
            "participantId: expected 16 hex digits",
        ))
}

/// Runs a user action on the session, then has the driver carry out its outputs. The action
/// is a `dyn` closure so that this body exists once in the wasm rather than once per action.
fn act(
    inner: &Shared,
    f: &mut dyn FnMut(&mut Session, u64) -> Result<(), SessionError>,
) -> Result<(), JsError> {
    // By construction no borrow is held while app code runs; if that invariant ever broke,
    // refuse the call instead of panicking (a panic would kill the whole wasm module).
    let result = match inner.try_borrow_mut() {
        Ok(mut guard) => f(&mut guard.session, now_ms()),
        Err(_) => Err(SessionError::InvalidState),
    };
    pump(inner);
    result.map_err(|e| JsError(e.into()))
}

/// Feeds one IO input from the driver into the session (errors are already reported as
/// security events); the driver drains `poll` after each.
fn input(inner: &Shared, f: impl FnOnce(&mut Inner, u64)) {
    let Ok(mut guard) = inner.try_borrow_mut() else {
        return;
    };
    if guard.ended.is_none() {
        f(&mut guard, now_ms());
    }
}

/// Has the driver drain `poll`. No borrow is held: the driver calls straight back in.
fn pump(inner: &Shared) {
    let driver = match inner.try_borrow() {
        Ok(guard) => guard.driver.clone(),
        Err(_) => return,
    };
    driver.wake();
}

/// Rejects the join with `error` (the driver's `[9, error]`; only the first counts there).
fn fail_join(inner: &Shared, error: Error) {
    if let Ok(mut guard) = inner.try_borrow_mut() {
        let notice = array(&[todo::JOIN_FAILED.into(), JsError(error).into()]);
        guard.notices.push_back(notice);
    }
}

fn array(items: &[JsValue]) -> JsValue {
    items.iter().collect::<Array>().into()
}

// ----- outputs ---------------------------------------------------------------------------

/// One session output as the driver's `[kind, …]`; `None` for an event, which is handled
/// here.
fn output_js(inner: &Shared, output: Output) -> Option<JsValue> {
    let hex = |p: ParticipantId| JsValue::from(js::hex(&p.0));
    let bytes = |b: &[u8]| JsValue::from(Uint8Array::from(b));
    Some(match output {
        Output::Transmit(b) => array(&[todo::TRANSMIT.into(), bytes(&b)]),
        Output::Direct { peer, frame } => array(&[todo::DIRECT.into(), hex(peer), bytes(&frame)]),
        Output::OffloadKey {
            peer,
            key_id,
            send,
            key,
        } => array(&[
            todo::OFFLOAD_KEY.into(),
            bulk_key_name(peer, key_id, send).into(),
            bytes(&key.0[..]),
            send.into(),
        ]),
        Output::DirectSeal {
            peer,
            key_id,
            aad,
            nonce,
            plaintext,
        } => array(&[
            todo::DIRECT_SEAL.into(),
            hex(peer),
            bulk_key_name(peer, key_id, true).into(),
            bytes(&aad),
            bytes(&nonce),
            bytes(&plaintext),
        ]),
        Output::DirectOpen {
            peer,
            key_id,
            seq,
            nonce,
            frame,
        } => array(&[
            todo::DIRECT_OPEN.into(),
            hex(peer),
            bulk_key_name(peer, key_id, false).into(),
            js::hex(&key_id).into(),
            (seq as f64).into(),
            bytes(&nonce),
            bytes(&frame),
        ]),
        Output::Timeout(at) => array(&[todo::TIMEOUT.into(), (at as f64).into()]),
        Output::Media { peer, request } => media_js(inner, peer, request),
        Output::Event(event) => {
            on_event(inner, event);
            return None;
        }
    })
}

/// The name under which the page's WebCrypto holds a key of the pair with `peer`.
fn bulk_key_name(peer: ParticipantId, key_id: [u8; 8], send: bool) -> String {
    format!(
        "{}:{}:{}",
        js::hex(&peer.0),
        js::hex(&key_id),
        if send { 's' } else { 'o' }
    )
}

/// A media request as the driver's `[6, peer, op, a, b, c]`. Closing a connection forgets
/// what this side kept of it (its stream, monitor and direct path) first.
fn media_js(inner: &Shared, peer: ParticipantId, request: MediaRequest) -> JsValue {
    let none = || JsValue::UNDEFINED;
    let (op, a, b, c): (u32, JsValue, JsValue, JsValue) = match request {
        MediaRequest::CreateOffer { ice_restart } => (0, ice_restart.into(), none(), none()),
        MediaRequest::CreateAnswer => (1, none(), none(), none()),
        MediaRequest::SetRemoteDescription { kind, sdp } => {
            let kind = if kind == SdpKind::Offer {
                "offer"
            } else {
                "answer"
            };
            (2, kind.into(), sdp.into(), none())
        }
        MediaRequest::AddIceCandidate(c) => (
            3,
            c.candidate.into(),
            c.sdp_mid.map_or(JsValue::NULL, JsValue::from),
            c.sdp_mline_index.map_or(JsValue::NULL, JsValue::from),
        ),
        MediaRequest::Rollback => (4, none(), none(), none()),
        MediaRequest::Prepare => (5, none(), none(), none()),
        MediaRequest::ClosePeer => {
            if let Ok(mut guard) = inner.try_borrow_mut() {
                guard.remote_streams.remove(&peer);
                guard.monitors.remove(&peer);
                guard.direct.remove(&peer);
            }
            super::files::route_changed(inner, peer, false);
            (6, none(), none(), none())
        }
    };
    array(&[
        todo::MEDIA.into(),
        js::hex(&peer.0).into(),
        op.into(),
        a,
        b,
        c,
    ])
}

fn on_peer(inner: &Shared, id: ParticipantId, event: PeerEvent) {
    match event {
        PeerEvent::Candidate(c) => input(inner, |i, now| {
            let _ = i.session.handle_local_candidate(id, c, now);
        }),
        PeerEvent::Ice(state) => {
            input(inner, |i, now| {
                let _ = i.session.handle_ice_state(id, state, now);
            });
            let up = matches!(state, IceState::Connected | IceState::Completed);
            direct_changed(inner, id, |d| d.1 = up);
        }
        PeerEvent::Direct(open) => direct_changed(inner, id, |d| d.0 = open),
        PeerEvent::DirectFrame(frame) => input(inner, |i, now| {
            let _ = i.session.handle_direct_frame(id, &frame, now);
        }),
        PeerEvent::Track(track, sender_stream) => {
            let screen = sender_stream
                .as_ref()
                .is_some_and(|s| inner.borrow_mut().screen.claim(id, s));
            let stream = match sender_stream {
                // The screen a clinician announced: its own stream, not the camera's.
                Some(stream) if screen => stream,
                sender_stream => {
                    let mut guard = inner.borrow_mut();
                    // `cloned()` and `Clone::clone` share the stream; `.clone()` would call
                    // the JS `clone()` method of MediaStream, which copies it.
                    let known = guard.remote_streams.get(&id).cloned();
                    // The participant's stream, else the sender's own, else a new one
                    // (snippet).
                    let stream = peer::add_remote_track(known, sender_stream, &track);
                    guard.remote_streams.insert(id, Clone::clone(&stream));
                    stream
                }
            };
            let detail = object(&[
                ("participantId", js::hex(&id.0).into()),
                ("track", track.into()),
                ("stream", stream.into()),
                ("screen", screen.into()),
            ]);
            dispatch(inner, "track", detail);
        }
        PeerEvent::IceError { code, text, url } => {
            // 701 is "host unreachable" noise for candidates that cannot work; real server
            // refusals (401 wrong credential, 403 forbidden) are what the app must see.
            if code != 701 {
                let detail = error_detail(
                    &Error::Network("a STUN/TURN server refused the request"),
                    Some(id),
                );
                set(&detail, "iceErrorCode", code);
                set(&detail, "url", url);
                set(
                    &detail,
                    "message",
                    format!("ICE server error {code}: {text}"),
                );
                dispatch(inner, "error", detail);
            }
        }
    }
}

/// The direct path to `id` is its data channel open while ICE is connected (during an ICE
/// restart the channel stays open but carries nothing): when that changes, the session and
/// the file transfers are told, and bulk data takes the direct path or the relay.
fn direct_changed(inner: &Shared, id: ParticipantId, f: impl FnOnce(&mut (bool, bool))) {
    let up = {
        let Ok(mut guard) = inner.try_borrow_mut() else {
            return;
        };
        if guard.ended.is_some() {
            return;
        }
        let mut state = guard.direct.get(&id).copied().unwrap_or_default();
        f(&mut state);
        guard.direct.insert(id, state);
        state.0 && state.1
    };
    super::files::route_changed(inner, id, up);
}

/// Queues a notice for the driver (see `todo`), about `peer` if given.
fn notice(inner: &Shared, kind: u32, peer: Option<ParticipantId>) {
    let mut items = vec![JsValue::from(kind)];
    items.extend(peer.map(|p| JsValue::from(js::hex(&p.0))));
    if let Ok(mut guard) = inner.try_borrow_mut() {
        guard.notices.push_back(array(&items));
    }
}

fn on_event(inner: &Shared, event: Event) {
    let hex = |p: ParticipantId| JsValue::from(js::hex(&p.0));
    match event {
        Event::PhaseChanged(_) | Event::RelayLost => {}
        Event::RelayConnected => {
            {
                let mut guard = inner.borrow_mut();
                guard.joined_once = true;
                guard.backoff.reset();
                guard.failover.handle_joined();
                // The driver resolves the join, makes a clinician's spare connection (while
                // the first hellos are on their way) and starts the quality probe.
                guard.notices.push_back(array(&[todo::JOINED.into()]));
            }
            super::files::resume_stalled(inner);
        }
        Event::RelayStalled => {
            // Read as a drop: the driver closes the socket, then reports it closed.
            notice(inner, todo::STALLED, None);
        }
        Event::RelayError { code } => {
            if inner.borrow().joined_once {
                dispatch(inner, "error", error_detail(&Error::Relay(code), None));
            } else {
                fail_join(inner, Error::Relay(code));
            }
        }
        Event::PeerJoined { peer, role, .. } => {
            if role == Role::Clinician {
                notice(inner, todo::WARM_SOON, None);
            }
            let info = inner.borrow().session.peer(peer);
            if let Some(p) = info {
                let detail = object(&[("participant", participant_js(&p))]);
                dispatch(inner, "participantjoined", detail);
            }
            super::recording::enforce(inner);
        }
        Event::AdmissionRequested { peer, .. } => {
            let info = inner.borrow().session.peer(peer);
            if let Some(p) = info {
                let detail = object(&[("participant", participant_js(&p))]);
                dispatch(inner, "admissionrequested", detail);
            }
        }
        Event::PeerAdmitted { peer } => {
            dispatch(
                inner,
                "participantadmitted",
                object(&[("participantId", hex(peer))]),
            );
            super::recording::enforce(inner);
            super::chat::peer_admitted(inner, peer);
        }
        Event::PeerDenied { peer } => dispatch(
            inner,
            "participantdenied",
            object(&[("participantId", hex(peer))]),
        ),
        Event::PeerConnected { peer } => {
            notice(inner, todo::REPLENISH, None);
            dispatch(
                inner,
                "participantconnected",
                object(&[("participantId", hex(peer))]),
            );
            super::recording::enforce(inner);
            super::files::resume_stalled(inner);
        }
        Event::PeerUnreachable { peer } => {
            // The likely reason, from the app's ICE configuration.
            let (reason, error) = if inner.borrow().has_turn {
                (
                    "blocked",
                    Error::Network(
                        "no media path after 15 s, even through the TURN server: the network may block it, or the TURN server is unreachable; try another network",
                    ),
                )
            } else {
                (
                    "no-turn",
                    Error::Network(
                        "no media path after 15 s and no TURN server is configured: a firewall or NAT blocks the direct path; configure a TURN server (iceServers)",
                    ),
                )
            };
            let detail = error_detail(&error, Some(peer));
            set(&detail, "reason", reason);
            dispatch(inner, "error", detail);
        }
        Event::PeerMediaFailed { peer } => {
            dispatch(
                inner,
                "error",
                error_detail(
                    &Error::Media("the media path failed after every ICE restart"),
                    Some(peer),
                ),
            );
        }
        Event::PeerLeft { peer, reason } => {
            let reason = match reason {
                LeaveReason::Left => "left",
                LeaveReason::Lost => "lost",
                LeaveReason::Removed => "removed",
                LeaveReason::Restarted => "restarted",
            };
            dispatch(
                inner,
                "participantleft",
                object(&[("participantId", hex(peer)), ("reason", reason.into())]),
            );
            notice(inner, todo::PEER_LEFT, Some(peer));
            super::recording::peer_left(inner, peer);
            super::files::peer_left(inner, peer);
            super::screen::peer_left(inner, peer);
        }
        Event::LinkMismatch { peer, role } => {
            let detail = object(&[("participantId", hex(peer)), ("role", role.as_str().into())]);
            dispatch(inner, "linkmismatch", detail);
        }
        Event::HandshakeTimeout { peer } => {
            let detail = object(&[
                ("kind", "handshake-timeout".into()),
                ("participantId", hex(peer)),
                ("total", 1.into()),
            ]);
            dispatch(inner, "security", detail);
        }
        Event::SasReady { peer, sas } => {
            let detail = object(&[("participantId", hex(peer)), ("sas", sas_js(&sas))]);
            dispatch(inner, "sas", detail);
        }
        Event::ResumeTicket(ticket) => {
            let (room, id) = {
                let guard = inner.borrow();
                (guard.room, guard.session.id())
            };
            super::resume::store(&room, id, &ticket);
        }
        Event::Resumed { peer } => {
            dispatch(inner, "resumed", object(&[("participantId", hex(peer))]));
        }
        Event::SasConfirmedByPeer { peer } => dispatch(
            inner,
            "sasconfirmed",
            object(&[("participantId", hex(peer))]),
        ),
        Event::PeerVideoPaused { peer, paused } => {
            let kind = if paused {
                "videopaused"
            } else {
                "videoresumed"
            };
            let detail = object(&[
                ("participantId", hex(peer)),
                ("reason", "bandwidth".into()),
                ("direction", "receiving".into()),
            ]);
            dispatch(inner, kind, detail);
        }
        Event::PeerScreenShare { peer, notice } => super::screen::on_notice(inner, peer, notice),
        Event::AppData { peer, data } if RecordingSignal::is_recording(&data) => {
            // The recording indicator's reserved tag: the SDK's own, not app data.
            super::recording::on_signal(inner, peer, &data);
        }
        Event::AppData { peer, data } if crate::chat::Frame::is_chat(&data) => {
            // The chat's reserved tag: the SDK's own, not app data.
            super::chat::on_frame(inner, peer, &data);
        }
        Event::AppData { peer, data } if crate::files::Frame::is_file(&data) => {
            // The file sharing's reserved tag: the SDK's own, not app data.
            super::files::on_frame(inner, peer, &data);
        }
        Event::AppData { peer, data } => {
            let detail = object(&[
                ("participantId", hex(peer)),
                ("data", Uint8Array::from(data.as_slice()).into()),
            ]);
            dispatch(inner, "data", detail);
        }
        Event::AppDataUndelivered { peer, count } => {
            dispatch(
                inner,
                "dataundelivered",
                object(&[
                    ("participantId", hex(peer)),
                    ("count", (count as f64).into()),
                ]),
            );
        }
        Event::Security(ev) => {
            let detail = object(&[
                ("kind", security_kind(ev.kind).into()),
                ("total", (ev.total as f64).into()),
            ]);
            if let Some(p) = ev.peer {
                set(&detail, "participantId", hex(p));
            }
            dispatch(inner, "security", detail);
        }
        Event::Closed(reason) => {
            let reason = match reason {
                CloseReason::HungUp => "hung-up",
                CloseReason::EndedByClinician => "ended-by-clinician",
                CloseReason::Denied => "denied",
                CloseReason::WaitingRoomTimeout => "waiting-room-timeout",
            };
            teardown(inner, reason);
        }
    }
}

fn security_kind(kind: SecurityKind) -> &'static str {
    match kind {
        SecurityKind::AuthenticationFailed => "authentication-failed",
        SecurityKind::Replay => "replay",
        SecurityKind::Misrouted => "misrouted",
        SecurityKind::RoleConflict => "role-conflict",
        SecurityKind::ProtocolViolation => "protocol-violation",
        SecurityKind::RateLimited => "rate-limited",
        SecurityKind::Downgrade => "downgrade",
        SecurityKind::SasMismatch => "sas-mismatch",
        SecurityKind::Malformed => "malformed",
        SecurityKind::ResumeRefused => "resume-refused",
    }
}

/// Recomputes the public state and announces a change.
fn update_state(inner: &Shared) {
    let (state, reason) = {
        let Ok(guard) = inner.try_borrow() else {
            return;
        };
        (public_state(&guard), guard.ended)
    };
    let changed = {
        let mut guard = inner.borrow_mut();
        std::mem::replace(&mut guard.state, state) != state
    };
    if changed {
        let detail = object(&[("state", state.into())]);
        if let Some(r) = reason {
            set(&detail, "endReason", r);
        }
        dispatch(inner, "statechange", detail);
    }
}

fn public_state(i: &Inner) -> &'static str {
    if i.ended.is_some() {
        return "ended";
    }
    if i.joined_once && !i.session.is_relay_joined() {
        return "reconnecting";
    }
    match i.session.phase() {
        Phase::Idle | Phase::Joining => "connecting",
        Phase::Waiting => "waiting",
        Phase::Closed => "ended",
        Phase::InCall => {
            let peers = i.session.peers();
            if peers.iter().any(|p| p.connected) {
                "connected"
            } else if peers.iter().any(|p| p.in_call && p.present) {
                "connecting"
            } else {
                "admitted"
            }
        }
    }
}

/// Ends the consultation on this side: its recording and screen share stop, its local
/// tracks stop, and the driver releases the connections, the socket, the timers and the
/// listeners (`[13]`).
fn teardown(inner: &Shared, reason: &'static str) {
    if inner.borrow().ended.is_none() {
        super::recording::hung_up(inner);
        super::screen::hung_up(inner);
    }
    {
        let mut guard = inner.borrow_mut();
        if guard.ended.is_some() {
            return;
        }
        guard.ended = Some(reason);
        // The visit is over for this page: a reload must not resume it.
        super::resume::clear(&guard.room);
        guard.remote_streams.clear();
        guard.monitors.clear();
        guard.direct.clear();
        if let Some(stream) = guard.local_stream.take() {
            peer::stop_tracks(&stream);
        }
        guard.notices.push_back(array(&[todo::ENDED.into()]));
    }
    update_state(inner);
    pump(inner);
}

/// Brings every peer connection in line with the local stream and the shared screen, and
/// renegotiates (the driver's work: it holds the connections).
fn renegotiate_all(inner: &Shared) {
    let driver = match inner.try_borrow() {
        Ok(guard) => guard.driver.clone(),
        Err(_) => return,
    };
    driver.renegotiate();
}

// ----- network quality ---------------------------------------------------------------------

/// Feeds one stats sample of the connection to `id` to its monitor (src/quality.rs), tells
/// the peer and the app (`videopaused` / `videoresumed` when the audio-only fallback's
/// decision changes, `quality` every time), and returns that decision for the driver: 1 send
/// video again, 0 stop sending it, -1 none.
fn assess_quality(inner: &Shared, id: ParticipantId, counters: &[f64]) -> i32 {
    let count = |i: usize| {
        counters
            .get(i)
            .copied()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map_or(0, |x| x as u64)
    };
    let finite = |i: usize| {
        counters
            .get(i)
            .copied()
            .filter(|x| x.is_finite() && *x >= 0.0)
    };
    let sample = crate::quality::Sample {
        rtt_ms: finite(0),
        packets_received: count(1),
        packets_lost: count(2),
        packets_sent: count(3),
        packets_sent_lost: count(4),
        available_outgoing_kbps: finite(5).map(|k| k.min(f64::from(u32::MAX)) as u32),
    };
    let frames_decoded = finite(6);
    let assessment = {
        let Ok(mut guard) = inner.try_borrow_mut() else {
            return -1;
        };
        if guard.ended.is_some() {
            return -1;
        }
        let now = now_ms();
        let fallback = guard.audio_only_fallback;
        let monitor = match guard.monitors.get_mut(&id) {
            Some(m) => m,
            None => {
                let m = if fallback {
                    Monitor::new()
                } else {
                    Monitor::without_fallback()
                };
                guard.monitors.insert(id, m);
                match guard.monitors.get_mut(&id) {
                    Some(m) => m,
                    None => return -1,
                }
            }
        };
        let assessment = monitor.handle_sample(sample, now);
        if assessment.decision.is_some() {
            // The peer shows it too (a signal over the sealed session).
            let _ = guard
                .session
                .set_video_paused(id, assessment.video_paused, now);
        }
        assessment
    };
    if assessment.decision.is_some() {
        pump(inner);
    }
    let participant = JsValue::from(js::hex(&id.0));
    if let Some(decision) = assessment.decision {
        let kind = match decision {
            crate::quality::Decision::PauseVideo => "videopaused",
            crate::quality::Decision::ResumeVideo => "videoresumed",
        };
        let detail = object(&[
            ("participantId", participant.clone()),
            ("reason", "bandwidth".into()),
            ("direction", "sending".into()),
        ]);
        dispatch(inner, kind, detail);
    }
    let detail = object(&[
        ("participantId", participant),
        ("level", assessment.level.as_str().into()),
        ("videoPaused", assessment.video_paused.into()),
    ]);
    let optional = [
        ("rttMs", assessment.rtt_ms),
        ("packetLossPercent", assessment.loss_percent),
        (
            "availableOutgoingKbps",
            assessment.available_outgoing_kbps.map(f64::from),
        ),
        ("framesDecoded", frames_decoded),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            set(&detail, key, JsValue::from(v));
        }
    }
    dispatch(inner, "quality", detail);
    match assessment.decision {
        Some(crate::quality::Decision::ResumeVideo) => 1,
        Some(crate::quality::Decision::PauseVideo) => 0,
        None => -1,
    }
}

// ----- JS values ---------------------------------------------------------------------------
fn dispatch(inner: &Shared, kind: &str, detail: Object) {
    let events = inner.borrow().events.clone();
    fire(&events, kind, &detail);
}

/// Dispatches a `CustomEvent` with `detail` on `events` (a consultation's or a recording's).
pub(super) fn fire(events: &EventTarget, kind: &str, detail: &JsValue) {
    let init = CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(kind, &init) {
        let _ = events.dispatch_event(&event);
    }
}

fn error_detail(error: &Error, peer: Option<ParticipantId>) -> Object {
    let detail = object(&[
        ("code", error.code().as_str().into()),
        ("message", error.to_string().into()),
    ]);
    if let Some(p) = peer {
        set(&detail, "participantId", js::hex(&p.0));
    }
    if let Error::Relay(code) = error {
        set(&detail, "relayCode", *code);
    }
    if let Some(reason) = super::error::reason(error) {
        set(&detail, "reason", reason);
    }
    detail
}

fn sas_js(sas: &crate::crypto::Sas) -> JsValue {
    let emoji: Array = sas
        .emoji()
        .iter()
        .map(|(e, name)| JsValue::from(object(&[("emoji", (*e).into()), ("name", (*name).into())])))
        .collect();
    object(&[("digits", sas.digits().into()), ("emoji", emoji.into())]).into()
}

fn participant_js(p: &PeerInfo) -> JsValue {
    let obj = object(&[
        ("id", js::hex(&p.id.0).into()),
        ("role", p.role.as_str().into()),
        ("present", p.present.into()),
        ("inCall", p.in_call.into()),
        ("secured", p.secured.into()),
        ("connected", p.connected.into()),
        ("sasConfirmed", p.sas_confirmed.into()),
        ("sasConfirmedByPeer", p.sas_confirmed_by_peer.into()),
    ]);
    if let Some(name) = &p.name {
        set(&obj, "name", name.expose().as_str());
    }
    if let Some(sas) = &p.sas {
        set(&obj, "sas", sas_js(sas));
    }
    if let Some(binding) = &p.sas_binding {
        set(&obj, "sasBinding", js::hex(binding));
    }
    obj.into()
}

// ----- hooks for the recording module (src/web/recording.rs) -------------------------------

impl Consultation {
    /// The driver, for the SDK's other modules (their `impl Consultation` blocks, the
    /// consent ledgers attached to it).
    pub(super) fn shared(&self) -> &Shared {
        &self.inner
    }
}

/// A snapshot of the call for the recording module.
pub(super) struct CallView {
    pub local: ParticipantId,
    pub role: Role,
    pub ended: bool,
    pub peers: Vec<PeerInfo>,
    pub remote_streams: Vec<(ParticipantId, MediaStream)>,
    pub local_stream: Option<MediaStream>,
}

/// The call as it stands; `None` while the driver is busy (never expected: no borrow spans
/// app code).
pub(super) fn call_view(inner: &Shared) -> Option<CallView> {
    let i = inner.try_borrow().ok()?;
    Some(CallView {
        local: i.session.id(),
        role: i.session.role(),
        ended: i.ended.is_some(),
        peers: i.session.peers(),
        remote_streams: i
            .remote_streams
            .iter()
            .map(|(id, s)| (*id, Clone::clone(s)))
            .collect(),
        // `Option::clone` uses `Clone::clone`: the same stream, not a JS copy.
        local_stream: i.local_stream.clone(),
    })
}

/// This side's participant id.
pub(super) fn local_id(inner: &Shared) -> ParticipantId {
    inner.borrow().session.id()
}

/// Runs `f` on the consultation's recording state (`None` while the driver is busy).
pub(super) fn with_recording<R>(
    inner: &Shared,
    f: impl FnOnce(&mut super::recording::CallRecording) -> R,
) -> Option<R> {
    let mut i = inner.try_borrow_mut().ok()?;
    Some(f(&mut i.recording))
}

/// Runs `f` on the consultation's chat, its session and the time, then pumps the session
/// (`None` while the driver is busy or the call ended). Dispatch events after it returns.
pub(super) fn with_chat<R>(
    inner: &Shared,
    f: impl FnOnce(&mut super::chat::CallChat, &mut Session, u64) -> R,
) -> Option<R> {
    with_live(inner, |i, now| f(&mut i.chat, &mut i.session, now))
}

/// Runs `f` on the driver's state and the time, then pumps the session (`None` while the
/// driver is busy or the call ended).
fn with_live<R>(inner: &Shared, f: impl FnOnce(&mut Inner, u64) -> R) -> Option<R> {
    let r = {
        let mut guard = inner.try_borrow_mut().ok()?;
        if guard.ended.is_some() {
            return None;
        }
        f(&mut guard, now_ms())
    };
    pump(inner);
    Some(r)
}

/// Runs `f` on the consultation's file transfers, its session and the time, then pumps the
/// session (`None` while the driver is busy or the call ended). Dispatch events after it
/// returns.
pub(super) fn with_files<R>(
    inner: &Shared,
    f: impl FnOnce(&mut super::files::CallFiles, &mut Session, u64) -> R,
) -> Option<R> {
    with_live(inner, |i, now| f(&mut i.files, &mut i.session, now))
}

/// An error event's detail, for the SDK's own modules.
pub(super) fn error_event(error: &Error, peer: Option<ParticipantId>) -> Object {
    error_detail(error, peer)
}

/// `sendData` for the SDK's own messages.
pub(super) fn send_app_data(
    inner: &Shared,
    peer: ParticipantId,
    bytes: &[u8],
) -> Result<(), Error> {
    act(inner, &mut |s, now| s.send_app_data(peer, bytes, now)).map_err(|e| e.0)
}

/// Runs `f` on the consultation's screen shares (`None` while the driver is busy).
pub(super) fn with_screen<R>(
    inner: &Shared,
    f: impl FnOnce(&mut super::screen::CallScreen) -> R,
) -> Option<R> {
    let mut i = inner.try_borrow_mut().ok()?;
    Some(f(&mut i.screen))
}

/// Whether this side is in the call (not waiting, not ended).
pub(super) fn in_call(inner: &Shared) -> bool {
    inner
        .try_borrow()
        .is_ok_and(|i| i.ended.is_none() && i.session.phase() == Phase::InCall)
}

/// A user action on the session, for the SDK's own modules (see [`act`]).
pub(super) fn act_on_session(
    inner: &Shared,
    f: &mut dyn FnMut(&mut Session, u64) -> Result<(), SessionError>,
) -> Result<(), JsError> {
    act(inner, f)
}

/// Brings every connection in line with the local media and the shared screen, and
/// renegotiates.
pub(super) fn renegotiate(inner: &Shared) {
    renegotiate_all(inner);
}

/// A participant id from JavaScript.
pub(super) fn parse_participant(s: &str) -> Result<ParticipantId, Error> {
    parse_id(s)
}

/// Dispatches a consultation event.
pub(super) fn dispatch_event(inner: &Shared, kind: &str, detail: Object) {
    dispatch(inner, kind, detail);
}
