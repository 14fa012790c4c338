// Two relay nodes share rooms through a real nats-server. A clinician and a patient join with
// `relayUrl: [nodeA, nodeB]` (both land on A), media flows, then node A is killed with SIGKILL
// mid-call: both pages resume on node B within a bounded time without a new admission, media
// keeps flowing, and every application message (sent before, during and after the failover)
// arrives exactly once. Also: a join tries each URL of the list once, in order, and the list
// is validated like a single URL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launchChromium, startCall, sdkPage, until, videoKeepsFlowing, freePort, testPages, root, engine } from './harness.mjs';

/** Failover is the SDK's and the relay's, not the engine's: it runs in the Chromium level. */
const chromiumLevel = engine === 'chromium' ? false : 'runs in the Chromium level (failover does not depend on the engine)';

const SECRET = 'e2e-relay-failover-secret-0123456789';
/** Kill of node A → both pages `connected` again through node B, at most. */
const RECOVERY_BOUND_MS = 10_000;

const children = [];
let browser;
after(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function natsBinary() {
  return ['/usr/bin/nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server'].find(existsSync);
}

async function startNats(bin) {
  const port = await freePort();
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  children.push(child);
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('nats-server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return `nats://127.0.0.1:${port}`;
}

/** A relay node in NATS mode (like the harness's `startRelay`, but the process is ours to kill). */
async function startNode(nats) {
  const bin = process.env.TELECONSULT_RELAY_BIN
    ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug/teleconsult-relay');
  if (!existsSync(bin)) throw new Error(`relay binary missing at ${bin}: run cargo build -p teleconsult-relay`);
  const child = spawn(bin, ['--listen', '127.0.0.1:0', '--dev', '--www', testPages, '--pkg', join(root, 'pkg'),
    '--nats', nats, '--exit-on-stdin-close'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TELECONSULT_RELAY_LOG: process.env.TELECONSULT_RELAY_LOG ?? 'warn', TELECONSULT_RELAY_TOKEN_SECRET: SECRET },
  });
  children.push(child);
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not report its address within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`relay exited early (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolveUrl(m[1]); }
    });
  });
  return {
    child,
    url,
    wsUrl: url.replace('http://', 'ws://') + '/ws',
    async token(room, role) {
      const res = await fetch(`${url}/dev/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room, role, ttl: '15m' }),
      });
      if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
      return (await res.json()).token;
    },
    async gauge(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
      return m ? Number(m[1]) : NaN;
    },
  };
}

const texts = (page) => page.evaluate(() => window.log.filter((e) => e.type === 'data')
  .map((e) => new TextDecoder().decode(new Uint8Array(e.data))));

test('relay node killed mid-call: both sides fail over to the next URL, resume without admission, nothing lost or duplicated', { skip: chromiumLevel }, async (t) => {
  const natsBin = natsBinary();
  if (!natsBin) {
    t.skip('nats-server not installed (cargo xtask setup installs it)');
    return;
  }
  const nats = await startNats(natsBin);
  const a = await startNode(nats);
  const b = await startNode(nats);
  browser = await launchChromium();
  // Pages, package and tokens come from node B (it survives); the SDK joins node A first.
  const urls = [a.wsUrl, b.wsUrl];
  const call = await startCall(browser, { url: b.url, wsUrl: a.wsUrl, token: b.token },
    { clinicianRelayUrl: urls, patientRelayUrl: urls });
  const { clinician, patient, doc, pat } = call;
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'clinician connected' });
    assert.equal(await a.gauge('relay_participants'), 2, 'both joined node A, the first URL');
    assert.equal(await b.gauge('relay_participants'), 0);

    const send = (page, to, text) => page.evaluate((id, s) => window.c.sendData(id, new TextEncoder().encode(s)), to, text);
    await send(clinician, pat.id, 'before-c');
    await send(patient, doc.id, 'before-p');
    await until(patient, () => window.log.some((e) => e.type === 'data'), null, { what: 'data before' });
    await until(clinician, () => window.log.some((e) => e.type === 'data'), null, { what: 'data before' });

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await until(patient, () => window.c.state === 'reconnecting', null, { what: 'patient reconnecting' });
    await until(clinician, () => window.c.state === 'reconnecting', null, { what: 'clinician reconnecting' });
    // Sent while no relay carries them: they go out after the resume.
    await send(clinician, pat.id, 'during-c');
    await send(patient, doc.id, 'during-p');

    const resumed = { timeout: RECOVERY_BOUND_MS, what: 'resumed on node B' };
    await until(patient, () => window.c.state === 'connected', null, resumed);
    await until(clinician, () => window.c.state === 'connected', null, resumed);
    const recoveryMs = Date.now() - killedAt;
    t.diagnostic(`failover: both pages connected again ${recoveryMs} ms after SIGKILL of node A`);
    assert.ok(recoveryMs < RECOVERY_BOUND_MS);
    assert.equal(await b.gauge('relay_participants'), 2, 'both resumed on node B');

    await send(clinician, pat.id, 'after-c');
    await send(patient, doc.id, 'after-p');
    await until(patient, () => window.log.filter((e) => e.type === 'data').length >= 3, null, { what: 'data after (patient)' });
    await until(clinician, () => window.log.filter((e) => e.type === 'data').length >= 3, null, { what: 'data after (clinician)' });
    await videoKeepsFlowing(patient, doc.id);
    await videoKeepsFlowing(clinician, pat.id);

    assert.deepEqual(await texts(patient), ['before-c', 'during-c', 'after-c'], 'each message exactly once, in order');
    assert.deepEqual(await texts(clinician), ['before-p', 'during-p', 'after-p'], 'each message exactly once, in order');
    const seen = await Promise.all([patient, clinician].map((p) => p.evaluate(() => ({
      states: window.log.filter((e) => e.type === 'statechange').map((e) => e.state),
      admissions: window.log.filter((e) => e.type === 'admissionrequested').length,
      joined: window.log.filter((e) => e.type === 'participantjoined').length,
      undelivered: window.log.filter((e) => e.type === 'dataundelivered').length,
      ended: window.c.endReason ?? null,
      sockets: window.__created.sockets.map((s) => s.url),
    }))));
    const [p, c] = seen;
    if (process.env.E2E_DEBUG) for (const pg of [patient, clinician]) t.diagnostic(await pg.evaluate(() => JSON.stringify([window.log.filter((e) => ['error', 'statechange', 'participantleft', 'participantjoined', 'security'].includes(e.type)), window.__created.sockets.map((s) => s.url)])));
    assert.ok(!p.states.includes('waiting'), `the patient is not sent back to the waiting room: ${p.states}`);
    assert.equal(c.admissions, 1, 'the patient asked for admission once: none after the failover');
    assert.equal(p.joined, 1, 'the clinician is announced once');
    assert.equal(c.joined, 1, 'the patient is announced once');
    for (const s of seen) {
      assert.equal(s.undelivered, 0);
      assert.equal(s.ended, null);
      assert.ok(s.states.includes('reconnecting'));
      assert.equal(s.states.at(-1), 'connected');
      assert.equal(s.sockets[0], a.wsUrl, 'the first socket went to the first URL');
      assert.equal(s.sockets.at(-1), b.wsUrl, 'the last socket went to the next URL');
    }
    assert.deepEqual([...clinician.errors, ...patient.errors], []);
  } finally {
    await call.close();
  }
});

test('join skips a relay URL that cannot be reached and joins the next; the list is validated', { skip: chromiumLevel }, async (t) => {
  const natsBin = natsBinary();
  if (!natsBin) {
    t.skip('nats-server not installed (cargo xtask setup installs it)');
    return;
  }
  const node = await startNode(await startNats(natsBin));
  browser ??= await launchChromium();
  const page = await sdkPage(browser, node);
  try {
    const invite = await page.evaluate(() => window.t.createInvite(`${location.origin}/p`, `${location.origin}/c`));
    const join = (relayUrl, token = 'x') => page.evaluate(async (link, relayUrl, token) => {
      try {
        window.c = await window.t.Consultation.join({ link, relayUrl, role: 'clinician', displayName: 'Dr A', token });
        return { state: window.c.state, sockets: window.__created.sockets.map((s) => s.url) };
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    }, invite.clinicianLink, relayUrl, token);

    const ok = node.wsUrl;
    for (const bad of [[], Array(17).fill(ok), [ok, 'ws://relay.example/ws'], [ok, 5], [ok, null], {}, 5, null]) {
      const r = await join(bad);
      assert.equal(r.code, 'InvalidArgument', JSON.stringify(bad));
      assert.match(r.message, /relayUrl/);
    }
    const dead = `ws://127.0.0.1:${await freePort()}/ws`;
    const r = await join([dead, ok], await node.token(invite.roomId, 'clinician'));
    assert.equal(r.code, undefined, `join failed: ${r.message}`);
    assert.deepEqual(r.sockets, [dead, ok], 'the unreachable URL once, then the next');
    assert.equal(r.state, 'admitted');
    const none = await join([dead, `ws://127.0.0.1:${await freePort()}/ws`], await node.token(invite.roomId, 'clinician'));
    assert.equal(none.code, 'NetworkError', 'every URL failed once: the join fails');
  } finally {
    await page.evaluate(() => window.c?.hangUp()).catch(() => {});
    await page.close();
  }
});
