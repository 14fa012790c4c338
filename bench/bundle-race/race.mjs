#!/usr/bin/env node
// Bundle-size race: what a browser downloads to join a call with Teleconsult, livekit-client
// and twilio-video, each bundled with the SAME esbuild settings and measured after gzip -9.
// Teleconsult is measured twice: the whole SDK (`teleconsult` and `teleconsult/devices`) and
// what a page imports to join with consent (`teleconsult` only: no devices module).
//
//   node bench/bundle-race/race.mjs --teleconsult pkg [--out DIR]
//
// stdout (the lead's bench collector reads `name: key=value …` lines):
//   bundle-size: teleconsult_gz=<KB> teleconsult_join_gz=<KB> livekit_gz=<KB> twilio_gz=<KB>
//   bundle-size-<sdk>: version=… raw=<B> gz=<B> js_raw=<B> js_gz=<B> wasm_raw=<B> wasm_gz=<B> …
//   (sdk: teleconsult, teleconsult_join, livekit, twilio)
// KB = 1024 bytes, one decimal. Each output file is gzipped on its own (as a web server
// sends it) and the sizes are summed.

import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync,
  copyFileSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

/** The settings every SDK is bundled with. Nothing else differs between the three builds. */
export const ESBUILD_SETTINGS = Object.freeze({
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
});

function fail(message) {
  process.stderr.write(`bundle-race: ${message}\n`);
  process.exit(1);
}

function parseCli() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        teleconsult: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail(`${e.message}\nusage: node race.mjs --teleconsult <built pkg dir> [--out DIR]`);
  }
  if (values.help) {
    process.stdout.write('usage: node race.mjs --teleconsult <built pkg dir> [--out DIR]\n');
    process.exit(0);
  }
  if (!values.teleconsult) {
    fail('missing --teleconsult <path to the built npm package dir, e.g. pkg>');
  }
  return values;
}

/**
 * Checks that `dir` is a built teleconsult package: the hand-written files are in git, the
 * generated `web/` glue and `.wasm` only exist after `cargo xtask build`.
 */
function checkPkg(dir) {
  const hint = 'run `cargo xtask build --release` first (it generates pkg/web/ and pkg/node/)';
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) fail(`${dir} is not a package directory (no package.json); ${hint}`);
  let name;
  try {
    ({ name } = JSON.parse(readFileSync(manifest, 'utf8')));
  } catch (e) {
    fail(`cannot read ${manifest}: ${e.message}`);
  }
  if (name !== 'teleconsult') fail(`${manifest} names package "${name}", not "teleconsult"`);
  for (const f of [
    'index.js', 'web/teleconsult.js', 'web/teleconsult_bg.wasm',
    'devices.js', 'web-devices/teleconsult_devices.js', 'web-devices/teleconsult_devices_bg.wasm',
  ]) {
    if (!existsSync(join(dir, f))) {
      fail(`the teleconsult package at ${dir} has not been built: ${f} is missing; ${hint}`);
    }
  }
  // A release build (wasm-opt --strip-debug) keeps only wasm-bindgen's small name section
  // for imports (~0.5 KB); a debug build names every function (tens of KB).
  const wasm = readFileSync(join(dir, 'web/teleconsult_bg.wasm'));
  const names = customSections(wasm).find((s) => s.name === 'name');
  if (names && names.size > 8192) {
    process.stderr.write(
      `bundle-race: warning: web/teleconsult_bg.wasm has a ${names.size}-byte "name" section: ` +
        'this looks like a debug build; the shipped size comes from ' +
        '`cargo xtask build --release`\n',
    );
  }
}

/** A wasm module's custom sections, `{ name, size }` (to tell a debug build from a release one). */
function customSections(bytes) {
  const names = [];
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100) return names;
  let pos = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError('truncated');
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new RangeError('bad LEB128');
    }
  };
  try {
    while (pos < bytes.length) {
      const id = bytes[pos++];
      const size = leb();
      const end = pos + size;
      if (end > bytes.length) break;
      if (id === 0) {
        const len = leb();
        names.push({ name: bytes.subarray(pos, pos + len).toString('utf8'), size });
      }
      pos = end;
    }
  } catch {
    // A malformed module is not ours to judge here; the size is still measured.
  }
  return names;
}

function gz(bytes) {
  return gzipSync(bytes, { level: 9 }).length;
}

function version(pkgJson) {
  return JSON.parse(readFileSync(pkgJson, 'utf8')).version;
}

/**
 * Bundles one entry file into `outdir` with ESBUILD_SETTINGS and returns its output files.
 * `nodePaths` lets the teleconsult entry resolve `teleconsult` like an installed package
 * (through its package.json `exports`, with the `browser` condition).
 */
async function bundle(entry, outdir, nodePaths = [], plugins = []) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...ESBUILD_SETTINGS,
    entryPoints: [entry],
    outdir,
    nodePaths,
    plugins,
    // A .wasm imported from JS is emitted as a file next to the bundle; the import is its URL.
    loader: { '.wasm': 'file' },
    metafile: true,
    write: true,
    logLevel: 'silent',
  }).catch((e) => fail(`esbuild failed on ${relative(process.cwd(), entry)}:\n${e.message}`));
  return {
    outputs: Object.keys(result.metafile.outputs).map((p) => resolve(p)),
    warnings: result.warnings.length,
  };
}

/**
 * esbuild leaves `new URL('./x.wasm', import.meta.url)` untouched, and once modules are merged
 * that URL would be relative to the bundle instead of to the module that wrote it. As Vite
 * and webpack do, turn each such URL in the package's JS into an import of the .wasm through
 * esbuild's `file` loader, so esbuild emits the .wasm next to the bundle (content-hashed) and
 * the URL points at it.
 */
function wasmUrlAssets(pkgDir) {
  const re = /new URL\(\s*(["'`])([^"'`]+\.wasm)\1\s*,\s*import\.meta\.url\s*\)/g;
  return {
    name: 'wasm-url-assets',
    setup(b) {
      b.onLoad({ filter: /\.m?js$/ }, (args) => {
        const inPkg = relative(pkgDir, args.path);
        if (inPkg.startsWith('..')) return undefined;
        const text = readFileSync(args.path, 'utf8');
        const imports = [];
        const contents = text.replace(re, (_m, _q, rel) => {
          const id = `__wasm_url_${imports.length}`;
          imports.push(`import ${id} from ${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)};`);
          return `new URL(${id}, import.meta.url)`;
        });
        if (imports.length === 0) return undefined;
        return { contents: `${imports.join('\n')}\n${contents}`, loader: 'js' };
      });
    },
  };
}

/**
 * Fails unless every relative `….wasm` string literal in the bundles (after minification the
 * URL's string sits in a variable) names a file beside them; returns how many it found.
 */
function checkWasmUrls(jsFiles) {
  const re = /["'`](\.{1,2}\/[^"'`\s]+\.wasm)["'`]/g;
  let found = 0;
  for (const js of jsFiles) {
    for (const m of readFileSync(js, 'utf8').matchAll(re)) {
      found += 1;
      if (!existsSync(resolve(dirname(js), m[1]))) {
        fail(`${relative(process.cwd(), js)} loads ${m[1]}, which is not beside it`);
      }
    }
  }
  return found;
}

function measure(files) {
  const m = { js_raw: 0, js_gz: 0, wasm_raw: 0, wasm_gz: 0, other_raw: 0, other_gz: 0 };
  for (const f of files) {
    const bytes = readFileSync(f);
    const kind = f.endsWith('.wasm') ? 'wasm' : /\.m?js$/.test(f) ? 'js' : 'other';
    m[`${kind}_raw`] += bytes.length;
    m[`${kind}_gz`] += gz(bytes);
  }
  m.raw = m.js_raw + m.wasm_raw + m.other_raw;
  m.gz = m.js_gz + m.wasm_gz + m.other_gz;
  return m;
}

const kb = (bytes) => (bytes / 1024).toFixed(1);

async function main() {
  const args = parseCli();
  const pkgDir = resolve(args.teleconsult);
  checkPkg(pkgDir);
  const outRoot = resolve(args.out ?? join(here, 'out'));
  mkdirSync(outRoot, { recursive: true });
  if (!existsSync(join(here, 'node_modules/livekit-client/package.json'))) {
    fail(`livekit-client is not installed: run \`npm ci\` in ${relative(process.cwd(), here) || '.'}`);
  }

  // A throw-away node_modules holding only `teleconsult` -> the given package directory.
  const shim = mkdtempSync(join(tmpdir(), 'bundle-race-'));
  const started = performance.now();
  try {
    mkdirSync(join(shim, 'node_modules'));
    symlinkSync(pkgDir, join(shim, 'node_modules/teleconsult'), 'dir');

    const sdks = [
      {
        key: 'teleconsult',
        entry: join(here, 'entries/teleconsult.js'),
        nodePaths: [join(shim, 'node_modules')],
        plugins: [wasmUrlAssets(pkgDir)],
        version: version(join(pkgDir, 'package.json')),
      },
      {
        key: 'teleconsult_join',
        entry: join(here, 'entries/teleconsult-join.js'),
        nodePaths: [join(shim, 'node_modules')],
        plugins: [wasmUrlAssets(pkgDir)],
        version: version(join(pkgDir, 'package.json')),
      },
      {
        key: 'livekit',
        entry: join(here, 'entries/livekit.js'),
        version: version(join(here, 'node_modules/livekit-client/package.json')),
      },
      {
        key: 'twilio',
        entry: join(here, 'entries/twilio.js'),
        version: version(join(here, 'node_modules/twilio-video/package.json')),
      },
    ];

    const results = {};
    for (const sdk of sdks) {
      const outdir = join(outRoot, sdk.key);
      const { outputs, warnings } = await bundle(sdk.entry, outdir, sdk.nodePaths, sdk.plugins);
      const files = outputs.filter((f) => !f.endsWith('.map'));
      const wasmUrls = checkWasmUrls(files.filter((f) => /\.m?js$/.test(f)));
      const wasmFiles = files.filter((f) => f.endsWith('.wasm'));
      if (sdk.key.startsWith('teleconsult') && (wasmUrls === 0 || wasmFiles.length === 0)) {
        fail('the teleconsult bundle does not load an emitted .wasm: the package entry changed ' +
          'how it loads WebAssembly; update wasmUrlAssets in race.mjs');
      }
      // The whole SDK has both modules; the join bundle must have the call module alone (the
      // devices module is the one with the GATT parsers and the Bluetooth driver).
      const want = { teleconsult: 2, teleconsult_join: 1 }[sdk.key];
      if (want !== undefined && (wasmFiles.length !== want || wasmUrls !== want)) {
        fail(`the ${sdk.key} bundle has ${wasmFiles.length} .wasm (${wasmUrls} loaded), not ${want}`);
      }
      results[sdk.key] = { ...measure(files), files: files.length, warnings, version: sdk.version };
    }

    // LiveKit's end-to-end encryption runs in a separate worker that an app bundles as its own
    // entry; it is not part of `livekit_gz` (Teleconsult's E2EE is inside its .wasm).
    const worker = await bundle(
      join(here, 'node_modules/livekit-client/dist/livekit-client.e2ee.worker.mjs'),
      join(outRoot, 'livekit-e2ee-worker'),
    );
    const w = measure(worker.outputs.filter((f) => !f.endsWith('.map')));

    const r = results;
    const lines = [
      `bundle-size: teleconsult_gz=${kb(r.teleconsult.gz)} ` +
        `teleconsult_join_gz=${kb(r.teleconsult_join.gz)} livekit_gz=${kb(r.livekit.gz)} ` +
        `twilio_gz=${kb(r.twilio.gz)}`,
    ];
    for (const [key, m] of Object.entries(r)) {
      let line =
        `bundle-size-${key}: version=${m.version} raw=${m.raw} gz=${m.gz} ` +
        `js_raw=${m.js_raw} js_gz=${m.js_gz} wasm_raw=${m.wasm_raw} wasm_gz=${m.wasm_gz} ` +
        `files=${m.files} esbuild_warnings=${m.warnings}`;
      if (key === 'livekit') line += ` e2ee_worker_raw=${w.raw} e2ee_worker_gz=${w.gz}`;
      lines.push(line);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    writeFileSync(join(outRoot, 'results.txt'), `${lines.join('\n')}\n`);
    process.stderr.write(
      `bundle-race: bundled 3 SDKs (Teleconsult whole and to join; + LiveKit E2EE worker) in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s; outputs in ${outRoot}\n`,
    );
  } finally {
    rmSync(shim, { recursive: true, force: true });
  }
}

await main();
