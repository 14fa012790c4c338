// Capacitor: @capacitor-community/bluetooth-le runs inside the same webview as the web app,
// so its callbacks push straight into the SDK's DeviceBridge. Values arrive as DataView.
import { BleClient } from '@capacitor-community/bluetooth-le';
import { DeviceBridge, DeviceSession } from 'teleconsult/devices';

const uuid = (short: string) => `0000${short}-0000-1000-8000-00805f9b34fb`;
const SERVICES = { bloodPressure: uuid('1810'), heartRate: uuid('180d'), deviceInfo: uuid('180a'), battery: uuid('180f') };
const INFO = [
  [SERVICES.deviceInfo, uuid('2a23')], // System ID: part of every reading's identity
  [SERVICES.deviceInfo, uuid('2a50')], // PnP ID
  [SERVICES.deviceInfo, uuid('2a29')], // manufacturer
  [SERVICES.deviceInfo, uuid('2a24')], // model
  [SERVICES.deviceInfo, uuid('2a25')], // serial number (a native host may read it)
  [SERVICES.battery, uuid('2a19')],
];
const MEASUREMENTS = [
  [SERVICES.bloodPressure, uuid('2a35')],
  [SERVICES.heartRate, uuid('2a37')],
];

export const bridge = new DeviceBridge({ fhir: { subject: 'Patient/123' } });
bridge.addEventListener('reading', (e) => console.log('reading', e.detail.reading, e.detail.observations));

function push(deviceId: string, service: string, characteristic: string, value: DataView) {
  try {
    bridge.push({ deviceId, service, characteristic, value });
  } catch (err) {
    console.warn('rejected device value', (err as { code?: string }).code, (err as Error).message);
  }
}

/** Call from a button: the native chooser, then the same capture as Web Bluetooth. */
export async function connectCuff() {
  if (DeviceSession.isSupported()) {
    // Plain Chrome/Edge: no plugin needed.
    return new DeviceSession({ fhir: { subject: 'Patient/123' } }).requestDevice({ kinds: ['blood-pressure'] });
  }
  await BleClient.initialize();
  const device = await BleClient.requestDevice({
    services: [SERVICES.bloodPressure],
    optionalServices: [SERVICES.deviceInfo, SERVICES.battery],
  });
  await BleClient.connect(device.deviceId, () => bridge.disconnected(device.deviceId));
  for (const [service, characteristic] of INFO) {
    try {
      push(device.deviceId, service, characteristic, await BleClient.read(device.deviceId, service, characteristic));
    } catch {
      // Optional characteristic missing on this device.
    }
  }
  for (const [service, characteristic] of MEASUREMENTS) {
    await BleClient.startNotifications(device.deviceId, service, characteristic, (value) =>
      push(device.deviceId, service, characteristic, value)).catch(() => {});
  }
  return bridge.device(device.deviceId);
}

// During a consultation, share every reading with the clinician (the consent hook included):
//   import { shareReadings } from 'teleconsult/devices';
//   shareReadings(consultation, clinicianParticipantId, bridge, { allow: (r) => consent.allows(r) });
