//! Chat: the wire frames, the conversation (order, receipts, replays), history for late
//! joiners under the patient's consent, storage and the FHIR export — and the attacks on
//! them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests may unwrap: a failure is the test failing"
)]

#[path = "../consent_fixtures/mod.rs"]
mod consent_fixtures;

mod chat_attacks;
mod chat_fhir;
mod chat_history;
mod chat_properties;
mod chat_receipts;
mod chat_wire;

use teleconsult::chat::{Conversation, Peer};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};

/// The clinician, the patient, a guest (interpreter) and an outsider.
pub(crate) const DR: ParticipantId = ParticipantId([0xD0; 8]);
pub(crate) const PT: ParticipantId = ParticipantId([0xA1; 8]);
pub(crate) const GUEST: ParticipantId = ParticipantId([0x6E; 8]);
pub(crate) const MALLORY: ParticipantId = ParticipantId([0x66; 8]);

/// 2023-11-14T22:13:20Z (the consent fixtures' T0).
pub(crate) const T0: u64 = consent_fixtures::T0;

/// `id` as a peer in the call.
pub(crate) fn peer(id: ParticipantId, role: Role) -> Peer {
    Peer {
        id,
        role,
        in_call: true,
    }
}

pub(crate) fn clinician() -> Conversation {
    Conversation::new(DR, Role::Clinician)
}

pub(crate) fn patient() -> Conversation {
    Conversation::new(PT, Role::Patient)
}

pub(crate) fn guest() -> Conversation {
    Conversation::new(GUEST, Role::Guest)
}

/// The texts held, in order.
pub(crate) fn texts(c: &Conversation) -> Vec<&str> {
    c.messages().iter().map(|m| m.text.as_str()).collect()
}
