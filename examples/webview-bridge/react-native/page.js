// The web page inside the React Native WebView: turns the host's messages into DeviceBridge
// pushes. react-native-webview delivers `postMessage` on `window` (iOS) and `document`
// (Android), so listen on both.
import { DeviceBridge } from 'teleconsult/devices';

export const bridge = new DeviceBridge({ fhir: { subject: 'Patient/123' } });

function onHostMessage(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return; // not ours
  }
  if (message?.type === 'teleconsult/ble-disconnected') {
    bridge.disconnected(message.deviceId);
  } else if (message?.type === 'teleconsult/ble') {
    try {
      // value is the plugin's base64 string; push accepts it as is.
      bridge.push({ deviceId: message.deviceId, service: message.service, characteristic: message.characteristic, value: message.value });
    } catch (err) {
      console.warn('rejected device value', err.code, err.message);
    }
  }
}
window.addEventListener('message', onHostMessage);
document.addEventListener('message', onHostMessage);

bridge.addEventListener('reading', (e) => {
  const { reading, observations } = e.detail;
  console.log(reading.measurement, observations);
});
