// Calls forced through a real TURN server (Debian's coturn, started here on 127.0.0.1 with
// long-term credentials): relay candidates only, media flows; a wrong credential is reported
// as a clear error event instead of a silent timeout.
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

const iceOptions = (credential) => turn.iceOptions(credential);

test('iceTransportPolicy "relay" through coturn: relay candidates only, and media flows', async () => {
  const call = await startCall(browser, relay, { clinicianExtra: iceOptions('secret'), patientExtra: iceOptions('secret') });
  try {
    await until(call.patient, () => window.c.state === 'connected', null, { what: 'connected through TURN' });
    await videoKeepsFlowing(call.patient, call.doc.id);
    const types = await call.patient.evaluate(async (id) => {
      const stats = await window.c.getStats(id);
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      const pair = [...byId.values()].find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
      return { local: byId.get(pair.localCandidateId).candidateType, remote: byId.get(pair.remoteCandidateId).candidateType };
    }, call.doc.id);
    assert.deepEqual(types, { local: 'relay', remote: 'relay' });
  } finally {
    await call.close();
  }
});

test('a wrong TURN credential surfaces as an error event with the server\'s 401', async () => {
  const call = await startCall(browser, relay, { clinicianExtra: iceOptions('secret'), patientExtra: iceOptions('wrong-password') });
  try {
    const err = await until(call.patient, () => window.log.find((e) => e.type === 'error' && e.iceErrorCode), null, { what: 'ICE server error event' });
    assert.equal(err.iceErrorCode, 401);
    assert.equal(err.code, 'NetworkError');
    assert.match(err.url, /^turn:127\.0\.0\.1:/);
  } finally {
    await call.close();
  }
});

test('no network path at all (relay-only, no TURN server): within 15 s both sides are told why and what to try', async () => {
  const relayOnly = { iceTransportPolicy: 'relay' };
  const call = await startCall(browser, relay, { clinicianExtra: relayOnly, patientExtra: relayOnly });
  try {
    const started = Date.now();
    for (const page of [call.patient, call.clinician]) {
      const err = await until(page, () => window.log.find((e) => e.type === 'error' && e.reason), null, { what: 'no-path error', timeout: 25_000 });
      assert.equal(err.code, 'NetworkError');
      assert.equal(err.reason, 'no-turn');
      assert.match(err.message, /no TURN server is configured/);
    }
    assert.ok(Date.now() - started < 20_000, `told in ${Date.now() - started} ms`);
    assert.notEqual(await call.patient.evaluate(() => window.c.state), 'ended', 'the visit goes on: a path may still come');
  } finally {
    await call.close();
  }
});

test('a TURN server that cannot be reached: the no-path error says the network or the TURN server is the problem', async () => {
  const unreachable = turn.iceOptions('secret', 9); // nothing listens on the discard port here
  const call = await startCall(browser, relay, { clinicianExtra: unreachable, patientExtra: unreachable });
  try {
    const err = await until(call.patient, () => window.log.find((e) => e.type === 'error' && e.reason), null, { what: 'no-path error', timeout: 25_000 });
    assert.equal(err.reason, 'blocked');
    assert.match(err.message, /even through the TURN server/);
  } finally {
    await call.close();
  }
});
