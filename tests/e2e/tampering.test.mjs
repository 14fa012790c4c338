// A man in the middle between a page and the relay: it flips bytes, replays and reorders
// the sealed frames the relay delivers. Each attack is rejected and reported as a security
// event, and the call survives. And what the relay carries never contains SDP or ICE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, startCall, startProxy, until, videoKeepsFlowing, testPages } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

const DELIVER = 0x82;

/** Sends `n` app-data messages from the clinician to the patient. */
async function send(clinician, to, n, tag) {
  await clinician.evaluate((id, n, tag) => {
    for (let i = 0; i < n; i++) window.c.sendData(id, new TextEncoder().encode(`${tag}-${i}`));
  }, to, n, tag);
}

async function received(patient) {
  return patient.evaluate(() => window.log.filter((e) => e.type === 'data').map((e) => new TextDecoder().decode(new Uint8Array(e.data))));
}

test('flipped, replayed and reordered frames are rejected, reported, and the call survives', async () => {
  const proxy = await startProxy(relay.wsUrl);
  const call = await startCall(browser, relay, { patientRelayUrl: proxy.wsUrl });
  const { clinician, patient, doc, pat } = call;
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected' });

    // 1. Flip one bit inside the sealed part of the next delivered frame.
    let flipped = false;
    proxy.tamper((m) => {
      if (!flipped && m[0] === DELIVER && m.length > 80) {
        flipped = true;
        const bad = Buffer.from(m);
        bad[m.length - 20] ^= 0x01;
        return [bad];
      }
      return [m];
    });
    await send(clinician, pat.id, 1, 'flip');
    await until(patient, () => window.log.some((e) => e.type === 'security' && e.kind === 'authentication-failed'), null, { what: 'authentication-failed event' });
    // The sender retransmits what was never acknowledged, so the message still arrives once.
    await until(patient, () => window.log.some((e) => e.type === 'data'), null, { what: 'retransmitted message' });

    // 2. Replay every delivered frame a second time.
    proxy.tamper((m) => (m[0] === DELIVER ? [m, m] : [m]));
    await send(clinician, pat.id, 3, 'replay');
    await until(patient, () => window.log.some((e) => e.type === 'security' && e.kind === 'replay'), null, { what: 'replay event' });

    // 3. Reorder: hold each delivered frame back until the next one has passed.
    let held = null;
    proxy.tamper((m) => {
      if (m[0] !== DELIVER) return [m];
      if (held === null) { held = m; return []; }
      const out = [m, held];
      held = null;
      return out;
    });
    await send(clinician, pat.id, 4, 'reorder');
    await until(patient, () => window.log.filter((e) => e.type === 'data').length >= 8, null, { what: 'all messages' });
    proxy.tamper(null);

    const data = await received(patient);
    assert.deepEqual(data, ['flip-0', 'replay-0', 'replay-1', 'replay-2', 'reorder-0', 'reorder-1', 'reorder-2', 'reorder-3'],
      'every message exactly once, in order, despite tampering, replay and reordering');
    assert.equal(await patient.evaluate(() => window.c.state), 'connected');
    await videoKeepsFlowing(patient, doc.id);
  } finally {
    await call.close();
    await proxy.stop();
  }
});

test('everything the relay carried during a full call is opaque: no SDP, ICE, addresses or names', async () => {
  const proxy = await startProxy(relay.wsUrl);
  const call = await startCall(browser, relay, { clinicianRelayUrl: proxy.wsUrl, patientRelayUrl: proxy.wsUrl });
  const { clinician, patient, doc, pat } = call;
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'connected' });
    await videoKeepsFlowing(clinician, pat.id);
    await patient.evaluate((id) => window.c.confirmSas(id), doc.id);
    await until(clinician, () => window.log.some((e) => e.type === 'sasconfirmed'), null, { what: 'sasconfirmed' });
    await call.close();

    assert.ok(proxy.recorded.length > 10, `recorded ${proxy.recorded.length} messages`);
    assert.ok(proxy.recorded.every((m) => m.isBinary), 'only binary frames');
    const all = Buffer.concat(proxy.recorded.map((m) => m.data)).toString('latin1');
    for (const marker of ['a=fingerprint', 'candidate:', 'v=0', 'ice-ufrag', 'ice-pwd', 'm=video', '127.0.0.1', 'Dr Rivera', 'Sam Patient', 'sha-256']) {
      assert.ok(!all.includes(marker), `relay traffic contains ${JSON.stringify(marker)}`);
    }
  } finally {
    await call.close();
    await proxy.stop();
  }
});
