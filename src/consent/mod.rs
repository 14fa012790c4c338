//! Consent model, signed ledger, policy decisions and exports.
//!
//! The patient grants consent — to a recipient, for purposes, over data categories, for a
//! period, after a notice — and may withdraw it. Each event is an entry in an append-only
//! ledger, hash-chained and signed by the patient device's Ed25519 key; the clinician
//! keeps a [`LedgerReplica`] and countersigns [`Checkpoint`]s so both hold the same record.
//! [`check`] answers at every enforcement point, denying by default; [`check_recording`]
//! asks it of every participant before a call may be recorded. [`PatientSync`] and
//! [`ReplicaSync`] are the sync link between the two sides, as sans-IO state machines that
//! any driver (the browser's, a native peer's, the tests' simulated network) runs over a
//! consultation's sealed channel. docs/CONSENT.md
//! specifies the model, the encoding (with known-answer vectors) and the verification
//! rules.
//!
//! ```
//! use teleconsult::consent::*;
//!
//! let notice_text = b"We share your video and readings with your clinician...";
//! let mut patient = ConsentManager::open(&[7; 32], [1; 16], MemoryStore::default())?;
//! // The clinician's per-visit identity key: the patient's link carries its public key.
//! let clinician_key = ConsentKey::from_seed(&[9; 32]);
//! patient.expect_clinician(clinician_key.public_key());
//! let mut replica = LedgerReplica::new([1; 16], &patient.public_key(), clinician_key)?;
//!
//! let dr = Recipient { kind: RecipientKind::Practitioner, id: "dr-1".into() };
//! let grant = Grant {
//!     patient: "p-1".into(),
//!     recipient: dr.clone(),
//!     purposes: vec![Purpose::Treatment],
//!     categories: vec![DataCategory::Video, DataCategory::Audio],
//!     period: Period { start: 1_000, end: Some(3_600_000) },
//!     notice: Notice::for_text("https://clinic.example/privacy", "3", "en", notice_text),
//!     collection: Collection::PatientAction,
//! };
//! let entry = patient.grant(grant, notice_text, 1_000)?;          // send over the E2E channel
//! let checkpoint = replica.receive(&entry, 1_020)?;               // clinician side, its clock
//! patient.accept_checkpoint(&checkpoint.encode(), &replica.clinician_public_key())?;
//!
//! let ask = |category| Request {
//!     category, recipient: dr.clone(), purpose: Purpose::Treatment,
//!     now: 2_000, notice_version: "3".into(),
//! };
//! assert!(patient.check(&ask(DataCategory::Video)).allowed);
//! assert_eq!(patient.check(&ask(DataCategory::Recording)).reason, Reason::NoGrant);
//!
//! let entry = patient.withdraw(0, 3_000)?;
//! replica.receive(&entry, 3_010)?;
//! assert_eq!(check(replica.enforced_state(), &Request { now: 3_001, ..ask(DataCategory::Video) }).reason,
//!            Reason::Withdrawn);
//! # Ok::<(), LedgerError>(())
//! ```

mod encoding;
mod error;
mod export;
mod ledger;
mod manager;
pub(crate) mod model;
mod policy;
mod recording;
mod store;
mod sync;
mod sync_link;

pub use encoding::{
    CHECKPOINT_LEN, CHECKPOINT_MAGIC, Checkpoint, ENTRY_FORMAT, Entry, LEDGER_MAGIC, MAX_ENTRIES,
    MAX_ENTRY_LEN, MAX_STR, decode_ledger, encode_ledger,
};
pub use error::{DecodeError, LedgerError, LinkError, StoreError};
pub use export::{
    ATTESTER_EXTENSION, Actor, CATEGORY_SYSTEM, COLLECTION_EXTENSION, CodeableConcept, Coding,
    Controller, Extension, FhirConsent, FhirPeriod, Identifier, LEDGER_SYSTEM, NOTICE_EXTENSION,
    PiiCategory, Policy, Proof, Provision, Receipt, ReceiptContext, ReceiptEvent, Reference,
    fhir_consent, fhir_consents, iso8601, receipt, verify_exported,
};
pub use ledger::{
    CTX_CHECKPOINT, CTX_ENTRY, CTX_GENESIS, CTX_HASH, CTX_KEY_ID, ConsentKey, EntryTiming, Ledger,
    LedgerReplica, Summary, TIME_SKEW_MS, entry_hash, genesis_hash, key_id,
};
pub use manager::ConsentManager;
pub use model::{
    Collection, DataCategory, Event, Grant, Notice, PartyId, Period, Purpose, Recipient,
    RecipientKind,
};
pub use policy::{
    ConsentState, Decision, GrantRecord, GrantStatus, MAX_TIME, Reason, Request, check, check_every,
};
pub use recording::{
    Party, PartyConsent, RecordingDecision, RecordingSignal, StopReason, TAG_RECORDING,
    check_everyone, check_recording,
};
pub use store::{LedgerStore, MemoryStore, StoredLedger};
pub use sync::{SyncMessage, TAG_ANNOUNCE, TAG_CHECKPOINT, TAG_ENTRY, TAG_HELLO, TAG_STATUS};
pub use sync_link::{
    LinkId, LinkOutput, MAX_RESEND_MS, PatientEvent, PatientSync, RESEND_MS, ReplicaEvent,
    ReplicaSync,
};
