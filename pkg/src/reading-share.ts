// ReadingShare: readings shared with one participant over the consultation.
import type {
  Reading, ReadingShareEventMap, ReadingShareOptions, ReadingSource,
} from './types/devices.js';
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

/**
 * Shares readings with one participant of a consultation: consent-checked, queued while
 * they cannot be delivered, re-sent until the receiving app acknowledges each one.
 */
export class ReadingShare {
  /**
   * Shares with `participantId` (16 hex digits) over `consultation`'s app-data channel.
   * Options: `allow` (the consent hook), `maxPending`. Throws `InvalidArgument`.
   */
  constructor(consultation: Consultation, participantId: string, options?: ReadingShareOptions) {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    const o = arg(options, 'options', opt(shareOptions));
    hold(this, call(() => new wasm.ReadingShare(c as callModule.Consultation, p, o as ReadingShareOptions)));
  }
  /** Readings not yet acknowledged by the receiver. */
  get pending(): number { return call(() => sh(this).pending); }
  /**
   * Shares every `reading` event of `source` (a `DeviceSession` or `DeviceBridge`) until
   * `close()`. Failures become `error` events of this object.
   */
  attach(source: ReadingSource): void {
    const x = arg(source, 'source', sourceArg);
    call(() => sh(this).attach(x as ReadingSource));
  }
  /**
   * Queues a reading (one this SDK produced; it is rebuilt from `raw` and checked) and
   * sends it as soon as possible. Returns false when consent or `allow` withheld it (a
   * `withheld` event also says so); true when it is queued, or already was.
   *
   * Throws `InvalidArgument` / `MalformedMeasurement` for a reading that does not rebuild,
   * `LimitExceeded` when `maxPending` readings already wait, `InvalidState` after `close()`.
   */
  share(reading: Reading): boolean {
    const r = arg(reading, 'reading', readingArg);
    return call(() => sh(this).share(r as unknown as Reading));
  }
  /**
   * Tries to send what is queued now (it also happens on every consultation event that
   * may have made delivery possible).
   */
  flush(): void { call(() => sh(this).flush()); }
  /**
   * The ids of the readings not yet acknowledged, oldest first (persist them with the
   * readings if they must survive a page reload, and `share` them again after it).
   */
  pendingIds(): string[] { return call(() => sh(this).pendingIds()); }
  /** Stops sharing: removes every listener (consultation and sources) and drops the queue. */
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

/**
 * `new ReadingShare(consultation, participantId, options)` attached to `source`.
 */
export function shareReadings(consultation: Consultation, participantId: string, source: ReadingSource, options?: ReadingShareOptions): ReadingShare {
  const c = arg(consultation, 'consultation', consultationArg);
  const p = arg(participantId, 'participantId', str);
  const x = arg(source, 'source', sourceArg);
  const o = arg(options, 'options', opt(shareOptions));
  const i = call(() => wasm.shareReadings(c as callModule.Consultation, p, x as ReadingSource, o as ReadingShareOptions));
  return wrap(ReadingShare, i as unknown as Inner);
}
