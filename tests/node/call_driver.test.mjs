// The consultation's driver (pkg/src/call-driver.ts) and its core (src/web/consultation.rs)
// meet at `poll()`: the core hands over `[kind, …]` arrays, numbered on both sides. And a
// join where WebRTC is missing still refuses bad options as such.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let t;
before(async () => {
  t = await import(join(root, 'pkg/node.mjs'));
});

test('the driver and the core number what poll hands over the same way', () => {
  const rust = readFileSync(join(root, 'src/web/consultation.rs'), 'utf8');
  const block = rust.slice(rust.indexOf('mod todo {'), rust.indexOf('\n}\n', rust.indexOf('mod todo {')));
  const core = Object.fromEntries([...block.matchAll(/pub const (\w+): u32 = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
  const ts = readFileSync(join(root, 'pkg/src/call-driver.ts'), 'utf8');
  const list = ts.slice(ts.indexOf('const TRANSMIT'), ts.indexOf(';', ts.indexOf('const TRANSMIT')));
  const driver = Object.fromEntries([...list.matchAll(/(\w+) = (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  assert.ok(Object.keys(core).length >= 14, `the core lists ${Object.keys(core).length}`);
  assert.deepEqual(driver, core);
});

test('without WebRTC (Node.js) a join refuses bad options as such, and good ones as Unsupported', async () => {
  const invite = t.createInvite('https://clinic.example/p', 'https://clinic.example/c');
  const base = { link: invite.patientLink, relayUrl: 'wss://relay.example/ws', token: 'x', role: 'patient', displayName: 'P' };
  const bad = await t.Consultation.join({ ...base, link: invite.clinicianLink }).then(() => null, (e) => e);
  assert.equal(bad?.code, 'InvalidArgument');
  assert.match(bad.message, /link/);
  const plain = await t.Consultation.join({ ...base, relayUrl: 'ws://relay.example/ws' }).then(() => null, (e) => e);
  assert.equal(plain?.code, 'InvalidArgument', 'ws:// to a host that is not loopback');
  const good = await t.Consultation.join(base).then(() => null, (e) => e);
  assert.equal(good?.code, 'Unsupported');
  assert.match(good.message, /WebRTC/);
});
