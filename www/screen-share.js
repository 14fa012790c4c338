// Screen sharing on both demo pages: the console's "Share screen" button (the clinician shows
// a lab result or an X-ray) and, on every page in the visit, a notice "… is sharing their
// screen" with the shared screen below the call. The SDK announces the share over the sealed
// session; only a clinician can start one.
import { $, h, announce } from '/common.js';

/** Shows the shared screen of `who` (or hides it) under the stage of this page. */
function screenView(stage) {
  let box = $('screen-share');
  if (!box) {
    box = h('figure', { id: 'screen-share', class: 'screen-share', hidden: '' },
      h('figcaption', { id: 'screen-share-note', role: 'status' }),
      h('video', { id: 'screen-video', autoplay: '', playsinline: '', muted: '', 'aria-label': 'Shared screen' }));
    stage.after(box);
  }
  return box;
}

/**
 * Wires consultation `c` on this page: the indicator everywhere, and for a clinician the
 * button in `#controls` (none where the browser cannot share: phones, tablets).
 * `nameOf(participantId)` gives the name to show.
 */
export function attachScreenShare(c, { nameOf = () => 'Your clinician', sdk } = {}) {
  const stage = document.querySelector('[data-step="call"] .stage') ?? document.querySelector('.stage');
  if (!stage) return;
  const box = screenView(stage);
  const note = $('screen-share-note');
  const video = $('screen-video');
  const show = (text, stream) => {
    note.textContent = text;
    video.srcObject = stream ?? null;
    video.hidden = !stream;
    box.hidden = false;
    announce(text);
  };
  const hide = (text) => {
    box.hidden = true;
    video.srcObject = null;
    if (text) announce(text);
  };
  c.addEventListener('screensharestarted', (e) => {
    const { participantId, local } = e.detail;
    if (local) show('You are sharing your screen. Everyone in the visit sees it.', c.screenStream(participantId));
    else show(`${nameOf(participantId)} is sharing their screen.`, c.screenStream(participantId));
    const button = $('share-screen');
    if (local && button) { button.textContent = 'Stop sharing'; button.setAttribute('aria-pressed', 'true'); }
  });
  c.addEventListener('track', (e) => {
    if (e.detail.screen && !box.hidden) { video.srcObject = e.detail.stream; video.hidden = false; }
  });
  c.addEventListener('screensharestopped', (e) => {
    const { local } = e.detail;
    hide(local ? 'You stopped sharing your screen.' : 'The screen is no longer shared.');
    const button = $('share-screen');
    if (local && button) { button.textContent = 'Share screen'; button.setAttribute('aria-pressed', 'false'); }
  });

  const controls = $('controls');
  const supported = sdk?.capabilities?.().screenShare?.available;
  if (c.role !== 'clinician' || !controls || !supported || $('share-screen')) return;
  const button = h('button', { type: 'button', id: 'share-screen', 'aria-pressed': 'false' }, 'Share screen');
  controls.insertBefore(button, controls.querySelector('.danger'));
  button.addEventListener('click', async () => {
    if (c.screenStream(c.participantId)) { c.stopScreenShare(); return; }
    try {
      await c.startScreenShare();
    } catch (err) {
      announce(err.code === 'PermissionDenied' ? 'Screen sharing was cancelled.' : `Screen sharing did not start: ${err.message}`);
    }
  });
}
