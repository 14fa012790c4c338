#!/usr/bin/env node
// Where the bytes of a wasm module are: the code of every function, grouped by the source
// module its name points to (groups.json: the first group with a matching name fragment
// wins), raw and gzip -9 per group. Names survive because the module is optimised here as
// `cargo xtask build --release` does, but with `-g`, then run through wasm-bindgen, which
// drops its own describe functions (the code is byte for byte what ships; only the name
// section is added).
//
//   cargo xtask build --release
//   node bench/wasm-functions/by-module.mjs target/wasm32-unknown-unknown/wasm-release/teleconsult-web-call.wasm [GROUP [N]]
//
// GROUP lists that group's N largest functions (default 30). Inlining moves code into its
// callers (a parser inlined into an export counts there), and async bodies are named after
// `web::js::promise`, so the groups are approximate; the module sizes are exact.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const [input, only, top = '30'] = process.argv.slice(2);
if (!input) {
  process.stderr.write('usage: node by-module.mjs <rustc output .wasm> [GROUP [N]]\n');
  process.exit(2);
}
const FEATURES = ['bulk-memory', 'mutable-globals', 'nontrapping-float-to-int', 'sign-ext', 'reference-types', 'multivalue']
  .map((f) => `--enable-${f}`);
const dir = mkdtempSync(join(tmpdir(), 'wasm-functions-'));
let bytes;
try {
  execFileSync('wasm-opt', ['-Oz', '--converge', '-g', '--strip-producers', ...FEATURES, input, '-o', join(dir, 'named.wasm')]);
  execFileSync('wasm-bindgen', ['--target', 'web', '--out-dir', dir, '--out-name', 'm', join(dir, 'named.wasm')]);
  bytes = readFileSync(join(dir, 'm_bg.wasm'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let pos = 8;
const leb = () => {
  let r = 0;
  for (let s = 0; ; s += 7) {
    const b = bytes[pos++];
    r += (b & 0x7f) * 2 ** s;
    if (!(b & 0x80)) return r;
  }
};
const skipName = () => {
  const len = leb();
  pos += len;
};
let imported = 0;
let data = 0;
const bodies = [];
const names = new Map();
while (pos < bytes.length) {
  const id = bytes[pos++];
  const size = leb();
  const end = pos + size;
  if (id === 2) { // imports: count the functions, which come first in the index space
    for (let n = leb(); n > 0; n--) {
      skipName();
      skipName();
      const kind = bytes[pos++];
      if (kind === 0) { leb(); imported++; } else if (kind === 1) { pos++; const f = leb(); leb(); if (f & 1) leb(); } else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); } else pos += 2;
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) {
      const s = leb();
      bodies.push(bytes.subarray(pos, pos + s));
      pos += s;
    }
  } else if (id === 11) {
    data += size;
  } else if (id === 0) {
    const len = leb();
    const name = bytes.subarray(pos, pos + len).toString();
    pos += len;
    while (name === 'name' && pos < end) {
      const sub = bytes[pos++];
      const subSize = leb();
      const subEnd = pos + subSize;
      if (sub === 1) {
        for (let n = leb(); n > 0; n--) {
          const index = leb();
          const l = leb();
          names.set(index, bytes.subarray(pos, pos + l).toString());
          pos += l;
        }
      }
      pos = subEnd;
    }
  }
  pos = end;
}

const groups = JSON.parse(readFileSync(new URL('./groups.json', import.meta.url), 'utf8'));
const by = new Map();
bodies.forEach((body, i) => {
  const name = names.get(imported + i) ?? '?';
  const group = groups.find(([, parts]) => parts.some((p) => name.includes(p)))?.[0] ?? 'other';
  if (!by.has(group)) by.set(group, []);
  by.get(group).push({ name, body });
});
const code = bodies.reduce((n, b) => n + b.length, 0);
const gz = (b) => gzipSync(b, { level: 9 }).length;
console.log(`module ${bytes.length} B (names included); code ${code} B in ${bodies.length} functions; data ${data} B`);
console.log('group                        code B   gzip B    fns  share');
for (const [group, fns] of [...by].sort((a, b) => sum(b[1]) - sum(a[1]))) {
  const raw = sum(fns);
  console.log(`${group.padEnd(26)} ${String(raw).padStart(8)} ${String(gz(Buffer.concat(fns.map((f) => f.body)))).padStart(8)} ${String(fns.length).padStart(6)} ${(100 * raw / code).toFixed(1).padStart(5)}%`);
}
if (only) {
  for (const f of (by.get(only) ?? []).sort((a, b) => b.body.length - a.body.length).slice(0, Number(top))) {
    console.log(`${String(f.body.length).padStart(7)} ${f.name}`);
  }
}

function sum(fns) {
  return fns.reduce((n, f) => n + f.body.length, 0);
}
