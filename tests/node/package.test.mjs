// The built npm package in Node.js 20: packed, installed into a scratch project as a user
// would, imported by name, and called.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const pkgDir = join(root, 'pkg');
const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
let sdk;

before(async () => {
  sdk = await import(join(pkgDir, 'node.mjs'));
});

test('version() is the package version', () => {
  assert.equal(sdk.version(), manifest.version);
});

test('capabilities() in Node.js names the bridge for devices and the native peer for video', () => {
  const caps = sdk.capabilities();
  assert.equal(caps.platform, 'node');
  assert.equal(caps.webBluetooth.available, false);
  assert.match(caps.webBluetooth.reason, /device bridge/);
  assert.equal(caps.rtcPeerConnection.available, false);
  assert.match(caps.rtcPeerConnection.reason, /native peer/);
  assert.equal(caps.webCrypto.available, true, 'Node.js 20 has globalThis.crypto.subtle');
  assert.equal(caps.webCrypto.reason, undefined);
});

test('requireCapabilities() throws TeleconsultError with a stable code', () => {
  assert.throws(() => sdk.requireCapabilities(['webBluetooth']), (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TeleconsultError');
    assert.equal(err.code, sdk.ErrorCode.Unsupported);
    assert.match(err.message, /device bridge/);
    return true;
  });
  assert.throws(() => sdk.requireCapabilities(['teleportation']), { code: 'InvalidArgument' });
  assert.doesNotThrow(() => sdk.requireCapabilities(['webCrypto']));
});

test('ErrorCode at runtime lists exactly the codes the TypeScript type declares', () => {
  const dts = readFileSync(join(pkgDir, 'types/types/error-code.d.ts'), 'utf8');
  const union = dts.match(/export type ErrorCode = ([^;]+);/)[1];
  const declared = [...union.matchAll(/"(\w+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(Object.keys(sdk.ErrorCode).sort(), declared);
  assert.ok(Object.isFrozen(sdk.ErrorCode));
});

test('the browser entry `teleconsult` never loads the devices module; `teleconsult/devices` does', () => {
  // What a page that joins imports: index.js and the chunks it imports. None of them may name
  // the devices module (the GATT parsers and the Bluetooth driver: issue 14).
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(pkgDir, file), 'utf8');
    assert.doesNotMatch(text, /teleconsult_devices|web-devices/, `${file} loads the devices module`);
    for (const [, dep] of text.matchAll(/from\s*["']\.\/([^"']+)["']/g)) {
      if (!dep.startsWith('web/')) walk(dep);
    }
  };
  walk('index.js');
  assert.ok(seen.size >= 2, 'index.js imports its shared chunk');
  assert.match(readFileSync(join(pkgDir, 'devices.js'), 'utf8'), /web-devices\/teleconsult_devices_bg\.wasm/);
});

test('both entries type-check in a strict project without skipLibCheck (the devices declarations name the call module\'s types)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'teleconsult-types-'));
  try {
    mkdirSync(join(scratch, 'node_modules'));
    symlinkSync(pkgDir, join(scratch, 'node_modules/teleconsult'), 'dir');
    writeFileSync(join(scratch, 'app.ts'), [
      "import { Consultation, TeleconsultError } from 'teleconsult';",
      "import { shareReadings, DeviceBridge, type Reading } from 'teleconsult/devices';",
      'export function go(c: Consultation, id: string): Reading[] {',
      '  shareReadings(c, id, new DeviceBridge({})).close();',
      '  void TeleconsultError;',
      '  return [];',
      '}',
    ].join('\n'));
    writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
        strict: true, noEmit: true, skipLibCheck: false, types: [],
      },
      files: ['app.ts'],
    }));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', scratch], { encoding: 'utf8' });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('npm pack produces a tarball that installs and imports by name in a scratch project', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'teleconsult-pack-'));
  try {
    const packed = execFileSync('npm', ['pack', pkgDir, '--pack-destination', scratch, '--json'], {
      encoding: 'utf8',
    });
    const [{ filename, files }] = JSON.parse(packed);
    const paths = files.map((f) => f.path);
    for (const needed of ['package.json', 'index.js', 'index.d.ts', 'node.mjs', 'web/teleconsult_bg.wasm', 'node/teleconsult_bg.wasm', 'README.md',
      'devices.js', 'devices.d.ts', 'devices-node.mjs', 'devices-node.cjs', 'web-devices/teleconsult_devices_bg.wasm', 'node-devices/teleconsult_devices_bg.wasm']) {
      assert.ok(paths.includes(needed), `tarball lacks ${needed}`);
    }
    // Every file the entries import is packed (the code both entries share is in chunks).
    for (const entry of ['index.js', 'devices.js', 'node.mjs', 'devices-node.mjs']) {
      for (const [, dep] of readFileSync(join(pkgDir, entry), 'utf8').matchAll(/from\s*["'](\.\/[^"']+)["']/g)) {
        assert.ok(paths.includes(dep.slice(2)), `${entry} imports ${dep}, which the tarball lacks`);
      }
    }
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(scratch, filename)], { cwd: scratch, stdio: 'pipe' });
    const script = "const t = await import('teleconsult'); console.log(JSON.stringify({ v: t.version(), p: t.capabilities().platform }));";
    const esm = JSON.parse(execFileSync('node', ['--input-type=module', '-e', script], { cwd: scratch, encoding: 'utf8' }));
    assert.deepEqual(esm, { v: manifest.version, p: 'node' });
    const cjs = execFileSync('node', ['-e', "console.log(require('teleconsult').version())"], { cwd: scratch, encoding: 'utf8' });
    assert.equal(cjs.trim(), manifest.version);
    const devices = "const d = await import('teleconsult/devices'); const t = await import('teleconsult'); " +
      "console.log(JSON.stringify({ hr: d.parseMeasurement('2a37', [0, 72]).value.heartRate, same: d.DeviceBridge === require('teleconsult/devices').DeviceBridge }));";
    const both = JSON.parse(execFileSync('node', ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url + '/'); ${devices}`], { cwd: scratch, encoding: 'utf8' }));
    assert.deepEqual(both, { hr: 72, same: true });
    const cjsDevices = execFileSync('node', ['-e', "console.log(typeof require('teleconsult/devices').captureReading)"], { cwd: scratch, encoding: 'utf8' });
    assert.equal(cjsDevices.trim(), 'function');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
