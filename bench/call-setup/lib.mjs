// Shared by the browser benchmarks (call-setup, envelope-wasm): prerequisite checks, the
// loopback-only network namespace, and summary statistics.
import { spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');

/**
 * The relay the benchmarks run against: TELECONSULT_RELAY_BIN, else the optimised `relay`
 * profile build that deployments run (`cargo xtask bench` builds it), else the debug build
 * (which adds per-message latency of its own).
 */
export function relayBinary() {
  if (process.env.TELECONSULT_RELAY_BIN) return process.env.TELECONSULT_RELAY_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
  const optimised = join(target, 'relay/teleconsult-relay');
  return existsSync(optimised) ? optimised : join(target, 'debug/teleconsult-relay');
}

/** Prints `message` on stderr and exits with status 2 (a missing prerequisite, not a slow result). */
export function fail(name, message) {
  console.error(`${name}: ${message}`);
  process.exit(2);
}

/**
 * Checks what a browser benchmark needs before starting anything, so a missing piece gives
 * one clear line instead of a stack trace: the built package (unless `pkg: false`), the
 * harness's npm packages, Chromium, and (with `relay: true`) the relay binary.
 */
export function checkPrerequisites(name, { relay = false, pkg = true } = {}) {
  const pkgWasm = join(root, 'pkg/web/teleconsult_bg.wasm');
  if (pkg && (!existsSync(pkgWasm) || !existsSync(join(root, 'pkg/index.js')))) {
    fail(name, `the npm package is not built (${pkgWasm} missing): run \`cargo xtask build --release\``);
  }
  if (!existsSync(join(root, 'node_modules/puppeteer-core'))) {
    fail(name, 'puppeteer-core is not installed: run `cargo xtask setup` (or `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` in the repository root)');
  }
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  try {
    accessSync(chromium, constants.X_OK);
  } catch {
    fail(name, `Chromium not found at ${chromium}: install Debian's \`chromium\` package or set CHROMIUM`);
  }
  if (relay) {
    const bin = relayBinary();
    if (!existsSync(bin)) {
      fail(name, `relay binary missing at ${bin}: run \`cargo build --profile relay -p teleconsult-relay\` or set TELECONSULT_RELAY_BIN`);
    }
    // The e2e harness, which starts the relay, reads the same variable.
    process.env.TELECONSULT_RELAY_BIN = bin;
  }
}

/** Whether this process already sees no network interface but loopback. */
function loopbackOnly() {
  return Object.keys(networkInterfaces()).every((n) => n === 'lo');
}

/**
 * Browser runs must not reach any address but loopback (WebRTC gathers candidates on every
 * interface). If this process is not yet in a loopback-only network namespace, re-runs the
 * same command inside a new one (`unshare --net`, as root; `--map-root-user` otherwise) and
 * exits with its status. Returns only when already isolated.
 */
export function ensureLoopbackNamespace(name) {
  if (loopbackOnly()) return;
  if (process.env.TELECONSULT_BENCH_NETNS === '1') {
    fail(name, 'still not in a loopback-only network namespace after unshare');
  }
  const isRoot = process.getuid?.() === 0;
  const base = isRoot ? ['--net'] : ['--map-root-user', '--net'];
  const probe = spawnSync('unshare', [...base, '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    fail(name, 'browser benchmarks run in a loopback-only network namespace and this user cannot create one '
      + '(`unshare --net` needs root or unprivileged user namespaces, and `ip` from iproute2)');
  }
  const child = spawnSync('unshare', [...base, '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'loopback-netns',
    process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TELECONSULT_BENCH_NETNS: '1' },
  });
  process.exit(child.status ?? 1);
}

/** The `q`-quantile of `values` (0 ≤ q ≤ 1), linear interpolation between order statistics. */
export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** A number with `digits` decimals, as a string without trailing noise. */
export function fmt(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'NaN';
}

/** Starts the V8 sampling profiler on each page (0.1 ms interval). */
export async function startProfiles(pages) {
  const sessions = {};
  for (const [name, page] of Object.entries(pages)) {
    const cdp = await page.createCDPSession();
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    sessions[name] = cdp;
  }
  return sessions;
}

/**
 * Stops the profilers `startProfiles` started and writes `<dir>/<page>-<what>.cpuprofile`
 * (open in Chromium's DevTools; a build with `TELECONSULT_WASM_NAMES=1` names wasm functions).
 */
export async function stopProfiles(name, sessions, dir, what) {
  mkdirSync(dir, { recursive: true });
  for (const [name, cdp] of Object.entries(sessions)) {
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(join(dir, `${name}-${what}.cpuprofile`), JSON.stringify(profile));
    await cdp.detach();
  }
  console.error(`${name}: CPU profiles of the last ${what} transfer in ${dir}`);
}

/**
 * A TCP proxy to `127.0.0.1:port` that holds every chunk `delayMs` in each direction: the
 * relay as seen from a page `2 × delayMs` of round trip away (a relay in a cloud region),
 * while the media path stays on loopback. Chunks of one direction leave in arrival order
 * (Node runs timers of equal delay in the order they were set), the WebSocket handshake
 * pays the round trip too, and a close travels with the same delay.
 */
export async function startDelayProxy(port, delayMs) {
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    // As browsers and the relay do: no Nagle, whose wait for an ack (delayed up to 40 ms by
    // the receiver) would add a stall of the proxy's own.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pipe = (from, to) => {
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
      from.on('end', () => setTimeout(() => to.end(), delayMs));
      from.on('error', () => to.destroy());
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    close: () => new Promise((r) => server.close(r)),
  };
}
