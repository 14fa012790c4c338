// The IO of consent sync over a Consultation (src/web/consent.rs): listening to the
// consultation's events and sending on its app-data channel. Rust decides what each event
// means and validates what arrives; this only moves values. It is JavaScript because six
// event listeners and their removal compiled from Rust cost far more wasm than these lines.

/** The events a consent link listens to; `onEvent` gets the index into this list. */
const LINK_EVENTS = ['data', 'participantleft', 'participantadmitted', 'participantconnected', 'sas', 'statechange'];

/**
 * Listens to `consultation` (a `Consultation`, or anything with `addEventListener`) for the
 * events of a consent link with participant `peer`: each reaches `onEvent(kind, ours, data)`
 * with `kind` the index in `LINK_EVENTS`, `ours` whether `detail.participantId` is `peer`,
 * and `data` the `detail.data` of a `data` event from `peer` (unchecked). A detail that cannot be read
 * counts as from nobody. Returns the function that removes every listener (it never throws).
 * Throws when `consultation` cannot take listeners, with those already added removed.
 */
export function linkListen(consultation, peer, onEvent) {
  const listeners = LINK_EVENTS.map((type, kind) => [type, (event) => {
    let ours = false, data;
    try {
      const detail = event.detail;
      ours = detail.participantId === peer;
      if (kind === 0 && ours) data = detail.data;
    } catch {}
    onEvent(kind, ours, data);
  }]);
  let added = 0;
  const detach = () => listeners.slice(0, added).forEach(([type, fn]) => {
    try { consultation.removeEventListener(type, fn); } catch {}
  });
  try {
    for (const [type, fn] of listeners) consultation.addEventListener(type, fn), added++;
  } catch (e) {
    detach();
    throw e;
  }
  return detach;
}

/** `consultation.sendData(peer, bytes)`, ignoring failure (the link resyncs on its own). */
export function linkSend(consultation, peer, bytes) {
  try { consultation.sendData(peer, bytes); } catch {}
}
