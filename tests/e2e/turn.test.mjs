// Calls forced through a real TURN server (Debian's coturn, started here on 127.0.0.1 with
// long-term credentials): relay candidates only, media flows; a wrong credential is reported
// as a clear error event instead of a silent timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, launchBrowser, startCall, until, videoKeepsFlowing, freePort, testPages } from './harness.mjs';

const TURNSERVER = '/usr/bin/turnserver';
let relay, browser, turn, turnDir, turnPort;

async function portOpen(port) {
  return new Promise((resolveOpen) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolveOpen(true); });
    s.on('error', () => resolveOpen(false));
  });
}

before(async () => {
  if (!existsSync(TURNSERVER)) throw new Error('coturn is missing: cargo xtask setup installs it');
  turnPort = await freePort();
  turnDir = mkdtempSync(join(tmpdir(), 'teleconsult-turn-'));
  turn = spawn(TURNSERVER, ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${turnPort}`,
    '--lt-cred-mech', '--user=test:secret', '--realm=teleconsult.test', '--no-tls', '--no-dtls', '--no-cli',
    '--allow-loopback-peers', `--userdb=${join(turnDir, 'turndb')}`, `--pidfile=${join(turnDir, 'turn.pid')}`,
    '--log-file=stdout', '--simple-log'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(turnPort))) {
    if (Date.now() > deadline || turn.exitCode !== null) throw new Error('coturn did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  turn?.kill();
  if (turnDir) rmSync(turnDir, { recursive: true, force: true });
});

function iceOptions(credential) {
  return {
    iceServers: [{ urls: `turn:127.0.0.1:${turnPort}?transport=udp`, username: 'test', credential }],
    iceTransportPolicy: 'relay',
  };
}

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
