//! Issue 13, point 5: the replica countersigns with the clinician's per-visit identity key
//! (from the invite link), and the patient accepts checkpoints only under the key it
//! expects — never a key seen for the first time.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use teleconsult::consent::*;

fn patient() -> ConsentManager<MemoryStore> {
    ConsentManager::open(&PATIENT_SEED, LEDGER_ID, MemoryStore::default()).unwrap()
}

/// Before: the patient trusted whatever clinician key came with the first checkpoint, so a
/// party holding a link and the relay could countersign with its own key.
#[test]
fn checkpoint_from_unknown_key_is_refused() {
    let mut m = patient();
    m.expect_clinician(clinician_key().public_key());
    let e = m
        .grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    // Mallory's replica: a valid countersignature, by the wrong key.
    let mut mallory = LedgerReplica::new(
        LEDGER_ID,
        &m.public_key(),
        ConsentKey::from_seed(&MALLORY_SEED),
    )
    .unwrap();
    let cp = mallory.receive(&e, T0 + 10).unwrap();
    assert_eq!(
        m.accept_checkpoint(&cp.encode(), &mallory.clinician_public_key())
            .unwrap_err(),
        LedgerError::UnknownClinicianKey
    );
    // Claiming the expected key does not help: the signature is checked against it.
    assert_eq!(
        m.accept_checkpoint(&cp.encode(), &clinician_key().public_key())
            .unwrap_err(),
        LedgerError::BadCheckpointSignature
    );
    assert!(m.ledger().checkpoint().is_none());
    // The real clinician's checkpoint is accepted and kept.
    let mut real = replica(&m.public_key());
    let cp = real.receive(&e, T0 + 10).unwrap();
    m.accept_checkpoint(&cp.encode(), &real.clinician_public_key())
        .unwrap();
    assert_eq!(m.ledger().checkpoint().map(|(c, _)| c), Some(&cp));
}

#[test]
fn no_checkpoint_is_trusted_before_a_clinician_key_is_expected() {
    let mut m = patient();
    let e = m
        .grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let mut r = replica(&m.public_key());
    let cp = r.receive(&e, T0 + 10).unwrap();
    assert_eq!(m.expected_clinician(), None);
    assert_eq!(
        m.accept_checkpoint(&cp.encode(), &r.clinician_public_key())
            .unwrap_err(),
        LedgerError::UnknownClinicianKey
    );
    m.expect_clinician(r.clinician_public_key());
    m.accept_checkpoint(&cp.encode(), &r.clinician_public_key())
        .unwrap();
}

/// The replica signs with exactly the key it was given (the link's seed), so the patient's
/// expected public key — from the same link — matches it.
#[test]
fn the_replica_countersigns_with_the_key_it_was_given() {
    let r = replica(&patient_key().public_key());
    assert_eq!(r.clinician_public_key(), clinician_key().public_key());
    r.checkpoint(T0)
        .verify(&clinician_key().public_key())
        .unwrap();
}

/// A checkpoint record stored by an older SDK (format 1, no time) is dropped on open
/// instead of making the ledger unopenable; a format-2 record is verified as before.
#[test]
fn a_stored_format_1_checkpoint_is_dropped_on_open() {
    let mut m = patient();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let mut store = m.into_store();
    let mut v1 = b"TCCP\x01".to_vec();
    v1.extend_from_slice(&[0; 120 + 32]);
    store.ledgers.get_mut(&LEDGER_ID).unwrap().checkpoint = Some(v1);
    let m = ConsentManager::open(&PATIENT_SEED, LEDGER_ID, store).unwrap();
    assert!(m.ledger().checkpoint().is_none());
    assert_eq!(m.ledger().size(), 1);
}
