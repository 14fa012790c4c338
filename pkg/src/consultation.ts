// Consultation: one participant's side of a video consultation.
import type {
  ConsultationEventMap, ConsultationState, EndReason, JoinOptions, Participant, ParticipantRole,
} from './types/consultation.js';
import type { RecordingOptions, RecordingState } from './types/recording.js';
import type { ScreenShareOptions } from './types/screen.js';
import * as wasm from '../web/teleconsult.js';
import { call, invalid, promise, TeleconsultError } from './errors.js';
import { disposable, eventNames, free, inner, innerOf, listen, wrap } from './base.js';
import { arg, bool, byteArray, bytes, data, either, list, nullable, num, obj, oneOf, opt, str, type Check } from './validate.js';
import { Recording } from './recording.js';
import { Playback } from './playback.js';
import { Chat, chatFor } from './chat.js';
import { Files, filesFor } from './files.js';
import { driverOf, joinCall, type CallDriver } from './call-driver.js';

/**
 * A `Consultation` argument: one of this package's, or an object with the surface the SDK
 * uses (`participantId`, `addEventListener`, `removeEventListener`, `sendData`), as a native
 * bridge or a test double provides.
 */
export const consultationArg: Check<object> = (v, n) => {
  const i = ownConsultationOrUndefined(v, n);
  if (i) return i;
  const c = v as Partial<Record<string, unknown>>;
  if (
    typeof v !== 'object' || v === null ||
    typeof c.participantId !== 'string' ||
    typeof c.addEventListener !== 'function' ||
    typeof c.removeEventListener !== 'function'
  ) {
    throw invalid(n, 'a Consultation');
  }
  return v;
};

/** The wasm object of one of this package's live consultations, if `v` is one. */
function ownConsultationOrUndefined(v: unknown, n: string): wasm.Consultation | undefined {
  const i = innerOf<wasm.Consultation>(v, wasm.Consultation);
  if (!i && v instanceof Consultation) throw new TeleconsultError('InvalidState', `${n}: the Consultation was freed`);
  return i;
}

/** A `Consultation` argument that must be one of this package's (its SAS, its session). */
export const ownConsultationArg: Check<wasm.Consultation> = (v, n) => {
  const i = ownConsultationOrUndefined(v, n);
  if (!i) throw invalid(n, 'a live Consultation');
  return i;
};

const joinOptions = obj({
  link: str,
  relayUrl: either(str, list(str), 'a URL string or an array of them'),
  token: str,
  role: oneOf('clinician', 'patient', 'guest'),
  displayName: str,
  'iceServers?': list(obj({ urls: either(str, list(str), 'a URL string or an array of them') })),
  'iceTransportPolicy?': oneOf('all', 'relay'),
  'participantId?': str,
  'audioOnlyFallback?': bool,
  'localStream?': (v, n) => {
    if (typeof v !== 'object' || v === null) throw invalid(n, 'a MediaStream');
    return v;
  },
});

const trackConstraints = either(bool, data, 'a boolean or MediaTrackConstraints');
const mediaConstraints = obj({ 'audio?': trackConstraints, 'video?': trackConstraints });

const recordingOptions = obj({
  'mimeType?': str,
  'timeslice?': num,
  'videoBitsPerSecond?': num,
  'audioBitsPerSecond?': num,
});

const screenShareOptions = obj({ 'camera?': oneOf('keep', 'pause') });

const C = 'Consultation';
const CONSULTATION_EVENTS = eventNames<ConsultationEventMap>({
  statechange: true, participantjoined: true, admissionrequested: true, participantadmitted: true,
  participantdenied: true, participantconnected: true, participantleft: true, sas: true, sasconfirmed: true, resumed: true,
  track: true, data: true, dataundelivered: true, security: true, quality: true, videopaused: true,
  videoresumed: true, linkmismatch: true, error: true, localmediastopped: true, localmediarestored: true, recording: true,
  playblocked: true, chatmessage: true, chatreceipt: true, chattyping: true, chathistory: true,
  fileoffered: true, fileprogress: true, filereceived: true, filedelivered: true, filecancelled: true,
  screensharestarted: true, screensharestopped: true,
});
/** Events this layer dispatches itself, on a target of each wrapper's own. */
const OWN_EVENTS = new WeakMap<Consultation, EventTarget>();
const ownEvents = (w: Consultation) => {
  let target = OWN_EVENTS.get(w);
  if (!target) OWN_EVENTS.set(w, (target = new EventTarget()));
  return target;
};
const own = (w: Consultation) => (type: string) => (type === 'playblocked' ? ownEvents(w) : undefined);
const PLAYBACK = new WeakMap<Consultation, Playback>();
const playback = (w: Consultation) => {
  let p = PLAYBACK.get(w);
  if (!p) PLAYBACK.set(w, (p = new Playback(w, ownEvents(w))));
  return p;
};
const mediaElement = (v: unknown, n: string): HTMLMediaElement => {
  const M = (globalThis as { HTMLMediaElement?: typeof HTMLMediaElement }).HTMLMediaElement;
  if (!M || !(v instanceof M)) throw invalid(n, 'an HTMLMediaElement (<video> or <audio>)');
  return v;
};
const c = (w: Consultation) => inner<wasm.Consultation>(w, C);
/** The consultation's IO (call-driver.ts). */
const io = (w: Consultation): CallDriver => {
  const d = driverOf(c(w));
  if (!d) throw new TeleconsultError('InvalidState', 'the Consultation was freed');
  return d;
};
const CHATS = new WeakMap<Consultation, Chat>();
const FILES = new WeakMap<Consultation, Files>();
const pid = (v: unknown) => arg(v, 'participantId', str);

/** One participant's side of a video consultation. Join with `Consultation.join`. */
export class Consultation {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use Consultation.join');
  }

  /**
   * Joins a consultation: connects to the relay, presents the join token and starts the
   * end-to-end handshake.
   *
   * Resolves to the `Consultation` once the relay has accepted the join (a patient is then
   * in the `waiting` state until a clinician admits them). Rejects with a
   * `TeleconsultError`: `InvalidArgument` (bad options or link), `RelayRefused` (the relay
   * refused the token or the room; see `relayCode`), `NetworkError` (no relay of
   * `relayUrl` could be reached: each is tried once, in order), `Unsupported` (no
   * WebSocket or secure random source).
   */
  static join(options: JoinOptions): Promise<Consultation> {
    return promise(() => {
      const o = arg(options, 'options', joinOptions);
      return joinCall(o as unknown as JoinOptions).then((i) => wrap(Consultation, i));
    });
  }

  /**
   * This participant's id (16 hex digits); pass it as `participantId` to resume after a
   * page reload.
   */
  get participantId(): string { return call(() => c(this).participantId); }
  /** This participant's role. */
  get role(): ParticipantRole { return call(() => c(this).role); }
  /** The current state. */
  get state(): ConsultationState { return call(() => c(this).state); }
  /** Why the consultation ended, once `state` is `ended`. */
  get endReason(): EndReason | undefined { return call(() => c(this).endReason); }
  /** The camera and microphone stream this side sends, if started. */
  get localStream(): MediaStream | undefined { return call(() => c(this).localStream); }
  /**
   * Whether someone records the call: this side (`startedBy` is this side's id) or a
   * clinician elsewhere, as their signal said.
   */
  get recording(): RecordingState { return call(() => c(this).recording); }
  /** The consultation's chat (src/web/chat.rs, pkg/src/chat.ts). */
  get chat(): Chat {
    c(this);
    let chat = CHATS.get(this);
    if (!chat) CHATS.set(this, (chat = chatFor(() => c(this))));
    return chat;
  }
  /** The consultation's photos and documents (src/web/files.rs, pkg/src/files.ts). */
  get files(): Files {
    c(this);
    let files = FILES.get(this);
    if (!files) FILES.set(this, (files = filesFor(() => c(this))));
    return files;
  }

  /** Everyone else this side knows of. */
  participants(): Participant[] { return call(() => c(this).participants()); }
  /** The stream received from a participant, once its first track arrived. */
  remoteStream(participantId: string): MediaStream | undefined {
    const p = pid(participantId);
    return call(() => c(this).remoteStream(p));
  }
  /**
   * (Clinicians) lets a waiting participant into the call. Throws `InvalidState` if this
   * side is not a clinician or the participant is not waiting.
   */
  admit(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).admit(p));
  }
  /** (Clinicians) turns a waiting participant away; their consultation ends as `denied`. */
  deny(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).deny(p));
  }
  /**
   * Records that this user compared the SAS with the participant and it matched. The
   * other side is told (`sasconfirmed`); a mismatch raises a `sas-mismatch` security event.
   */
  confirmSas(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).confirmSas(p));
  }
  /**
   * Sends application data to a participant over the end-to-end encrypted channel:
   * delivered once, in order, while both stay in the call (`dataundelivered` otherwise).
   */
  sendData(participantId: string, data: Uint8Array | number[]): void {
    const p = pid(participantId);
    const d = arg(data, 'data', either(bytes, byteArray, 'bytes or an array of byte values'));
    call(() => c(this).sendData(p, d));
  }
  /**
   * Restarts ICE with a participant (new candidates, same encryption keys): use it when
   * the network path changed. The SDK also does this by itself when ICE fails and when
   * the device comes back online.
   */
  restartIce(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).restartIce(p));
  }
  /** The raw `RTCStatsReport` of the connection to a participant. */
  getStats(participantId: string): Promise<RTCStatsReport> {
    return promise(() => {
      const p = pid(participantId);
      return io(this).getStats(p);
    });
  }
  /**
   * Opens the camera and/or microphone and sends them to everyone in the call.
   *
   * When a `ConsentManager` is attached to this consultation, each kind needs a grant
   * covering it (default deny). Resolves to the local `MediaStream`. Rejects with
   * `ConsentDenied` (with `reason`) before the camera opens, `PermissionDenied` when the
   * user or host app refuses, `MediaFailed` when no device works, `InvalidState` after
   * the end.
   */
  startMedia(constraints: { audio?: boolean | MediaTrackConstraints; video?: boolean | MediaTrackConstraints }): Promise<MediaStream> {
    return promise(() => {
      const k = arg(constraints, 'constraints', mediaConstraints);
      return io(this).startMedia(k);
    });
  }
  /** Stops the camera and microphone and stops sending them. */
  stopMedia(): void { call(() => io(this).stopMedia()); }
  /**
   * Mutes or unmutes the local audio or video without renegotiating (the track sends
   * silence or black frames).
   */
  setMuted(kind: 'audio' | 'video', muted: boolean): void {
    const k = arg(kind, 'kind', oneOf('audio', 'video'));
    const m = arg(muted, 'muted', bool);
    call(() => io(this).setMuted(k as 'audio' | 'video', m));
  }
  /**
   * Switches to another camera (by `deviceId`, or to the next one when omitted), replacing
   * the sent video track in place. Resolves when the new camera is live.
   */
  switchCamera(deviceId?: string | null): Promise<void> {
    return promise(() => {
      const d = arg(deviceId, 'deviceId', nullable(str));
      return io(this).switchCamera(d);
    });
  }
  /**
   * (Clinicians) records the call with the browser's `MediaRecorder`: one video track
   * (the patient's camera) and every participant's audio mixed into one track.
   *
   * Consent: it starts only if every other participant in the call (each patient and
   * guest) is covered, for this clinician and this moment, by a `recording` grant in a
   * `ConsentReplica` attached to this consultation for them
   * (`replica.attachConsultation(consultation, participantId)`, with the replica's
   * `recipient` and `notice` options set). It stops by itself as soon as that is no
   * longer true: a withdrawal, an expiry, a new notice version, or someone without a
   * grant entering the call. The other participants are told (their `recording` event).
   *
   * Resolves to the `Recording`. Rejects with `ConsentDenied` (a
   * `RecordingConsentError`: `participantId` names whose consent is missing, `reason`
   * why), `InvalidState` (not a clinician, nobody else in the call, already recording,
   * or the call ended), `Unsupported` (no `MediaRecorder`), `InvalidArgument` (bad
   * options, an unsupported `mimeType`) or `MediaFailed` (no track to record yet).
   */
  startRecording(options?: RecordingOptions): Promise<Recording> {
    return promise(() => {
      const o = arg(options, 'options', opt(recordingOptions));
      return c(this).startRecording(o as RecordingOptions | undefined).then((i) => wrap(Recording, i));
    });
  }
  /**
   * (Clinicians) shares a screen, window or tab (`getDisplayMedia`: the browser shows its
   * picker), alongside the camera or instead of it (`camera: "pause"`). Every participant
   * in the call, and everyone admitted while it lasts, gets `screensharestarted` and the
   * screen's video as a `track` event with `screen: true`. It stops with
   * `stopScreenShare()` or the browser's own control (`screensharestopped`, reason
   * `"stopped"` or `"ended"`).
   *
   * Resolves to the shared `MediaStream`. Rejects with `InvalidState` (not a clinician,
   * not in the call, already sharing, or the call ended meanwhile), `Unsupported` (no
   * `getDisplayMedia`: mobile browsers; see `capabilities().screenShare`),
   * `PermissionDenied` (the user closed the picker or refused; or, in Firefox and Safari,
   * it was not called from a click or tap) or `MediaFailed`.
   */
  startScreenShare(options?: ScreenShareOptions): Promise<MediaStream> {
    return promise(() => {
      const o = arg(options, 'options', opt(screenShareOptions));
      return c(this).startScreenShare(o as ScreenShareOptions | undefined);
    });
  }
  /** (Clinicians) stops sharing the screen (nothing happens when not sharing). */
  stopScreenShare(): void { call(() => c(this).stopScreenShare()); }
  /**
   * The screen a participant shares (this side's own id: this side's share), once its
   * track arrived; `undefined` otherwise.
   */
  screenStream(participantId: string): MediaStream | undefined {
    const p = pid(participantId);
    return call(() => c(this).screenStream(p));
  }
  /**
   * Shows a participant's media in `element` (a `<video>` or `<audio>`), now and whenever its
   * tracks change: inline, autoplaying, and played again when the page comes back from the
   * background. Where the browser refuses to play without a user gesture, a `playblocked`
   * event asks the app to call `resumePlayback()` from a click or tap.
   */
  attachMedia(element: HTMLMediaElement, participantId: string): void {
    const e = arg(element, 'element', mediaElement);
    const p = pid(participantId);
    c(this);
    playback(this).attach(e, p);
  }
  /** Stops showing media in `element`. */
  detachMedia(element: HTMLMediaElement): void {
    const e = arg(element, 'element', mediaElement);
    c(this);
    PLAYBACK.get(this)?.detach(e);
  }
  /** Plays every attached element; call it from a click or tap after `playblocked`. Resolves
   *  to whether all of them play. */
  resumePlayback(): Promise<boolean> {
    return promise(() => {
      c(this);
      return PLAYBACK.get(this)?.resume() ?? Promise.resolve(true);
    });
  }
  /**
   * Leaves the consultation: tells the others (sealed), then closes every peer connection,
   * stops local tracks, closes the relay socket and releases every timer and callback.
   * A clinician passing `endForEveryone: true` ends it for all participants.
   */
  hangUp(endForEveryone?: boolean | null): void {
    const e = arg(endForEveryone, 'endForEveryone', nullable(bool));
    call(() => c(this).hangUp(e));
  }
  /**
   * Releases this consultation: its peer connections and relay socket close at once, without
   * telling the others first (call `hangUp()` before, to leave properly).
   * Every later call throws `InvalidState`.
   */
  free(): void {
    PLAYBACK.get(this)?.close();
    PLAYBACK.delete(this);
    const i = innerOf<wasm.Consultation>(this, wasm.Consultation);
    if (i) driverOf(i)?.close();
    free(this);
  }

  addEventListener<K extends keyof ConsultationEventMap>(type: K, listener: (event: CustomEvent<ConsultationEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void {
    listen(this, C, CONSULTATION_EVENTS, true, type, listener, options, own(this));
  }
  removeEventListener<K extends keyof ConsultationEventMap>(type: K, listener: (event: CustomEvent<ConsultationEventMap[K]>) => void, options?: boolean | EventListenerOptions): void {
    listen(this, C, CONSULTATION_EVENTS, false, type, listener, options, own(this));
  }
}
disposable(Consultation);

export interface Consultation { [Symbol.dispose](): void }
