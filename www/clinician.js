// The clinician console: start a visit (invite + token + join), invite the patient (link and
// QR code), admit or deny from the waiting room, verify the SAS, see video and vitals, see
// consent, export the visit record.
import * as sdk from '/pkg/index.js';
// The devices API is a wasm module of its own (`teleconsult/devices`: the GATT parsers and
// the Bluetooth driver). This demo shows device readings in every visit, so it imports it
// with the page (fetched and compiled alongside the call module); an app whose visits have
// no devices never imports it, and never downloads it.
import * as devices from '/pkg/devices.js';
import {
  $, h, announce, showStep, relayUrl, mintDevToken, renderSas, STATE_WORDS, errorWords,
  attachVideo, logLine,
} from '/common.js';
import { qrSvg } from '/qr.js';
import { ClinicianExtras } from '/clinician-extras.js';
import { attachChat } from '/chat-panel.js';
import { attachPhotos } from '/photos-panel.js';
import { attachScreenShare } from '/screen-share.js';

const { Consultation, createInvite, version } = sdk;
$('version').textContent = version();

/** Everything this page knows; `window.demo` for the end-to-end tests and the curious. */
const app = {
  consultation: null,
  invite: null,
  /** id → { id, role, name, status: 'waiting' | 'in-call' | 'connected' | 'left', sas?, confirmed, peerConfirmed } */
  people: new Map(),
  /** The patient shown on the stage and in the SAS card. */
  focus: null,
  /** id → the last code shown for a participant that left or restarted: a different code when
   *  they come back is shown as changed, and is not verified until both confirm it again. */
  lastSas: new Map(),
  extras: null,
};
window.demo = app;

const log = (text) => logLine($('activity'), text);
const nameOf = (id) => app.people.get(id)?.name ?? 'The patient';

// ----- starting a visit -----------------------------------------------------------------------

$('start-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('doctor-name').value.trim();
  $('doctor-name-error').hidden = Boolean(name);
  $('doctor-name').setAttribute('aria-invalid', String(!name));
  if (!name) { $('doctor-name').focus(); return; }
  $('start-visit').disabled = true;
  $('start-status').textContent = 'Starting the visit…';
  let localStream = null;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  } catch (err) {
    showAlert('Your camera or microphone could not be opened; the visit starts without them. ' + errorWords({ code: err?.name === 'NotAllowedError' ? 'PermissionDenied' : 'MediaFailed' }));
  }
  try {
    const origin = location.origin;
    // The clinician's link carries the visit's clinician key: it proves this page is the
    // clinician's and countersigns the consent record; every link commits to its public half.
    const invite = createInvite(`${origin}/patient.html`, `${origin}/clinician.html`);
    const token = await mintDevToken(invite.roomId, 'clinician');
    const c = await Consultation.join({
      link: invite.clinicianLink, relayUrl: relayUrl(), token, role: 'clinician', displayName: name,
      ...(localStream ? { localStream } : {}),
    });
    app.invite = invite;
    app.consultation = c;
    wire(c);
    showInvite(invite);
    if (c.localStream) attachVideo($('self'), c.localStream);
    $('self').hidden = !c.localStream;
    setPill(c.state);
    $('start-status').textContent = '';
    showStep('visit');
    log('Visit room opened.');
    announce('The visit room is open. Send the patient link; they will appear in the waiting room.');
  } catch (err) {
    for (const t of localStream?.getTracks() ?? []) t.stop();
    $('start-status').textContent = errorWords(err);
    showAlert(errorWords(err));
  } finally {
    $('start-visit').disabled = false;
  }
});

function showInvite(invite) {
  $('invite-card').dataset.collapsed = 'false';
  $('invite-full').hidden = !invite;
  $('invite-collapsed').hidden = true;
  $('patient-link').value = invite?.patientLink ?? '';
  $('open-patient').href = invite?.patientLink ?? '#';
  $('qr').replaceChildren(...(invite ? [qrSvg(invite.patientLink, { label: 'QR code of the patient link' })] : []));
}

/**
 * Once the patient is let in, the full link and its QR code (the room secret) leave the screen:
 * a shared screen or a recording of the console must not show them. They come back only on
 * an explicit click.
 */
function collapseInvite() {
  if ($('invite-card').dataset.collapsed === 'true' || !app.invite) return;
  $('invite-card').dataset.collapsed = 'true';
  $('invite-full').hidden = true;
  $('patient-link').value = '';
  $('open-patient').href = '#';
  $('qr').replaceChildren();
  $('copy-status').textContent = '';
  $('invite-collapsed').hidden = false;
}

$('show-invite').addEventListener('click', () => {
  showInvite(app.invite);
  $('patient-link').focus();
});

$('copy-link').addEventListener('click', async () => {
  const input = $('patient-link');
  try {
    await navigator.clipboard.writeText(input.value);
    $('copy-status').textContent = 'Link copied. Paste it into a message to your patient.';
  } catch {
    input.focus();
    input.select();
    $('copy-status').textContent = 'Press Ctrl+C (or ⌘C) to copy the selected link.';
  }
});

// ----- the consultation's events ------------------------------------------------------------

function person(p) {
  const known = app.people.get(p.id) ?? { id: p.id, status: 'waiting', confirmed: false, peerConfirmed: false };
  Object.assign(known, { role: p.role ?? known.role, name: p.name ?? known.name });
  app.people.set(p.id, known);
  return known;
}

function wire(c) {
  c.addEventListener('statechange', (e) => {
    setPill(e.detail.state);
    if (e.detail.state === 'reconnecting') announce('The connection to the visit service dropped. Reconnecting…');
    if (e.detail.state === 'ended') onEnded(e.detail.endReason);
  });
  c.addEventListener('participantjoined', (e) => { person(e.detail.participant); renderWaiting(); });
  c.addEventListener('admissionrequested', (e) => {
    const p = person(e.detail.participant);
    p.status = 'waiting';
    renderWaiting();
    log(`${p.name ?? 'Someone'} is in the waiting room.`);
    announce(`${p.name ?? 'Someone'} is waiting to be let in.`);
  });
  c.addEventListener('participantadmitted', (e) => {
    const p = app.people.get(e.detail.participantId);
    if (p) p.status = 'in-call';
    if (p?.role !== 'guest') collapseInvite();
    renderWaiting();
    log(`${nameOf(e.detail.participantId)} was let in.`);
  });
  c.addEventListener('resumed', (e) => {
    // Their page reloaded and presented this visit's resume ticket: let back in at once, the
    // security code check carried over (the SDK proved it is the same device and tab).
    const id = e.detail.participantId;
    const p = person(c.participants().find((x) => x.id === id) ?? { id });
    p.resumed = true;
    p.status = 'in-call';
    renderWaiting();
    log(`${nameOf(id)} reconnected (their page reloaded) and is back without a new admission.`);
    announce(`${p.role === 'guest' ? nameOf(id) : 'Patient'} reconnected.`);
  });
  c.addEventListener('participantdenied', (e) => {
    app.people.delete(e.detail.participantId);
    renderWaiting();
    log('A waiting participant was turned away.');
  });
  c.addEventListener('participantconnected', (e) => {
    const p = app.people.get(e.detail.participantId) ?? person({ id: e.detail.participantId });
    const fresh = c.participants().find((x) => x.id === p.id);
    if (fresh) person(fresh);
    // A resumed participant's code comes with the check it had: no new prompt, no "changed".
    if (p.resumed && fresh?.sas) {
      Object.assign(p, { sas: fresh.sas, confirmed: fresh.sasConfirmed, peerConfirmed: fresh.sasConfirmedByPeer, changed: false });
    }
    p.status = 'connected';
    p.connectedAt = Date.now();
    // Until then, a picture that has not started yet is not "camera off" (see renderStage).
    setTimeout(renderStage, VIDEO_GRACE_MS + 50);
    if (!app.focus || app.focus === p.id || p.role === 'patient') setFocus(p.id);
    renderWaiting();
    log(`Connected to ${nameOf(p.id)}.`);
    announce(p.resumed && p.confirmed && p.peerConfirmed
      ? `Connected to ${nameOf(p.id)} again. The security code stays verified.`
      : `Connected to ${nameOf(p.id)}. Ask them to read their security code.`);
  });
  c.addEventListener('track', (e) => {
    if (!app.focus) setFocus(e.detail.participantId);
    watchTrack(e.detail.track, e.detail.stream);
    if (e.detail.participantId === app.focus) {
      attachVideo($('remote'), e.detail.stream);
      $('remote-empty').hidden = true;
    }
    renderStage();
  });
  c.addEventListener('sas', (e) => {
    const p = app.people.get(e.detail.participantId) ?? person({ id: e.detail.participantId });
    const before = p.sas?.digits ?? app.lastSas.get(p.id);
    const changed = Boolean(before) && before !== e.detail.sas.digits;
    if (changed) {
      // A new code is a new check: nothing verified before carries over.
      p.confirmed = false;
      p.peerConfirmed = false;
      p.changed = true;
      log(`The security code with ${nameOf(p.id)} changed (new keys after a reconnect). It is not verified until you both confirm the new code.`);
      announce(`The security code with ${nameOf(p.id)} changed. It is not verified: compare the new code again.`);
    }
    p.sas = e.detail.sas;
    if (!app.focus) setFocus(p.id); else if (p.id === app.focus) renderSasCard();
  });
  c.addEventListener('sasconfirmed', (e) => {
    const p = app.people.get(e.detail.participantId);
    if (!p) return;
    p.peerConfirmed = true;
    if (p.id === app.focus) renderSasCard();
    log(`${nameOf(p.id)} confirmed the security code.`);
    if (!p.confirmed) announce(`${nameOf(p.id)} confirmed the security code. Confirm too if it matches yours.`);
  });
  c.addEventListener('participantleft', (e) => {
    const { participantId: id, reason } = e.detail;
    const p = app.people.get(id);
    if (!p) return;
    if (p.sas) app.lastSas.set(id, p.sas.digits);
    if (reason === 'restarted') {
      // The same person, back with fresh keys: the old code proves nothing any more.
      Object.assign(p, { sas: null, confirmed: false, peerConfirmed: false });
      if (p.id === app.focus) renderSasCard();
      log(`${nameOf(id)} reconnected with new keys: the security code must be compared again.`);
      return;
    }
    p.status = 'left';
    log(`${nameOf(id)} left the visit${reason === 'lost' ? ' (connection lost)' : ''}.`);
    announce(`${nameOf(id)} left the visit.`);
    app.people.delete(id);
    if (app.focus === id) {
      app.focus = null;
      renderStage();
      $('remote').srcObject = null;
      $('remote-empty').hidden = false;
      $('remote-empty').textContent = 'The patient left. They can rejoin with the same link.';
      renderSasCard();
    }
    renderWaiting();
  });
  c.addEventListener('quality', (e) => {
    if (e.detail.participantId !== app.focus) return;
    $('quality').dataset.level = e.detail.level;
    $('quality').textContent = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection' }[e.detail.level] ?? '';
  });
  c.addEventListener('security', (e) => {
    log(`Security: a message was rejected (${e.detail.kind}).`);
    if (e.detail.kind === 'sas-mismatch') showAlert('The security codes did not match: someone may be in between. End the visit.');
  });
  c.addEventListener('linkmismatch', (e) => {
    const who = e.detail.role === 'guest' ? 'A guest' : 'The patient';
    const text = `${who} opened a link that does not match this visit (incomplete, or from another visit). Send them the patient link again.`;
    log(text);
    showAlert(text);
  });
  c.addEventListener('error', (e) => log(`Problem: ${e.detail.message}`));
  app.extras.attach(c);
  attachChat(c);
  attachPhotos(c);
  attachScreenShare(c, { nameOf, sdk });
}

function setFocus(id) {
  app.focus = id;
  const stream = app.consultation.remoteStream(id);
  if (stream) { attachVideo($('remote'), stream); $('remote-empty').hidden = true; }
  $('visit-title').textContent = `Visit with ${nameOf(id)}`;
  app.extras.setPatient(id);
  renderSasCard();
  renderStage();
}

// ----- the stage: what the patient's picture shows, or why there is none ---------------------

/**
 * How long after connecting a picture that has not started is "starting", not "camera off":
 * the first video frames take a moment to arrive.
 */
const VIDEO_GRACE_MS = 4000;

/** Re-renders the stage whenever a received track starts, stops or ends. */
const watched = new WeakSet();
function watchTrack(track, stream) {
  for (const target of [track, stream]) {
    if (!target || watched.has(target)) continue;
    watched.add(target);
    for (const type of ['mute', 'unmute', 'ended', 'addtrack', 'removetrack']) target.addEventListener(type, () => renderStage());
  }
}

/**
 * Says on the stage, over the picture, when the patient sends no picture and why: they
 * withdrew consent for video, never gave it, or their camera is off or blocked (no live
 * video track from them, or it is muted or ended). The connection badge steps aside: a
 * "Good connection" over a black picture says the wrong thing.
 */
function renderStage() {
  const p = app.focus ? app.people.get(app.focus) : null;
  const name = p ? nameOf(p.id) : '';
  let state = 'on';
  if (!p || p.status !== 'connected') {
    state = 'none';
  } else {
    const consent = app.extras?.consentState('video').state;
    const tracks = app.consultation?.remoteStream(p.id)?.getVideoTracks() ?? [];
    const live = tracks.some((t) => t.readyState === 'live' && !t.muted);
    if (consent === 'withdrawn') state = 'withdrawn';
    else if (live) state = 'on';
    else if (Date.now() - (p.connectedAt ?? 0) < VIDEO_GRACE_MS) state = 'starting';
    else if (consent === 'none' || consent === 'inactive') state = 'no-consent';
    else state = 'off';
  }
  const words = {
    withdrawn: `${name} withdrew consent for video`,
    'no-consent': `${name} has not given consent for video`,
    off: `${name}'s camera is off`,
    starting: `Waiting for ${name}'s video…`,
  }[state];
  const stage = $('remote').closest('.stage');
  const before = stage.dataset.video;
  stage.dataset.video = state;
  $('remote-off').hidden = !words;
  $('remote-off').textContent = words ?? '';
  $('remote-off').dataset.state = state;
  if (before === state || state === 'none' || state === 'starting') return;
  if (state === 'on') {
    if (before && before !== 'starting' && before !== 'none') announce(`${name}'s video is back.`);
  } else {
    announce(`${words}.`);
    log(`${words}.`);
  }
}

// ----- waiting room ------------------------------------------------------------------------

function renderWaiting() {
  const waiting = [...app.people.values()].filter((p) => p.status === 'waiting' && p.role !== 'clinician');
  $('waiting-empty').hidden = waiting.length > 0;
  $('waiting-empty').textContent = 'Nobody is waiting yet.';
  $('waiting-card').dataset.count = String(waiting.length);
  const list = $('waiting-list');
  // Keep focus on a button that survives the re-render.
  const focusedId = document.activeElement?.closest?.('#waiting-list li')?.dataset.participant;
  list.replaceChildren(...waiting.map((p) => h('li', { dataset: { participant: p.id } },
    h('div', { class: 'who' },
      h('strong', {}, p.name ?? 'Name not known yet'),
      h('span', { class: 'hint' }, ` ${p.role === 'guest' ? 'guest' : 'patient'}`)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary admit', onclick: () => admit(p.id), 'aria-label': `Let in ${p.name ?? 'this person'}` }, 'Let in'),
      h('button', { type: 'button', class: 'secondary deny', onclick: () => deny(p.id), 'aria-label': `Turn away ${p.name ?? 'this person'}` }, 'Turn away')))));
  if (focusedId) list.querySelector(`li[data-participant="${focusedId}"] button`)?.focus();
}

function admit(id) {
  try {
    app.consultation.admit(id);
    announce(`${nameOf(id)} is joining the visit.`);
    $('remote').focus?.();
  } catch (err) { showAlert(errorWords(err)); }
}

function deny(id) {
  try {
    app.consultation.deny(id);
    announce(`${nameOf(id)} was turned away.`);
  } catch (err) { showAlert(errorWords(err)); }
}

// ----- SAS ----------------------------------------------------------------------------------

function renderSasCard() {
  const p = app.focus ? app.people.get(app.focus) : null;
  const card = $('sas-card');
  card.hidden = !p?.sas;
  if (!p?.sas) {
    $('sas').replaceChildren();
    $('sas').dataset.state = 'pending';
    delete $('sas').dataset.digits;
    card.dataset.changed = 'false';
    $('sas-confirm').disabled = true;
    $('sas-differs').disabled = true;
    $('sas-status').textContent = '';
    card.dataset.verified = 'false';
    return;
  }
  if ($('sas').dataset.state !== 'shown' || $('sas').dataset.digits !== p.sas.digits) {
    renderSas($('sas'), p.sas);
    $('sas').dataset.state = 'shown';
    $('sas').dataset.digits = p.sas.digits;
  }
  $('sas-intro').textContent = `Ask ${nameOf(p.id)} to read their code aloud. If it matches this one, nobody is in between.`;
  $('sas-confirm').disabled = false;
  $('sas-differs').disabled = false;
  $('sas-actions').hidden = p.confirmed;
  const both = p.confirmed && p.peerConfirmed;
  if (both) p.changed = false;
  card.dataset.verified = String(both);
  card.dataset.changed = String(Boolean(p.changed));
  const changed = p.changed ? `⚠ New code: ${nameOf(p.id)} reconnected with new keys. NOT verified. ` : '';
  $('sas-status').textContent = both
    ? `✓ Verified: you and ${nameOf(p.id)} confirmed the same code.`
    : changed + (p.confirmed ? `You confirmed. Waiting for ${nameOf(p.id)} to confirm.`
      : p.peerConfirmed ? `${nameOf(p.id)} confirmed. Confirm too if the codes match.`
        : changed ? 'Ask them to read the new code aloud.' : '');
}

$('sas-confirm').addEventListener('click', () => {
  const p = app.people.get(app.focus);
  if (!p) return;
  try {
    app.consultation.confirmSas(p.id);
    p.confirmed = true;
    renderSasCard();
    log('You confirmed the security code.');
    announce('You confirmed the security code.');
    app.extras.sasConfirmed(p);
  } catch (err) { showAlert(errorWords(err)); }
});
$('sas-differs').addEventListener('click', () => {
  showAlert('The codes differ: someone may be between you and the patient. The visit was ended; contact the patient another way.');
  app.consultation?.hangUp(true);
});

// ----- controls and the end -------------------------------------------------------------

$('mute').addEventListener('click', () => {
  const on = $('mute').dataset.on !== 'true';
  app.consultation?.setMuted('audio', on);
  $('mute').dataset.on = String(on);
  $('mute').textContent = on ? 'Unmute microphone' : 'Mute microphone';
  announce(on ? 'Microphone muted.' : 'Microphone on.');
});
$('camera').addEventListener('click', () => {
  const off = $('camera').dataset.on !== 'true';
  app.consultation?.setMuted('video', off);
  $('camera').dataset.on = String(off);
  $('camera').textContent = off ? 'Turn camera on' : 'Turn camera off';
  announce(off ? 'Camera off.' : 'Camera on.');
});
$('end-visit').addEventListener('click', () => app.consultation?.hangUp(true));

function onEnded(reason) {
  setPill('ended');
  app.extras.ended();
  $('end-summary').textContent = app.extras.summary();
  $('end-reason').textContent = reason === 'hung-up' || reason === 'ended-by-clinician'
    ? 'You ended the visit. The record stays here until you close this page: export it if you need it.'
    : 'The visit ended unexpectedly. You can start another one.';
  showStep('ended');
  announce('The visit has ended.');
}

$('new-visit').addEventListener('click', () => {
  app.people.clear();
  app.lastSas.clear();
  app.focus = null;
  showInvite(null);
  app.consultation = null;
  $('activity').replaceChildren();
  $('remote').srcObject = null;
  $('remote-empty').hidden = false;
  $('remote-empty').textContent = 'Your patient\'s video appears here once you let them in.';
  $('sas').dataset.state = 'pending';
  app.extras.reset();
  renderWaiting();
  renderSasCard();
  renderStage();
  showStep('start');
});

$('export').addEventListener('click', () => app.extras.export());
$('export-after').addEventListener('click', () => app.extras.export());

// ----- page chrome ------------------------------------------------------------------------

function setPill(state) {
  const pill = $('state-pill');
  pill.dataset.state = state;
  pill.textContent = STATE_WORDS[state] === 'In the visit' ? 'Room open' : (STATE_WORDS[state] ?? '');
}

function showAlert(text) {
  $('alert').textContent = text;
  $('alert').hidden = false;
}

/**
 * Where the code card sits: beside the picture, at the top of the side column, when the
 * console has two columns, so that at 1280×800 it is above the fold next to the patient's
 * video; under the call controls when there is one column.
 */
const oneColumn = matchMedia('(max-width: 60rem)');
function placeSasCard() {
  if (oneColumn.matches) $('controls').after($('sas-card'));
  else $('console-side').prepend($('sas-card'));
}
oneColumn.addEventListener('change', placeSasCard);
placeSasCard();

app.extras = new ClinicianExtras({ ...sdk, ...devices }, { app, log, announce, showAlert, consentChanged: () => renderStage() });
renderWaiting();
showStep('start', { focus: false });
