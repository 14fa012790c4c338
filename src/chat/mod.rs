//! End-to-end encrypted chat over a consultation, sans-IO.
//!
//! Chat frames ride the session's sealed, reliable, ordered app-data channel
//! ([`Session::send_app_data`](crate::signaling::Session::send_app_data)) behind
//! their own reserved first byte, [`TAG_CHAT`] (docs/PROTOCOL.md, "Chat"). Each participant
//! keeps a [`Conversation`]: the messages it holds, numbered per author for order and replay
//! refusal, the delivered and read receipts of its own, and typing state. A participant
//! admitted later gets the earlier messages from a clinician only when the patient's
//! `chat-history` consent allows it: the decision is passed in
//! ([`Conversation::history_for`]), never looked up here.
//!
//! | module | job |
//! | --- | --- |
//! | `wire` | the frames and their bounded decoding |
//! | `conversation` | the state machine: messages, receipts, history |
//! | `store` | the bytes a conversation is persisted as |
//! | `fhir` | messages as FHIR R4 `Communication` resources |
//!
//! ```
//! use teleconsult::chat::{Conversation, Peer, Received};
//! use teleconsult::signaling::relay_wire::{ParticipantId, Role};
//!
//! let (dr, pt) = (ParticipantId([1; 8]), ParticipantId([2; 8]));
//! let mut clinician = Conversation::new(dr, Role::Clinician);
//! let mut patient = Conversation::new(pt, Role::Patient);
//! let (_, frame) = patient.send("My throat hurts", 1_000)?;
//! let from_patient = Peer { id: pt, role: Role::Patient, in_call: true };
//! let Received::Message { message, receipt } = clinician.receive(from_patient, &frame)? else {
//!     unreachable!()
//! };
//! assert_eq!(message.text, "My throat hurts");
//! let from_dr = Peer { id: dr, role: Role::Clinician, in_call: true };
//! patient.receive(from_dr, &receipt)?;
//! assert_eq!(patient.progress(dr).delivered, 1);
//! // The same frame again is a replay: refused, nothing changes.
//! assert!(clinician.receive(from_patient, &frame).is_err());
//! assert_eq!(clinician.messages().len(), 1);
//! # Ok::<(), teleconsult::chat::ChatError>(())
//! ```

mod conversation;
mod error;
pub mod fhir;
pub mod store;
mod wire;

pub use conversation::{ChatMessage, Conversation, Peer, Progress, Received};
pub use error::ChatError;
pub use fhir::{
    Communication, CommunicationContext, IDENTIFIER_SYSTEM, PARTICIPANT_SYSTEM, to_communication,
    to_communications,
};
pub use wire::{Frame, MAX_FRAME_LEN, MAX_TIME, TAG_CHAT, VERSION, check_text};

/// The longest message text, in bytes of UTF-8 (about two pages of prose): chat is for
/// short exchanges; documents go as files.
pub const MAX_TEXT_LEN: usize = 4_000;
/// The most messages one conversation holds (a visit's chat is far shorter): bounds the
/// memory and the stored size a hostile peer can cause.
pub const MAX_MESSAGES: usize = 2_000;

/// How far a peer got with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceiptState {
    /// It reached the peer's SDK.
    Delivered = 1,
    /// The peer's app marked it read.
    Read = 2,
}

impl ReceiptState {
    /// The stable name JavaScript sees.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }
}
