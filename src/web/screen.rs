//! Screen sharing: `Consultation.startScreenShare()` and `stopScreenShare()`, the indicator
//! on every side (`screensharestarted` / `screensharestopped`), and telling the screen track
//! from the camera on the receiving side.
//!
//! Only a clinician shares (a patient shows something with a photo). The notice travels as
//! a sealed signal of the session ([`ScreenShare`], docs/PROTOCOL.md "Screen sharing"): the
//! core refuses one from anyone whose hello did not prove the clinician role, and the relay
//! can neither forge nor replay it. It names the `MediaStream` id the screen track is sent
//! in (the SDP's `msid`), and goes out ahead of the renegotiation that adds the track, so the
//! receiver knows which incoming track is the screen when it arrives; a participant who
//! joins during a share hears of it before its first description.
//!
//! The browser IO (`getDisplayMedia`, the track's `ended` event) is `snippets/screen.js`.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::MediaStream;

use super::consultation::{self, Consultation, Shared};
use super::js::{self, get, object};
use super::peer;
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{ScreenShare, ScreenShareEnd, SessionError, valid_stream_id};
use crate::sorted_map::SortedMap;
use crate::web::Error;

#[wasm_bindgen(module = "/src/web/snippets/screen.js")]
extern "C" {
    /// `getDisplayMedia`; see the snippet for how it rejects.
    #[wasm_bindgen(js_name = openDisplay)]
    fn open_display() -> Promise;
    /// Calls `on_ended` when the shared track ends by the browser's hand; returns the
    /// function that detaches it.
    #[wasm_bindgen(js_name = watchEnded)]
    fn watch_ended(stream: &MediaStream, on_ended: &Function) -> Function;
}

/// The screen shares of one consultation (held in its driver).
#[derive(Default)]
pub(super) struct CallScreen {
    /// This side's share, while it runs.
    own: Option<Own>,
    /// The picker is open (`startScreenShare` awaits it).
    opening: bool,
    /// Each sharing clinician's announced stream id, and the stream once its track came.
    remote: SortedMap<ParticipantId, (String, Option<MediaStream>)>,
}

struct Own {
    stream: MediaStream,
    /// The camera was paused for the share (`camera: "pause"`) and comes back after it.
    paused_camera: bool,
    /// Detaches the `ended` listener.
    unwatch: Function,
    /// The `ended` listener (kept alive while attached).
    _on_ended: Closure<dyn FnMut()>,
}

impl CallScreen {
    /// The stream this side shares, to be sent on every connection.
    pub(super) fn own_stream(&self) -> Option<&MediaStream> {
        self.own.as_ref().map(|o| &o.stream)
    }

    /// Whether `stream` (a received track's sender stream) is the screen `peer` announced;
    /// if so it is kept as that peer's screen stream.
    pub(super) fn claim(&mut self, peer: ParticipantId, stream: &MediaStream) -> bool {
        match self.remote.get_mut(&peer) {
            Some((id, held)) if *id == stream.id() => {
                *held = Some(Clone::clone(stream));
                true
            }
            _ => false,
        }
    }
}

#[wasm_bindgen]
impl Consultation {
    /// (Clinicians) shares a screen, window or tab (`getDisplayMedia`: the browser shows its
    /// picker), alongside the camera or instead of it (`camera: "pause"`). Every participant
    /// in the call, and everyone admitted while it lasts, gets `screensharestarted` and the
    /// screen's video as a `track` event with `screen: true`. It stops with
    /// `stopScreenShare()` or the browser's own control (`screensharestopped`, reason
    /// `"stopped"` or `"ended"`).
    ///
    /// Resolves to the shared `MediaStream`. Rejects with `InvalidState` (not a clinician,
    /// not in the call, already sharing, or the call ended meanwhile), `Unsupported` (no
    /// `getDisplayMedia`: mobile browsers; see `capabilities().screenShare`),
    /// `PermissionDenied` (the user closed the picker or refused; or, in Firefox and Safari,
    /// it was not called from a click or tap) or `MediaFailed`.
    #[wasm_bindgen(js_name = startScreenShare, unchecked_return_type = "Promise<MediaStream>")]
    pub fn start_screen_share(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "any")] options: Option<JsValue>,
    ) -> Promise {
        let inner = Rc::clone(self.shared());
        let pause = options
            .map(|o| get(&o, "camera").as_string().as_deref() == Some("pause"))
            .unwrap_or(false);
        js::promise(async move { start(&inner, pause).await.map(JsValue::from) })
    }

    /// (Clinicians) stops sharing the screen (nothing happens when not sharing).
    #[wasm_bindgen(js_name = stopScreenShare)]
    pub fn stop_screen_share(&self) {
        stop(self.shared(), ScreenShareEnd::Stopped);
    }

    /// The screen a participant shares (this side's own id: this side's share), once its
    /// track arrived; `undefined` otherwise.
    #[wasm_bindgen(js_name = screenStream)]
    pub fn screen_stream(
        &self,
        #[wasm_bindgen(js_name = participantId)] participant_id: &str,
    ) -> Option<MediaStream> {
        let inner = self.shared();
        let id = consultation::parse_participant(participant_id).ok()?;
        let local = consultation::local_id(inner);
        consultation::with_screen(inner, |s| {
            if id == local {
                s.own_stream().cloned()
            } else {
                s.remote.get(&id).and_then(|(_, st)| st.clone())
            }
        })
        .flatten()
    }
}

fn refused() -> Error {
    Error::Core(crate::signaling::SignalingError::InvalidState.into())
}

async fn start(inner: &Shared, pause_camera: bool) -> Result<MediaStream, crate::web::JsError> {
    let view = consultation::call_view(inner).ok_or_else(refused)?;
    if !consultation::in_call(inner) {
        return Err(refused().into());
    }
    if view.role != Role::Clinician {
        return Err(Error::from(SessionError::NotPermitted).into());
    }
    let busy = consultation::with_screen(inner, |s| {
        let busy = s.opening || s.own.is_some();
        s.opening |= !busy;
        busy
    })
    .unwrap_or(true);
    if busy {
        return Err(refused().into());
    }
    let opened = JsFuture::from(open_display()).await;
    let _ = consultation::with_screen(inner, |s| s.opening = false);
    let stream: MediaStream = match opened {
        Ok(s) => s
            .dyn_into()
            .map_err(|_| Error::Media("the screen could not be captured"))?,
        Err(e) => return Err(display_error(&e).into()),
    };
    // The picker may stay open a long time: the call may have ended meanwhile.
    let still = consultation::in_call(inner);
    let id = stream.id();
    if !still || !valid_stream_id(&id) {
        peer::stop_tracks(&stream);
        return Err(if still {
            Error::Media("the browser gave the screen an unusable stream id")
        } else {
            refused()
        }
        .into());
    }
    let announced = consultation::act_on_session(inner, &mut |s, now| {
        s.set_screen_share(
            ScreenShare::Started {
                stream_id: id.clone(),
            },
            now,
        )
    });
    if let Err(e) = announced {
        peer::stop_tracks(&stream);
        return Err(e);
    }
    let weak = Rc::downgrade(inner);
    let on_ended = Closure::<dyn FnMut()>::new(move || {
        // In a microtask: stopping drops this closure, which must not happen while it runs.
        let weak = weak.clone();
        js::spawn(Box::pin(async move {
            if let Some(inner) = weak.upgrade() {
                stop(&inner, ScreenShareEnd::Ended);
            }
        }));
    });
    let unwatch = watch_ended(&stream, on_ended.as_ref().unchecked_ref());
    let paused_camera = pause_camera
        && view.local_stream.as_ref().is_some_and(|local| {
            peer::set_enabled(local, "video", false);
            true
        });
    let _ = consultation::with_screen(inner, |s| {
        s.own = Some(Own {
            stream: Clone::clone(&stream),
            paused_camera,
            unwatch,
            _on_ended: on_ended,
        });
    });
    consultation::renegotiate(inner);
    let detail = object(&[
        ("participantId", js::hex(&view.local.0).into()),
        ("local", true.into()),
        ("streamId", id.into()),
    ]);
    consultation::dispatch_event(inner, "screensharestarted", detail);
    Ok(stream)
}

fn display_error(e: &JsValue) -> Error {
    match get(e, "name").as_string().as_deref() {
        Some("Unsupported") => Error::Unsupported(
            "screen sharing (getDisplayMedia) is missing: mobile browsers cannot share a screen",
        ),
        Some("NotAllowedError") | Some("SecurityError") => {
            Error::PermissionDenied("screen sharing was refused or the picker was closed")
        }
        // Firefox and Safari need a user gesture for the picker.
        Some("InvalidStateError") => Error::PermissionDenied(
            "screen sharing must start from a click or tap (the browser needs a user gesture)",
        ),
        Some("NotSupportedError") => {
            Error::Unsupported("this browser cannot capture a screen here")
        }
        _ => Error::Media("the screen could not be captured"),
    }
}

/// Ends this side's share (the SDK's call, the browser's control or the end of the call):
/// releases the capture, tells the others, renegotiates and tells the app.
fn stop(inner: &Shared, why: ScreenShareEnd) {
    let Some(own) = consultation::with_screen(inner, |s| s.own.take()).flatten() else {
        return;
    };
    release(&own, inner);
    let _ = consultation::act_on_session(inner, &mut |s, now| {
        s.set_screen_share(ScreenShare::Stopped(why), now)
    });
    consultation::renegotiate(inner);
    let local = consultation::local_id(inner);
    stopped_event(inner, local, true, why.name());
}

fn release(own: &Own, inner: &Shared) {
    let _ = own.unwatch.call0(&JsValue::UNDEFINED);
    peer::stop_tracks(&own.stream);
    if own.paused_camera
        && let Some(local) = consultation::call_view(inner).and_then(|v| v.local_stream)
    {
        peer::set_enabled(&local, "video", true);
    }
}

fn stopped_event(inner: &Shared, peer: ParticipantId, local: bool, reason: &str) {
    let detail = object(&[
        ("participantId", js::hex(&peer.0).into()),
        ("local", local.into()),
        ("reason", reason.into()),
    ]);
    consultation::dispatch_event(inner, "screensharestopped", detail);
}

/// A clinician's notice arrived (the core checked who sent it).
pub(super) fn on_notice(inner: &Shared, peer: ParticipantId, notice: ScreenShare) {
    match notice {
        ScreenShare::Started { stream_id } => {
            let _ = consultation::with_screen(inner, |s| {
                s.remote.insert(peer, (stream_id.clone(), None))
            });
            let detail = object(&[
                ("participantId", js::hex(&peer.0).into()),
                ("local", false.into()),
                ("streamId", stream_id.into()),
            ]);
            consultation::dispatch_event(inner, "screensharestarted", detail);
        }
        ScreenShare::Stopped(why) => forget(inner, peer, why.name()),
    }
}

/// `peer` left: its share is over as far as this side can tell.
pub(super) fn peer_left(inner: &Shared, peer: ParticipantId) {
    forget(inner, peer, "left");
}

fn forget(inner: &Shared, peer: ParticipantId, reason: &str) {
    let had = consultation::with_screen(inner, |s| s.remote.remove(&peer)).flatten();
    if had.is_some() {
        stopped_event(inner, peer, false, reason);
    }
}

/// The call ends: release this side's capture (the others hear of the end by the call's).
pub(super) fn hung_up(inner: &Shared) {
    let own = consultation::with_screen(inner, |s| {
        s.remote.clear();
        s.own.take()
    })
    .flatten();
    if let Some(own) = own {
        release(&own, inner);
        let local = consultation::local_id(inner);
        stopped_event(inner, local, true, "hung-up");
    }
}
