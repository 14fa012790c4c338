//! The patient-side façade the JS API wraps: one signing key, one ledger, one store.

use sha2::{Digest, Sha256};

use super::encoding::{CHECKPOINT_LEN, Checkpoint};
use super::error::{DecodeError, LedgerError};
use super::export::{self, FhirConsent, Receipt, ReceiptContext};
use super::ledger::{ConsentKey, Ledger, Summary};
use super::model::{Event, Grant};
use super::policy::{self, Decision, GrantRecord, Request};
use super::store::LedgerStore;

/// Grants, withdraws, checks and exports consent on the patient's device.
///
/// Every change is signed, verified, stored, and returned as encoded entry bytes that the
/// caller sends to the clinician over the sealed channel; the clinician's
/// [`LedgerReplica`](super::LedgerReplica) answers with a checkpoint for
/// [`accept_checkpoint`](Self::accept_checkpoint).
pub struct ConsentManager<S: LedgerStore> {
    key: ConsentKey,
    ledger: Ledger,
    store: S,
    /// The clinician identity key checkpoints must be signed by (from the invite link).
    clinician: Option<[u8; 32]>,
}

impl<S: LedgerStore> core::fmt::Debug for ConsentManager<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConsentManager")
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

impl<S: LedgerStore> ConsentManager<S> {
    /// Opens ledger `ledger_id` from `store` (empty if new) with the device key from
    /// `seed`, verifying every stored entry and the stored checkpoint, which detects a
    /// store that lost or altered entries.
    pub fn open(seed: &[u8; 32], ledger_id: [u8; 16], store: S) -> Result<Self, LedgerError> {
        let key = ConsentKey::from_seed(seed);
        let entries = store.load(&ledger_id)?;
        let mut ledger = Ledger::from_entries(
            ledger_id,
            &key.public_key(),
            entries.iter().map(Vec::as_slice),
        )?;
        // A checkpoint stored by an SDK that wrote format 1 (no time) is dropped: the next
        // sync brings a format-2 one. Anything else that fails to decode is an error.
        let record = store
            .load_checkpoint(&ledger_id)?
            .filter(|r| !r.starts_with(b"TCCP\x01"));
        if let Some(record) = record {
            let (cp, signer) = record
                .split_at_checked(CHECKPOINT_LEN)
                .ok_or(DecodeError::Truncated)?;
            let signer: [u8; 32] = signer.try_into().map_err(|_| DecodeError::BadField)?;
            ledger.accept_checkpoint(Checkpoint::decode(cp)?, &signer)?;
        }
        Ok(Self {
            key,
            ledger,
            store,
            clinician: None,
        })
    }

    fn record_entry(&mut self, now: u64, event: Event) -> Result<Vec<u8>, LedgerError> {
        let bytes = self.ledger.append(&self.key, now, event)?.to_vec();
        if let Err(e) = self.store.append(&self.ledger.id(), &bytes) {
            self.ledger.rollback_last();
            return Err(e.into());
        }
        Ok(bytes)
    }

    /// Records a grant after checking that `notice_text` — the exact text shown to the
    /// patient — hashes to `grant.notice.sha256`. Returns the entry to send.
    pub fn grant(
        &mut self,
        grant: Grant,
        notice_text: &[u8],
        now: u64,
    ) -> Result<Vec<u8>, LedgerError> {
        if <[u8; 32]>::from(Sha256::digest(notice_text)) != grant.notice.sha256 {
            return Err(LedgerError::NoticeHashMismatch);
        }
        self.record_entry(now, Event::Grant(grant))
    }

    /// Withdraws grant `grant` (its sequence number); effective at once. Returns the entry.
    pub fn withdraw(&mut self, grant: u64, now: u64) -> Result<Vec<u8>, LedgerError> {
        self.record_entry(now, Event::Withdraw { grant })
    }

    /// Records any other event: expiry, a new notice version, SAS confirmed, participant
    /// admitted. Grants go through [`grant`](Self::grant) so that the notice is checked.
    pub fn record(&mut self, event: Event, now: u64) -> Result<Vec<u8>, LedgerError> {
        if matches!(event, Event::Grant(_)) {
            return Err(LedgerError::InvalidEvent {
                seq: self.ledger.size(),
            });
        }
        self.record_entry(now, event)
    }

    /// Undoes the newest entry, for a store that persists asynchronously (IndexedDB): its
    /// `append` accepted the entry, but the write it queued failed later, and the ledger
    /// must not hold (or send) an entry that a reload would not find. Returns whether an
    /// entry was removed. Only call it for an entry that was never sent to anyone.
    pub fn rollback_last(&mut self) -> bool {
        if self.ledger.size() == 0 {
            return false;
        }
        self.ledger.rollback_last();
        true
    }

    /// The enforcement decision for `request` (default deny).
    pub fn check(&self, request: &Request) -> Decision {
        policy::check(self.ledger.state(), request)
    }

    /// Every grant with its status.
    pub fn list(&self) -> &[GrantRecord] {
        &self.ledger.state().grants
    }

    /// Re-verifies the whole ledger and the newest checkpoint.
    pub fn verify(&self) -> Result<Summary, LedgerError> {
        self.ledger.verify(self.ledger.checkpoint())
    }

    /// FHIR R4 Consent resources, one per grant.
    pub fn to_fhir(&self) -> Vec<FhirConsent> {
        export::fhir_consents(&self.ledger)
    }

    /// The ISO/IEC TS 27560 style receipt of grant `grant`.
    pub fn receipt(&self, grant: u64, ctx: &ReceiptContext) -> Result<Receipt, LedgerError> {
        export::receipt(&self.ledger, grant, ctx)
    }

    /// Sets the clinician identity key (from the invite link) that checkpoints must be
    /// countersigned by. Until one is set, every checkpoint is refused.
    pub fn expect_clinician(&mut self, public_key: [u8; 32]) {
        self.clinician = Some(public_key);
    }

    /// The clinician key checkpoints must be countersigned by, if set.
    pub fn expected_clinician(&self) -> Option<[u8; 32]> {
        self.clinician
    }

    /// Checks a checkpoint the clinician returned (encoded) against this ledger and keeps
    /// it, with the clinician's public key, as evidence against later truncation.
    /// `clinician` must be the key set by [`expect_clinician`](Self::expect_clinician):
    /// any other key, or any key before one is expected, is
    /// [`LedgerError::UnknownClinicianKey`] — never trusted on first sight.
    pub fn accept_checkpoint(
        &mut self,
        checkpoint: &[u8],
        clinician: &[u8; 32],
    ) -> Result<(), LedgerError> {
        if self.clinician.as_ref() != Some(clinician) {
            return Err(LedgerError::UnknownClinicianKey);
        }
        let cp = Checkpoint::decode(checkpoint)?;
        self.ledger.accept_checkpoint(cp, clinician)?;
        if let Some((cp, key)) = self.ledger.checkpoint() {
            let record = [cp.encode().as_slice(), key].concat();
            self.store.save_checkpoint(&self.ledger.id(), &record)?;
        }
        Ok(())
    }

    /// The encoded ledger, for export and [`verify_exported`](super::verify_exported).
    pub fn export(&self) -> Vec<u8> {
        self.ledger.encode()
    }

    /// The device's public key (give it to the clinician and to verifiers).
    pub fn public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Closes the manager, handing back the store (the key is zeroized).
    pub fn into_store(self) -> S {
        self.store
    }
}
