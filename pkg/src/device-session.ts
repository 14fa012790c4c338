// DeviceSession: Bluetooth medical devices through Web Bluetooth.
import type { DeviceInfo, DeviceSessionEventMap, DeviceSessionOptions, DownloadRecordsOptions, RequestDeviceOptions } from './types/devices.js';
import * as wasm from '../web-devices/teleconsult_devices.js';
import { call, invalid, normalise, promise } from './errors.js';
import { disposable, free, hold, inner, listen, eventNames } from './base.js';
import { arg, bool, fhirOptions, list, nullable, num, obj, oneOf, opt, str, u32, uuid, type Check } from './validate.js';

const sessionOptions = obj({ 'fhir?': fhirOptions, 'utcOffsetMinutes?': nullable(num), 'reconnect?': bool });

const deviceKind = oneOf('heart-rate', 'blood-pressure', 'thermometer', 'weight-scale', 'glucose', 'pulse-oximeter');

const requestOptions: Check<unknown> = (v, n) => {
  const o = obj({}, (x) => x)(v, n);
  if (o.kinds !== undefined) return obj({ kinds: list(deviceKind) })(v, n);
  if (o.services !== undefined) return obj({ services: list(uuid) })(v, n);
  throw invalid(`${n}.kinds`, 'given (or services)');
};

const downloadOptions = obj({ 'since?': u32, 'timeoutMs?': num });

const SESSION_EVENTS = eventNames<DeviceSessionEventMap>({
  reading: true, deviceinfo: true, racp: true, connected: true, disconnected: true, reconnecting: true,
  recordprogress: true, error: true,
});
const S = 'DeviceSession';
const s = (w: DeviceSession) => inner<wasm.DeviceSession>(w, S);

/** Bluetooth medical devices through Web Bluetooth. */
export class DeviceSession {
  constructor(options?: DeviceSessionOptions) {
    const o = arg(options, 'options', opt(sessionOptions));
    hold(this, call(() => new wasm.DeviceSession(o as DeviceSessionOptions)));
  }
  /** Whether this platform has Web Bluetooth. */
  static isSupported(): boolean { return call(() => wasm.DeviceSession.isSupported()); }
  /** Shows the browser's device chooser (needs a user gesture) and connects. Throws (as the
   *  core always has) rather than rejects for bad options, a closed session or no Web
   *  Bluetooth. */
  requestDevice(options: RequestDeviceOptions): Promise<DeviceInfo> {
    const o = arg(options, 'options', requestOptions);
    const p = call(() => s(this).requestDevice(o as RequestDeviceOptions));
    return p.then(undefined, (e: unknown) => Promise.reject(normalise(e)));
  }
  /** Downloads stored records (glucose meters) through the Record Access Control Point. */
  downloadRecords(deviceId: string, options?: DownloadRecordsOptions): Promise<{ received: number; total?: number }> {
    return promise(() => {
      const d = arg(deviceId, 'deviceId', str);
      const o = arg(options, 'options', opt(downloadOptions));
      return s(this).downloadRecords(d, o as DownloadRecordsOptions);
    });
  }
  devices(): (DeviceInfo & { connected: boolean })[] { return call(() => s(this).devices()); }
  disconnect(deviceId: string): void {
    const d = arg(deviceId, 'deviceId', str);
    call(() => s(this).disconnect(d));
  }
  close(): void { call(() => s(this).close()); }
  free(): void { free(this); }
  addEventListener<K extends keyof DeviceSessionEventMap>(type: K, listener: (event: CustomEvent<DeviceSessionEventMap[K]>) => void): void {
    listen(this, S, SESSION_EVENTS, true, type, listener, undefined);
  }
  removeEventListener<K extends keyof DeviceSessionEventMap>(type: K, listener: (event: CustomEvent<DeviceSessionEventMap[K]>) => void): void {
    listen(this, S, SESSION_EVENTS, false, type, listener, undefined);
  }
}
disposable(DeviceSession);

export interface DeviceSession { [Symbol.dispose](): void }
