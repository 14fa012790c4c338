// The browser side of one WebRTC peer connection, as the consultation's driver
// (call-driver.ts) uses it. The session in the Rust core decides what happens and when;
// these functions only touch RTCPeerConnection, getUserMedia and WebCrypto.

/** What a connection reports to `createPeer`'s `onEvent(kind, a, b, c)` — the numbers the
 *  core reads (src/web/peer.rs, `peer_event`): 0 a local candidate (`a` the candidate line,
 *  '' when gathering completed, `b` its mid, `c` its m-line index), 1 the ICE connection
 *  state (`a`), 2 a remote track (`a` the track, `b` the sender's stream, if any), 3 a
 *  STUN/TURN error (`a` code, `b` reason, `c` URL), 4 the direct channel opened (`a` true)
 *  or closed, 5 a message on it (`a` its bytes). */
export type PeerSink = (kind: number, a?: unknown, b?: unknown, c?: unknown) => void;

/** A connection with the app's ICE configuration and the session's certificate. */
export function createPeer(iceServers: RTCIceServer[] | undefined, relayOnly: boolean, certificate: RTCCertificate, onEvent: PeerSink): RTCPeerConnection {
  const config: RTCConfiguration = { certificates: [certificate] };
  if (iceServers !== undefined) config.iceServers = iceServers;
  if (relayOnly) config.iceTransportPolicy = 'relay';
  const pc = new RTCPeerConnection(config);
  pc.onicecandidate = (e) => {
    const c = e.candidate;
    onEvent(0, c ? c.candidate : '', c ? c.sdpMid : null, c ? c.sdpMLineIndex : null);
  };
  pc.oniceconnectionstatechange = () => onEvent(1, pc.iceConnectionState);
  pc.ontrack = (e) => onEvent(2, e.track, e.streams[0]);
  pc.onicecandidateerror = (e) => onEvent(3, e.errorCode, e.errorText, e.url);
  openDirectChannel(pc, onEvent);
  return pc;
}

/**
 * The connection's direct channel for file chunks (docs/PROTOCOL.md, "Direct path"):
 * pre-negotiated (both sides make it with the same id when the connection is made, so no
 * signaling and no later renegotiation; it is in the first offer), ordered and reliable. It
 * carries sealed envelopes only. A browser without data channels has none: everything goes
 * through the relay.
 */
const channels = new WeakMap<RTCPeerConnection, RTCDataChannel>();

function openDirectChannel(pc: RTCPeerConnection, onEvent: PeerSink): void {
  let dc: RTCDataChannel;
  try {
    dc = pc.createDataChannel('teleconsult', { negotiated: true, id: 0 });
  } catch {
    return;
  }
  dc.binaryType = 'arraybuffer';
  dc.onopen = () => onEvent(4, true);
  dc.onclose = () => onEvent(4, false);
  dc.onmessage = (e) => {
    if (e.data instanceof ArrayBuffer) onEvent(5, new Uint8Array(e.data));
  };
  channels.set(pc, dc);
}

/** Most bytes queued on a direct channel: beyond, a frame is dropped and sent again later
 *  (the session's retransmission); the files window keeps well below it. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** Sends one sealed envelope on `pc`'s direct channel; false when it cannot go now. */
export function sendDirect(pc: RTCPeerConnection, frame: Uint8Array): boolean {
  const dc = channels.get(pc);
  if (!dc || dc.readyState !== 'open' || dc.bufferedAmount > MAX_BUFFERED) return false;
  try {
    dc.send(frame as Uint8Array<ArrayBuffer>);
    return true;
  } catch {
    return false;
  }
}

/** Detaches the handlers `createPeer` set and closes the connection. */
export function closePeer(pc: RTCPeerConnection): void {
  pc.onicecandidate = pc.oniceconnectionstatechange = pc.ontrack = null;
  pc.onicecandidateerror = null;
  const dc = channels.get(pc);
  if (dc) dc.onopen = dc.onclose = dc.onmessage = null;
  pc.close();
}

/**
 * Bulk crypto offload (src/signaling/session/offload.rs): AES-256-GCM of large file chunks
 * on the direct path by WebCrypto (AES instructions) instead of the session's software AES
 * in wasm. The session keeps each frame's nonce, header checks and replay window; this only
 * computes. One state per consultation: the imported keys by name (peer, key id and
 * direction), and per peer the promise of the last frame sent and opened, so frames leave
 * and are reported in the order the session gave them.
 */
export interface BulkCrypto {
  subtle: SubtleCrypto;
  keys: Map<string, Promise<CryptoKey>>;
  sent: Map<string, Promise<void>>;
  opened: Map<string, Promise<Uint8Array | undefined>>;
}

/** The page's WebCrypto for bulk crypto offload, or null without one. */
export function bulkCrypto(): BulkCrypto | null {
  const subtle = globalThis.crypto?.subtle;
  return subtle && typeof subtle.encrypt === 'function' ? { subtle, keys: new Map(), sent: new Map(), opened: new Map() } : null;
}

/** The peer part of a key's name (`peer:keyId:s|o`): frames to and from it keep their order. */
const peerOf = (name: string) => name.slice(0, name.indexOf(':'));

/** Imports a key the session handed over (`name` is `peer:keyId:s|o`): not extractable, for
 *  one direction only. It replaces the peer's earlier key of that direction: after a re-key
 *  the session never asks for the old one again (operations already started keep theirs). */
export function importBulkKey(bulk: BulkCrypto, name: string, raw: Uint8Array<ArrayBuffer>, send: boolean): void {
  const peer = peerOf(name);
  const dir = name.slice(-2);
  for (const old of bulk.keys.keys()) if (peerOf(old) === peer && old.endsWith(dir)) bulk.keys.delete(old);
  const key = bulk.subtle.importKey('raw', raw, 'AES-GCM', false, [send ? 'encrypt' : 'decrypt']);
  key.catch(() => {});
  bulk.keys.set(name, key);
}

/** Encrypts `plaintext` under key `name` and sends `aad || ciphertext || tag` on `pc`'s direct
 *  channel, after the frames sealed before it; a frame that cannot be sealed or sent is
 *  dropped (the session sends the message again). */
export function sealDirect(bulk: BulkCrypto, name: string, pc: RTCPeerConnection, aad: Uint8Array<ArrayBuffer>, nonce: Uint8Array<ArrayBuffer>, plaintext: Uint8Array<ArrayBuffer>): void {
  const peer = peerOf(name);
  const params = { name: 'AES-GCM', iv: nonce, additionalData: aad };
  const key = bulk.keys.get(name) ?? Promise.reject(new Error('no key'));
  const sealed = key.then((k) => bulk.subtle.encrypt(params, k, plaintext));
  const next = (bulk.sent.get(peer) ?? Promise.resolve()).then(() => sealed).then((ct) => {
    const frame = new Uint8Array(aad.length + ct.byteLength);
    frame.set(aad);
    frame.set(new Uint8Array(ct), aad.length);
    sendDirect(pc, frame);
  }, () => {});
  bulk.sent.set(peer, next);
}

/** Decrypts a frame from the direct path under key `name`; resolves, after the frames before
 *  it, to its body, or to `undefined` when its tag does not verify (or there is no such key). */
export function openDirect(bulk: BulkCrypto, name: string, nonce: Uint8Array<ArrayBuffer>, frame: Uint8Array<ArrayBuffer>): Promise<Uint8Array | undefined> {
  const peer = peerOf(name);
  const params = { name: 'AES-GCM', iv: nonce, additionalData: frame.subarray(0, 50) };
  const key = bulk.keys.get(name) ?? Promise.reject(new Error('no key'));
  const opened = key.then((k) => bulk.subtle.decrypt(params, k, frame.subarray(50))).then((b) => new Uint8Array(b), () => undefined);
  const next = (bulk.opened.get(peer) ?? Promise.resolve(undefined)).then(() => opened);
  bulk.opened.set(peer, next);
  return next;
}

/** Forgets `peer`'s keys and queues (it left; a later session of it has other keys). */
export function forgetBulkPeer(bulk: BulkCrypto, peer: string): void {
  for (const name of bulk.keys.keys()) if (peerOf(name) === peer) bulk.keys.delete(name);
  bulk.sent.delete(peer);
  bulk.opened.delete(peer);
}

/**
 * Receives audio and video whatever is sent: each kind without a transceiver yet (nothing
 * sent at all, or a denied camera) gets a receive-only one, so the first offer always
 * carries both media sections. `addTrack` later reuses these transceivers.
 */
export function receiveAudioAndVideo(pc: RTCPeerConnection): void {
  const present = pc.getTransceivers().map((t) => t.receiver.track.kind);
  for (const kind of ['audio', 'video']) {
    if (!present.includes(kind)) pc.addTransceiver(kind, { direction: 'recvonly' });
  }
}

/** Adds every track of `stream` not sent yet, and receives both kinds whatever it holds. */
export function addStream(pc: RTCPeerConnection, stream: MediaStream): void {
  const sent = pc.getSenders().map((s) => s.track);
  for (const track of stream.getTracks()) {
    if (!sent.includes(track)) pc.addTrack(track, stream);
  }
  receiveAudioAndVideo(pc);
}

/** Stops sending the tracks that are in neither `stream` nor `screen`. */
export function removeTracksNotIn(pc: RTCPeerConnection, stream: MediaStream | undefined, screen: MediaStream | undefined): void {
  const keep = [...(stream ? stream.getTracks() : []), ...(screen ? screen.getTracks() : [])];
  for (const sender of pc.getSenders()) {
    if (sender.track && !keep.includes(sender.track)) pc.removeTrack(sender);
  }
}

/** A local description an offer or answer step produced: `[type, sdp]`. */
export type Described = [type: 'offer' | 'answer', sdp: string];

/**
 * One negotiation step: `op` 0 offer (`a`: restart ICE first), 1 answer, 2 apply the remote
 * description (`a` its type, `b` its SDP), 3 add a remote candidate (`a` line, `b` mid,
 * `c` m-line index), 4 roll back. Resolves to the local description an offer or answer
 * produced (read back: the browser picks the type from its state), else null.
 */
export async function negotiate(pc: RTCPeerConnection, op: number, a?: unknown, b?: unknown, c?: unknown): Promise<Described | null> {
  switch (op) {
    case 0:
    case 1: {
      if (op === 0 && a) pc.restartIce();
      await pc.setLocalDescription();
      const d = pc.localDescription;
      return d && (d.type === 'offer' || d.type === 'answer') ? [d.type, d.sdp] : null;
    }
    case 2:
      await pc.setRemoteDescription({ type: a as RTCSdpType, sdp: b as string });
      return null;
    case 3:
      await pc.addIceCandidate({ candidate: a as string, sdpMid: b as string | null, sdpMLineIndex: c as number | null });
      return null;
    default:
      await pc.setLocalDescription({ type: 'rollback' });
      return null;
  }
}

/** What an offer from `pc` would negotiate: each transceiver's kind, direction and sent track. */
export function offerShape(pc: RTCPeerConnection): string {
  return pc
    .getTransceivers()
    .map((t) => `${t.receiver.track.kind}/${t.direction}/${t.sender.track ? t.sender.track.id : ''}`)
    .join(',');
}

/**
 * The counters the quality monitor (src/quality.rs) reads, from one `getStats` of `pc`:
 * `[round trip ms, packets received, packets lost, packets sent, of those lost (the peer's
 * report), available outgoing kbit/s, video frames decoded]`, NaN where the browser reports
 * none (Firefox has no bandwidth estimate).
 */
export async function qualityCounters(pc: RTCPeerConnection): Promise<Float64Array> {
  const report = await pc.getStats();
  let rtt = NaN, received = 0, lost = 0, sent = 0, sentLost = 0, kbps = NaN, frames = NaN;
  report.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated === true) {
      if (typeof s.currentRoundTripTime === 'number') rtt = s.currentRoundTripTime * 1000;
      if (typeof s.availableOutgoingBitrate === 'number') kbps = s.availableOutgoingBitrate / 1000;
    } else if (s.type === 'inbound-rtp') {
      received += s.packetsReceived || 0;
      lost += Math.max(0, s.packetsLost || 0);
      if (typeof s.framesDecoded === 'number') frames = (frames || 0) + s.framesDecoded;
    } else if (s.type === 'outbound-rtp') {
      sent += s.packetsSent || 0;
    } else if (s.type === 'remote-inbound-rtp') {
      sentLost += Math.max(0, s.packetsLost || 0);
    }
  });
  return new Float64Array([rtt, received, lost, sent, sentLost, kbps, frames]);
}

/** Whether `iceServers` (the app's option, possibly undefined) lists a `turn:`/`turns:` URL. */
export function hasTurnServer(iceServers: unknown): boolean {
  if (!Array.isArray(iceServers)) return false;
  return iceServers.some((s) => [s?.urls].flat().some((u) => typeof u === 'string' && /^turns?:/i.test(u)));
}

/**
 * Sends video on `pc` again, or stops sending it while audio goes on (the audio-only
 * fallback): the encodings' `active` flag, so nothing is renegotiated.
 */
export async function setVideoSending(pc: RTCPeerConnection, on: boolean): Promise<void> {
  for (const sender of pc.getSenders()) {
    if (sender.track?.kind !== 'video') continue;
    const params = sender.getParameters();
    if (!params.encodings?.length) continue;
    for (const e of params.encodings) e.active = on;
    await sender.setParameters(params).catch(() => {});
  }
}

/** Stops every track of `stream` (the camera light goes off). */
export function stopTracks(stream: MediaStream): void {
  for (const t of stream.getTracks()) t.stop();
}

/** Stops the tracks of `kind` and removes them from `stream`; returns how many. */
export function dropTracks(stream: MediaStream, kind: string): number {
  const tracks = stream.getTracks().filter((t) => t.kind === kind);
  for (const t of tracks) {
    t.stop();
    stream.removeTrack(t);
  }
  return tracks.length;
}

/**
 * Puts each track of `fresh` in place of the sent track of its kind on every connection in
 * `pcs` (`replaceTrack`: no renegotiation; never a track of the shared `screen`) and in
 * `stream` (the old track of that kind is stopped). Resolves to the number of tracks put in
 * place; 0, changing nothing, when `fresh` has none.
 */
export async function replaceTracks(stream: MediaStream, fresh: MediaStream, pcs: RTCPeerConnection[], screen: MediaStream | undefined): Promise<number> {
  const tracks = fresh.getTracks();
  const shared = screen ? screen.getTracks() : [];
  for (const track of tracks) {
    for (const pc of pcs) {
      for (const sender of pc.getSenders()) {
        if (sender.track && sender.track.kind === track.kind && !shared.includes(sender.track)) {
          await sender.replaceTrack(track).catch(() => {});
        }
      }
    }
    dropTracks(stream, track.kind);
    stream.addTrack(track);
  }
  return tracks.length;
}

/**
 * The `getUserMedia` constraints that open again each kind of `stream` whose track ended
 * (the constraints it was opened with, or `true`), as `{ audio?, video? }`; undefined when
 * no track ended.
 */
export function endedConstraints(stream: MediaStream): Partial<Record<'audio' | 'video', MediaTrackConstraints | true>> | undefined {
  let out: Partial<Record<'audio' | 'video', MediaTrackConstraints | true>> | undefined;
  for (const t of stream.getTracks()) {
    if (t.readyState !== 'ended') continue;
    let c: MediaTrackConstraints = {};
    try { c = t.getConstraints() ?? {}; } catch { /* a track without constraints */ }
    (out ??= {})[t.kind as 'audio' | 'video'] = Object.keys(c).length ? c : true;
  }
  return out;
}
