// Devices: the Bluetooth session, the bridge for native hosts, reading sharing, and the
// stateless parsers.
import type {
  BluetoothUuid,
  BridgedValue,
  BytesLike,
  CaptureOptions,
  DeviceBridgeEventMap,
  DeviceInfo,
  DeviceSessionEventMap,
  DeviceSessionOptions,
  DeviceSourceOptions,
  DownloadRecordsOptions,
  FhirOptions,
  Measurement,
  Observation,
  Reading,
  ReadingReceiverEventMap,
  ReadingReceiverOptions,
  ReadingShareEventMap,
  ReadingShareOptions,
  ReadingSource,
  RequestDeviceOptions,
} from '../web/teleconsult.js';
import * as wasm from '../web/teleconsult.js';
import { call, invalid, normalise, promise } from './errors.js';
import { disposable, free, hold, inner, innerOf, listen, wrap, type Inner } from './base.js';
import {
  arg, bool, bytesLike, data, deviceSourceOptions, eventSource, fhirOptions, fn, list, nullable, num, obj, oneOf,
  opt, str, u32, uuid, type Check,
} from './validate.js';
import { consultationArg, type Consultation } from './consultation.js';

const bridgedValue = obj({
  deviceId: str,
  'service?': uuid,
  characteristic: uuid,
  value: bytesLike,
  'receivedAt?': num,
});

const sessionOptions = obj({ 'fhir?': fhirOptions, 'utcOffsetMinutes?': nullable(num), 'reconnect?': bool });

const deviceKind = oneOf('heart-rate', 'blood-pressure', 'thermometer', 'weight-scale', 'glucose', 'pulse-oximeter');

const requestOptions: Check<unknown> = (v, n) => {
  const o = obj({}, (x) => x)(v, n);
  if (o.kinds !== undefined) return obj({ kinds: list(deviceKind) })(v, n);
  if (o.services !== undefined) return obj({ services: list(uuid) })(v, n);
  throw invalid(`${n}.kinds`, 'given (or services)');
};

const downloadOptions = obj({ 'since?': u32, 'timeoutMs?': num });

const shareOptions = obj({ 'allow?': fn, 'maxPending?': u32 });
const receiverOptions = obj({ 'fhir?': fhirOptions, 'allow?': fn });

const captureOptions = obj({
  deviceId: str,
  'systemId?': bytesLike,
  'pnpId?': bytesLike,
  'utcOffsetMinutes?': nullable(num),
  'weightScaleFeature?': (v, n) => (typeof v === 'number' ? u32(v, n) : bytesLike(v, n)),
  'glucoseContext?': bytesLike,
  'now?': num,
});

/** A `ReadingSource`: this package's DeviceBridge or DeviceSession (passed as the wasm object),
 *  or any object with `addEventListener` / `removeEventListener`. */
const sourceArg: Check<object> = (v, n) =>
  innerOf<object>(v, wasm.DeviceBridge) ?? innerOf<object>(v, wasm.DeviceSession) ?? eventSource(v, n);

const B = 'DeviceBridge';
const BRIDGE_EVENTS = ['reading', 'deviceinfo', 'racp'];
const SESSION_EVENTS = [...BRIDGE_EVENTS, 'connected', 'disconnected', 'reconnecting', 'recordprogress', 'error'];
const b = (w: DeviceBridge) => inner<wasm.DeviceBridge>(w, B);

/** Readings pushed in by a native host app (Capacitor, React Native, Cordova) as raw GATT
 *  characteristic bytes: the same parsers and validation as Web Bluetooth. */
export class DeviceBridge {
  constructor(options?: DeviceSourceOptions) {
    const o = arg(options, 'options', opt(deviceSourceOptions));
    hold(this, call(() => new wasm.DeviceBridge(o as DeviceSourceOptions)));
  }
  /** One characteristic value from the host; dispatches `reading`, `deviceinfo` or `racp`. */
  push(value: BridgedValue): void {
    const v = arg(value, 'value', bridgedValue);
    call(() => b(this).push(v as unknown as BridgedValue));
  }
  /** The host reports that `deviceId` disconnected. */
  disconnected(deviceId: string): void {
    const d = arg(deviceId, 'deviceId', str);
    call(() => b(this).disconnected(d));
  }
  /** What is known about `deviceId`. */
  device(deviceId: string): DeviceInfo | undefined {
    const d = arg(deviceId, 'deviceId', str);
    return call(() => b(this).device(d));
  }
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

const SH = 'ReadingShare';
const sh = (w: ReadingShare) => inner<wasm.ReadingShare>(w, SH);

/** Shares readings with one participant over the consultation: consent-checked, buffered
 *  while offline, delivered at least once. */
export class ReadingShare {
  constructor(consultation: Consultation, participantId: string, options?: ReadingShareOptions) {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    const o = arg(options, 'options', opt(shareOptions));
    hold(this, call(() => new wasm.ReadingShare(c as wasm.Consultation, p, o as ReadingShareOptions)));
  }
  /** Readings not yet acknowledged. */
  get pending(): number { return call(() => sh(this).pending); }
  /** Shares the readings `source` dispatches. */
  attach(source: ReadingSource): void {
    const x = arg(source, 'source', sourceArg);
    call(() => sh(this).attach(x as ReadingSource));
  }
  /** Shares one reading; false when consent or `allow` withheld it. */
  share(reading: Reading): boolean {
    const r = arg(reading, 'reading', readingArg);
    return call(() => sh(this).share(r as unknown as Reading));
  }
  flush(): void { call(() => sh(this).flush()); }
  pendingIds(): string[] { return call(() => sh(this).pendingIds()); }
  close(): void { call(() => sh(this).close()); }
  free(): void { free(this); }
  addEventListener<K extends keyof ReadingShareEventMap>(type: K, listener: (event: CustomEvent<ReadingShareEventMap[K]>) => void): void {
    listen(this, SH, ['delivered', 'withheld', 'error'], true, type, listener, undefined);
  }
  removeEventListener<K extends keyof ReadingShareEventMap>(type: K, listener: (event: CustomEvent<ReadingShareEventMap[K]>) => void): void {
    listen(this, SH, ['delivered', 'withheld', 'error'], false, type, listener, undefined);
  }
}
disposable(ReadingShare);

const RR = 'ReadingReceiver';
const rr = (w: ReadingReceiver) => inner<wasm.ReadingReceiver>(w, RR);

/** Receives the readings patients share over the consultation. */
export class ReadingReceiver {
  constructor(consultation: Consultation, options?: ReadingReceiverOptions) {
    const c = arg(consultation, 'consultation', consultationArg);
    const o = arg(options, 'options', opt(receiverOptions));
    hold(this, call(() => new wasm.ReadingReceiver(c as wasm.Consultation, o as ReadingReceiverOptions)));
  }
  close(): void { call(() => rr(this).close()); }
  free(): void { free(this); }
  addEventListener<K extends keyof ReadingReceiverEventMap>(type: K, listener: (event: CustomEvent<ReadingReceiverEventMap[K]>) => void): void {
    listen(this, RR, ['reading', 'error'], true, type, listener, undefined);
  }
  removeEventListener<K extends keyof ReadingReceiverEventMap>(type: K, listener: (event: CustomEvent<ReadingReceiverEventMap[K]>) => void): void {
    listen(this, RR, ['reading', 'error'], false, type, listener, undefined);
  }
}
disposable(ReadingReceiver);

export interface DeviceBridge { [Symbol.dispose](): void }
export interface DeviceSession { [Symbol.dispose](): void }
export interface ReadingShare { [Symbol.dispose](): void }
export interface ReadingReceiver { [Symbol.dispose](): void }

/** A reading: plain data, deep-copied (its shape and id are checked by the core). */
const readingArg = obj({ id: str }, data);

/** Shares the readings of `source` with `participantId` (a `ReadingShare` attached to it). */
export function shareReadings(consultation: Consultation, participantId: string, source: ReadingSource, options?: ReadingShareOptions): ReadingShare {
  const c = arg(consultation, 'consultation', consultationArg);
  const p = arg(participantId, 'participantId', str);
  const x = arg(source, 'source', sourceArg);
  const o = arg(options, 'options', opt(shareOptions));
  const i = call(() => wasm.shareReadings(c as wasm.Consultation, p, x as ReadingSource, o as ReadingShareOptions));
  return wrap(ReadingShare, i as unknown as Inner);
}

/** Parses one characteristic value to the Bluetooth SIG specification. */
export function parseMeasurement(characteristic: BluetoothUuid, value: BytesLike): Measurement {
  const k = arg(characteristic, 'characteristic', uuid);
  const v = arg(value, 'value', bytesLike);
  return call(() => wasm.parseMeasurement(k, v));
}

/** Parses and validates one characteristic value into a `Reading` with provenance. */
export function captureReading(characteristic: BluetoothUuid, value: BytesLike, options: CaptureOptions): Reading {
  const k = arg(characteristic, 'characteristic', uuid);
  const v = arg(value, 'value', bytesLike);
  const o = arg(options, 'options', captureOptions);
  return call(() => wasm.captureReading(k, v, o as unknown as CaptureOptions));
}

/** The FHIR R4 Observations of a reading. */
export function measurementToFhir(reading: Reading, options: FhirOptions): Observation[] {
  const r = arg(reading, 'reading', readingArg);
  const o = arg(options, 'options', fhirOptions);
  return call(() => wasm.measurementToFhir(r as unknown as Reading, o as unknown as FhirOptions));
}
