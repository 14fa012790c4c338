//! Held files as FHIR R4 resources: an image is a `Media`, a document a
//! `DocumentReference`, each with its `Binary`; compared with the expected JSON and checked
//! against the R4 models.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::*;
use teleconsult::chat::CommunicationContext;
use teleconsult::files::*;

fn context() -> CommunicationContext {
    CommunicationContext {
        subject: "Patient/pat-1".into(),
        encounter: Some("Encounter/visit-7".into()),
        senders: vec![(DR, "Practitioner/dr-1".into())],
    }
}

/// The clinician after a photo from the patient and a document of its own.
fn visit() -> Transfers {
    let (mut pt, mut dr) = offered(jpeg(20));
    pump(&mut pt, &mut dr, |_, _| true);
    dr.send(
        PT,
        TransferId(2),
        "plan.pdf",
        "application/pdf",
        pdf(9),
        &yes(),
        T0 + 500,
    )
    .unwrap();
    let mut pt = Transfers::new(PT, Role::Patient);
    for (_, f) in drain(&mut dr) {
        pt.receive(peer(DR, Role::Clinician), &f, &yes(), T0)
            .unwrap();
    }
    for (_, f) in drain(&mut pt) {
        dr.receive(peer(PT, Role::Patient), &f, &yes(), T0).unwrap();
    }
    assert_eq!(dr.files().len(), 2);
    dr
}

#[test]
fn a_photo_exports_as_media_and_a_document_as_a_document_reference_each_with_its_binary() {
    let v = serde_json::to_value(to_fhir(visit().files(), &context())).unwrap();
    // The SHA-256 of the fixture, computed rather than pasted.
    let photo_sha = hex(&Sha256::digest(jpeg(20)));
    assert_eq!(
        v[0],
        json!({
            "resource": {
                "resourceType": "Media",
                "id": "file-a1a1a1a1a1a1a1a1-0123456789abcdef",
                "identifier": [
                    { "system": "urn:teleconsult:file", "value": "a1a1a1a1a1a1a1a1-0123456789abcdef" },
                    { "system": "urn:teleconsult:file-sha256", "value": photo_sha }
                ],
                "status": "completed",
                "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image", "display": "Image" }] },
                "subject": { "reference": "Patient/pat-1" },
                "encounter": { "reference": "Encounter/visit-7" },
                "createdDateTime": "2023-11-14T22:13:20.000Z",
                "operator": { "identifier": { "system": "urn:teleconsult:participant", "value": "a1a1a1a1a1a1a1a1" }, "display": "patient" },
                "content": {
                    "contentType": "image/jpeg",
                    "url": "Binary/file-a1a1a1a1a1a1a1a1-0123456789abcdef",
                    "size": 20,
                    "title": "rash.jpg",
                    "creation": "2023-11-14T22:13:20.000Z"
                }
            },
            "binary": {
                "resourceType": "Binary",
                "id": "file-a1a1a1a1a1a1a1a1-0123456789abcdef",
                "contentType": "image/jpeg",
                "data": base64(&jpeg(20))
            }
        })
    );
    let doc = &v[1]["resource"];
    assert_eq!(doc["resourceType"], "DocumentReference");
    assert_eq!(doc["status"], "current");
    assert_eq!(doc["author"], json!([{ "reference": "Practitioner/dr-1" }]));
    assert_eq!(
        doc["context"],
        json!({ "encounter": [{ "reference": "Encounter/visit-7" }] })
    );
    assert_eq!(doc["date"], "2023-11-14T22:13:20.500Z");
    assert_eq!(
        doc["content"][0]["attachment"]["url"],
        json!(format!("Binary/{}", v[1]["binary"]["id"].as_str().unwrap()))
    );
    assert_eq!(v[1]["binary"]["data"], json!(base64(&pdf(9))));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn base64(b: &[u8]) -> String {
    teleconsult::devices::raw::base64_encode(b)
}

/// R4 elements of each resource (http://hl7.org/fhir/R4/media.html,
/// documentreference.html, binary.html), and the required ones.
fn check_r4(r: &Value) -> Result<(), String> {
    const DOMAIN: &[&str] = &[
        "resourceType",
        "id",
        "meta",
        "implicitRules",
        "language",
        "text",
        "contained",
        "extension",
        "modifierExtension",
    ];
    let (elements, required): (&[&str], &[&str]) = match r["resourceType"].as_str() {
        Some("Media") => (
            &[
                "identifier",
                "basedOn",
                "partOf",
                "status",
                "type",
                "modality",
                "view",
                "subject",
                "encounter",
                "createdDateTime",
                "createdPeriod",
                "issued",
                "operator",
                "reasonCode",
                "bodySite",
                "deviceName",
                "device",
                "height",
                "width",
                "frames",
                "duration",
                "content",
                "note",
            ],
            &["status", "content"],
        ),
        Some("DocumentReference") => (
            &[
                "masterIdentifier",
                "identifier",
                "status",
                "docStatus",
                "type",
                "category",
                "subject",
                "date",
                "author",
                "authenticator",
                "custodian",
                "relatesTo",
                "description",
                "securityLabel",
                "content",
                "context",
            ],
            &["status", "content"],
        ),
        Some("Binary") => (
            &["contentType", "securityContext", "data"],
            &["contentType"],
        ),
        other => return Err(format!("unexpected resource {other:?}")),
    };
    let o = r.as_object().ok_or("not an object")?;
    for k in o.keys() {
        if !DOMAIN.contains(&k.as_str()) && !elements.contains(&k.as_str()) {
            return Err(format!("unknown element {k}"));
        }
    }
    for k in required {
        if !o.contains_key(*k) {
            return Err(format!("{k} is required"));
        }
    }
    let attachment = |a: &Value| -> Result<(), String> {
        let ao = a.as_object().ok_or("attachment")?;
        for k in ao.keys() {
            if ![
                "contentType",
                "language",
                "data",
                "url",
                "size",
                "hash",
                "title",
                "creation",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("unknown Attachment element {k}"));
            }
        }
        if !a["size"].is_u64() {
            return Err("size is an unsignedInt".into());
        }
        Ok(())
    };
    match o["resourceType"].as_str() {
        Some("Media") => {
            if ![
                "preparation",
                "in-progress",
                "not-done",
                "on-hold",
                "stopped",
                "completed",
                "entered-in-error",
                "unknown",
            ]
            .contains(&o["status"].as_str().unwrap_or(""))
            {
                return Err("Media.status not in event-status".into());
            }
            attachment(&o["content"])?;
        }
        Some("DocumentReference") => {
            if !["current", "superseded", "entered-in-error"]
                .contains(&o["status"].as_str().unwrap_or(""))
            {
                return Err("DocumentReference.status not in document-reference-status".into());
            }
            for c in o["content"].as_array().ok_or("content is an array")? {
                attachment(&c["attachment"])?;
            }
            if let Some(ctx) = o.get("context") {
                if !ctx["encounter"].is_array() {
                    return Err("context.encounter is an array in R4".into());
                }
            }
            if !o["author"].is_array() {
                return Err("author is an array".into());
            }
        }
        _ => {
            let data = o["data"].as_str().ok_or("data")?;
            if data.len() % 4 != 0
                || !data
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                return Err("data is not base64Binary".into());
            }
        }
    }
    Ok(())
}

#[test]
fn every_exported_resource_fits_the_r4_model() {
    let dr = visit();
    let no_encounter = CommunicationContext {
        encounter: None,
        ..context()
    };
    for ctx in [context(), no_encounter] {
        for f in to_fhir(dr.files(), &ctx) {
            for r in [
                serde_json::to_value(&f.resource).unwrap(),
                serde_json::to_value(&f.binary).unwrap(),
            ] {
                check_r4(&r).unwrap_or_else(|e| panic!("{e}: {r}"));
            }
        }
    }
}

#[test]
fn the_model_check_catches_what_r4_forbids() {
    let all = to_fhir(visit().files(), &context());
    let media = serde_json::to_value(&all[0].resource).unwrap();
    let doc = serde_json::to_value(&all[1].resource).unwrap();
    for (good, path, bad) in [
        (&media, "status", json!("current")),
        (&doc, "status", json!("completed")),
        (
            &doc,
            "context",
            json!({ "encounter": { "reference": "Encounter/1" } }),
        ),
        (&media, "bogus", json!(1)),
    ] {
        let mut v = good.clone();
        v[path] = bad;
        assert!(check_r4(&v).is_err(), "{path}");
    }
    let mut v = media.clone();
    v.as_object_mut().unwrap().remove("content");
    assert!(check_r4(&v).is_err());
}
