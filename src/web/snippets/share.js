// Event plumbing of `ReadingShare` and `ReadingReceiver` (src/web/devices/share.rs).
//
// Why JavaScript: the `addEventListener` calls compiled from Rust weighed more in the wasm
// than these lines do in the package. The protocol — consent, queueing, acknowledgements,
// de-duplication, the wire format, rebuilding and checking each reading — is the Rust core's
// (src/devices/delivery.rs). Comment lines are stripped from the package by `cargo xtask build`.

/**
 * Adds a listener for `kind` events to `source` (one of the SDK's objects, whose events go
 * to its `eventTarget`, or any object with `addEventListener`), calling `onDetail(detail)`;
 * returns the function that removes it. Throws when it cannot take listeners.
 */
export function shListen(source, kind, onDetail) {
  const target = source.eventTarget ?? source;
  const listener = (e) => onDetail(e.detail);
  target.addEventListener(kind, listener);
  return () => target.removeEventListener(kind, listener);
}

/**
 * `consultation.sendData(participantId, bytes)` (a wire message the core encoded). Throws
 * what `sendData` throws.
 */
export function shSend(consultation, participantId, bytes) {
  consultation.sendData(participantId, bytes);
}

/**
 * `consultation.consentRefusal(category)`: the consent ledgers attached to a consultation
 * are in the call module's wasm, this module's is the devices one; a `Consultation` answers
 * with a `ConsentReason` name when its consent managers refuse the category (its encoding
 * byte), else `undefined`. An
 * app's own consultation-like object has no consent managers: `undefined`. Throws what the
 * consultation throws (the caller then refuses).
 */
export function shConsentRefusal(consultation, category) {
  return typeof consultation.consentRefusal === 'function' ? consultation.consentRefusal(category) : undefined;
}
