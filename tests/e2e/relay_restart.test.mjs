// The relay restarts in the middle of a call: both sides show `reconnecting`, resume with
// fresh keys on the new relay process, media keeps flowing, and nothing is applied twice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, startCall, until, videoKeepsFlowing, freePort, testPages } from './harness.mjs';

const env = { TELECONSULT_RELAY_TOKEN_SECRET: 'e2e-relay-restart-secret-0123456789' };
let browser;
after(async () => { await browser?.close(); });

test('relay restarted mid-call: reconnecting, resumed, media flows, no duplicated effects', async () => {
  const listen = `127.0.0.1:${await freePort()}`;
  let relay = await startRelay({ www: testPages, listen, env });
  browser = await launchBrowser();
  const call = await startCall(browser, relay);
  const { clinician, patient, doc, pat } = call;
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'connected' });
    await clinician.evaluate((id) => window.c.sendData(id, new TextEncoder().encode('before')), pat.id);
    await until(patient, () => window.log.some((e) => e.type === 'data'), null, { what: 'data before restart' });

    await relay.stop();
    await until(patient, () => window.c.state === 'reconnecting', null, { what: 'patient reconnecting' });
    await until(clinician, () => window.c.state === 'reconnecting', null, { what: 'clinician reconnecting' });
    // Media is peer to peer: it keeps flowing while the relay is away.
    await videoKeepsFlowing(patient, doc.id);

    relay = await startRelay({ www: testPages, listen, env });
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient resumed', timeout: 20_000 });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'clinician resumed', timeout: 20_000 });
    await clinician.evaluate((id) => window.c.sendData(id, new TextEncoder().encode('after')), pat.id);
    await until(patient, () => window.log.filter((e) => e.type === 'data').length >= 2, null, { what: 'data after restart' });
    await videoKeepsFlowing(patient, doc.id);
    await videoKeepsFlowing(clinician, pat.id);

    const seen = await patient.evaluate(() => ({
      data: window.log.filter((e) => e.type === 'data').map((e) => new TextDecoder().decode(new Uint8Array(e.data))),
      states: window.log.filter((e) => e.type === 'statechange').map((e) => e.state),
      admitted: window.log.filter((e) => e.type === 'participantjoined').length,
    }));
    assert.deepEqual(seen.data, ['before', 'after'], 'each message delivered exactly once');
    assert.ok(seen.states.includes('reconnecting'));
    assert.equal(seen.states.at(-1), 'connected');
    assert.equal(seen.admitted, 1, 'the clinician is not announced twice');
  } finally {
    await call.close();
    await relay.stop();
  }
});
