//! Shared fixtures for the consent integration tests.
#![allow(
    dead_code,
    reason = "each test crate uses a different subset of the fixtures"
)]
#![allow(clippy::unwrap_used, reason = "fixtures fail loudly when broken")]

use teleconsult::consent::*;

/// The patient device's key seed.
pub const PATIENT_SEED: [u8; 32] = [0x11; 32];
/// The clinician device's key seed.
pub const CLINICIAN_SEED: [u8; 32] = [0x22; 32];
/// An attacker's key seed.
pub const MALLORY_SEED: [u8; 32] = [0x66; 32];
/// The ledger id.
pub const LEDGER_ID: [u8; 16] = [0xab; 16];
/// The notice text shown to the patient.
pub const NOTICE_TEXT: &[u8] = b"Your clinician will see and hear you and receive your readings.";
/// 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000_000;
/// One hour in milliseconds.
pub const HOUR: u64 = 3_600_000;

pub fn patient_key() -> ConsentKey {
    ConsentKey::from_seed(&PATIENT_SEED)
}

pub fn clinician_key() -> ConsentKey {
    ConsentKey::from_seed(&CLINICIAN_SEED)
}

pub fn dr() -> Recipient {
    Recipient {
        kind: RecipientKind::Practitioner,
        id: "dr-1".into(),
    }
}

pub fn other_dr() -> Recipient {
    Recipient {
        kind: RecipientKind::Practitioner,
        id: "dr-2".into(),
    }
}

pub fn notice(version: &str) -> Notice {
    Notice::for_text("https://clinic.example/privacy", version, "en", NOTICE_TEXT)
}

/// A treatment grant to `dr()` for `categories`, valid from T0 for one hour, notice "3".
pub fn grant(categories: &[DataCategory]) -> Grant {
    Grant {
        patient: "pat-1".into(),
        recipient: dr(),
        purposes: vec![Purpose::Treatment],
        categories: categories.to_vec(),
        period: Period {
            start: T0,
            end: Some(T0 + HOUR),
        },
        notice: notice("3"),
        collection: Collection::PatientAction,
    }
}

/// May `category` go to `dr()` for treatment at `now` under notice "3"?
pub fn request(category: DataCategory, now: u64) -> Request {
    Request {
        category,
        recipient: dr(),
        purpose: Purpose::Treatment,
        now,
        notice_version: "3".into(),
    }
}

pub fn new_ledger() -> Ledger {
    Ledger::new(LEDGER_ID, &patient_key().public_key()).unwrap()
}

/// A ledger with: 0 grant (video, audio), 1 SAS confirmed, 2 grant (heart rate),
/// 3 withdraw 0, 4 participant admitted.
pub fn sample_ledger() -> Ledger {
    let k = patient_key();
    let mut l = new_ledger();
    l.append(
        &k,
        T0,
        Event::Grant(grant(&[DataCategory::Video, DataCategory::Audio])),
    )
    .unwrap();
    l.append(
        &k,
        T0 + 1,
        Event::SasConfirmed {
            transcript: [7; 32],
        },
    )
    .unwrap();
    l.append(&k, T0 + 2, Event::Grant(grant(&[DataCategory::HeartRate])))
        .unwrap();
    l.append(&k, T0 + 3, Event::Withdraw { grant: 0 }).unwrap();
    l.append(
        &k,
        T0 + 4,
        Event::ParticipantAdmitted {
            participant: [5; 8],
        },
    )
    .unwrap();
    l
}

/// The encoded entries of a ledger.
pub fn entries(l: &Ledger) -> Vec<Vec<u8>> {
    (0..l.size())
        .map(|s| l.entry_bytes(s).unwrap().to_vec())
        .collect()
}

/// Rebuilds a ledger from (possibly tampered) entries.
pub fn rebuild(entries: &[Vec<u8>]) -> Result<Ledger, LedgerError> {
    Ledger::from_entries(
        LEDGER_ID,
        &patient_key().public_key(),
        entries.iter().map(Vec::as_slice),
    )
}

/// A replica of `LEDGER_ID` kept for `patient`, countersigned with `clinician_key()`.
pub fn replica(patient: &[u8; 32]) -> LedgerReplica {
    LedgerReplica::new(LEDGER_ID, patient, clinician_key()).unwrap()
}

/// A receive time 100 ms after the entry's signed time (on time); `T0` for bytes that do
/// not decode.
pub fn on_time(entry: &[u8]) -> u64 {
    Entry::decode(entry).map_or(T0, |e| e.time + 100)
}
