// IndexedDB persistence of a consultation's chat, encrypted under a non-extractable WebCrypto
// key: the protection the consent ledger's device key has (src/web/idb.rs). Database
// `teleconsult-chat` (version 1), store `conversations`, out-of-line key = the name the app
// chose; value `{ key, iv, data }`: `key` an AES-256-GCM CryptoKey made with
// `extractable: false` (IndexedDB stores the object; its bytes never reach page script),
// `data` the conversation's stored form (src/chat/store.rs) encrypted under it with a fresh
// 96-bit IV per write, AAD = the name (a record cannot move to another name).
//
// Only IO here: the Rust side validates the decrypted bytes. Failures reject with a short code:
// 'no-idb' / 'no-subtle' (missing platform), 'crypto' (a record that does not decrypt);
// anything else is an IndexedDB failure. Nothing of the chat is ever put in a rejection.

const AAD_PREFIX = 'teleconsult-chat-v1\0';

const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = tx.onabort = () => reject(tx.error);
});

const aad = (name) => new TextEncoder().encode(AAD_PREFIX + name);

/** Resolves to `[handle, bytes]`: the stored conversation `name` decrypted (`undefined` if none). */
export async function chatStoreOpen(name) {
  if (typeof indexedDB === 'undefined') throw 'no-idb';
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw 'no-subtle';
  const open = indexedDB.open('teleconsult-chat', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('conversations');
  const db = await request(open);
  const rec = await request(db.transaction('conversations', 'readonly').objectStore('conversations').get(name));
  let key = rec?.key;
  let bytes;
  if (key && rec.iv instanceof Uint8Array && rec.data instanceof ArrayBuffer) {
    try {
      bytes = new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: rec.iv, additionalData: aad(name) }, key, rec.data));
    } catch {
      db.close();
      throw 'crypto';
    }
  } else {
    key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  }
  return [{ db, name, key, subtle, chain: Promise.resolve() }, bytes];
}

/** Writes `bytes` as conversation `handle.name`, after every earlier write (strict durability). */
export function chatStoreSave(handle, bytes) {
  const write = async () => {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await handle.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(handle.name) }, handle.key, bytes);
    const tx = handle.db.transaction('conversations', 'readwrite', { durability: 'strict' });
    tx.objectStore('conversations').put({ key: handle.key, iv, data }, handle.name);
    await committed(tx);
  };
  handle.chain = handle.chain.then(write, write);
  return handle.chain;
}

/** Closes the database once the pending writes are done. */
export function chatStoreClose(handle) {
  handle.chain.finally(() => handle.db.close());
}
