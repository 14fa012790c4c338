// ReadingReceiver: the readings patients share, received over the consultation.
import type { ReadingReceiverEventMap, ReadingReceiverOptions } from './types/devices.js';
import * as wasm from '../web-devices/teleconsult_devices.js';
import type * as callModule from '../web/teleconsult.js';
import { call } from './errors.js';
import { disposable, free, hold, inner, listen, eventNames } from './base.js';
import { arg, fhirOptions, fn, obj, opt } from './validate.js';
import { consultationArg, type Consultation } from './consultation.js';

const EVENTS = eventNames<ReadingReceiverEventMap>({ reading: true, error: true });

const receiverOptions = obj({ 'fhir?': fhirOptions, 'allow?': fn });

const RR = 'ReadingReceiver';
const rr = (w: ReadingReceiver) => inner<wasm.ReadingReceiver>(w, RR);

/**
 * Receives the readings patients share over the consultation: turns the reading envelopes
 * into typed `reading` events, each rebuilt from its raw value with the same parsers,
 * checked against its id, acknowledged, and dispatched once per id with its FHIR form.
 */
export class ReadingReceiver {
  /**
   * Listens to `consultation`'s `data` events. Options: `fhir`, `allow`.
   * Throws `InvalidArgument`.
   */
  constructor(consultation: Consultation, options?: ReadingReceiverOptions) {
    const c = arg(consultation, 'consultation', consultationArg);
    const o = arg(options, 'options', opt(receiverOptions));
    hold(this, call(() => new wasm.ReadingReceiver(c as callModule.Consultation, o as ReadingReceiverOptions)));
  }
  /** Stops listening. */
  close(): void { call(() => rr(this).close()); }
  free(): void { free(this); }
  addEventListener<K extends keyof ReadingReceiverEventMap>(type: K, listener: (event: CustomEvent<ReadingReceiverEventMap[K]>) => void): void {
    listen(this, RR, EVENTS, true, type, listener, undefined);
  }
  removeEventListener<K extends keyof ReadingReceiverEventMap>(type: K, listener: (event: CustomEvent<ReadingReceiverEventMap[K]>) => void): void {
    listen(this, RR, EVENTS, false, type, listener, undefined);
  }
}
disposable(ReadingReceiver);

export interface ReadingReceiver { [Symbol.dispose](): void }
