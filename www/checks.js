// The pre-call check, shared by the landing page and the patient page: what this browser
// offers the visit, whether the camera, microphone and visit service work, in words a patient
// understands. Nothing leaves this computer except a request to the visit service's /healthz.
import { capabilities } from '/pkg/index.js';
import { h } from '/common.js';

// What each capability means to a patient, and whether a video visit needs it.
export const CAPABILITY_LABELS = {
  secureContext: { label: 'Secure connection', needed: true },
  rtcPeerConnection: { label: 'Video calling', needed: true },
  getUserMedia: { label: 'Camera and microphone', needed: true },
  webSocket: { label: 'Connection to the visit service', needed: true },
  webCrypto: { label: 'Encryption', needed: true },
  webBluetooth: { label: 'Bluetooth health devices (optional)', needed: false },
  indexedDb: { label: 'Saving your consent choices on this device', needed: false },
};

/** One check per capability the SDK reports. */
export function capabilityChecks(caps = capabilities()) {
  return Object.entries(CAPABILITY_LABELS).map(([id, { label, needed }]) => ({
    id, label, needed, available: Boolean(caps[id]?.available), reason: caps[id]?.reason,
  }));
}

/** Whether the visit service (the relay that served this page) answers. */
export async function relayCheck() {
  const check = { id: 'relay', label: 'Visit service reachable', needed: true, available: false };
  try {
    const res = await fetch('/healthz', { cache: 'no-store' });
    check.available = res.ok;
    if (!res.ok) check.reason = `The visit service answered with an error (HTTP ${res.status}).`;
  } catch {
    check.reason = 'The visit service could not be reached. Check your internet connection.';
  }
  return check;
}

/**
 * Opens the camera and microphone once and reports each; resolves to `{ checks, stream }`
 * (stream is null when neither works). The stream becomes the call's `localStream`.
 */
export async function mediaChecks() {
  const camera = { id: 'camera', label: 'Camera', needed: true, available: false };
  const microphone = { id: 'microphone', label: 'Microphone', needed: true, available: false };
  let stream = null;
  if (!navigator.mediaDevices?.getUserMedia) {
    camera.reason = microphone.reason = 'This browser cannot use a camera or microphone.';
    return { checks: [camera, microphone], stream };
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  } catch (err) {
    // Try each alone: a visit can go on with one of them.
    const reason = err?.name === 'NotAllowedError'
      ? 'Blocked. Allow it in the browser\'s address bar, then choose "Check again".'
      : 'Not found or already in use by another app.';
    for (const [check, constraints] of [[camera, { video: true }], [microphone, { audio: true }]]) {
      try {
        const s = await navigator.mediaDevices.getUserMedia(constraints);
        stream = stream ?? new MediaStream();
        for (const t of s.getTracks()) stream.addTrack(t);
      } catch {
        check.reason = reason;
      }
    }
  }
  for (const [check, kind] of [[camera, 'video'], [microphone, 'audio']]) {
    const track = stream?.getTracks().find((t) => t.kind === kind);
    if (track) {
      check.available = true;
      check.detail = track.label || undefined;
    }
  }
  return { checks: [camera, microphone], stream };
}

/** Renders checks into a list and a summary line; returns how many needed ones failed. */
export function renderChecks(list, summary, checks) {
  list.replaceChildren();
  let blocking = 0;
  for (const check of checks) {
    const { id, label, needed, available, reason, detail } = check;
    if (!available && needed) blocking += 1;
    list.append(h('li', { dataset: { capability: id, available: String(available), needed: String(needed) } },
      h('span', { class: 'mark', 'aria-hidden': 'true' }, available ? '✓' : needed ? '✕' : '–'),
      h('div', {},
        h('strong', {}, label), ' ',
        h('span', { class: 'status' }, available ? 'Ready' : needed ? 'Not available' : 'Not available here'),
        detail ? h('p', { class: 'reason' }, detail) : null,
        !available && reason ? h('p', { class: 'reason' }, reason) : null)));
  }
  summary.dataset.state = blocking === 0 ? 'ready' : 'blocked';
  summary.textContent = blocking === 0
    ? 'Your browser is ready for the video visit.'
    : `Your browser cannot run the video visit yet: ${blocking} required ${blocking === 1 ? 'item is' : 'items are'} missing. See below.`;
  return blocking;
}
