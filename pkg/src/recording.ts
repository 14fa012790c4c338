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
  /** The recording's MIME type, e.g. `"video/webm;codecs=vp8,opus"`. */
  get mimeType(): string { return call(() => rec(this).mimeType); }
  /** Bytes recorded so far (the sum of the chunks). */
  get size(): number { return call(() => rec(this).size); }
  /** When it started (ms since the epoch). */
  get startedAt(): number { return call(() => rec(this).startedAt); }
  /** `"recording"`, `"stopping"` (the last chunk is on its way) or `"stopped"`. */
  get state(): 'recording' | 'stopping' | 'stopped' { return call(() => rec(this).state); }
  /** Why it stopped, once it did. */
  get stopReason(): RecordingStopReason | undefined { return call(() => rec(this).stopReason); }
  /**
   * Stops recording (if it still runs) and tells the other participants. Resolves to the
   * whole recording as one `Blob` once the recorder delivered its last chunk — also after
   * a stop for consent or hang-up, with what was recorded until then.
   */
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
