// The devices API (`teleconsult/devices`), shared by its browser and Node.js entries: the
// GATT parsers, Web Bluetooth, the native bridge and readings over a consultation, in a wasm
// module of their own that a page downloads only when it uses devices.
export type * from './types/devices.js';
export type { ErrorCode } from './types/error-code.js';
export type { TeleconsultError } from './errors.js';
export { DeviceBridge } from './device-bridge.js';
export { DeviceSession } from './device-session.js';
export { ReadingShare, shareReadings } from './reading-share.js';
export { ReadingReceiver } from './reading-receiver.js';
export { captureReading, measurementToFhir, parseMeasurement } from './measurements.js';
