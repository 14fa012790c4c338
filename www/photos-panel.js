// The photos card on both demo pages: `consultation.files`. The patient sends a photo (the
// demo's sample, or a photo or PDF picked on the device) under the `files` consent; both pages
// list what was sent and received. Images are shown by the browser from a Blob URL: neither
// the page nor the SDK decodes them.
import { $, h, announce, shortTime } from '/common.js';

const ROLE = { clinician: 'the clinician', patient: 'the patient', guest: 'a guest' };
const ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf';

const size = (bytes) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

/** Plain words for a refused or failed send. */
function sendError(err) {
  if (err?.code === 'ConsentDenied') return 'Photos are not shared: tick "Photos and documents you send" in your consent first.';
  if (err?.reason === 'typeNotAllowed') return 'Only JPEG, PNG or WebP photos and PDF documents can be sent.';
  if (err?.code === 'LimitExceeded') return 'That file is larger than 10 MB.';
  if (err?.reason === 'cancelled') return 'Sending was cancelled; nothing was kept on the other side.';
  return 'The file could not be sent now. Try again in a moment.';
}

/** The card's body, under its heading (the pages hold the card and heading only). */
function build(card, canSend) {
  if ($('photo-list')) return;
  const sending = canSend ? [
    h('div', { class: 'photo-actions' },
      h('button', { type: 'button', id: 'photo-sample' }, 'Send the sample photo'),
      h('button', { type: 'button', id: 'photo-choose' }, 'Choose a photo or PDF…'),
      h('input', { type: 'file', id: 'photo-file', accept: ACCEPT, hidden: true, 'aria-label': 'Photo or PDF to send' })),
    h('div', { id: 'photo-sending', class: 'photo-actions', hidden: true },
      h('label', { for: 'photo-progress' }, 'Sending'),
      h('progress', { id: 'photo-progress', max: '1', value: '0' }),
      h('button', { type: 'button', id: 'photo-cancel' }, 'Cancel')),
  ] : [];
  card.append(
    ...sending,
    h('p', { id: 'photo-note', class: 'hint', 'aria-live': 'polite' }),
    h('ul', { id: 'photo-list', class: 'photo-list', 'aria-label': 'Photos and documents' }));
}

/** One held file: a thumbnail (or a link for a document) and who sent it when. */
function item(c, file, blob) {
  const url = URL.createObjectURL(blob);
  const who = file.own ? 'You sent' : `From ${ROLE[file.role] ?? 'someone'}`;
  const caption = `${who}, ${shortTime(file.sentAt)} · ${file.name} · ${size(file.size)} · checked on arrival`;
  const shown = file.type === 'application/pdf'
    ? h('a', { href: url, target: '_blank', rel: 'noopener' }, `Open ${file.name}`)
    : h('img', { src: url, alt: file.own ? `Photo you sent: ${file.name}` : `Photo from ${ROLE[file.role] ?? 'someone'}: ${file.name}` });
  return h('li', { dataset: { transferId: file.transferId, author: file.author } }, shown, h('span', { class: 'hint' }, caption));
}

/**
 * Wires the `#photo-card` of this page to consultation `c`. `canSend`: this page offers
 * sending (the patient); every page lists what it holds.
 */
export function attachPhotos(c, { canSend = false } = {}) {
  const card = $('photo-card');
  build(card, canSend);
  const list = $('photo-list');
  const note = $('photo-note');
  list.replaceChildren();
  note.textContent = '';
  card.hidden = false;
  const shown = new Set();
  const show = (file, blob) => {
    const key = `${file.author}-${file.transferId}`;
    if (shown.has(key)) return;
    shown.add(key);
    list.append(item(c, file, blob));
  };

  c.addEventListener('fileoffered', (e) => {
    note.textContent = `Receiving ${e.detail.name} (${size(e.detail.size)})…`;
  });
  c.addEventListener('filereceived', (e) => {
    const { file, data } = e.detail;
    show(file, new Blob([data], { type: file.type }));
    note.textContent = '';
    announce(`New ${file.type === 'application/pdf' ? 'document' : 'photo'} from ${ROLE[file.role] ?? 'someone'}.`);
  });
  c.addEventListener('filecancelled', (e) => {
    if (e.detail.direction === 'incoming') note.textContent = 'A file on its way was not completed; nothing of it was kept.';
  });
  if (!canSend) return;

  const sending = $('photo-sending');
  const progress = $('photo-progress');
  let current = null;
  const send = (blob, name) => {
    if (current) return;
    let transfer;
    try {
      transfer = c.files.send(blob, { name });
    } catch (err) {
      note.textContent = sendError(err);
      return;
    }
    current = transfer;
    progress.value = 0;
    sending.hidden = false;
    note.textContent = `Sending ${name}…`;
    transfer.addEventListener('progress', (e) => { progress.value = e.detail.bytes / e.detail.total; });
    transfer.done.then((file) => {
      show(file, blob);
      note.textContent = `${name} was delivered to your clinician.`;
      announce(`${name} was delivered.`);
    }, (err) => {
      note.textContent = sendError(err);
    }).finally(() => {
      current = null;
      sending.hidden = true;
    });
  };
  $('photo-sample').onclick = async () => {
    const response = await fetch('/sample-photo.png');
    send(await response.blob(), 'sample-photo.png');
  };
  $('photo-choose').onclick = () => $('photo-file').click();
  $('photo-file').onchange = (e) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file) send(file, file.name);
  };
  $('photo-cancel').onclick = () => current?.cancel();
}
