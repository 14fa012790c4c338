// React Native host: react-native-ble-plx talks to the device; react-native-webview shows the
// web app. Each characteristic value is posted into the page as JSON; ble-plx already gives
// values as base64, which DeviceBridge.push accepts as is.
import React, { useEffect, useRef } from 'react';
import { BleManager, Device } from 'react-native-ble-plx';
import { WebView } from 'react-native-webview';

const uuid = (short: string) => `0000${short}-0000-1000-8000-00805f9b34fb`;
const BP = uuid('1810');
const INFO: [string, string][] = [
  [uuid('180a'), uuid('2a23')], // System ID
  [uuid('180a'), uuid('2a50')], // PnP ID
  [uuid('180a'), uuid('2a29')], // manufacturer
  [uuid('180a'), uuid('2a25')], // serial number
  [uuid('180f'), uuid('2a19')], // battery
];
const MEASUREMENTS: [string, string][] = [[BP, uuid('2a35')]];

const manager = new BleManager();

export function DeviceBridgeHost({ url }: { url: string }) {
  const web = useRef<WebView>(null);
  const post = (message: object) => web.current?.postMessage(JSON.stringify(message));

  useEffect(() => {
    const subscriptions: { remove(): void }[] = [];
    manager.startDeviceScan([BP], null, async (error, found) => {
      if (error || !found) return;
      manager.stopDeviceScan();
      const device: Device = await found.connect();
      await device.discoverAllServicesAndCharacteristics();
      subscriptions.push(device.onDisconnected(() => post({ type: 'teleconsult/ble-disconnected', deviceId: device.id })));
      // Information first: System ID / PnP ID become provenance of the readings.
      for (const [service, characteristic] of INFO) {
        try {
          const c = await device.readCharacteristicForService(service, characteristic);
          post({ type: 'teleconsult/ble', deviceId: device.id, service, characteristic, value: c.value });
        } catch {
          // Optional characteristic missing.
        }
      }
      for (const [service, characteristic] of MEASUREMENTS) {
        subscriptions.push(device.monitorCharacteristicForService(service, characteristic, (err, c) => {
          if (!err && c?.value) post({ type: 'teleconsult/ble', deviceId: device.id, service, characteristic, value: c.value });
        }));
      }
    });
    return () => {
      manager.stopDeviceScan();
      subscriptions.forEach((s) => s.remove());
    };
  }, []);

  return <WebView ref={web} source={{ uri: url }} javaScriptEnabled />;
}
