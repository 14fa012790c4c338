// ReadingShare: readings shared with one participant over the consultation.
import type { Reading, ReadingShareEventMap, ReadingShareOptions, ReadingSource } from './types/devices.js';
import * as wasm from '../web-devices/teleconsult_devices.js';
import type * as callModule from '../web/teleconsult.js';
import { call } from './errors.js';
import { disposable, free, hold, inner, innerOf, listen, wrap, type Inner, eventNames } from './base.js';
import { arg, eventSource, fn, obj, opt, reading as readingArg, str, u32, type Check } from './validate.js';
import { consultationArg, type Consultation } from './consultation.js';

const EVENTS = eventNames<ReadingShareEventMap>({ delivered: true, withheld: true, error: true });

const shareOptions = obj({ 'allow?': fn, 'maxPending?': u32 });

/** A `ReadingSource`: this package's DeviceBridge or DeviceSession (passed as the wasm object),
 *  or any object with `addEventListener` / `removeEventListener`. */
const sourceArg: Check<object> = (v, n) =>
  innerOf<object>(v, wasm.DeviceBridge) ?? innerOf<object>(v, wasm.DeviceSession) ?? eventSource(v, n);

const SH = 'ReadingShare';
const sh = (w: ReadingShare) => inner<wasm.ReadingShare>(w, SH);

/** Shares readings with one participant over the consultation: consent-checked, buffered
 *  while offline, delivered at least once. */
export class ReadingShare {
  constructor(consultation: Consultation, participantId: string, options?: ReadingShareOptions) {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    const o = arg(options, 'options', opt(shareOptions));
    hold(this, call(() => new wasm.ReadingShare(c as callModule.Consultation, p, o as ReadingShareOptions)));
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
    listen(this, SH, EVENTS, true, type, listener, undefined);
  }
  removeEventListener<K extends keyof ReadingShareEventMap>(type: K, listener: (event: CustomEvent<ReadingShareEventMap[K]>) => void): void {
    listen(this, SH, EVENTS, false, type, listener, undefined);
  }
}
disposable(ReadingShare);

export interface ReadingShare { [Symbol.dispose](): void }

/** Shares the readings of `source` with `participantId` (a `ReadingShare` attached to it). */
export function shareReadings(consultation: Consultation, participantId: string, source: ReadingSource, options?: ReadingShareOptions): ReadingShare {
  const c = arg(consultation, 'consultation', consultationArg);
  const p = arg(participantId, 'participantId', str);
  const x = arg(source, 'source', sourceArg);
  const o = arg(options, 'options', opt(shareOptions));
  const i = call(() => wasm.shareReadings(c as callModule.Consultation, p, x as ReadingSource, o as ReadingShareOptions));
  return wrap(ReadingShare, i as unknown as Inner);
}
