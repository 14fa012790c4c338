// Shared end-to-end harness: the real relay (serving www/ and pkg/) and Debian's Chromium,
// both started here, on 127.0.0.1 only, and stopped when the test ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

export const root = resolve(import.meta.dirname, '../..');

/** The blank page tests import the SDK into (see pages/index.html). */
export const testPages = join(root, 'tests/e2e/pages');

/**
 * Starts the relay in development mode on a free loopback port, serving `www` (the demo by
 * default) and the built package; resolves to `{ url, wsUrl, token(room, role), stop }`.
 */
export async function startRelay({ www = join(root, 'www'), args = [], listen = '127.0.0.1:0' } = {}) {
  const bin = process.env.TELECONSULT_RELAY_BIN ?? join(root, 'target/debug/teleconsult-relay');
  if (!existsSync(bin)) throw new Error(`relay binary missing at ${bin}: run cargo build -p teleconsult-relay`);
  const child = spawn(bin, ['--listen', listen, '--dev', '--www', www, '--pkg', join(root, 'pkg'),
    '--exit-on-stdin-close', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
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
export function chromiumArgs({ webBluetooth = false } = {}) {
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ];
  if (webBluetooth) args.push('--enable-experimental-web-platform-features');
  return args;
}

/** Launches Debian's Chromium with a fresh profile; `close()` removes the profile. */
export async function launchChromium(options = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'teleconsult-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    userDataDir,
    args: chromiumArgs(options),
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

const EVENTS = ['statechange', 'participantjoined', 'admissionrequested', 'participantadmitted',
  'participantdenied', 'participantconnected', 'participantleft', 'sas', 'sasconfirmed', 'track',
  'data', 'dataundelivered', 'security', 'quality', 'error'];

/** Joins from `page` as `window.c`; a clinician admits everyone who asks when `autoAdmit`. */
export async function joinIn(page, options, { autoAdmit = false, media = true } = {}) {
  return page.evaluate(async (options, autoAdmit, media, events) => {
    const c = await window.t.Consultation.join(options);
    window.c = c;
    for (const type of events) {
      c.addEventListener(type, (e) => {
        const d = { ...e.detail };
        if (d.track) d.kind = d.track.kind;
        delete d.track; delete d.stream;
        if (d.data) d.data = Array.from(d.data);
        window.log.push({ type, ...d });
        if (type === 'admissionrequested' && autoAdmit) c.admit(e.detail.participant.id);
      });
    }
    if (media) await c.startMedia({ audio: true, video: true });
    return { id: c.participantId, state: c.state };
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

/** Frames decoded from one participant, from the SDK's own `getStats`. */
export async function framesDecoded(page, participantId) {
  return page.evaluate(async (id) => {
    const report = await window.c.getStats(id);
    let frames = 0;
    report.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0; });
    return frames;
  }, participantId);
}
