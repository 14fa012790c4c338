// Recording: a recording of the call in progress.
import type { RecordingEventMap, RecordingStopReason } from './types/recording.js';
import * as wasm from '../web/teleconsult.js';
import { call, promise, TeleconsultError } from './errors.js';
import { disposable, free, inner, listen, eventNames } from './base.js';

const EVENTS = eventNames<RecordingEventMap>({ dataavailable: true, stop: true });

const REC = 'Recording';
const rec = (w: Recording) => inner<wasm.Recording>(w, REC);

/** A recording of the call in progress (from `Consultation.startRecording`). */
export class Recording {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use Consultation.startRecording');
  }
  get mimeType(): string { return call(() => rec(this).mimeType); }
  get size(): number { return call(() => rec(this).size); }
  get startedAt(): number { return call(() => rec(this).startedAt); }
  get state(): 'recording' | 'stopping' | 'stopped' { return call(() => rec(this).state); }
  get stopReason(): RecordingStopReason | undefined { return call(() => rec(this).stopReason); }
  /** Stops recording; resolves to the whole recording. */
  stop(): Promise<Blob> { return promise(() => rec(this).stop()); }
  free(): void { free(this); }
  addEventListener<K extends keyof RecordingEventMap>(type: K, listener: (event: CustomEvent<RecordingEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void {
    listen(this, REC, EVENTS, true, type, listener, options);
  }
  removeEventListener<K extends keyof RecordingEventMap>(type: K, listener: (event: CustomEvent<RecordingEventMap[K]>) => void, options?: boolean | EventListenerOptions): void {
    listen(this, REC, EVENTS, false, type, listener, options);
  }
}
disposable(Recording);

export interface Recording { [Symbol.dispose](): void }
