// Photos and documents over the sealed session in the browser: a photo sent by the patient is
// received by the clinician with the same SHA-256, with progress on the patient's side, and
// exports in the visit's Bundle as a FHIR Media with its Binary. Without the patient's `files`
// consent nothing is sent (the patient's side refuses) or accepted (the clinician's side
// refuses an offer its replica does not cover). Types off the allow-list are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startRelay, launchBrowser, startCall, startProxy, directChannelOpen, until, testPages, CLINICIAN_SEED, CLINICIAN_PK } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video and, if you agree, the photos you send.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };

/** Logs every file event of `window.c` in `window.fileEvents` (without the bytes) and the
 *  received bytes' SHA-256 in `window.receivedSha`. */
function watchFiles(page) {
  return page.evaluate(() => {
    window.fileEvents = [];
    window.receivedSha = [];
    for (const type of ['fileoffered', 'fileprogress', 'filereceived', 'filedelivered', 'filecancelled']) {
      window.c.addEventListener(type, (e) => {
        const { data, ...rest } = e.detail;
        window.fileEvents.push({ ...rest, event: type });
        if (data) {
          crypto.subtle.digest('SHA-256', data).then((d) => window.receivedSha.push([...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('')));
        }
      });
    }
    window.errors = [];
    window.c.addEventListener('error', (e) => window.errors.push(e.detail));
  });
}

async function filesCall(options = {}) {
  const call = await startCall(browser, relay, { media: false, ...options });
  const { clinician, patient } = call;
  await until(patient, () => window.c.participants().some((p) => p.role === 'clinician' && p.secured && p.inCall), null, { what: 'secured' });
  await until(clinician, () => window.c.participants().some((p) => p.role === 'patient' && p.secured && p.inCall), null, { what: 'patient in call' });
  await watchFiles(clinician);
  await watchFiles(patient);
  return call;
}

/** The patient's consent record with `categories`, replicated to the clinician. */
async function consent(call, categories) {
  const { clinician, patient, doc, pat } = call;
  await patient.evaluate(async (notice, dr, pk, categories) => {
    window.m = await window.t.ConsentManager.open({ patient: 'pat-files', recipient: dr, notice, storage: 'memory', clinicianPublicKey: new Uint8Array(pk) });
    await window.m.grant({ purposes: ['TREAT'], categories });
  }, notice, dr, CLINICIAN_PK, categories);
  await clinician.evaluate((patientId, notice, dr, seed) => {
    window.r = new window.t.ConsentReplica({ notice, recipient: dr, clinicianSigningKey: new Uint8Array(seed) });
    window.r.attachConsultation(window.c, patientId);
  }, pat.id, notice, dr, CLINICIAN_SEED);
  await patient.evaluate((clinicianId) => window.m.attachConsultation(window.c, clinicianId), doc.id);
  await until(clinician, () => window.r.list().length === 1, null, { what: 'grant replicated' });
}

/** Makes `window.photo`: a JPEG-looking File of `size` random bytes, and its SHA-256 (hex). */
function makePhoto(page, size) {
  return page.evaluate(async (size) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    window.photo = new File([bytes], 'rash.jpg', { type: 'image/jpeg' });
    const d = await crypto.subtle.digest('SHA-256', bytes);
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, size);
}

test('a photo sent by the patient is received by the clinician with the same hash, and exported in the Bundle', async () => {
  const call = await filesCall();
  const { clinician, patient, doc, pat } = call;
  try {
    await consent(call, ['video', 'files']);
    await until(clinician, () => window.r.check({ category: 'files' }).allowed, null, { what: 'files grant replicated' });
    const size = 3 * 1024 * 1024 + 123;
    const sha = await makePhoto(patient, size);

    // The chunks' AES-GCM is done by the browser's WebCrypto on both sides (bulk crypto
    // offload, src/signaling/session/offload.rs): count its calls.
    for (const page of [patient, clinician]) {
      await page.evaluate(() => {
        const subtle = crypto.subtle;
        window.aesCalls = { encrypt: 0, decrypt: 0 };
        for (const op of ['encrypt', 'decrypt']) {
          const real = subtle[op].bind(subtle);
          subtle[op] = (params, ...rest) => { if (params?.name === 'AES-GCM') window.aesCalls[op] += 1; return real(params, ...rest); };
        }
      });
    }
    const sent = await patient.evaluate(async () => {
      const t = window.c.files.send(window.photo);
      window.progress = [];
      t.addEventListener('progress', (e) => window.progress.push(e.detail.bytes));
      const file = await t.done;
      return { file, to: t.participantId, bytes: t.bytes, progress: window.progress };
    });
    assert.equal(sent.to, doc.id, 'to the clinician by default');
    assert.deepEqual([sent.file.name, sent.file.type, sent.file.size, sent.file.sha256, sent.file.own], ['rash.jpg', 'image/jpeg', size, sha, true]);
    assert.ok(sent.progress.length > 3 && sent.progress.every((b, i) => i === 0 || b > sent.progress[i - 1]), 'progress grows');
    assert.equal(sent.bytes, size);

    // The clinician received it whole: the bytes hash to what the patient sent.
    await until(clinician, () => window.receivedSha.length === 1, null, { what: 'file received' });
    assert.deepEqual(await clinician.evaluate(() => window.receivedSha), [sha]);
    const chunks = Math.ceil(size / 16384);
    const [sealed, opened] = [await patient.evaluate(() => window.aesCalls.encrypt), await clinician.evaluate(() => window.aesCalls.decrypt)];
    assert.ok(sealed >= chunks - 1 && opened >= chunks - 1, `WebCrypto sealed ${sealed} and opened ${opened} of ${chunks} chunks`);
    const events = await clinician.evaluate(() => window.fileEvents.map((e) => e.event));
    assert.equal(events[0], 'fileoffered');
    assert.equal(events.at(-1), 'filereceived');
    const held = await clinician.evaluate(() => window.c.files.list());
    assert.deepEqual(held.map((f) => [f.author, f.role, f.sha256, f.own]), [[pat.id, 'patient', sha, false]]);
    const blobSha = await clinician.evaluate(async (f) => {
      const b = window.c.files.blob(f);
      const d = await crypto.subtle.digest('SHA-256', await b.arrayBuffer());
      return [b.type, [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join('')];
    }, held[0]);
    assert.deepEqual(blobSha, ['image/jpeg', sha]);

    // Exported in the visit's Bundle: a Media pointing at its Binary, whose bytes hash the same.
    const bundle = await clinician.evaluate((id) => {
      const resources = window.c.files.toFhir({ subject: 'Patient/pat-1', encounter: 'Encounter/visit-1', senders: { [id]: 'Practitioner/dr-1' } });
      return { resourceType: 'Bundle', type: 'collection', entry: resources.map((r) => ({ fullUrl: `${r.resourceType}/${r.id}`, resource: r })) };
    }, doc.id);
    const [media, binary] = bundle.entry.map((e) => e.resource);
    assert.equal(media.resourceType, 'Media');
    assert.equal(media.status, 'completed');
    assert.equal(media.content.url, `Binary/${binary.id}`);
    assert.deepEqual([media.content.contentType, media.content.size, media.content.title], ['image/jpeg', size, 'rash.jpg']);
    assert.equal(media.identifier.find((i) => i.system === 'urn:teleconsult:file-sha256').value, sha);
    assert.deepEqual(media.operator.identifier.value, pat.id);
    assert.equal(binary.resourceType, 'Binary');
    assert.equal(createHash('sha256').update(Buffer.from(binary.data, 'base64')).digest('hex'), sha);

    // Cancelled midway by the patient: `done` rejects, the clinician keeps nothing of it.
    const cancelled = await patient.evaluate(async () => {
      const t = window.c.files.send(window.photo, { name: 'second.jpg' });
      await new Promise((resolve) => t.addEventListener('progress', resolve, { once: true }));
      t.cancel();
      try { await t.done; return 'delivered'; } catch (e) { return e.reason; }
    });
    assert.equal(cancelled, 'cancelled');
    await until(clinician, () => window.fileEvents.some((e) => e.event === 'filecancelled' && e.reason === 'cancelled'), null, { what: 'the clinician is told' });
    assert.equal(await clinician.evaluate(() => window.c.files.list().length), 1, 'no partial file');

    // Types off the allow-list are refused before a byte is read; content not of its declared
    // type never leaves as a file.
    const refused = await patient.evaluate(async () => {
      const out = [];
      for (const f of [new Blob(['<script>alert(1)</script>'], { type: 'text/html' }), new Blob(['<svg/>'], { type: 'image/svg+xml' })]) {
        try { window.c.files.send(f); out.push('sent'); } catch (e) { out.push([e.code, e.reason]); }
      }
      try { await window.c.files.send(new Blob(['MZ not a png'], { type: 'image/png' })).done; out.push('sent'); } catch (e) { out.push([e.code, e.reason]); }
      return out;
    });
    assert.deepEqual(refused, [['InvalidArgument', 'typeNotAllowed'], ['InvalidArgument', 'typeNotAllowed'], ['InvalidArgument', 'typeNotAllowed']]);
    assert.equal(await clinician.evaluate(() => window.c.files.list().length), 1, 'nothing more arrived');
  } finally {
    await call.close();
  }
});

test('refused without consent: nothing is sent, and an offer the clinician\'s replica does not cover is refused', async () => {
  const call = await filesCall();
  const { clinician, patient, doc } = call;
  try {
    await makePhoto(patient, 200_000);
    // No consent machinery at all: default deny, before a byte is read.
    const bare = await patient.evaluate(() => { try { window.c.files.send(window.photo); return 'sent'; } catch (e) { return [e.code, e.reason]; } });
    assert.deepEqual(bare, ['ConsentDenied', 'NoGrant']);

    // The patient grants video only: still refused on the patient's side.
    await consent(call, ['video']);
    const videoOnly = await patient.evaluate(() => { try { window.c.files.send(window.photo); return 'sent'; } catch (e) { return [e.code, e.reason]; } });
    assert.deepEqual(videoOnly, ['ConsentDenied', 'NoGrant']);

    // A modified patient app sends an offer anyway (raw app data): the clinician refuses it
    // with a typed error and tells the sender.
    await patient.evaluate((id) => {
      const frame = new Uint8Array(3 + 8 + 1 + 4 + 32 + 8 + 1 + 5);
      const v = new DataView(frame.buffer);
      frame.set([0xc7, 1, 1]);
      v.setBigUint64(3, 42n);
      frame[11] = 1;
      v.setUint32(12, 1000);
      v.setBigUint64(48, BigInt(Date.now()));
      frame[56] = 5;
      frame.set(new TextEncoder().encode('a.jpg'), 57);
      window.c.sendData(id, frame);
    }, doc.id);
    const err = await until(clinician, () => window.errors.find((e) => /file/.test(e.message)), null, { what: 'offer refused' });
    assert.deepEqual([err.code, err.reason, err.transferId], ['ConsentDenied', 'NoGrant', '000000000000002a']);
    assert.equal(await clinician.evaluate(() => window.fileEvents.filter((e) => e.event === 'fileoffered').length), 0);
    assert.equal(await clinician.evaluate(() => window.c.files.list().length), 0);
  } finally {
    await call.close();
  }
});

test('between connected participants a file takes the direct path: same hash, and the relay sees almost none of its bytes', async () => {
  // The patient's relay traffic goes through a recording proxy.
  const proxy = await startProxy(relay.wsUrl);
  const call = await filesCall({ patientRelayUrl: proxy.wsUrl });
  const { clinician, patient, doc } = call;
  try {
    await consent(call, ['video', 'files']);
    await until(clinician, () => window.r.check({ category: 'files' }).allowed, null, { what: 'files grant replicated' });
    // The peer connection is up, and its data channel open.
    await directChannelOpen(patient, doc.id);
    const size = 3 * 1024 * 1024;
    const sha = await makePhoto(patient, size);
    const from = proxy.recorded.length;
    const sent = await patient.evaluate(async () => (await window.c.files.send(window.photo).done).sha256);
    assert.equal(sent, sha);
    await until(clinician, () => window.receivedSha.length === 1, null, { what: 'file received' });
    assert.deepEqual(await clinician.evaluate(() => window.receivedSha), [sha]);
    // Up and down, everything the patient's relay connection carried during the transfer
    // (keep-alives, chat-sized frames) is a small fraction of the file.
    const relayed = proxy.recorded.slice(from).reduce((n, m) => n + m.data.length, 0);
    assert.ok(relayed < size / 50, `the relay carried ${relayed} bytes of a ${size}-byte transfer`);
    assert.deepEqual(await patient.evaluate(() => window.errors.map((e) => e.code)), []);
  } finally {
    await call.close();
    await proxy.stop();
  }
});
