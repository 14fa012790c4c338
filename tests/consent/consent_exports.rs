//! Exports: FHIR R4 Consent and consent receipts compared to expected JSON, the JSON shapes
//! JavaScript sees, and offline verification of an exported ledger.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use serde_json::json;
use teleconsult::consent::*;

const ID_HEX: &str = "abababababababababababababababab";
const START: &str = "2023-11-14T22:13:20.000Z";
const END: &str = "2023-11-14T23:13:20.000Z";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// 0: verbal grant of video + heart rate (active); 1: grant of audio, withdrawn at 2.
fn ledger() -> Ledger {
    let k = patient_key();
    let mut l = new_ledger();
    let mut g = grant(&[DataCategory::HeartRate, DataCategory::Video]);
    g.collection = Collection::VerbalAttested {
        clinician: "dr-1".into(),
    };
    l.append(&k, T0, Event::Grant(g)).unwrap();
    l.append(&k, T0 + 1000, Event::Grant(grant(&[DataCategory::Audio])))
        .unwrap();
    l.append(&k, T0 + 2000, Event::Withdraw { grant: 1 })
        .unwrap();
    l
}

fn coding(system: &str, code: &str) -> serde_json::Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

#[test]
fn active_grant_exports_as_a_fhir_r4_consent() {
    let fhir = fhir_consents(&ledger());
    let expected = json!({
        "resourceType": "Consent",
        "id": format!("{ID_HEX}-0"),
        "extension": [
            {
                "url": "urn:teleconsult:fhir:consent-notice",
                "extension": [
                    { "url": "version", "valueString": "3" },
                    { "url": "language", "valueString": "en" },
                    { "url": "sha256", "valueString": hex(&notice("3").sha256) }
                ]
            },
            { "url": "urn:teleconsult:fhir:collection-method", "valueCode": "verbal-attested" },
            { "url": "urn:teleconsult:fhir:attested-by", "valueReference": { "reference": "Practitioner/dr-1" } }
        ],
        "identifier": [{ "system": "urn:teleconsult:consent-ledger", "value": format!("{ID_HEX}/0") }],
        "status": "active",
        "scope": coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
        "category": [
            coding("http://loinc.org", "59284-0"),
            coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IDSCL")
        ],
        "patient": { "reference": "Patient/pat-1" },
        "dateTime": START,
        "performer": [{ "reference": "Patient/pat-1" }],
        "policy": [{ "uri": "https://clinic.example/privacy" }],
        "provision": {
            "type": "permit",
            "period": { "start": START, "end": END },
            "actor": [{
                "role": coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"),
                "reference": { "reference": "Practitioner/dr-1" }
            }],
            "action": [
                coding("http://terminology.hl7.org/CodeSystem/consentaction", "collect"),
                coding("http://terminology.hl7.org/CodeSystem/consentaction", "disclose")
            ],
            "purpose": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT" }],
            "class": [
                { "system": "http://hl7.org/fhir/resource-types", "code": "Media" },
                { "system": "http://hl7.org/fhir/resource-types", "code": "Observation" }
            ],
            "code": [
                coding("urn:teleconsult:data-category", "video"),
                { "coding": [
                    { "system": "urn:teleconsult:data-category", "code": "heart-rate" },
                    { "system": "http://loinc.org", "code": "8867-4" }
                ] }
            ]
        }
    });
    assert_eq!(serde_json::to_value(&fhir[0]).unwrap(), expected);
}

#[test]
fn withdrawn_or_superseded_grants_export_as_inactive() {
    let mut l = ledger();
    let statuses = |l: &Ledger| {
        fhir_consents(l)
            .iter()
            .map(|c| c.status)
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&l), ["active", "inactive"]);
    let withdrawn = serde_json::to_value(&fhir_consents(&l)[1]).unwrap();
    assert_eq!(
        withdrawn["provision"]["code"],
        json!([coding("urn:teleconsult:data-category", "audio")])
    );
    assert_eq!(withdrawn["extension"][1]["valueCode"], "patient-action");
    l.append(&patient_key(), T0 + 3000, Event::NoticeUpdated(notice("4")))
        .unwrap();
    assert_eq!(statuses(&l), ["inactive", "inactive"]);
}

fn context() -> ReceiptContext {
    ReceiptContext {
        controller: Controller {
            name: "Example Clinic".into(),
            contact: "privacy@clinic.example".into(),
        },
        jurisdiction: "EU".into(),
        withdrawal_method: "Press 'Withdraw consent' in the consultation app".into(),
    }
}

#[test]
fn withdrawn_grant_receipt_matches_the_27560_style_record() {
    let l = ledger();
    let r = receipt(&l, 1, &context()).unwrap();
    let entry = l.entry_bytes(1).unwrap();
    let expected = json!({
        "schemaVersion": "ISO/IEC TS 27560:2023 teleconsult-receipt-1",
        "recordId": format!("{ID_HEX}-1"),
        "piiPrincipalId": "pat-1",
        "controllers": [{ "name": "Example Clinic", "contact": "privacy@clinic.example" }],
        "recipients": [{ "kind": "Practitioner", "id": "dr-1" }],
        "purposes": ["TREAT"],
        "piiCategories": [{ "category": "audio", "sensitive": true }],
        "validFrom": START,
        "validUntil": END,
        "notice": {
            "uri": "https://clinic.example/privacy",
            "version": "3",
            "language": "en",
            "sha256": hex(&notice("3").sha256)
        },
        "collectionMethod": { "method": "patient-action" },
        "jurisdiction": "EU",
        "withdrawalMethod": "Press 'Withdraw consent' in the consultation app",
        "state": "withdrawn",
        "events": [
            { "time": "2023-11-14T22:13:21.000Z", "type": "given", "actor": "pii-principal" },
            { "time": "2023-11-14T22:13:22.000Z", "type": "withdrawn", "actor": "pii-principal" }
        ],
        "proof": {
            "algorithm": "Ed25519",
            "ledgerId": ID_HEX,
            "seq": 1,
            "entryHash": hex(&entry_hash(entry)),
            "signature": hex(&entry[entry.len() - 64..]),
            "publicKey": hex(&patient_key().public_key())
        }
    });
    assert_eq!(serde_json::to_value(&r).unwrap(), expected);
    assert_eq!(receipt(&l, 0, &context()).unwrap().state, "active");
    assert_eq!(
        receipt(&l, 2, &context()).unwrap_err(),
        LedgerError::UnknownGrant { grant: 2 }
    );
}

#[test]
fn javascript_shapes_round_trip_through_json() {
    // What the JS binding will pass in: a grant and a request as plain objects.
    let g: Grant = serde_json::from_value(json!({
        "patient": "pat-1",
        "recipient": { "kind": "Organization", "id": "clinic-7" },
        "purposes": ["TREAT", "HRESCH"],
        "categories": ["video", "screen-share", "spo2"],
        "period": { "start": T0, "end": null },
        "notice": notice("3"),
        "collection": { "method": "verbal-attested", "clinician": "dr-1" }
    }))
    .unwrap();
    assert_eq!(g.recipient.kind, RecipientKind::Organization);
    assert_eq!(
        g.categories,
        [
            DataCategory::Video,
            DataCategory::ScreenShare,
            DataCategory::Spo2
        ]
    );
    let back: Grant = serde_json::from_value(serde_json::to_value(&g).unwrap()).unwrap();
    assert_eq!(back, g);
    assert!(serde_json::from_value::<Grant>(json!({"patient": 1})).is_err());
    let mut bad = serde_json::to_value(&g).unwrap();
    bad["notice"]["sha256"] = json!("zz");
    assert!(serde_json::from_value::<Grant>(bad).is_err());

    let req: Request = serde_json::from_value(json!({
        "category": "video",
        "recipient": { "kind": "Practitioner", "id": "dr-1" },
        "purpose": "TREAT",
        "now": T0 + 1,
        "noticeVersion": "3"
    }))
    .unwrap();
    assert_eq!(req, request(DataCategory::Video, T0 + 1));

    // What JS gets back: decisions, grant lists and summaries.
    let l = ledger();
    assert_eq!(
        serde_json::to_value(check(l.state(), &request(DataCategory::Audio, T0 + 3000))).unwrap(),
        json!({ "allowed": false, "reason": "Withdrawn", "grant": 1 })
    );
    let listed = serde_json::to_value(&l.state().grants[1]).unwrap();
    assert_eq!(
        listed["status"],
        json!({ "state": "withdrawn", "at": T0 + 2000 })
    );
    assert_eq!(listed["grantedAt"], json!(T0 + 1000));
    let summary = serde_json::to_value(l.verify(None).unwrap()).unwrap();
    assert_eq!(summary["entries"], 3);
    assert_eq!(summary["activeGrants"], 1);
    assert_eq!(summary["ledgerId"], ID_HEX);
    let entry = serde_json::to_value(l.entries().nth(2).unwrap()).unwrap();
    assert_eq!(entry["event"], json!({ "type": "withdraw", "grant": 1 }));
}

#[test]
fn exported_ledger_verifies_offline_with_and_without_a_checkpoint() {
    let l = ledger();
    let mut replica = replica(&patient_key().public_key());
    let mut cp = None;
    for e in entries(&l) {
        cp = Some(replica.receive(&e, on_time(&e)).unwrap());
    }
    let cp = Checkpoint::decode(&cp.unwrap().encode()).unwrap();
    let bytes = l.encode();
    let pk = patient_key().public_key();
    let s = verify_exported(&bytes, &pk, Some((&cp, &clinician_key().public_key()))).unwrap();
    assert_eq!(
        (
            s.entries,
            s.active_grants,
            s.withdrawn_grants,
            s.head,
            s.head_time,
            s.checkpoint_size
        ),
        (3, 1, 1, l.head(), T0 + 2000, Some(3))
    );
    assert_eq!(
        verify_exported(&bytes, &pk, None).unwrap().checkpoint_size,
        None
    );
    // The clinician's copy exports the same bytes.
    assert_eq!(replica.ledger().encode(), bytes);
    // Another patient's key does not verify it.
    let other = ConsentKey::from_seed(&MALLORY_SEED).public_key();
    assert_eq!(
        verify_exported(&bytes, &other, None).unwrap_err(),
        LedgerError::WrongSigner { seq: 0 }
    );
}
