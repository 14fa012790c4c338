//! The `files` consent category: a category of its own (12), granted and withdrawn in the
//! patient's ledger, and the decision the transfers are given comes from there.

use crate::consent_fixtures::{self, grant, request};
use crate::*;
use teleconsult::consent::{DataCategory, Event, check, fhir_consent};
use teleconsult::files::*;

#[test]
fn files_is_a_consent_category_of_its_own() {
    assert_eq!(DataCategory::Files.code(), "files");
    assert_eq!(DataCategory::from_byte(12), Some(DataCategory::Files));
    assert_eq!(DataCategory::ALL.last(), Some(&DataCategory::Files));
    // No other grant covers it: chat history, video, readings…
    let key = consent_fixtures::patient_key();
    let mut ledger = consent_fixtures::new_ledger();
    let others: Vec<DataCategory> = DataCategory::ALL
        .iter()
        .copied()
        .filter(|c| *c != DataCategory::Files)
        .collect();
    ledger
        .append(&key, T0, Event::Grant(grant(&others)))
        .unwrap();
    let d = check(ledger.state(), &request(DataCategory::Files, T0 + 1));
    assert!(!d.allowed);
    let mut pt = Transfers::new(PT, Role::Patient);
    assert!(matches!(
        pt.send(DR, ID, "a.jpg", "image/jpeg", jpeg(10), &d, T0),
        Err(FileError::NotConsented(_))
    ));
}

#[test]
fn a_grant_allows_and_its_withdrawal_stops_sharing() {
    let key = consent_fixtures::patient_key();
    let mut ledger = consent_fixtures::new_ledger();
    ledger
        .append(&key, T0, Event::Grant(grant(&[DataCategory::Files])))
        .unwrap();
    let d = check(ledger.state(), &request(DataCategory::Files, T0 + 1));
    assert!(d.allowed);
    let mut pt = Transfers::new(PT, Role::Patient);
    pt.send(DR, ID, "a.jpg", "image/jpeg", jpeg(10), &d, T0 + 1)
        .unwrap();
    ledger
        .append(&key, T0 + 2, Event::Withdraw { grant: 0 })
        .unwrap();
    let d = check(ledger.state(), &request(DataCategory::Files, T0 + 3));
    assert!(!d.allowed);
    assert!(matches!(
        pt.send(
            DR,
            TransferId(2),
            "b.jpg",
            "image/jpeg",
            jpeg(10),
            &d,
            T0 + 3
        ),
        Err(FileError::NotConsented(_))
    ));
}

#[test]
fn a_files_grant_exports_as_a_consent_for_media_and_document_references() {
    let key = consent_fixtures::patient_key();
    let mut ledger = consent_fixtures::new_ledger();
    ledger
        .append(&key, T0, Event::Grant(grant(&[DataCategory::Files])))
        .unwrap();
    let state = ledger.state();
    let c = fhir_consent(&consent_fixtures::LEDGER_ID, state, &state.grants[0]);
    let v = serde_json::to_value(&c).unwrap();
    let classes: Vec<&str> = v["provision"]["class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["Media", "DocumentReference"]);
    assert!(v["provision"]["code"].to_string().contains("\"files\""));
}
