//! Held files as FHIR R4 resources for the visit's Bundle: an image is a `Media`, a
//! document a `DocumentReference`; each points at a `Binary` holding the bytes.
//!
//! Both name the patient as `subject`, the visit's encounter when known, the sender
//! (`operator` / `author`), the time it was sent, and carry two identifiers: the transfer
//! (`<sender id>-<transfer id>`, unique within the visit, for conditional create) and the
//! file's SHA-256 in hex. (R4's `Attachment.hash` is defined as SHA-1, so the SHA-256 the
//! SDK checked goes in an identifier instead.) The attachment has the type, size, name and
//! the `Binary`'s relative URL (`Binary/<id>`), which resolves within the Bundle.

use serde::Serialize;

use super::transfers::SharedFile;
use crate::chat::fhir::{CodeableConcept, Coding, Identifier, Reference};
use crate::chat::{CommunicationContext, PARTICIPANT_SYSTEM};
use crate::consent::iso8601;
use crate::consent::model::hex;
use crate::signaling::relay_wire::Role;

/// The identifier system of shared files (`<sender id>-<transfer id>`).
pub const IDENTIFIER_SYSTEM: &str = "urn:teleconsult:file";
/// The identifier system of a file's SHA-256 (lower-case hex).
pub const SHA256_SYSTEM: &str = "urn:teleconsult:file-sha256";

/// A FHIR Attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The media type.
    pub content_type: &'static str,
    /// `Binary/<id>`.
    pub url: String,
    /// Bytes.
    pub size: u32,
    /// The file name.
    pub title: String,
    /// When it was sent.
    pub creation: String,
}

/// A FHIR R4 Media (an image).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// Always `Media`.
    pub resource_type: &'static str,
    /// `file-<sender id>-<transfer id>`.
    pub id: String,
    /// The transfer and the SHA-256.
    pub identifier: Vec<Identifier>,
    /// Always `completed`.
    pub status: &'static str,
    /// Always `image`.
    #[serde(rename = "type")]
    pub kind: CodeableConcept,
    /// The patient.
    pub subject: Reference,
    /// The visit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    /// When sent.
    pub created_date_time: String,
    /// Who sent it.
    pub operator: Reference,
    /// The image.
    pub content: Attachment,
}

/// A DocumentReference's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentContent {
    /// The document.
    pub attachment: Attachment,
}

/// A DocumentReference's context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentContext {
    /// The visit.
    pub encounter: Vec<Reference>,
}

/// A FHIR R4 DocumentReference (a PDF).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReference {
    /// Always `DocumentReference`.
    pub resource_type: &'static str,
    /// `file-<sender id>-<transfer id>`.
    pub id: String,
    /// The transfer and the SHA-256.
    pub identifier: Vec<Identifier>,
    /// Always `current`.
    pub status: &'static str,
    /// The patient.
    pub subject: Reference,
    /// When sent (FHIR instant).
    pub date: String,
    /// Who sent it.
    pub author: Vec<Reference>,
    /// The document.
    pub content: Vec<DocumentContent>,
    /// The visit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<DocumentContext>,
}

/// A FHIR R4 Binary: the file's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Binary {
    /// Always `Binary`.
    pub resource_type: &'static str,
    /// `file-<sender id>-<transfer id>`.
    pub id: String,
    /// The media type.
    pub content_type: &'static str,
    /// The bytes, base64.
    pub data: String,
}

/// The resource describing a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FileResource {
    /// An image.
    Media(Box<Media>),
    /// A document.
    DocumentReference(Box<DocumentReference>),
}

/// One file's resources: its description and its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileResources {
    /// `Media` or `DocumentReference`.
    pub resource: FileResource,
    /// The `Binary` it points at.
    pub binary: Binary,
}

fn literal(reference: &str) -> Reference {
    Reference {
        reference: Some(reference.to_owned()),
        identifier: None,
        display: None,
    }
}

/// The resources of every file in `files`, in order.
pub fn to_fhir(files: &[SharedFile], ctx: &CommunicationContext) -> Vec<FileResources> {
    files.iter().map(|f| one(f, ctx)).collect()
}

fn one(f: &SharedFile, ctx: &CommunicationContext) -> FileResources {
    let author = hex::encode(&f.author.0);
    let key = {
        let mut v = author.clone();
        v.push('-');
        v.push_str(&hex::encode(&f.id.0.to_be_bytes()));
        v
    };
    let id = {
        let mut v = String::from("file-");
        v.push_str(&key);
        v
    };
    let sender = match ctx.senders.iter().find(|(p, _)| *p == f.author) {
        Some((_, r)) => literal(r),
        None => Reference {
            reference: None,
            identifier: Some(Identifier {
                system: PARTICIPANT_SYSTEM,
                value: author,
            }),
            display: Some(match f.role {
                Role::Clinician => "clinician",
                Role::Patient => "patient",
                Role::Guest => "guest",
            }),
        },
    };
    let content_type = f.offer.file_type.mime();
    let sent = iso8601(f.offer.sent_at);
    let attachment = Attachment {
        content_type,
        url: {
            let mut v = String::from("Binary/");
            v.push_str(&id);
            v
        },
        size: f.offer.size,
        title: f.offer.name.clone(),
        creation: sent.clone(),
    };
    let identifier = vec![
        Identifier {
            system: IDENTIFIER_SYSTEM,
            value: key,
        },
        Identifier {
            system: SHA256_SYSTEM,
            value: hex::encode(&f.offer.sha256),
        },
    ];
    let subject = literal(&ctx.subject);
    let encounter = ctx.encounter.as_deref().map(literal);
    let resource = if f.offer.file_type.is_image() {
        FileResource::Media(Box::new(Media {
            resource_type: "Media",
            id: id.clone(),
            identifier,
            status: "completed",
            kind: CodeableConcept {
                coding: vec![Coding {
                    system: "http://terminology.hl7.org/CodeSystem/media-type",
                    code: "image",
                    display: "Image",
                }],
            },
            subject,
            encounter,
            created_date_time: sent,
            operator: sender,
            content: attachment,
        }))
    } else {
        FileResource::DocumentReference(Box::new(DocumentReference {
            resource_type: "DocumentReference",
            id: id.clone(),
            identifier,
            status: "current",
            subject,
            date: sent,
            author: vec![sender],
            content: vec![DocumentContent { attachment }],
            context: encounter.map(|e| DocumentContext { encounter: vec![e] }),
        }))
    };
    FileResources {
        resource,
        binary: Binary {
            resource_type: "Binary",
            id,
            content_type,
            data: crate::devices::raw::base64_encode(&f.data),
        },
    }
}
