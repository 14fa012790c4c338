// The decoder of the byte tape the wasm writes for every result (src/web/to_js.rs): tested
// directly on hand-written tapes, so a format slip on either side shows up here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValue } from '../../src/web/snippets/values.js';

const utf8 = new TextEncoder();
const u32 = (n) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
const str = (s) => { const b = utf8.encode(s); return [4, ...u32(b.length), ...b]; };
const key = str;
const num = (x) => { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x, true); return [3, ...b]; };
const tape = (...parts) => new Uint8Array(parts.flat());

test('scalars: undefined, booleans, numbers (incl. -0 and fractions), UTF-8 strings', () => {
  assert.equal(decodeValue(tape([0])), undefined);
  assert.equal(decodeValue(tape([1])), false);
  assert.equal(decodeValue(tape([2])), true);
  assert.equal(decodeValue(tape(num(72.5))), 72.5);
  assert.ok(Object.is(decodeValue(tape(num(-0))), -0));
  assert.equal(decodeValue(tape(str('Ωmega 🫀'))), 'Ωmega 🫀');
});

test('bytes are a copy, not a view of the tape', () => {
  const t = tape([5, ...u32(3), 9, 8, 7]);
  const b = decodeValue(t);
  assert.ok(b instanceof Uint8Array);
  assert.deepEqual(Array.from(b), [9, 8, 7]);
  t[5] = 0;
  assert.equal(b[0], 9);
});

test('objects keep key order and undefined fields; arrays nest; a variant wraps its value', () => {
  const v = decodeValue(tape(
    [7], key('b'), num(1), key('a'), [0], key('list'), [6], num(1), str('x'), [6, 8], [8],
    key('kind'), [7], key('HeartRate'), [7], key('bpm'), num(60), [8], [8], [8],
  ));
  assert.deepEqual(Object.keys(v), ['b', 'a', 'list', 'kind']);
  assert.ok('a' in v && v.a === undefined);
  assert.deepEqual(v.list, [1, 'x', []]);
  assert.deepEqual(v.kind, { HeartRate: { bpm: 60 } });
});

test('a "__proto__" key becomes an own property, not the prototype', () => {
  const v = decodeValue(tape([7], key('__proto__'), [7], key('polluted'), [2], [8], [8]));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__']);
  assert.equal({}.polluted, undefined);
});

test('works on a view into a larger buffer (as the wasm memory is)', () => {
  const big = new Uint8Array(64);
  const t = tape(str('ok'));
  big.set(t, 17);
  assert.equal(decodeValue(big.subarray(17, 17 + t.length)), 'ok');
});
