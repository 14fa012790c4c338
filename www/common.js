// Helpers shared by the demo's pages: DOM building, the live region, steps, tokens, the SAS.

/** `document.getElementById`. */
export const $ = (id) => document.getElementById(id);

/**
 * Builds an element: `h('button', { type: 'button', class: 'primary', onclick }, 'Admit')`.
 * Attributes starting with `on` become listeners; `dataset` takes an object; false/null skip.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/**
 * Tells screen-reader users what changed (the page has one polite live region, #announcer),
 * and shows it in the status line when there is one.
 */
export function announce(text) {
  const region = $('announcer');
  if (!region) return;
  // Clearing first makes a repeated message be read again.
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 30);
}

/**
 * Shows one `<section data-step>` of the page and hides the others; focus moves to the new
 * step's heading so keyboard and screen-reader users start reading at the right place.
 */
export function showStep(name, { focus = true } = {}) {
  for (const section of document.querySelectorAll('section[data-step]')) {
    section.hidden = section.dataset.step !== name;
  }
  document.body.dataset.screen = name;
  const heading = document.querySelector(`[data-step="${name}"] h1, [data-step="${name}"] h2`);
  if (heading && focus) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

/** The relay's WebSocket URL, on the origin that served this page. */
export function relayUrl() {
  return `${location.origin.replace(/^http/, 'ws')}/ws`;
}

/**
 * DEMO ONLY: asks the relay's development endpoint for a join token. In production the
 * integrator's backend mints tokens after signing the user in (docs/RELAY.md); the relay
 * only offers /dev/token with --dev and only to callers on this machine.
 */
export async function mintDevToken(room, role) {
  let res;
  try {
    res = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room, role, ttl: '15m' }),
    });
  } catch {
    throw Object.assign(new Error('The visit service could not be reached.'), { code: 'NetworkError' });
  }
  if (!res.ok) {
    throw Object.assign(new Error(`The visit service did not issue a pass (HTTP ${res.status}). Is the relay running with --dev?`), { code: 'TokenRefused' });
  }
  return (await res.json()).token;
}

/** The room id carried in an invite link's fragment (`#r=…&k=…`), or null. */
export function roomFromFragment(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const room = params.get('r');
  return room && params.get('k') ? room : null;
}

/** 16 random hex digits: a participant id kept across join attempts and reloads. */
export function newParticipantId() {
  const b = crypto.getRandomValues(new Uint8Array(8));
  b[0] |= 1;
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Fills `container` with the SAS: six digits in two groups, then the emoji with their names. */
export function renderSas(container, sas) {
  const digits = `${sas.digits.slice(0, 3)} ${sas.digits.slice(3)}`;
  container.replaceChildren(
    h('p', { class: 'sas-digits', dataset: { digits: sas.digits }, 'aria-label': `Code ${sas.digits.split('').join(' ')}` }, digits),
    h('ul', { class: 'sas-emoji', 'aria-label': 'The same code as pictures' },
      sas.emoji.map((e) => h('li', {}, h('span', { class: 'emoji', 'aria-hidden': 'true' }, e.emoji), h('span', { class: 'emoji-name' }, e.name)))),
  );
}

/** Words for the consultation states, as a person would say them. */
export const STATE_WORDS = {
  connecting: 'Connecting…',
  waiting: 'In the waiting room',
  admitted: 'In the visit',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  ended: 'Visit ended',
  'not-open': 'Visit not open',
};

/** Why a visit ended, in plain words. */
export const END_WORDS = {
  'hung-up': 'You left the visit.',
  'ended-by-clinician': 'The clinician ended the visit. If you need to talk again, ask the clinic for a new link.',
  'wrong-link': 'The link you opened is incomplete or belongs to another visit, so your clinician cannot see you. Open the whole link your clinic sent again, or ask them for a new one.',
  'not-open': 'This visit is not open. It may not have started yet, it may have ended, or the link may not be right. Check the link your clinic sent, try again later, or contact the clinic.',
  denied: 'The clinician could not admit you to this visit. If you think this is a mistake, contact the clinic.',
  'waiting-room-timeout': 'Nobody admitted you in time. Please open the link again or contact the clinic.',
  'relay-refused': 'The visit service refused the connection. The link may have expired.',
};

/** A plain-language sentence for an error thrown by the SDK or these pages. */
export function errorWords(err) {
  switch (err?.code) {
    case 'PermissionDenied': return 'The camera or microphone is blocked. Allow them in the browser\'s address bar, then try again.';
    case 'MediaFailed': return 'No working camera or microphone was found.';
    case 'NetworkError': return 'The visit service could not be reached. Check your internet connection.';
    case 'RelayRefused':
      if (err.relayCode === 4007) return 'Your clinician has not opened the visit yet.';
      if (err.relayCode === 4006) return 'Another patient is already in this visit.';
      if (err.relayCode === 4002) return 'This pass has expired.';
      return `The visit service refused the connection (code ${err.relayCode ?? 'unknown'}).`;
    case 'InvalidArgument': return 'This link is not complete. Please open the whole link your clinician sent.';
    case 'TokenRefused': return err.message;
    default: return err?.message ? `Something went wrong: ${err.message}` : 'Something went wrong.';
  }
}

/** Points a <video> at a stream (muted for the local preview) and starts it. */
export function attachVideo(video, stream) {
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play?.().catch(() => {});
}

/** `hh:mm:ss` of a time in ms. */
export function clock(ms = Date.now()) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** `hh:mm` of a time in ms, for times a person reads at a glance. */
export function shortTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Adds a line to an activity log list (newest first, at most 50). */
export function logLine(list, text) {
  if (!list) return;
  list.prepend(h('li', {}, h('time', {}, clock()), ' ', text));
  while (list.children.length > 50) list.lastElementChild.remove();
}
