// Browser side of the call set-up benchmark, evaluated into every page (the e2e test page,
// which already records each RTCPeerConnection it creates in `window.__created.pcs`).
//
// Two ways to make the same call through the same relay:
//   sdk — `Consultation.join` (end-to-end encrypted signaling, hello handshake, waiting room)
//   raw — a plain RTCPeerConnection; SDP and candidates as plaintext JSON inside the relay's
//         Send/Deliver frames (src/signaling/relay_wire.rs), no handshake, no admission.
// Both measure the first decoded remote video frame the same way (`watchFirstFrame`).
(() => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  /** getStats polling interval, ms (a cross-check only; see watchFirstFrame). */
  const POLL_MS = 10;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // ----- optional tracing (`run.mjs --trace`): a timeline of socket and WebRTC calls ------
  // Times are epoch ms with sub-ms precision, so the two pages' timelines can be merged.
  const trace = [];
  const stamp = () => performance.timeOrigin + performance.now();
  const note = (label) => { if (window.benchTracing) trace.push([stamp(), label]); };
  window.__tmark = note;
  const RELAY_TYPES = { 1: 'join', 2: 'send', 3: 'ping', 0x81: 'welcome', 0x82: 'deliver', 0x83: 'joined', 0x84: 'left', 0x85: 'pong', 0x86: 'error' };
  const frameLabel = (data) => {
    const b = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    return b ? `${RELAY_TYPES[b[0]] ?? b[0]}(${b.length})` : typeof data;
  };
  const origSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { note(`ws> ${frameLabel(data)}`); return origSend.call(this, data); };
  const PrevWS = window.WebSocket;
  window.WebSocket = class extends PrevWS {
    constructor(...a) {
      note('ws new');
      super(...a);
      this.addEventListener('open', () => note('ws open'));
      this.addEventListener('message', (e) => note(`ws< ${frameLabel(e.data)}`));
      // How long the page's own handlers hold the thread per event (the SDK sets `on…`):
      // with the raw kind's, the time each relay message costs the page's thread.
      for (const prop of ['onopen', 'onmessage']) {
        let proto = PrevWS.prototype;
        while (proto && !Object.getOwnPropertyDescriptor(proto, prop)) proto = Object.getPrototypeOf(proto);
        const desc = Object.getOwnPropertyDescriptor(proto, prop);
        Object.defineProperty(this, prop, {
          get: () => desc.get.call(this),
          set: (f) => desc.set.call(this, f && ((e) => {
            if (!window.benchTracing) return f(e);
            const start = stamp();
            try { return f(e); } finally { note(`  ${prop} handled in ${(stamp() - start).toFixed(1)}`); }
          })),
        });
      }
    }
  };
  const PC = RTCPeerConnection.prototype;
  for (const m of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription', 'addIceCandidate']) {
    const orig = PC[m];
    PC[m] = function (...a) {
      const what = m === 'setRemoteDescription' || m === 'setLocalDescription' ? `${m}(${a[0]?.type ?? 'implicit'})` : m;
      note(`${what} start`);
      const p = orig.apply(this, a);
      p.then(() => note(`${what} done`), () => note(`${what} failed`));
      return p;
    };
  }
  const origAddTrack = PC.addTrack;
  PC.addTrack = function (...a) {
    note(`addTrack ${a[0]?.kind} start`);
    try { return origAddTrack.apply(this, a); } finally { note(`addTrack ${a[0]?.kind} done`); }
  };
  const PrevPC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PrevPC {
    constructor(...a) {
      note('pc new');
      super(...a);
      note('pc made');
      this.addEventListener('icecandidate', (e) => note(`icecandidate ${e.candidate ? 'host' : 'end'}`));
      this.addEventListener('track', (e) => note(`track ${e.track.kind}`));
      this.addEventListener('iceconnectionstatechange', () => note(`ice ${this.iceConnectionState}`));
      this.addEventListener('connectionstatechange', () => note(`pc ${this.connectionState}`));
    }
  };

  // ----- relay framing (docs/PROTOCOL.md §3) ---------------------------------------------
  function joinFrame(id, token) {
    const t = enc.encode(token);
    const b = new Uint8Array(12 + t.length);
    b[0] = 0x01; b[1] = 1; b.set(id, 2);
    b[10] = t.length >> 8; b[11] = t.length & 0xff;
    b.set(t, 12);
    return b;
  }
  function sendFrame(to, obj) {
    const p = enc.encode(JSON.stringify(obj));
    const b = new Uint8Array(9 + p.length);
    b[0] = 0x02; b.set(to, 1); b.set(p, 9);
    return b;
  }
  function parseWelcome(b) {
    const count = (b[2] << 8) | b[3];
    const present = [];
    for (let i = 0; i < count; i++) {
      const off = 4 + i * 9;
      present.push({ id: b.slice(off, off + 8), role: b[off + 8] });
    }
    return { role: b[1], present };
  }

  /**
   * Connects to the relay and joins with `token`; resolves once welcomed. Every later Deliver
   * is handed to `onMessage(from, message)`, and a Joined to `onMessage(id, { type: 'joined',
   * role })`, in arrival order, one at a time.
   */
  function relayConnect(wsUrl, token, onMessage) {
    const id = crypto.getRandomValues(new Uint8Array(8));
    id[0] |= 1; // never the broadcast id
    const ws = new WebSocket(wsUrl);
    ws.binaryType = 'arraybuffer';
    let chain = Promise.resolve();
    const handle = (from, msg) => {
      chain = chain.then(() => onMessage(from, msg)).catch((err) => { window.benchError = String(err); });
    };
    return new Promise((resolve, reject) => {
      ws.onopen = () => ws.send(joinFrame(id, token));
      ws.onerror = () => reject(new Error('relay socket error'));
      ws.onclose = (e) => reject(new Error(`relay closed the connection (${e.code})`));
      ws.onmessage = (e) => {
        const b = new Uint8Array(e.data);
        if (b[0] === 0x81) {
          resolve({ ws, id, welcome: parseWelcome(b), send: (to, obj) => ws.send(sendFrame(to, obj)) });
        } else if (b[0] === 0x82) {
          handle(b.slice(1, 9), JSON.parse(dec.decode(b.subarray(9))));
        } else if (b[0] === 0x83) {
          handle(b.slice(1, 9), { type: 'joined', role: b[9] });
        } else if (b[0] === 0x86) {
          reject(new Error(`relay error ${(b[1] << 8) | b[2]}`));
        }
      };
    });
  }

  /**
   * One side of a plain call: a peer connection with the stream's tracks, trickling
   * candidates to the other side, applying offers, answers and candidates in order
   * (candidates queued until the remote description is set).
   */
  function rawSide(stream, onTrack) {
    let pc = null;
    let conn = null;
    let peerId = null;
    const queued = [];
    const side = {
      get pc() { return pc; },
      attach(c) { conn = c; },
      create(to) {
        peerId = to;
        pc = new RTCPeerConnection({ iceServers: [] });
        for (const track of stream.getTracks()) pc.addTrack(track, stream);
        pc.onicecandidate = (e) => {
          if (e.candidate) conn.send(peerId, { type: 'candidate', candidate: e.candidate.toJSON() });
        };
        if (onTrack) pc.ontrack = (e) => onTrack(e.track, e.streams[0]);
      },
      async offer(to) {
        side.create(to);
        await pc.setLocalDescription(await pc.createOffer());
        conn.send(to, { type: 'offer', sdp: pc.localDescription.sdp });
      },
      /** Handles offer/answer/candidate; returns false for any other message. */
      async signal(from, msg) {
        if (msg.type === 'offer') {
          side.create(from);
          await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
          for (const c of queued.splice(0)) await pc.addIceCandidate(c);
          await pc.setLocalDescription(await pc.createAnswer());
          conn.send(from, { type: 'answer', sdp: pc.localDescription.sdp });
        } else if (msg.type === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
          for (const c of queued.splice(0)) await pc.addIceCandidate(c);
        } else if (msg.type === 'candidate') {
          if (pc?.remoteDescription) await pc.addIceCandidate(msg.candidate); else queued.push(msg.candidate);
        } else {
          return false;
        }
        return true;
      },
    };
    return side;
  }

  /**
   * Raw clinician: joins first. `offerer: 'patient'` (the default): answers whoever offers.
   * `offerer: 'clinician'`: offers to the patient as soon as the relay announces it (or, with
   * a waiting room, as soon as it has admitted it).
   */
  async function rawClinician({ wsUrl, token, offerer = 'patient', waitingRoom = false }) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const side = rawSide(stream, null);
    const conn = await relayConnect(wsUrl, token, async (from, msg) => {
      if (await side.signal(from, msg)) return;
      if (msg.type === 'knock') {
        conn.send(from, { type: 'admit' });
        if (offerer === 'clinician') await side.offer(from);
      } else if (msg.type === 'joined' && msg.role === 2 && offerer === 'clinician' && !waitingRoom) {
        await side.offer(from);
      }
    });
    side.attach(conn);
    window.raw = { conn, stream, get pc() { return side.pc; } };
  }

  /**
   * Raw patient: joins; offers to the clinician the welcome lists (`offerer: 'patient'`) or
   * waits for its offer. With `waitingRoom`, it first knocks and the call proceeds once the
   * clinician answers "admit" (one more relay round trip, as the SDK's waiting room needs;
   * plaintext, no handshake).
   */
  async function rawPatient({ wsUrl, token, waitingRoom = false, offerer = 'patient' }, stream, onTrack) {
    const side = rawSide(stream, onTrack);
    let admitted;
    const admission = new Promise((r) => { admitted = r; });
    const conn = await relayConnect(wsUrl, token, async (from, msg) => {
      if (await side.signal(from, msg)) return;
      if (msg.type === 'admit') admitted();
    });
    side.attach(conn);
    window.raw = { conn, stream, get pc() { return side.pc; } };
    const joinedAt = performance.now();
    const clinician = conn.welcome.present.find((p) => p.role === 1);
    if (!clinician) throw new Error('raw patient: no clinician in the room');
    if (waitingRoom) {
      conn.send(clinician.id, { type: 'knock', name: 'Sam Patient' });
      await admission;
    }
    if (offerer === 'patient') await side.offer(clinician.id);
    return joinedAt;
  }

  function rawHangUp() {
    const r = window.raw;
    if (!r) return;
    r.pc?.close();
    r.conn.ws.onclose = null;
    r.conn.ws.close();
    for (const t of r.stream.getTracks()) t.stop();
    window.raw = null;
  }

  // ----- measurement ----------------------------------------------------------------------

  /**
   * Waits for the first remote video frame, measured two ways, both in ms since `t0`:
   * `firstFrameMs` — the frame's `presentationTime` from requestVideoFrameCallback on the
   * <video> playing the remote stream (when the decoded frame was handed to the compositor;
   * the headline number), and `statsMs` — the first getStats poll (every POLL_MS) of a
   * connected connection created since index `from` that counts `framesDecoded > 0` (a cross-check:
   * Chromium caches stats for up to 50 ms, so it lags by 0–50 ms). Also the first
   * `connectionState === 'connected'` of such a connection.
   */
  async function watchFirstFrame(t0, from, timeoutMs, presented) {
    let connectedMs = null;
    let statsMs = null;
    const seen = new Set();
    while (performance.now() - t0 < timeoutMs) {
      for (const pc of window.__created.pcs.slice(from)) {
        if (!seen.has(pc)) {
          seen.add(pc);
          if (pc.connectionState === 'connected') connectedMs ??= performance.now() - t0;
          pc.addEventListener('connectionstatechange', () => {
            if (pc.connectionState === 'connected') connectedMs ??= performance.now() - t0;
          });
        }
        // getStats only once connected: before that it could only report zero frames, and
        // polling it would take main-thread time from the signaling being measured.
        if (statsMs !== null || pc.connectionState !== 'connected') continue;
        const stats = await pc.getStats();
        let frames = 0;
        stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0; });
        if (frames > 0) {
          statsMs = performance.now() - t0;
          note('frame decoded (getStats poll)');
        }
      }
      if (statsMs !== null && presented.ms !== null) {
        const pc = window.__created.pcs.slice(from).find((p) => p.connectionState === 'connected');
        const local = pc?.localDescription;
        return {
          firstFrameMs: presented.ms, statsMs, connectedMs,
          // Who offered, and the patient's DTLS role (answerers take setup:active by default).
          patientOffered: local?.type === 'offer',
          patientDtls: local?.sdp.match(/a=setup:(\w+)/)?.[1],
        };
      }
      await sleep(POLL_MS);
    }
    const missing = statsMs === null ? 'no remote video frame decoded' : 'the remote video never presented a frame (requestVideoFrameCallback)';
    throw new Error(`${missing} within ${timeoutMs} ms${window.benchError ? `: ${window.benchError}` : ''}`);
  }

  /** Plays a remote video track in a <video>, noting when its first frame is presented. */
  function presentInto(t0, presented) {
    return (track, stream) => {
      if (track.kind !== 'video' || presented.attached) return;
      presented.attached = true;
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true;
      v.srcObject = stream;
      document.body.append(v);
      if (!v.requestVideoFrameCallback) { window.benchError = 'requestVideoFrameCallback is not supported'; return; }
      v.requestVideoFrameCallback((_now, meta) => { presented.ms = meta.presentationTime - t0; note('frame presented'); });
      v.play().catch(() => {});
    };
  }

  window.bench = {
    rawClinician,
    /** Starts recording the timeline; `trace()` returns it. */
    startTrace() { window.benchTracing = true; },
    trace() { return trace; },
    /** Camera and microphone for the patient, opened before the clock starts (both kinds). */
    async prepareMedia() {
      window.benchStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    },
    /**
     * The measured part. t0 is taken immediately before `Consultation.join` (sdk) or before
     * the WebSocket is created (raw); the clinician is already in the room.
     */
    async runPatient(kind, options, timeoutMs) {
      const stream = window.benchStream;
      const from = window.__created.pcs.length;
      const presented = { ms: null, attached: false };
      const t0 = performance.now();
      note('t0');
      const onTrack = presentInto(t0, presented);
      const first = watchFirstFrame(t0, from, timeoutMs, presented);
      let joinedMs;
      if (kind === 'sdk') {
        const c = await window.t.Consultation.join({ ...options, localStream: stream });
        joinedMs = performance.now() - t0;
        note('join resolved');
        window.c = c;
        c.addEventListener('track', (e) => onTrack(e.detail.track, e.detail.stream));
      } else {
        joinedMs = (await rawPatient(options, stream, onTrack)) - t0;
      }
      return { joinedMs, ...(await first), visibility: document.visibilityState };
    },
    hangUp() {
      window.c?.hangUp();
      window.c = null;
      rawHangUp();
    },
  };
})();
