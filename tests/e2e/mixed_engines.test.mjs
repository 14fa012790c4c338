// Mixed-engine calls: a clinician in Chromium and a patient in Firefox, and the reverse.
// Video flows both ways, both sides show the same SAS, the patient's consent lets the
// clinician record, and a device reading pushed through the DeviceBridge (the path for a
// browser without Web Bluetooth) reaches the clinician. Runs in the e2e-firefox level only
// (it starts both engines itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchChromium, launchFirefox, startCall, until, videoKeepsFlowing, testPages, engine, withDevices } from './harness.mjs';

const skip = engine !== 'firefox' && 'starts both engines itself: runs in the e2e-firefox level';
let relay;
const browsers = {};
before(async () => {
  if (skip) return;
  relay = await startRelay({ www: testPages });
  browsers.chromium = await launchChromium();
  browsers.firefox = await launchFirefox();
});
after(async () => {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  await relay?.stop();
});

const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video with your clinician and may record the call.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };

async function mixedCall(clinicianEngine, patientEngine) {
  const call = await startCall(browsers[clinicianEngine], relay, { patientBrowser: browsers[patientEngine] });
  const { clinician, patient, doc, pat, invite } = call;
  try {
    for (const [ua, page] of [[clinicianEngine, clinician], [patientEngine, patient]]) {
      const agent = await page.evaluate(() => navigator.userAgent);
      assert.match(agent, ua === 'firefox' ? /Firefox\// : /Chrome\//, `${ua} page runs in ${ua}`);
    }
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'clinician connected' });
    const sasP = await until(patient, () => window.log.find((e) => e.type === 'sas')?.sas, null, { what: 'patient SAS' });
    const sasC = await until(clinician, () => window.log.find((e) => e.type === 'sas')?.sas, null, { what: 'clinician SAS' });
    assert.deepEqual(sasP, sasC, 'both engines show the same SAS');
    await videoKeepsFlowing(patient, doc.id);
    await videoKeepsFlowing(clinician, pat.id);

    // Consent: the patient grants video, audio and recording; the clinician's replica sees it.
    await until(patient, () => window.c.participants().some((p) => p.role === 'clinician' && p.secured), null, { what: 'secured' });
    // Each side's consent keys come from its own link.
    await patient.evaluate(async (notice, dr, link) => {
      window.m = await window.t.ConsentManager.open({ patient: 'pat-mixed', recipient: dr, notice, storage: 'memory', link });
      await window.m.grant({ purposes: ['TREAT'], categories: ['video', 'audio', 'recording', 'blood-pressure'] });
    }, notice, dr, invite.patientLink);
    await clinician.evaluate((patientId, notice, dr, link) => {
      window.r = new window.t.ConsentReplica({ notice, recipient: dr, link });
      window.r.attachConsultation(window.c, patientId);
    }, pat.id, notice, dr, invite.clinicianLink);
    await patient.evaluate((clinicianId) => window.m.attachConsultation(window.c, clinicianId), doc.id);
    await until(clinician, () => window.r.check({ category: 'recording' }).allowed, null, { what: 'recording grant replicated' });
    const rec = await clinician.evaluate(async () => {
      window.rec = await window.c.startRecording({ timeslice: 200 });
      window.chunks = [];
      window.rec.addEventListener('dataavailable', (e) => window.chunks.push(e.detail.size));
      return { state: window.rec.state, mimeType: window.rec.mimeType };
    });
    assert.equal(rec.state, 'recording');
    assert.match(rec.mimeType, /^video\//);
    await until(clinician, () => window.chunks.length >= 2, null, { what: 'recorded chunks' });
    const size = await clinician.evaluate(async () => (await window.rec.stop()).size);
    assert.ok(size > 0, 'the recording has bytes');

    // A blood-pressure reading pushed by a host app through the DeviceBridge is shared (the
    // devices module loaded now, on demand, on both sides).
    await withDevices(clinician);
    await withDevices(patient);
    await clinician.evaluate(() => {
      window.received = [];
      window.receiver = new window.t.ReadingReceiver(window.c, { fhir: { subject: 'Patient/p1' } });
      window.receiver.addEventListener('reading', (e) => window.received.push(JSON.parse(JSON.stringify(e.detail))));
    });
    await patient.evaluate((doctorId) => {
      window.bridge = new window.t.DeviceBridge({ fhir: { subject: 'Patient/p1' } });
      window.share = window.t.shareReadings(window.c, doctorId, window.bridge, { allow: () => true });
      window.bridge.push({ deviceId: 'CC:DD', service: '1810', characteristic: '2a35', value: new Uint8Array([0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00]).buffer });
    }, doc.id);
    const got = await until(clinician, () => window.received.length >= 1 && window.received, null, { what: 'bridged reading on the clinician page', timeout: 20_000 });
    assert.equal(got[0].reading.measurement.value.systolic, 121);
    assert.equal(got[0].participantId, pat.id);
    assert.equal(got[0].observations[0].code.coding[0].code, '85354-9');
  } finally {
    await patient.evaluate(() => { window.share?.close(); window.bridge?.close(); }).catch(() => {});
    await call.close();
  }
}

test('clinician in Chromium, patient in Firefox: video both ways, one SAS, recording consent, a bridged reading', { skip }, () => mixedCall('chromium', 'firefox'));
test('clinician in Firefox, patient in Chromium: video both ways, one SAS, recording consent, a bridged reading', { skip }, () => mixedCall('firefox', 'chromium'));
