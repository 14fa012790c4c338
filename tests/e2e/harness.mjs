// Shared end-to-end harness: the real relay (serving www/ and pkg/) and Debian's Chromium,
// both started here, on 127.0.0.1 only, and stopped when the test ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

export const root = resolve(import.meta.dirname, '../..');

/** Starts the relay on a free loopback port; resolves to `{ url, stop }`. */
export async function startRelay(extraArgs = []) {
  const bin = process.env.TELECONSULT_RELAY_BIN ?? join(root, 'target/debug/teleconsult-relay');
  if (!existsSync(bin)) throw new Error(`relay binary missing at ${bin}: run cargo build -p teleconsult-relay`);
  const child = spawn(bin, ['--listen', '127.0.0.1:0', '--www', join(root, 'www'), '--pkg', join(root, 'pkg'),
    '--exit-on-stdin-close', ...extraArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
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
