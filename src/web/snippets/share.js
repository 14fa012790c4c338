// Event plumbing and JSON codec of `ReadingShare` and `ReadingReceiver`
// (src/web/devices/share.rs).
//
// Why JavaScript: the `addEventListener` calls and the
// UTF-8 JSON round trips compiled from Rust weighed more in the wasm than these lines do in
// the package. The protocol — consent, queueing, acknowledgements, de-duplication, rebuilding
// and checking each reading — stays in Rust, which treats whatever comes back from here as
// untrusted. Comment lines are stripped from the package by `cargo xtask build`.

/**
 * Adds a listener for `kind` events to `target`, calling `onDetail(detail)`; returns the
 * function that removes it. Throws when `target` cannot take listeners.
 */
export function shListen(target, kind, onDetail) {
  const listener = (e) => onDetail(e.detail);
  target.addEventListener(kind, listener);
  return () => target.removeEventListener(kind, listener);
}

/**
 * `consultation.sendData(participantId, bytes)` with the UTF-8 JSON of `message` (a plain
 * object). Throws what `sendData` throws.
 */
export function shSend(consultation, participantId, message) {
  consultation.sendData(participantId, new TextEncoder().encode(JSON.stringify(message)));
}

/**
 * The message in app data `data` when it is a Uint8Array of at most 8 KiB holding UTF-8
 * JSON (no byte order mark) of an object whose `type` is `type`; else undefined.
 */
export function shDecode(data, type) {
  if (!(data instanceof Uint8Array) || data.length > 8192) return undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && value.type === type ? value : undefined;
  } catch {
    return undefined;
  }
}
