// Turns the host app's messages into DeviceBridge pushes and shows the readings.
import { DeviceBridge } from '/pkg/devices.js';

const bridge = new DeviceBridge({ fhir: { subject: 'Patient/example' } });
const status = document.getElementById('status');
const list = document.getElementById('readings');

function onHostMessage(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return; // not a message for us
  }
  if (message?.type === 'teleconsult/ble-disconnected') {
    bridge.disconnected(message.deviceId);
    status.textContent = 'Device disconnected.';
  } else if (message?.type === 'teleconsult/ble') {
    try {
      const { deviceId, service, characteristic, value } = message;
      bridge.push({ deviceId, service, characteristic, value });
    } catch (err) {
      status.textContent = `A value from the device was rejected (${err.code}).`;
      status.dataset.error = err.code;
    }
  }
}
// react-native-webview delivers postMessage on window (iOS) and document (Android).
window.addEventListener('message', onHostMessage);
document.addEventListener('message', onHostMessage);

bridge.addEventListener('reading', (e) => {
  const { reading, observations } = e.detail;
  const item = document.createElement('li');
  item.dataset.kind = reading.measurement.kind;
  item.dataset.loinc = observations[0]?.code.coding.find((c) => c.system === 'http://loinc.org')?.code ?? '';
  item.textContent = `${reading.measurement.kind}: ${JSON.stringify(reading.measurement.value)}`;
  list.append(item);
  status.textContent = 'Reading received.';
  delete status.dataset.error;
});
