// `chat.persist(name)` in a real browser: the patient's conversation survives a reload of its
// page (rejoining the visit restores it), and what IndexedDB holds is unreadable without the
// page's key: the text is not in the stored bytes, the key cannot be exported, another key
// does not decrypt it, and the record does not decrypt under another name (docs/CHAT.md,
// "Storage").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, startCall, sdkPage, joinIn, until, testPages } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

const NAME = 'visit-42-patient';
const texts = (page) => page.evaluate(() => window.c.chat.messages().map((m) => m.text));
const inCall = (page, role) => until(page, (role) => window.c.participants().some((p) => p.role === role && p.secured && p.inCall), role, { what: `${role} in the call` });

/** The raw record of `name` in the page's IndexedDB, read as an attacker with page access
 *  would: what it can learn without the SDK. */
function inspectStore(page, name, secret) {
  return page.evaluate(async ([name, secret]) => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('teleconsult-chat', 1);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const rec = await new Promise((resolve, reject) => {
      const r = db.transaction('conversations', 'readonly').objectStore('conversations').get(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    db.close();
    const bytes = new Uint8Array(rec.data);
    const needle = new TextEncoder().encode(secret);
    const contains = bytes.some((_, i) => needle.every((b, j) => bytes[i + j] === b));
    const exported = await crypto.subtle.exportKey('raw', rec.key).then(() => 'exported', (e) => e.name);
    const other = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['decrypt']);
    const aad = (n) => new TextEncoder().encode(`teleconsult-chat-v1\0${n}`);
    const tryDecrypt = (key, n) => crypto.subtle.decrypt({ name: 'AES-GCM', iv: rec.iv, additionalData: aad(n) }, key, rec.data)
      .then((p) => new TextDecoder().decode(p).includes(secret) ? 'plaintext' : 'decrypted', (e) => e.name);
    return {
      size: bytes.length,
      contains,
      extractable: rec.key.extractable,
      exported,
      otherKey: await tryDecrypt(other, name),
      otherName: await tryDecrypt(rec.key, 'visit-43-patient'),
      ownKey: await tryDecrypt(rec.key, name),
    };
  }, [name, secret]);
}

test('a persisted chat survives the patient\'s reload and is unreadable without the page\'s key', async () => {
  const call = await startCall(browser, relay, { media: false });
  const { clinician, patient, invite } = call;
  try {
    await inCall(patient, 'clinician');
    await inCall(clinician, 'patient');
    await patient.evaluate((n) => window.c.chat.persist(n), NAME);
    await patient.evaluate(() => window.c.chat.send('Private: the rash itches at night'));
    await until(clinician, () => window.c.chat.messages().length === 1, null, { what: 'the message arrives' });
    await clinician.evaluate(() => window.c.chat.send('Noted, any fever?'));
    await until(patient, () => window.c.chat.messages().length === 2, null, { what: 'the answer arrives' });
    const before = await texts(patient);
    assert.deepEqual(before, ['Private: the rash itches at night', 'Noted, any fever?']);

    // The written record (polled: writes are asynchronous) holds both messages, sealed.
    await until(patient, async (n) => {
      const db = await new Promise((r) => { const o = indexedDB.open('teleconsult-chat', 1); o.onsuccess = () => r(o.result); });
      const rec = await new Promise((r) => { const g = db.transaction('conversations').objectStore('conversations').get(n); g.onsuccess = () => r(g.result); });
      db.close();
      return rec && rec.data.byteLength > 60;
    }, NAME, { what: 'the record written' });
    const seen = await inspectStore(patient, NAME, 'rash itches');
    assert.equal(seen.contains, false, 'the text is not in the stored bytes');
    assert.equal(seen.extractable, false);
    assert.equal(seen.exported, 'InvalidAccessError', 'the key cannot leave the browser');
    assert.equal(seen.otherKey, 'OperationError', 'another key does not decrypt it');
    assert.equal(seen.otherName, 'OperationError', 'the record does not decrypt under another name');
    assert.equal(seen.ownKey, 'plaintext', 'control: the page\'s own key and name do');

    // Reload: the page (and its Consultation) are gone; rejoining and persisting under the
    // same name brings the conversation back, in order.
    await patient.reload({ waitUntil: 'load' });
    await patient.evaluate(async () => { window.t = await import('/pkg/index.js'); window.log = []; });
    await joinIn(patient, {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
      token: await relay.token(invite.roomId, 'patient'),
    }, { media: false });
    await inCall(patient, 'clinician');
    assert.deepEqual(await texts(patient), [], 'nothing before persist');
    await patient.evaluate((n) => window.c.chat.persist(n), NAME);
    assert.deepEqual(await texts(patient), before);
    // And the conversation goes on from there.
    await patient.evaluate(() => window.c.chat.send('No fever'));
    await until(clinician, () => window.c.chat.messages().some((m) => m.text === 'No fever'), null, { what: 'a message after the reload' });
    assert.deepEqual([...patient.errors], []);
  } finally {
    await call.close();
  }
});
