// Pre-call check: what this browser offers the visit, in words a patient understands.
import { version, capabilities } from '/pkg/index.js';

// What each capability means to a patient, and whether a video visit needs it.
const LABELS = {
  secureContext: { label: 'Secure connection', needed: true },
  rtcPeerConnection: { label: 'Video calling', needed: true },
  getUserMedia: { label: 'Camera and microphone', needed: true },
  webSocket: { label: 'Connection to the visit service', needed: true },
  webCrypto: { label: 'Encryption', needed: true },
  webBluetooth: { label: 'Bluetooth health devices (optional)', needed: false },
  indexedDb: { label: 'Saving your consent choices on this device', needed: false },
};

function render(caps) {
  const list = document.getElementById('checks');
  list.replaceChildren();
  let blocking = 0;
  for (const [name, { label, needed }] of Object.entries(LABELS)) {
    const cap = caps[name];
    const item = document.createElement('li');
    item.dataset.capability = name;
    item.dataset.available = String(cap.available);
    item.dataset.needed = String(needed);
    const mark = document.createElement('span');
    mark.className = 'mark';
    mark.setAttribute('aria-hidden', 'true');
    mark.textContent = cap.available ? '✓' : needed ? '✕' : '–';
    const text = document.createElement('div');
    const title = document.createElement('strong');
    title.textContent = label;
    const status = document.createElement('span');
    status.className = 'status';
    status.textContent = cap.available ? 'Ready' : needed ? 'Not available' : 'Not available here';
    text.append(title, ' ', status);
    if (!cap.available) {
      const reason = document.createElement('p');
      reason.className = 'reason';
      reason.textContent = cap.reason;
      text.append(reason);
      if (needed) blocking += 1;
    }
    item.append(mark, text);
    list.append(item);
  }
  const summary = document.getElementById('summary');
  summary.dataset.state = blocking === 0 ? 'ready' : 'blocked';
  summary.textContent = blocking === 0
    ? 'Your browser is ready for the video visit.'
    : `Your browser cannot run the video visit yet: ${blocking} required ${blocking === 1 ? 'item is' : 'items are'} missing. See below.`;
}

document.getElementById('version').textContent = version();
render(capabilities());
