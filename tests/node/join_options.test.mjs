// Issue 16: join options checked at the TypeScript edge — `audioOnlyFallback` (the audio-only
// fallback's off switch) must be a boolean; anything else is InvalidArgument naming it, before
// any connection is tried.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let t;
before(async () => {
  t = await import(join(root, 'pkg/node.mjs'));
});

test('audioOnlyFallback that is not a boolean is refused with InvalidArgument', async () => {
  const invite = t.createInvite('https://clinic.example/p', 'https://clinic.example/c');
  const base = { link: invite.patientLink, relayUrl: 'wss://relay.example/ws', token: 'x', role: 'patient', displayName: 'P' };
  for (const value of ['false', '0', 0, 1, NaN, 0n, null, {}, [], 'yes']) {
    const err = await t.Consultation.join({ ...base, audioOnlyFallback: value }).then(() => null, (e) => e);
    assert.ok(err, `${String(value)} was accepted`);
    assert.equal(err.code, 'InvalidArgument', String(value));
    assert.match(err.message, /audioOnlyFallback/);
  }
});
