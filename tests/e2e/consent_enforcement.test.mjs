// Consent enforced in the call: without a grant the camera does not open; after the grant
// video flows; a withdrawal mid-call stops the camera on the patient's page and the video
// on the clinician's page within a second, and the clinician's record shows it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, startCall, sdkPage, until, videoKeepsFlowing, testPages, CLINICIAN_SEED, CLINICIAN_PK } from './harness.mjs';

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


/**
 * A clinician and an admitted patient (no media yet), with the patient's ConsentManager
 * (`window.m`, no grants) and the clinician's ConsentReplica (`window.r`, its changes in
 * `window.consentLog`) attached to the call.
 */
async function callWithConsent() {
  const call = await startCall(browser, relay, { media: false });
  const { clinician, patient, doc, pat } = call;
  await until(patient, () => window.c.participants().some((p) => p.role === 'clinician' && p.secured), null, { what: 'secured' });
  await patient.evaluate(async (notice, dr, pk) => {
    window.m = await window.t.ConsentManager.open({ patient: 'pat-enforce', recipient: dr, notice, storage: 'memory', clinicianPublicKey: new Uint8Array(pk) });
  }, notice, dr, CLINICIAN_PK);
  await clinician.evaluate((patientId, notice, dr, seed) => {
    window.r = new window.t.ConsentReplica({ notice, recipient: dr, clinicianSigningKey: new Uint8Array(seed) });
    window.consentLog = [];
    window.r.addEventListener('change', (e) => window.consentLog.push({ at: Date.now(), ...e.detail }));
    window.r.attachConsultation(window.c, patientId);
  }, pat.id, notice, dr, CLINICIAN_SEED);
  await patient.evaluate((clinicianId) => window.m.attachConsultation(window.c, clinicianId), doc.id);
  return call;
}

test('no grant, no camera; grant, video flows; withdrawal stops it on both pages within a second', async () => {
  const call = await callWithConsent();
  const { clinician, patient, pat } = call;
  try {
    // 1. No grant: startMedia is refused before any camera or microphone opens.
    const refused = await patient.evaluate(async () => {
      try { await window.c.startMedia({ audio: true, video: true }); return 'started'; }
      catch (e) { return { code: e.code, tracks: window.__created.tracks.length }; }
    });
    assert.deepEqual(refused, { code: 'ConsentDenied', tracks: 0 });

    // 2. After the grant, video flows to the clinician.
    await patient.evaluate(async () => {
      await window.m.grant({ purposes: ['TREAT'], categories: ['video', 'audio'] });
      await window.c.startMedia({ audio: true, video: true });
    });
    await until(clinician, (id) => window.c.remoteStream(id)?.getVideoTracks().length === 1, pat.id, { what: 'patient video track' });
    await videoKeepsFlowing(clinician, pat.id);

    // 3. Withdrawal mid-call: the patient's camera stops, the clinician's copy of the record
    // shows it, and the video stops arriving — each within a second.
    const t0 = await patient.evaluate(async () => { const t0 = Date.now(); await window.m.withdraw(0); return t0; });
    const stopped = await until(patient, () => {
      const local = window.__created.tracks;
      return local.length > 0 && local.every((t) => t.readyState === 'ended') && Date.now();
    }, null, { what: 'patient camera stopped', timeout: 5_000 });
    const seen = await until(clinician, () => window.consentLog.find((e) => e.entry?.event?.type === 'withdraw'), null, { what: 'withdrawal on the clinician side', timeout: 5_000 });
    const muted = await until(clinician, (id) => {
      const t = window.c.remoteStream(id)?.getVideoTracks()[0];
      return (!t || t.muted || t.readyState === 'ended') && Date.now();
    }, pat.id, { what: 'clinician video stopped', timeout: 5_000 });
    for (const [what, at] of [['patient camera', stopped], ['clinician record', seen.at], ['clinician video', muted]]) {
      assert.ok(at - t0 < 1000, `${what} took ${at - t0} ms`);
    }
    const events = await patient.evaluate(() => window.log.filter((e) => e.type === 'localmediastopped').map((e) => e.kind).sort());
    assert.deepEqual(events, ['audio', 'video']);
    // And the camera cannot be reopened until consent is given again.
    const again = await patient.evaluate(async () => {
      try { await window.c.startMedia({ video: true }); return 'started'; } catch (e) { return e.code; }
    });
    assert.equal(again, 'ConsentDenied');
  } finally {
    await call.close();
  }
});

test('a new notice version stops the camera until the patient consents again', async () => {
  const call = await callWithConsent();
  const { patient } = call;
  try {
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['video'] }));
    await patient.evaluate(() => window.c.startMedia({ video: true }));
    assert.equal(await patient.evaluate(() => window.c.localStream.getVideoTracks().length), 1);

    // The clinic publishes notice version 4: video stops at once, and needs a new grant.
    await patient.evaluate((notice) => window.m.updateNotice({ ...notice, version: '4', text: `${notice.text} (revised)` }), notice);
    const stopped = await until(patient, () => window.log.find((e) => e.type === 'localmediastopped'), null, { what: 'video stopped' });
    assert.equal(stopped.kind, 'video');
    assert.equal(stopped.reason, 'NoticeChanged');
    const refused = await patient.evaluate(async () => {
      try { await window.c.startMedia({ video: true }); return 'started'; } catch (e) { return [e.code, e.reason]; }
    });
    assert.deepEqual(refused, ['ConsentDenied', 'NoticeChanged']);
    await patient.evaluate(async () => {
      await window.m.grant({ purposes: ['TREAT'], categories: ['video'] });
      await window.c.startMedia({ video: true });
    });
    assert.equal(await patient.evaluate(() => window.c.localStream.getVideoTracks()[0].readyState), 'live');
  } finally {
    await call.close();
  }
});

test('two consultations on one page with the same participant id are each gated by their own managers only', async () => {
  // A page may hold two consultations whose local participant ids are equal (an app that
  // rejoins with `participantId`, or two rooms). Consent is attached to a consultation
  // object, never looked up by id: a manager attached to one gates that one alone.
  const page = await sdkPage(browser, relay);
  const clinician = await sdkPage(browser, relay);
  try {
    const rooms = await page.evaluate(() => [0, 1].map(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`)));
    // A clinician opens both rooms (the relay admits no one into a room before that).
    const clinicianTokens = await Promise.all(rooms.map((r) => relay.token(r.roomId, 'clinician')));
    await clinician.evaluate(async (rooms, tokens, relayUrl) => {
      window.cs = await Promise.all(rooms.map((r, i) => window.t.Consultation.join({ link: r.clinicianLink, relayUrl, role: 'clinician', displayName: 'Dr Rivera', token: tokens[i] })));
    }, rooms, clinicianTokens, relay.wsUrl);
    const tokens = await Promise.all(rooms.map((r) => relay.token(r.roomId, 'patient')));
    const out = await page.evaluate(async (rooms, tokens, relayUrl, notice, dr, pk) => {
      const participantId = '0123456789abcdef';
      const join = (i) => window.t.Consultation.join({ link: rooms[i].patientLink, relayUrl, role: 'patient', displayName: 'Sam Patient', token: tokens[i], participantId });
      const refusal = async (c) => {
        try { await c.startMedia({ audio: false, video: true }); return 'started'; } catch (e) { return e.code; }
      };
      const first = await join(0);
      const m = await window.t.ConsentManager.open({ patient: 'pat-two', recipient: dr, notice, storage: 'memory', clinicianPublicKey: new Uint8Array(pk) });
      m.attachConsultation(first, '00000000000000c1');
      const second = await join(1);
      const result = {
        ids: [first.participantId, second.participantId],
        gated: await refusal(first),
        free: await refusal(second),
      };
      second.localStream?.getTracks().forEach((t) => t.stop());
      first.hangUp();
      second.hangUp();
      return result;
    }, rooms, tokens, relay.wsUrl, notice, dr, CLINICIAN_PK);
    assert.deepEqual(out.ids, ['0123456789abcdef', '0123456789abcdef']);
    assert.equal(out.gated, 'ConsentDenied', 'the manager gates the consultation it is attached to');
    assert.equal(out.free, 'started', 'and not another one with the same participant id');
  } finally {
    await clinician.evaluate(() => window.cs?.forEach((c) => c.hangUp())).catch(() => {});
    await clinician.close().catch(() => {});
    await page.close().catch(() => {});
  }
});
