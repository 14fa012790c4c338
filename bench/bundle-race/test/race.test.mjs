// node --test bench/bundle-race/test/ — needs `npm ci` here and, for the size test, a built pkg/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const race = resolve(here, '../race.mjs');
const pkg = resolve(here, '../../../pkg');

function run(...args) {
  return spawnSync(process.execPath, [race, ...args], { encoding: 'utf8' });
}

test('refuses an unbuilt package with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'race-unbuilt-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"name":"teleconsult","version":"0.0.0"}');
    writeFileSync(join(dir, 'index.js'), '');
    const r = run('--teleconsult', dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /has not been built: web\/teleconsult\.js is missing/);
    assert.match(r.stderr, /cargo xtask build --release/);
    assert.equal(r.stdout, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refuses a missing directory and a missing flag', () => {
  const r = run('--teleconsult', join(tmpdir(), 'no-such-teleconsult-pkg'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /not a package directory/);
  const r2 = run();
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /missing --teleconsult/);
});

test('prints one summary line and one detail line per SDK', { skip: !existsSync(join(pkg, 'web/teleconsult_bg.wasm')) && 'pkg/ not built' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'race-out-'));
  try {
    const r = run('--teleconsult', pkg, '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 5);
    const m = lines[0].match(/^bundle-size: teleconsult_gz=(\d+\.\d) teleconsult_join_gz=(\d+\.\d) livekit_gz=(\d+\.\d) twilio_gz=(\d+\.\d)$/);
    assert.ok(m, lines[0]);
    for (const sdk of ['teleconsult', 'teleconsult_join', 'livekit', 'twilio']) {
      assert.equal(lines.filter((l) => l.startsWith(`bundle-size-${sdk}: `)).length, 1);
    }
    const detail = (key) => Object.fromEntries(
      lines.find((l) => l.startsWith(`bundle-size-${key}: `)).replace(/^[^:]+: /, '').split(' ').map((kv) => kv.split('=')),
    );
    const whole = detail('teleconsult');
    const join = detail('teleconsult_join');
    // Teleconsult's size counts its .wasm as well as its JS.
    for (const d of [whole, join]) {
      assert.ok(Number(d.wasm_gz) > 0 && Number(d.js_gz) > 0);
      assert.equal(Number(d.gz), Number(d.wasm_gz) + Number(d.js_gz));
    }
    assert.equal(m[1], (Number(whole.gz) / 1024).toFixed(1));
    assert.equal(m[2], (Number(join.gz) / 1024).toFixed(1));
    // The join bundle has the call module only (one .wasm: the devices module is left out),
    // the whole SDK both; so joining downloads less.
    assert.equal(Number(join.files), 2);
    assert.equal(Number(whole.files), 3);
    assert.ok(Number(join.wasm_gz) < Number(whole.wasm_gz));
    // The pinned competitors land where they were measured before (KiB; 146 / 91).
    assert.ok(Math.abs(Number(m[3]) - 146.2) < 5, `livekit ${m[3]}`);
    assert.ok(Math.abs(Number(m[4]) - 91.3) < 5, `twilio ${m[4]}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
