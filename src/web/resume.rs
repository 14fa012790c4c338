//! Where a page keeps its resume ticket across a reload: `sessionStorage`, under the room
//! (docs/PROTOCOL.md, "Resume after a reload"; THREAT_MODEL.md). `sessionStorage` belongs to
//! one tab: it survives a reload of that tab and is gone when the tab closes, and no other
//! tab or site reads it. Never `localStorage`: a ticket must not outlive the tab.
//!
//! The entry holds the participant id with the ticket (a ticket is its participant's only):
//! a page that joins without `participantId` takes the stored one, so a reload resumes.
//! Every failure (no storage in a worker, storage blocked, a garbled entry) means "no
//! ticket": the participant waits to be admitted, as without this.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use zeroize::Zeroizing;

use super::js;
use crate::crypto::RoomId;
use crate::signaling::relay_wire::ParticipantId;
use crate::signaling::{RESUME_TICKET_LEN, ResumeTicket};

fn key(room: &RoomId) -> String {
    format!("teleconsult:resume:{}", js::hex(&room.0))
}

fn storage() -> Option<JsValue> {
    // Reading `sessionStorage` throws where storage is blocked (sandboxed frames, some
    // privacy settings): no storage then.
    let s = Reflect::get(&js_sys::global(), &"sessionStorage".into()).ok()?;
    s.is_object().then_some(s)
}

fn call(storage: &JsValue, method: &str, args: &[&str]) -> Option<JsValue> {
    let f: Function = Reflect::get(storage, &method.into())
        .ok()?
        .dyn_into()
        .ok()?;
    let args: js_sys::Array = args.iter().map(|a| JsValue::from_str(a)).collect();
    f.apply(storage, &args).ok()
}

/// Takes the ticket stored for `room`, if any, and removes it (a ticket is presented once;
/// the next one comes with the next admission). `wanted`: the participant id the app asked
/// for, if it did; a ticket of another participant is dropped.
pub(super) fn take(room: &RoomId, wanted: Option<[u8; 8]>) -> Option<([u8; 8], ResumeTicket)> {
    let s = storage()?;
    let k = key(room);
    let hex = Zeroizing::new(call(&s, "getItem", &[&k])?.as_string()?);
    let _ = call(&s, "removeItem", &[&k]);
    let bytes = Zeroizing::new(js::parse_hex::<{ 8 + RESUME_TICKET_LEN }>(&hex)?);
    let (id, ticket) = bytes.split_first_chunk::<8>()?;
    let ticket = ResumeTicket::decode(ticket)?;
    if *id == [0; 8] || wanted.is_some_and(|w| w != *id) {
        return None;
    }
    Some((*id, ticket))
}

/// Keeps `ticket` of participant `id` for a reload of this tab.
pub(super) fn store(room: &RoomId, id: ParticipantId, ticket: &ResumeTicket) {
    let Some(s) = storage() else { return };
    let mut bytes = Zeroizing::new(id.0.to_vec());
    bytes.extend_from_slice(&ticket.encode());
    let hex = Zeroizing::new(js::hex(&bytes));
    let _ = call(&s, "setItem", &[&key(room), &hex]);
}

/// Forgets the ticket for `room`: the visit ended for this participant (hung up, denied,
/// ended), so a reload must not bring it back.
pub(super) fn clear(room: &RoomId) {
    if let Some(s) = storage() {
        let _ = call(&s, "removeItem", &[&key(room)]);
    }
}
