// The media helpers the Rust side of the browser layer calls: the session certificate, the
// page's WebRTC warm-up, the participants' streams and local tracks. The peer connections
// themselves are the TypeScript driver's (pkg/src/peer.ts, pkg/src/call-driver.ts).

/** A certificate made ahead of need (by `warmUp`, or after a join), for the next join. */
let spareCertificate = null;

/**
 * The session's DTLS certificate, made before the handshake so that the SAS exchange can
 * commit to its fingerprint (docs/PROTOCOL.md §13); every connection of the session uses it.
 * Resolves to `[certificate, hash name, colon-hex digest]`. The first join of a page takes
 * the one `warmUp` made in idle time, so that key generation is off the call set-up path.
 */
export function createCertificate() {
  const made = spareCertificate ?? makeCertificate();
  spareCertificate = null;
  // The next join of this page (a rejoin, another visit) takes one made a second from now,
  // after this call's set-up has used the WebRTC thread.
  setTimeout(makeSpareCertificate, 1000);
  return made;
}

function makeSpareCertificate() {
  spareCertificate ??= makeCertificate();
  // Consumed (and its failure reported) by the join that takes it.
  spareCertificate.catch(() => {});
}

/** Where `getFingerprints` is missing, the fingerprint is read from a throwaway offer. */
async function makeCertificate() {
  const cert = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
  const listed = typeof cert.getFingerprints === 'function' ? cert.getFingerprints() : [];
  let fp = listed.find((f) => f.algorithm === 'sha-256') ?? listed[0];
  if (!fp) {
    const pc = new RTCPeerConnection({ certificates: [cert] });
    try {
      pc.createDataChannel('certificate');
      const { sdp } = await pc.createOffer();
      const m = /^a=fingerprint:(\S+) (\S+)/m.exec(sdp);
      if (m) fp = { algorithm: m[1], value: m[2] };
    } finally {
      pc.close();
    }
  }
  if (!fp) throw new Error('the certificate has no fingerprint');
  return [cert, fp.algorithm.toLowerCase(), fp.value];
}

/**
 * Constructs and closes a bare connection: the first one of a page starts WebRTC itself up
 * (see `rehearse_when_idle` in src/web/mod.rs). Where there is no WebRTC, nothing happens.
 */
export function warmUp() {
  try {
    new RTCPeerConnection().close();
    makeSpareCertificate();
  } catch {
    // No WebRTC here (Node.js, a restricted webview).
  }
}

/**
 * Adds a received `track` to `stream`, the participant's stream so far, else to the sender's
 * own (`senderStream`: no new object on the path to the first frame), else to a new one.
 * Returns that stream (null if none could be made).
 */
export function addRemoteTrack(stream, senderStream, track) {
  try {
    stream ??= senderStream ?? new MediaStream();
    stream.addTrack(track);
  } catch {
    // No MediaStream constructor here: the track event still carries the track.
  }
  return stream ?? null;
}

/** Stops every track of `stream` (the camera light goes off). */
export function stopTracks(stream) {
  for (const t of stream.getTracks()) t.stop();
}

/** Stops the tracks of `kind` ('audio' or 'video') and removes them from `stream`; returns how many. */
export function dropTracks(stream, kind) {
  const tracks = stream.getTracks().filter((t) => t.kind === kind);
  for (const t of tracks) {
    t.stop();
    stream.removeTrack(t);
  }
  return tracks.length;
}

/** Enables or disables (sends silence or black frames) the tracks of `kind`. */
export function setEnabled(stream, kind, enabled) {
  for (const t of stream.getTracks()) if (t.kind === kind) t.enabled = enabled;
}

