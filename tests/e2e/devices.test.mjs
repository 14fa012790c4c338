// Web Bluetooth capture in real Chromium against emulated devices (CDP BluetoothEmulation):
// a heart-rate monitor and a blood-pressure cuff connected from real clicks, readings with
// the right values and FHIR, reconnection after the link drops with no reading lost,
// readings shared from a patient page to a clinician page during a consultation, and a
// glucose meter's stored records downloaded through the Record Access Control Point.
//
// Chromium 156 has no command to push a notification: a value is "notified" by reading the
// characteristic from the page (through navigator.bluetooth.getDevices()) and answering the
// read with the bytes; the SDK's own characteristicvaluechanged listener fires.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchChromium, openPage, sdkPage, withDevices, joinIn, until, testPages, chromiumOnly } from './harness.mjs';

const uuid = (short) => `0000${short}-0000-1000-8000-00805f9b34fb`;
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

const HR = { address: '09:09:09:09:09:01', name: 'Test HR', service: uuid('180d'), measurement: uuid('2a37') };
const BP = { address: '09:09:09:09:09:02', name: 'Test Cuff', service: uuid('1810'), measurement: uuid('2a35') };
const GL = { address: '09:09:09:09:09:03', name: 'Test Meter', service: uuid('1808'), measurement: uuid('2a18'), racp: uuid('2a52') };
const SYSTEM_ID = [0xC3, 0x77, 0xAD, 0xDE, 0xEE, 0xAB, 0xED, 0xFE]; // EUI-64 FE-ED-AB-EE-DE-AD-77-C3

let relay, browser, bt;
/** characteristicId → bytes the next read answers with. */
const readValues = new Map();
/** (address, measurement uuid) → characteristicId, to queue a "notification". */
const measurementIds = new Map();
/** The glucose meter's control point, and what answers a write to it (set by its test). */
let racpId = null;
let onRacpWrite = null;

/**
 * The emulated peripherals: a browser-level CDP session (BluetoothEmulation works only there,
 * and only on the session that enabled it) that answers every GATT operation.
 */
async function emulate() {
  bt = await browser.target().createCDPSession();
  await bt.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
  bt.on('BluetoothEmulation.gattOperationReceived', ({ address, type }) => {
    bt.send('BluetoothEmulation.simulateGATTOperationResponse', { address, type, code: 0 }).catch(() => {});
  });
  bt.on('BluetoothEmulation.characteristicOperationReceived', ({ characteristicId, type, data }) => {
    const answer = { characteristicId, type, code: 0 };
    if (type === 'read') answer.data = b64(readValues.get(characteristicId) ?? []);
    bt.send('BluetoothEmulation.simulateCharacteristicOperationResponse', answer).catch(() => {});
    if (type === 'write' && characteristicId === racpId) onRacpWrite?.([...Buffer.from(data ?? '', 'base64')]);
  });
  bt.on('BluetoothEmulation.descriptorOperationReceived', ({ descriptorId, type }) => {
    const answer = { descriptorId, type, code: 0 };
    if (type === 'read') answer.data = b64([0, 0]);
    bt.send('BluetoothEmulation.simulateDescriptorOperationResponse', answer).catch(() => {});
  });
  for (const dev of [HR, BP]) {
    await bt.send('BluetoothEmulation.simulatePreconnectedPeripheral', {
      address: dev.address, name: dev.name, manufacturerData: [], knownServiceUuids: [dev.service],
    });
    await addServices(dev);
  }
  await addGlucoseMeter();
}

/**
 * A glucose meter: Glucose Measurement (notify) and the Record Access Control Point (write,
 * indicate). Both are readable too, only because a read is how this test "sends" a value.
 */
async function addGlucoseMeter() {
  await bt.send('BluetoothEmulation.simulatePreconnectedPeripheral', {
    address: GL.address, name: GL.name, manufacturerData: [], knownServiceUuids: [GL.service],
  });
  const { serviceId } = await bt.send('BluetoothEmulation.addService', { address: GL.address, serviceUuid: GL.service });
  for (const [c, properties] of [[GL.measurement, { read: true, notify: true }], [GL.racp, { read: true, write: true, indicate: true }]]) {
    const { characteristicId } = await bt.send('BluetoothEmulation.addCharacteristic', { serviceId, characteristicUuid: c, properties });
    await bt.send('BluetoothEmulation.addDescriptor', { characteristicId, descriptorUuid: uuid('2902') });
    if (c === GL.racp) racpId = characteristicId;
    else measurementIds.set(GL.address, characteristicId);
  }
}

/**
 * The device's GATT database: its measurement service, Device Information (manufacturer,
 * System ID) and Battery. The emulated peripheral forgets its services when the link drops
 * (a reconnection then finds "No Services found in device"), so a test that drops the link
 * adds them again, as a real device's database is discovered again.
 */
async function addServices(dev) {
  const { serviceId } = await bt.send('BluetoothEmulation.addService', { address: dev.address, serviceUuid: dev.service });
  const { characteristicId } = await bt.send('BluetoothEmulation.addCharacteristic', {
    serviceId, characteristicUuid: dev.measurement,
    properties: { read: true, notify: dev === HR, indicate: dev === BP },
  });
  await bt.send('BluetoothEmulation.addDescriptor', { characteristicId, descriptorUuid: uuid('2902') });
  measurementIds.set(dev.address, characteristicId);
  const systemId = dev === BP ? SYSTEM_ID : SYSTEM_ID.map((b) => b ^ 1);
  const { serviceId: dis } = await bt.send('BluetoothEmulation.addService', { address: dev.address, serviceUuid: uuid('180a') });
  for (const [c, value] of [['2a29', [...Buffer.from('Acme Medical')]], ['2a23', systemId]]) {
    const { characteristicId: id } = await bt.send('BluetoothEmulation.addCharacteristic', {
      serviceId: dis, characteristicUuid: uuid(c), properties: { read: true },
    });
    readValues.set(id, value);
  }
  const { serviceId: bat } = await bt.send('BluetoothEmulation.addService', { address: dev.address, serviceUuid: uuid('180f') });
  const { characteristicId: level } = await bt.send('BluetoothEmulation.addCharacteristic', {
    serviceId: bat, characteristicUuid: uuid('2a19'), properties: { read: true },
  });
  readValues.set(level, [dev === HR ? 91 : 64]);
}

/**
 * Answers the page's device chooser with the address last given. Chromium reports a prompt
 * again as its device list updates; answering the same prompt twice crashes the browser.
 */
async function chooserPicks(page) {
  const s = await page.createCDPSession();
  await s.send('DeviceAccess.enable');
  let pick = null;
  const answered = new Set();
  s.on('DeviceAccess.deviceRequestPrompted', ({ id, devices }) => {
    // Wait for the update that lists the device; answer each prompt once.
    if (answered.has(id) || !devices.some((d) => d.id === pick)) return;
    answered.add(id);
    s.send('DeviceAccess.selectPrompt', { id, deviceId: pick }).catch(() => {});
  });
  return (address) => { pick = address; };
}

/** A page with the SDK, a DeviceSession recording its events, and one button per kind. */
async function devicePage(page) {
  await page.evaluate(() => {
    window.session = new window.t.DeviceSession({ fhir: { subject: 'Patient/p1' } });
    window.events = [];
    for (const type of ['reading', 'connected', 'disconnected', 'reconnecting', 'deviceinfo', 'error', 'recordprogress']) {
      window.session.addEventListener(type, (e) => window.events.push({ type, ...JSON.parse(JSON.stringify(e.detail)) }));
    }
    window.results = {};
    for (const kind of ['heart-rate', 'blood-pressure', 'glucose']) {
      const b = document.createElement('button');
      b.id = kind;
      b.textContent = `Connect ${kind}`;
      b.onclick = () => window.session.requestDevice({ kinds: [kind] }).then(
        (info) => { window.results[kind] = info; },
        (err) => { window.results[kind] = { error: err.code, message: err.message }; });
      document.body.append(b);
    }
    // Emulated "notification": read the characteristic through another handle to the device.
    window.notify = async (deviceId, service, characteristic) => {
      const dev = (await navigator.bluetooth.getDevices()).find((d) => d.id === deviceId);
      const c = await (await dev.gatt.getPrimaryService(service)).getCharacteristic(characteristic);
      await c.readValue();
    };
  });
}

/** Makes the device "send" `bytes` on its measurement characteristic. */
async function send(page, dev, deviceId, bytes) {
  readValues.set(measurementIds.get(dev.address), bytes);
  await page.evaluate((id, s, c) => window.notify(id, s, c), deviceId, dev.service, dev.measurement);
}

const readings = (page) => page.evaluate(() => window.events.filter((e) => e.type === 'reading'));

before(async () => {
  if (chromiumOnly) return; // BluetoothEmulation is a Chromium DevTools domain.
  relay = await startRelay({ www: testPages });
  browser = await launchChromium({ webBluetooth: true });
  await emulate();
});
after(async () => {
  await bt?.detach().catch(() => {});
  await browser?.close();
  await relay?.stop();
});

test('requestDevice without a user gesture is refused with a clear error', { skip: chromiumOnly }, async () => {
  const page = await openPage(browser, `${relay.url}/`);
  try {
    const s = await page.createCDPSession();
    const { result } = await s.send('Runtime.evaluate', {
      expression: `(async () => {
        const t = await import('/pkg/devices.js');
        try { await new t.DeviceSession().requestDevice({ kinds: ['heart-rate'] }); return 'resolved'; }
        catch (e) { return e.code + ': ' + e.message; }
      })()`,
      awaitPromise: true, userGesture: false, returnByValue: true,
    });
    assert.match(result.value, /^InvalidState: requestDevice must be called from a user gesture/);
  } finally {
    await page.close();
  }
});

test('a heart-rate monitor and a blood-pressure cuff connect from clicks; readings carry values, provenance and FHIR; a dropped link reconnects without losing a reading', { skip: chromiumOnly }, async () => {
  const page = await withDevices(await sdkPage(browser, relay));
  try {
    const pick = await chooserPicks(page);
    await devicePage(page);
    pick(HR.address);
    await page.click('#heart-rate');
    const hr = await until(page, () => window.results['heart-rate'], null, { what: 'heart-rate monitor connected' });
    assert.equal(hr.error, undefined, hr.message);
    pick(BP.address);
    await page.click('#blood-pressure');
    const bp = await until(page, () => window.results['blood-pressure'], null, { what: 'cuff connected' });
    assert.equal(bp.error, undefined, bp.message);
    assert.equal(bp.name, BP.name);
    assert.equal(bp.manufacturer, 'Acme Medical');
    assert.equal(bp.systemId, 'FE-ED-AB-EE-DE-AD-77-C3');
    assert.equal(bp.batteryLevel, 64);
    assert.equal(hr.batteryLevel, 91);

    // Heart rate 72 with RR 1024/1024 s; 121/81/106 mmHg, pulse 72, irregular pulse, at a trusted time.
    await send(page, HR, hr.id, [0x10, 72, 0x00, 0x04]);
    const now = new Date();
    const stamp = [now.getFullYear() & 0xff, now.getFullYear() >> 8, now.getMonth() + 1, now.getDate(), now.getHours(), now.getMinutes(), now.getSeconds()];
    const cuff = [0x16, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, ...stamp, 0x48, 0x00, 0x04, 0x00];
    await send(page, BP, bp.id, cuff);
    const [r1, r2] = await until(page, () => { const r = window.events.filter((e) => e.type === 'reading'); return r.length >= 2 && r; }, null, { what: 'two readings' });
    assert.equal(r1.reading.characteristic, 'heartRateMeasurement');
    assert.deepEqual(r1.reading.measurement.value, { heartRate: 72, sensorContact: 'notSupported', rrIntervals: [1024] });
    assert.equal(r1.reading.device.id, hr.id);
    assert.equal(r1.observations[0].valueQuantity.value, 72);
    assert.equal(r1.observations[0].code.coding[0].code, '8867-4');
    assert.equal(r2.reading.characteristic, 'bloodPressureMeasurement');
    assert.equal(r2.reading.measurement.value.systolic, 121);
    assert.equal(r2.reading.measurement.value.diastolic, 81);
    assert.deepEqual(r2.reading.flags, ['irregularPulse']);
    assert.equal(r2.reading.effectiveTimeSource, 'device', 'the cuff clock is trusted');
    assert.equal(r2.reading.device.systemId, 'FE-ED-AB-EE-DE-AD-77-C3', 'provenance read before subscribing');
    assert.equal(r2.observations[0].device.reference, 'Device/phd-feedabeedead77c3');
    assert.deepEqual(r2.observations[0].component.map((c) => c.valueQuantity.value), [121, 81, 106]);
    // The FHIR form attached to the event is what measurementToFhir gives for the reading.
    const again = await page.evaluate((r) => window.t.measurementToFhir(r, { subject: 'Patient/p1' }), r2.reading);
    assert.deepEqual(again, r2.observations);

    // A malformed value is an error event, not a reading and not a crash.
    await send(page, HR, hr.id, [0x10, 72]);
    const bad = await until(page, () => window.events.find((e) => e.type === 'error'), null, { what: 'error event' });
    assert.equal(bad.code, 'MalformedMeasurement');
    assert.equal(bad.field, 'rrInterval');
    assert.equal(bad.deviceId, hr.id);

    // The heart-rate monitor drops the link; readings before and after all arrive, once each.
    for (const bpm of [70, 71]) await send(page, HR, hr.id, [0x00, bpm]);
    await until(page, () => window.events.filter((e) => e.type === 'reading').length >= 4, null, { what: 'readings before the drop' });
    await bt.send('BluetoothEmulation.simulateGATTDisconnection', { address: HR.address });
    await addServices(HR);
    await until(page, () => window.events.some((e) => e.type === 'disconnected'), null, { what: 'disconnected event' });
    const back = await until(page, () => window.events.find((e) => e.type === 'connected' && e.reconnected), null, { what: 'reconnected', timeout: 20_000 });
    assert.equal(back.device.id, hr.id);
    const attempts = await page.evaluate(() => window.events.filter((e) => e.type === 'reconnecting'));
    assert.ok(attempts.length >= 1 && attempts[0].delayMs >= 250 && attempts[0].delayMs <= 500, JSON.stringify(attempts));
    for (const bpm of [73, 74]) await send(page, HR, hr.id, [0x00, bpm]);
    await until(page, () => window.events.filter((e) => e.type === 'reading').length >= 6, null, { what: 'readings after reconnecting' });
    const all = await readings(page);
    const rates = all.filter((e) => e.reading.characteristic === 'heartRateMeasurement').map((e) => e.reading.measurement.value.heartRate);
    assert.deepEqual(rates, [72, 70, 71, 73, 74], 'every heart rate once, in order');
    assert.equal(new Set(all.map((e) => e.reading.id)).size, all.length, 'distinct ids');
    assert.deepEqual(await page.evaluate(() => window.session.devices().map((d) => d.connected)), [true, true]);

    await page.evaluate(() => window.session.close());
    assert.deepEqual(await page.evaluate(() => window.session.devices()), []);
    assert.deepEqual(page.errors, []);
  } finally {
    // Closing a page that used the emulated adapter makes it "not available" to later pages
    // (Chromium 156), so this page stays open until the browser closes.
    await page.evaluate(() => window.session?.close()).catch(() => {});
  }
});

test('readings shared from the patient page appear on the clinician page during a call', { skip: chromiumOnly }, async () => {
  const clinician = await withDevices(await sdkPage(browser, relay));
  const patient = await withDevices(await sdkPage(browser, relay));
  try {
    const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
    const doc = await joinIn(clinician, {
      link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
      token: await relay.token(invite.roomId, 'clinician'),
    }, { autoAdmit: true, media: false });
    await clinician.evaluate(() => {
      window.received = [];
      window.receiver = new window.t.ReadingReceiver(window.c, { fhir: { subject: 'Patient/p1' } });
      window.receiver.addEventListener('reading', (e) => window.received.push(JSON.parse(JSON.stringify(e.detail))));
    });
    const pick = await chooserPicks(patient);
    await devicePage(patient);
    await joinIn(patient, {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
      token: await relay.token(invite.roomId, 'patient'),
    }, { media: false });
    await patient.evaluate((doctorId) => {
      window.share = window.t.shareReadings(window.c, doctorId, window.session, {
        allow: (r) => r.patientData, // where the consent check plugs in
      });
      window.shared = [];
      window.share.addEventListener('delivered', (e) => window.shared.push(e.detail.id));
    }, doc.id);
    pick(BP.address);
    await patient.click('#blood-pressure');
    const bp = await until(patient, () => window.results['blood-pressure'], null, { what: 'cuff connected' });
    assert.equal(bp.error, undefined, bp.message);
    await send(patient, BP, bp.id, [0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00]);
    await send(patient, BP, bp.id, [0x00, 0x7B, 0x00, 0x52, 0x00, 0x6B, 0x00]);
    const got = await until(clinician, () => window.received.length >= 2 && window.received, null, { what: 'readings on the clinician page', timeout: 20_000 });
    const sent = await readings(patient);
    assert.deepEqual(got.map((g) => g.reading.id), sent.map((s) => s.reading.id));
    assert.deepEqual(got.map((g) => g.reading.measurement.value.systolic), [121, 123]);
    assert.equal(got[0].participantId, await patient.evaluate(() => window.c.participantId));
    assert.equal(got[0].observations[0].code.coding[0].code, '85354-9');
    await until(patient, () => window.shared.length === 2 && window.share.pending === 0, null, { what: 'acknowledged' });
  } finally {
    await patient.evaluate(() => { window.share?.close(); window.session?.close(); window.c?.hangUp(); }).catch(() => {});
    await clinician.evaluate(() => window.c?.hangUp()).catch(() => {});
    await patient.close();
    await clinician.close();
  }
});

test('consent gates sharing: no grant, no reading leaves; after the grant it flows; after withdrawal it stops', { skip: chromiumOnly }, async () => {
  const clinician = await withDevices(await sdkPage(browser, relay));
  const patient = await withDevices(await sdkPage(browser, relay));
  try {
    const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
    const doc = await joinIn(clinician, {
      link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
      token: await relay.token(invite.roomId, 'clinician'),
    }, { autoAdmit: true, media: false });
    await clinician.evaluate(() => {
      window.received = [];
      window.receiver = new window.t.ReadingReceiver(window.c, { fhir: { subject: 'Patient/p1' } });
      window.receiver.addEventListener('reading', (e) => window.received.push(e.detail.reading.measurement.value.systolic));
    });
    const pick = await chooserPicks(patient);
    await devicePage(patient);
    await joinIn(patient, {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
      token: await relay.token(invite.roomId, 'patient'),
    }, { media: false });
    await patient.evaluate(async (doctorId) => {
      window.m = await window.t.ConsentManager.open({
        patient: 'pat-devices', storage: 'memory', recipient: { kind: 'Practitioner', id: 'dr-1' },
        notice: { uri: 'https://clinic.example/notice', version: '1', language: 'en', text: 'Readings go to your clinician.' },
      });
      window.m.attachConsultation(window.c, doctorId);
      window.share = window.t.shareReadings(window.c, doctorId, window.session);
      window.withheld = [];
      window.share.addEventListener('withheld', (e) => window.withheld.push(e.detail.reason));
    }, doc.id);
    pick(BP.address);
    await patient.click('#blood-pressure');
    const bp = await until(patient, () => window.results['blood-pressure'], null, { what: 'cuff connected' });
    assert.equal(bp.error, undefined, bp.message);

    await send(patient, BP, bp.id, [0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00]); // 121: no grant yet
    await until(patient, () => window.withheld.length === 1, null, { what: 'reading withheld without consent' });
    await patient.evaluate(() => window.m.grant({ purposes: ['TREAT'], categories: ['blood-pressure'] }));
    await send(patient, BP, bp.id, [0x00, 0x7B, 0x00, 0x52, 0x00, 0x6B, 0x00]); // 123: granted
    await until(clinician, () => window.received.length === 1, null, { what: 'granted reading on the clinician page' });
    await patient.evaluate(() => window.m.withdraw(0));
    await send(patient, BP, bp.id, [0x00, 0x7D, 0x00, 0x53, 0x00, 0x6C, 0x00]); // 125: withdrawn
    await until(patient, () => window.withheld.length === 2, null, { what: 'reading withheld after withdrawal' });

    assert.deepEqual(await patient.evaluate(() => window.withheld), ['NoGrant', 'Withdrawn']);
    assert.deepEqual(await clinician.evaluate(() => window.received), [123], 'only the reading consent covered was shared');
  } finally {
    await patient.evaluate(() => { window.share?.close(); window.session?.close(); window.c?.hangUp(); }).catch(() => {});
    await clinician.evaluate(() => window.c?.hangUp()).catch(() => {});
    await patient.close();
    await clinician.close();
  }
});

test('a glucose meter\'s stored records download through the Record Access Control Point', { skip: chromiumOnly }, async () => {
  const page = await withDevices(await sdkPage(browser, relay));
  try {
    const pick = await chooserPicks(page);
    await devicePage(page);
    pick(GL.address);
    await page.click('#glucose');
    const gl = await until(page, () => window.results.glucose, null, { what: 'meter connected' });
    assert.equal(gl.error, undefined, gl.message);
    // Two stored records (95 and 140 mg/dL as kg/L SFLOATs), no context.
    const record = (seq, minute, mgdl) => [0x02, seq, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, minute, 0x00, mgdl, 0xB0, 0x11];
    const indicate = async (bytes) => {
      readValues.set(racpId, bytes);
      await page.evaluate((id, s, c) => window.notify(id, s, c), gl.id, GL.service, GL.racp);
    };
    const written = [];
    onRacpWrite = async (bytes) => {
      written.push(bytes);
      if (bytes[0] === 0x04) return indicate([0x05, 0x00, 0x02, 0x00]); // two records stored
      for (const r of [record(1, 0, 95), record(2, 30, 140)]) await send(page, GL, gl.id, r);
      await indicate([0x06, 0x00, 0x01, 0x01]); // report stored records: success
    };
    const result = await page.evaluate((id) => window.session.downloadRecords(id), gl.id);
    assert.deepEqual(result, { received: 2, total: 2 });
    assert.deepEqual(written, [[0x04, 0x01], [0x01, 0x01]], 'count all, then report all');
    const stored = (await readings(page)).map((e) => e.reading);
    assert.deepEqual(stored.map((r) => r.sequenceNumber), [1, 2]);
    assert.deepEqual(stored.map((r) => r.device.id), [gl.id, gl.id]);
    const progress = await page.evaluate(() => window.events.filter((e) => e.type === 'recordprogress'));
    assert.deepEqual(progress.map((p) => [p.received, p.total]), [[1, 2], [2, 2]]);
    // A second download while none runs works the same; one running at a time.
    const twice = await page.evaluate(async (id) => {
      const first = window.session.downloadRecords(id);
      try { await window.session.downloadRecords(id); return 'second accepted'; } catch (e) { return e.code; } finally { await first; }
    }, gl.id);
    assert.equal(twice, 'InvalidState');
    assert.deepEqual(page.errors, []);
  } finally {
    onRacpWrite = null;
    // As above: the page stays open until the browser closes.
    await page.evaluate(() => window.session?.close()).catch(() => {});
  }
});
