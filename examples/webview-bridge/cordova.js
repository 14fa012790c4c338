// Cordova: cordova-plugin-ble-central runs in the app's webview; reads and notifications hand
// up ArrayBuffers, which DeviceBridge.push accepts as is.
import { DeviceBridge } from 'teleconsult/devices';

const uuid = (short) => `0000${short}-0000-1000-8000-00805f9b34fb`;
const HEART_RATE = uuid('180d');
const INFO = [[uuid('180a'), uuid('2a23')], [uuid('180a'), uuid('2a50')], [uuid('180a'), uuid('2a29')], [uuid('180f'), uuid('2a19')]];

export const bridge = new DeviceBridge({ fhir: { subject: 'Patient/123' } });

function push(deviceId, service, characteristic, value) {
  try {
    bridge.push({ deviceId, service, characteristic, value });
  } catch (err) {
    console.warn('rejected device value', err.code, err.message);
  }
}

document.addEventListener('deviceready', () => {
  ble.scan([HEART_RATE], 10, (peripheral) => {
    ble.connect(peripheral.id, async () => {
      for (const [service, characteristic] of INFO) {
        // Information first: System ID / PnP ID become provenance of the readings.
        await new Promise((done) => ble.read(peripheral.id, service, characteristic,
          (buffer) => { push(peripheral.id, service, characteristic, buffer); done(); }, done));
      }
      ble.startNotification(peripheral.id, HEART_RATE, uuid('2a37'),
        (buffer) => push(peripheral.id, HEART_RATE, uuid('2a37'), buffer));
    }, () => bridge.disconnected(peripheral.id));
  });
});
