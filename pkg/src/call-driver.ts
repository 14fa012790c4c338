// The consultation's IO: the relay socket, one RTCPeerConnection per participant (and a
// spare made ahead of need), the timers, the local media, and the page's online and
// visibility events. The Rust core (src/web/consultation.rs) decides: this feeds it every IO
// event, then drains its `poll` and carries out what it hands over.
import type { JoinOptions, Participant } from './types/consultation.js';
import * as wasm from '../web/teleconsult.js';
import { normalise, TeleconsultError } from './errors.js';
import * as peer from './peer.js';

/** The core's side of the driver (hidden methods of the wasm `Consultation`). */
interface Core {
  readonly role: string;
  readonly localStream: MediaStream | undefined;
  readonly ownScreen: MediaStream | undefined;
  readonly joinedOnce: boolean;
  readonly ended: boolean;
  readonly oneCapturePerKind: boolean;
  readonly eventTarget: EventTarget;
  participants(): Participant[];
  poll(): unknown[] | undefined;
  relayOpened(): void;
  relayMessage(bytes: Uint8Array): void;
  relayClosed(code: number, stalled: boolean): number | undefined;
  relayUrl(): string;
  resetBackoff(): void;
  timeout(): void;
  peerEvent(peer: string, kind: number, a: unknown, b: unknown, c: unknown): void;
  localDescription(peer: string, kind: string, sdp: string): void;
  mediaFailed(peer: string, connection: boolean): void;
  directOpened(peer: string, keyId: string, seq: number, body: Uint8Array | undefined): void;
  qualitySample(peer: string, counters: Float64Array): number;
  requestRenegotiation(peer: string): void;
  restartIce(peer: string): void;
  enforceConsent(): void;
  mediaRefusal(kind: string): unknown;
  setLocalStream(stream: MediaStream | undefined): void;
  abandon(): void;
}

/** The wasm class's hidden statics. */
const Wasm = wasm.Consultation as unknown as {
  relayUrls(value: unknown): string[];
  checkOptions(options: unknown): void;
  makeCertificate(): Promise<[RTCCertificate, string, string]>;
  open(options: unknown, algorithm: string, value: string, offload: boolean, hasTurn: boolean, driver: CallDriver): wasm.Consultation;
  stateError(ended: boolean): unknown;
};

// What `poll` hands over: the first element of each array (src/web/consultation.rs, `todo`).
const TRANSMIT = 0, DIRECT = 1, OFFLOAD_KEY = 2, DIRECT_SEAL = 3, DIRECT_OPEN = 4, TIMEOUT = 5,
  MEDIA = 6, JOINED = 7, STALLED = 8, JOIN_FAILED = 9, WARM_SOON = 10, REPLENISH = 11,
  PEER_LEFT = 12, ENDED = 13;
// Media ops besides `peer.negotiate`'s: prepare a connection, close it.
const PREPARE = 5, CLOSE = 6;

/** Interval of the network-quality probe. */
const QUALITY_INTERVAL_MS = 2_000;
/** Events a spare keeps before it is handed out: one offer's candidates and its end (a
 *  bound, not a count anyone reaches). */
const MAX_EARLY_EVENTS = 64;

type Request = [op: number, a: unknown, b: unknown, c: unknown];
type PeerEventArgs = [kind: number, a?: unknown, b?: unknown, c?: unknown];

/** An offer set as local description before the session asked for one: a patient or guest
 *  makes it on its spare connection while the handshake and the admission are under way, so
 *  the offer goes out the moment the admission arrives instead of after createOffer and
 *  setLocalDescription (~15 ms on the call set-up's critical path, docs/BENCHMARKS.md).
 *  Nothing of it leaves the device before the session asks: its candidates wait with it. */
interface WarmOffer {
  shape: string;
  step: Promise<peer.Described | null>;
}

/** A warm offer handed out with its connection, settled before any request: used as the
 *  answer to the session's first offer request (an offer without ICE restart, on unchanged
 *  tracks), or rolled back. `usable` is unset until that request comes. */
interface WarmStart {
  offer: WarmOffer;
  usable?: boolean;
  /** Hands the connection's events to its participant: replays those that waited (`true`),
   *  or drops them (`false`, their offer was not used). */
  release(keep: boolean): void;
}

/** One participant's connection and its pending media requests (WebRTC's offer/answer
 *  methods must not overlap, so they run one at a time). */
interface Connection {
  pc: RTCPeerConnection;
  queue: Request[];
  busy: boolean;
  warm?: WarmStart;
}

/** Where a spare connection's events go: nowhere until it is handed to a participant. */
interface Handoff {
  owner?: string;
  early: PeerEventArgs[];
}

/**
 * A bare `RTCPeerConnection` (no tracks yet) made before anyone needs it, in time the main
 * thread would otherwise spend waiting (while the relay socket opens, or a quiet moment
 * after a participant connected), and handed to the next participant this one negotiates
 * with. In Chromium the first connection of a page costs ~3 ms to construct and adding two
 * tracks ~3 ms more; made on demand, all of it sits on the call set-up's critical path
 * (docs/BENCHMARKS.md). A patient's or guest's spare also holds its first offer ready.
 */
interface Spare {
  pc: RTCPeerConnection;
  handoff: Handoff;
  warm?: WarmOffer;
}

const media = (what: string) => new TeleconsultError('MediaFailed', `media: ${what}`);

/** `getUserMedia`, its refusals as `TeleconsultError`s. */
async function openMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
  const devices = globalThis.navigator?.mediaDevices;
  if (!devices) throw new TeleconsultError('Unsupported', 'not supported here: camera and microphone access (navigator.mediaDevices) is missing');
  try {
    return await devices.getUserMedia(constraints);
  } catch (e) {
    switch ((e as { name?: unknown } | null)?.name) {
      case 'NotAllowedError':
      case 'SecurityError':
        throw new TeleconsultError('PermissionDenied', 'permission denied: camera or microphone access was refused');
      case 'NotFoundError':
      case 'OverconstrainedError':
        throw media('no matching camera or microphone');
      case 'NotReadableError':
        throw media('the camera or microphone is in use by another application');
      default:
        throw media('the camera or microphone could not be opened');
    }
  }
}

/** The session's certificate, made before the handshake so that the SAS commits to it. */
async function certificate(): Promise<[RTCCertificate, string, string]> {
  try {
    const made = await Wasm.makeCertificate();
    if (Array.isArray(made) && typeof made[1] === 'string' && typeof made[2] === 'string') return made;
  } catch {
    // Reported below.
  }
  throw new TeleconsultError('Unsupported', 'not supported here: WebRTC certificates (RTCPeerConnection.generateCertificate)');
}

/** The wasm consultation's driver, for the wrapper's media methods. */
const DRIVERS = new WeakMap<object, CallDriver>();
export const driverOf = (core: object): CallDriver | undefined => DRIVERS.get(core);

/**
 * Joins: opens the relay socket at once (its handshake then runs while the certificate is
 * made and the keys derived), makes the consultation (which checks the options) and
 * resolves once the relay accepted the join.
 */
export async function joinCall(options: JoinOptions): Promise<wasm.Consultation> {
  const urls = Wasm.relayUrls(options.relayUrl);
  const driver = new CallDriver(options);
  driver.openSocket(urls[0]);
  let core: wasm.Consultation;
  try {
    // Bad options are refused as such even where WebRTC is missing.
    const [cert, algorithm, value] = await certificate().catch((e: unknown) => {
      Wasm.checkOptions(options);
      throw e;
    });
    driver.certificate = cert;
    core = Wasm.open(options, algorithm, value, driver.bulk !== null, peer.hasTurnServer(options.iceServers), driver);
  } catch (e) {
    driver.close();
    throw e;
  }
  DRIVERS.set(core, driver);
  try {
    await driver.start(core as unknown as Core);
    return core;
  } catch (e) {
    (core as unknown as Core).abandon();
    throw e;
  }
}

export class CallDriver {
  certificate?: RTCCertificate;
  readonly bulk = peer.bulkCrypto();
  #core?: Core;
  readonly #iceServers: RTCIceServer[] | undefined;
  readonly #relayOnly: boolean;
  #ws?: WebSocket;
  /** Socket events that came before the core existed. */
  #early: [kind: number, value?: unknown][] = [];
  #peers = new Map<string, Connection>();
  #spare?: Spare;
  #timer?: ReturnType<typeof setTimeout>;
  #timerAt?: number;
  #reconnectTimer?: ReturnType<typeof setTimeout>;
  #spareTimer?: ReturnType<typeof setTimeout>;
  #warmTimer?: ReturnType<typeof setTimeout>;
  #qualityTimer?: ReturnType<typeof setTimeout>;
  #detachHost?: () => void;
  #reacquiring = false;
  #pumping = false;
  #again = false;
  #closed = false;
  #join?: { resolve(): void; reject(e: unknown): void };

  constructor(options: JoinOptions) {
    this.#iceServers = options.iceServers;
    this.#relayOnly = options.iceTransportPolicy === 'relay';
  }

  get #c(): Core {
    if (!this.#core) throw new TeleconsultError('InvalidState', 'the consultation is not open yet');
    return this.#core;
  }

  /** Starts the consultation: the socket's early events go in, and the join waits for the
   *  relay's answer. */
  start(core: Core): Promise<void> {
    this.#core = core;
    const joined = new Promise<void>((resolve, reject) => { this.#join = { resolve, reject }; });
    this.#installHostListeners();
    // A patient's or guest's first connection is made now, while the socket's handshake is
    // in flight, and its offer once the socket is open, while the welcome and the hellos
    // cross: `setLocalDescription` started earlier delays the socket's open event by its
    // own work (~8 ms, traces in docs/BENCHMARKS.md, "Call set-up").
    if (core.role !== 'clinician') this.#makeSpare();
    const early = this.#early;
    this.#early = [];
    if (this.#ws || early.length) {
      for (const [kind, value] of early) this.#socketEvent(kind, value);
    } else {
      this.#connect();
    }
    return joined;
  }

  // ----- called by the core -----

  // Once closed (the consultation ended, or the app freed it, possibly while the SDK's
  // other objects still hold the core), both do nothing: the core may be gone, and a throw
  // here would unwind through the wasm that called.

  /** The core has something for the driver: drain `poll`. */
  wake(): void {
    if (!this.#closed) this.#pump();
  }

  /** Brings every connection in line with the local media and the shared screen, and has
   *  the session renegotiate each. */
  renegotiate(): void {
    if (this.#closed) return;
    for (const p of this.#peers.values()) this.#syncTracks(p.pc);
    for (const id of [...this.#peers.keys()]) this.#c.requestRenegotiation(id);
  }

  // ----- the media API (the wrapper's) -----

  async startMedia(constraints: { audio?: boolean | MediaTrackConstraints; video?: boolean | MediaTrackConstraints }): Promise<MediaStream> {
    const c = this.#c;
    if (c.ended) throw normalise(Wasm.stateError(true));
    for (const kind of ['audio', 'video'] as const) {
      const w = constraints[kind];
      const wanted = (typeof w === 'object' && w !== null) || w === true;
      const refusal = c.mediaRefusal(kind);
      if (wanted && refusal !== undefined) throw normalise(refusal);
    }
    const stream = await openMedia(constraints);
    const old = c.localStream;
    c.setLocalStream(stream);
    if (old) peer.stopTracks(old);
    this.renegotiate();
    return stream;
  }

  stopMedia(): void {
    const c = this.#c;
    const old = c.localStream;
    c.setLocalStream(undefined);
    if (old) peer.stopTracks(old);
    this.renegotiate();
  }

  setMuted(kind: 'audio' | 'video', muted: boolean): void {
    const stream = this.#c.localStream;
    if (stream) for (const t of stream.getTracks()) if (t.kind === kind) t.enabled = !muted;
  }

  async switchCamera(deviceId: string | null | undefined): Promise<void> {
    const c = this.#c;
    const stream = c.localStream;
    if (!stream) throw normalise(Wasm.stateError(false));
    const video = deviceId != null ? { deviceId: { exact: deviceId } } : { facingMode: 'environment' };
    // iOS keeps one live camera: the old one goes first (docs/BROWSERS.md).
    if (c.oneCapturePerKind) peer.dropTracks(stream, 'video');
    const fresh = await openMedia({ video });
    if (!(await this.#replaceTracks(stream, fresh))) {
      peer.stopTracks(fresh);
      throw media('the camera gave no video track');
    }
  }

  async getStats(participantId: string): Promise<RTCStatsReport> {
    const p = this.#peers.get(participantId);
    if (!p) throw new TeleconsultError('InvalidArgument', 'invalid argument: participantId: no connection to it');
    try {
      return await p.pc.getStats();
    } catch {
      throw media('getStats failed');
    }
  }

  /** Releases every connection, socket, timer and listener (the consultation ended, or the
   *  app freed it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#join?.reject(new TeleconsultError('InvalidState', 'the consultation ended'));
    for (const p of this.#peers.values()) peer.closePeer(p.pc);
    this.#peers.clear();
    if (this.#spare) peer.closePeer(this.#spare.pc);
    this.#spare = undefined;
    for (const t of [this.#timer, this.#reconnectTimer, this.#spareTimer, this.#warmTimer, this.#qualityTimer]) clearTimeout(t);
    this.#timer = this.#reconnectTimer = this.#spareTimer = this.#warmTimer = this.#qualityTimer = undefined;
    this.#timerAt = undefined;
    this.#closeSocket();
    this.#detachHost?.();
    this.#detachHost = undefined;
  }

  // ----- the core's outputs -----

  /** Drains `poll`. A nested call (from an event listener, or an SDK module that sends)
   *  leaves the outputs to the running loop, so that they are carried out in the order the
   *  session made them. */
  #pump(): void {
    const c = this.#core;
    if (!c) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        for (let todo = c.poll(); todo !== undefined; todo = c.poll()) this.#carryOut(todo);
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  #carryOut(t: unknown[]): void {
    const c = this.#c;
    // Closed (ended, or freed by the app): nothing more to carry out but a join's failure.
    if (this.#closed && t[0] !== JOIN_FAILED) return;
    switch (t[0]) {
      case TRANSMIT:
        if (this.#ws?.readyState === 1) this.#ws.send(t[1] as Uint8Array<ArrayBuffer>);
        break;
      case DIRECT: {
        // Not sent now: the session sends it again (through the relay once the channel is
        // reported closed).
        const p = this.#peers.get(t[1] as string);
        if (p) peer.sendDirect(p.pc, t[2] as Uint8Array);
        break;
      }
      case OFFLOAD_KEY:
        if (this.bulk) peer.importBulkKey(this.bulk, t[1] as string, t[2] as Uint8Array<ArrayBuffer>, t[3] as boolean);
        break;
      case DIRECT_SEAL: {
        const p = this.#peers.get(t[1] as string);
        if (this.bulk && p) {
          peer.sealDirect(this.bulk, t[2] as string, p.pc, t[3] as Uint8Array<ArrayBuffer>, t[4] as Uint8Array<ArrayBuffer>, t[5] as Uint8Array<ArrayBuffer>);
        }
        break;
      }
      case DIRECT_OPEN: {
        if (!this.bulk) break;
        const [, id, name, keyId, seq, nonce, frame] = t as [number, string, string, string, number, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>];
        void peer.openDirect(this.bulk, name, nonce, frame).then((body) => {
          if (this.#closed) return;
          c.directOpened(id, keyId, seq, body);
          this.#pump();
        });
        break;
      }
      case TIMEOUT:
        this.#armTimer(t[1] as number);
        break;
      case MEDIA:
        this.#onMedia(t[1] as string, t[2] as number, t[3], t[4], t[5]);
        break;
      case JOINED:
        this.#join?.resolve();
        // A clinician's spare connection is made now, while the first hellos are on their
        // way (a patient's or guest's was made at join, with its offer).
        this.#makeSpare();
        this.#startQualityProbe();
        break;
      case STALLED:
        // Read as a drop.
        this.#closeSocket();
        this.#relayClosed(1006, true);
        break;
      case JOIN_FAILED:
        this.#join?.reject(normalise(t[1]));
        break;
      case WARM_SOON:
        // The clinician's verified hello starts the offer in a task of its own: an admission
        // already queued behind the hello is handled first (offering on demand then),
        // instead of waiting ~10 ms behind an offer the page's thread is busy making.
        clearTimeout(this.#warmTimer);
        this.#warmTimer = setTimeout(() => this.#startWarmOffer(), 0);
        break;
      case REPLENISH:
        // A used spare is replaced in a quiet moment: a second after a participant
        // connected, when the call set-up that used it is over.
        clearTimeout(this.#spareTimer);
        this.#spareTimer = setTimeout(() => this.#makeSpare(), 1_000);
        break;
      case PEER_LEFT:
        if (this.bulk) peer.forgetBulkPeer(this.bulk, t[1] as string);
        break;
      case ENDED:
        this.close();
        break;
    }
  }

  /** Arms the session's timer for `at`. The next deadline is usually the one already armed
   *  (the keep-alive, a handshake timeout), so that timer is kept rather than re-created
   *  after every message. */
  #armTimer(at: number): void {
    if (this.#timerAt === at || this.#closed) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      this.#timer = this.#timerAt = undefined;
      this.#c.timeout();
      this.#pump();
    }, delay);
  }

  // ----- the relay socket -----

  /** Opens a socket to `url` (the previous one is closed, its events ignored). A socket that
   *  cannot be made reads as one that dropped. */
  openSocket(url: string): void {
    this.#closeSocket();
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      queueMicrotask(() => this.#socketEvent(2, 1006));
      return;
    }
    ws.binaryType = 'arraybuffer';
    const current = (f: (e: Event) => void) => (e: Event) => {
      if (ws === this.#ws) f(e);
    };
    ws.onopen = current(() => this.#socketEvent(0));
    ws.onmessage = current((e) => {
      const data = (e as MessageEvent).data;
      // Text frames are not part of the protocol.
      if (data instanceof ArrayBuffer) this.#socketEvent(1, new Uint8Array(data));
    });
    ws.onclose = current((e) => {
      this.#ws = undefined;
      this.#socketEvent(2, (e as CloseEvent).code);
    });
    this.#ws = ws;
  }

  #closeSocket(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(1000, 'closed by the application');
    } catch {
      // Already closing.
    }
  }

  #socketEvent(kind: number, value?: unknown): void {
    const c = this.#core;
    if (!c) {
      this.#early.push([kind, value]);
      return;
    }
    if (this.#closed) return;
    switch (kind) {
      case 0:
        c.relayOpened();
        this.#pump();
        this.#startWarmOffer();
        break;
      case 1:
        c.relayMessage(value as Uint8Array);
        this.#pump();
        break;
      default:
        this.#relayClosed(value as number, false);
    }
  }

  /** The socket closed: the core's failover policy says when to try again, if at all. */
  #relayClosed(code: number, stalled: boolean): void {
    const delay = this.#c.relayClosed(code, stalled);
    this.#pump();
    if (delay === undefined || this.#closed || this.#ws || this.#reconnectTimer !== undefined) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, delay);
  }

  #connect(): void {
    if (this.#closed) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.openSocket(this.#c.relayUrl());
  }

  /** Reconnects at once when the device comes back online or the page becomes visible again
   *  (mobile browsers freeze background tabs and drop their sockets); local tracks the
   *  browser ended while the page was hidden are opened again. */
  #installHostListeners(): void {
    const doc = globalThis.document;
    const listener = (online: boolean) => () => {
      const c = this.#core;
      if (!c || this.#closed) return;
      const hidden = doc?.hidden === true;
      if (!this.#ws && c.joinedOnce && !hidden) {
        c.resetBackoff();
        this.#connect();
      }
      if (!online && !hidden) void this.#reacquireEnded();
      if (online) {
        // The network changed: the old candidate pairs may be gone.
        for (const p of c.participants()) {
          if (!p.inCall) continue;
          try {
            c.restartIce(p.id);
          } catch {
            // Not in a state to restart: the session's own recovery goes on.
          }
        }
      }
    };
    const on: [EventTarget | undefined, string, () => void][] = [
      [globalThis.window, 'online', listener(true)],
      [doc, 'visibilitychange', listener(false)],
    ];
    const live = on.filter(([target]) => typeof target?.addEventListener === 'function');
    for (const [target, type, f] of live) target!.addEventListener(type, f);
    this.#detachHost = () => {
      for (const [target, type, f] of live) target!.removeEventListener(type, f);
    };
  }

  /**
   * Safari and iOS may end local capture while the page is in the background
   * (docs/BROWSERS.md, Safari rule 3). Each kind whose local track ended is opened again with
   * the constraints it had and sent in the old track's place on every connection
   * (`replaceTrack`: no renegotiation); `localmediarestored` tells the app. A kind consent no
   * longer covers stays off. Only ended kinds are asked for, so a live track of the other
   * kind is never opened twice (iOS keeps one capture per kind).
   */
  async #reacquireEnded(): Promise<void> {
    const c = this.#c;
    if (this.#reacquiring || this.#closed) return;
    const stream = c.localStream;
    if (!stream) return;
    const ended = peer.endedConstraints(stream);
    const wanted: MediaStreamConstraints = {};
    for (const kind of ['audio', 'video'] as const) {
      const constraints = ended?.[kind];
      if (constraints === undefined) continue;
      if (c.mediaRefusal(kind) !== undefined) peer.dropTracks(stream, kind);
      else wanted[kind] = constraints;
    }
    if (!Object.keys(wanted).length) return;
    this.#reacquiring = true;
    let fresh: MediaStream;
    try {
      fresh = await openMedia(wanted);
    } catch (e) {
      const err = e as TeleconsultError;
      this.#dispatch('error', { code: err.code, message: err.message });
      return;
    } finally {
      this.#reacquiring = false;
    }
    // The call may have ended, or the app replaced its media, while the device opened.
    if (this.#closed || c.localStream !== stream) {
      peer.stopTracks(fresh);
      return;
    }
    await this.#replaceTracks(stream, fresh);
    for (const track of fresh.getTracks()) this.#dispatch('localmediarestored', { kind: track.kind, track });
  }

  #dispatch(type: string, detail: unknown): void {
    this.#c.eventTarget.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Sends each track of `fresh` in place of `stream`'s track of its kind on every connection
   *  (`replaceTrack`, no renegotiation) and puts it in `stream`; false when `fresh` had none. */
  async #replaceTracks(stream: MediaStream, fresh: MediaStream): Promise<boolean> {
    const pcs = [...this.#peers.values()].map((p) => p.pc);
    return (await peer.replaceTracks(stream, fresh, pcs, this.#c.ownScreen)) > 0;
  }

  // ----- the peer connections -----

  /** A connection with the app's ICE configuration and no tracks yet, whose events go to
   *  `sink`; undefined when none can be made. */
  #barePeer(sink: peer.PeerSink): RTCPeerConnection | undefined {
    if (!this.certificate) return undefined;
    try {
      return peer.createPeer(this.#iceServers, this.#relayOnly, this.certificate, sink);
    } catch {
      return undefined;
    }
  }

  #peerEvent(id: string, kind: number, a?: unknown, b?: unknown, c?: unknown): void {
    if (this.#closed) return;
    this.#c.peerEvent(id, kind, a, b, c);
    this.#pump();
  }

  /** Sends on `pc` exactly the local media's tracks and the shared screen's, and receives
   *  both kinds whatever is sent. */
  #syncTracks(pc: RTCPeerConnection): void {
    const c = this.#c;
    const local = c.localStream;
    const screen = c.ownScreen;
    try {
      peer.removeTracksNotIn(pc, local, screen);
      if (local) peer.addStream(pc, local);
      else peer.receiveAudioAndVideo(pc);
      if (screen) peer.addStream(pc, screen);
    } catch {
      // A closed connection: its replacement gets the tracks.
    }
  }

  /** Makes a spare connection unless there is one (see `Spare`). */
  #makeSpare(): void {
    if (this.#spare || this.#closed) return;
    const handoff: Handoff = { early: [] };
    const pc = this.#barePeer((kind, a, b, c) => {
      if (handoff.owner !== undefined) this.#peerEvent(handoff.owner, kind, a, b, c);
      else if (handoff.early.length < MAX_EARLY_EVENTS) handoff.early.push([kind, a, b, c]);
    });
    if (!pc) return;
    // Local tracks go in now too (receive-only transceivers never do: a remote offer would
    // not reuse them, see `#onMedia`).
    const local = this.#c.localStream;
    if (local) {
      try {
        peer.addStream(pc, local);
      } catch {
        // Added when it is handed out.
      }
    }
    this.#spare = { pc, handoff };
  }

  /** Makes the spare's offer, unless this side is the clinician (which answers) or the spare
   *  already holds one. */
  #startWarmOffer(): void {
    const c = this.#core;
    const spare = this.#spare;
    if (!c || c.role === 'clinician' || this.#closed || !spare || spare.warm) return;
    try {
      if (!c.localStream) peer.receiveAudioAndVideo(spare.pc);
      const step = peer.negotiate(spare.pc, 0, false);
      step.catch(() => {});
      spare.warm = { shape: peer.offerShape(spare.pc), step };
    } catch {
      // The offer is made on demand instead.
    }
  }

  #onMedia(id: string, op: number, a: unknown, b: unknown, c: unknown): void {
    if (op === CLOSE) {
      const closed = this.#peers.get(id);
      this.#peers.delete(id);
      if (closed) peer.closePeer(closed.pc);
      return;
    }
    // The spare is that prepared connection already. It stays unassigned until the first
    // real request, so that it can make its offer meanwhile.
    if (op === PREPARE && this.#spare && !this.#peers.has(id)) return;
    let p = this.#peers.get(id);
    if (!p) {
      this.#c.enforceConsent();
      const spare = this.#spare;
      this.#spare = undefined;
      const pc = spare?.pc ?? this.#barePeer((kind, a, b, c) => this.#peerEvent(id, kind, a, b, c));
      if (!pc) {
        this.#c.mediaFailed(id, true);
        this.#pump();
        return;
      }
      p = { pc, queue: [], busy: false };
      // A spare may hold tracks the local media no longer has, or lack some.
      this.#syncTracks(pc);
      if (spare) {
        const handoff = spare.handoff;
        if (spare.warm) {
          p.warm = {
            offer: spare.warm,
            release: (keep) => {
              handoff.owner = id;
              const early = handoff.early;
              handoff.early = [];
              if (keep) for (const [kind, a, b, c] of early) this.#peerEvent(id, kind, a, b, c);
            },
          };
        } else {
          handoff.owner = id;
        }
      }
      this.#peers.set(id, p);
    }
    if (op === PREPARE) return;
    // A warm offer answers the first request itself when that asks for an offer of the
    // same tracks; otherwise it is rolled back before the request runs.
    let answered = false;
    if (p.warm && p.warm.usable === undefined) {
      const sameTracks = peer.offerShape(p.pc) === p.warm.offer.shape;
      p.warm.usable = op === 0 && !a && sameTracks;
      answered = p.warm.usable;
    }
    if (!answered) p.queue.push([op, a, b, c]);
    if (!p.busy) {
      p.busy = true;
      void this.#drainMedia(id);
    }
  }

  /** Executes a connection's media requests one after another: a warm offer to settle
   *  first, then the requests in order. */
  async #drainMedia(id: string): Promise<void> {
    for (;;) {
      const p = this.#peers.get(id);
      if (!p || this.#closed) return;
      const pc = p.pc;
      const warm = p.warm;
      if (warm) {
        p.warm = undefined;
        if (!(await this.#settle(pc, id, warm)) && warm.usable === true) {
          // The offer failed: make it the usual way.
          this.#peers.get(id)?.queue.unshift([0, false, undefined, undefined]);
        }
        continue;
      }
      const request = p.queue.shift();
      if (!request) {
        p.busy = false;
        return;
      }
      try {
        const made = await peer.negotiate(pc, ...request);
        if (made && !this.#closed) {
          this.#c.localDescription(id, made[0], made[1]);
          this.#pump();
        }
      } catch {
        // The session's negotiation timeout retries; the app hears about it.
        if (!this.#closed) {
          this.#c.mediaFailed(id, false);
          this.#pump();
        }
      }
    }
  }

  /** Settles a warm offer: when it is used, the session gets its SDP before the candidates
   *  that waited are replayed; otherwise it is rolled back and they are dropped. Returns
   *  whether it was used. */
  async #settle(pc: RTCPeerConnection, id: string, warm: WarmStart): Promise<boolean> {
    const made = await warm.offer.step.catch(() => null);
    if (warm.usable === true && made?.[0] === 'offer' && !this.#closed) {
      this.#c.localDescription(id, 'offer', made[1]);
      this.#pump();
      warm.release(true);
      return true;
    }
    // Rolling back a failed offer fails too (the state is stable): nothing to undo then.
    await peer.negotiate(pc, 4).catch(() => null);
    warm.release(false);
    return false;
  }

  /** Every 2 s, a stats sample of each connected participant's connection for the core's
   *  quality monitor, whose audio-only fallback decision is applied here. */
  #startQualityProbe(): void {
    if (this.#qualityTimer !== undefined || this.#closed) return;
    this.#qualityTimer = setTimeout(() => {
      this.#qualityTimer = undefined;
      const c = this.#core;
      if (!c || this.#closed) return;
      const up = new Set(c.participants().filter((p) => p.connected).map((p) => p.id));
      for (const [id, p] of this.#peers) {
        if (!up.has(id)) continue;
        const pc = p.pc;
        peer.qualityCounters(pc).then((counters) => {
          // The same connection only: a reset may have replaced it while stats were read.
          if (this.#closed || this.#peers.get(id)?.pc !== pc) return;
          const decision = c.qualitySample(id, counters);
          this.#pump();
          if (decision >= 0) void peer.setVideoSending(pc, decision === 1);
        }, () => {});
      }
      this.#startQualityProbe();
    }, QUALITY_INTERVAL_MS);
  }
}
