//! The append-only, hash-chained, signed consent ledger; the clinician's replica; and the
//! countersigned checkpoints that let each side detect truncation and rewrites.
//!
//! Hashes and signatures are domain-separated by NUL-terminated context strings (see
//! docs/CONSENT.md, "Hashes and signatures").

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::encoding::{Checkpoint, Entry, MAX_ENTRIES, decode_ledger, encode_ledger};
use super::error::LedgerError;
use super::model::{Event, hex};
use super::policy::{ConsentState, GrantStatus};

/// Prefix of every signed entry message.
pub const CTX_ENTRY: &[u8] = b"teleconsult-consent-v1 entry\0";
/// Prefix of every entry hash input.
pub const CTX_HASH: &[u8] = b"teleconsult-consent-v1 hash\0";
/// Prefix of the genesis hash input.
pub const CTX_GENESIS: &[u8] = b"teleconsult-consent-v1 genesis\0";
/// Prefix of every signed checkpoint message (format 2, which carries a time: a format-1
/// signature can never verify as a format-2 checkpoint).
pub const CTX_CHECKPOINT: &[u8] = b"teleconsult-consent-v2 checkpoint\0";

/// How far an entry's signed time may be from the time the clinician's replica receives
/// it, in milliseconds (±5 minutes): see [`LedgerReplica::receive`] and docs/CONSENT.md
/// ("Entry times").
pub const TIME_SKEW_MS: u64 = 5 * 60 * 1000;
/// Prefix of the key-id hash input.
pub const CTX_KEY_ID: &[u8] = b"teleconsult-consent-v1 key-id\0";

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The hash entry 0 chains to: binds the whole ledger to its id.
pub fn genesis_hash(ledger_id: &[u8; 16]) -> [u8; 32] {
    sha256(&[CTX_GENESIS, ledger_id])
}

/// The hash of an encoded entry (signature included): the next entry's `prev`.
pub fn entry_hash(entry: &[u8]) -> [u8; 32] {
    sha256(&[CTX_HASH, entry])
}

/// The 8-byte id of a public key, carried in each entry so that an entry signed by another
/// key is named as such rather than as a bad signature.
pub fn key_id(public_key: &[u8; 32]) -> [u8; 8] {
    let h = sha256(&[CTX_KEY_ID, public_key]);
    let mut id = [0; 8];
    id.copy_from_slice(&h[..8]);
    id
}

fn verifying_key(public_key: &[u8; 32]) -> Result<VerifyingKey, LedgerError> {
    VerifyingKey::from_bytes(public_key).map_err(|_| LedgerError::BadPublicKey)
}

/// A device's Ed25519 signing key (the patient's for entries, the clinician's for
/// checkpoints). Built from 32 seed bytes the caller supplies (the SDK has no random
/// source); the secret is zeroized on drop and `Debug` never shows it.
pub struct ConsentKey(SigningKey);

impl ConsentKey {
    /// The key whose seed is `seed` (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The public key, to be shared with the other side and verifiers.
    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    fn sign(&self, context: &[u8], msg: &[u8]) -> [u8; 64] {
        self.0.sign(&[context, msg].concat()).to_bytes()
    }
}

impl fmt::Debug for ConsentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsentKey(<secret>)")
    }
}

impl Checkpoint {
    fn message(ledger_id: &[u8; 16], size: u64, head: &[u8; 32], time: u64) -> Vec<u8> {
        [
            &ledger_id[..],
            &size.to_be_bytes(),
            head,
            &time.to_be_bytes(),
        ]
        .concat()
    }

    /// Countersigns that ledger `ledger_id` had `size` entries ending in `head` at `time`
    /// (the signer's clock, ms since the Unix epoch).
    pub fn sign(
        ledger_id: [u8; 16],
        size: u64,
        head: [u8; 32],
        time: u64,
        key: &ConsentKey,
    ) -> Self {
        let signature = key.sign(
            CTX_CHECKPOINT,
            &Self::message(&ledger_id, size, &head, time),
        );
        Self {
            ledger_id,
            size,
            head,
            time,
            signature,
        }
    }

    /// Checks the countersignature against the clinician's public key.
    pub fn verify(&self, signer: &[u8; 32]) -> Result<(), LedgerError> {
        let msg = [
            CTX_CHECKPOINT,
            &Self::message(&self.ledger_id, self.size, &self.head, self.time),
        ]
        .concat();
        verifying_key(signer)?
            .verify_strict(&msg, &Signature::from_bytes(&self.signature))
            .map_err(|_| LedgerError::BadCheckpointSignature)
    }
}

/// What a verification established, for display and for verifiers in Node.js.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The ledger's id.
    #[serde(with = "hex")]
    pub ledger_id: [u8; 16],
    /// Number of entries.
    pub entries: u64,
    /// Hash of the newest entry (the genesis hash when empty).
    #[serde(with = "hex")]
    pub head: [u8; 32],
    /// Time of the newest entry.
    pub head_time: u64,
    /// Grants neither withdrawn nor recorded as expired.
    pub active_grants: usize,
    /// Grants withdrawn.
    pub withdrawn_grants: usize,
    /// Grants recorded as expired.
    pub expired_grants: usize,
    /// Entries vouched for by the checkpoint that was checked, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_size: Option<u64>,
}

struct Stored {
    entry: Entry,
    bytes: Vec<u8>,
    hash: [u8; 32],
}

/// A consent ledger: verified entries, their replayed state, and the newest countersigned
/// checkpoint. Every way in — [`append`](Self::append), [`push`](Self::push),
/// [`decode`](Self::decode) — runs the same checks, so an in-memory ledger is always valid.
pub struct Ledger {
    id: [u8; 16],
    patient: VerifyingKey,
    key_id: [u8; 8],
    records: Vec<Stored>,
    head: [u8; 32],
    state: ConsentState,
    checkpoint: Option<(Checkpoint, [u8; 32])>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// An empty ledger with id `id` (16 random bytes from the caller), signed by the
    /// patient device key `patient_public_key`.
    pub fn new(id: [u8; 16], patient_public_key: &[u8; 32]) -> Result<Self, LedgerError> {
        Ok(Self {
            id,
            patient: verifying_key(patient_public_key)?,
            key_id: key_id(patient_public_key),
            records: Vec::new(),
            head: genesis_hash(&id),
            state: ConsentState::default(),
            checkpoint: None,
        })
    }

    /// Rebuilds a ledger from encoded entries in order, verifying each. Out-of-place
    /// sequence numbers are reported as [`LedgerError::Reordered`],
    /// [`LedgerError::MissingEntry`] or [`LedgerError::Replayed`].
    pub fn from_entries<'a>(
        id: [u8; 16],
        patient_public_key: &[u8; 32],
        entries: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, LedgerError> {
        Self::from_entry_list(id, patient_public_key, entries.into_iter().collect())
    }

    /// [`from_entries`](Self::from_entries) on a list. Not generic, so the wasm holds one
    /// copy of this body however many iterator types call `from_entries`.
    fn from_entry_list(
        id: [u8; 16],
        patient_public_key: &[u8; 32],
        entries: Vec<&[u8]>,
    ) -> Result<Self, LedgerError> {
        let mut ledger = Self::new(id, patient_public_key)?;
        let decoded = entries
            .into_iter()
            .map(|b| Ok((Entry::decode(b)?, b)))
            .collect::<Result<Vec<_>, LedgerError>>()?;
        let seqs: Vec<u64> = decoded.iter().map(|(e, _)| e.seq).collect();
        for (i, &seq) in (0u64..).zip(&seqs) {
            if seq < i {
                return Err(LedgerError::Replayed { seq });
            }
            if seq > i {
                let mut later = seqs.iter().skip(usize::try_from(i).unwrap_or(usize::MAX));
                return Err(if later.any(|&s| s == i) {
                    LedgerError::Reordered { seq: i }
                } else {
                    LedgerError::MissingEntry { seq: i }
                });
            }
        }
        for (entry, bytes) in decoded {
            ledger.accept(entry, bytes.to_vec())?;
        }
        Ok(ledger)
    }

    /// Decodes and verifies an encoded ledger (see [`encode`](Self::encode)).
    pub fn decode(bytes: &[u8], patient_public_key: &[u8; 32]) -> Result<Self, LedgerError> {
        let (id, entries) = decode_ledger(bytes)?;
        Self::from_entries(id, patient_public_key, entries)
    }

    /// The ledger container: what `verify_exported` and stores take.
    pub fn encode(&self) -> Vec<u8> {
        encode_ledger(&self.id, self.records.iter().map(|r| r.bytes.as_slice()))
    }

    /// The ledger's id.
    pub fn id(&self) -> [u8; 16] {
        self.id
    }

    /// The patient device's public key.
    pub fn patient_public_key(&self) -> [u8; 32] {
        self.patient.to_bytes()
    }

    /// Number of entries (also the next sequence number).
    pub fn size(&self) -> u64 {
        self.records.len() as u64
    }

    /// Hash of the newest entry, or the genesis hash.
    pub fn head(&self) -> [u8; 32] {
        self.head
    }

    /// The replayed consent state.
    pub fn state(&self) -> &ConsentState {
        &self.state
    }

    /// Every entry, in order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.records.iter().map(|r| &r.entry)
    }

    /// The encoding of entry `seq`: what is sent to the clinician and stored.
    pub fn entry_bytes(&self, seq: u64) -> Option<&[u8]> {
        let i = usize::try_from(seq).ok()?;
        self.records.get(i).map(|r| r.bytes.as_slice())
    }

    /// The newest countersigned checkpoint accepted, with the clinician key it was
    /// verified against.
    pub fn checkpoint(&self) -> Option<(&Checkpoint, &[u8; 32])> {
        self.checkpoint.as_ref().map(|(cp, key)| (cp, key))
    }

    /// Records `event` at `time`, signed with the patient key, and returns the entry's
    /// encoding (to send to the clinician and to store). Rejects a time earlier than the
    /// newest entry, and anything [`verify`](Self::verify) would reject.
    pub fn append(
        &mut self,
        key: &ConsentKey,
        time: u64,
        mut event: Event,
    ) -> Result<&[u8], LedgerError> {
        let seq = self.size();
        if key.public_key() != self.patient.to_bytes() {
            return Err(LedgerError::WrongSigner { seq });
        }
        if let Event::Grant(g) = &mut event {
            g.normalize();
        }
        let mut entry = Entry {
            seq,
            prev: self.head,
            time,
            signer: self.key_id,
            event,
            signature: [0; 64],
        };
        let mut bytes = entry.encode_unsigned();
        entry.signature = key.sign(CTX_ENTRY, &bytes);
        bytes.extend_from_slice(&entry.signature);
        // The same checks as for a received entry, so append and verify never disagree.
        self.accept(entry, bytes)?;
        Ok(self
            .records
            .last()
            .map(|r| r.bytes.as_slice())
            .unwrap_or_default())
    }

    /// Verifies an encoded entry received from elsewhere and appends it. An entry already
    /// held is [`LedgerError::Replayed`] (harmless for at-least-once delivery); a different
    /// entry with a held sequence number is [`LedgerError::Fork`].
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), LedgerError> {
        let entry = Entry::decode(bytes)?;
        self.accept(entry, bytes.to_vec())
    }

    fn accept(&mut self, entry: Entry, bytes: Vec<u8>) -> Result<(), LedgerError> {
        let seq = entry.seq;
        if let Some(held) = self.entry_bytes(seq) {
            return Err(if held == bytes.as_slice() {
                LedgerError::Replayed { seq }
            } else {
                LedgerError::Fork { seq }
            });
        }
        if seq != self.size() {
            return Err(LedgerError::MissingEntry { seq: self.size() });
        }
        if self.size() >= u64::from(MAX_ENTRIES) {
            return Err(LedgerError::Full);
        }
        if entry.prev != self.head {
            return Err(LedgerError::BrokenChain { seq });
        }
        if entry.signer != self.key_id {
            return Err(LedgerError::WrongSigner { seq });
        }
        let unsigned = bytes
            .get(..bytes.len().saturating_sub(64))
            .unwrap_or_default();
        let msg = [CTX_ENTRY, unsigned].concat();
        self.patient
            .verify_strict(&msg, &Signature::from_bytes(&entry.signature))
            .map_err(|_| LedgerError::BadSignature { seq })?;
        if entry.time < self.state.head_time {
            return Err(LedgerError::ClockWentBackwards { seq });
        }
        self.state.apply(seq, entry.time, &entry.event)?;
        self.head = entry_hash(&bytes);
        self.records.push(Stored {
            entry,
            bytes,
            hash: self.head,
        });
        Ok(())
    }

    /// Undoes the newest entry (when storing it failed), replaying the state.
    pub(crate) fn rollback_last(&mut self) {
        self.records.pop();
        self.head = self
            .records
            .last()
            .map_or_else(|| genesis_hash(&self.id), |r| r.hash);
        let mut state = ConsentState::default();
        for r in &self.records {
            // These events were accepted in this order before, so they apply again.
            let _ = state.apply(r.entry.seq, r.entry.time, &r.entry.event);
        }
        self.state = state;
    }

    /// Checks a countersigned checkpoint against this ledger: right ledger, valid
    /// signature by `clinician`, no truncation, same history up to its size.
    pub fn check_checkpoint(
        &self,
        cp: &Checkpoint,
        clinician: &[u8; 32],
    ) -> Result<(), LedgerError> {
        if cp.ledger_id != self.id {
            return Err(LedgerError::WrongLedger);
        }
        cp.verify(clinician)?;
        if cp.size > self.size() {
            return Err(LedgerError::Truncated {
                size: self.size(),
                checkpoint: cp.size,
            });
        }
        let head = match cp.size.checked_sub(1) {
            None => genesis_hash(&self.id),
            Some(i) => self
                .records
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .map_or([0; 32], |r| r.hash),
        };
        if head != cp.head {
            return Err(LedgerError::CheckpointMismatch);
        }
        Ok(())
    }

    /// Checks and keeps a checkpoint returned by the clinician (the newest one wins).
    pub fn accept_checkpoint(
        &mut self,
        cp: Checkpoint,
        clinician: &[u8; 32],
    ) -> Result<(), LedgerError> {
        self.check_checkpoint(&cp, clinician)?;
        if self
            .checkpoint
            .as_ref()
            .is_none_or(|(old, _)| cp.size >= old.size)
        {
            self.checkpoint = Some((cp, *clinician));
        }
        Ok(())
    }

    /// Re-verifies every entry from its bytes and, if given, a checkpoint with the
    /// clinician's public key.
    pub fn verify(
        &self,
        checkpoint: Option<(&Checkpoint, &[u8; 32])>,
    ) -> Result<Summary, LedgerError> {
        let fresh = Self::from_entries(
            self.id,
            &self.patient.to_bytes(),
            self.records.iter().map(|r| r.bytes.as_slice()),
        )?;
        if let Some((cp, clinician)) = checkpoint {
            fresh.check_checkpoint(cp, clinician)?;
        }
        Ok(fresh.summary(checkpoint.map(|(cp, _)| cp.size)))
    }

    pub(crate) fn summary(&self, checkpoint_size: Option<u64>) -> Summary {
        let count =
            |f: fn(&GrantStatus) -> bool| self.state.grants.iter().filter(|r| f(&r.status)).count();
        Summary {
            ledger_id: self.id,
            entries: self.size(),
            head: self.head,
            head_time: self.state.head_time,
            active_grants: count(|s| matches!(s, GrantStatus::Active)),
            withdrawn_grants: count(|s| matches!(s, GrantStatus::Withdrawn { .. })),
            expired_grants: count(|s| matches!(s, GrantStatus::Expired { .. })),
            checkpoint_size,
        }
    }
}

/// When the clinician's replica received an entry, next to the time the patient's device
/// signed into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryTiming {
    /// The entry's sequence number.
    pub seq: u64,
    /// The time the patient's device wrote into the entry (its claim).
    pub signed_at: u64,
    /// The replica's own clock when it accepted the entry (what the clinician vouches for
    /// in its checkpoints); `None` when resumed from a copy that did not record it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<u64>,
    /// The signed time is more than [`TIME_SKEW_MS`] before `received_at`: an entry the
    /// patient announced as already held when the replica (re)synced, accepted so that the
    /// chain (and a withdrawal) is not blocked, but whose time the clinician does not vouch
    /// for. Entries arriving live are never late: they are refused instead.
    pub late: bool,
}

/// The clinician side's copy of a patient's ledger. It accepts each entry the patient
/// sends only if it extends its copy and its signed time agrees with the replica's clock,
/// records when it received it, and answers with a checkpoint countersigned by the
/// clinician's per-visit identity key.
pub struct LedgerReplica {
    ledger: Ledger,
    key: ConsentKey,
    /// Receive time of each entry (`None`: resumed without one).
    received: Vec<Option<u64>>,
    /// Entries below this sequence number were announced as held by the patient at the
    /// latest (re)sync: their time is not checked against their arrival.
    backlog: u64,
    /// The entry refused for its time, until the next announcement.
    halted: Option<u64>,
    /// An empty state: what is enforced while halted.
    nothing: ConsentState,
}

impl fmt::Debug for LedgerReplica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerReplica")
            .field("ledger", &self.ledger)
            .field("halted", &self.halted)
            .finish_non_exhaustive()
    }
}

impl LedgerReplica {
    /// An empty replica of ledger `id` kept by `patient_public_key`, countersigned with
    /// `clinician` (the clinician's per-visit identity key from the invite link).
    pub fn new(
        id: [u8; 16],
        patient_public_key: &[u8; 32],
        clinician: ConsentKey,
    ) -> Result<Self, LedgerError> {
        Self::resume(Ledger::new(id, patient_public_key)?, Vec::new(), clinician)
    }

    /// Resumes from a stored (verified) ledger and the receive times recorded for its
    /// entries (one per entry, `None` where unknown; a missing tail counts as unknown).
    /// More times than entries, or times that go backwards, are a record the replica did
    /// not write: [`LedgerError::Malformed`].
    pub fn resume(
        ledger: Ledger,
        mut received: Vec<Option<u64>>,
        clinician: ConsentKey,
    ) -> Result<Self, LedgerError> {
        let size = usize::try_from(ledger.size()).unwrap_or(usize::MAX);
        let known: Vec<u64> = received.iter().flatten().copied().collect();
        if received.len() > size || known.windows(2).any(|w| w[1] < w[0]) {
            return Err(super::error::DecodeError::BadField.into());
        }
        received.resize(size, None);
        Ok(Self {
            ledger,
            key: clinician,
            received,
            backlog: 0,
            halted: None,
            nothing: ConsentState::default(),
        })
    }

    /// The clinician's public key, the one the patient must expect.
    pub fn clinician_public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    /// The replicated ledger (its state is what the clinician side enforces, through
    /// [`enforced_state`](Self::enforced_state)).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The state the clinician side's enforcement points ask: the ledger's, or an empty
    /// state (everything denied) while an entry is refused for its time — the patient's
    /// ledger has moved on (perhaps a withdrawal) and this copy cannot follow.
    pub fn enforced_state(&self) -> &ConsentState {
        match self.halted {
            None => self.ledger.state(),
            Some(_) => &self.nothing,
        }
    }

    /// The entry refused for its time, if the replica is stopped at one.
    pub fn halted(&self) -> Option<u64> {
        self.halted
    }

    /// Receive times of every entry, in order.
    pub fn received(&self) -> &[Option<u64>] {
        &self.received
    }

    /// Signed and receive time of entry `seq`.
    pub fn timing(&self, seq: u64) -> Option<EntryTiming> {
        let i = usize::try_from(seq).ok()?;
        let entry = self.ledger.records.get(i)?;
        let received_at = self.received.get(i).copied().flatten();
        Some(EntryTiming {
            seq,
            signed_at: entry.entry.time,
            received_at,
            late: received_at.is_some_and(|r| entry.entry.time.saturating_add(TIME_SKEW_MS) < r),
        })
    }

    /// The patient announced its ledger holding `size` entries (a (re)sync): entries below
    /// that number existed before and may arrive long after their signed time; they are
    /// accepted and marked `late`. Clears a refusal, so the sync can retry.
    pub fn handle_announce(&mut self, size: u64) {
        self.backlog = size;
        self.halted = None;
    }

    /// Verifies and appends one encoded entry from the patient, received at `now` (the
    /// replica's clock), then countersigns the new head at that time.
    ///
    /// Besides everything [`Ledger::push`] checks, the entry's signed time must be within
    /// [`TIME_SKEW_MS`] of its arrival: later than `now + TIME_SKEW_MS` (dated in the
    /// future) is always refused, earlier than `now - TIME_SKEW_MS` (backdated) is refused
    /// unless the entry was announced as already held ([`Self::handle_announce`]), in
    /// which case it is accepted and marked late. A refusal is
    /// [`LedgerError::Untimely`]: the entry is not applied, and the replica enforces
    /// nothing until the next announcement.
    pub fn receive(&mut self, entry: &[u8], now: u64) -> Result<Checkpoint, LedgerError> {
        // Arrival times never go backwards, even if the clinician's clock does.
        let arrival = self.received.iter().flatten().fold(now, |a, &r| a.max(r));
        self.ledger.push(entry)?;
        let (seq, time) = self
            .ledger
            .records
            .last()
            .map_or((0, 0), |r| (r.entry.seq, r.entry.time));
        let future = time > arrival.saturating_add(TIME_SKEW_MS);
        let backdated = time.saturating_add(TIME_SKEW_MS) < arrival && seq >= self.backlog;
        if future || backdated {
            self.ledger.rollback_last();
            self.halted = Some(seq);
            return Err(LedgerError::Untimely { seq });
        }
        self.halted = None;
        self.received.push(Some(arrival));
        Ok(self.checkpoint(arrival))
    }

    /// A countersigned checkpoint of the current head, at `now` (the replica's clock).
    pub fn checkpoint(&self, now: u64) -> Checkpoint {
        Checkpoint::sign(
            self.ledger.id,
            self.ledger.size(),
            self.ledger.head,
            now,
            &self.key,
        )
    }
}
