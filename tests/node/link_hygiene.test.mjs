// Issue 13, point 8, in Node.js 20: `relayUrl` with ws:// (no TLS) is refused unless the host is
// loopback (the end-to-end tests join ws://127.0.0.1 relays, so loopback is exercised there),
// and `takeInviteLink` does nothing outside a browser page.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let t;
before(async () => {
  t = await import(join(root, 'pkg/node.mjs'));
});

test('relayUrl with ws:// to a host that is not loopback is refused with InvalidArgument', async () => {
  const invite = t.createInvite('https://clinic.example/p', 'https://clinic.example/c');
  for (const relayUrl of [
    'ws://relay.example/ws', 'WS://relay.example/ws', 'ws://192.168.1.10:8080/', 'ws://10.0.0.1/',
    'ws://128.0.0.1/', 'ws://127.0.0.1.evil.example/', 'ws://localhost.evil.example/',
    'ws://127.0.0.1@evil.example/', 'ws://[::2]/', 'ws://[::ffff:127.0.0.1]/', 'ws://',
    'http://127.0.0.1/', 'https://relay.example/',
  ]) {
    const err = await t.Consultation.join({ link: invite.patientLink, relayUrl, token: 'x', role: 'patient', displayName: 'P' })
      .then(() => null, (e) => e);
    assert.ok(err, `${relayUrl} was accepted`);
    assert.equal(err.code, 'InvalidArgument', relayUrl);
    assert.match(err.message, /relayUrl/);
    assert.doesNotMatch(err.message, /evil|relay\.example|192\.168/, 'the message never echoes the URL');
  }
});

test('takeInviteLink returns undefined where there is no address bar', () => {
  assert.equal(t.takeInviteLink(), undefined);
});
