// The network path breaks mid-call (the namespace's only interface goes down, as when a
// phone drops Wi-Fi): ICE fails, the SDK restarts ICE with fresh candidates, the relay
// connection resumes, and the call recovers once the network is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startRelay, launchBrowser, startCall, until, videoKeepsFlowing, testPages, engine } from './harness.mjs';

let relay, browser;
before(async () => {
  if (engine !== 'chromium') return;
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  if (engine === 'chromium') execFileSync('ip', ['link', 'set', 'lo', 'up']);
  await browser?.close();
  await relay?.stop();
});

/** The ICE username fragments of every peer connection the page made. */
const ufrags = () => window.__created.pcs.map((pc) => pc.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1]);

test('ICE restarts after the network path breaks, and the call recovers', { skip: engine !== 'chromium' && 'takes lo down, which cuts the WebDriver BiDi socket (see ice_restart_turn.test.mjs)' }, async () => {
  const call = await startCall(browser, relay);
  const { clinician, patient, doc, pat } = call;
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'connected' });
    const before = { patient: await patient.evaluate(ufrags), clinician: await clinician.evaluate(ufrags) };

    execFileSync('ip', ['link', 'set', 'lo', 'down']);
    try {
      // Each side sees the media path go and the relay connection drop...
      await until(patient, () => window.__created.pcs.some((pc) => ['disconnected', 'failed'].includes(pc.iceConnectionState)), null, { what: 'ICE disconnected', timeout: 20_000 });
      await until(patient, () => window.c.state === 'reconnecting', null, { what: 'reconnecting', timeout: 60_000 });
      // ...and one side starts an ICE restart (new local credentials) while still offline.
      await until(clinician, (old) => window.__created.pcs.some((pc, i) => pc.localDescription && pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)?.[1] !== old[i]), before.clinician, { what: 'clinician ICE restart', timeout: 20_000 })
        .catch(() => until(patient, (old) => window.__created.pcs.some((pc, i) => pc.localDescription && pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)?.[1] !== old[i]), before.patient, { what: 'patient ICE restart', timeout: 5_000 }));
    } finally {
      execFileSync('ip', ['link', 'set', 'lo', 'up']);
    }

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
