// Video consultations between two real Chromium pages through the real relay, with fake
// camera and microphone, inside a loopback-only network namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchChromium, sdkPage, joinIn, until, framesDecoded, testPages } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

/** A clinician page with a fresh invite, and tokens for that room. */
async function newVisit() {
  const clinician = await sdkPage(browser, relay);
  const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
  return { clinician, invite };
}

async function joinBoth({ autoAdmit = true } = {}) {
  const { clinician, invite } = await newVisit();
  const doc = await joinIn(clinician, {
    link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
    token: await relay.token(invite.roomId, 'clinician'),
  }, { autoAdmit });
  const patient = await sdkPage(browser, relay);
  const pat = await joinIn(patient, {
    link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
    token: await relay.token(invite.roomId, 'patient'),
  });
  return { clinician, patient, invite, doc, pat };
}

test('waiting room, admit, connected: both see the same SAS and each other\'s video', async () => {
  const { clinician, patient, doc, pat } = await joinBoth({ autoAdmit: false });
  try {
    assert.equal(pat.state, 'waiting', 'a patient starts in the waiting room');
    const request = await until(clinician, () => window.log.find((e) => e.type === 'admissionrequested'), null, { what: 'admission request' });
    assert.equal(request.participant.id, pat.id);
    assert.equal(request.participant.role, 'patient');
    assert.equal(request.participant.name, 'Sam Patient');
    await clinician.evaluate((id) => window.c.admit(id), pat.id);
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'clinician connected' });
    const sasP = await until(patient, () => window.log.find((e) => e.type === 'sas')?.sas, null, { what: 'patient SAS' });
    const sasC = await until(clinician, () => window.log.find((e) => e.type === 'sas')?.sas, null, { what: 'clinician SAS' });
    assert.match(sasP.digits, /^\d{6}$/);
    assert.deepEqual(sasP, sasC, 'both sides show the same SAS');
    // Video flows both ways: frames decoded keep increasing.
    for (const [page, from] of [[patient, doc.id], [clinician, pat.id]]) {
      const first = await framesDecoded(page, from);
      await until(page, async ([id, n]) => {
        const r = await window.c.getStats(id);
        let f = 0; r.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') f += s.framesDecoded ?? 0; });
        return f > n + 10;
      }, [from, first], { what: 'frames decoded increasing' });
    }
    // Audio arrives too.
    const audio = await patient.evaluate((id) => window.c.remoteStream(id).getAudioTracks().length, doc.id);
    assert.equal(audio, 1);
    // Confirming the SAS on both sides is seen by the other.
    await patient.evaluate((id) => window.c.confirmSas(id), doc.id);
    await until(clinician, () => window.log.some((e) => e.type === 'sasconfirmed'), null, { what: 'sasconfirmed' });
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await patient.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});
