// WebKit (Debian's WebKitGTK MiniBrowser through WebKitWebDriver, under Xvfb): the stand-in
// for Safari and WKWebView, which cannot run here. WebKitWebDriver speaks classic W3C
// WebDriver only (no BiDi, so no puppeteer): a small fetch-based client drives it. Debian
// builds WebKitGTK without WebRTC, so no call runs; these tests cover what does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRelay, freePort, root, testPages } from '../../e2e/harness.mjs';

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
let relay, driver, base, session;

/** One W3C WebDriver command; resolves to `value`, throws the driver's error. */
async function wd(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(60_000),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
  return json.value;
}

/** Runs `fn` (an async function, serialised) in the page with `args`; resolves to its result. */
async function run(fn, ...args) {
  const script = `const done = arguments[arguments.length - 1];
    (${fn.toString()})(...Array.from(arguments).slice(0, -1))
      .then((v) => done({ ok: v }), (e) => done({ err: String(e && (e.code || e.name)) + ': ' + (e && e.message) }));`;
  const out = await wd('POST', `/session/${session}/execute/async`, { script, args });
  if ('err' in out) throw new Error(`in WebKit: ${out.err}`);
  return out.ok;
}

async function open(path = '/') {
  await wd('POST', `/session/${session}/url`, { url: `${relay.url}${path}` });
  await run(async () => { window.t = { ...await import('/pkg/index.js'), ...await import('/pkg/devices.js') }; });
}

before(async () => {
  relay = await startRelay({ www: testPages });
  const port = await freePort();
  driver = spawn('WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore' });
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { await wd('GET', '/status'); break; } catch (e) {
      if (i > 100) throw new Error(`WebKitWebDriver did not start: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Without --automation MiniBrowser never answers session creation.
  const created = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        'webkitgtk:browserOptions': {
          binary: MINIBROWSER,
          args: ['--automation', '--enable-webrtc=true', '--enable-media-stream=true', '--enable-mock-capture-devices=true'],
        },
        timeouts: { script: 30_000 },
      },
    },
  });
  session = created.sessionId;
});

after(async () => {
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  driver?.kill();
  await relay?.stop();
});

test('capabilities() reports WebRTC missing with a reason, and what WebKitGTK does have', async () => {
  await open();
  const caps = await run(async () => JSON.parse(JSON.stringify(window.t.capabilities())));
  assert.equal(caps.rtcPeerConnection.available, false);
  assert.match(caps.rtcPeerConnection.reason, /no WebRTC/);
  for (const name of ['secureContext', 'getUserMedia', 'indexedDb', 'webCrypto', 'webSocket']) {
    assert.equal(caps[name].available, true, name);
  }
  assert.equal(caps.webBluetooth.available, false);
  assert.match(caps.webBluetooth.reason, /device bridge/);
  const err = await run(async () => {
    try { window.t.requireCapabilities(['rtcPeerConnection']); return 'passed'; } catch (e) { return e.code; }
  });
  assert.equal(err, 'Unsupported');
});

test('the consent manager keeps its signed ledger in IndexedDB across a reload', async () => {
  const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video with your clinician.' };
  const dr = { kind: 'Practitioner', id: 'dr-1' };
  await open();
  const first = await run(async (notice, dr) => {
    window.m = await window.t.ConsentManager.open({ patient: 'pat-webkit', recipient: dr, notice });
    const g = await window.m.grant({ purposes: ['TREAT'], categories: ['video', 'audio'] });
    await window.m.withdraw(g.seq);
    await window.m.grant({ purposes: ['TREAT'], categories: ['heart-rate'] });
    return { storage: window.m.storage, ledgerId: window.m.ledgerId, publicKey: window.m.publicKey, head: window.m.head, size: window.m.size };
  }, notice, dr);
  assert.equal(first.storage, 'indexeddb');
  assert.equal(first.size, 3);
  await open(); // a fresh navigation: the page and the module start over
  const again = await run(async (notice, dr) => {
    window.m = await window.t.ConsentManager.open({ patient: 'pat-webkit', recipient: dr, notice });
    const s = window.m.verify();
    return { ledgerId: window.m.ledgerId, publicKey: window.m.publicKey, head: window.m.head, size: window.m.size,
      entries: s.entries, video: window.m.allows('video').reason, hr: window.m.allows('heart-rate').allowed };
  }, notice, dr);
  assert.equal(again.ledgerId, first.ledgerId);
  assert.equal(again.publicKey, first.publicKey, 'the wrapped device key came back');
  assert.equal(again.head, first.head);
  assert.equal(again.entries, 3);
  assert.equal(again.video, 'Withdrawn');
  assert.equal(again.hr, true);
});

test('the webview device bridge parses host-pushed GATT bytes into readings with FHIR, and rejects bad bytes', async () => {
  await open();
  const out = await run(async () => {
    const bridge = new window.t.DeviceBridge({ fhir: { subject: 'Patient/p1' } });
    const readings = [];
    bridge.addEventListener('reading', (e) => readings.push(JSON.parse(JSON.stringify(e.detail))));
    // What a WKWebView host posts: base64 strings (react-native-webview) or ArrayBuffers.
    bridge.push({ deviceId: 'AA:BB', service: '180d', characteristic: '2a37', value: btoa(String.fromCharCode(0x00, 72)) });
    bridge.push({ deviceId: 'CC:DD', service: '1810', characteristic: '2a35', value: new Uint8Array([0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00]).buffer });
    let rejected = 'accepted';
    try { bridge.push({ deviceId: 'AA:BB', service: '180d', characteristic: '2a37', value: new Uint8Array([0x01, 72]).buffer }); } catch (e) { rejected = e.code; }
    bridge.close();
    return { readings, rejected };
  });
  assert.equal(out.readings.length, 2);
  assert.equal(out.readings[0].reading.measurement.kind, 'heartRate');
  assert.equal(out.readings[0].observations[0].code.coding.find((c) => c.system === 'http://loinc.org').code, '8867-4');
  assert.equal(out.readings[1].reading.measurement.value.systolic, 121);
  assert.equal(out.readings[1].observations[0].code.coding[0].code, '85354-9');
  assert.equal(out.rejected, 'MalformedMeasurement');
});

test('recording picks MP4 where WebM is missing, and the recorder runs and stops cleanly', async (t) => {
  // Consultation.startRecording needs a call, which needs WebRTC: the SDK's recorder snippet
  // (the code startRecording runs) is driven directly with a mock-camera stream.
  const dir = readdirSync(join(root, 'pkg/web/snippets'))[0];
  await open();
  const out = await run(async (snippet) => {
    const { startRecorder, stopRecorder } = await import(snippet);
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const events = new EventTarget();
    const sizes = [];
    events.addEventListener('dataavailable', (e) => sizes.push(e.detail.size));
    const ended = new Promise((resolve) => { window.onEnd = resolve; });
    const h = startRecorder([stream], '', 200, undefined, undefined, events, (error) => window.onEnd(error));
    if (typeof h === 'string') return { code: h };
    await new Promise((r) => setTimeout(r, 3000));
    const state = h.recorder.state;
    stopRecorder(h);
    const error = await ended;
    await new Promise((r) => setTimeout(r, 500));
    stream.getTracks().forEach((t) => t.stop());
    return { mime: h.mime, webm: MediaRecorder.isTypeSupported('video/webm'), sizes, error, bytes: h.bytes, state, recMime: h.recorder.mimeType };
  }, `/pkg/web/snippets/${dir}/src/web/snippets/recording.js`);
  assert.equal(out.code, undefined, `the recorder did not start: ${out.code}`);
  assert.equal(out.webm, false, 'WebKitGTK has no WebM recording');
  assert.match(out.mime, /^video\/mp4/);
  assert.match(out.recMime, /^video\/mp4; codecs=avc1/, 'MediaRecorder accepted the choice (H.264 + AAC)');
  assert.equal(out.state, 'recording');
  assert.equal(out.error, false, 'stopped, not errored');
  // Observed on this machine (Xvfb, WebKitGTK 2.50.6, GStreamer 1.22): the recorder runs and
  // stops but hands over an empty MP4 (also with a bare MediaRecorder, no SDK involved):
  // Debian has no gst-plugins-rs, so WebKit's fragmented-MP4 muxer is missing (evidence in
  // docs/BROWSERS.md, findings). The byte count is reported, not asserted.
  t.diagnostic(`MP4 bytes recorded: ${out.sizes.reduce((a, b) => a + b, 0)}`);
});
