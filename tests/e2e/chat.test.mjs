// Chat over the sealed session in the browser: a clinician and a patient exchange messages in
// order with delivered and read receipts and typing state; a replayed frame is refused with a
// typed error and loses nothing; the messages export as FHIR Communications. A guest admitted
// later gets the earlier messages only with the patient's chat-history grant: once without
// (nothing arrives, the clinician is told why), once with (every message, in order).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, startCall, sdkPage, joinIn, until, testPages, CLINICIAN_SEED, CLINICIAN_PK } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video and, if you agree, the chat with interpreters.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };

/** Logs every chat event of `window.c` in `window.chat`, and the chat frames it receives as
 *  app data (none should reach the app's `data` event). */
function watchChat(page) {
  return page.evaluate(() => {
    window.chat = [];
    for (const type of ['chatmessage', 'chatreceipt', 'chattyping', 'chathistory']) {
      window.c.addEventListener(type, (e) => window.chat.push({ type, ...e.detail }));
    }
    window.errors = [];
    window.c.addEventListener('error', (e) => window.errors.push(e.detail));
    window.chatData = 0;
    window.c.addEventListener('data', (e) => { if (e.detail.data[0] === 0xc6) window.chatData++; });
  });
}

/** A clinician and a patient in the call (no media), chat watched on both. */
async function chatCall() {
  const call = await startCall(browser, relay, { media: false });
  const { clinician, patient } = call;
  await until(patient, () => window.c.participants().some((p) => p.role === 'clinician' && p.secured && p.inCall), null, { what: 'secured' });
  await until(clinician, () => window.c.participants().some((p) => p.role === 'patient' && p.secured && p.inCall), null, { what: 'patient in call' });
  await watchChat(clinician);
  await watchChat(patient);
  return call;
}

const texts = (page) => page.evaluate(() => window.c.chat.messages().map((m) => m.text));

test('a clinician and a patient exchange messages in order, with delivered and read receipts', async () => {
  const call = await chatCall();
  const { clinician, patient, doc, pat } = call;
  try {
    await patient.evaluate(() => window.c.chat.setTyping(true));
    await until(clinician, (id) => window.chat.some((e) => e.type === 'chattyping' && e.participantId === id && e.active), pat.id, { what: 'typing' });
    const sent = await patient.evaluate(() => ['My audio dropped', 'Can you read me?', 'Rash since Monday'].map((t) => window.c.chat.send(t)));
    assert.deepEqual(sent.map((m) => [m.seq, m.own, m.role]), [[1, true, 'patient'], [2, true, 'patient'], [3, true, 'patient']]);
    await until(clinician, () => window.chat.filter((e) => e.type === 'chatmessage').length === 3, null, { what: 'three messages' });
    const got = await clinician.evaluate(() => window.chat.filter((e) => e.type === 'chatmessage'));
    assert.deepEqual(got.map((e) => [e.message.text, e.message.seq, e.message.own, e.history]), [
      ['My audio dropped', 1, false, false], ['Can you read me?', 2, false, false], ['Rash since Monday', 3, false, false],
    ]);
    assert.equal(got[0].message.author, pat.id);

    // Delivered receipts come back for each, in order; a read mark covers the earlier ones.
    await until(patient, () => window.c.chat.progress(window.c.participants().find((p) => p.role === 'clinician').id).delivered === 3, null, { what: 'delivered receipts' });
    await clinician.evaluate((id) => window.c.chat.markRead(id, 2), pat.id);
    const read = await until(patient, () => window.chat.find((e) => e.type === 'chatreceipt' && e.state === 'read'), null, { what: 'read receipt' });
    assert.deepEqual([read.participantId, read.upto], [doc.id, 2]);
    assert.deepEqual(await patient.evaluate((id) => window.c.chat.progress(id), doc.id), { delivered: 3, read: 2 });
    const delivered = await patient.evaluate(() => window.chat.filter((e) => e.type === 'chatreceipt' && e.state === 'delivered').map((e) => e.upto));
    assert.deepEqual(delivered, [1, 2, 3]);

    // The clinician answers; both sides hold the same conversation in the same order.
    await clinician.evaluate(() => window.c.chat.send('Please show me the rash'));
    await until(patient, () => window.c.chat.messages().length === 4, null, { what: 'reply' });
    assert.deepEqual(await texts(patient), await texts(clinician));

    // Oversized and empty texts are refused with typed errors, nothing sent.
    const refused = await patient.evaluate(() => ['x'.repeat(4001), ''].map((t) => { try { window.c.chat.send(t); return 'sent'; } catch (e) { return e.code; } }));
    assert.deepEqual(refused, ['LimitExceeded', 'InvalidArgument']);

    // A replayed frame (the patient's app sends a copy of its first message as raw app data)
    // is refused with a typed error on the clinician's side; nothing held is lost or doubled.
    await patient.evaluate((id) => {
      const enc = new TextEncoder().encode('My audio dropped');
      const frame = new Uint8Array(3 + 8 + 8 + 2 + enc.length);
      frame.set([0xc6, 1, 1]);
      new DataView(frame.buffer).setBigUint64(3, 1n);
      new DataView(frame.buffer).setBigUint64(11, BigInt(Date.now()));
      new DataView(frame.buffer).setUint16(19, enc.length);
      frame.set(enc, 21);
      window.c.sendData(id, frame);
    }, doc.id);
    const err = await until(clinician, () => window.errors.find((e) => /chat/.test(e.message)), null, { what: 'replay refused' });
    assert.equal(err.code, 'Replayed');
    assert.equal(err.participantId, pat.id);
    assert.deepEqual(await texts(clinician), ['My audio dropped', 'Can you read me?', 'Rash since Monday', 'Please show me the rash']);
    assert.equal(await clinician.evaluate(() => window.chatData), 0, 'chat frames never reach the app\'s data event');

    // The conversation exports as FHIR R4 Communications.
    const fhir = await clinician.evaluate((id) => window.c.chat.toFhir({ subject: 'Patient/pat-1', senders: { [id]: 'Practitioner/dr-1' } }), doc.id);
    assert.equal(fhir.length, 4);
    assert.ok(fhir.every((r) => r.resourceType === 'Communication' && r.status === 'completed' && r.payload[0].contentString));
    assert.deepEqual(fhir[3].sender, { reference: 'Practitioner/dr-1' });
    assert.equal(fhir[0].sender.identifier.value, pat.id);
  } finally {
    await call.close();
  }
});

/** Joins a guest (admitted by the clinician page) and waits until it is in the call. */
async function guestJoins(invite) {
  const guest = await sdkPage(browser, relay);
  const g = await joinIn(guest, {
    link: invite.guestLink, relayUrl: relay.wsUrl, role: 'guest', displayName: 'Interpreter',
    token: await relay.token(invite.roomId, 'guest'),
  }, { media: false });
  await until(guest, () => window.c.state !== 'waiting' && window.c.participants().some((p) => p.role === 'clinician' && p.inCall), null, { what: 'guest admitted' });
  return { guest, g };
}

test('a guest admitted later gets the earlier messages only with the patient\'s chat-history grant', async () => {
  const call = await chatCall();
  const { clinician, patient, doc, pat, invite } = call;
  const guests = [];
  try {
    // The patient's consent record, replicated to the clinician: video only at first.
    await patient.evaluate(async (notice, dr, pk) => {
      window.m = await window.t.ConsentManager.open({ patient: 'pat-chat', recipient: dr, notice, storage: 'memory', clinicianPublicKey: new Uint8Array(pk) });
      await window.m.grant({ purposes: ['TREAT'], categories: ['video'] });
    }, notice, dr, CLINICIAN_PK);
    await clinician.evaluate((patientId, notice, dr, seed) => {
      window.r = new window.t.ConsentReplica({ notice, recipient: dr, clinicianSigningKey: new Uint8Array(seed) });
      window.r.attachConsultation(window.c, patientId);
    }, pat.id, notice, dr, CLINICIAN_SEED);
    await patient.evaluate((clinicianId) => window.m.attachConsultation(window.c, clinicianId), doc.id);
    await until(clinician, () => window.r.list().length === 1, null, { what: 'grant replicated' });

    await patient.evaluate(() => window.c.chat.send('I take metformin'));
    await until(clinician, () => window.c.chat.messages().length === 1, null, { what: 'first message' });
    await clinician.evaluate(() => window.c.chat.send('Since when?'));
    await until(patient, () => window.c.chat.messages().length === 2, null, { what: 'reply' });

    // 1. Without the grant: the first interpreter gets nothing earlier; the clinician is told why.
    const first = await guestJoins(invite);
    guests.push(first.guest);
    await watchChat(first.guest);
    const refused = await until(clinician, (id) => window.chat.find((e) => e.type === 'chathistory' && e.participantId === id), first.g.id, { what: 'history decision' });
    assert.deepEqual([refused.shared, refused.count, refused.reason], [false, 0, 'NoGrant']);
    // What is said from now on reaches the interpreter; the earlier messages never do.
    await clinician.evaluate(() => window.c.chat.send('Welcome, interpreter'));
    await until(first.guest, () => window.c.chat.messages().length === 1, null, { what: 'live message to the first guest' });
    assert.deepEqual(await texts(first.guest), ['Welcome, interpreter']);

    // 2. The patient grants chat history: the next interpreter gets every earlier message, in order.
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['chat-history'] }));
    await until(clinician, () => window.r.check({ category: 'chat-history' }).allowed, null, { what: 'chat-history grant replicated' });
    const second = await guestJoins(invite);
    guests.push(second.guest);
    const shared = await until(clinician, (id) => window.chat.find((e) => e.type === 'chathistory' && e.participantId === id), second.g.id, { what: 'history shared' });
    assert.deepEqual([shared.shared, shared.count], [true, 3]);
    await until(second.guest, () => window.c.chat.messages().length === 3, null, { what: 'history arrived' });
    const history = await second.guest.evaluate(() => window.c.chat.messages().map((m) => [m.text, m.role, m.own]));
    assert.deepEqual(history, [['I take metformin', 'patient', false], ['Since when?', 'clinician', false], ['Welcome, interpreter', 'clinician', false]]);
    assert.deepEqual(await texts(first.guest), ['Welcome, interpreter'], 'the first interpreter still has no earlier messages');
  } finally {
    for (const g of guests) {
      await g.evaluate(() => window.c?.hangUp()).catch(() => {});
      await g.close().catch(() => {});
    }
    await call.close();
  }
});
