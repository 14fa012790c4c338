//! IndexedDB persistence of consent ledgers, and the device key wrapped under a
//! non-extractable WebCrypto key.
//!
//! Database `teleconsult-consent` (version 1), three object stores, all with out-of-line
//! keys:
//!
//! | store | key | value |
//! | --- | --- | --- |
//! | `ledgers` | ledger id (hex) | `{ ledgerId, patient, created, wrappingKey, iv, wrappedSeed }` |
//! | `entries` | `[ledger id hex, seq]` | the encoded entry (`Uint8Array`) |
//! | `checkpoints` | ledger id (hex) | checkpoint bytes followed by the clinician key |
//!
//! `wrappingKey` is an AES-256-GCM `CryptoKey` generated with `extractable: false`;
//! `wrappedSeed` is the Ed25519 seed encrypted under it (AAD: the ledger id). IndexedDB
//! stores the `CryptoKey` object itself, so its raw bytes never reach page script. What this
//! does and does not protect is in docs/CONSENT.md ("Persistence in the browser").
//!
//! Everything is loaded in [`open`]; afterwards [`Idb::write`] runs one transaction per
//! change (durability `strict`) and the caller rolls its in-memory change back if it fails.
//!
//! The IO itself (requests, transactions, WebCrypto) is `snippets/idb.js`: written in
//! JavaScript it weighs a fraction of the same sequence compiled from Rust. This module
//! keeps what decides: it validates everything the snippet returns (stored bytes are
//! hostile) and maps its failures to the SDK's errors.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::js;
use crate::Error as CoreError;
use crate::consent::{LedgerError, MAX_ENTRIES, StoreError};
use crate::web::Error;

#[wasm_bindgen(module = "/src/web/snippets/idb.js")]
extern "C" {
    /// Resolves to `[db, ledgerIdHex, seed, entries, checkpoint]` (see the snippet).
    #[wasm_bindgen(js_name = idbOpen)]
    fn idb_open(name: &str, ledger: &str, patient: &str, max_entries: u32) -> Promise;
    /// Resolves once `writes` (seq, bytes pairs; seq -1 for the checkpoint) committed.
    #[wasm_bindgen(js_name = idbWrite)]
    fn idb_write(db: &JsValue, ledger: &str, writes: &Array) -> Promise;
    #[wasm_bindgen(js_name = idbClose)]
    fn idb_close(db: &JsValue);
    /// Resolves to `[db, seed, ledger, patient, received]` (see the snippet).
    #[wasm_bindgen(js_name = idbReplicaOpen)]
    fn idb_replica_open(db_name: &str, name: &str, seed: JsValue) -> Promise;
    /// Resolves once the replica record was rewritten.
    #[wasm_bindgen(js_name = idbReplicaSave)]
    fn idb_replica_save(
        db: &JsValue,
        name: &str,
        ledger: &Uint8Array,
        patient: &Uint8Array,
        received: &Array,
    ) -> Promise;
}

/// A write to persist after an in-memory change.
pub enum Write {
    /// Entry `seq` with its encoding.
    Entry(u64, Vec<u8>),
    /// The checkpoint record (checkpoint bytes + clinician key).
    Checkpoint(Vec<u8>),
}

/// What [`open`] found or created.
pub struct Loaded {
    /// The ledger's id.
    pub ledger_id: [u8; 16],
    /// The device key's seed, unwrapped.
    pub seed: Zeroizing<[u8; 32]>,
    /// Encoded entries in order.
    pub entries: Vec<Vec<u8>>,
    /// The checkpoint record.
    pub checkpoint: Option<Vec<u8>>,
}

/// An open consent database, bound to one ledger.
pub struct Idb {
    db: JsValue,
    ledger: String,
}

fn store_error(message: &'static str) -> Error {
    Error::Core(CoreError::Consent(LedgerError::Store(StoreError(message))))
}

fn bad_record() -> Error {
    store_error("an IndexedDB consent record is not what the SDK wrote")
}

/// Maps the snippet's rejection codes (see its header) to the SDK's errors; whatever else
/// JavaScript rejected with is dropped, as it may carry names we never report.
fn failed(reason: JsValue) -> Error {
    match reason.as_string().as_deref() {
        Some("no-idb") => Error::Unsupported("indexedDB is missing here; use storage: \"memory\""),
        Some("no-subtle") => Error::Unsupported(
            "crypto.subtle is missing (IndexedDB consent storage needs a secure context)",
        ),
        Some("crypto") => store_error("WebCrypto could not unwrap the device key"),
        Some("record") => bad_record(),
        Some("no-key") => Error::InvalidArgument(
            "clinicianSigningKey: expected a Uint8Array of 32 bytes (no replica of this name is stored)",
        ),
        _ => store_error("IndexedDB request failed"),
    }
}

/// Copies a `Uint8Array` out of JavaScript; anything else is a record we did not write.
fn bytes(v: JsValue) -> Result<Vec<u8>, Error> {
    v.dyn_into::<Uint8Array>()
        .map(|a| a.to_vec())
        .map_err(|_| bad_record())
}

/// Opens the database, then the ledger `ledger_id` (or the newest ledger of `patient`),
/// creating a ledger and a wrapped device key when there is none.
pub async fn open(
    name: &str,
    ledger_id: Option<[u8; 16]>,
    patient: &str,
) -> Result<(Idb, Loaded), Error> {
    let asked = ledger_id.map(|id| js::hex(&id)).unwrap_or_default();
    let opened: Array = JsFuture::from(idb_open(name, &asked, patient, MAX_ENTRIES))
        .await
        .map_err(failed)?
        .unchecked_into();
    let db = opened.get(0);
    let loaded = validate(&opened, ledger_id);
    if loaded.is_err() {
        idb_close(&db);
    }
    let loaded = loaded?;
    let ledger = js::hex(&loaded.ledger_id);
    Ok((Idb { db, ledger }, loaded))
}

/// Checks what the snippet loaded: the id it settled on (the one asked for, if any), a
/// 32-byte seed, byte entries and an optional byte checkpoint.
fn validate(opened: &Array, asked: Option<[u8; 16]>) -> Result<Loaded, Error> {
    let ledger_id = opened
        .get(1)
        .as_string()
        .and_then(|h| super::js::parse_hex::<16>(&h))
        .filter(|id| asked.is_none_or(|a| a == *id))
        .ok_or_else(bad_record)?;
    let plain = opened
        .get(2)
        .dyn_into::<Uint8Array>()
        .map_err(|_| bad_record())?;
    let mut seed = Zeroizing::new([0u8; 32]);
    let fits = plain.length() == 32;
    if fits {
        plain.copy_to(seed.as_mut());
    }
    // Overwrite the decrypted buffer JavaScript handed back.
    plain.fill(0, 0, plain.length());
    if !fits {
        return Err(bad_record());
    }
    let entries: Array = opened.get(3).dyn_into().map_err(|_| bad_record())?;
    let entries = entries.iter().map(bytes).collect::<Result<Vec<_>, _>>()?;
    let checkpoint = opened.get(4);
    let checkpoint = if js::present(&checkpoint) {
        Some(bytes(checkpoint)?)
    } else {
        None
    };
    Ok(Loaded {
        ledger_id,
        seed,
        entries,
        checkpoint,
    })
}

impl Idb {
    /// Persists `writes` in one transaction; resolves once it committed.
    pub async fn write(&self, writes: &[Write]) -> Result<(), Error> {
        if writes.is_empty() {
            return Ok(());
        }
        let pairs = Array::new();
        for w in writes {
            let (seq, bytes) = match w {
                Write::Entry(seq, bytes) => (*seq as f64, bytes),
                Write::Checkpoint(record) => (-1.0, record),
            };
            pairs.push(&seq.into());
            pairs.push(&Uint8Array::from(bytes.as_slice()));
        }
        JsFuture::from(idb_write(&self.db, &self.ledger, &pairs))
            .await
            .map(|_| ())
            .map_err(failed)
    }

    /// Closes the database connection.
    pub fn close(&self) {
        idb_close(&self.db);
    }
}

// ----- the clinician's replicas ----------------------------------------------------------

/// An open replica database, bound to one replica record (database
/// `teleconsult-consent-replicas`, store `replicas`, key: the replica's name; value
/// `{ name, created, wrappingKey, iv, wrappedSeed, ledger?, patient?, received }`). The
/// record is small (one visit's consent entries) and rewritten whole on each change.
pub struct ReplicaDb {
    db: JsValue,
    name: String,
}

/// What [`open_replica`] found or created.
pub struct LoadedReplica {
    /// The clinician's signing seed, unwrapped.
    pub seed: Zeroizing<[u8; 32]>,
    /// The stored ledger (encoded) and the patient key it is verified with, once known.
    pub ledger: Option<(Vec<u8>, [u8; 32])>,
    /// Receive time of each entry.
    pub received: Vec<Option<u64>>,
}

/// Opens replica `name` in database `db_name`, creating it around `given` (the clinician's
/// signing seed) when it is not stored. A `given` seed that differs from the stored one is
/// refused: one replica record, one clinician identity.
pub async fn open_replica(
    db_name: &str,
    name: &str,
    given: Option<&[u8; 32]>,
) -> Result<(ReplicaDb, LoadedReplica), Error> {
    // A copy for the snippet, which zeroes it once encrypted (or unused).
    let seed = given.map_or(JsValue::UNDEFINED, |s| Uint8Array::from(&s[..]).into());
    let opened: Array = JsFuture::from(idb_replica_open(db_name, name, seed))
        .await
        .map_err(failed)?
        .unchecked_into();
    let db = opened.get(0);
    let loaded = validate_replica(&opened, given);
    if loaded.is_err() {
        idb_close(&db);
    }
    Ok((
        ReplicaDb {
            db,
            name: name.to_owned(),
        },
        loaded?,
    ))
}

fn validate_replica(opened: &Array, given: Option<&[u8; 32]>) -> Result<LoadedReplica, Error> {
    let plain = opened
        .get(1)
        .dyn_into::<Uint8Array>()
        .map_err(|_| bad_record())?;
    let mut seed = Zeroizing::new([0u8; 32]);
    let fits = plain.length() == 32;
    if fits {
        plain.copy_to(seed.as_mut());
    }
    plain.fill(0, 0, plain.length());
    if !fits {
        return Err(bad_record());
    }
    if given.is_some_and(|g| g != &*seed) {
        return Err(Error::InvalidArgument(
            "clinicianSigningKey: differs from the key of the stored replica of this name",
        ));
    }
    let (ledger, patient) = (opened.get(2), opened.get(3));
    let ledger = if js::present(&ledger) {
        let patient: [u8; 32] = bytes(patient)?.try_into().map_err(|_| bad_record())?;
        Some((bytes(ledger)?, patient))
    } else {
        None
    };
    let received = opened.get(4);
    let received = if js::present(&received) {
        let list: Array = received.dyn_into().map_err(|_| bad_record())?;
        list.iter()
            .map(|v| {
                if v.is_null() {
                    return Ok(None);
                }
                v.as_f64()
                    .filter(|t| t.is_finite() && *t >= 0.0 && t.fract() == 0.0 && *t < 9.0e15)
                    .map(|t| Some(t as u64))
                    .ok_or_else(bad_record)
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    Ok(LoadedReplica {
        seed,
        ledger,
        received,
    })
}

impl ReplicaDb {
    /// Rewrites the record: the ledger, its patient key and the receive times.
    pub async fn save(
        &self,
        ledger: &[u8],
        patient: &[u8; 32],
        received: &[Option<u64>],
    ) -> Result<(), Error> {
        let times = Array::new();
        for t in received {
            times.push(&t.map_or(JsValue::NULL, |t| JsValue::from(t as f64)));
        }
        JsFuture::from(idb_replica_save(
            &self.db,
            &self.name,
            &Uint8Array::from(ledger),
            &Uint8Array::from(&patient[..]),
            &times,
        ))
        .await
        .map(|_| ())
        .map_err(failed)
    }
}

impl Drop for ReplicaDb {
    fn drop(&mut self) {
        idb_close(&self.db);
    }
}
