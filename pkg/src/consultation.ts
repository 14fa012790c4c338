// Consultation: one participant's side of a video consultation.
import type {
  ConsultationEventMap, ConsultationState, EndReason, JoinOptions, Participant, ParticipantRole,
  RecordingOptions, RecordingState, ScreenShareOptions,
} from '../web/teleconsult.js';
import * as wasm from '../web/teleconsult.js';
import { call, invalid, promise, TeleconsultError } from './errors.js';
import { disposable, eventNames, free, inner, innerOf, listen, wrap } from './base.js';
import { arg, bool, byteArray, bytes, data, either, list, nullable, num, obj, oneOf, opt, str, type Check } from './validate.js';
import { Recording } from './recording.js';
import { Playback } from './playback.js';
import { Chat, chatFor } from './chat.js';
import { Files, filesFor } from './files.js';
import { driverOf, joinCall, type CallDriver } from './call-driver.js';

declare module '../web/teleconsult.js' {
  interface ConsultationEventMap {
    /** An element attached with `attachMedia` may not play until the person interacts with
     *  the page (autoplay rules: Safari, WKWebView, Chromium's user-gesture policy). Call
     *  `resumePlayback()` from a click or tap handler. Once until playback works again. */
    playblocked: { participantId: string };
  }
}

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

  /** Connects to the relay, runs the end-to-end handshake and resolves once in the room (or
   *  the waiting room). */
  static join(options: JoinOptions): Promise<Consultation> {
    return promise(() => {
      const o = arg(options, 'options', joinOptions);
      return joinCall(o as unknown as JoinOptions).then((i) => wrap(Consultation, i));
    });
  }

  get participantId(): string { return call(() => c(this).participantId); }
  get role(): ParticipantRole { return call(() => c(this).role); }
  get state(): ConsultationState { return call(() => c(this).state); }
  get endReason(): EndReason | undefined { return call(() => c(this).endReason); }
  get localStream(): MediaStream | undefined { return call(() => c(this).localStream); }
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

  participants(): Participant[] { return call(() => c(this).participants()); }
  remoteStream(participantId: string): MediaStream | undefined {
    const p = pid(participantId);
    return call(() => c(this).remoteStream(p));
  }
  admit(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).admit(p));
  }
  deny(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).deny(p));
  }
  confirmSas(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).confirmSas(p));
  }
  sendData(participantId: string, data: Uint8Array | number[]): void {
    const p = pid(participantId);
    const d = arg(data, 'data', either(bytes, byteArray, 'bytes or an array of byte values'));
    call(() => c(this).sendData(p, d));
  }
  restartIce(participantId: string): void {
    const p = pid(participantId);
    call(() => c(this).restartIce(p));
  }
  getStats(participantId: string): Promise<RTCStatsReport> {
    return promise(() => {
      const p = pid(participantId);
      return io(this).getStats(p);
    });
  }
  startMedia(constraints: { audio?: boolean | MediaTrackConstraints; video?: boolean | MediaTrackConstraints }): Promise<MediaStream> {
    return promise(() => {
      const k = arg(constraints, 'constraints', mediaConstraints);
      return io(this).startMedia(k);
    });
  }
  stopMedia(): void { call(() => io(this).stopMedia()); }
  setMuted(kind: 'audio' | 'video', muted: boolean): void {
    const k = arg(kind, 'kind', oneOf('audio', 'video'));
    const m = arg(muted, 'muted', bool);
    call(() => io(this).setMuted(k as 'audio' | 'video', m));
  }
  switchCamera(deviceId?: string | null): Promise<void> {
    return promise(() => {
      const d = arg(deviceId, 'deviceId', nullable(str));
      return io(this).switchCamera(d);
    });
  }
  startRecording(options?: RecordingOptions): Promise<Recording> {
    return promise(() => {
      const o = arg(options, 'options', opt(recordingOptions));
      return c(this).startRecording(o as RecordingOptions | undefined).then((i) => wrap(Recording, i));
    });
  }
  /**
   * (Clinicians) shares a screen, window or tab, alongside the camera or instead of it
   * (`camera: "pause"`). Everyone in the call gets `screensharestarted`, and the screen as a
   * `track` event with `screen: true`; `stopScreenShare()` or the browser's own control ends
   * it (`screensharestopped`). Rejects with `InvalidState` (not a clinician, not in the call,
   * already sharing), `Unsupported` (no `getDisplayMedia`: mobile browsers),
   * `PermissionDenied` (picker closed or refused) or `MediaFailed`.
   */
  startScreenShare(options?: ScreenShareOptions): Promise<MediaStream> {
    return promise(() => {
      const o = arg(options, 'options', opt(screenShareOptions));
      return c(this).startScreenShare(o as ScreenShareOptions | undefined);
    });
  }
  /** Stops this side's screen share (nothing happens when not sharing). */
  stopScreenShare(): void { call(() => c(this).stopScreenShare()); }
  /** The screen a participant shares (this side's id: its own share), once its track came. */
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
  hangUp(endForEveryone?: boolean | null): void {
    const e = arg(endForEveryone, 'endForEveryone', nullable(bool));
    call(() => c(this).hangUp(e));
  }
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
