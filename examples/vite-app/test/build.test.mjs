// node --test test/   (from examples/vite-app, after `npm ci` and `cargo xtask build --release`)
//
// Type-checks and builds the example against the locally built `teleconsult` package, checks
// that the build really ships and loads the .wasm, and (where Debian's Chromium is installed)
// opens the built page and reads what it rendered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(app, 'dist');
const vite = join(app, 'node_modules/.bin/vite');
const CHROMIUM = '/usr/bin/chromium';

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  return { status: r.status, output };
}

/** Every file under `dir`, as paths relative to it. */
function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name).slice(dir.length + 1));
}

/** Asserts that `dir` holds a page, a JS chunk and a .wasm, and that the JS loads the .wasm. */
function assertShipsWasm(dir) {
  const all = files(dir);
  assert.ok(all.includes('index.html'), `no index.html in ${all}`);
  const js = all.filter((f) => f.endsWith('.js'));
  const wasm = all.filter((f) => f.endsWith('.wasm'));
  assert.ok(js.length >= 1, `no JS chunk in ${all}`);
  assert.equal(wasm.length, 1, `expected one .wasm in ${all}`);
  const wasmName = wasm[0].split('/').pop();
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.ok(js.some((f) => html.includes(f)), 'index.html does not load the JS chunk');
  const code = js.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  // Not only emitted, but fetched: the entry's `await init({ module_or_path: new URL(…) })`
  // survived tree-shaking.
  assert.ok(code.includes(wasmName), `the built JS never mentions ${wasmName}`);
  assert.match(code, /module_or_path:\s*new URL\(/, 'the wasm init call was tree-shaken away');
  return { wasmName, js };
}

const pkgBuilt = existsSync(join(app, 'node_modules/teleconsult/web/teleconsult_bg.wasm'));
const notBuilt = !pkgBuilt && 'pkg/ not built: run `cargo xtask build --release`, then `npm ci`';

test('typecheck passes under strict settings with the shipped declarations', { skip: notBuilt }, () => {
  const r = run('npm', ['run', 'typecheck']);
  assert.equal(r.status, 0, r.output);
});

test('vite build emits the page, a JS chunk and the .wasm the JS loads', { skip: notBuilt }, () => {
  rmSync(dist, { recursive: true, force: true });
  const r = run('npm', ['run', 'build']);
  assert.equal(r.status, 0, r.output);
  assertShipsWasm(dist);
});

/** Starts `vite preview` on a free loopback port; resolves to its URL and a stop function. */
function preview() {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(vite, ['preview', '--host', '127.0.0.1', '--port', '0'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`vite preview did not start:\n${seen}`));
    }, 30_000);
    const onData = (chunk) => {
      seen += chunk;
      // eslint-disable-next-line no-control-regex
      const m = seen.replace(/\x1b\[[0-9;]*m/g, '').match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ url: m[0], stop: () => child.kill() });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vite preview exited (${code}):\n${seen}`));
    });
  });
}

test(
  'the built page loads the wasm in Chromium and renders version, capabilities and checks',
  { skip: notBuilt || (!existsSync(CHROMIUM) && `${CHROMIUM} not installed`), timeout: 120_000 },
  async () => {
    assert.ok(existsSync(join(dist, 'index.html')), 'run the build test first');
    const { default: puppeteer } = await import('puppeteer-core');
    const server = await preview();
    const profile = mkdtempSync(join(tmpdir(), 'vite-app-chromium-'));
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors = [];
      const wasmResponses = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('response', (r) => {
        if (r.url().endsWith('.wasm')) wasmResponses.push([r.status(), r.headers()['content-type']]);
      });
      await page.goto(server.url);
      await page.waitForSelector('#app[data-ready="true"]', { timeout: 15_000 }).catch(() => {
        throw new Error(`page never rendered; page errors: ${errors.join('; ')}`);
      });
      assert.deepEqual(errors, []);
      assert.deepEqual(wasmResponses, [[200, 'application/wasm']]);

      const pkgVersion = JSON.parse(
        readFileSync(join(app, 'node_modules/teleconsult/package.json'), 'utf8'),
      ).version;
      const summary = await page.$eval('#version', (e) => e.textContent);
      assert.equal(summary, `teleconsult ${pkgVersion} on platform "browser"`);

      const rows = await page.$$eval('tr[data-capability]', (trs) =>
        trs.map((tr) => [tr.dataset.capability, tr.children[1]?.textContent]),
      );
      assert.deepEqual(
        rows.map(([name]) => name).sort(),
        ['getUserMedia', 'indexedDb', 'rtcPeerConnection', 'screenShare', 'secureContext',
          'webBluetooth', 'webCrypto', 'webSocket'],
      );
      // Served from 127.0.0.1, the page is a secure context with WebCrypto and WebSocket.
      const available = Object.fromEntries(rows);
      for (const name of ['secureContext', 'webCrypto', 'webSocket']) {
        assert.equal(available[name], 'yes', name);
      }

      // Each check either passed or went through the typed catch with a known ErrorCode.
      const checks = await page.$$eval('section[data-check]', (ss) =>
        ss.map((s) => ({ check: s.dataset.check, code: s.dataset.code ?? null, text: s.textContent })),
      );
      assert.equal(checks.length, 2);
      for (const c of checks) {
        if (c.code === null) assert.match(c.text, /Ready\./);
        else assert.ok(['Unsupported', 'InvalidArgument'].includes(c.code), JSON.stringify(c));
      }
      // Web Bluetooth must agree between the table and the check that requires it.
      const bt = checks.find((c) => c.check === 'Bluetooth devices');
      assert.equal(bt?.code === null, available.webBluetooth === 'yes');
      if (bt?.code !== null) assert.equal(bt?.code, 'Unsupported');
    } finally {
      await browser.close();
      server.stop();
      rmSync(profile, { recursive: true, force: true });
    }
  },
);
