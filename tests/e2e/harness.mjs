// Shared end-to-end harness: the real relay (serving www/ and pkg/) and Debian's Chromium or
// Firefox ESR (E2E_ENGINE=chromium|firefox, default chromium), both started here, on
// 127.0.0.1 only, and stopped when the test ends.
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';
import { WebSocket, WebSocketServer } from 'ws';

/** A clinician's per-visit identity key for consent tests: the seed a clinician link carries,
 *  and its public key (what a patient link carries), derived with Node's own Ed25519. */
export const CLINICIAN_SEED = Array.from({ length: 32 }, (_, i) => 0x50 + i);
export const CLINICIAN_PK = [...createPublicKey(createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(CLINICIAN_SEED)]), format: 'der', type: 'pkcs8',
})).export({ format: 'der', type: 'spki' }).subarray(-32)];

export const root = resolve(import.meta.dirname, '../..');

/** The blank page tests import the SDK into (see pages/index.html). */
export const testPages = join(root, 'tests/e2e/pages');

/**
 * Starts the relay in development mode on a free loopback port, serving `www` (the demo by
 * default) and the built package (`pkg/`, or `TELECONSULT_PKG_DIR`: benchmarks compare two
 * builds that way, docs/BENCHMARKS.md); resolves to `{ url, wsUrl, token(room, role), stop }`.
 */
export async function startRelay({ www = join(root, 'www'), args = [], listen = '127.0.0.1:0', env = {} } = {}) {
  const bin = process.env.TELECONSULT_RELAY_BIN
    ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug/teleconsult-relay');
  if (!existsSync(bin)) throw new Error(`relay binary missing at ${bin}: run cargo build -p teleconsult-relay`);
  const child = spawn(bin, ['--listen', listen, '--dev', '--www', www, '--pkg', process.env.TELECONSULT_PKG_DIR ?? join(root, 'pkg'),
    '--exit-on-stdin-close', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TELECONSULT_RELAY_LOG: process.env.TELECONSULT_RELAY_LOG ?? 'warn', ...env },
  });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not report its address within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`relay exited early (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolveUrl(m[1]); }
    });
  });
  return {
    url,
    wsUrl: url.replace('http://', 'ws://') + '/ws',
    /** Mints a join token through the development endpoint. */
    async token(room, role, extra = {}) {
      const res = await fetch(`${url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room, role, ttl: '15m', ...extra }),
      });
      if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
      return (await res.json()).token;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Flags for headless Chromium on these machines (see ../shared/notes). */
export function chromiumArgs({ webBluetooth = false, autoplayNeedsGesture = false } = {}) {
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ];
  if (webBluetooth) args.push('--enable-experimental-web-platform-features');
  // As Safari and WKWebView do: media with sound plays only after a user gesture.
  if (autoplayNeedsGesture) args.push('--autoplay-policy=user-gesture-required');
  return args;
}

/** The engine `launchBrowser` starts: `E2E_ENGINE` (`chromium`, the default, or `firefox`). */
export const engine = process.env.E2E_ENGINE ?? 'chromium';
if (!['chromium', 'firefox'].includes(engine)) throw new Error(`E2E_ENGINE=${engine}: use chromium or firefox`);

/**
 * A `skip` option for tests that need a Chromium-only DevTools domain (BluetoothEmulation,
 * DeviceAccess, raw CDP): false in Chromium, the reason elsewhere.
 */
export const chromiumOnly = engine === 'chromium' ? false : 'needs a Chromium-only DevTools domain (BluetoothEmulation/CDP)';

/**
 * Firefox prefs a call needs in a loopback-only namespace (each checked by leaving it out):
 * fake devices, no permission prompt, and host candidates on loopback. Without the two
 * `permissions.default.*` Firefox gathers no candidate there.
 */
export const firefoxPrefs = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
};

/** Launches Debian's Firefox ESR over WebDriver BiDi with a fresh profile. */
export async function launchFirefox() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'teleconsult-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX ?? '/usr/lib/firefox-esr/firefox-esr',
    headless: true,
    userDataDir,
    extraPrefsFirefox: firefoxPrefs,
    timeout: 180_000,
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}

/**
 * Launches the engine named by `E2E_ENGINE`. `webBluetooth` applies to Chromium only
 * (Firefox has no Web Bluetooth: device tests there use the bridge path).
 */
export async function launchBrowser(options = {}) {
  return engine === 'firefox' ? launchFirefox() : launchChromium(options);
}

/** Launches Debian's Chromium with a fresh profile; `close()` removes the profile. */
export async function launchChromium(options = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'teleconsult-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    userDataDir,
    args: chromiumArgs(options),
    // DevTools over a pipe, not a loopback socket: tests may take the network down.
    pipe: true,
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}

/** Opens `url` and fails the test on any uncaught page error or failed module load. */
export async function openPage(browser, url, { width = 1280, height = 800 } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  if (process.env.E2E_CONSOLE) page.on('console', (m) => console.error('[page]', m.type(), m.text()));
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
  await page.setViewport({ width, height });
  await page.goto(url, { waitUntil: 'load' });
  page.errors = errors;
  return page;
}

/**
 * Opens the blank test page and loads the SDK into it as `window.t`; every event of a
 * consultation joined through `joinIn` is recorded in `window.log`.
 */
export async function sdkPage(browser, relay) {
  const page = await openPage(browser, `${relay.url}/`);
  await page.evaluate(async () => {
    window.t = await import('/pkg/index.js');
    window.log = [];
  });
  return page;
}

/**
 * Adds the devices API (`teleconsult/devices`, its own wasm module) to `window.t` of a page
 * opened with `sdkPage`: loaded on demand, as an app does when it first needs a device.
 */
export async function withDevices(page) {
  await page.evaluate(async () => {
    window.t = { ...window.t, ...await import('/pkg/devices.js') };
  });
  return page;
}

const EVENTS = ['statechange', 'participantjoined', 'admissionrequested', 'participantadmitted',
  'participantdenied', 'participantconnected', 'participantleft', 'sas', 'sasconfirmed', 'track',
  'data', 'dataundelivered', 'security', 'quality', 'error', 'localmediastopped',
  'screensharestarted', 'screensharestopped'];

/**
 * Joins from `page` as `window.c`; a clinician admits everyone who asks when `autoAdmit`.
 * `media`: `'join'` passes the camera and microphone as `localStream`, `'later'` starts them
 * with `startMedia()` after joining, `false` sends none. Resolves to the participant id and
 * the state right after the join resolved.
 */
export async function joinIn(page, options, { autoAdmit = false, media = 'join' } = {}) {
  return page.evaluate(async (options, autoAdmit, media, events) => {
    if (media === 'join' || media === 'audio') {
      // 'audio': the microphone only, as when the camera is denied or missing.
      options.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: media === 'join' });
    }
    const c = await window.t.Consultation.join(options);
    const stateAtJoin = c.state;
    window.c = c;
    for (const type of events) {
      c.addEventListener(type, (e) => {
        const d = { ...e.detail };
        if (d.track) d.kind = d.track.kind;
        delete d.track; delete d.stream;
        if (d.data) d.data = Array.from(d.data);
        window.log.push({ type, ...d });
        if (type === 'admissionrequested' && autoAdmit) {
          try { c.admit(e.detail.participant.id); } catch (err) { window.log.push({ type: 'admit-failed', code: err.code, message: err.message }); }
        }
      });
    }
    if (media === 'later') await c.startMedia({ audio: true, video: true });
    return { id: c.participantId, state: stateAtJoin };
  }, options, autoAdmit, media, EVENTS);
}

/** Polls `fn` in the page until it returns a truthy value (no fixed sleeps). */
export async function until(page, fn, arg, { timeout = 15_000, what = 'condition' } = {}) {
  try {
    return await page.waitForFunction(fn, { timeout, polling: 50 }, arg).then((h) => h.jsonValue());
  } catch (e) {
    const log = await page.evaluate(() => JSON.stringify(window.log?.slice(-30)));
    throw new Error(`timed out waiting for ${what}; recent events: ${log}`);
  }
}

/** Waits until the page's peer connection with `participantId` is connected and its direct
 *  data channel (file chunks, docs/PROTOCOL.md §10.0) is open, as `getStats` reports it. */
export async function directChannelOpen(page, participantId, timeout = 15_000) {
  await until(page, async (id) => {
    if (!window.c.participants().some((p) => p.id === id && p.connected)) return false;
    let open = false;
    (await window.c.getStats(id)).forEach((s) => { if (s.type === 'data-channel' && s.state === 'open') open = true; });
    return open;
  }, participantId, { what: 'direct channel open', timeout });
}

/** Frames decoded from one participant, from the SDK's own `getStats`. */
export async function framesDecoded(page, participantId) {
  return page.evaluate(async (id) => {
    const report = await window.c.getStats(id);
    let frames = 0;
    report.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0; });
    return frames;
  }, participantId);
}

/**
 * A WebSocket man in the middle between pages and the relay: it records every message both
 * ways and can tamper with what the relay delivers. `tamper(fn)` installs a hook that gets
 * each relay→client message (a Buffer) plus the history, and returns the messages to send
 * instead (an array: empty drops it, several inject extra ones). `hold()` keeps what the relay
 * delivers from the clients (a stalled downlink) until `release()`.
 */
export async function startProxy(relayWsUrl) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  const recorded = [];
  let hook = null;
  const history = [];
  /** Relay→client messages kept while held: [client, message]. */
  let held = null;
  const deliver = (client, m) => { if (client.readyState === WebSocket.OPEN) client.send(m); };
  server.on('connection', (client) => {
    const upstream = new WebSocket(relayWsUrl);
    const pending = [];
    upstream.on('open', () => { for (const m of pending.splice(0)) upstream.send(m); });
    client.on('message', (data, isBinary) => {
      recorded.push({ dir: 'up', data: Buffer.from(data), isBinary });
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data); else pending.push(data);
    });
    upstream.on('message', (data, isBinary) => {
      const buf = Buffer.from(data);
      recorded.push({ dir: 'down', data: buf, isBinary });
      const out = hook ? hook(buf, history) : [buf];
      history.push(buf);
      for (const m of out) if (held) held.push([client, m]); else deliver(client, m);
    });
    client.on('close', () => upstream.close());
    upstream.on('close', (code, reason) => {
      if (client.readyState === WebSocket.OPEN) client.close(code >= 4000 ? code : 1001, reason);
    });
    client.on('error', () => {});
    upstream.on('error', () => client.terminate());
  });
  return {
    wsUrl: `ws://127.0.0.1:${server.address().port}/ws`,
    recorded,
    tamper(fn) { hook = fn; },
    hold() { held ??= []; },
    release() { const kept = held ?? []; held = null; for (const [client, m] of kept) deliver(client, m); },
    async stop() {
      for (const c of server.clients) c.terminate();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A free TCP port on 127.0.0.1 (for a server that must come back on the same port). */
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * A clinician and a patient page in one fresh room, both joined (the clinician admits the
 * patient) with camera and microphone. `relayUrl` lets a test route the pages through a proxy;
 * `patientBrowser` puts the patient in another browser (mixed-engine calls).
 */
export async function startCall(browser, relay, { clinicianRelayUrl, patientRelayUrl, media = 'join', patientMedia = media, clinicianExtra = {}, patientExtra = {}, patientBrowser = browser } = {}) {
  const clinician = await sdkPage(browser, relay);
  const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
  const doc = await joinIn(clinician, {
    link: invite.clinicianLink, relayUrl: clinicianRelayUrl ?? relay.wsUrl, role: 'clinician',
    displayName: 'Dr Rivera', token: await relay.token(invite.roomId, 'clinician'), ...clinicianExtra,
  }, { autoAdmit: true, media });
  const patient = await sdkPage(patientBrowser, relay);
  const pat = await joinIn(patient, {
    link: invite.patientLink, relayUrl: patientRelayUrl ?? relay.wsUrl, role: 'patient',
    displayName: 'Sam Patient', token: await relay.token(invite.roomId, 'patient'), ...patientExtra,
  }, { media: patientMedia });
  const close = async () => {
    for (const p of [patient, clinician]) {
      await p.evaluate(() => window.c?.hangUp()).catch(() => {});
      await p.close().catch(() => {});
    }
  };
  return { clinician, patient, invite, doc, pat, close };
}

/** Waits until the page decodes more video frames from `from` than it has now. */
export async function videoKeepsFlowing(page, from, more = 10) {
  const first = await framesDecoded(page, from);
  await until(page, async ([id, n]) => {
    const r = await window.c.getStats(id);
    let f = 0;
    r.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') f += s.framesDecoded ?? 0; });
    return f > n;
  }, [from, first + more], { what: 'video frames decoded increasing' });
}
