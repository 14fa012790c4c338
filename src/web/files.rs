//! Photos and documents in JavaScript: the `files*` methods of `Consultation` (wrapped as
//! `consultation.files` by pkg/src/files.ts) and the `file*` events.
//!
//! Thin glue over [`crate::files::Transfers`]: frames go out through the session's app-data
//! channel; frames in are demultiplexed by their tag in `consultation.rs`. Every send and
//! every frame in is decided against the patient's `files` consent: on a patient's page the
//! attached `ConsentManager`s, elsewhere every patient's bound `ConsentReplica`; nothing
//! attached means no grant. A consent change ends every transfer going when it no longer
//! allows sharing ([`enforce`]).

use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use super::consent::Attached;
use super::consultation::{self, Consultation, Shared};
use super::js::{self, object, set};
use super::timer::{Timer, now_ms};
use super::{Error, JsError};
use crate::Error as CoreError;
use crate::consent::{DataCategory, Decision, Reason};
use crate::files::{
    CancelReason, Direction, FileError, FileEvent, Frame, SharedFile, TransferId, Transfers,
    to_fhir,
};
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{Phase, Session};

/// The file transfers of one consultation (held in its driver).
#[derive(Default)]
pub(super) struct CallFiles {
    /// Made on first use: the session's id and role are known by then.
    transfers: Option<Transfers>,
    /// Peers a frame could not be handed to (the session's queue was full): their transfers
    /// resume from the last acknowledgement once the call is back.
    stalled: Vec<ParticipantId>,
    /// Wakes the transfers when the pace lets held-back chunks go, and the time it is armed
    /// for.
    timer: Option<(Timer, u64)>,
    /// Peers with a direct path up (kept here too: the transfers may be made after it came
    /// up).
    direct: Vec<ParticipantId>,
}

fn transfers<'a>(files: &'a mut CallFiles, s: &Session, now: u64) -> &'a mut Transfers {
    files.transfers.get_or_insert_with(|| {
        let mut t = Transfers::new(s.id(), s.role());
        // Below the relay's byte rate: above it the relay closes the connection (4009).
        let (rate, burst) = crate::files::DEFAULT_RATE;
        t.set_rate(rate, burst, now);
        for peer in &files.direct {
            t.set_direct(*peer, true, now);
        }
        t
    })
}

/// Arms the timer for the transfers' next deadline (chunks waiting for the pace).
fn schedule(inner: &Shared) {
    let due = consultation::with_files(inner, |files, _, _| {
        let at = files.transfers.as_ref()?.poll_timeout()?;
        (files.timer.as_ref().map(|t| t.1) != Some(at)).then_some(at)
    })
    .flatten();
    let Some(at) = due else {
        return;
    };
    let weak = Rc::downgrade(inner);
    let timer = Timer::once(at.saturating_sub(now_ms()) as f64, move || {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let _ = consultation::with_files(&inner, |files, s, now| {
            files.timer = None;
            if let Some(t) = files.transfers.as_mut() {
                t.handle_timeout(now);
            }
            flush(files, s, now);
        });
        schedule(&inner);
    });
    let _ = consultation::with_files(inner, |files, _, _| {
        files.timer = timer.ok().map(|t| (t, at));
    });
}

fn file_error(e: FileError) -> Error {
    Error::Core(CoreError::File(e))
}

/// The patient's `files` decision as this side knows it: its own managers on a patient's
/// page, every patient's bound replica elsewhere; default deny.
fn decision(s: &Session, ledgers: &Attached, now: u64) -> Decision {
    if s.role() == Role::Patient {
        return super::consent::allows_for_consultation(ledgers, DataCategory::Files, now)
            .unwrap_or(Decision {
                allowed: false,
                reason: Reason::NoGrant,
                grant: None,
            });
    }
    let patients: Vec<String> = s
        .peers()
        .iter()
        .filter(|p| p.role == Role::Patient && p.in_call)
        .map(|p| js::hex(&p.id.0))
        .collect();
    super::consent::everyone_decision(ledgers, &patients, DataCategory::Files, now)
}

/// Hands every queued frame to the session, as bulk data: over the peer's direct path when
/// there is one (docs/FILES.md, "Direct path"). A frame it cannot take (its queue is full) marks
/// the peer stalled: [`resume_stalled`] sends again from the last acknowledgement.
fn flush(files: &mut CallFiles, s: &mut Session, now: u64) {
    let Some(t) = files.transfers.as_mut() else {
        return;
    };
    while let Some((to, frame)) = t.poll_transmit() {
        if s.send_bulk_app_data(to, &frame, now).is_err() && !files.stalled.contains(&to) {
            files.stalled.push(to);
        }
    }
}

fn id_hex(id: TransferId) -> String {
    js::hex(&id.0.to_be_bytes())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Outgoing => "outgoing",
        Direction::Incoming => "incoming",
    }
}

fn file_js(f: &SharedFile, local: ParticipantId) -> JsValue {
    object(&[
        ("transferId", id_hex(f.id).into()),
        ("author", js::hex(&f.author.0).into()),
        ("role", f.role.as_str().into()),
        ("recipient", js::hex(&f.recipient.0).into()),
        ("name", f.offer.name.as_str().into()),
        ("type", f.offer.file_type.mime().into()),
        ("size", f.offer.size.into()),
        ("sha256", js::hex(&f.offer.sha256).into()),
        ("sentAt", (f.offer.sent_at as f64).into()),
        ("own", (f.author == local).into()),
    ])
    .into()
}

fn cancelled_js(peer: ParticipantId, id: TransferId, d: Direction, r: CancelReason) -> JsValue {
    object(&[
        ("transferId", id_hex(id).into()),
        ("participantId", js::hex(&peer.0).into()),
        ("direction", direction_name(d).into()),
        ("reason", r.name().into()),
    ])
    .into()
}

/// Runs `f` on the transfers, then hands their frames to the session; a busy or ended call
/// is `InvalidState`.
fn with<R>(
    inner: &Shared,
    f: impl FnOnce(&mut Transfers, &mut Session, u64) -> Result<R, Error>,
) -> Result<R, JsError> {
    let r = consultation::with_files(inner, |files, s, now| {
        let r = f(transfers(files, s, now), s, now);
        flush(files, s, now);
        r
    })
    .unwrap_or(Err(Error::Core(CoreError::Signaling(
        crate::signaling::SignalingError::InvalidState,
    ))))
    .map_err(JsError);
    schedule(inner);
    r
}

/// A file frame from `peer` (its first byte is the files tag).
pub(super) fn on_frame(inner: &Shared, peer: ParticipantId, data: &[u8]) {
    let ledgers = consultation::ledgers(inner);
    let outcome = consultation::with_files(inner, |files, s, now| {
        let from = super::chat::sender(s, peer);
        let consent = decision(s, &ledgers, now);
        let local = s.id();
        let t = transfers(files, s, now);
        let r = t.receive(from, data, &consent, now);
        // A file held in full goes to the app (with its bytes when it was received).
        let held = match &r {
            Ok(FileEvent::Received { peer, id }) => t
                .held(*peer, *id)
                .map(|f| (file_js(f, local), Some(Uint8Array::from(f.data.as_slice())))),
            Ok(FileEvent::Delivered { id, .. }) => {
                t.held(local, *id).map(|f| (file_js(f, local), None))
            }
            _ => None,
        };
        flush(files, s, now);
        (r, held)
    });
    schedule(inner);
    let Some((result, held)) = outcome else {
        return;
    };
    let hex = |p: ParticipantId| JsValue::from(js::hex(&p.0));
    let (kind, detail) = match result {
        Ok(FileEvent::Offered { peer, id, offer }) => (
            "fileoffered",
            object(&[
                ("transferId", id_hex(id).into()),
                ("participantId", hex(peer)),
                ("name", offer.name.as_str().into()),
                ("type", offer.file_type.mime().into()),
                ("size", offer.size.into()),
            ]),
        ),
        Ok(FileEvent::Resumed { .. }) => return,
        Ok(FileEvent::Progress {
            peer,
            id,
            direction,
            bytes,
            total,
        }) => (
            "fileprogress",
            object(&[
                ("transferId", id_hex(id).into()),
                ("participantId", hex(peer)),
                ("direction", direction_name(direction).into()),
                ("bytes", bytes.into()),
                ("total", total.into()),
            ]),
        ),
        Ok(FileEvent::Received { .. }) | Ok(FileEvent::Delivered { .. }) => {
            let Some((file, data)) = held else {
                return;
            };
            let detail = object(&[("file", file)]);
            match data {
                Some(data) => {
                    set(&detail, "data", data);
                    ("filereceived", detail)
                }
                None => ("filedelivered", detail),
            }
        }
        Ok(FileEvent::Cancelled {
            peer,
            id,
            direction,
            reason,
        }) => (
            "filecancelled",
            js_sys::Object::from(cancelled_js(peer, id, direction, reason)),
        ),
        Err(e) => {
            let detail = consultation::error_event(&file_error(e), Some(peer));
            if let Ok(frame) = Frame::decode(data) {
                set(&detail, "transferId", id_hex(frame.id()));
            }
            ("error", detail)
        }
    };
    consultation::dispatch_event(inner, kind, detail);
}

/// The consent changed: when it no longer allows sharing files, every transfer going ends
/// (what was received of them is dropped) and each peer is told.
pub(super) fn enforce(inner: &Shared) {
    let ledgers = consultation::ledgers(inner);
    let ended = consultation::with_files(inner, |files, s, now| {
        let t = files.transfers.as_mut()?;
        if t.active() == 0 || decision(s, &ledgers, now).allowed {
            return None;
        }
        let ended = t.stop_all(CancelReason::NotConsented);
        flush(files, s, now);
        Some(ended)
    })
    .flatten()
    .unwrap_or_default();
    for (peer, id, d) in ended {
        let detail = cancelled_js(peer, id, d, CancelReason::NotConsented);
        consultation::dispatch_event(inner, "filecancelled", detail.into());
    }
}

/// The direct path to `peer` came up or went down: the session routes bulk data by it, and
/// chunks are paced for the relay only while they go through it.
pub(super) fn route_changed(inner: &Shared, peer: ParticipantId, direct: bool) {
    let _ = consultation::with_files(inner, |files, s, now| {
        s.set_direct(peer, direct, now);
        files.direct.retain(|p| *p != peer);
        if direct {
            files.direct.push(peer);
        }
        if let Some(t) = files.transfers.as_mut() {
            t.set_direct(peer, direct, now);
        }
        flush(files, s, now);
    });
    schedule(inner);
}

/// `peer` left the call (or its page restarted): its transfers end, without a partial file.
pub(super) fn peer_left(inner: &Shared, peer: ParticipantId) {
    let ended = consultation::with_files(inner, |files, _, _| {
        files.stalled.retain(|p| *p != peer);
        files.direct.retain(|p| *p != peer);
        files
            .transfers
            .as_mut()
            .map(|t| t.peer_left(peer))
            .unwrap_or_default()
    })
    .unwrap_or_default();
    for (id, d) in ended {
        let detail = cancelled_js(peer, id, d, CancelReason::PeerLeft);
        consultation::dispatch_event(inner, "filecancelled", detail.into());
    }
}

/// The call is back (relay reconnected, a peer connected): transfers towards a peer whose
/// frames could not be queued go on from the last chunk it acknowledged.
pub(super) fn resume_stalled(inner: &Shared) {
    let _ = consultation::with_files(inner, |files, s, now| {
        let stalled = core::mem::take(&mut files.stalled);
        if let Some(t) = files.transfers.as_mut() {
            for p in stalled {
                t.resume(p, now);
            }
        }
        flush(files, s, now);
    });
    schedule(inner);
}

fn parse_id(s: &str) -> Result<ParticipantId, Error> {
    js::parse_hex8(s)
        .map(ParticipantId)
        .ok_or(Error::InvalidArgument(
            "participantId: expected 16 hex digits",
        ))
}

fn parse_transfer(s: &str) -> Result<TransferId, Error> {
    js::parse_hex8(s)
        .map(|b| TransferId(u64::from_be_bytes(b)))
        .ok_or(Error::InvalidArgument("transferId: expected 16 hex digits"))
}

/// The recipient when the app names none: the clinician for a patient or guest, the patient
/// for a clinician (the one in the call).
fn default_recipient(s: &Session) -> Result<ParticipantId, Error> {
    let want = if s.role() == Role::Clinician {
        Role::Patient
    } else {
        Role::Clinician
    };
    s.peers()
        .iter()
        .find(|p| p.in_call && p.role == want)
        .map(|p| p.id)
        .ok_or(Error::InvalidArgument(
            "to: no participant in the call to send the file to",
        ))
}

#[wasm_bindgen]
impl Consultation {
    /// Checks that a file of `type` and `size` named `name` could be sent to `to` (default:
    /// the clinician, or for a clinician the patient) now: in the call, consented, allowed
    /// type, within the cap. Returns the recipient. (pkg: `files.send`, before reading.)
    #[wasm_bindgen(js_name = filesCheck)]
    pub fn files_check(
        &self,
        to: Option<String>,
        name: &str,
        mime: &str,
        size: f64,
    ) -> Result<String, JsError> {
        let ledgers = consultation::ledgers(self.shared());
        with(self.shared(), |_, s, now| {
            let to = recipient(s, to.as_deref())?;
            let consent = decision(s, &ledgers, now);
            if !consent.allowed {
                return Err(file_error(FileError::NotConsented(consent.reason)));
            }
            crate::files::check_name(name).map_err(file_error)?;
            if crate::files::FileType::from_mime(mime).is_none() {
                return Err(file_error(FileError::TypeNotAllowed));
            }
            if size.is_nan() || size < 1.0 {
                return Err(file_error(FileError::Empty));
            }
            if size > crate::files::MAX_FILE_LEN as f64 {
                return Err(file_error(FileError::TooLarge));
            }
            Ok(js::hex(&to.0))
        })
    }

    /// Sends `data` (named `name`, of media type `type`) to `to`; returns the transfer id.
    /// Progress, delivery and refusal arrive as `fileprogress`, `filedelivered`,
    /// `filecancelled` events. (pkg: `files.send`.)
    #[wasm_bindgen(js_name = filesSend)]
    pub fn files_send(
        &self,
        to: &str,
        name: &str,
        mime: &str,
        data: Vec<u8>,
    ) -> Result<String, JsError> {
        let to = parse_id(to).map_err(JsError)?;
        let mut id = [0u8; 8];
        js::random_bytes(&mut id).map_err(JsError)?;
        let id = TransferId(u64::from_be_bytes(id));
        let ledgers = consultation::ledgers(self.shared());
        with(self.shared(), |t, s, now| {
            if s.phase() != Phase::InCall || !s.peer(to).is_some_and(|p| p.in_call) {
                return Err(Error::Core(CoreError::Signaling(
                    crate::signaling::SignalingError::InvalidState,
                )));
            }
            let consent = decision(s, &ledgers, now);
            t.send(to, id, name, mime, data, &consent, now)
                .map_err(file_error)?;
            Ok(id_hex(id))
        })
    }

    /// Cancels the transfer `transferId` with `participantId` (either direction); a
    /// `filecancelled` event (`cancelled`) follows on this side too.
    /// (pkg: `FileTransfer.cancel`, `files.cancel`.)
    #[wasm_bindgen(js_name = filesCancel)]
    pub fn files_cancel(&self, participant_id: &str, transfer_id: &str) -> Result<(), JsError> {
        let peer = parse_id(participant_id).map_err(JsError)?;
        let id = parse_transfer(transfer_id).map_err(JsError)?;
        let direction = with(self.shared(), |t, _, _| {
            t.cancel(peer, id).map_err(file_error)
        })?;
        // This side's own cancellation ends the transfer here too (its `done` rejects).
        let detail = cancelled_js(peer, id, direction, CancelReason::Cancelled);
        consultation::dispatch_event(self.shared(), "filecancelled", detail.into());
        Ok(())
    }

    /// Every file held in full, in the order they completed. (pkg: `files.list()`.)
    #[wasm_bindgen(js_name = filesList, unchecked_return_type = "any[]")]
    pub fn files_list(&self) -> Result<Array, JsError> {
        with(self.shared(), |t, s, _| {
            let local = s.id();
            Ok(t.files().iter().map(|f| file_js(f, local)).collect())
        })
    }

    /// The bytes of the file `transferId` from `author`. (pkg: `files.blob`.)
    #[wasm_bindgen(js_name = filesData)]
    pub fn files_data(&self, author: &str, transfer_id: &str) -> Result<Uint8Array, JsError> {
        let author = parse_id(author).map_err(JsError)?;
        let id = parse_transfer(transfer_id).map_err(JsError)?;
        with(self.shared(), |t, _, _| {
            t.held(author, id)
                .map(|f| Uint8Array::from(f.data.as_slice()))
                .ok_or(file_error(FileError::UnknownTransfer))
        })
    }

    /// The files held as FHIR R4 resources: for each, a `Media` (image) or
    /// `DocumentReference` (document), then its `Binary`. `senders` pairs participant ids
    /// with FHIR references. (pkg: `files.toFhir`.)
    #[wasm_bindgen(js_name = filesToFhir, unchecked_return_type = "object[]")]
    pub fn files_to_fhir(
        &self,
        subject: String,
        encounter: Option<String>,
        #[wasm_bindgen(unchecked_param_type = "[string, string][]")] senders: Array,
    ) -> Result<Array, JsError> {
        let ctx = super::chat::fhir_context(subject, encounter, &senders).map_err(JsError)?;
        with(self.shared(), |t, _, _| {
            let out = Array::new();
            for r in to_fhir(t.files(), &ctx) {
                out.push(&js::to_value(&r.resource));
                out.push(&js::to_value(&r.binary));
            }
            Ok(out)
        })
    }
}

fn recipient(s: &Session, to: Option<&str>) -> Result<ParticipantId, Error> {
    let to = match to {
        Some(to) => parse_id(to)?,
        None => default_recipient(s)?,
    };
    if s.phase() != Phase::InCall || !s.peer(to).is_some_and(|p| p.in_call) {
        return Err(Error::Core(CoreError::Signaling(
            crate::signaling::SignalingError::InvalidState,
        )));
    }
    Ok(to)
}
