// The devices API of the built package in Node.js 20: parseMeasurement, captureReading,
// measurementToFhir, DeviceBridge, and sharing readings between two (fake) consultations.
//
// The spec vectors, malformed payloads and FHIR fixtures are the native test tables
// (tests/devices_*.rs, tests/data/devices/), read from the Rust sources, so the JavaScript
// API is checked against exactly what the core promises.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let sdk;
before(async () => {
  // The devices API is `teleconsult/devices`; the consultation side is `teleconsult`.
  sdk = { ...await import(join(root, 'pkg/node.mjs')), ...await import(join(root, 'pkg/devices-node.mjs')) };
});

const UUIDS = {
  heartRateMeasurement: 0x2a37, bloodPressureMeasurement: 0x2a35, intermediateCuffPressure: 0x2a36,
  temperatureMeasurement: 0x2a1c, temperatureType: 0x2a1d, weightMeasurement: 0x2a9d,
  weightScaleFeature: 0x2a9e, glucoseMeasurement: 0x2a18, glucoseMeasurementContext: 0x2a34,
  recordAccessControlPoint: 0x2a52, plxSpotCheckMeasurement: 0x2a5e, plxContinuousMeasurement: 0x2a5f,
  plxFeatures: 0x2a60, batteryLevel: 0x2a19, dateTime: 0x2a08, manufacturerNameString: 0x2a29,
  modelNumberString: 0x2a24, serialNumberString: 0x2a25, hardwareRevisionString: 0x2a27,
  firmwareRevisionString: 0x2a26, softwareRevisionString: 0x2a28, systemId: 0x2a23, pnpId: 0x2a50,
};
const bytesOf = (list) => list.split(',').map((s) => s.trim()).filter(Boolean).map(Number);

/** (what, uuid, bytes, expected) from tests/devices/spec_vectors.rs. */
function specVectors() {
  const src = readFileSync(join(root, 'tests/devices/spec_vectors.rs'), 'utf8');
  const re = /\(\s*"([^"]*)",\s*"([^"]*)",\s*&\[([^\]]*)\],\s*r#"([\s\S]*?)"#,?\s*\)/g;
  return [...src.matchAll(re)].map((m) => ({ what: m[1], uuid: m[2], bytes: bytesOf(m[3]), want: JSON.parse(m[4]) }));
}

/** (what, characteristic name, bytes, reason, field) from tests/devices/malformed_payloads.rs. */
function malformedVectors() {
  const src = readFileSync(join(root, 'tests/devices/malformed_payloads.rs'), 'utf8');
  const consts = Object.fromEntries([...src.matchAll(/const (\w+): C = C::(\w+);/g)]
    .map(([, k, v]) => [k, v[0].toLowerCase() + v.slice(1)]));
  const re = /\(\s*"([^"]*)",\s*(\w+),\s*&\[([^\]]*)\],\s*(short|extra|reserved|invalid)\((\w+),\s*(?:"([^"]*)"|\d+)\s*\),?\s*\)/g;
  const reasons = { short: 'truncated', extra: 'trailingBytes', reserved: 'reserved', invalid: 'invalid' };
  return [...src.matchAll(re)].map((m) => ({
    what: m[1], characteristic: consts[m[2]], bytes: bytesOf(m[3]), reason: reasons[m[4]], field: m[6],
  }));
}

test('every spec vector parses to the value the core promises', () => {
  const vectors = specVectors();
  assert.ok(vectors.length >= 60, `found ${vectors.length} vectors`);
  for (const { what, uuid, bytes, want } of vectors) {
    assert.deepStrictEqual(sdk.parseMeasurement(uuid, new Uint8Array(bytes)), want, what);
  }
});

test('every malformed payload throws MalformedMeasurement naming characteristic and field, never the bytes', () => {
  const vectors = malformedVectors();
  assert.ok(vectors.length >= 40, `found ${vectors.length} vectors`);
  for (const { what, characteristic, bytes, reason, field } of vectors) {
    const uuid = UUIDS[characteristic];
    assert.ok(uuid, `${what}: unknown characteristic ${characteristic}`);
    assert.throws(() => sdk.parseMeasurement(uuid, bytes), (err) => {
      assert.equal(err.name, 'TeleconsultError', what);
      assert.equal(err.code, 'MalformedMeasurement', what);
      assert.equal(err.reason, reason, what);
      assert.equal(err.characteristic, characteristic, what);
      if (field !== undefined) {
        assert.equal(err.field, field, what);
        assert.ok(err.message.includes(field), what);
      }
      assert.ok(!/\b0x[0-9A-F]{2}\b(?!\w)/.test(err.message.replace(/\(0x[0-9A-F]{4}\)/, '')), `${what}: ${err.message}`);
      return true;
    }, what);
  }
});

test('every accepted form of a characteristic and of a value parses alike', () => {
  const bytes = [0x10, 0x48, 0x00, 0x04];
  const want = { kind: 'heartRate', value: { heartRate: 72, sensorContact: 'notSupported', rrIntervals: [1024] } };
  for (const c of ['2a37', '2A37', '0x2A37', '00002a37-0000-1000-8000-00805f9b34fb', '00002A37-0000-1000-8000-00805F9B34FB', 0x2a37]) {
    assert.deepStrictEqual(sdk.parseMeasurement(c, bytes), want, String(c));
  }
  const big = new ArrayBuffer(16);
  new Uint8Array(big).set(bytes, 5);
  const values = {
    'DataView with offset': new DataView(big, 5, 4),
    'Uint8Array': new Uint8Array(bytes),
    'Uint8Array subarray': new Uint8Array(big).subarray(5, 9),
    'ArrayBuffer': new Uint8Array(bytes).buffer,
    'Buffer': Buffer.from(bytes),
    'number[]': bytes,
    'base64': Buffer.from(bytes).toString('base64'),
    'base64 url-safe, unpadded': Buffer.from(bytes).toString('base64url'),
  };
  for (const [what, value] of Object.entries(values)) {
    assert.deepStrictEqual(sdk.parseMeasurement('2a37', value), want, what);
  }
  // 01 FB 7F (heart rate 32763, u16): standard "Aft/" and URL-safe "Aft_".
  assert.equal(Buffer.from([0x01, 0xFB, 0x7F]).toString('base64'), 'Aft/');
  assert.equal(sdk.parseMeasurement('2a37', 'Aft/').value.heartRate, 32763);
  assert.equal(sdk.parseMeasurement('2a37', 'Aft_').value.heartRate, 32763);
  assert.deepStrictEqual(sdk.parseMeasurement('2a19', 'ZA=='), { kind: 'batteryLevel', value: 100 });
  assert.deepStrictEqual(sdk.parseMeasurement('2a19', 'ZA'), { kind: 'batteryLevel', value: 100 });
});

test('bad arguments are InvalidArgument, not MalformedMeasurement', () => {
  const invalid = [
    ['2a37', 'not base64!'],
    ['2a37', 'ZA='], // impossible padding
    ['2a37', 'ZB=='], // non-zero trailing bits
    ['2a37', [0x10, 256]],
    ['2a37', [0x10, -1]],
    ['2a37', [0x10, 1.5]],
    ['2a37', new Uint8Array(513)],
    ['2a37', 'A'.repeat(1000)],
    ['2a37', 42],
    ['2a37', {}],
    ['heart_rate', [0x00, 0x48]],
    ['6e400001-b5a3-f393-e0a9-e50e24dcca9e', [0x00, 0x48]],
    ['180d', [0x00, 0x48]],
    [0x12345, [0x00, 0x48]],
    [null, [0x00, 0x48]],
  ];
  for (const [c, v] of invalid) {
    assert.throws(() => sdk.parseMeasurement(c, v), { name: 'TeleconsultError', code: 'InvalidArgument' }, `${c} ${String(v).slice(0, 20)}`);
  }
});

// ----- captureReading and measurementToFhir ------------------------------------------------

const NOW = 1_709_624_000_000; // 2024-03-05T07:33:20Z
const BP = [0x16, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x48, 0x00, 0x04, 0x00];
const SYSTEM_ID = [0xC3, 0x77, 0xAD, 0xDE, 0xEE, 0xAB, 0xED, 0xFE]; // EUI-64 FE-ED-AB-EE-DE-AD-77-C3
const PNP_ID = [0x01, 0x0D, 0x00, 0x34, 0x12, 0x10, 0x01];

test('captureReading gives a reading with provenance, trusted time, flags and its raw record', () => {
  const r = sdk.captureReading('00002a35-0000-1000-8000-00805f9b34fb', new Uint8Array(BP), {
    deviceId: 'dev-1', now: NOW, utcOffsetMinutes: 60, systemId: 'FE-ED-AB-EE-DE-AD-77-C3', pnpId: PNP_ID,
  });
  assert.match(r.id, /^[0-9a-f]{32}$/);
  assert.equal(r.characteristic, 'bloodPressureMeasurement');
  assert.equal(r.measurement.kind, 'bloodPressure');
  assert.equal(r.measurement.value.systolic, 121);
  assert.equal(r.measurement.value.diastolic, 81);
  assert.equal(r.measurement.value.pulseRate, 72);
  assert.deepEqual(r.device, {
    id: 'dev-1', systemId: 'FE-ED-AB-EE-DE-AD-77-C3',
    pnpId: { vendorIdSource: 'bluetoothSig', vendorId: 13, productId: 0x1234, productVersion: 0x0110 },
  });
  assert.equal(r.deviceTimestamp.trusted, true);
  assert.equal(r.effectiveTimeSource, 'device');
  assert.equal(r.effectiveTime, Date.UTC(2024, 2, 5, 7, 30, 15));
  assert.deepEqual(r.flags, ['irregularPulse']);
  assert.equal(r.patientData, true);
  assert.deepEqual(r.raw, {
    uuid: 0x2a35, value: Buffer.from(BP).toString('base64'), deviceId: 'dev-1',
    systemId: 'FE-ED-AB-EE-DE-AD-77-C3', pnpId: Buffer.from(PNP_ID).toString('base64'),
    receivedAt: NOW, utcOffsetMinutes: 60,
  });
  // The System ID as bytes or as its EUI-64 gives the same reading; with a System ID the id
  // does not depend on the host's device id (another browser or a bridge agrees).
  const viaBytes = sdk.captureReading(0x2a35, BP, { deviceId: 'other-host-id', now: NOW + 5, utcOffsetMinutes: 60, systemId: SYSTEM_ID });
  assert.equal(viaBytes.id, r.id);
});

test('captureReading options: unknown offset, defaults, and bad options', () => {
  const r = sdk.captureReading('2a35', BP, { deviceId: 'dev-1', now: NOW, utcOffsetMinutes: null });
  assert.equal(r.deviceTimestamp.trusted, false);
  assert.equal(r.deviceTimestamp.untrustedReason, 'noUtcOffset');
  assert.equal(r.effectiveTime, NOW);
  assert.equal(r.raw.utcOffsetMinutes, undefined);
  const d = sdk.captureReading('2a37', [0x00, 0x48], { deviceId: 'd' });
  assert.ok(Math.abs(d.receivedAt - Date.now()) < 5_000, 'now defaults to Date.now()');
  assert.equal(d.utcOffsetMinutes, 0 - new Date().getTimezoneOffset() + 0);
  for (const options of [undefined, {}, { deviceId: '' }, { deviceId: 'x'.repeat(300) }, { deviceId: 'd', now: -1 },
    { deviceId: 'd', now: 1.5 }, { deviceId: 'd', utcOffsetMinutes: 5000 }, { deviceId: 'd', systemId: 'FE-ED' }]) {
    assert.throws(() => sdk.captureReading('2a37', [0x00, 0x48], options), { code: 'InvalidArgument' }, JSON.stringify(options));
  }
  // A non-measurement characteristic is the caller's mistake; a bad PnP ID is bad device data.
  assert.throws(() => sdk.captureReading('2a19', [50], { deviceId: 'd' }), { code: 'InvalidArgument', reason: 'notAMeasurement' });
  assert.throws(() => sdk.captureReading('2a37', [0x00, 0x48], { deviceId: 'd', pnpId: [9, 0, 0, 0, 0, 0, 0] }),
    { code: 'MalformedMeasurement', characteristic: 'pnpId', field: 'vendorIdSource' });
});

test('weight scale feature (number or bytes) trims to the declared resolution', () => {
  // 0x2A9E: weight resolution 7 (0.005 kg) → bits 3-6 = 7 → 0x38.
  const weight = [0x00, 0x48, 0x3A]; // 14920 * 0.005 = 74.6 kg
  const a = sdk.captureReading('2a9d', weight, { deviceId: 'scale', now: NOW, weightScaleFeature: 0x38 });
  const b = sdk.captureReading('2a9d', weight, { deviceId: 'scale', now: NOW, weightScaleFeature: [0x38, 0, 0, 0] });
  assert.equal(a.measurement.value.weight, 74.6);
  assert.deepEqual(a, b);
  assert.equal(a.raw.weightScaleFeature, 0x38);
  // A reserved weight resolution (15 → 0x78) is ignored, as the Bluetooth specifications ask:
  // the resolution reads as not specified, nothing is trimmed or warned about.
  const c = sdk.captureReading('2a9d', weight, { deviceId: 'scale', now: NOW, weightScaleFeature: 0x78 });
  assert.equal(c.measurement.value.weight, 74.6);
  assert.ok(!c.warnings.includes('weightOffResolution'));
});

test('a glucose context attaches to its record, and only to it', () => {
  // Record 7 with context follows (flag bit 4), 95 mg/dL capillary whole blood.
  const glucose = [0x12, 0x07, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x11];
  const context = [0x02, 0x07, 0x00, 0x01]; // meal present: preprandial
  const r = sdk.captureReading('2a18', glucose, { deviceId: 'meter', now: NOW, utcOffsetMinutes: 60, glucoseContext: context });
  assert.equal(r.sequenceNumber, 7);
  assert.equal(r.glucoseContext.meal, 'preprandial');
  assert.equal(r.raw.glucoseContext, Buffer.from(context).toString('base64'));
  assert.throws(() => sdk.captureReading('2a18', glucose, { deviceId: 'meter', glucoseContext: [0x02, 0x08, 0x00, 0x01] }),
    { code: 'InvalidArgument', reason: 'contextMismatch' });
});

/** (fixture, uuid, bytes, offset) from tests/devices/fhir_observations.rs. */
function fhirCases() {
  const src = readFileSync(join(root, 'tests/devices/fhir_observations.rs'), 'utf8');
  const re = /\(\s*"([\w.]+\.json)",\s*"(\w+)",\s*&\[([^\]]*)\],\s*(Some\((-?\d+)\)|None),?\s*\)/g;
  return [...src.matchAll(re)].map((m) => ({ file: m[1], uuid: m[2], bytes: bytesOf(m[3]), offset: m[5] === undefined ? null : Number(m[5]) }));
}

test('measurementToFhir gives exactly the reviewed FHIR fixtures of the core', () => {
  const cases = fhirCases();
  assert.ok(cases.length >= 12, `found ${cases.length} cases`);
  for (const { file, uuid, bytes, offset } of cases) {
    const reading = sdk.captureReading(uuid, bytes, { deviceId: 'dev-1', now: NOW, utcOffsetMinutes: offset });
    const got = sdk.measurementToFhir(reading, { subject: 'Patient/p1', device: 'Device/d1', gatewayDevice: 'Device/gateway' });
    const want = JSON.parse(readFileSync(join(root, 'tests/data/devices', file), 'utf8'));
    assert.deepStrictEqual(JSON.parse(JSON.stringify(got)), want, file);
  }
});

test('measurementToFhir rebuilds from raw: JSON round trips work, edited readings are refused', () => {
  const reading = sdk.captureReading('2a35', BP, { deviceId: 'dev-1', now: NOW, utcOffsetMinutes: 60, systemId: SYSTEM_ID });
  const stored = JSON.parse(JSON.stringify(reading));
  const obs = sdk.measurementToFhir(stored, { subject: 'Patient/p1' });
  assert.equal(obs[0].device.reference, 'Device/phd-feedabeedead77c3', 'default Device reference from the EUI-64');
  assert.equal(obs[0].identifier[0].value, `${reading.id}-150020`);
  // Editing a parsed field changes nothing: the FHIR form comes from the raw bytes.
  const edited = structuredClone(stored);
  edited.measurement.value.systolic = 90;
  assert.deepEqual(sdk.measurementToFhir(edited, { subject: 'Patient/p1' }), obs);
  // Editing the raw bytes breaks the id.
  const forged = structuredClone(stored);
  forged.raw.value = Buffer.from([0x00, 0x5A, 0x00, 0x3C, 0x00, 0x46, 0x00]).toString('base64');
  assert.throws(() => sdk.measurementToFhir(forged, { subject: 'Patient/p1' }), { code: 'InvalidArgument', message: /does not match its id/ });
  assert.throws(() => sdk.measurementToFhir({ id: 'x' }, { subject: 'Patient/p1' }), { code: 'InvalidArgument' });
  assert.throws(() => sdk.measurementToFhir(stored, {}), { code: 'InvalidArgument' });
  // Without a System ID the default Device id is a hash of the device id (FHIR-id safe).
  const plain = sdk.captureReading('2a37', [0x00, 0x48], { deviceId: 'Qz+/ab==', now: NOW });
  assert.match(sdk.measurementToFhir(plain, { subject: 'Patient/p1' })[0].device.reference, /^Device\/phd-[0-9a-f]{16}$/);
});

// ----- DeviceBridge ---------------------------------------------------------------------------

function collect(target, ...types) {
  const seen = [];
  for (const type of types) target.addEventListener(type, (e) => seen.push({ type, ...e.detail }));
  return seen;
}

test('DeviceBridge: each value form a native plugin hands up gives the same reading as captureReading', () => {
  const bridge = new sdk.DeviceBridge({ utcOffsetMinutes: 60 });
  const seen = collect(bridge, 'reading');
  const forms = [
    Buffer.from(BP).toString('base64'), // Capacitor, react-native-ble-plx
    BP, // Cordova (after Array.from), React Native arrays
    new Uint8Array(BP),
    new DataView(new Uint8Array(BP).buffer),
  ];
  for (const [i, value] of forms.entries()) {
    bridge.push({ deviceId: 'AA:BB:CC:DD:EE:FF', service: '1810', characteristic: '00002a35-0000-1000-8000-00805f9b34fb', value, receivedAt: NOW + i });
  }
  assert.equal(seen.length, 4);
  const direct = sdk.captureReading('2a35', BP, { deviceId: 'AA:BB:CC:DD:EE:FF', now: NOW, utcOffsetMinutes: 60 });
  assert.deepEqual(seen[0].reading, direct);
  assert.ok(seen.every((e) => e.reading.id === direct.id), 'a timestamped value has one id however often it comes');
  assert.equal(seen[0].observations, undefined, 'no FHIR without fhir options');
});

test('DeviceBridge: device information pushed first becomes provenance; FHIR is attached', () => {
  const bridge = new sdk.DeviceBridge({ fhir: { subject: 'Patient/p1' }, utcOffsetMinutes: 60 });
  const seen = collect(bridge, 'reading', 'deviceinfo');
  const id = 'ios-peripheral-uuid';
  bridge.push({ deviceId: id, characteristic: '2a23', value: Buffer.from(SYSTEM_ID).toString('base64') });
  bridge.push({ deviceId: id, characteristic: '2a50', value: PNP_ID });
  bridge.push({ deviceId: id, characteristic: '2a29', value: Buffer.from('Acme Medical') });
  bridge.push({ deviceId: id, characteristic: '2a19', value: [87] });
  bridge.push({ deviceId: id, characteristic: '2a35', value: BP, receivedAt: NOW });
  assert.deepEqual(seen.filter((e) => e.type === 'deviceinfo').length, 4);
  const info = bridge.device(id);
  assert.equal(info.manufacturer, 'Acme Medical');
  assert.equal(info.batteryLevel, 87);
  assert.equal(info.systemId, 'FE-ED-AB-EE-DE-AD-77-C3');
  const reading = seen.find((e) => e.type === 'reading');
  assert.equal(reading.reading.device.systemId, 'FE-ED-AB-EE-DE-AD-77-C3');
  assert.equal(reading.reading.device.pnpId.productId, 0x1234);
  assert.equal(reading.observations.length, 2, 'BP panel + pulse rate');
  assert.equal(reading.observations[0].subject.reference, 'Patient/p1');
  assert.equal(reading.observations[0].device.reference, 'Device/phd-feedabeedead77c3');
  assert.equal(bridge.device('unknown'), undefined);
});

test('DeviceBridge: a glucose record announcing a context waits for it', () => {
  const bridge = new sdk.DeviceBridge({ utcOffsetMinutes: 60 });
  const seen = collect(bridge, 'reading');
  const record = (seq, flags = 0x12) => [flags, seq, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x11];
  bridge.push({ deviceId: 'm', characteristic: '2a18', value: record(1) });
  assert.equal(seen.length, 0, 'held until its context');
  bridge.push({ deviceId: 'm', characteristic: '2a34', value: [0x02, 0x01, 0x00, 0x03] });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].reading.glucoseContext.meal, 'fasting');
  // A record whose context never comes goes out when the next record arrives, or on disconnect.
  bridge.push({ deviceId: 'm', characteristic: '2a18', value: record(2) });
  bridge.push({ deviceId: 'm', characteristic: '2a18', value: record(3, 0x02) });
  assert.deepEqual(seen.map((e) => e.reading.sequenceNumber), [1, 2, 3]);
  assert.equal(seen[1].reading.glucoseContext, undefined);
  bridge.push({ deviceId: 'm', characteristic: '2a18', value: record(4) });
  bridge.disconnected('m');
  assert.deepEqual(seen.map((e) => e.reading.sequenceNumber), [1, 2, 3, 4]);
});

test('DeviceBridge: bad pushes throw and emit nothing; RACP indications become racp events', () => {
  const bridge = new sdk.DeviceBridge();
  const seen = collect(bridge, 'reading', 'racp', 'deviceinfo');
  assert.throws(() => bridge.push({ deviceId: 'd', characteristic: '2a37', value: [0x10, 0x48] }),
    { code: 'MalformedMeasurement', reason: 'truncated', field: 'rrInterval' });
  assert.throws(() => bridge.push({ deviceId: 'd', characteristic: '2a19', value: [101] }), { code: 'MalformedMeasurement', reason: 'reserved' });
  assert.throws(() => bridge.push({ deviceId: 'd', characteristic: 'ffff', value: [0] }), { code: 'InvalidArgument' });
  assert.throws(() => bridge.push({ deviceId: 'd', service: 'nope', characteristic: '2a37', value: [0, 72] }), { code: 'InvalidArgument' });
  assert.throws(() => bridge.push({ characteristic: '2a37', value: [0, 72] }), { code: 'InvalidArgument' });
  assert.throws(() => bridge.push('2a37'), { code: 'InvalidArgument' });
  assert.equal(seen.length, 0);
  bridge.push({ deviceId: 'd', service: '6e400001-b5a3-f393-e0a9-e50e24dcca9e', characteristic: '2a52', value: [0x06, 0x00, 0x01, 0x01] });
  assert.deepEqual(seen, [{ type: 'racp', deviceId: 'd', response: { kind: 'response', requestOpCode: 1, code: 'success' } }]);
  bridge.close();
  assert.throws(() => bridge.push({ deviceId: 'd', characteristic: '2a37', value: [0, 72] }), { code: 'InvalidState' });
});

test('DeviceSession in Node.js: not supported, and requestDevice names the bridge', () => {
  assert.equal(sdk.DeviceSession.isSupported(), false);
  const session = new sdk.DeviceSession();
  assert.throws(() => session.requestDevice({ kinds: ['heart-rate'] }), (err) => {
    assert.equal(err.code, 'Unsupported');
    assert.match(err.message, /DeviceBridge/);
    return true;
  });
  assert.throws(() => session.requestDevice({ kinds: ['toaster'] }), { code: 'InvalidArgument' });
  assert.throws(() => session.requestDevice({}), { code: 'InvalidArgument' });
  session.close();
  assert.throws(() => session.requestDevice({ kinds: ['heart-rate'] }), { code: 'InvalidState' });
});

// ----- sharing between two consultations ---------------------------------------------------

/**
 * Two fake consultations joined back to back, with the `Consultation` surface the helpers
 * use: `sendData` (throws while the peer is unreachable, as the real one does), and `data`,
 * `dataundelivered`, `statechange` events. `lose` drops messages in flight.
 */
function pair() {
  class Fake extends EventTarget {
    constructor(id) { super(); this.participantId = id; this.online = false; this.lose = false; this.sent = []; }
    sendData(to, data) {
      if (!this.online || to !== this.peer.participantId) {
        throw Object.assign(new Error('not connected'), { name: 'TeleconsultError', code: 'InvalidState' });
      }
      const copy = new Uint8Array(data);
      this.sent.push({ to, data: copy });
      if (!this.lose) this.peer.dispatchEvent(new CustomEvent('data', { detail: { participantId: this.participantId, data: copy } }));
    }
    emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  }
  const patient = new Fake('00000000000000a1');
  const clinician = new Fake('00000000000000c1');
  patient.peer = clinician;
  clinician.peer = patient;
  const connect = () => {
    patient.online = clinician.online = true;
    patient.emit('statechange', { state: 'connected' });
  };
  return { patient, clinician, connect };
}

const decode = (d) => JSON.parse(Buffer.from(d).toString('utf8'));

test('ReadingShare buffers while offline, delivers on connect, and the receiver rebuilds readings with FHIR', () => {
  const { patient, clinician, connect } = pair();
  const bridge = new sdk.DeviceBridge({ utcOffsetMinutes: 60 });
  const share = sdk.shareReadings(patient, clinician.participantId, bridge);
  const receiver = new sdk.ReadingReceiver(clinician, { fhir: { subject: 'Patient/p1' } });
  const got = collect(receiver, 'reading', 'error');
  const delivered = collect(share, 'delivered');
  bridge.push({ deviceId: 'cuff', characteristic: '2a35', value: BP, receivedAt: NOW });
  bridge.push({ deviceId: 'hr', characteristic: '2a37', value: [0x00, 72], receivedAt: NOW });
  assert.equal(share.pending, 2, 'queued while the consultation is not connected');
  assert.equal(got.length, 0);
  connect();
  assert.equal(got.length, 2);
  assert.equal(share.pending, 0);
  assert.equal(delivered.length, 2);
  const [bp, hr] = got;
  assert.equal(bp.participantId, patient.participantId);
  assert.deepEqual(bp.reading, sdk.captureReading('2a35', BP, { deviceId: 'cuff', now: NOW, utcOffsetMinutes: 60 }));
  assert.equal(bp.observations[0].code.coding[0].code, '85354-9');
  assert.equal(hr.reading.measurement.value.heartRate, 72);
  // The envelope is compact JSON carrying only the raw record.
  const envelope = decode(patient.sent[0].data);
  assert.deepEqual(Object.keys(envelope).sort(), ['id', 'raw', 'type']);
  assert.equal(envelope.type, 'teleconsult/reading');
  assert.ok(patient.sent[0].data.length < 400, `envelope of ${patient.sent[0].data.length} bytes`);
  assert.deepEqual(decode(clinician.sent[0].data), { type: 'teleconsult/reading-ack', id: bp.reading.id });
  share.close();
  receiver.close();
});

test('ReadingShare re-sends after dataundelivered; the receiver shows each reading once', () => {
  const { patient, clinician, connect } = pair();
  connect();
  const share = new sdk.ReadingShare(patient, clinician.participantId);
  const receiver = new sdk.ReadingReceiver(clinician);
  const got = collect(receiver, 'reading');
  const reading = (hr) => sdk.captureReading('2a37', [0x00, hr], { deviceId: 'hr', now: NOW + hr });
  patient.lose = true; // in flight when the clinician's page restarts
  assert.equal(share.share(reading(70)), true);
  assert.equal(share.share(reading(71)), true);
  assert.equal(share.share(reading(71)), true, 'sharing twice queues once');
  assert.equal(got.length, 0);
  assert.equal(share.pending, 2);
  patient.lose = false;
  patient.emit('dataundelivered', { participantId: clinician.participantId, count: 2 });
  assert.deepEqual(got.map((e) => e.reading.measurement.value.heartRate), [70, 71]);
  assert.equal(share.pending, 0);
  // A duplicate on the wire (a re-send whose acknowledgement was lost) is acknowledged, not shown.
  clinician.lose = true;
  share.share(reading(72));
  assert.equal(share.pending, 1, 'shown, but its acknowledgement was lost');
  clinician.lose = false;
  patient.emit('participantleft', { participantId: clinician.participantId, reason: 'lost' });
  assert.deepEqual(got.map((e) => e.reading.measurement.value.heartRate), [70, 71, 72]);
  assert.equal(share.pending, 0);
  // Another participant's undelivered data is none of this share's business.
  patient.emit('dataundelivered', { participantId: 'ffffffffffffffff', count: 9 });
  assert.equal(patient.sent.length, 6);
});

test('the consent hook withholds readings before they are queued; a throwing hook withholds too', () => {
  const { patient, clinician, connect } = pair();
  connect();
  const asked = [];
  const share = new sdk.ReadingShare(patient, clinician.participantId, {
    allow: (r) => { asked.push(r.characteristic); if (r.characteristic === 'glucoseMeasurement') throw new Error('no'); return r.characteristic !== 'bloodPressureMeasurement'; },
  });
  const withheld = collect(share, 'withheld');
  assert.equal(share.share(sdk.captureReading('2a35', BP, { deviceId: 'cuff', now: NOW })), false);
  assert.equal(share.share(sdk.captureReading('2a18', [0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x11], { deviceId: 'm', now: NOW })), false);
  assert.equal(share.share(sdk.captureReading('2a37', [0x00, 60], { deviceId: 'hr', now: NOW })), true);
  assert.deepEqual(asked, ['bloodPressureMeasurement', 'glucoseMeasurement', 'heartRateMeasurement']);
  assert.equal(withheld.length, 2);
  assert.equal(patient.sent.length, 1, 'only the allowed reading left the device');
  // The receiving side may refuse too (withdrawn consent): acknowledged but not shown.
  const receiver = new sdk.ReadingReceiver(clinician, { allow: () => false });
  const got = collect(receiver, 'reading');
  const refused = sdk.captureReading('2a37', [0x00, 61], { deviceId: 'hr', now: NOW });
  share.share(refused);
  assert.equal(got.length, 0);
  assert.ok(!share.pendingIds().includes(refused.id), 'refused by the receiver, still acknowledged');
});

test('the consent answer crosses from the call module: a refusal, a wrong answer or a throw withholds; only undefined sends', () => {
  // The devices module asks the Consultation `consentRefusal(categoryByte)` (the consent
  // registry lives in the call module's wasm). Whatever a hostile or broken answer is, it
  // must not let a reading through.
  const { patient, clinician, connect } = pair();
  connect();
  const answers = [];
  let answer = () => undefined;
  patient.consentRefusal = (category) => { answers.push(category); return answer(); };
  const share = new sdk.ReadingShare(patient, clinician.participantId);
  const withheld = collect(share, 'withheld');
  const hr = (n) => sdk.captureReading('2a37', [0x00, n], { deviceId: 'hr', now: NOW + n });
  assert.equal(share.share(hr(60)), true);
  assert.equal(patient.sent.length, 1, 'undefined: no consent manager refuses, sent');
  const cases = [
    [() => 'Withdrawn', 'Withdrawn'],
    [() => 'NotAReason', 'NoGrant'],
    [() => 42, 'NoGrant'],
    [() => null, 'NoGrant'],
    [() => { throw new Error('broken'); }, 'NoGrant'],
  ];
  for (const [i, [a, reason]] of cases.entries()) {
    answer = a;
    assert.equal(share.share(hr(61 + i)), false, `answer ${a}`);
    assert.equal(withheld.at(-1)?.reason, reason, `answer ${a}`);
  }
  assert.equal(patient.sent.length, 1, 'nothing else left the device');
  // Heart rate is the consent category with encoding byte 5 (src/consent/model.rs).
  assert.ok(answers.length >= cases.length + 1 && answers.every((c) => c === 5), JSON.stringify(answers));
});

test('the receiver rejects forged envelopes and ignores data that is not a reading', () => {
  const { patient, clinician, connect } = pair();
  connect();
  const receiver = new sdk.ReadingReceiver(clinician);
  const got = collect(receiver, 'reading', 'error');
  const send = (obj) => patient.sendData(clinician.participantId, typeof obj === 'string' ? Buffer.from(obj) : Buffer.from(JSON.stringify(obj)));
  const real = sdk.captureReading('2a35', BP, { deviceId: 'cuff', now: NOW });
  send('hello, this is chat');
  send({ type: 'chat', text: 'hi' });
  send({ type: 'teleconsult/reading', id: real.id, raw: { ...real.raw, value: Buffer.from([0x00, 0x5A, 0x00, 0x3C, 0x00, 0x46, 0x00]).toString('base64') } });
  send({ type: 'teleconsult/reading', id: real.id, raw: { ...real.raw, value: Buffer.from([0x10, 0x48]).toString('base64'), uuid: 0x2a37 } });
  send({ type: 'teleconsult/reading', raw: real.raw });
  assert.deepEqual(got.map((e) => [e.type, e.code]), [['error', 'InvalidArgument'], ['error', 'MalformedMeasurement'], ['error', 'InvalidArgument']]);
  assert.equal(clinician.sent.length, 0, 'nothing forged is acknowledged');
  send({ type: 'teleconsult/reading', id: real.id, raw: real.raw });
  assert.equal(got.at(-1).type, 'reading');
  assert.equal(got.at(-1).reading.id, real.id);
});

test('ReadingShare argument checks', () => {
  const { patient } = pair();
  assert.throws(() => new sdk.ReadingShare(patient, 'nope'), { code: 'InvalidArgument' });
  assert.throws(() => new sdk.ReadingShare({}, '00000000000000c1'), { code: 'InvalidArgument' });
  assert.throws(() => new sdk.ReadingShare(patient, '00000000000000c1', { maxPending: 0 }), { code: 'InvalidArgument' });
  const share = new sdk.ReadingShare(patient, '00000000000000c1', { maxPending: 1 });
  share.share(sdk.captureReading('2a37', [0x00, 60], { deviceId: 'hr', now: NOW }));
  assert.throws(() => share.share(sdk.captureReading('2a37', [0x00, 61], { deviceId: 'hr', now: NOW })), { code: 'LimitExceeded' });
  assert.throws(() => share.share({ id: 'x' }), { code: 'InvalidArgument' });
  assert.deepEqual(share.pendingIds().length, 1);
  share.close();
  assert.throws(() => share.share(sdk.captureReading('2a37', [0x00, 62], { deviceId: 'hr', now: NOW })), { code: 'InvalidState' });
});
