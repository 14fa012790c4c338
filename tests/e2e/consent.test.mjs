// Consent in real Chromium pages: the ledger and the wrapped device key in IndexedDB across
// reloads, tampering caught on reopen, and the patient's ledger synced to the clinician's
// ConsentReplica through the real relay (two pages, E2E app-data channel).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, sdkPage, joinIn, until, testPages, startCall, CLINICIAN_SEED, CLINICIAN_PK } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video with your clinician.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };


/** Opens the patient's manager in `page` as `window.m` (IndexedDB by default in a browser). */
async function openManager(page, patient, extra = {}) {
  return page.evaluate(async (patient, notice, dr, extra, pk) => {
    window.m = await window.t.ConsentManager.open({ patient, recipient: dr, notice, clinicianPublicKey: new Uint8Array(pk), ...extra });
    window.consentLog = [];
    for (const type of ['change', 'checkpoint', 'error']) {
      window.m.addEventListener(type, (e) => window.consentLog.push({ type, at: Date.now(), ...e.detail }));
    }
    return { storage: window.m.storage, ledgerId: window.m.ledgerId, publicKey: window.m.publicKey, size: window.m.size, head: window.m.head };
  }, patient, notice, dr, extra, CLINICIAN_PK);
}

/** Runs `fn` in the page and returns the TeleconsultError's code and consentCode. */
const failureIn = (page, fn, ...args) => page.evaluate(async (src, args) => {
  try { await (0, eval)(src)(...args); return 'resolved'; } catch (e) {
    // Only the fields the error has (Firefox's BiDi keeps an undefined property, Chromium drops it).
    return Object.fromEntries(Object.entries({ name: e.name, code: e.code, consentCode: e.consentCode }).filter(([, v]) => v !== undefined));
  }
}, fn.toString(), args);

test('grant, check and withdraw in a page; a reload keeps the ledger and the wrapped key', async () => {
  const page = await sdkPage(browser, relay);
  try {
    const first = await openManager(page, 'pat-reload');
    assert.equal(first.storage, 'indexeddb');
    assert.equal(first.size, 0);
    const result = await page.evaluate(async () => {
      const g = await window.m.grant({ purposes: ['TREAT'], categories: ['video', 'audio'] });
      const before = window.m.allows('video');
      const withdrawn = await window.m.withdraw(g.seq);
      const again = await window.m.grant({ purposes: ['TREAT'], categories: ['heart-rate'] });
      return { seq: g.seq, before, withdrawn, after: window.m.allows('video'), hr: window.m.allows('heart-rate'), again: again.seq, head: window.m.head };
    });
    assert.deepEqual({ ...result.before }, { allowed: true, reason: 'Granted', grant: 0 });
    assert.equal(result.withdrawn, 1);
    assert.equal(result.after.reason, 'Withdrawn');
    assert.equal(result.hr.allowed, true);

    // What page script finds in IndexedDB: a wrapped blob and a key it cannot export.
    const stored = await page.evaluate(async (ledgerId) => {
      const db = await new Promise((res, rej) => { const r = indexedDB.open('teleconsult-consent'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const get = (store, key) => new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).get(key); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const rec = await get('ledgers', ledgerId);
      let exported = 'exported';
      try { await crypto.subtle.exportKey('raw', rec.wrappingKey); } catch (e) { exported = e.name; }
      db.close();
      return {
        keys: Object.keys(rec).sort(), extractable: rec.wrappingKey.extractable, algorithm: rec.wrappingKey.algorithm.name,
        wrappedLength: rec.wrappedSeed.length, exported,
      };
    }, first.ledgerId);
    assert.deepEqual(stored.keys, ['created', 'iv', 'ledgerId', 'patient', 'wrappedSeed', 'wrappingKey']);
    assert.equal(stored.extractable, false);
    assert.equal(stored.algorithm, 'AES-GCM');
    assert.equal(stored.wrappedLength, 32 + 16, 'the 32-byte seed plus the GCM tag, never the bare seed');
    assert.equal(stored.exported, 'InvalidAccessError');

    await page.reload({ waitUntil: 'load' });
    await page.evaluate(async () => { window.t = await import('/pkg/index.js'); });
    const reopened = await openManager(page, 'pat-reload');
    assert.equal(reopened.ledgerId, first.ledgerId, 'the same ledger is found by patient id');
    assert.equal(reopened.publicKey, first.publicKey, 'the same device key was unwrapped');
    assert.equal(reopened.size, 3);
    assert.equal(reopened.head, result.head);
    const after = await page.evaluate(async () => {
      const s = window.m.verify();
      const video = window.m.allows('video');
      // The reopened key still signs entries that verify with the same public key.
      await window.m.grant({ purposes: ['TREAT'], categories: ['video'] });
      return { s, video, allowed: window.m.allows('video').allowed, verified: window.t.verifyLedger(window.m.export(), window.m.publicKey).entries };
    });
    assert.equal(after.s.entries, 3);
    assert.equal(after.s.withdrawnGrants, 1);
    assert.equal(after.video.reason, 'Withdrawn');
    assert.equal(after.allowed, true);
    assert.equal(after.verified, 4);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the clinician\'s replica persists across a reload: its wrapped signing key, entries and receive times', async () => {
  const page = await sdkPage(browser, relay);
  try {
    const first = await page.evaluate(async (seed, notice, dr) => {
      const m = await window.t.ConsentManager.open({ patient: 'pat-replica', recipient: dr, notice, storage: 'memory' });
      await m.grant({ purposes: ['TREAT'], categories: ['video', 'recording'] });
      await m.withdraw(0);
      const r = await window.t.ConsentReplica.open({ name: 'visit-1/pat-replica', clinicianSigningKey: new Uint8Array(seed), ledgerId: m.ledgerId, patientPublicKey: m.publicKey, notice, recipient: dr });
      r.receive(m.entryBytes(0));
      r.receive(m.entryBytes(1));
      await new Promise((res) => setTimeout(res, 200)); // the write-through
      window.entries = [m.entryBytes(0), m.entryBytes(1)];
      return { publicKey: r.publicKey, head: r.head, size: r.size, timing: r.timing(), patientKey: m.publicKey, ledgerId: m.ledgerId };
    }, CLINICIAN_SEED, notice, dr);
    assert.equal(first.size, 2);
    assert.equal(first.publicKey, Buffer.from(CLINICIAN_PK).toString('hex'), 'the replica signs with the key it was given');
    assert.ok(first.timing.every((x) => typeof x.receivedAt === 'number' && !x.late));

    // What page script finds in IndexedDB: a wrapped seed under a key it cannot export.
    const stored = await page.evaluate(async (seed) => {
      const db = await new Promise((res, rej) => { const r = indexedDB.open('teleconsult-consent-replicas'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const rec = await new Promise((res, rej) => { const r = db.transaction('replicas').objectStore('replicas').get('visit-1/pat-replica'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      db.close();
      let exported = 'exported';
      try { await crypto.subtle.exportKey('raw', rec.wrappingKey); } catch (e) { exported = e.name; }
      const raw = Array.from(rec.wrappedSeed).join() .includes(seed.join());
      return { keys: Object.keys(rec).sort(), extractable: rec.wrappingKey.extractable, exported, wrappedLength: rec.wrappedSeed.length, raw, received: rec.received.length };
    }, CLINICIAN_SEED);
    assert.deepEqual(stored.keys, ['created', 'iv', 'ledger', 'name', 'patient', 'received', 'wrappedSeed', 'wrappingKey']);
    assert.equal(stored.extractable, false);
    assert.equal(stored.exported, 'InvalidAccessError');
    assert.equal(stored.wrappedLength, 32 + 16);
    assert.equal(stored.raw, false, 'the bare seed is never stored');
    assert.equal(stored.received, 2);

    await page.reload({ waitUntil: 'load' });
    await page.evaluate(async () => { window.t = await import('/pkg/index.js'); });
    const reopened = await page.evaluate(async (notice, dr, pk) => {
      // No key in hand after the reload (the link left the address bar): the stored one is used.
      const r = await window.t.ConsentReplica.open({ name: 'visit-1/pat-replica', notice, recipient: dr });
      const cp = r.checkpoint();
      return { publicKey: r.publicKey, head: r.head, size: r.size, timing: r.timing(), recording: r.check({ category: 'recording' }).reason, cpKey: cp.clinicianPublicKey, verified: r.verify().entries };
    }, notice, dr, CLINICIAN_PK);
    assert.equal(reopened.publicKey, first.publicKey, 'the same signing key was unwrapped');
    assert.equal(reopened.head, first.head);
    assert.equal(reopened.size, 2);
    assert.deepEqual(reopened.timing, first.timing, 'receive times survive the reload');
    assert.equal(reopened.recording, 'Withdrawn');
    assert.equal(reopened.cpKey, first.publicKey);
    assert.equal(reopened.verified, 2);

    const other = await failureIn(page, (name) => window.t.ConsentReplica.open({ name, clinicianSigningKey: new Uint8Array(32).fill(9) }), 'visit-1/pat-replica');
    assert.deepEqual(other, { name: 'TeleconsultError', code: 'InvalidArgument' }, 'another key for a stored replica is refused');
    const none = await failureIn(page, (name) => window.t.ConsentReplica.open({ name }), 'visit-2/nobody');
    assert.deepEqual(none, { name: 'TeleconsultError', code: 'InvalidArgument' }, 'a new replica needs the key');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('an entry edited in IndexedDB, or entries lost after a checkpoint, are caught on reopen', async () => {
  const page = await sdkPage(browser, relay);
  try {
    const { ledgerId } = await openManager(page, 'pat-tamper', { databaseName: 'tamper-test' });
    await page.evaluate(async (seed) => {
      await window.m.grant({ purposes: ['TREAT'], categories: ['video'] });
      await window.m.withdraw(0);
      // A clinician's checkpoint over both entries (exchanged by hand here).
      const r = new window.t.ConsentReplica({ ledgerId: window.m.ledgerId, patientPublicKey: window.m.publicKey, clinicianSigningKey: new Uint8Array(seed) });
      r.receive(window.m.entryBytes(0));
      const cp = r.receive(window.m.entryBytes(1));
      await window.m.acceptCheckpoint(cp.bytes, cp.clinicianPublicKey);
      window.m.close();
    }, CLINICIAN_SEED);
    const edit = async (ledgerId, how) => {
      const db = await new Promise((res, rej) => { const r = indexedDB.open('tamper-test'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const tx = db.transaction('entries', 'readwrite');
      const store = tx.objectStore('entries');
      if (how === 'delete') store.delete([ledgerId, 1]);
      else {
        const r = store.get([ledgerId, 0]);
        r.onsuccess = () => { const b = r.result.slice(); b[60] ^= 1; /* first letter of the patient id */ store.put(b, [ledgerId, 0]); };
      }
      await new Promise((res) => { tx.oncomplete = res; });
      db.close();
    };
    await page.evaluate(edit, ledgerId, 'delete');
    const truncated = await failureIn(page, (ledgerId) => window.t.ConsentManager.open({ patient: 'pat-tamper', databaseName: 'tamper-test', ledgerId }), ledgerId);
    assert.deepEqual(truncated, { name: 'TeleconsultError', code: 'Consent', consentCode: 'Truncated' });
    await page.evaluate(edit, ledgerId, 'flip');
    const edited = await failureIn(page, (ledgerId) => window.t.ConsentManager.open({ patient: 'pat-tamper', databaseName: 'tamper-test', ledgerId }), ledgerId);
    assert.deepEqual(edited, { name: 'TeleconsultError', code: 'Consent', consentCode: 'BadSignature' });
  } finally {
    await page.close();
  }
});

test('a ledger record in the stored layout opens by patient and by id; stored records of the wrong shape are Store errors', async () => {
  const page = await sdkPage(browser, relay);
  try {
    const r = await page.evaluate(async (notice, dr) => {
      const open = (o) => window.t.ConsentManager.open({ patient: 'pat-layout', recipient: dr, notice, databaseName: 'layout-test', ...o });
      const fail = (o) => open(o).then(() => 'resolved', (e) => `${e.code}/${e.consentCode}`);
      const db = () => new Promise((res, rej) => {
        const r = indexedDB.open('layout-test', 1);
        r.onupgradeneeded = () => { for (const s of ['ledgers', 'entries', 'checkpoints']) r.result.createObjectStore(s); };
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const edit = async (store, key, f) => {
        const d = await db();
        const tx = d.transaction(store, 'readwrite');
        const s = tx.objectStore(store);
        const g = s.get(key);
        g.onsuccess = () => s.put(f(g.result), key);
        await new Promise((res) => { tx.oncomplete = res; });
        d.close();
      };
      // A record written by hand in the layout src/web/idb.rs documents (AAD: prefix, NUL, ledger id).
      const id = '00112233445566778899aabbccddeeff';
      const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const additionalData = new Uint8Array([...new TextEncoder().encode('teleconsult-consent-v1 device-key'), 0, ...id.match(/../g).map((h) => parseInt(h, 16))]);
      const wrappedSeed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, new Uint8Array(32).fill(7)));
      await edit('ledgers', id, () => ({ ledgerId: id, patient: 'pat-layout', created: 1, wrappingKey: key, iv, wrappedSeed }));
      const m = await open();
      const out = { found: m.ledgerId, publicKey: m.publicKey };
      await m.grant({ purposes: ['TREAT'], categories: ['video'] });
      m.close();
      const again = await open({ ledgerId: id });
      out.reopened = [again.publicKey === m.publicKey, again.size];
      again.close();
      await edit('entries', [id, 0], () => 'not bytes');
      out.entry = await fail({ ledgerId: id });
      await edit('ledgers', id, (rec) => ({ ...rec, wrappedSeed: rec.wrappedSeed.map((b, i) => (i ? b : b ^ 1)) }));
      out.flipped = await fail({ ledgerId: id });
      await edit('ledgers', id, (rec) => ({ ...rec, wrappingKey: 'not a key' }));
      out.key = await fail({ ledgerId: id });
      return out;
    }, notice, dr);
    assert.equal(r.found, '00112233445566778899aabbccddeeff', 'found by patient id');
    // The Ed25519 public key of the seed 07…07 (openssl agrees): the seed was unwrapped intact.
    assert.equal(r.publicKey, 'ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c');
    assert.deepEqual(r.reopened, [true, 1]);
    assert.equal(r.entry, 'Consent/Store');
    assert.equal(r.flipped, 'Consent/Store');
    assert.equal(r.key, 'Consent/Store');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('through the relay: the clinician countersigns the patient\'s head, and sees a withdrawal within a second', async () => {
  const clinician = await sdkPage(browser, relay);
  const patient = await sdkPage(browser, relay);
  try {
    const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
    const doc = await joinIn(clinician, {
      link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
      token: await relay.token(invite.roomId, 'clinician'),
    }, { media: false });
    // The patient consents before the call (stored in IndexedDB), then joins.
    await openManager(patient, 'pat-sync');
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['video', 'audio'] }));
    const pat = await joinIn(patient, {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
      token: await relay.token(invite.roomId, 'patient'),
    }, { media: false });
    await until(clinician, () => window.log.some((e) => e.type === 'admissionrequested'), null, { what: 'admission request' });
    await clinician.evaluate((id) => window.c.admit(id), pat.id);
    await until(patient, () => window.c.participants().some((p) => p.role === 'clinician' && p.secured), null, { what: 'patient secured with the clinician' });

    await clinician.evaluate((patientId, notice, dr, seed) => {
      window.r = new window.t.ConsentReplica({ notice, recipient: dr, clinicianSigningKey: new Uint8Array(seed) });
      window.consentLog = [];
      for (const type of ['change', 'error']) {
        window.r.addEventListener(type, (e) => window.consentLog.push({ type, at: Date.now(), ...e.detail }));
      }
      window.r.attachConsultation(window.c, patientId);
    }, pat.id, notice, dr, CLINICIAN_SEED);
    await patient.evaluate((clinicianId) => window.m.attachConsultation(window.c, clinicianId), doc.id);

    const cp = await until(patient, () => window.consentLog.find((e) => e.type === 'checkpoint' && e.size === 1), null, { what: 'countersigned checkpoint' });
    const patientState = await patient.evaluate(() => ({ head: window.m.head, size: window.m.size, publicKey: window.m.publicKey, ledgerId: window.m.ledgerId }));
    const replicaState = await clinician.evaluate(() => ({ head: window.r.head, size: window.r.size, publicKey: window.r.publicKey, patientKey: window.r.patientPublicKey, ledgerId: window.r.ledgerId, video: window.r.check({ category: 'video' }) }));
    assert.equal(cp.matchesHead, true);
    assert.equal(cp.head, patientState.head);
    assert.equal(cp.clinicianPublicKey, replicaState.publicKey);
    assert.equal(cp.clinicianPublicKey, Buffer.from(CLINICIAN_PK).toString('hex'), 'countersigned by the link\'s clinician key');
    assert.ok(Math.abs(cp.time - Date.now()) < 60_000, 'the checkpoint carries the replica\'s receive time');
    assert.equal(replicaState.head, patientState.head, 'both sides hold the same record');
    assert.equal(replicaState.ledgerId, patientState.ledgerId);
    assert.equal(replicaState.patientKey, patientState.publicKey);
    assert.equal(replicaState.video.allowed, true);
    const verified = await patient.evaluate(() => window.m.verify());
    assert.equal(verified.checkpointSize, 1);

    // Withdrawal on the patient page reaches the clinician page within one second.
    const t0 = await patient.evaluate(async () => { const t0 = Date.now(); await window.m.withdraw(0); return t0; });
    const seen = await until(clinician, () => window.consentLog.find((e) => e.type === 'change' && e.entry.event.type === 'withdraw'), null, { timeout: 5_000, what: 'withdrawal on the clinician side' });
    const latency = seen.at - t0;
    console.log(`consent withdrawal patient -> clinician: ${latency} ms`);
    assert.ok(latency < 1000, `withdrawal took ${latency} ms`);
    assert.equal(await clinician.evaluate(() => window.r.check({ category: 'video' }).reason), 'Withdrawn');
    const cp2 = await until(patient, () => window.consentLog.find((e) => e.type === 'checkpoint' && e.size === 2), null, { what: 'second checkpoint' });
    assert.equal(cp2.matchesHead, true);
    // The clinician's export verifies offline against the patient's key and the checkpoint.
    const offline = await clinician.evaluate((pk) => {
      const cp = window.r.checkpoint();
      return window.t.verifyLedger(window.r.export(), pk, cp);
    }, patientState.publicKey);
    assert.equal(offline.entries, 2);
    assert.equal(offline.withdrawnGrants, 1);
    const errors = [
      ...await patient.evaluate(() => window.consentLog.filter((e) => e.type === 'error')),
      ...await clinician.evaluate(() => window.consentLog.filter((e) => e.type === 'error')),
    ];
    assert.deepEqual(errors, []);
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await patient.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});

test('the links carry the consent keys, and a confirmed SAS is recorded as the SDK computed it', async () => {
  const { clinician, patient, doc, invite, close } = await startCall(browser, relay);
  try {
    // The replica countersigns with the key of the clinician's link; the patient's manager
    // accepts checkpoints only under the key its own link commits to.
    await clinician.evaluate((link, notice, dr) => {
      window.r = new window.t.ConsentReplica({ notice, recipient: dr, link });
    }, invite.clinicianLink, notice, dr);
    await patient.evaluate(async (link, notice, dr) => {
      window.m = await window.t.ConsentManager.open({ patient: 'pat-sas', recipient: dr, notice, storage: 'memory', link });
    }, invite.patientLink, notice, dr);
    // Only the clinician's link can countersign.
    const refused = await clinician.evaluate((link, notice) => {
      try { new window.t.ConsentReplica({ notice, link }); return null; } catch (e) { return e.code; }
    }, invite.patientLink, notice);
    assert.equal(refused, 'InvalidArgument');

    const sas = await until(patient, (id) => window.c.participants().find((p) => p.id === id && p.sasBinding), doc.id, { what: 'SAS on the patient side' });
    const theirs = await until(clinician, () => window.c.participants().find((p) => p.role === 'patient' && p.sasBinding), null, { what: 'SAS on the clinician side' });
    assert.match(sas.sasBinding, /^[0-9a-f]{64}$/);
    assert.equal(sas.sasBinding, theirs.sasBinding, 'both sides name the same SAS');
    assert.equal(sas.sas.digits, theirs.sas.digits);

    // Not confirmed yet: nothing to record.
    const early = await patient.evaluate((id) => window.m.recordSasConfirmed(window.c, id).then(() => null, (e) => e.code), doc.id);
    assert.equal(early, 'InvalidState');
    const entry = await patient.evaluate(async (id) => {
      window.c.confirmSas(id);
      const seq = await window.m.recordSasConfirmed(window.c, id);
      return window.m.entries()[seq];
    }, doc.id);
    assert.deepEqual(entry.event, { type: 'sas-confirmed', transcript: sas.sasBinding });
  } finally {
    await close();
  }
});
