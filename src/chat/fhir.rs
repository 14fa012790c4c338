//! Chat messages as FHIR R4 `Communication` resources for the visit's Bundle.
//!
//! Each message is one `Communication`: `status` `completed` (it was sent), `medium`
//! `WRITTEN` (v3 ParticipationMode), the patient as `subject`, the visit's `encounter` when
//! known, `sent`, the author as `sender`, the text as one `payload.contentString`, and an
//! `identifier` (`<author id>-<seq>`, unique within the visit) for conditional create.

use serde::Serialize;

use super::conversation::ChatMessage;
use crate::consent::iso8601;
use crate::signaling::relay_wire::{ParticipantId, Role};

/// The identifier system of chat messages.
pub const IDENTIFIER_SYSTEM: &str = "urn:teleconsult:chat-message";
/// The identifier system of call participants (a sender without a FHIR reference).
pub const PARTICIPANT_SYSTEM: &str = "urn:teleconsult:participant";

/// Where the Communications point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommunicationContext {
    /// The patient reference, e.g. `Patient/123`.
    pub subject: String,
    /// The Encounter reference, if the visit has one.
    pub encounter: Option<String>,
    /// FHIR references of the participants who are known (`Practitioner/dr-1`); others are
    /// named by their participant id.
    pub senders: Vec<(ParticipantId, String)>,
}

/// A FHIR Coding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coding {
    /// Code system.
    pub system: &'static str,
    /// Code.
    pub code: &'static str,
    /// Display.
    pub display: &'static str,
}

/// A FHIR CodeableConcept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeableConcept {
    /// Its codings.
    pub coding: Vec<Coding>,
}

/// A FHIR Identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// Namespace.
    pub system: &'static str,
    /// Value.
    pub value: String,
}

/// A FHIR Reference: a literal reference, or an identifier with a display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Literal reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Logical reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Text alternative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<&'static str>,
}

/// A Communication payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// The message text.
    pub content_string: String,
}

/// A FHIR R4 Communication, ready for `serde_json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Communication {
    /// Always `Communication`.
    pub resource_type: &'static str,
    /// `<author id>-<seq>`.
    pub identifier: Vec<Identifier>,
    /// Always `completed`.
    pub status: &'static str,
    /// Written.
    pub medium: Vec<CodeableConcept>,
    /// The patient.
    pub subject: Reference,
    /// The visit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    /// When sent (FHIR dateTime, UTC).
    pub sent: String,
    /// The author.
    pub sender: Reference,
    /// The text.
    pub payload: Vec<Payload>,
}

fn literal(reference: &str) -> Reference {
    Reference {
        reference: Some(reference.to_owned()),
        identifier: None,
        display: None,
    }
}

/// The Communication of one message.
pub fn to_communication(m: &ChatMessage, ctx: &CommunicationContext) -> Communication {
    let author = crate::consent::model::hex::encode(&m.author.0);
    let sender = match ctx.senders.iter().find(|(id, _)| *id == m.author) {
        Some((_, r)) => literal(r),
        None => Reference {
            reference: None,
            identifier: Some(Identifier {
                system: PARTICIPANT_SYSTEM,
                value: author.clone(),
            }),
            display: Some(match m.role {
                Role::Clinician => "clinician",
                Role::Patient => "patient",
                Role::Guest => "guest",
            }),
        },
    };
    Communication {
        resource_type: "Communication",
        identifier: vec![Identifier {
            system: IDENTIFIER_SYSTEM,
            value: {
                let mut v = author;
                v.push('-');
                crate::text::push_padded(&mut v, m.seq, 1);
                v
            },
        }],
        status: "completed",
        medium: vec![CodeableConcept {
            coding: vec![Coding {
                system: "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                code: "WRITTEN",
                display: "written",
            }],
        }],
        subject: literal(&ctx.subject),
        encounter: ctx.encounter.as_deref().map(literal),
        sent: iso8601(m.sent_at),
        sender,
        payload: vec![Payload {
            content_string: m.text.clone(),
        }],
    }
}

/// The Communications of every message, in conversation order.
pub fn to_communications(
    messages: &[ChatMessage],
    ctx: &CommunicationContext,
) -> Vec<Communication> {
    messages.iter().map(|m| to_communication(m, ctx)).collect()
}
