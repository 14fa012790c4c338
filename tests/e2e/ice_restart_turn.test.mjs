// The media path breaks without touching the network interface: the call runs relay-only
// through coturn, and coturn dies (its allocations with it). ICE fails, the SDK restarts ICE
// with fresh credentials, and once a TURN server is back the call recovers. Unlike
// ice_restart.test.mjs (which takes lo down) this runs in Firefox too, whose WebDriver BiDi
// control socket lives on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, startCall, until, videoKeepsFlowing, testPages } from './harness.mjs';
import { startTurn } from './turn_server.mjs';

let relay, browser, turn;

before(async () => {
  turn = await startTurn();
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
  await turn?.close();
});

/**
 * The ICE username fragments of every peer connection the page made. Firefox throws
 * InvalidStateError reading `localDescription` of a closed connection (Chromium returns it).
 */
const ufrags = () => window.__created.pcs.map((pc) => {
  try { return pc.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1]; } catch { return 'closed'; }
});

test('the TURN server dies mid-call: ICE restarts and the call recovers through a new one', async () => {
  const ice = turn.iceOptions();
  const call = await startCall(browser, relay, { clinicianExtra: ice, patientExtra: ice });
  const { clinician, patient, doc, pat } = call;
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected through TURN' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'connected through TURN' });
    await videoKeepsFlowing(patient, doc.id);
    const before = { patient: await patient.evaluate(ufrags), clinician: await clinician.evaluate(ufrags) };

    await turn.stop();
    const broken = (pcs) => pcs.some((pc) => { try { return ['disconnected', 'failed'].includes(pc.iceConnectionState); } catch { return false; } });
    await until(patient, `(${broken})(window.__created.pcs)`, null, { what: 'ICE disconnected', timeout: 40_000 });
    await turn.start();

    const restarted = (old) => window.__created.pcs.some((pc, i) => {
      try { return pc.localDescription && pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)?.[1] !== old[i]; } catch { return false; }
    });
    await Promise.any([
      until(clinician, restarted, before.clinician, { what: 'clinician ICE restart', timeout: 60_000 }),
      until(patient, restarted, before.patient, { what: 'patient ICE restart', timeout: 60_000 }),
    ]);
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient recovered', timeout: 30_000 });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'clinician recovered', timeout: 30_000 });
    await videoKeepsFlowing(patient, doc.id);
    await videoKeepsFlowing(clinician, pat.id);
    const after = { patient: await patient.evaluate(ufrags), clinician: await clinician.evaluate(ufrags) };
    assert.notDeepEqual(after, before, 'ICE credentials changed: the restart completed');
  } finally {
    await call.close();
  }
});
