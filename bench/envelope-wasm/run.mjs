#!/usr/bin/env node
// Envelope in wasm vs WebCrypto: seal+open of a 1 KiB frame with the SDK's own AES-256-GCM
// envelope (crate::crypto::Sealer/Opener, compiled to wasm, through the doc-hidden
// `benchEnvelope` export) against WebCrypto AES-GCM in the same Chromium page. See
// docs/BENCHMARKS.md.
//
//   node bench/envelope-wasm/run.mjs [--rounds N] [--round-ms MS] [--batch K] [--pkg DIR]
// (needs pkg/ built; `--pkg` points at another build of the package, e.g. one compiled with
// a different optimisation level, laid out like pkg/: index.js and web/)
//
// stdout:
//   envelope-wasm: wasm_ops_per_s=<n> webcrypto_ops_per_s=<n> ratio=<wasm/webcrypto>
//   envelope-wasm-detail: webcrypto_batched_ops_per_s=<n> ratio_batched=<wasm/batched> …
// `webcrypto` awaits every encrypt and decrypt; `webcrypto_batched` keeps K in flight.
// Medians over the rounds; the three methods are interleaved round by round.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkPrerequisites, ensureLoopbackNamespace, fail, fmt, median, root } from '../call-setup/lib.mjs';

const NAME = 'envelope-wasm';
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'round-ms': { type: 'string', default: '400' },
    batch: { type: 'string', default: '32' },
    verbose: { type: 'boolean', default: false },
    pkg: { type: 'string' },
  },
});
const pkgDir = args.pkg ? resolve(args.pkg) : join(root, 'pkg');
const rounds = Number(args.rounds);
const roundMs = Number(args['round-ms']);
const batch = Number(args.batch);
if (![rounds, roundMs, batch].every((n) => Number.isInteger(n) && n > 0)) fail(NAME, '--rounds, --round-ms and --batch must be positive integers');

checkPrerequisites(NAME, { pkg: false });
if (!existsSync(join(pkgDir, 'web/teleconsult.js')) || !existsSync(join(pkgDir, 'index.js'))) {
  fail(NAME, `${pkgDir} is not a built package (index.js and web/teleconsult.js missing): run \`cargo xtask build --release\``);
}
if (!readFileSync(join(pkgDir, 'web/teleconsult.js'), 'utf8').includes('benchEnvelope')) {
  fail(NAME, `${pkgDir} has no benchEnvelope export (built before src/web/bench.rs existed?): run \`cargo xtask build --release\``);
}
ensureLoopbackNamespace(NAME);

const { launchChromium } = await import('../../tests/e2e/harness.mjs');

/** Serves a blank page at / and the package (`pkgDir`) at /pkg/ on 127.0.0.1 (a free port). */
async function servePackage() {
  const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>envelope benchmark</title>');
      return;
    }
    const rel = normalize(path).replace(/^\/+/, '');
    if (!rel.startsWith('pkg/') || rel.includes('..')) { res.writeHead(404).end(); return; }
    try {
      const body = await readFile(join(pkgDir, rel.slice('pkg/'.length)));
      res.writeHead(200, { 'content-type': types[extname(rel)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const server = await servePackage();
const browser = await launchChromium();
let result;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  await page.evaluate(async () => { window.t = await import('/pkg/index.js'); });
  await page.evaluate(readFileSync(join(import.meta.dirname, 'page.js'), 'utf8'));
  result = await page.evaluate((o) => window.envelopeBench.run(o), { rounds, roundMs, batch });
  if (errors.length) throw new Error(errors.join('; '));
} catch (err) {
  console.error(`${NAME}: ${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close().catch(() => {});
  await server.close();
}
if (process.exitCode) process.exit(process.exitCode);

if (args.verbose) console.error(JSON.stringify(result, null, 1));
const m = Object.fromEntries(Object.entries(result.opsPerS).map(([k, v]) => [k, median(v)]));
const spread = (xs) => `${fmt(Math.min(...xs), 0)}-${fmt(Math.max(...xs), 0)}`;
console.log(`${NAME}: wasm_ops_per_s=${fmt(m.wasm, 0)} webcrypto_ops_per_s=${fmt(m.webcrypto, 0)} ratio=${fmt(m.wasm / m.webcrypto, 3)}`);
console.log(`${NAME}-detail: webcrypto_batched_ops_per_s=${fmt(m.webcrypto_batched, 0)} ratio_batched=${fmt(m.wasm / m.webcrypto_batched, 3)} `
  + `wasm_us_per_op=${fmt(1e6 / m.wasm, 2)} webcrypto_us_per_op=${fmt(1e6 / m.webcrypto, 2)} batch=${batch} rounds=${rounds} `
  + `wasm_range=${spread(result.opsPerS.wasm)} webcrypto_range=${spread(result.opsPerS.webcrypto)} webcrypto_batched_range=${spread(result.opsPerS.webcrypto_batched)}`);
