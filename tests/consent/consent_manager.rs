//! The patient-side manager: persistence through a store, failure handling, and the full
//! grant → replicate → countersign → check → withdraw → export flow.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use teleconsult::consent::*;

fn open(store: MemoryStore) -> Result<ConsentManager<MemoryStore>, LedgerError> {
    ConsentManager::open(&PATIENT_SEED, LEDGER_ID, store)
}

#[test]
fn the_full_flow_keeps_both_sides_in_step() {
    let mut m = open(MemoryStore::default()).unwrap();
    let mut replica = replica(&m.public_key());
    let clinician = clinician_key();
    m.expect_clinician(clinician.public_key());
    let mut sync = |entry: Vec<u8>, m: &mut ConsentManager<MemoryStore>| {
        let cp = replica.receive(&entry, on_time(&entry)).unwrap();
        m.accept_checkpoint(&cp.encode(), &clinician.public_key())
            .unwrap();
    };
    let e = m
        .grant(
            grant(&[DataCategory::Video, DataCategory::Audio]),
            NOTICE_TEXT,
            T0,
        )
        .unwrap();
    sync(e, &mut m);
    let e = m
        .record(
            Event::SasConfirmed {
                transcript: [4; 32],
            },
            T0 + 10,
        )
        .unwrap();
    sync(e, &mut m);
    assert!(m.check(&request(DataCategory::Video, T0 + 20)).allowed);
    let e = m.withdraw(0, T0 + 30).unwrap();
    sync(e, &mut m);
    assert_eq!(
        m.check(&request(DataCategory::Video, T0 + 40)).reason,
        Reason::Withdrawn
    );
    assert_eq!(m.list().len(), 1);
    assert_eq!(m.list()[0].status, GrantStatus::Withdrawn { at: T0 + 30 });
    let s = m.verify().unwrap();
    assert_eq!((s.entries, s.checkpoint_size), (3, Some(3)));
    assert_eq!(m.to_fhir()[0].status, "inactive");
    assert_eq!(m.export(), m.ledger().encode());
    let ctx = ReceiptContext {
        controller: Controller {
            name: "C".into(),
            contact: "c@example.org".into(),
        },
        jurisdiction: "EU".into(),
        withdrawal_method: "app".into(),
    };
    assert_eq!(m.receipt(0, &ctx).unwrap().state, "withdrawn");
}

#[test]
fn the_ledger_survives_a_reload_from_its_store() {
    let mut m = open(MemoryStore::default()).unwrap();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    m.grant(grant(&[DataCategory::BloodGlucose]), NOTICE_TEXT, T0 + 1)
        .unwrap();
    m.withdraw(0, T0 + 2).unwrap();
    let cp = Checkpoint::sign(LEDGER_ID, 3, m.ledger().head(), T0, &clinician_key());
    m.expect_clinician(clinician_key().public_key());
    m.accept_checkpoint(&cp.encode(), &clinician_key().public_key())
        .unwrap();
    let (head, list) = (m.ledger().head(), m.list().to_vec());

    let m = open(m.into_store()).unwrap();
    assert_eq!(m.ledger().head(), head);
    assert_eq!(m.list(), list.as_slice());
    assert_eq!(m.ledger().checkpoint().map(|(c, _)| c), Some(&cp));
    assert!(
        m.check(&request(DataCategory::BloodGlucose, T0 + 3))
            .allowed
    );
    assert!(!m.check(&request(DataCategory::Video, T0 + 3)).allowed);
    // Round trip through the encoded form too.
    let decoded = Ledger::decode(&m.export(), &m.public_key()).unwrap();
    assert_eq!(decoded.encode(), m.export());
    assert_eq!(decoded.state(), m.ledger().state());
}

#[test]
fn a_store_that_alters_an_entry_is_detected_on_open() {
    let mut m = open(MemoryStore::default()).unwrap();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let mut store = m.into_store();
    let entry = &mut store.ledgers.get_mut(&LEDGER_ID).unwrap().entries[0];
    let n = entry.len();
    entry[n - 70] ^= 0x80; // inside the collection / notice hash, before the signature
    assert_eq!(
        open(store).unwrap_err(),
        LedgerError::BadSignature { seq: 0 }
    );
}

#[test]
fn another_device_key_cannot_open_or_extend_the_ledger() {
    let mut m = open(MemoryStore::default()).unwrap();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let err = ConsentManager::open(&MALLORY_SEED, LEDGER_ID, m.into_store()).unwrap_err();
    assert_eq!(err, LedgerError::WrongSigner { seq: 0 });
}

/// A store whose writes fail, as a full or revoked IndexedDB would.
#[derive(Default)]
struct FailingStore(MemoryStore);

impl LedgerStore for FailingStore {
    fn load(&self, id: &[u8; 16]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.0.load(id)
    }
    fn append(&mut self, _: &[u8; 16], _: &[u8]) -> Result<(), StoreError> {
        Err(StoreError("quota exceeded"))
    }
    fn load_checkpoint(&self, id: &[u8; 16]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.load_checkpoint(id)
    }
    fn save_checkpoint(&mut self, _: &[u8; 16], _: &[u8]) -> Result<(), StoreError> {
        Err(StoreError("quota exceeded"))
    }
}

#[test]
fn a_failed_store_write_leaves_no_trace() {
    let mut m = ConsentManager::open(&PATIENT_SEED, LEDGER_ID, FailingStore::default()).unwrap();
    let err = m
        .grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap_err();
    assert_eq!(err, LedgerError::Store(StoreError("quota exceeded")));
    assert_eq!(err.code(), "Store");
    assert_eq!(m.ledger().size(), 0);
    assert!(m.list().is_empty());
    assert!(!m.check(&request(DataCategory::Video, T0 + 1)).allowed);
    assert_eq!(m.ledger().head(), genesis_hash(&LEDGER_ID));
}

#[test]
fn a_stored_checkpoint_that_does_not_match_is_rejected_on_open() {
    let mut m = open(MemoryStore::default()).unwrap();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let mut store = m.into_store();
    let bad = Checkpoint::sign(LEDGER_ID, 1, [0; 32], T0, &clinician_key());
    let record = [bad.encode().as_slice(), &clinician_key().public_key()].concat();
    store.ledgers.get_mut(&LEDGER_ID).unwrap().checkpoint = Some(record.clone());
    assert_eq!(
        open(store.clone()).unwrap_err(),
        LedgerError::CheckpointMismatch
    );
    store.ledgers.get_mut(&LEDGER_ID).unwrap().checkpoint = Some(record[..100].to_vec());
    assert_eq!(
        open(store).unwrap_err(),
        LedgerError::Malformed(DecodeError::Truncated)
    );
}

#[test]
fn grants_must_go_through_the_notice_check() {
    let mut m = open(MemoryStore::default()).unwrap();
    let err = m
        .record(Event::Grant(grant(&[DataCategory::Video])), T0)
        .unwrap_err();
    assert_eq!(err, LedgerError::InvalidEvent { seq: 0 });
    assert!(m.list().is_empty());
}

#[test]
fn debug_output_shows_no_keys_or_personal_data() {
    let mut m = open(MemoryStore::default()).unwrap();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let key = patient_key();
    let shown = format!(
        "{m:?} {key:?} {:?} {:?}",
        m.list(),
        m.ledger().entries().next()
    );
    assert!(
        !shown.contains("pat-1") && !shown.contains("dr-1"),
        "{shown}"
    );
    let seed_hex: String = PATIENT_SEED.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!shown.contains(&seed_hex) && !shown.contains("17, 17, 17, 17"));
    let err = LedgerError::BadSignature { seq: 3 };
    assert_eq!(
        err.to_string(),
        "consent ledger rejected: BadSignature { seq: 3 }"
    );
    let top: teleconsult::Error = err.into();
    assert_eq!(top.code().as_str(), "Consent");
}

#[test]
fn an_asynchronous_write_failure_rolls_the_entry_back() {
    // An IndexedDB-backed manager learns of a failed write only after `append` returned.
    let mut m = open(MemoryStore::default()).unwrap();
    m.grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    let head = m.ledger().head();
    m.withdraw(0, T0 + 1).unwrap();
    assert!(m.rollback_last(), "the unpersisted withdrawal is undone");
    assert_eq!(m.ledger().size(), 1);
    assert_eq!(m.ledger().head(), head);
    assert!(m.check(&request(DataCategory::Video, T0 + 2)).allowed);
    // The ledger goes on from the restored head: the withdrawal can be recorded again.
    m.withdraw(0, T0 + 3).unwrap();
    assert_eq!(m.verify().unwrap().entries, 2);
    assert!(m.rollback_last() && m.rollback_last());
    assert!(!m.rollback_last(), "nothing left to undo");
}
