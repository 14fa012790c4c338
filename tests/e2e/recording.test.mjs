// Recording needs every participant's consent: without the patient's recording grant the
// clinician's startRecording is refused; with it the call is recorded (non-empty chunks, a
// video Blob) and the patient's page shows it; a withdrawal on the patient's page stops it
// on both pages within a second; a guest without a grant blocks it, and stops a running
// recording by entering the call; hanging up stops it too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRelay, launchBrowser, startCall, sdkPage, joinIn, until, testPages, root, CLINICIAN_SEED, CLINICIAN_PK } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video with your clinician and may record the call.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };

/** Records every `recording` event of `window.c` in `window.recLog`. */
function watchRecording(page) {
  return page.evaluate(() => {
    window.recLog = [];
    window.c.addEventListener('recording', (e) => window.recLog.push({ at: Date.now(), ...e.detail }));
  });
}


/**
 * A clinician and an admitted patient, both sending camera and microphone; the patient's
 * ConsentManager (`window.m`) grants video and audio (grant 0) and is attached, the
 * clinician's ConsentReplica (`window.r`) is attached for the patient.
 */
async function callWithConsent() {
  const call = await startCall(browser, relay);
  const { clinician, patient, doc, pat } = call;
  await until(patient, () => window.c.participants().some((p) => p.role === 'clinician' && p.secured), null, { what: 'secured' });
  await patient.evaluate(async (notice, dr, pk) => {
    window.m = await window.t.ConsentManager.open({ patient: 'pat-rec', recipient: dr, notice, storage: 'memory', clinicianPublicKey: new Uint8Array(pk) });
    await window.m.grant({ purposes: ['TREAT'], categories: ['video', 'audio'] });
  }, notice, dr, CLINICIAN_PK);
  await clinician.evaluate((patientId, notice, dr, seed) => {
    window.r = new window.t.ConsentReplica({ notice, recipient: dr, clinicianSigningKey: new Uint8Array(seed) });
    window.r.attachConsultation(window.c, patientId);
  }, pat.id, notice, dr, CLINICIAN_SEED);
  await patient.evaluate((clinicianId) => window.m.attachConsultation(window.c, clinicianId), doc.id);
  await until(clinician, () => window.r.list().length === 1, null, { what: 'the video grant replicated' });
  await until(clinician, (id) => window.c.remoteStream(id)?.getVideoTracks().length === 1, pat.id, { what: 'patient video track' });
  await watchRecording(clinician);
  await watchRecording(patient);
  return call;
}

/** Starts recording on the clinician page as `window.rec`; chunks and stop events logged. */
function startRecording(page) {
  return page.evaluate(async () => {
    try {
      window.rec = await window.c.startRecording({ timeslice: 200 });
    } catch (e) {
      return { code: e.code, reason: e.reason, participantId: e.participantId, message: e.message };
    }
    window.chunks = [];
    window.stops = [];
    window.rec.addEventListener('dataavailable', (e) => window.chunks.push(e.detail.size));
    window.rec.addEventListener('stop', (e) => window.stops.push({ at: Date.now(), ...e.detail, blob: undefined, blobSize: e.detail.blob.size }));
    return { state: window.rec.state, mimeType: window.rec.mimeType };
  });
}

test('recording needs the patient\'s grant, runs with it, and stops on both pages within a second of a withdrawal', async (t) => {
  const call = await callWithConsent();
  const { clinician, patient, doc, pat } = call;
  try {
    // 1. No recording grant: refused, naming the patient by participant id only.
    const refused = await startRecording(clinician);
    assert.equal(refused.code, 'ConsentDenied');
    assert.equal(refused.reason, 'NoGrant');
    assert.equal(refused.participantId, pat.id);
    assert.match(refused.message, new RegExp(pat.id));
    assert.doesNotMatch(refused.message, /Sam Patient|pat-rec/);
    assert.deepEqual(await clinician.evaluate(() => window.c.recording), { active: false });

    // A patient may not record at all.
    const byPatient = await patient.evaluate(async () => {
      try { await window.c.startRecording(); return 'started'; } catch (e) { return e.code; }
    });
    assert.equal(byPatient, 'InvalidState');

    // 2. The patient grants recording (grant 1): the clinician records.
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['recording'] }));
    await until(clinician, () => window.r.check({ category: 'recording' }).allowed, null, { what: 'recording grant replicated' });
    const started = await startRecording(clinician);
    assert.equal(started.state, 'recording', JSON.stringify(started));
    assert.match(started.mimeType, /^video\//);
    assert.deepEqual(await clinician.evaluate(() => window.c.recording), { active: true, startedBy: doc.id });
    await until(clinician, () => window.chunks.length >= 2, null, { what: 'recorded chunks' });
    assert.ok(await clinician.evaluate(() => window.chunks.every((n) => n > 0)));

    // 3. The patient's page sees the recording, and who records.
    await until(patient, () => window.c.recording.active, null, { what: 'recording indicator on the patient page' });
    assert.deepEqual(await patient.evaluate(() => window.c.recording), { active: true, startedBy: doc.id });
    assert.deepEqual(await patient.evaluate(() => window.recLog.map(({ active, startedBy }) => ({ active, startedBy }))), [{ active: true, startedBy: doc.id }]);

    // 4. Withdrawal on the patient's page: the recorder stops within a second, both pages say why.
    const t0 = await patient.evaluate(async () => { const t0 = Date.now(); await window.m.withdraw(1); return t0; });
    const stop = await until(clinician, () => window.stops[0], null, { what: 'recording stopped', timeout: 5_000 });
    assert.equal(stop.reason, 'consent-withdrawn');
    assert.equal(stop.participantId, pat.id);
    assert.equal(stop.consentReason, 'Withdrawn');
    const seen = await until(patient, () => window.recLog.find((e) => !e.active), null, { what: 'recording stopped on the patient page', timeout: 5_000 });
    assert.equal(seen.reason, 'consent-withdrawn');
    assert.equal(seen.startedBy, doc.id);
    const ownEvent = await clinician.evaluate(() => window.recLog.find((e) => !e.active));
    assert.equal(ownEvent.reason, 'consent-withdrawn');
    for (const [what, at] of [['clinician recorder', stop.at], ['clinician indicator', ownEvent.at], ['patient indicator', seen.at]]) {
      assert.ok(at - t0 < 1000, `${what} took ${at - t0} ms`);
      t.diagnostic(`withdrawal → ${what} stopped: ${at - t0} ms`);
    }
    assert.deepEqual(await patient.evaluate(() => window.c.recording), { active: false });
    assert.deepEqual(await clinician.evaluate(() => window.c.recording), { active: false });

    // What was recorded before the withdrawal is one non-empty video Blob.
    const blob = await clinician.evaluate(async () => {
      const b = await window.rec.stop();
      return { size: b.size, type: b.type, state: window.rec.state, reason: window.rec.stopReason, counted: window.rec.size };
    });
    assert.ok(blob.size > 0, `blob of ${blob.size} bytes`);
    assert.match(blob.type, /^video\//);
    assert.equal(blob.state, 'stopped');
    assert.equal(blob.reason, 'consent-withdrawn');
    assert.equal(stop.blobSize, blob.size);
    // In Firefox too, where the last chunk may come after the recorder's stop event.
    assert.equal(blob.counted, blob.size, 'recording.size is final: the size of the Blob');

    // And it cannot start again until consent is given again.
    const again = await startRecording(clinician);
    assert.deepEqual([again.code, again.reason, again.participantId], ['ConsentDenied', 'Withdrawn', pat.id]);
    // The camera was never affected: video consent is separate.
    assert.equal(await patient.evaluate(() => window.c.localStream.getVideoTracks()[0].readyState), 'live');
  } finally {
    await call.close();
  }
});

test('a recording the app lets go of while it stops still gives its Blob and its stop event', async () => {
  const call = await callWithConsent();
  const { clinician, patient } = call;
  try {
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['recording'] }));
    await until(clinician, () => window.r.check({ category: 'recording' }).allowed, null, { what: 'recording grant replicated' });
    const started = await startRecording(clinician);
    assert.equal(started.state, 'recording', JSON.stringify(started));
    await until(clinician, () => window.chunks.length >= 1, null, { what: 'a first chunk' });
    // Stopping clears the consultation's slot, and the app frees its handle at once: only
    // the recording's own keep-alive is left until the recorder's last chunk and stop event.
    await clinician.evaluate(() => {
      window.rec.stop().then((b) => { window.freedBlob = b.size; });
      window.rec.free();
      window.rec = null;
    });
    const size = await until(clinician, () => window.freedBlob, null, { what: 'the Blob of a freed recording', timeout: 5_000 });
    assert.ok(size > 0, `blob of ${size} bytes`);
    const stop = await until(clinician, () => window.stops[0], null, { what: 'the stop event of a freed recording', timeout: 5_000 });
    assert.equal(stop.blobSize, size);
    assert.deepEqual(await clinician.evaluate(() => window.c.recording), { active: false });
  } finally {
    await call.close();
  }
});

test('a guest without a grant stops a running recording by entering the call, and blocks a new one; hang-up stops it', async () => {
  const call = await callWithConsent();
  const { clinician, patient, doc, invite } = call;
  const guest = await sdkPage(browser, relay);
  try {
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['recording'] }));
    await until(clinician, () => window.r.check({ category: 'recording' }).allowed, null, { what: 'recording grant replicated' });
    assert.equal((await startRecording(clinician)).state, 'recording');
    await until(clinician, () => window.chunks.length >= 1, null, { what: 'recorded chunks' });

    // An interpreter joins and is admitted, without any consent record: recording stops.
    const g = await joinIn(guest, {
      link: invite.guestLink, relayUrl: relay.wsUrl, role: 'guest', displayName: 'Interpreter',
      token: await relay.token(invite.roomId, 'guest'),
    }, { media: false });
    const stop = await until(clinician, () => window.stops[0], null, { what: 'recording stopped by the newcomer' });
    assert.equal(stop.reason, 'participant-joined');
    assert.equal(stop.participantId, g.id);
    assert.ok(stop.blobSize > 0);
    const seen = await until(patient, () => window.recLog.find((e) => !e.active), null, { what: 'patient indicator off' });
    assert.equal(seen.reason, 'participant-joined');

    // With the guest in the call and no grant of theirs, recording is refused, naming them.
    const refused = await startRecording(clinician);
    assert.deepEqual([refused.code, refused.reason, refused.participantId], ['ConsentDenied', 'NoGrant', g.id]);
    assert.match(refused.message, /guest/);
    assert.doesNotMatch(refused.message, /Interpreter/);

    // Once the guest left, the patient's grant suffices again; hanging up stops the recorder.
    await guest.evaluate(() => window.c.hangUp());
    await until(clinician, (id) => !window.c.participants().some((p) => p.id === id && p.inCall), g.id, { what: 'guest out of the call' });
    const restarted = await startRecording(clinician);
    assert.equal(restarted.state, 'recording', JSON.stringify(restarted));
    await until(patient, () => window.c.recording.active, null, { what: 'patient indicator on again' });
    await until(clinician, () => window.chunks.length >= 1, null, { what: 'chunks again' });
    await clinician.evaluate(() => window.c.hangUp());
    const end = await until(clinician, () => window.stops[0], null, { what: 'stopped by hang-up' });
    assert.equal(end.reason, 'hung-up');
    assert.deepEqual(await clinician.evaluate(() => [window.rec.state, window.c.recording.active]), ['stopped', false]);
    const blob = await clinician.evaluate(async () => (await window.rec.stop()).size);
    assert.ok(blob > 0);
    const off = await until(patient, () => window.recLog.findLast((e) => !e.active && e.reason === 'hung-up'), null, { what: 'patient indicator off after hang-up' });
    assert.equal(off.startedBy, doc.id);
    assert.deepEqual(await patient.evaluate(() => window.c.recording), { active: false });
  } finally {
    await guest.evaluate(() => window.c?.hangUp()).catch(() => {});
    await guest.close().catch(() => {});
    await call.close();
  }
});

test('a last chunk delivered after the recorder\'s stop event (as Firefox may) is in the Blob and in recording.size', async () => {
  // The recorder snippet (what startRecording runs) with a MediaRecorder that delivers the
  // chunk gathered at stop() 20 ms after its stop event, Firefox's order when a timeslice's
  // chunk is still on its way.
  const page = await sdkPage(browser, relay);
  const dir = readdirSync(join(root, 'pkg/web/snippets'))[0];
  try {
    const out = await page.evaluate(async (snippet) => {
      const { startRecorder, stopRecorder, finishRecorder } = await import(snippet);
      const delivered = [];
      let late = 0;
      window.MediaRecorder = class extends MediaRecorder {
        set ondataavailable(f) {
          super.ondataavailable = f && ((e) => {
            if (this.state !== 'inactive') return delivered.push(e.data.size), f(e);
            setTimeout(() => { late += e.data.size; delivered.push(e.data.size); f(e); }, 20);
          });
        }
        get ondataavailable() { return super.ondataavailable; }
      };
      const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      const events = new EventTarget();
      const sizes = [];
      events.addEventListener('dataavailable', (e) => sizes.push(e.detail.size));
      let h;
      const ended = new Promise((resolve) => { h = startRecorder([stream], '', 200, undefined, undefined, events, resolve); });
      while (sizes.length < 2) await new Promise((r) => setTimeout(r, 50));
      stopRecorder(h);
      const failed = await ended;
      // The consultation builds the Blob as soon as the snippet says the recorder ended.
      const blob = finishRecorder(h);
      // Anything still arriving would land now.
      await new Promise((r) => setTimeout(r, 200));
      stream.getTracks().forEach((t) => t.stop());
      return { failed, late, delivered: delivered.reduce((a, b) => a + b, 0), announced: sizes.reduce((a, b) => a + b, 0), bytes: h.bytes, blob: blob.size };
    }, `/pkg/web/snippets/${dir}/src/web/snippets/recording.js`);
    assert.equal(out.failed, false);
    assert.ok(out.late > 0, 'a non-empty chunk came after the stop event');
    assert.deepEqual([out.blob, out.bytes, out.announced], [out.delivered, out.delivered, out.delivered],
      'the Blob, recording.size and the dataavailable events all hold every chunk, the late one too');
  } finally {
    await page.close();
  }
});
