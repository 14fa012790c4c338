//! Chat messages as FHIR R4 Communications: compared with the expected JSON, and checked
//! against the R4 Communication model (elements, cardinalities, value sets, types).

use serde_json::{Value, json};

use crate::*;
use teleconsult::chat::*;
use teleconsult::signaling::relay_wire::Role;

fn context() -> CommunicationContext {
    CommunicationContext {
        subject: "Patient/pat-1".into(),
        encounter: Some("Encounter/visit-7".into()),
        senders: vec![(DR, "Practitioner/dr-1".into())],
    }
}

fn exchange() -> Conversation {
    let mut dr = clinician();
    let (_, f) = patient().send("It itches at night", T0).unwrap();
    dr.receive(peer(PT, Role::Patient), &f).unwrap();
    dr.send("Any new soap?", T0 + 1_500).unwrap();
    dr
}

#[test]
fn a_message_exports_as_a_fhir_r4_communication() {
    let all = to_communications(exchange().messages(), &context());
    let json = serde_json::to_value(&all).unwrap();
    assert_eq!(
        json,
        json!([
            {
                "resourceType": "Communication",
                "identifier": [{ "system": "urn:teleconsult:chat-message", "value": "a1a1a1a1a1a1a1a1-1" }],
                "status": "completed",
                "medium": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", "code": "WRITTEN", "display": "written" }] }],
                "subject": { "reference": "Patient/pat-1" },
                "encounter": { "reference": "Encounter/visit-7" },
                "sent": "2023-11-14T22:13:20.000Z",
                "sender": { "identifier": { "system": "urn:teleconsult:participant", "value": "a1a1a1a1a1a1a1a1" }, "display": "patient" },
                "payload": [{ "contentString": "It itches at night" }]
            },
            {
                "resourceType": "Communication",
                "identifier": [{ "system": "urn:teleconsult:chat-message", "value": "d0d0d0d0d0d0d0d0-1" }],
                "status": "completed",
                "medium": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", "code": "WRITTEN", "display": "written" }] }],
                "subject": { "reference": "Patient/pat-1" },
                "encounter": { "reference": "Encounter/visit-7" },
                "sent": "2023-11-14T22:13:21.500Z",
                "sender": { "reference": "Practitioner/dr-1" },
                "payload": [{ "contentString": "Any new soap?" }]
            }
        ])
    );
}

/// The R4 Communication elements (http://hl7.org/fhir/R4/communication.html) and the
/// checks the model makes on the ones the SDK writes.
fn check_r4_communication(r: &Value) -> Result<(), String> {
    const ELEMENTS: &[&str] = &[
        "resourceType",
        "id",
        "meta",
        "implicitRules",
        "language",
        "text",
        "contained",
        "extension",
        "modifierExtension",
        "identifier",
        "instantiatesCanonical",
        "instantiatesUri",
        "basedOn",
        "partOf",
        "inResponseTo",
        "status",
        "statusReason",
        "category",
        "priority",
        "medium",
        "subject",
        "topic",
        "about",
        "encounter",
        "sent",
        "received",
        "recipient",
        "sender",
        "reasonCode",
        "reasonReference",
        "payload",
        "note",
    ];
    const EVENT_STATUS: &[&str] = &[
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    ];
    let o = r.as_object().ok_or("not an object")?;
    for k in o.keys() {
        if !ELEMENTS.contains(&k.as_str()) {
            return Err(format!("unknown element {k}"));
        }
    }
    if o["resourceType"] != "Communication" {
        return Err("resourceType".into());
    }
    let status = o
        .get("status")
        .and_then(Value::as_str)
        .ok_or("status is required")?;
    if !EVENT_STATUS.contains(&status) {
        return Err(format!("status {status} not in event-status"));
    }
    // dateTime: YYYY-MM-DDThh:mm:ss(.sss)(Z|±hh:mm)
    let sent = o["sent"].as_str().ok_or("sent")?;
    let b = sent.as_bytes();
    let digits =
        |r: core::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(10) == Some(&b'T')
        && sent.ends_with('Z'))
    {
        return Err(format!("sent {sent} is not a dateTime"));
    }
    for reference in ["subject", "encounter", "sender"]
        .iter()
        .filter_map(|k| o.get(*k))
    {
        let ro = reference.as_object().ok_or("reference")?;
        for k in ro.keys() {
            if !["reference", "type", "identifier", "display"].contains(&k.as_str()) {
                return Err(format!("unknown Reference element {k}"));
            }
        }
    }
    for p in o["payload"].as_array().ok_or("payload")? {
        let content = ["contentString", "contentAttachment", "contentReference"];
        let n = content.iter().filter(|k| p.get(**k).is_some()).count();
        if n != 1 {
            return Err("payload.content[x] is 1..1".into());
        }
        if p.get("contentString")
            .and_then(Value::as_str)
            .is_some_and(str::is_empty)
        {
            return Err("empty string".into());
        }
    }
    for arr in ["identifier", "medium", "payload"] {
        if o.get(arr).is_some_and(|v| !v.is_array()) {
            return Err(format!("{arr} must be an array"));
        }
    }
    Ok(())
}

#[test]
fn every_exported_communication_fits_the_r4_model() {
    let mut dr = exchange();
    // Every author role, odd texts, the latest time FHIR can write.
    let mut g = guest();
    let (_, f) = g
        .send("Ünïcode ✓\nsecond line", consent_fixtures::T0 + 9)
        .unwrap();
    dr.receive(peer(GUEST, Role::Guest), &f).unwrap();
    let late = Frame::Message {
        seq: 2,
        sent_at: MAX_TIME,
        text: "\"quoted\" <b>".into(),
    }
    .encode();
    dr.receive(peer(GUEST, Role::Guest), &late).unwrap();
    let no_encounter = CommunicationContext {
        encounter: None,
        ..context()
    };
    for ctx in [context(), no_encounter] {
        for c in to_communications(dr.messages(), &ctx) {
            let v = serde_json::to_value(&c).unwrap();
            check_r4_communication(&v).unwrap_or_else(|e| panic!("{e}: {v}"));
        }
    }
    let last = to_communication(dr.messages().last().unwrap(), &context());
    assert_eq!(last.sent, "9999-12-31T23:59:59.999Z");
}

#[test]
fn the_model_check_catches_what_r4_forbids() {
    let good =
        serde_json::to_value(to_communication(&exchange().messages()[0], &context())).unwrap();
    for (path, bad) in [
        ("status", json!("sent")),
        ("sent", json!("yesterday")),
        ("payload", json!([{}])),
        ("sender", json!({ "who": "x" })),
    ] {
        let mut v = good.clone();
        v[path] = bad;
        assert!(check_r4_communication(&v).is_err(), "{path}");
    }
    let mut v = good;
    v["bogus"] = json!(1);
    assert!(check_r4_communication(&v).is_err());
}
