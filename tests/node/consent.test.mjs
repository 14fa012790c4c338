// The consent API of the built package in Node.js 20: ConsentManager (memory storage),
// ConsentReplica, verifyLedger, and the sync protocol over a stand-in consultation.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let t;
/** The clinician's per-visit identity key (the seed a clinician link carries) and its public key
 *  (what a patient link carries). */
const CLINICIAN_SEED = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
let CLINICIAN_PK;
const unhex = (h) => Uint8Array.from(h.match(/../g), (b) => parseInt(b, 16));
before(async () => {
  t = await import(join(root, 'pkg/node.mjs'));
  CLINICIAN_PK = unhex(new t.ConsentReplica({ clinicianSigningKey: CLINICIAN_SEED }).publicKey);
});

const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video with your clinician.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };
const other = { kind: 'Practitioner', id: 'dr-2' };
const ctx = { controller: { name: 'Clinic', contact: 'privacy@clinic.example' }, jurisdiction: 'EU', withdrawalMethod: 'Settings > Consent' };

const open = (extra = {}) => t.ConsentManager.open({ patient: 'pat-1', recipient: dr, notice, clinicianPublicKey: CLINICIAN_PK, ...extra });
/** A replica countersigning with the clinician key the patients of `open()` expect. */
const replicaOf = (extra = {}) => new t.ConsentReplica({ clinicianSigningKey: CLINICIAN_SEED, ...extra });

/** Catches the TeleconsultError a call throws or rejects with. */
async function failure(fn) {
  try {
    await fn();
  } catch (e) {
    assert.equal(e.name, 'TeleconsultError');
    return e;
  }
  assert.fail('expected an error');
}

test('open() in Node.js keeps the ledger in memory; IndexedDB is reported unsupported', async () => {
  const m = await open();
  assert.equal(m.storage, 'memory');
  assert.match(m.ledgerId, /^[0-9a-f]{32}$/);
  assert.match(m.publicKey, /^[0-9a-f]{64}$/);
  assert.equal(m.size, 0);
  const e = await failure(() => open({ storage: 'indexeddb' }));
  assert.equal(e.code, t.ErrorCode.Unsupported);
  const bad = await failure(() => t.ConsentManager.open({ notice }));
  assert.equal(bad.code, 'InvalidArgument');
  const fixed = await open({ ledgerId: '00112233445566778899aabbccddeeff' });
  assert.equal(fixed.ledgerId, '00112233445566778899aabbccddeeff');
});

test('grant, check, allows, list: default deny, with the most specific reason', async () => {
  const m = await open();
  const changes = [];
  m.addEventListener('change', (e) => changes.push(e.detail));
  assert.deepEqual(m.allows('video'), { allowed: false, reason: 'NoGrant' }, 'no grant field when no grant came close');
  const rec = await m.grant({ purposes: ['TREAT'], categories: ['audio', 'video'], period: { start: Date.now() - 1000 } });
  assert.equal(rec.seq, 0);
  assert.deepEqual(rec.grant.categories, ['video', 'audio'], 'sets are stored in canonical order');
  assert.equal(rec.grant.recipient.id, 'dr-1', 'the recipient option is the default');
  assert.equal(rec.grant.notice.version, '3');
  assert.equal(rec.grant.notice.sha256.length, 64);
  assert.deepEqual(rec.grant.collection, { method: 'patient-action' });
  assert.deepEqual(rec.status, { state: 'active' });
  assert.equal(changes.length, 1);
  assert.equal(changes[0].origin, 'local');
  assert.equal(changes[0].entry.event.type, 'grant');

  assert.equal(m.check({ category: 'video' }).allowed, true);
  assert.equal(m.check({ category: 'video' }).grant, 0);
  assert.equal(m.allows('audio').allowed, true);
  assert.equal(m.check({ category: 'recording' }).reason, 'NoGrant');
  assert.equal(m.check({ category: 'video', recipient: other }).reason, 'OtherRecipient');
  assert.equal(m.allows('video', other).reason, 'OtherRecipient');
  assert.equal(m.check({ category: 'video', purpose: 'HRESCH' }).reason, 'PurposeNotCovered');
  assert.equal(m.check({ category: 'video', noticeVersion: '4' }).reason, 'NoticeChanged');
  assert.equal(m.check({ category: 'video', now: 1000 }).reason, 'ClockBehindLedger');
  assert.equal(m.list().length, 1);
  assert.equal(m.list()[0].seq, 0);
});

test('withdraw takes effect at once and is on the record; FHIR and receipts follow', async () => {
  const m = await open();
  await m.grant({ purposes: ['TREAT'], categories: ['video', 'heart-rate'] });
  assert.equal(m.toFhir()[0].status, 'active');
  const seq = await m.withdraw(0);
  assert.equal(seq, 1);
  assert.equal(m.allows('video').reason, 'Withdrawn');
  assert.equal(m.check({ category: 'heart-rate' }).reason, 'Withdrawn');
  assert.equal(m.list()[0].status.state, 'withdrawn');

  const [fhir] = m.toFhir();
  assert.equal(fhir.resourceType, 'Consent');
  assert.equal(fhir.status, 'inactive');
  assert.equal(fhir.patient.reference, 'Patient/pat-1');
  assert.equal(fhir.policy[0].uri, notice.uri);
  assert.equal(fhir.provision.type, 'permit');
  assert.equal(fhir.provision.actor[0].reference.reference, 'Practitioner/dr-1');
  assert.ok(fhir.provision.code.some((c) => c.coding.some((k) => k.code === '8867-4')), 'heart rate carries its LOINC code');
  assert.equal(fhir.identifier[0].value, `${m.ledgerId}/0`);

  const r = m.receipt(0, ctx);
  assert.equal(r.state, 'withdrawn');
  assert.equal(r.piiPrincipalId, 'pat-1');
  assert.deepEqual(r.events.map((e) => e.type), ['given', 'withdrawn']);
  assert.equal(r.proof.publicKey, m.publicKey);
  assert.equal(r.controllers[0].name, 'Clinic');
  assert.ok(r.piiCategories.every((c) => c.sensitive));
  const e = await failure(() => m.receipt(7, ctx));
  assert.equal(e.code, 'Consent');
  assert.equal(e.consentCode, 'UnknownGrant');
  const twice = await failure(() => m.withdraw(0));
  assert.equal(twice.consentCode, 'GrantNotActive');
  const bad = await failure(() => m.withdraw(-1));
  assert.equal(bad.code, 'InvalidArgument');
});

test('listener options reach the event target: once, signal, and removal', async () => {
  const m = await open();
  const grant = () => m.grant({ purposes: ['TREAT'], categories: ['video'] });
  const seen = { once: 0, signal: 0, removed: 0 };
  m.addEventListener('change', () => seen.once++, { once: true });
  const stop = new AbortController();
  m.addEventListener('change', () => seen.signal++, { signal: stop.signal });
  const removed = () => seen.removed++;
  m.addEventListener('change', removed, true);
  m.removeEventListener('change', removed, { capture: true });
  await grant();
  stop.abort();
  await grant();
  assert.deepEqual(seen, { once: 1, signal: 1, removed: 0 });
});

test('invalid grants are refused with a typed error and leave the ledger unchanged', async () => {
  const m = await open();
  for (const g of [
    { categories: ['video'] },                                   // no purposes
    { purposes: ['TREAT'], categories: ['hologram'] },           // unknown category
    { purposes: ['CURE'], categories: ['video'] },               // unknown purpose
    { purposes: ['TREAT'], categories: ['video'], recipient: { kind: 'Robot', id: 'x' } },
    { purposes: ['TREAT'], categories: ['video'], notice: { uri: 'u', version: '1', language: 'en', text: 42 } },
  ]) {
    const e = await failure(() => m.grant(g));
    assert.equal(e.code, 'InvalidArgument', JSON.stringify(g));
  }
  const empty = await failure(() => m.grant({ purposes: [], categories: ['video'] }));
  assert.equal(empty.consentCode, 'InvalidEvent');
  const past = await failure(() => m.grant({ purposes: ['TREAT'], categories: ['video'], period: { start: 1, end: 2 } }));
  assert.equal(past.consentCode, 'GrantExpired');
  // Same notice URI and version with another text: the record would be ambiguous.
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  const edited = await failure(() => m.grant({ purposes: ['TREAT'], categories: ['audio'], notice: { ...notice, text: 'Other words.' } }));
  assert.equal(edited.consentCode, 'NoticeHashMismatch');
  assert.equal(m.size, 1, 'only the valid grant was recorded');
  assert.equal(m.verify().entries, m.size);
});

test('concurrent changes are recorded in call order', async () => {
  const m = await open();
  const [a, b] = await Promise.all([
    m.grant({ purposes: ['TREAT'], categories: ['video'] }),
    m.grant({ purposes: ['TREAT'], categories: ['audio'] }),
  ]);
  const w = await Promise.all([m.withdraw(a.seq), m.withdraw(b.seq)]);
  assert.deepEqual([a.seq, b.seq, ...w], [0, 1, 2, 3]);
  assert.equal(m.verify().withdrawnGrants, 2);
});

test('a new notice version asks for consent again', async () => {
  const m = await open();
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  await m.updateNotice({ ...notice, version: '4', text: 'New words.' });
  assert.equal(m.allows('video').reason, 'NoticeChanged');
  assert.equal(m.toFhir()[0].status, 'inactive');
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  assert.equal(m.allows('video').allowed, true);
  assert.equal(m.allows('video').grant, 2);
});

test('verifyLedger checks an export offline and names each attack', async () => {
  const m = await open();
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  await m.grant({ purposes: ['TREAT'], categories: ['audio'] });
  await m.withdraw(0);
  const replica = replicaOf({ ledgerId: m.ledgerId, patientPublicKey: m.publicKey });
  let cp;
  for (let seq = 0; seq < m.size; seq++) cp = replica.receive(m.entryBytes(seq));
  await m.acceptCheckpoint(cp.bytes, cp.clinicianPublicKey);
  assert.equal(m.checkpoint.size, 3);

  const bytes = m.export();
  const s = t.verifyLedger(bytes, m.publicKey, m.checkpoint);
  assert.equal(s.entries, 3);
  assert.equal(s.head, m.head);
  assert.equal(s.checkpointSize, 3);
  assert.equal(s.withdrawnGrants, 1);
  const { checkpointSize, ...withoutCheckpoint } = s;
  assert.equal(checkpointSize, 3);
  assert.deepEqual(t.verifyLedger(replica.export(), m.publicKey), withoutCheckpoint, 'optional fields are absent, not null');

  const code = (fn) => { try { fn(); } catch (e) { return [e.code, e.consentCode]; } return 'accepted'; };
  const tampered = bytes.slice();
  tampered[90] ^= 0x01; // a letter of the patient id inside entry 0
  assert.deepEqual(code(() => t.verifyLedger(tampered, m.publicKey)), ['Consent', 'BadSignature']);
  const other = await open();
  assert.deepEqual(code(() => t.verifyLedger(bytes, other.publicKey)), ['Consent', 'WrongSigner']);
  assert.deepEqual(code(() => t.verifyLedger(bytes.slice(0, bytes.length - 1), m.publicKey)), ['Consent', 'Malformed']);
  // Drop the newest entry: the ledger still verifies alone, but not against the checkpoint.
  const shorter = await open();
  await shorter.grant({ purposes: ['TREAT'], categories: ['video'] });
  const cut = replicaOf({ ledgerId: shorter.ledgerId, patientPublicKey: shorter.publicKey });
  const cp1 = cut.receive(shorter.entryBytes(0));
  await shorter.withdraw(0);
  const cp2 = cut.receive(shorter.entryBytes(1));
  const whole = shorter.export();
  assert.equal(t.verifyLedger(whole, shorter.publicKey, cp2).checkpointSize, 2);
  assert.equal(t.verifyLedger(whole, shorter.publicKey, cp1).checkpointSize, 1, 'an older checkpoint still holds');
  const truncated = exportPrefix(whole, 1);
  assert.equal(t.verifyLedger(truncated, shorter.publicKey).entries, 1);
  assert.deepEqual(code(() => t.verifyLedger(truncated, shorter.publicKey, cp2)), ['Consent', 'Truncated']);
  assert.deepEqual(code(() => t.verifyLedger(whole, shorter.publicKey, { ...cp2, clinicianPublicKey: m.publicKey })), ['Consent', 'BadCheckpointSignature']);
  assert.deepEqual(code(() => t.verifyLedger(bytes, m.publicKey, cp2)), ['Consent', 'WrongLedger']);
  assert.deepEqual(code(() => t.verifyLedger(bytes, 'zz')), ['InvalidArgument', undefined]);
});

/** The first `n` entries of an encoded ledger, re-framed (what a store that lost the rest holds). */
function exportPrefix(bytes, n) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 5 + 16 + 4;
  for (let i = 0; i < n; i++) off += 4 + view.getUint32(off);
  const out = bytes.slice(0, off);
  new DataView(out.buffer).setUint32(21, n);
  return out;
}

test('a replica refuses replays, forks and entries before it knows the ledger', async () => {
  const m = await open();
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  const blank = replicaOf();
  assert.equal(blank.ledgerId, undefined);
  assert.equal((await failure(() => blank.receive(m.entryBytes(0)))).code, 'InvalidState');
  assert.equal(blank.check({ category: 'video', recipient: dr, noticeVersion: '3' }).reason, 'NoGrant');

  const r = replicaOf({ ledgerId: m.ledgerId, patientPublicKey: m.publicKey, notice, recipient: dr });
  const changes = [];
  r.addEventListener('change', (e) => changes.push(e.detail));
  const cp = r.receive(m.entryBytes(0));
  assert.equal(cp.size, 1);
  assert.equal(cp.head, m.head);
  assert.equal(cp.clinicianPublicKey, r.publicKey);
  assert.equal(changes.length, 1);
  assert.equal(changes[0].origin, 'remote');
  assert.equal(r.check({ category: 'video' }).allowed, true, 'the clinician side enforces from its replica');
  assert.equal((await failure(() => r.receive(m.entryBytes(0)))).consentCode, 'Replayed');
  const forged = m.entryBytes(0);
  forged[forged.length - 1] ^= 1;
  assert.equal((await failure(() => r.receive(forged))).consentCode, 'Fork');
  await m.withdraw(0);
  await m.withdraw(0).catch(() => {});
  await m.grant({ purposes: ['TREAT'], categories: ['audio'] });
  assert.equal((await failure(() => r.receive(m.entryBytes(2)))).consentCode, 'MissingEntry');
  r.receive(m.entryBytes(1));
  assert.equal(r.check({ category: 'video' }).reason, 'Withdrawn');
  assert.equal(r.verify().entries, 2);
  assert.equal(r.toFhir()[0].status, 'inactive');
  // Resume a replica from its export.
  const resumed = replicaOf({ ledger: r.export(), patientPublicKey: m.publicKey });
  assert.equal(resumed.size, 2);
  assert.equal(resumed.head, r.head);
});

// ----- sync over a consultation ----------------------------------------------------------

/** A stand-in for two joined Consultations: `sendData` on one side dispatches `data` on the
 *  other, asynchronously and in order, like the E2E app-data channel. */
function pair() {
  const make = (id) => {
    const target = new EventTarget();
    let listeners = 0;
    return {
      participantId: id,
      sent: [],
      addEventListener(type, fn) { listeners++; target.addEventListener(type, fn); },
      removeEventListener(type, fn) { listeners--; target.removeEventListener(type, fn); },
      get listeners() { return listeners; },
      emit(type, detail) { target.dispatchEvent(new CustomEvent(type, { detail })); },
      sendData(to, bytes) {
        this.sent.push(bytes[0]);
        const from = this.participantId;
        const copy = Uint8Array.from(bytes);
        queueMicrotask(() => this.peer.emit('data', { participantId: from, data: copy }));
      },
    };
  };
  const patient = make('00000000000000a1');
  const clinician = make('00000000000000c1');
  patient.peer = clinician;
  clinician.peer = patient;
  return { patient, clinician };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

test('attachConsultation syncs both ways: entries out, countersigned checkpoints back', async () => {
  const { patient, clinician } = pair();
  const m = await open();
  await m.grant({ purposes: ['TREAT'], categories: ['video', 'audio'] }); // before the call
  const replica = replicaOf({ notice, recipient: dr });
  const seen = { patient: [], clinician: [], errors: [] };
  m.addEventListener('checkpoint', (e) => seen.patient.push(e.detail));
  m.addEventListener('error', (e) => seen.errors.push(e.detail));
  replica.addEventListener('change', (e) => seen.clinician.push(e.detail));
  replica.addEventListener('error', (e) => seen.errors.push(e.detail));

  replica.attachConsultation(clinician, patient.participantId);
  m.attachConsultation(patient, clinician.participantId);
  await settle();
  assert.equal(replica.ledgerId, m.ledgerId, 'the replica learned the ledger from the announcement');
  assert.equal(replica.patientPublicKey, m.publicKey);
  assert.equal(replica.size, 1, 'the entry recorded before the call was sent');
  assert.equal(seen.patient.at(-1).matchesHead, true);
  assert.equal(seen.patient.at(-1).head, m.head);
  assert.equal(m.checkpoint.size, 1);
  assert.equal(m.checkpoint.clinicianPublicKey, replica.publicKey);

  // JSON device readings share the channel: neither side touches them.
  clinician.emit('data', { participantId: patient.participantId, data: new TextEncoder().encode('{"type":"reading"}') });
  patient.emit('data', { participantId: clinician.participantId, data: new TextEncoder().encode('{"type":"reading"}') });

  await m.withdraw(0);
  await settle();
  assert.equal(seen.clinician.at(-1).entry.event.type, 'withdraw');
  assert.equal(replica.check({ category: 'video' }).reason, 'Withdrawn');
  assert.equal(replica.head, m.head);
  assert.equal(m.checkpoint.size, 2);
  assert.equal(m.verify().checkpointSize, 2);
  assert.deepEqual(seen.errors, []);

  // Hostile bytes from the "patient" are reported, never applied.
  clinician.emit('data', { participantId: patient.participantId, data: Uint8Array.of(0xC0, 1, 2, 3) });
  clinician.emit('data', { participantId: patient.participantId, data: Uint8Array.of(0xC3) });
  assert.deepEqual(seen.errors.map((e) => e.consentCode), ['Malformed', 'Malformed']);
  assert.equal(replica.size, 2);

  m.detachConsultations();
  replica.detachConsultations();
  assert.equal(patient.listeners, 0, 'detaching removes every listener');
  assert.equal(clinician.listeners, 0);
});

test('a patient rejoining sends only what the replica lacks; a foreign ledger is refused', async () => {
  const { patient, clinician } = pair();
  const m = await open();
  const replica = replicaOf();
  replica.attachConsultation(clinician, patient.participantId);
  m.attachConsultation(patient, clinician.participantId);
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  await settle();
  assert.equal(replica.size, 1);
  m.detachConsultations();
  await m.grant({ purposes: ['TREAT'], categories: ['audio'] }); // while away
  await m.withdraw(0);
  patient.sent.length = 0;
  m.attachConsultation(patient, clinician.participantId);
  await settle();
  assert.equal(replica.size, 3);
  assert.equal(replica.head, m.head);
  assert.deepEqual(patient.sent, [0xC2, 0xC0, 0xC0], 'announce, then the two missing entries only');

  const errors = [];
  replica.addEventListener('error', (e) => errors.push(e.detail));
  const intruder = await open();
  intruder.attachConsultation(patient, clinician.participantId);
  await settle();
  assert.equal(errors[0]?.consentCode, 'WrongLedger');
  assert.equal(replica.ledgerId, m.ledgerId);
});

test('attachConsultation refuses what takes no listeners and leaves none behind; unreadable events are ignored', async () => {
  const m = await open();
  for (const bad of [{}, null, 5]) {
    const e = await failure(() => m.attachConsultation(bad, '00000000000000c1'));
    assert.equal(e.code, 'InvalidArgument');
  }
  // A target that refuses its third listener: the two already added are removed again.
  let live = 0;
  const flaky = {
    participantId: '00000000000000a1',
    addEventListener() { if (live === 2) throw new Error('full'); live++; },
    removeEventListener() { live--; },
    sendData() {},
  };
  const e = await failure(() => m.attachConsultation(flaky, '00000000000000c1'));
  assert.equal(e.code, 'InvalidArgument');
  assert.equal(live, 0);

  const { patient, clinician } = pair();
  const replica = replicaOf();
  const errors = [];
  replica.addEventListener('error', (ev) => errors.push(ev.detail));
  replica.attachConsultation(clinician, patient.participantId);
  m.attachConsultation(patient, clinician.participantId);
  await settle();
  const hostile = new Proxy({}, { get() { throw new Error('boom'); } });
  clinician.emit('data', hostile);
  clinician.emit('data', null);
  clinician.emit('data', { participantId: patient.participantId, data: 'not bytes' });
  clinician.emit('statechange', hostile);
  await settle();
  assert.deepEqual(errors, []);
  assert.equal(replica.ledgerId, m.ledgerId, 'the link still works');
  m.detachConsultations();
  replica.detachConsultations();
  assert.equal(patient.listeners + clinician.listeners, 0);
});

test('hex ids and keys are exactly hex digits: a sign or a space is refused', async () => {
  const m = await open();
  const key = m.publicKey;
  assert.equal(replicaOf({ ledgerId: m.ledgerId, patientPublicKey: key.toUpperCase() }).patientPublicKey, key);
  // u8::from_str_radix would take "+f" as 15: every id here must be refused.
  for (const bad of ['+' + key.slice(1), key.slice(0, 62) + '+1', ' ' + key.slice(1), key.slice(0, 63) + 'g', key + '00']) {
    const e = await failure(async () => replicaOf({ ledgerId: m.ledgerId, patientPublicKey: bad }));
    assert.equal(e.code, 'InvalidArgument', bad);
  }
  const id = m.ledgerId;
  for (const bad of ['+' + id.slice(1), id.slice(0, 30) + '+0']) {
    const e = await failure(async () => replicaOf({ ledgerId: bad, patientPublicKey: key }));
    assert.equal(e.code, 'InvalidArgument', bad);
  }
});

// ----- issue 13, points 4 and 5 ------------------------------------------------------------

test('checkpoint from an unknown key is refused: the patient expects the link\'s clinician key', async () => {
  const m = await open();
  await m.grant({ purposes: ['TREAT'], categories: ['video'] });
  // Mallory countersigns with a key of her own: a valid signature, the wrong identity.
  const mallory = new t.ConsentReplica({ clinicianSigningKey: new Uint8Array(32).fill(0x66), ledgerId: m.ledgerId, patientPublicKey: m.publicKey });
  const forged = mallory.receive(m.entryBytes(0));
  let e = await failure(() => m.acceptCheckpoint(forged.bytes, forged.clinicianPublicKey));
  assert.deepEqual([e.code, e.consentCode], ['Consent', 'UnknownClinicianKey']);
  assert.equal(m.checkpoint, undefined);
  const real = replicaOf({ ledgerId: m.ledgerId, patientPublicKey: m.publicKey });
  const cp = real.receive(m.entryBytes(0));
  await m.acceptCheckpoint(cp.bytes, cp.clinicianPublicKey);
  assert.equal(m.checkpoint.clinicianPublicKey, real.publicKey);

  // Without a key from the link, no checkpoint is trusted on first sight, even over the sync.
  const { patient, clinician } = pair();
  const blind = await open({ clinicianPublicKey: undefined });
  const errors = [];
  blind.addEventListener('error', (ev) => errors.push(ev.detail.consentCode));
  const replica = replicaOf();
  replica.attachConsultation(clinician, patient.participantId);
  blind.attachConsultation(patient, clinician.participantId);
  await blind.grant({ purposes: ['TREAT'], categories: ['video'] });
  await settle();
  assert.equal(replica.size, 1, 'entries still flow to the clinician');
  assert.equal(blind.checkpoint, undefined);
  assert.ok(errors.length > 0 && errors.every((c) => c === 'UnknownClinicianKey'), errors.join());
  // The attach option (the one-line wiring from an invite link) sets the expected key.
  blind.detachConsultations();
  blind.attachConsultation(patient, clinician.participantId, { clinicianPublicKey: CLINICIAN_PK });
  await settle();
  assert.equal(blind.checkpoint?.clinicianPublicKey, replica.publicKey);
  blind.detachConsultations();
  replica.detachConsultations();

  for (const bad of [undefined, new Uint8Array(31), 'ab'.repeat(32)]) {
    e = await failure(async () => new t.ConsentReplica({ clinicianSigningKey: bad }));
    assert.equal(e.code, 'InvalidArgument');
    assert.doesNotMatch(e.message, /abab/, 'the message names the field, never its value');
  }
  e = await failure(() => open({ clinicianPublicKey: new Uint8Array(8) }));
  assert.equal(e.code, 'InvalidArgument');
});

test('withdrawal backdated by an hour is refused by the replica, which then enforces nothing', async () => {
  const realNow = Date.now;
  const start = realNow() - 2 * 3_600_000;
  const m = await open();
  const r = replicaOf({ ledgerId: m.ledgerId, patientPublicKey: m.publicKey, notice, recipient: dr });
  const changes = [];
  r.addEventListener('change', (ev) => changes.push(ev.detail));
  try {
    // Two hours ago, both clocks agreed: the grant is on time.
    Date.now = () => start;
    await m.grant({ purposes: ['TREAT'], categories: ['video', 'recording'] });
    const cp = r.receive(m.entryBytes(0));
    assert.equal(cp.time, start, 'the checkpoint carries the replica\'s receive time');
    assert.equal(changes[0].receivedAt, start);
    assert.equal(changes[0].late, false);
    // The withdrawal is signed now, but dated one second after the grant.
    Date.now = () => start + 1_000;
    await m.withdraw(0);
  } finally {
    Date.now = realNow;
  }
  const e = await failure(() => r.receive(m.entryBytes(1)));
  assert.deepEqual([e.code, e.consentCode], ['Consent', 'Untimely']);
  assert.equal(r.size, 1, 'not applied');
  assert.equal(r.check({ category: 'recording' }).allowed, false, 'fail-safe: the replica enforces nothing');
  const timing = r.timing();
  assert.deepEqual(timing.map((x) => [x.seq, x.signedAt, x.receivedAt, x.late]), [[0, start, start, false]]);
  // Exported with its receive times, a replica resumes with them.
  const resumed = replicaOf({ ledger: r.export(), patientPublicKey: m.publicKey, receivedAt: timing.map((x) => x.receivedAt) });
  assert.deepEqual(resumed.timing(), timing);
  assert.equal((await failure(async () => replicaOf({ ledger: r.export(), patientPublicKey: m.publicKey, receivedAt: ['x'] }))).code, 'InvalidArgument');
});

test('recordSasConfirmed refuses anything but a live consultation and a participant id, with InvalidArgument', async () => {
  const m = await open();
  const before = m.size;
  for (const consultation of [null, undefined, Number.NaN, '0', 10n, {}, 42, { participantId: 'aa'.repeat(8) }]) {
    for (const participant of ['bb'.repeat(8), null, 42, {}, 10n]) {
      const e = await failure(() => m.recordSasConfirmed(consultation, participant));
      assert.equal(e.name, 'TeleconsultError');
      assert.equal(e.code, 'InvalidArgument');
    }
  }
  assert.equal(m.size, before, 'nothing was recorded');
});
