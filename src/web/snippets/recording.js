// The browser IO of `Consultation.startRecording()`: choosing tracks, mixing the audio with
// WebAudio, the MediaRecorder, its chunks (and their `dataavailable` events) and the final
// Blob. The Rust side (src/web/recording.rs) keeps every decision: consent, option checks,
// stop reasons, the signals to the other participants and the `stop` event. It is JavaScript
// because each DOM call and callback compiled from Rust costs a web-sys binding and closure
// glue in the wasm, far more than these lines.

/**
 * How long after the recorder's `stop` event to wait for a late chunk. Firefox may deliver
 * the chunk of a timeslice that was being gathered at `stop()` after its `stop` event
 * (docs/BROWSERS.md); each late chunk waits this long again.
 */
const LATE_CHUNK_MS = 100;

/** Resolves in the next task. A message, not a timer: Firefox runs a background tab's
 *  timers at most once a second, and the clinician's tab is often in the background. */
const nextTask = () => new Promise((resolve) => {
  const c = new MessageChannel();
  c.port1.onmessage = () => {
    c.port1.close();
    resolve();
  };
  c.port2.postMessage(0);
});

/** The live tracks of `kind` in `streams`, in the order given. */
const live = (streams, kind) =>
  streams.flatMap((s) => s.getTracks().filter((t) => t.kind === kind && t.readyState === 'live'));

/** Closes the mixer and stops the tracks made here (the mixed audio). */
function release(h) {
  for (const t of h.own.splice(0)) t.stop();
  h.ctx?.close().catch(() => {});
  h.ctx = undefined;
}

/** Mixes audio `tracks` into one track with WebAudio; undefined where WebAudio is missing or fails. */
function mix(tracks) {
  let ctx;
  try {
    ctx = new AudioContext();
    const dest = ctx.createMediaStreamDestination();
    for (const t of tracks) ctx.createMediaStreamSource(new MediaStream([t])).connect(dest);
    const track = dest.stream.getAudioTracks()[0];
    if (!track) throw 0;
    // A context created without a user gesture may start suspended: ask it to run.
    ctx.resume().catch(() => {});
    return { ctx, track };
  } catch {
    ctx?.close().catch(() => {});
  }
}

/**
 * Records one video track (the first live one in `streams`, which come in the order the Rust
 * side chose) and the audio of every stream (mixed into one track when there are several).
 * `mimeType` empty picks WebM, else MP4, where supported. Chunks are kept here and announced
 * with a `dataavailable` event on `events`; `onEnd(false)` runs once the last chunk is in
 * (`LATE_CHUNK_MS` after the recorder's `stop` and after any chunk following it), `onEnd(true)`
 * on its `error`. Returns the recording's handle, or a code when it cannot
 * start: 'mime' (unsupported type), 'nothing' (no live track), 'refused' (the constructor
 * threw), 'start' (`start` threw).
 */
export function startRecorder(streams, mimeType, timeslice, videoBitsPerSecond, audioBitsPerSecond, events, onEnd) {
  const supported = (m) => MediaRecorder.isTypeSupported(m) === true;
  if (mimeType && !supported(mimeType)) return 'mime';
  const mime = mimeType || ['video/webm;codecs=vp8,opus', 'video/webm', 'video/mp4'].find(supported) || '';
  const video = live(streams, 'video')[0];
  const audio = live(streams, 'audio');
  const h = { chunks: [], bytes: 0, mime, own: [] };
  const stream = new MediaStream(video ? [video] : []);
  const mixed = audio.length > 1 && mix(audio);
  if (mixed) {
    h.ctx = mixed.ctx;
    h.own.push(mixed.track);
  }
  const sound = mixed ? mixed.track : audio[0];
  if (sound) stream.addTrack(sound);
  if (!stream.getTracks().length) return 'nothing';
  let recorder;
  try {
    recorder = new MediaRecorder(stream, { mimeType: mime || undefined, videoBitsPerSecond, audioBitsPerSecond });
  } catch {
    release(h);
    return 'refused';
  }
  h.recorder = recorder;
  recorder.ondataavailable = ({ data }) => {
    if (!(data?.size > 0)) return;
    h.chunks.push(data);
    h.bytes += data.size;
    events.dispatchEvent(new CustomEvent('dataavailable', { detail: { data, size: data.size } }));
    h.last = performance.now();
  };
  recorder.onstop = async () => {
    h.last = performance.now();
    while (performance.now() - h.last < LATE_CHUNK_MS) await nextTask();
    if (!h.done) onEnd(false);
  };
  recorder.onerror = () => onEnd(true);
  try {
    recorder.start(timeslice);
  } catch {
    recorder.onstop = recorder.onerror = null;
    release(h);
    return 'start';
  }
  h.mime ||= recorder.mimeType ?? '';
  return h;
}

/** Asks the recorder to stop; false when it already is inactive (no `stop` event will come). */
export function stopRecorder(h) {
  try {
    if (h.recorder.state === 'inactive') return false;
    h.recorder.stop();
    return true;
  } catch {
    return false;
  }
}

/**
 * After the last chunk: detaches the callbacks into the wasm (which may be freed next) and
 * the chunk counter (the size is final: that of the Blob), releases the mixer and returns the
 * whole recording as one Blob (null if that fails). Never throws: the wasm calls it while it
 * holds the recording's state.
 */
export function finishRecorder(h) {
  try {
    h.done = true;
    h.recorder.ondataavailable = h.recorder.onstop = h.recorder.onerror = null;
    release(h);
    return new Blob(h.chunks, { type: h.mime });
  } catch {
    return null;
  }
}
