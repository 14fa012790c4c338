// DeviceSession: Bluetooth medical devices through Web Bluetooth.
import type {
  DeviceInfo, DeviceSessionEventMap, DeviceSessionOptions, DownloadRecordsOptions,
  RequestDeviceOptions,
} from './types/devices.js';
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

/**
 * Web Bluetooth capture of one or more medical devices.
 *
 * ```js
 * const session = new DeviceSession({ fhir: { subject: 'Patient/123' } });
 * session.addEventListener('reading', (e) => show(e.detail.reading, e.detail.observations));
 * button.onclick = () => session.requestDevice({ kinds: ['blood-pressure'] });
 * ```
 */
export class DeviceSession {
  /**
   * A session; no device yet. Options: `fhir` (attach Observations to `reading` events),
   * `utcOffsetMinutes`, `reconnect` (default true). Throws `InvalidArgument`.
   */
  constructor(options?: DeviceSessionOptions) {
    const o = arg(options, 'options', opt(sessionOptions));
    hold(this, call(() => new wasm.DeviceSession(o as DeviceSessionOptions)));
  }
  /** Whether this browser offers Web Bluetooth at all (else use `DeviceBridge`). */
  static isSupported(): boolean { return call(() => wasm.DeviceSession.isSupported()); }
  /**
   * Opens the browser's device chooser for the given kinds or services, connects, reads
   * device information and subscribes to every supported measurement. Call it from a
   * user gesture (a click handler).
   *
   * Resolves to the `DeviceInfo`. Throws (rather than rejects) for bad options, a closed
   * session or no Web Bluetooth; otherwise rejects. The `TeleconsultError` codes:
   * `Unsupported` (no Web Bluetooth here: use `DeviceBridge`; or no adapter),
   * `InvalidState` (no user gesture, or the session is closed), `PermissionDenied` (the
   * user closed the chooser, or Bluetooth is blocked), `NetworkError` (the GATT
   * connection failed), `InvalidArgument` (bad options).
   */
  requestDevice(options: RequestDeviceOptions): Promise<DeviceInfo> {
    const o = arg(options, 'options', requestOptions);
    const p = call(() => s(this).requestDevice(o as RequestDeviceOptions));
    return p.then(undefined, (e: unknown) => Promise.reject(normalise(e)));
  }
  /**
   * Downloads stored glucose records through the Record Access Control Point: all, or
   * those with `since` or a higher sequence number. Records arrive as `reading` events
   * (duplicates of records seen before carry the same id), with `recordprogress` events.
   *
   * Resolves to `{ received, total? }`. Rejects with `InvalidState` (unknown or
   * disconnected device, no control point, a download already running),
   * `Timeout` (the meter fell silent), `NetworkError` (the link dropped), `Unsupported`
   * (the meter refused the request), `InvalidArgument`. The Glucose service requires a
   * bonded link for control-point writes; the browser pairs when the meter asks.
   */
  downloadRecords(deviceId: string, options?: DownloadRecordsOptions): Promise<{ received: number; total?: number }> {
    return promise(() => {
      const d = arg(deviceId, 'deviceId', str);
      const o = arg(options, 'options', opt(downloadOptions));
      return s(this).downloadRecords(d, o as DownloadRecordsOptions);
    });
  }
  /** The devices of this session. */
  devices(): (DeviceInfo & { connected: boolean })[] { return call(() => s(this).devices()); }
  /** Disconnects one device and stops reconnecting to it. */
  disconnect(deviceId: string): void {
    const d = arg(deviceId, 'deviceId', str);
    call(() => s(this).disconnect(d));
  }
  /**
   * Disconnects every device, stops reconnecting, drops every listener and timer, and
   * rejects a running download. The session cannot be used again.
   */
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
