// Browser and bundler entry of `teleconsult/devices`: loads the devices wasm module (the GATT
// parsers and the Bluetooth driver), then exports the devices API. A page that joins a
// visit without devices never imports this, so it never downloads that module:
//   const { DeviceSession } = await import('teleconsult/devices');
import init, * as wasm from '../web-devices/teleconsult_devices.js';
import { addCodes } from './errors.js';

await init({ module_or_path: new URL('./web-devices/teleconsult_devices_bg.wasm', import.meta.url) });
addCodes(wasm.errorCodes);

export * from './devices-api.js';
