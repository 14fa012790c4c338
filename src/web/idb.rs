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

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AesGcmParams, AesKeyGenParams, CryptoKey, IdbDatabase, IdbFactory, IdbKeyRange,
    IdbOpenDbRequest, IdbRequest, IdbTransaction, SubtleCrypto,
};
use zeroize::Zeroizing;

use super::js::{self, get, object, present};
use crate::Error;

const DB_VERSION: u32 = 1;
const LEDGERS: &str = "ledgers";
const ENTRIES: &str = "entries";
const CHECKPOINTS: &str = "checkpoints";
/// AAD prefix of the wrapped seed, so the blob cannot be moved to another ledger record.
const WRAP_AAD: &[u8] = b"teleconsult-consent-v1 device-key\0";

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
    db: IdbDatabase,
    ledger: String,
}

fn failed(_: JsValue) -> Error {
    Error::Consent(crate::consent::LedgerError::Store(
        crate::consent::StoreError("IndexedDB request failed"),
    ))
}

fn crypto_failed(_: JsValue) -> Error {
    Error::Consent(crate::consent::LedgerError::Store(
        crate::consent::StoreError("WebCrypto could not unwrap the device key"),
    ))
}

/// Resolves with the request's result once it succeeds.
async fn request(req: &IdbRequest) -> Result<JsValue, Error> {
    let done = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(done).await.map_err(failed)?;
    req.result().map_err(failed)
}

/// Resolves once the transaction commits; rejects if it aborts.
async fn committed(tx: &IdbTransaction) -> Result<(), Error> {
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(done).await.map(|_| ()).map_err(failed)
}

/// `db.transaction(stores, mode, { durability: "strict" })`: consent records must reach the
/// disk before the change is reported (and sent to the clinician).
fn transaction(db: &IdbDatabase, stores: &[&str], write: bool) -> Result<IdbTransaction, Error> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    let mode = if write { "readwrite" } else { "readonly" };
    let options = object(&[("durability", "strict".into())]);
    let f: Function = get(db, "transaction").unchecked_into();
    f.call3(db, &names, &mode.into(), &options)
        .map(JsCast::unchecked_into)
        .map_err(failed)
}

fn entry_key(ledger: &str, seq: u64) -> Array {
    Array::of2(&ledger.into(), &(seq as f64).into())
}

fn subtle() -> Result<SubtleCrypto, Error> {
    let subtle = get(&get(&js_sys::global(), "crypto"), "subtle");
    if !present(&subtle) {
        return Err(Error::Unsupported(
            "crypto.subtle is missing (IndexedDB consent storage needs a secure context)",
        ));
    }
    Ok(subtle.unchecked_into())
}

fn gcm(iv: &[u8], ledger_id: &[u8; 16]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    let aad = [WRAP_AAD, ledger_id].concat();
    params.set_additional_data(&Uint8Array::from(aad.as_slice()));
    params
}

/// Opens the database, then the ledger `ledger_id` (or the newest ledger of `patient`),
/// creating a ledger and a wrapped device key when there is none.
pub async fn open(
    name: &str,
    ledger_id: Option<[u8; 16]>,
    patient: &str,
) -> Result<(Idb, Loaded), Error> {
    let factory: IdbFactory = {
        let f = get(&js_sys::global(), "indexedDB");
        if !present(&f) {
            return Err(Error::Unsupported(
                "indexedDB is missing here; use storage: \"memory\"",
            ));
        }
        f.unchecked_into()
    };
    let req: IdbOpenDbRequest = factory.open_with_u32(name, DB_VERSION).map_err(failed)?;
    let upgrading = req.clone();
    let upgrade = Closure::<dyn FnMut()>::new(move || {
        if let Ok(db) = upgrading.result() {
            let db: IdbDatabase = db.unchecked_into();
            for store in [LEDGERS, ENTRIES, CHECKPOINTS] {
                let _ = db.create_object_store(store);
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = request(&req).await;
    req.set_onupgradeneeded(None);
    drop(upgrade);
    let db: IdbDatabase = db?.unchecked_into();

    let existing = find_ledger(&db, ledger_id, patient).await?;
    let (ledger_id, record) = match existing {
        Some(found) => found,
        None => create_ledger(&db, ledger_id, patient).await?,
    };
    let ledger = js::hex(&ledger_id);
    let seed = unwrap_seed(&record, &ledger_id).await?;

    let tx = transaction(&db, &[ENTRIES, CHECKPOINTS], false)?;
    let range = IdbKeyRange::bound(
        &entry_key(&ledger, 0),
        &entry_key(&ledger, crate::consent::MAX_ENTRIES.into()),
    )
    .map_err(failed)?;
    let entries_req = tx
        .object_store(ENTRIES)
        .and_then(|s| s.get_all_with_key(&range))
        .map_err(failed)?;
    let cp_req = tx
        .object_store(CHECKPOINTS)
        .and_then(|s| s.get(&ledger.as_str().into()))
        .map_err(failed)?;
    let entries: Array = request(&entries_req).await?.unchecked_into();
    let cp = request(&cp_req).await?;
    let entries = entries
        .iter()
        .map(|v| {
            v.dyn_into::<Uint8Array>()
                .map(|a| a.to_vec())
                .map_err(|_| bad_record())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let checkpoint = if present(&cp) {
        Some(
            cp.dyn_into::<Uint8Array>()
                .map_err(|_| bad_record())?
                .to_vec(),
        )
    } else {
        None
    };
    Ok((
        Idb { db, ledger },
        Loaded {
            ledger_id,
            seed,
            entries,
            checkpoint,
        },
    ))
}

fn bad_record() -> Error {
    Error::Consent(crate::consent::LedgerError::Store(
        crate::consent::StoreError("an IndexedDB consent record is not what the SDK wrote"),
    ))
}

/// The ledger record to open: the one named, or the newest of `patient`.
async fn find_ledger(
    db: &IdbDatabase,
    ledger_id: Option<[u8; 16]>,
    patient: &str,
) -> Result<Option<([u8; 16], JsValue)>, Error> {
    let tx = transaction(db, &[LEDGERS], false)?;
    let store = tx.object_store(LEDGERS).map_err(failed)?;
    if let Some(id) = ledger_id {
        let rec = request(&store.get(&js::hex(&id).into()).map_err(failed)?).await?;
        return Ok(present(&rec).then_some((id, rec)));
    }
    let all: Array = request(&store.get_all().map_err(failed)?)
        .await?
        .unchecked_into();
    let mut best: Option<(f64, [u8; 16], JsValue)> = None;
    for rec in all.iter() {
        if get(&rec, "patient").as_string().as_deref() != Some(patient) {
            continue;
        }
        let created = get(&rec, "created").as_f64().unwrap_or(0.0);
        let Some(id) = get(&rec, "ledgerId")
            .as_string()
            .and_then(|h| super::consent::parse_hex::<16>(&h))
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(c, ..)| created >= *c) {
            best = Some((created, id, rec));
        }
    }
    Ok(best.map(|(_, id, rec)| (id, rec)))
}

/// Creates a ledger record with a fresh device seed wrapped under a fresh non-extractable
/// AES-GCM key.
async fn create_ledger(
    db: &IdbDatabase,
    ledger_id: Option<[u8; 16]>,
    patient: &str,
) -> Result<([u8; 16], JsValue), Error> {
    let id = match ledger_id {
        Some(id) => id,
        None => {
            let mut id = [0u8; 16];
            js::random_bytes(&mut id)?;
            id
        }
    };
    let subtle = subtle()?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key: CryptoKey = JsFuture::from(
        subtle
            .generate_key_with_object(&AesKeyGenParams::new("AES-GCM", 256), false, &usages)
            .map_err(crypto_failed)?,
    )
    .await
    .map_err(crypto_failed)?
    .unchecked_into();
    let mut seed = Zeroizing::new([0u8; 32]);
    js::random_bytes(seed.as_mut())?;
    let mut iv = [0u8; 12];
    js::random_bytes(&mut iv)?;
    let wrapped = JsFuture::from(
        subtle
            .encrypt_with_object_and_u8_array(&gcm(&iv, &id), &key, seed.as_ref())
            .map_err(crypto_failed)?,
    )
    .await
    .map_err(crypto_failed)?;
    // The JS copy of the seed given to `encrypt` was a view of wasm memory; no copy of
    // the plaintext is left in JavaScript.
    let record: Object = object(&[
        ("ledgerId", js::hex(&id).into()),
        ("patient", patient.into()),
        ("created", js_sys::Date::now().into()),
        ("wrappingKey", key.into()),
        ("iv", Uint8Array::from(iv.as_slice()).into()),
        ("wrappedSeed", Uint8Array::new(&wrapped).into()),
    ]);
    let tx = transaction(db, &[LEDGERS], true)?;
    tx.object_store(LEDGERS)
        .and_then(|s| s.put_with_key(&record, &js::hex(&id).into()))
        .map_err(failed)?;
    committed(&tx).await?;
    Ok((id, record.into()))
}

async fn unwrap_seed(record: &JsValue, ledger_id: &[u8; 16]) -> Result<Zeroizing<[u8; 32]>, Error> {
    let key: CryptoKey = get(record, "wrappingKey")
        .dyn_into()
        .map_err(|_| bad_record())?;
    let iv = get(record, "iv")
        .dyn_into::<Uint8Array>()
        .map_err(|_| bad_record())?
        .to_vec();
    let wrapped = get(record, "wrappedSeed")
        .dyn_into::<Uint8Array>()
        .map_err(|_| bad_record())?
        .to_vec();
    let plain = JsFuture::from(
        subtle()?
            .decrypt_with_object_and_u8_array(&gcm(&iv, ledger_id), &key, &wrapped)
            .map_err(crypto_failed)?,
    )
    .await
    .map_err(crypto_failed)?;
    let plain = Uint8Array::new(&plain);
    let mut seed = Zeroizing::new([0u8; 32]);
    if plain.length() != 32 {
        return Err(bad_record());
    }
    plain.copy_to(seed.as_mut());
    // Overwrite the decrypted buffer JavaScript handed back.
    plain.fill(0, 0, 32);
    Ok(seed)
}

impl Idb {
    /// Persists `writes` in one transaction; resolves once it committed.
    pub async fn write(&self, writes: &[Write]) -> Result<(), Error> {
        if writes.is_empty() {
            return Ok(());
        }
        let tx = transaction(&self.db, &[ENTRIES, CHECKPOINTS], true)?;
        for w in writes {
            match w {
                Write::Entry(seq, bytes) => tx.object_store(ENTRIES).and_then(|s| {
                    s.put_with_key(
                        &Uint8Array::from(bytes.as_slice()),
                        &entry_key(&self.ledger, *seq),
                    )
                }),
                Write::Checkpoint(record) => tx.object_store(CHECKPOINTS).and_then(|s| {
                    s.put_with_key(
                        &Uint8Array::from(record.as_slice()),
                        &self.ledger.as_str().into(),
                    )
                }),
            }
            .map_err(failed)?;
        }
        committed(&tx).await
    }

    /// Closes the database connection.
    pub fn close(&self) {
        self.db.close();
    }
}
