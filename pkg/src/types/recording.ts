// Types of recording a consultation (`Consultation.startRecording`, `Recording`).
import type { TeleconsultError } from '../errors.js';
import type { ConsentReason } from './consent.js';

/** Options of `Consultation.startRecording`. */
export interface RecordingOptions {
  /** A type `MediaRecorder.isTypeSupported` accepts; default WebM (VP8 + Opus) where supported. */
  mimeType?: string;
  /** Milliseconds between `dataavailable` chunks; default 1000. */
  timeslice?: number;
  videoBitsPerSecond?: number;
  audioBitsPerSecond?: number;
}

/**
 * Why a recording stopped:
 * - `"stopped"`: `recording.stop()` was called
 * - `"consent-withdrawn"`: a participant's recording consent was withdrawn, expired or needs a new notice
 * - `"participant-joined"`: someone without a recording grant entered the call
 * - `"hung-up"`: the recording side left the call
 * - `"error"`: the browser's recorder failed
 */
export type RecordingStopReason =
  | "stopped"
  | "consent-withdrawn"
  | "participant-joined"
  | "hung-up"
  | "error";

/** Whether someone is recording the call (`Consultation.recording`). */
export interface RecordingState {
  active: boolean;
  /** The participant id of whoever records (this side's own id for its own recording). */
  startedBy?: string;
}

/** The `detail` of each event a `Recording` dispatches. */
export interface RecordingEventMap {
  /** A chunk of the recording (every `timeslice` ms, and the last one on stop). */
  dataavailable: { data: Blob; size: number };
  /** The recorder stopped; `blob` is the whole recording. For consent stops,
   *  `participantId` and `consentReason` say whose consent and why. */
  stop: { reason: RecordingStopReason; blob: Blob; participantId?: string; consentReason?: ConsentReason };
}

/** The `ConsentDenied` error `startRecording` rejects with when a participant's consent is
 *  missing: `participantId` names them (never their name or any patient data). */
export interface RecordingConsentError extends TeleconsultError {
  code: "ConsentDenied";
  participantId: string;
}
