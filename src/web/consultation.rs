//! `Consultation`: the browser driver of the sans-IO [`Session`].
//!
//! One `Inner` owns the session, the relay socket, one peer connection per remote
//! participant, the timers and every web-sys closure. All IO callbacks hold only a `Weak`
//! reference, feed one input into the session, then [`pump`] its outputs. No borrow of
//! `Inner` is ever held while JavaScript runs app code (event listeners), so listeners may
//! call back into the consultation freely.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CustomEvent, CustomEventInit, EventTarget, MediaStream};
use zeroize::Zeroizing;

use super::JsError;
use super::js::{self, get, object, present, set};
use super::peer::{self, MediaOutcome, Peer, PeerEvent};
use super::socket::{Socket, SocketEvent};
use super::timer::{Timer, now_ms};
use crate::Error as CoreError;
use crate::consent::{DataCategory, Decision, RecordingSignal};
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

/// Interval of the network-quality probe.
const QUALITY_INTERVAL_MS: f64 = 2_000.0;

pub(super) type Shared = Rc<RefCell<Inner>>;

/// The listeners on `window` and `document` and the function removing them at teardown.
type HostListeners = (Function, [Closure<dyn FnMut()>; 2]);

/// The driver's state (private to this module but for the hooks at the end).
pub(super) struct Inner {
    session: Session,
    /// `pump` is draining the session's outputs: a nested call (from an event handler, the
    /// app's listener or an SDK module that sends) leaves them to it, so that outputs are
    /// carried out in the order the session made them (one input can yield several app-data
    /// events, and the second must not be handled inside the first).
    pumping: bool,
    /// WebCrypto state for bulk crypto offload (`peer::bulk_crypto`), when the page has it.
    bulk: Option<JsValue>,
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
    /// Bumped for every new socket, so late events of an old one are ignored.
    socket_generation: u32,
    socket: Option<Socket>,
    peers: SortedMap<ParticipantId, Peer>,
    /// A connection made ahead of need, for the next participant to negotiate with.
    spare: Option<Spare>,
    spare_timer: Option<Timer>,
    /// Makes the spare's offer (`warm_spare_soon`).
    warm_timer: Option<Timer>,
    remote_streams: SortedMap<ParticipantId, MediaStream>,
    timer: Option<Timer>,
    /// The deadline `timer` is armed for; `None` once it fired.
    timer_at: Option<u64>,
    reconnect_timer: Option<Timer>,
    quality_timer: Option<Timer>,
    backoff: Backoff,
    ice_servers: JsValue,
    relay_only: bool,
    /// The session's DTLS certificate (`RTCCertificate`), which the SAS commits to.
    certificate: JsValue,
    local_stream: Option<MediaStream>,
    joined_once: bool,
    ended: Option<&'static str>,
    state: &'static str,
    join_waiter: Option<(Function, Function)>,
    /// Why the join failed, for `join()` to reject with.
    join_error: Option<Error>,
    host_listeners: Option<HostListeners>,
    /// Ended local tracks are being opened again ([`reacquire_ended`]).
    reacquiring: bool,
    events: EventTarget,
    /// This side's recording and the others' (src/web/recording.rs).
    recording: super::recording::CallRecording,
    /// The consultation's chat (src/web/chat.rs).
    chat: super::chat::CallChat,
    /// The consultation's file transfers (src/web/files.rs).
    files: super::files::CallFiles,
    /// This side's screen share and the others' (src/web/screen.rs).
    screen: super::screen::CallScreen,
}

/// A bare `RTCPeerConnection` (no tracks yet) made before anyone needs it, in time the main
/// thread would otherwise spend waiting (while the relay socket opens, or a quiet moment
/// after a participant connected), and handed to the next participant this one negotiates
/// with, which then adds the tracks. In Chromium the first connection of a page costs ~3 ms
/// to construct (WebRTC starts up) and adding two tracks ~3 ms more; made on demand, all of it
/// sits on the call set-up's critical path (docs/BENCHMARKS.md). A patient's or guest's
/// spare also holds its first offer ready ([`peer::WarmOffer`]).
struct Spare {
    peer: Peer,
    handoff: Handoff,
    warm: Option<peer::WarmOffer>,
}

/// Where a spare connection's events go: nowhere until it is handed to a participant. The
/// candidates of a warm offer wait here until the session has sent that offer.
#[derive(Clone, Default)]
struct Handoff {
    owner: Rc<Cell<Option<ParticipantId>>>,
    early: Rc<RefCell<Vec<PeerEvent>>>,
}

/// Events a spare keeps before it is handed out: one offer's candidates and its end (a
/// bound, not a count anyone reaches).
const MAX_EARLY_EVENTS: usize = 64;

impl Handoff {
    fn route(&self, weak: &Weak<RefCell<Inner>>, event: PeerEvent) {
        match self.owner.get() {
            Some(id) => on_peer(weak, id, event),
            None => {
                let mut early = self.early.borrow_mut();
                if early.len() < MAX_EARLY_EVENTS {
                    early.push(event);
                }
            }
        }
    }

    /// From now on the events go to `id`; those that waited are replayed (`keep`) or dropped.
    fn hand_to(&self, weak: &Weak<RefCell<Inner>>, id: ParticipantId, keep: bool) {
        self.owner.set(Some(id));
        let early = std::mem::take(&mut *self.early.borrow_mut());
        if keep {
            for event in early {
                on_peer(weak, id, event);
            }
        }
    }
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

/// The session's certificate, made before the handshake: `(RTCCertificate, (hash name,
/// digest))`. Rejects with `Unsupported` where WebRTC is missing.
async fn certificate() -> Result<Certificate, Error> {
    let unsupported =
        Error::Unsupported("WebRTC certificates (RTCPeerConnection.generateCertificate)");
    let made = JsFuture::from(peer::create_certificate())
        .await
        .map_err(|_| unsupported.clone())?;
    let parts = Array::from(&made);
    let (alg, value) = (parts.get(1).as_string(), parts.get(2).as_string());
    let fingerprint = alg
        .zip(value)
        .and_then(|(alg, value)| crate::signaling::certificate_fingerprint(&alg, &value))
        .ok_or(unsupported)?;
    Ok((parts.get(0), fingerprint))
}

/// The session's certificate (`RTCCertificate`) and its fingerprint `(hash name, digest)`.
type Certificate = (JsValue, (String, Vec<u8>));

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

/// Checks every option, starts connecting to the first relay, and returns what opens the
/// consultation once the session's certificate exists, with the first socket's events.
#[allow(
    clippy::type_complexity,
    reason = "one private call site; a named type would only move the tuple"
)]
fn build(
    options: &JsValue,
) -> Result<
    (
        impl FnOnce(Certificate) -> Shared + use<>,
        Option<EarlySocket>,
    ),
    Error,
> {
    if !options.is_object() {
        return Err(Error::InvalidArgument("options: expected an object"));
    }
    let role = parse_role(&js::string(options, "role")?)?;
    let relay_urls = relay_urls(&get(options, "relayUrl"))?;
    // The first relay socket opens now, before the link is parsed and the keys derived, and
    // while `join` waits for the certificate (key generation, a few ms when `warmUp` made
    // none): its handshake is then off the set-up path, and done before the WebRTC work on
    // this page begins (docs/BENCHMARKS.md, "Call set-up"). Should an option below be
    // refused, the socket is dropped and closed unused; should it fail to open, `connect`
    // tries again and reports the error.
    let (socket, early) = relay_urls
        .first()
        .and_then(|url| EarlySocket::open(url))
        .map_or((None, None), |(socket, early)| (Some(socket), Some(early)));
    let invite = invite_from_options(options, role)?;
    let authority = invite.authority();
    let (room, secret) = (invite.room, invite.secret);
    let token = Zeroizing::new(js::string(options, "token")?.into_bytes());
    let display_name = js::string(options, "displayName")?;
    let asked = match js::opt_string(options, "participantId")? {
        Some(hex) => Some(js::parse_hex8(&hex).filter(|b| *b != [0; 8]).ok_or(
            Error::InvalidArgument("participantId: expected 16 hex digits"),
        )?),
        None => None,
    };
    // A reload of a page whose participant a clinician admitted: its ticket, and its id.
    let resume = (role != Role::Clinician)
        .then(|| super::resume::take(&room, asked))
        .flatten();
    let id = match asked.or(resume.as_ref().map(|(id, _)| *id)) {
        Some(id) => id,
        None => {
            let mut b = [0u8; 8];
            js::random_bytes(&mut b)?;
            b[0] |= 1; // never the all-zero broadcast address
            b
        }
    };
    let policy = js::opt_string(options, "iceTransportPolicy")?;
    let relay_only = match policy.as_deref() {
        None | Some("all") => false,
        Some("relay") => true,
        Some(_) => {
            return Err(Error::InvalidArgument(
                "iceTransportPolicy: expected all or relay",
            ));
        }
    };
    let audio_only_fallback = match get(options, "audioOnlyFallback") {
        v if !present(&v) => true,
        v => v.as_bool().ok_or(Error::InvalidArgument(
            "audioOnlyFallback: expected a boolean",
        ))?,
    };
    let ice_servers = get(options, "iceServers");
    if present(&ice_servers) && !Array::is_array(&ice_servers) {
        return Err(Error::InvalidArgument("iceServers: expected an array"));
    }
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
    let mut entropy = Zeroizing::new([0u8; 32]);
    js::random_bytes(entropy.as_mut())?;
    let events = EventTarget::new().map_err(|_| Error::Unsupported("EventTarget is missing"))?;
    let open = move |(certificate, fingerprint): Certificate| {
        let mut session = Session::new(Config {
            room,
            secret,
            id: ParticipantId(id),
            role,
            display_name: Redacted::new(display_name),
            token,
            entropy: *entropy,
            capabilities: CAP_RESUME,
            timeouts: Timeouts::default(),
            authority,
            certificate: fingerprint,
        });
        if let Some((_, ticket)) = resume {
            session.set_resume_ticket(ticket);
        }
        let bulk = Some(peer::bulk_crypto()).filter(|b| !b.is_null());
        session.offload_bulk_crypto(bulk.is_some());
        Rc::new(RefCell::new(Inner {
            session,
            pumping: false,
            bulk,
            room,
            failover: Failover::new(relay_urls.len()),
            relay_urls,
            socket_generation: 1,
            socket,
            peers: SortedMap::new(),
            spare: None,
            spare_timer: None,
            warm_timer: None,
            consent: Default::default(),
            remote_streams: SortedMap::new(),
            timer: None,
            timer_at: None,
            reconnect_timer: None,
            quality_timer: None,
            backoff: Backoff::default(),
            ice_servers: if present(&ice_servers) {
                ice_servers
            } else {
                JsValue::UNDEFINED
            },
            relay_only,
            audio_only_fallback,
            certificate,
            local_stream,
            joined_once: false,
            ended: None,
            state: "connecting",
            join_waiter: None,
            join_error: None,
            host_listeners: None,
            reacquiring: false,
            events,
            recording: Default::default(),
            screen: Default::default(),
            chat: Default::default(),
            files: Default::default(),
        }))
    };
    Ok((open, early))
}

#[wasm_bindgen]
impl Consultation {
    /// Joins a consultation: connects to the relay, presents the join token and starts the
    /// end-to-end handshake.
    ///
    /// Resolves to the `Consultation` once the relay has accepted the join (a patient is then
    /// in the `waiting` state until a clinician admits them). Rejects with a
    /// `TeleconsultError`: `InvalidArgument` (bad options or link), `RelayRefused` (the relay
    /// refused the token or the room; see `relayCode`), `NetworkError` (no relay of
    /// `relayUrl` could be reached: each is tried once, in order), `Unsupported` (no
    /// WebSocket or secure random source).
    #[wasm_bindgen(js_name = join, unchecked_return_type = "Promise<Consultation>")]
    pub fn join(#[wasm_bindgen(unchecked_param_type = "any")] options: JsValue) -> Promise {
        js::promise(async move {
            let (open, early) = build(&options)?;
            let inner = open(certificate().await?);
            let waiter = Promise::new(&mut |resolve, reject| {
                inner.borrow_mut().join_waiter = Some((resolve, reject));
            });
            install_host_listeners(&inner);
            // A patient's or guest's first connection is made now, while the socket's
            // handshake is in flight, and its offer once the socket is open (`on_socket`),
            // while the welcome and the hellos cross: `setLocalDescription` starts ICE
            // gathering, which held up the socket's opening when it ran alongside
            // (docs/BENCHMARKS.md, "Call set-up").
            if inner.borrow().session.role() != Role::Clinician {
                make_spare(&inner);
            }
            match early {
                Some(early) => early.attach(&inner),
                None => connect(&inner),
            }
            match JsFuture::from(waiter).await {
                Ok(_) => Ok(Consultation { inner }),
                Err(_) => {
                    let error = inner.borrow_mut().join_error.take();
                    teardown(&inner, "relay-refused");
                    Err(JsError(error.unwrap_or(Error::Network(
                        "the relay could not be reached",
                    ))))
                }
            }
        })
    }

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

    /// Opens the camera and/or microphone and sends them to everyone in the call.
    ///
    /// When a `ConsentManager` is attached to this consultation, each kind needs a grant
    /// covering it (default deny). Resolves to the local `MediaStream`. Rejects with
    /// `ConsentDenied` (with `reason`) before the camera opens, `PermissionDenied` when the
    /// user or host app refuses, `MediaFailed` when no device works, `InvalidState` after
    /// the end.
    #[wasm_bindgen(js_name = startMedia, unchecked_return_type = "Promise<MediaStream>")]
    pub fn start_media(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "{ audio?: boolean | MediaTrackConstraints; video?: boolean | MediaTrackConstraints }"
        )]
        constraints: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        js::promise(async move {
            if inner.borrow().ended.is_some() {
                return Err(CoreError::Signaling(crate::signaling::SignalingError::Closed).into());
            }
            for kind in ["audio", "video"] {
                let wanted = get(&constraints, kind);
                let wanted = wanted.is_object() || wanted.as_bool() == Some(true);
                let decision = media_category(kind).and_then(|c| consent_decision(&inner, c));
                if let Some(d) = decision.filter(|d| wanted && !d.allowed) {
                    return Err(CoreError::ConsentDenied(d.reason).into());
                }
            }
            let stream = get_user_media(&constraints).await?;
            if let Some(old) = inner
                .borrow_mut()
                .local_stream
                .replace(Clone::clone(&stream))
            {
                peer::stop_tracks(&old);
            }
            renegotiate_all(&inner);
            Ok(stream)
        })
    }

    /// Stops the camera and microphone and stops sending them.
    #[wasm_bindgen(js_name = stopMedia)]
    pub fn stop_media(&self) {
        if let Some(old) = self.inner.borrow_mut().local_stream.take() {
            peer::stop_tracks(&old);
        }
        renegotiate_all(&self.inner);
    }

    /// Mutes or unmutes the local audio or video without renegotiating (the track sends
    /// silence or black frames).
    #[wasm_bindgen(js_name = setMuted)]
    pub fn set_muted(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"audio\" | \"video\"")] kind: &str,
        muted: bool,
    ) {
        if let Some(stream) = &self.inner.borrow().local_stream {
            peer::set_enabled(stream, kind, !muted);
        }
    }

    /// Switches to another camera (by `deviceId`, or to the next one when omitted), replacing
    /// the sent video track in place. Resolves when the new camera is live.
    #[wasm_bindgen(js_name = switchCamera, unchecked_return_type = "Promise<void>")]
    pub fn switch_camera(
        &self,
        #[wasm_bindgen(js_name = deviceId)] device_id: Option<String>,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        js::promise(async move {
            let Some(stream) = inner.borrow().local_stream.clone() else {
                return Err(
                    CoreError::Signaling(crate::signaling::SignalingError::InvalidState).into(),
                );
            };
            let video = match device_id {
                Some(id) => JsValue::from(object(&[(
                    "deviceId",
                    object(&[("exact", id.into())]).into(),
                )])),
                None => JsValue::from(object(&[("facingMode", "environment".into())])),
            };
            if super::capabilities::platform().one_capture_per_kind() {
                // iOS keeps one live camera: the old one goes first (docs/BROWSERS.md).
                peer::drop_tracks(&stream, "video");
            }
            let fresh = get_user_media(&object(&[("video", video)]).into()).await?;
            if !replace_tracks(&inner, &stream, &fresh).await {
                peer::stop_tracks(&fresh);
                return Err(Error::Media("the camera gave no video track").into());
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The raw `RTCStatsReport` of the connection to a participant.
    #[wasm_bindgen(js_name = getStats, unchecked_return_type = "Promise<RTCStatsReport>")]
    pub fn get_stats(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let participant_id = participant_id.to_owned();
        js::promise(async move {
            let id = parse_id(&participant_id)?;
            let pc = inner.borrow().peers.get(&id).map(Peer::connection);
            let pc = pc.ok_or(Error::InvalidArgument("participantId: no connection to it"))?;
            JsFuture::from(pc.get_stats())
                .await
                .map_err(|_| Error::Media("getStats failed").into())
        })
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

// ----- inputs ----------------------------------------------------------------------------

fn parse_id(s: &str) -> Result<ParticipantId, Error> {
    js::parse_hex8(s)
        .map(ParticipantId)
        .ok_or(Error::InvalidArgument(
            "participantId: expected 16 hex digits",
        ))
}

/// Runs a user action on the session, then pumps. The action is a `dyn` closure so that
/// this body exists once in the wasm rather than once per action.
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

/// Feeds one IO input into the session (errors are already reported as security events).
fn input(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Inner, u64)) {
    let Some(inner) = weak.upgrade() else { return };
    {
        let Ok(mut guard) = inner.try_borrow_mut() else {
            return;
        };
        if guard.ended.is_some() {
            return;
        }
        f(&mut guard, now_ms());
    }
    pump(&inner);
}

/// Where the events of the first relay socket go: it opens before the consultation exists
/// (while the certificate is made), so they wait here until `attach` hands them over.
enum EarlySink {
    Waiting(Vec<SocketEvent>),
    Attached(Weak<RefCell<Inner>>),
}

/// The first relay socket's event slot (socket number 1).
struct EarlySocket(Rc<RefCell<EarlySink>>);

impl EarlySocket {
    /// Starts connecting to `url`; `None` if no WebSocket could be made.
    fn open(url: &str) -> Option<(Socket, Self)> {
        let slot = Rc::new(RefCell::new(EarlySink::Waiting(Vec::new())));
        let sink_slot = slot.clone();
        let sink = move |event: SocketEvent| {
            let weak = match &mut *sink_slot.borrow_mut() {
                EarlySink::Waiting(events) => return events.push(event),
                EarlySink::Attached(weak) => weak.clone(),
            };
            if weak
                .upgrade()
                .is_some_and(|i| i.borrow().socket_generation == 1)
            {
                on_socket(&weak, event);
            }
        };
        Socket::connect(url, sink)
            .ok()
            .map(|socket| (socket, Self(slot)))
    }

    /// Hands the socket's events to `inner`, those that came while it was made first.
    fn attach(self, inner: &Shared) {
        let weak = Rc::downgrade(inner);
        let waiting =
            std::mem::replace(&mut *self.0.borrow_mut(), EarlySink::Attached(weak.clone()));
        if let EarlySink::Waiting(events) = waiting {
            for event in events {
                on_socket(&weak, event);
            }
        }
    }
}

/// Opens socket number `generation` to the relay; events of any other socket are ignored.
fn open_socket(weak: &Weak<RefCell<Inner>>, url: &str, generation: u32) -> Result<Socket, JsValue> {
    let weak = weak.clone();
    let sink = move |event: SocketEvent| {
        let current = weak
            .upgrade()
            .is_some_and(|i| i.borrow().socket_generation == generation);
        if current {
            on_socket(&weak, event);
        }
    };
    Socket::connect(url, sink)
}

fn connect(inner: &Shared) {
    let weak = Rc::downgrade(inner);
    let mut guard = inner.borrow_mut();
    if guard.ended.is_some() {
        return;
    }
    guard.reconnect_timer = None;
    guard.socket_generation = guard.socket_generation.wrapping_add(1);
    let generation = guard.socket_generation;
    // `failover` counts exactly `relay_urls.len()` URLs, so the index is always in range.
    let url = guard
        .relay_urls
        .get(guard.failover.current())
        .cloned()
        .unwrap_or_default();
    match open_socket(&weak, &url, generation) {
        Ok(socket) => guard.socket = Some(socket),
        Err(_) => {
            drop(guard);
            fail_join(inner, Error::Network("cannot open a WebSocket to relayUrl"));
            schedule_reconnect(inner);
        }
    }
}

fn on_socket(weak: &Weak<RefCell<Inner>>, event: SocketEvent) {
    match event {
        SocketEvent::Open => {
            input(weak, |i, now| {
                let _ = i.session.handle_relay_connected(now);
            });
            if let Some(inner) = weak.upgrade() {
                start_warm_offer(&mut inner.borrow_mut());
            }
        }
        SocketEvent::Message(bytes) => input(weak, |i, now| {
            let _ = i.session.handle_relay_message(&bytes, now);
        }),
        SocketEvent::Closed { code, .. } => {
            let Some(inner) = weak.upgrade() else { return };
            let dropped = "the relay closed the connection before the join completed";
            relay_closed(&inner, code, dropped);
        }
    }
}

/// The relay connection ended (closed with `code`, or 1006 for a drop or a join that timed
/// out): the failover policy picks the URL of the next attempt, or ends the join or the
/// visit when a retry cannot help (src/reconnect.rs, `Failover`). A join that fails on a
/// drop rejects with `NetworkError` and the message `dropped`.
fn relay_closed(inner: &Shared, code: u16, dropped: &'static str) {
    let mut was_joined = false;
    input(&Rc::downgrade(inner), |i, now| {
        was_joined = i.session.is_relay_joined();
        i.socket = None;
        i.session.handle_relay_disconnected(now);
    });
    let (next, joined_once) = {
        let mut guard = inner.borrow_mut();
        if guard.ended.is_some() {
            return;
        }
        (
            guard.failover.handle_closed(code, was_joined),
            guard.joined_once,
        )
    };
    match (next, joined_once) {
        (AfterClose::Retry, _) => schedule_reconnect(inner),
        (AfterClose::GiveUp, false) => {
            let err = if (4000..5000).contains(&code) {
                Error::Relay(code)
            } else {
                Error::Network(dropped)
            };
            fail_join(inner, err);
        }
        (AfterClose::GiveUp, true) => {
            dispatch(inner, "error", error_detail(&Error::Relay(code), None));
            teardown(inner, "relay-refused");
        }
    }
    update_state(inner);
}

fn fail_join(inner: &Shared, error: Error) {
    let waiter = {
        let mut guard = inner.borrow_mut();
        guard.join_error.get_or_insert(error);
        guard.join_waiter.take()
    };
    if let Some((_, reject)) = waiter {
        let _ = reject.call0(&JsValue::UNDEFINED);
    }
}

fn schedule_reconnect(inner: &Shared) {
    let weak = Rc::downgrade(inner);
    let mut guard = inner.borrow_mut();
    if guard.ended.is_some() || guard.socket.is_some() || guard.reconnect_timer.is_some() {
        return;
    }
    let mut r = [0u8; 4];
    let _ = js::random_bytes(&mut r);
    let delay = guard.backoff.next_delay_ms(u32::from_le_bytes(r));
    guard.reconnect_timer = Timer::once(delay as f64, move || {
        if let Some(inner) = weak.upgrade() {
            inner.borrow_mut().reconnect_timer = None;
            connect(&inner);
        }
    })
    .ok();
}

#[wasm_bindgen(module = "/src/web/snippets/platform.js")]
extern "C" {
    /// Adds the `online` and `visibilitychange` listeners; returns the function removing them.
    #[wasm_bindgen(js_name = hostListen)]
    fn host_listen(
        on_online: &Closure<dyn FnMut()>,
        on_visibility: &Closure<dyn FnMut()>,
    ) -> Function;
}

/// Reconnect at once when the device comes back online or the page becomes visible again
/// (mobile browsers freeze background tabs and drop their sockets); local tracks the
/// browser ended while the page was hidden are opened again.
fn install_host_listeners(inner: &Shared) {
    let listener = |online: bool| {
        let weak = Rc::downgrade(inner);
        Closure::<dyn FnMut()>::new(move || {
            let Some(inner) = weak.upgrade() else { return };
            let hidden = get(&get(&js_sys::global(), "document"), "hidden").as_bool() == Some(true);
            let idle = inner.borrow().socket.is_none() && inner.borrow().joined_once;
            if idle && !hidden {
                inner.borrow_mut().backoff.reset();
                connect(&inner);
            }
            if !online && !hidden {
                js::spawn(Box::pin(reacquire_ended(inner.clone())));
            }
            if online {
                // The network changed: the old candidate pairs may be gone.
                let connected: Vec<ParticipantId> = inner
                    .borrow()
                    .session
                    .peers()
                    .iter()
                    .filter(|p| p.in_call)
                    .map(|p| p.id)
                    .collect();
                for id in connected {
                    let _ = act(&inner, &mut |s, now| s.restart_ice(id, now));
                }
            }
        })
    };
    let (online, visibility) = (listener(true), listener(false));
    let detach = host_listen(&online, &visibility);
    inner.borrow_mut().host_listeners = Some((detach, [online, visibility]));
}

/// Safari and iOS may end local capture while the page is in the background
/// (docs/BROWSERS.md, Safari rule 3). Each kind whose local track ended is opened again with
/// the constraints it had and sent in the old track's place on every connection
/// (`replaceTrack`: no renegotiation); `localmediarestored` tells the app. A kind consent no
/// longer covers stays off. Only ended kinds are asked for, so a live track of the other kind
/// is never opened twice (iOS keeps one capture per kind, `Platform::one_capture_per_kind`),
/// and an ended track is already stopped, so that order holds too.
async fn reacquire_ended(inner: Shared) {
    let stream = {
        let i = inner.borrow();
        if i.reacquiring || i.ended.is_some() {
            return;
        }
        i.local_stream.clone()
    };
    let Some(stream) = stream else { return };
    let ended = peer::ended_constraints(&stream);
    let wanted = Object::new();
    for kind in ["audio", "video"] {
        let constraints = get(&ended, kind);
        if !present(&constraints) {
            continue;
        }
        let denied = media_category(kind)
            .and_then(|c| consent_decision(&inner, c))
            .is_some_and(|d| !d.allowed);
        if denied {
            peer::drop_tracks(&stream, kind);
        } else {
            set(&wanted, kind, constraints);
        }
    }
    if Object::keys(&wanted).length() == 0 {
        return;
    }
    inner.borrow_mut().reacquiring = true;
    let fresh = get_user_media(&wanted.into()).await;
    inner.borrow_mut().reacquiring = false;
    let fresh = match fresh {
        Ok(fresh) => fresh,
        Err(e) => return dispatch(&inner, "error", error_detail(&e, None)),
    };
    // The call may have ended, or the app replaced its media, while the device opened.
    let current = {
        let i = inner.borrow();
        i.ended.is_none() && i.local_stream.as_ref() == Some(&stream)
    };
    if !current {
        peer::stop_tracks(&fresh);
        return;
    }
    replace_tracks(&inner, &stream, &fresh).await;
    for track in fresh.get_tracks().iter() {
        let kind = get(&track, "kind");
        dispatch(
            &inner,
            "localmediarestored",
            object(&[("kind", kind), ("track", track)]),
        );
    }
}

// ----- outputs ---------------------------------------------------------------------------

/// Drains the session's outputs and carries them out. Borrows are short and never span a
/// call into app code.
fn pump(inner: &Shared) {
    match inner.try_borrow_mut() {
        Ok(mut guard) if !guard.pumping => guard.pumping = true,
        _ => return,
    }
    drain_outputs(inner);
    if let Ok(mut guard) = inner.try_borrow_mut() {
        guard.pumping = false;
    }
    update_state(inner);
}

/// `pump`'s loop.
fn drain_outputs(inner: &Shared) {
    loop {
        let output = match inner.try_borrow_mut() {
            Ok(mut guard) => guard.session.poll_output(),
            Err(_) => return,
        };
        let Some(output) = output else { break };
        match output {
            Output::Transmit(bytes) => {
                if let Some(socket) = &inner.borrow().socket {
                    socket.send(&bytes);
                }
            }
            Output::Direct { peer, frame } => {
                // Not sent now: the session sends it again (through the relay once the
                // channel is reported closed).
                if let Some(p) = inner.borrow().peers.get(&peer) {
                    p.send_direct(&frame);
                }
            }
            Output::OffloadKey {
                peer,
                key_id,
                send,
                key,
            } => {
                if let Some(bulk) = &inner.borrow().bulk {
                    peer::import_bulk_key(
                        bulk,
                        &bulk_key_name(peer, key_id, send),
                        &key.0[..],
                        send,
                    );
                }
            }
            Output::DirectSeal {
                peer,
                key_id,
                aad,
                nonce,
                plaintext,
            } => {
                let guard = inner.borrow();
                if let (Some(bulk), Some(p)) = (&guard.bulk, guard.peers.get(&peer)) {
                    let name = bulk_key_name(peer, key_id, true);
                    p.seal_direct(bulk, &name, &aad, &nonce, &plaintext);
                }
            }
            Output::DirectOpen {
                peer,
                key_id,
                seq,
                nonce,
                frame,
            } => {
                open_direct(inner, peer, key_id, seq, &nonce, &frame);
            }
            Output::Timeout(at) => arm_timer(inner, at),
            Output::Event(event) => on_event(inner, event),
            Output::Media { peer, request } => on_media(inner, peer, request),
        }
    }
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

/// Has WebCrypto decrypt a frame from `peer`'s direct path, and reports the outcome to the
/// session once the frames before it are reported (bulk crypto offload).
fn open_direct(
    inner: &Shared,
    peer: ParticipantId,
    key_id: [u8; 8],
    seq: u64,
    nonce: &[u8],
    frame: &[u8],
) {
    let Some(bulk) = inner.borrow().bulk.clone() else {
        return;
    };
    let name = bulk_key_name(peer, key_id, false);
    let opened = peer::open_direct(&bulk, &name, nonce, frame);
    let weak = Rc::downgrade(inner);
    js::spawn(Box::pin(async move {
        let body = JsFuture::from(opened)
            .await
            .ok()
            .and_then(|v| v.dyn_into::<Uint8Array>().ok());
        input(&weak, |i, now| {
            let _ = match body {
                Some(body) => {
                    i.session
                        .handle_direct_opened(peer, key_id, seq, &body.to_vec(), now)
                }
                None => i.session.handle_direct_open_failed(peer, key_id, seq, now),
            };
        });
    }));
}

/// Arms the session's timer for `at`. The next deadline is usually the one already armed
/// (the keep-alive, a handshake timeout), so that timer is kept rather than cleared and
/// re-created after every message.
fn arm_timer(inner: &Shared, at: u64) {
    if inner.borrow().timer_at == Some(at) {
        return;
    }
    let weak = Rc::downgrade(inner);
    let delay = at.saturating_sub(now_ms()) as f64;
    let timer = Timer::once(delay, move || {
        input(&weak, |i, now| {
            i.timer_at = None;
            i.session.handle_timeout(now)
        });
    });
    let mut guard = inner.borrow_mut();
    guard.timer_at = timer.is_ok().then_some(at);
    guard.timer = timer.ok();
}

fn on_media(inner: &Shared, id: ParticipantId, request: MediaRequest) {
    if request == MediaRequest::ClosePeer {
        let closed = {
            let mut guard = inner.borrow_mut();
            guard.remote_streams.remove(&id);
            guard.peers.remove(&id)
        };
        // Its channel's handlers are gone with it: no close event tells the files.
        drop(closed);
        super::files::route_changed(inner, id, false);
        return;
    }
    {
        let guard = inner.borrow();
        if request == MediaRequest::Prepare
            && guard.spare.is_some()
            && !guard.peers.contains_key(&id)
        {
            // The spare is that prepared connection already. It stays unassigned until the
            // first real request, so that it can make its offer meanwhile (`warm_spare_soon`).
            return;
        }
    }
    if !inner.borrow().peers.contains_key(&id) {
        enforce_consent(inner);
    }
    let start = {
        let mut guard = inner.borrow_mut();
        if !guard.peers.contains_key(&id) {
            let (peer, warm) = match guard.spare.take() {
                Some(Spare {
                    peer,
                    handoff,
                    warm,
                }) => {
                    if warm.is_none() {
                        handoff.owner.set(Some(id));
                    }
                    (Ok(peer), warm.map(|offer| (offer, handoff)))
                }
                None => {
                    let weak = Rc::downgrade(inner);
                    (bare_peer(&guard, move |e| on_peer(&weak, id, e)), None)
                }
            };
            match peer {
                Ok(mut p) => {
                    // A spare may hold tracks the local media no longer has, or lack some.
                    sync_tracks(&p, &guard);
                    if let Some((offer, handoff)) = warm {
                        let weak = Rc::downgrade(inner);
                        p.warm = Some(peer::WarmStart {
                            usable: None,
                            offer,
                            release: Box::new(move |keep| handoff.hand_to(&weak, id, keep)),
                        });
                    }
                    guard.peers.insert(id, p);
                }
                Err(_) => {
                    drop(guard);
                    dispatch(
                        inner,
                        "error",
                        error_detail(&Error::Media("cannot create RTCPeerConnection"), Some(id)),
                    );
                    return;
                }
            }
        }
        let Some(p) = guard.peers.get_mut(&id) else {
            return;
        };
        if request == MediaRequest::Prepare {
            return; // Creating the connection above was the whole request.
        }
        // A warm offer answers the first request itself when that asks for an offer of the
        // same tracks; otherwise it is rolled back before the request runs (`drain_media`).
        let same_tracks = p.warm.as_ref().is_some_and(|w| p.still_offers(&w.offer));
        let answered = match p.warm.as_mut() {
            Some(w) if w.usable.is_none() => {
                let first_offer = request == (MediaRequest::CreateOffer { ice_restart: false });
                *w.usable.insert(first_offer && same_tracks)
            }
            _ => false,
        };
        if !answered {
            p.queue.push_back(request);
        }
        !std::mem::replace(&mut p.busy, true)
    };
    if start {
        js::spawn(Box::pin(drain_media(Rc::downgrade(inner), id)));
    }
}

/// A connection with the app's ICE configuration and no tracks yet, whose events go to
/// `sink`.
fn bare_peer(guard: &Inner, sink: impl Fn(PeerEvent) + 'static) -> Result<Peer, JsValue> {
    let monitor = if guard.audio_only_fallback {
        crate::quality::Monitor::new()
    } else {
        crate::quality::Monitor::without_fallback()
    };
    Peer::new(
        &guard.ice_servers,
        guard.relay_only,
        &guard.certificate,
        monitor,
        sink,
    )
}

/// Makes a spare connection unless there is one (see [`Spare`]).
fn make_spare(inner: &Shared) {
    let mut guard = inner.borrow_mut();
    if guard.spare.is_some() || guard.ended.is_some() {
        return;
    }
    let handoff = Handoff::default();
    let route = handoff.clone();
    let weak = Rc::downgrade(inner);
    if let Ok(peer) = bare_peer(&guard, move |e| route.route(&weak, e)) {
        // Local tracks go in now too (receive-only transceivers never do: a remote offer
        // would not reuse them, see `on_media`).
        if let Some(stream) = &guard.local_stream {
            peer.add_stream(stream);
        }
        guard.spare = Some(Spare {
            peer,
            handoff,
            warm: None,
        });
    }
}

/// A patient or guest offers first to the clinician (the session's rule): its spare makes
/// that offer at join, and holds it until the clinician is verified and admits it. Should
/// the spare have been used or replaced meanwhile, the clinician's verified hello starts a
/// new one, in a task of its own: an admission already queued behind the hello is handled
/// first (offering on demand then), instead of waiting ~10 ms behind an offer the page's
/// thread is busy making (measured with the call set-up trace, docs/BENCHMARKS.md).
fn warm_spare_soon(inner: &Shared) {
    let weak = Rc::downgrade(inner);
    let timer = Timer::once(0.0, move || {
        if let Some(inner) = weak.upgrade() {
            start_warm_offer(&mut inner.borrow_mut());
        }
    });
    inner.borrow_mut().warm_timer = timer.ok();
}

/// Makes the spare's offer, unless this side is the clinician (which answers) or the spare
/// already holds one.
fn start_warm_offer(guard: &mut Inner) {
    if guard.session.role() == Role::Clinician || guard.ended.is_some() {
        return;
    }
    let no_tracks = guard.local_stream.is_none();
    if let Some(spare) = guard.spare.as_mut()
        && spare.warm.is_none()
    {
        if no_tracks {
            spare.peer.receive_audio_and_video();
        }
        spare.warm = Some(spare.peer.start_offer());
    }
}

/// Replaces a used spare in a quiet moment: a second after a participant connected, when the
/// call set-up that used it is over.
fn replenish_spare_later(inner: &Shared) {
    let weak = Rc::downgrade(inner);
    let timer = Timer::once(1_000.0, move || {
        if let Some(inner) = weak.upgrade() {
            make_spare(&inner);
        }
    });
    inner.borrow_mut().spare_timer = timer.ok();
}

/// Executes a peer's media requests one after another.
/// What `drain_media` runs next: a warm offer to settle first, then the requests in order.
enum Step {
    Warm(peer::WarmStart),
    Request(MediaRequest),
}

async fn drain_media(weak: Weak<RefCell<Inner>>, id: ParticipantId) {
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let next = {
            let mut guard = inner.borrow_mut();
            let Some(p) = guard.peers.get_mut(&id) else {
                return;
            };
            let pc = p.connection();
            if let Some(warm) = p.warm.take() {
                (pc, Step::Warm(warm))
            } else {
                match p.queue.pop_front() {
                    Some(r) => (pc, Step::Request(r)),
                    None => {
                        p.busy = false;
                        return;
                    }
                }
            }
        };
        drop(inner);
        let (pc, request) = match next {
            (pc, Step::Request(r)) => (pc, r),
            (pc, Step::Warm(warm)) => {
                let usable = warm.usable == Some(true);
                let deliver = |sdp: String| {
                    input(&weak, |i, now| {
                        let _ = i
                            .session
                            .handle_local_description(id, SdpKind::Offer, &sdp, now);
                    });
                };
                if !warm.settle(&pc, deliver).await && usable {
                    // The offer failed: make it the usual way.
                    let request = MediaRequest::CreateOffer { ice_restart: false };
                    if let Some(inner) = weak.upgrade()
                        && let Some(p) = inner.borrow_mut().peers.get_mut(&id)
                    {
                        p.queue.push_front(request);
                    }
                }
                continue;
            }
        };
        match peer::execute(&pc, request).await {
            Ok(MediaOutcome::LocalDescription(kind, sdp)) => input(&weak, |i, now| {
                let _ = i.session.handle_local_description(id, kind, &sdp, now);
            }),
            Ok(MediaOutcome::Done) => {}
            Err(_) => {
                // The session's negotiation timeout retries; the app hears about it.
                if let Some(inner) = weak.upgrade() {
                    dispatch(
                        &inner,
                        "error",
                        error_detail(&Error::Media("a WebRTC negotiation step failed"), Some(id)),
                    );
                }
            }
        }
    }
}

fn on_peer(weak: &Weak<RefCell<Inner>>, id: ParticipantId, event: PeerEvent) {
    match event {
        PeerEvent::Candidate(c) => input(weak, |i, now| {
            let _ = i.session.handle_local_candidate(id, c, now);
        }),
        PeerEvent::Ice(state) => {
            input(weak, |i, now| {
                let _ = i.session.handle_ice_state(id, state, now);
            });
            let up = matches!(state, IceState::Connected | IceState::Completed);
            direct_changed(weak, id, |p| p.ice_up = up);
        }
        PeerEvent::Direct(open) => direct_changed(weak, id, |p| p.channel_open = open),
        PeerEvent::DirectFrame(frame) => input(weak, |i, now| {
            let _ = i.session.handle_direct_frame(id, &frame, now);
        }),
        PeerEvent::Track(track, sender_stream) => {
            let Some(inner) = weak.upgrade() else { return };
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
            dispatch(&inner, "track", detail);
        }
        PeerEvent::IceError { code, text, url } => {
            let Some(inner) = weak.upgrade() else { return };
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
                dispatch(&inner, "error", detail);
            }
        }
    }
}

/// The direct path to `id` is its data channel open while ICE is connected (during an ICE
/// restart the channel stays open but carries nothing): when that changes, the session and
/// the file transfers are told, and bulk data takes the direct path or the relay.
fn direct_changed(weak: &Weak<RefCell<Inner>>, id: ParticipantId, f: impl FnOnce(&mut Peer)) {
    let Some(inner) = weak.upgrade() else { return };
    let up = {
        let Ok(mut guard) = inner.try_borrow_mut() else {
            return;
        };
        let Some(p) = guard.peers.get_mut(&id) else {
            return;
        };
        f(p);
        p.channel_open && p.ice_up
    };
    super::files::route_changed(&inner, id, up);
}

fn on_event(inner: &Shared, event: Event) {
    let hex = |p: ParticipantId| JsValue::from(js::hex(&p.0));
    match event {
        Event::PhaseChanged(_) | Event::RelayLost => {}
        Event::RelayConnected => {
            let waiter = {
                let mut guard = inner.borrow_mut();
                guard.joined_once = true;
                guard.backoff.reset();
                guard.failover.handle_joined();
                guard.join_waiter.take()
            };
            if let Some((resolve, _)) = waiter {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
            // A clinician's spare connection is made now, while the first hellos are on
            // their way (a patient's or guest's was made at join, with its offer).
            make_spare(inner);
            start_quality_probe(inner);
            super::files::resume_stalled(inner);
        }
        Event::RelayStalled => {
            // Read as a drop; the socket is closed (and its handlers detached) here.
            relay_closed(inner, 1006, "the relay did not answer the join in time");
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
                warm_spare_soon(inner);
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
            replenish_spare_later(inner);
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
            let (reason, error) = if peer::has_turn_server(&inner.borrow().ice_servers) {
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
            if let Some(bulk) = &inner.borrow().bulk {
                peer::forget_bulk_peer(bulk, &js::hex(&peer.0));
            }
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

/// Releases everything: peer connections, local tracks, the socket, timers, listeners.
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
        guard.peers.clear();
        guard.spare = None;
        guard.spare_timer = None;
        guard.warm_timer = None;
        guard.remote_streams.clear();
        if let Some(stream) = guard.local_stream.take() {
            peer::stop_tracks(&stream);
        }
        guard.socket = None;
        guard.timer = None;
        guard.timer_at = None;
        guard.reconnect_timer = None;
        guard.quality_timer = None;
        if let Some((detach, _listeners)) = guard.host_listeners.take() {
            let _ = detach.call0(&JsValue::UNDEFINED);
        }
    }
    update_state(inner);
}

// ----- media helpers -----------------------------------------------------------------------

async fn get_user_media(constraints: &JsValue) -> Result<MediaStream, Error> {
    match JsFuture::from(peer::open_media(constraints)).await {
        Ok(stream) => stream
            .dyn_into()
            .map_err(|_| Error::Media("the camera or microphone could not be opened")),
        Err(e) => Err(match get(&e, "name").as_string().as_deref() {
            Some("Unsupported") => Error::Unsupported(
                "camera and microphone access (navigator.mediaDevices) is missing",
            ),
            Some("NotAllowedError") | Some("SecurityError") => {
                Error::PermissionDenied("camera or microphone access was refused")
            }
            Some("NotFoundError") | Some("OverconstrainedError") => {
                Error::Media("no matching camera or microphone")
            }
            Some("NotReadableError") => {
                Error::Media("the camera or microphone is in use by another application")
            }
            _ => Error::Media("the camera or microphone could not be opened"),
        }),
    }
}

/// Sends each track of `fresh` in place of `stream`'s track of its kind on every connection
/// (`replaceTrack`, no renegotiation) and puts it in `stream`; false when `fresh` had none.
async fn replace_tracks(inner: &Shared, stream: &MediaStream, fresh: &MediaStream) -> bool {
    let pcs: Vec<_> = inner
        .borrow()
        .peers
        .values()
        .map(Peer::connection)
        .collect();
    let screen = inner.borrow().screen.own_stream().cloned();
    let placed = JsFuture::from(peer::replace_tracks(stream, fresh, pcs, screen)).await;
    placed
        .ok()
        .and_then(|v| v.as_f64())
        .is_some_and(|n| n > 0.0)
}

/// Sends on `p` exactly the local media's tracks and the shared screen's, and receives
/// both kinds whatever is sent.
fn sync_tracks(p: &Peer, guard: &Inner) {
    let screen = guard.screen.own_stream();
    p.remove_tracks_not_in(guard.local_stream.as_ref(), screen);
    match &guard.local_stream {
        Some(stream) => p.add_stream(stream),
        None => p.receive_audio_and_video(),
    }
    if let Some(screen) = screen {
        p.add_stream(screen);
    }
}

/// Brings every peer connection in line with the local stream and the shared screen, and
/// renegotiates.
fn renegotiate_all(inner: &Shared) {
    let ids: Vec<ParticipantId> = {
        let guard = inner.borrow();
        for p in guard.peers.values() {
            sync_tracks(p, &guard);
        }
        guard.peers.keys().copied().collect()
    };
    for id in ids {
        let _ = act(inner, &mut |s, now| s.request_renegotiation(id, now));
    }
}

// ----- network quality ---------------------------------------------------------------------

fn start_quality_probe(inner: &Shared) {
    if inner.borrow().quality_timer.is_some() {
        return;
    }
    let weak = Rc::downgrade(inner);
    let timer = Timer::once(QUALITY_INTERVAL_MS, move || {
        let Some(inner) = weak.upgrade() else { return };
        inner.borrow_mut().quality_timer = None;
        if inner.borrow().ended.is_some() {
            return;
        }
        let connected: Vec<(ParticipantId, web_sys::RtcPeerConnection)> = {
            let guard = inner.borrow();
            let up: Vec<ParticipantId> = guard
                .session
                .peers()
                .iter()
                .filter(|p| p.connected)
                .map(|p| p.id)
                .collect();
            guard
                .peers
                .iter()
                .filter(|(id, _)| up.contains(id))
                .map(|(id, p)| (*id, p.connection()))
                .collect()
        };
        for (id, pc) in connected {
            let weak = weak.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(sample) = peer::quality_sample(&pc).await {
                    assess_quality(&weak, id, &pc, sample);
                }
            });
        }
        start_quality_probe(&inner);
    });
    inner.borrow_mut().quality_timer = timer.ok();
}

/// Feeds one stats sample of the connection to `id` to its monitor (src/quality.rs), applies
/// the audio-only fallback's decision, and tells the app: `videopaused` / `videoresumed`
/// when it changes, and `quality` every time.
fn assess_quality(
    weak: &Weak<RefCell<Inner>>,
    id: ParticipantId,
    pc: &web_sys::RtcPeerConnection,
    (sample, frames_decoded): (crate::quality::Sample, Option<f64>),
) {
    let Some(inner) = weak.upgrade() else { return };
    let assessment = {
        let mut guard = inner.borrow_mut();
        if guard.ended.is_some() {
            return;
        }
        let now = now_ms();
        // The same connection only: a reset may have replaced it while stats were read.
        let assessment = match guard.peers.get_mut(&id) {
            Some(p) if p.connection() == *pc => {
                let a = p.monitor.handle_sample(sample, now);
                if let Some(decision) = a.decision {
                    p.set_video_sending(decision == crate::quality::Decision::ResumeVideo);
                }
                a
            }
            _ => return,
        };
        if assessment.decision.is_some() {
            // The peer shows it too (a signal over the sealed session).
            let _ = guard
                .session
                .set_video_paused(id, assessment.video_paused, now);
        }
        assessment
    };
    if assessment.decision.is_some() {
        pump(&inner);
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
        dispatch(&inner, kind, detail);
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
    dispatch(&inner, "quality", detail);
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
