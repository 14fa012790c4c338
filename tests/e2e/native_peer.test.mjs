// A browser patient and the native webrtc-rs peer (examples/native-peer) as the clinician,
// through the real relay: the same sealed protocol on two independent WebRTC stacks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startRelay, launchBrowser, sdkPage, joinIn, until, videoKeepsFlowing, root, testPages } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

/** Starts the native peer; `events` collects its JSON lines, `next(pred)` awaits one. */
function startNativePeer(args) {
  const bin = process.env.TELECONSULT_NATIVE_PEER_BIN
    ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug/teleconsult-native-peer');
  if (!existsSync(bin)) throw new Error(`native peer missing at ${bin}: run cargo build -p teleconsult-native-peer`);
  const child = spawn(bin, [...args, '--exit-on-stdin-close', '--stats-interval-ms', '250'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const events = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    let e;
    try { e = JSON.parse(line); } catch { return; }
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
  });
  return {
    events,
    next(pred, what, timeout = 15_000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`native peer: timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-10))}`)), timeout);
        waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await exited;
    },
  };
}

test('browser patient and native clinician: handshake, same SAS, video both ways', async () => {
  const patient = await sdkPage(browser, relay);
  const invite = await patient.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
  const native = startNativePeer(['--relay', relay.wsUrl, '--token', await relay.token(invite.roomId, 'clinician'),
    '--invite', invite.clinicianLink, '--role', 'clinician', '--name', 'Dr Bot', '--auto-admit', '--auto-confirm-sas']);
  try {
    await native.next((e) => e.event === 'started', 'started');
    await joinIn(patient, {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
      token: await relay.token(invite.roomId, 'patient'),
    });
    const admission = await native.next((e) => e.event === 'admission_requested', 'admission request');
    assert.equal(admission.name, 'Sam Patient', 'the name crossed the E2E channel');
    await until(patient, () => window.c.state === 'connected', null, { what: 'browser connected to native peer' });
    const sasBrowser = await until(patient, () => window.log.find((e) => e.type === 'sas')?.sas.digits, null, { what: 'SAS' });
    const sasNative = await native.next((e) => e.event === 'sas', 'native SAS');
    assert.equal(sasNative.digits, sasBrowser, 'both stacks derive the same SAS');
    // The native peer confirmed the SAS; the browser hears about it.
    await until(patient, () => window.log.some((e) => e.type === 'sasconfirmed'), null, { what: 'sasconfirmed from native' });
    // The native peer receives the browser's video RTP...
    await native.next((e) => e.event === 'stats' && e.video_rtp_packets > 20, 'video RTP from the browser');
    // ...and the browser decodes the native peer's VP8 frames.
    const nativeId = await patient.evaluate(() => window.c.participants()[0].id);
    await videoKeepsFlowing(patient, nativeId, 5);
  } finally {
    await patient.evaluate(() => window.c?.hangUp()).catch(() => {});
    await native.stop();
    await patient.close();
  }
});
