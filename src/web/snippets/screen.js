// Screen capture for src/web/screen.rs: getDisplayMedia and the captured track's end.

/**
 * `getDisplayMedia` for a screen, window or tab, video only. Rejects with the browser's
 * error (its `name` says why: Firefox and Safari say `InvalidStateError` when not called
 * from a click or tap), or with `{ name: 'Unsupported' }` where the platform has no
 * `getDisplayMedia` (every mobile browser).
 */
export async function openDisplay() {
  const media = globalThis.navigator && navigator.mediaDevices;
  if (!media || typeof media.getDisplayMedia !== 'function') throw { name: 'Unsupported' };
  return media.getDisplayMedia({ video: true, audio: false });
}

/**
 * Calls `onEnded` once when the stream's video track ends other than by `stop()`: the
 * browser's own "stop sharing" control, or the shared window or tab closed. Returns a
 * function that detaches it.
 */
export function watchEnded(stream, onEnded) {
  const track = stream.getVideoTracks()[0];
  if (!track) return () => {};
  const handler = () => onEnded();
  track.addEventListener('ended', handler, { once: true });
  return () => track.removeEventListener('ended', handler);
}
