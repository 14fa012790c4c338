// DeviceBridge: readings a native host app pushes in as raw GATT bytes.
import type {
  BridgedValue, DeviceBridgeEventMap, DeviceInfo, DeviceSourceOptions,
} from './types/devices.js';
import * as wasm from '../web-devices/teleconsult_devices.js';
import { call } from './errors.js';
import { disposable, free, hold, inner, listen, eventNames } from './base.js';
import { arg, bytesLike, deviceSourceOptions, num, obj, opt, str, uuid } from './validate.js';

const bridgedValue = obj({
  deviceId: str,
  'service?': uuid,
  characteristic: uuid,
  value: bytesLike,
  'receivedAt?': num,
});

const B = 'DeviceBridge';
const BRIDGE_EVENTS = eventNames<DeviceBridgeEventMap>({ reading: true, deviceinfo: true, racp: true });
const b = (w: DeviceBridge) => inner<wasm.DeviceBridge>(w, B);

/**
 * Readings pushed in by a native host app (Capacitor, React Native, Cordova) as raw GATT
 * characteristic bytes: the same parsers and validation as Web Bluetooth.
 *
 * ```js
 * const bridge = new DeviceBridge({ fhir: { subject: 'Patient/123' } });
 * bridge.addEventListener('reading', (e) => show(e.detail.reading));
 * // for every notification, indication or read the native plugin reports:
 * bridge.push({ deviceId, characteristic: '2a37', value: base64OrBytes });
 * ```
 */
export class DeviceBridge {
  /**
   * A bridge; `options.fhir` attaches FHIR Observations to each `reading` event, and
   * `options.utcOffsetMinutes` overrides the host's UTC offset for device clocks.
   * Throws `InvalidArgument` for bad options.
   */
  constructor(options?: DeviceSourceOptions) {
    const o = arg(options, 'options', opt(deviceSourceOptions));
    hold(this, call(() => new wasm.DeviceBridge(o as DeviceSourceOptions)));
  }
  /**
   * Pushes one characteristic value: a measurement notification or indication, a Device
   * Information, System ID, PnP ID, Battery Level or Weight Scale Feature read, or a
   * Record Access Control Point indication. Push information values first: later
   * readings carry them as provenance.
   *
   * Dispatches `reading` (a glucose record that announces a context waits for it),
   * `deviceinfo` or `racp` synchronously. Throws `MalformedMeasurement` for bad bytes,
   * `InvalidArgument` for a bad object or an unsupported characteristic, `InvalidState`
   * after `close()`.
   */
  push(value: BridgedValue): void {
    const v = arg(value, 'value', bridgedValue);
    call(() => b(this).push(v as unknown as BridgedValue));
  }
  /**
   * Tells the bridge the device disconnected: a glucose record still waiting for its
   * context is released as a `reading`.
   */
  disconnected(deviceId: string): void {
    const d = arg(deviceId, 'deviceId', str);
    call(() => b(this).disconnected(d));
  }
  /** What the bridge knows about a device (from pushed information values). */
  device(deviceId: string): DeviceInfo | undefined {
    const d = arg(deviceId, 'deviceId', str);
    return call(() => b(this).device(d));
  }
  /** Forgets every device; later `push` calls throw `InvalidState`. */
  close(): void { call(() => b(this).close()); }
  free(): void { free(this); }
  addEventListener<K extends keyof DeviceBridgeEventMap>(type: K, listener: (event: CustomEvent<DeviceBridgeEventMap[K]>) => void): void {
    listen(this, B, BRIDGE_EVENTS, true, type, listener, undefined);
  }
  removeEventListener<K extends keyof DeviceBridgeEventMap>(type: K, listener: (event: CustomEvent<DeviceBridgeEventMap[K]>) => void): void {
    listen(this, B, BRIDGE_EVENTS, false, type, listener, undefined);
  }
}
disposable(DeviceBridge);

export interface DeviceBridge { [Symbol.dispose](): void }
