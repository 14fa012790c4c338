// IndexedDB persistence of consent ledgers, and the device key wrapped under a non-extractable
// WebCrypto key (the layout is documented in src/web/idb.rs). Only the IO is here: the Rust
// side validates everything these functions return, verifies the ledger, rolls back failed
// writes and maps failures to the SDK's error codes. It is JavaScript because each IDB
// request, transaction and WebCrypto call compiled from Rust costs a web-sys binding, a
// callback closure and an async state machine in the wasm, far more than these lines.
//
// Failures reject with a short code the Rust side maps: 'no-idb' / 'no-subtle' (missing
// platform), 'crypto' (WebCrypto refused), 'record' (a stored record the SDK did not write);
// anything else is an IndexedDB failure. Nothing patient-related is ever put in a rejection.

const AAD_PREFIX = 'teleconsult-consent-v1 device-key\0';
const HEX_ID = /^[0-9a-f]{32}$/;

/** Resolves with an IDBRequest's result, rejects with its error. */
const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

/** Resolves once a transaction commits, rejects if it fails or aborts. */
const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = tx.onabort = () => reject(tx.error);
});

/** A transaction with `durability: "strict"`: consent must reach the disk before it is reported. */
const transaction = (db, stores, mode) => db.transaction(stores, mode, { durability: 'strict' });

/** Rejects with `code`, dropping the platform's error (it may name things we never report). */
const fail = (code) => () => { throw code; };

/** The wrapped seed's AAD: the prefix then the ledger id's bytes, so a blob cannot move ledgers. */
function aad(idHex) {
  const prefix = new TextEncoder().encode(AAD_PREFIX);
  const out = new Uint8Array(prefix.length + 16);
  out.set(prefix);
  for (let i = 0; i < 16; i++) out[prefix.length + i] = parseInt(idHex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The ledger record named `idHex`, or (when empty) the newest of `patient`; undefined if none. */
async function findLedger(db, idHex, patient) {
  const store = transaction(db, 'ledgers', 'readonly').objectStore('ledgers');
  if (idHex) return request(store.get(idHex));
  let best;
  for (const rec of await request(store.getAll())) {
    if (rec?.patient !== patient || typeof rec.ledgerId !== 'string' || !HEX_ID.test(rec.ledgerId)) continue;
    const created = typeof rec.created === 'number' ? rec.created : 0;
    if (!best || created >= best.created) best = { created, rec };
  }
  return best?.rec;
}

/**
 * Creates and stores a ledger record: a fresh Ed25519 seed, encrypted under a fresh AES-GCM key
 * generated with `extractable: false`. The plaintext seed is zeroed once `encrypt` copied it;
 * the caller unwraps it like any stored record.
 */
async function createLedger(db, subtle, idHex, patient) {
  const id = idHex || Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']).catch(fail('crypto'));
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  let sealed;
  try {
    sealed = subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(id) }, key, seed);
  } finally {
    seed.fill(0);
  }
  const wrappedSeed = new Uint8Array(await sealed.catch(fail('crypto')));
  const record = { ledgerId: id, patient, created: Date.now(), wrappingKey: key, iv, wrappedSeed };
  const tx = transaction(db, 'ledgers', 'readwrite');
  tx.objectStore('ledgers').put(record, id);
  await committed(tx);
  return record;
}

/** Decrypts a record's seed; the caller copies it into wasm memory and zeroes this buffer. */
async function unwrapSeed(subtle, record, idHex) {
  const { wrappingKey, iv, wrappedSeed } = record;
  if (!(wrappingKey instanceof CryptoKey) || !(iv instanceof Uint8Array) || !(wrappedSeed instanceof Uint8Array)) throw 'record';
  const plain = await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad(idHex) }, wrappingKey, wrappedSeed).catch(fail('crypto'));
  return new Uint8Array(plain);
}

/** Opens the database (version 1), creating its three stores when it is new. */
function openDatabase(name) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => {
    for (const store of ['ledgers', 'entries', 'checkpoints']) open.result.createObjectStore(store);
  };
  return request(open);
}

/**
 * Opens database `name`, then ledger `idHex` (or the newest of `patient` when empty), creating
 * one with a wrapped device key when there is none, and loads it. Resolves to
 * `[db, ledgerIdHex, seed, entries, checkpoint]`; the database is closed if anything fails.
 */
export async function idbOpen(name, idHex, patient, maxEntries) {
  if (!globalThis.indexedDB) throw 'no-idb';
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw 'no-subtle';
  const db = await openDatabase(name);
  try {
    const record = (await findLedger(db, idHex, patient)) ?? (await createLedger(db, subtle, idHex, patient));
    const id = record.ledgerId;
    if (typeof id !== 'string' || !HEX_ID.test(id) || (idHex && id !== idHex)) throw 'record';
    const seed = await unwrapSeed(subtle, record, id);
    const tx = transaction(db, ['entries', 'checkpoints'], 'readonly');
    const [entries, checkpoint] = await Promise.all([
      request(tx.objectStore('entries').getAll(IDBKeyRange.bound([id, 0], [id, maxEntries]))),
      request(tx.objectStore('checkpoints').get(id)),
    ]);
    return [db, id, seed, entries, checkpoint];
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Persists `writes` (pairs: a sequence number and an entry's bytes, or -1 and the checkpoint
 * record) for ledger `idHex` in one transaction; resolves once it committed.
 */
export async function idbWrite(db, idHex, writes) {
  const tx = transaction(db, ['entries', 'checkpoints'], 'readwrite');
  try {
    for (let i = 0; i + 1 < writes.length; i += 2) {
      const [seq, bytes] = [writes[i], writes[i + 1]];
      if (seq < 0) tx.objectStore('checkpoints').put(bytes, idHex);
      else tx.objectStore('entries').put(bytes, [idHex, seq]);
    }
  } catch (e) {
    // All or nothing: the caller rolls the whole change back.
    tx.abort();
    throw e;
  }
  await committed(tx);
}

/** Closes the database connection (never throws, even when already closed). */
export function idbClose(db) {
  db.close();
}

// ----- the clinician's replicas ------------------------------------------------------------
// Database `teleconsult-consent-replicas` (version 1), one store `replicas` keyed by the
// replica's name: `{ name, created, wrappingKey, iv, wrappedSeed, ledger?, patient?, received }`.
// The clinician's signing seed is wrapped exactly as the patient's device key is, with the AAD
// `teleconsult-consent-v1 replica-key\0` ‖ the name (UTF-8).

const REPLICA_AAD_PREFIX = 'teleconsult-consent-v1 replica-key\0';
const replicaAad = (name) => new TextEncoder().encode(REPLICA_AAD_PREFIX + name);

function openReplicaDatabase(name) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('replicas');
  return request(open);
}

/**
 * Opens database `dbName` and the replica `name`, creating it around `seed` (a 32-byte
 * Uint8Array, zeroed here once encrypted) when none is stored; rejects with 'no-key' when none
 * is stored and no seed was given. Resolves to `[db, seed, ledger, patient, received]` with the
 * seed unwrapped from the stored record.
 */
export async function idbReplicaOpen(dbName, name, seed) {
  if (!globalThis.indexedDB) throw 'no-idb';
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw 'no-subtle';
  const db = await openReplicaDatabase(dbName);
  try {
    let record = await request(transaction(db, 'replicas', 'readonly').objectStore('replicas').get(name));
    if (record === undefined) {
      if (!(seed instanceof Uint8Array)) throw 'no-key';
      const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']).catch(fail('crypto'));
      const iv = crypto.getRandomValues(new Uint8Array(12));
      let sealed;
      try {
        sealed = subtle.encrypt({ name: 'AES-GCM', iv, additionalData: replicaAad(name) }, key, seed);
      } finally {
        seed.fill(0);
      }
      const wrappedSeed = new Uint8Array(await sealed.catch(fail('crypto')));
      record = { name, created: Date.now(), wrappingKey: key, iv, wrappedSeed, received: [] };
      const tx = transaction(db, 'replicas', 'readwrite');
      tx.objectStore('replicas').put(record, name);
      await committed(tx);
    } else if (seed instanceof Uint8Array) {
      seed.fill(0);
    }
    const { wrappingKey, iv, wrappedSeed } = record ?? {};
    if (!(wrappingKey instanceof CryptoKey) || !(iv instanceof Uint8Array) || !(wrappedSeed instanceof Uint8Array)) throw 'record';
    const plain = await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: replicaAad(name) }, wrappingKey, wrappedSeed).catch(fail('crypto'));
    return [db, new Uint8Array(plain), record.ledger, record.patient, record.received];
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Replaces the replica's ledger, patient key and receive times; resolves once committed. */
export async function idbReplicaSave(db, name, ledger, patient, received) {
  const tx = transaction(db, 'replicas', 'readwrite');
  const store = tx.objectStore('replicas');
  const record = await request(store.get(name));
  if (record === undefined) {
    tx.abort();
    throw 'record';
  }
  store.put({ ...record, ledger, patient, received }, name);
  await committed(tx);
}
