// The patient's page, opened from the invite link: device check → consent → waiting room →
// the call (with the code to read aloud, device readings and consent controls) → the end.
import * as sdk from '/pkg/index.js';
// The devices API is a wasm module of its own (`teleconsult/devices`: the GATT parsers and
// the Bluetooth driver). This demo shows device readings in every visit, so it imports it
// with the page (fetched and compiled alongside the call module); an app whose visits have
// no devices never imports it, and never downloads it.
import * as devices from '/pkg/devices.js';
import {
  $, h, announce, showStep, relayUrl, mintDevToken, roomFromFragment, newParticipantId,
  renderSas, STATE_WORDS, END_WORDS, errorWords, attachVideo,
} from '/common.js';
import { capabilityChecks, relayCheck, mediaChecks, renderChecks } from '/checks.js';
import { PatientExtras } from '/patient-extras.js';
import { attachChat } from '/chat-panel.js';
import { attachPhotos } from '/photos-panel.js';
import { attachScreenShare } from '/screen-share.js';

const { Consultation, version } = sdk;
$('version').textContent = version();

// The invite link is read once, then its fragment (the room secret) leaves the address bar and
// the history entry, so a shared screen or the tab's history never shows it. The tab keeps it in
// sessionStorage for a reload (never sent anywhere, gone when the tab closes).
const taken = typeof sdk.takeInviteLink === 'function' ? sdk.takeInviteLink() : undefined;
if (taken) sessionStorage.setItem('teleconsult:link', taken);
const inviteLink = taken ?? (location.hash ? location.href : sessionStorage.getItem('teleconsult:link'));
const room = inviteLink ? roomFromFragment(new URL(inviteLink).hash) : null;
/** Everything this page knows; `window.demo` for the end-to-end tests and the curious. */
const app = {
  consultation: null,
  localStream: null,
  clinicianId: null,
  clinicianName: null,
  sasConfirmed: false,
  /** Let back in after a reload with this tab's resume ticket (the SDK's `resumed`). */
  resumed: false,
  leaving: false,
  inCall: false,
  participantId: sessionStorage.getItem(`teleconsult:pid:${room}`) ?? newParticipantId(),
  extras: null,
  /** participant id → { sas, confirmed, peerConfirmed, changed }: the code is verified per
   *  participant, and a new code (they restarted, with fresh keys) is unverified again. */
  sas: new Map(),
};
window.demo = app;
if (room) sessionStorage.setItem(`teleconsult:pid:${room}`, app.participantId);

// ----- step 1: the device check ---------------------------------------------------------

async function runCheck() {
  $('summary').dataset.state = 'checking';
  $('summary').textContent = 'Checking your camera, microphone and connection…';
  for (const t of app.localStream?.getTracks() ?? []) t.stop();
  const [{ checks: media, stream }, relay] = await Promise.all([mediaChecks(), relayCheck()]);
  app.localStream = stream;
  $('preview-empty').hidden = Boolean(stream?.getVideoTracks().length);
  if (stream) attachVideo($('preview'), stream);
  const caps = capabilityChecks().filter((c) => c.id !== 'getUserMedia' && c.id !== 'webSocket');
  const webBluetooth = caps.find((c) => c.id === 'webBluetooth');
  webBluetooth.label = 'Bluetooth health devices (optional)';
  const blocking = renderChecks($('checks'), $('summary'), [...media, relay, ...caps]);
  announce(blocking === 0
    ? 'Check complete: your device is ready for the video visit.'
    : `Check complete: ${blocking} required ${blocking === 1 ? 'item does' : 'items do'} not work yet.`);
  $('summary').dataset.checked = 'true';
}

$('recheck').addEventListener('click', () => runCheck());

$('name-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('name').value.trim();
  $('name-error').hidden = Boolean(name);
  $('name').setAttribute('aria-invalid', String(!name));
  if (!name) { $('name').focus(); return; }
  sessionStorage.setItem('teleconsult:name', name);
  if (app.extras.consentAvailable) {
    showConsentStep();
  } else {
    join();
  }
});

// ----- step 2: consent (see patient-extras.js) --------------------------------------------

const consentBoxes = () => [...document.querySelectorAll('#consent-form input[data-category]')];

/**
 * The consent step. Grants already stored on this device (after a reload, or "Join again")
 * show as given: their boxes ticked, and the wording says consent is given and can be
 * changed; continuing keeps them (no new grant), and unticking one withdraws it.
 */
async function showConsentStep() {
  app.extras.showNotice($('notice'));
  await app.extras.ready;
  let given = 0;
  for (const box of consentBoxes()) {
    box.checked = app.extras.allowed(box.dataset.category);
    if (box.checked) given += 1;
  }
  const any = given > 0;
  $('consent-form').dataset.given = String(any);
  $('consent-given').hidden = !any;
  $('consent-hint').textContent = any
    ? 'You can also withdraw any of these at any time during the visit with one click ("Withdraw"); it takes effect at once. Your care does not depend on sharing device readings.'
    : 'Nothing is ticked for you. You can withdraw any of these at any time during the visit with one click ("Withdraw"); it takes effect at once. Your care does not depend on sharing device readings.';
  $('consent-give').textContent = any ? 'Continue with these choices' : 'Give consent and continue';
  // With consent already given, "without giving consent" would not be true: untick instead.
  $('consent-skip').hidden = any;
  $('consent-error').hidden = true;
  showStep('consent');
  if (any) announce('You already gave consent on this device. Your choices are ticked; you can change them before you continue.');
}

$('consent-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const boxes = consentBoxes();
  const categories = boxes.filter((i) => i.checked).map((i) => i.dataset.category);
  const alreadyGiven = $('consent-form').dataset.given === 'true';
  if (categories.length === 0 && !alreadyGiven) {
    $('consent-error').textContent = 'Tick what you agree to share, or choose "Continue without giving consent".';
    $('consent-error').hidden = false;
    return;
  }
  $('consent-error').hidden = true;
  $('consent-give').disabled = true;
  try {
    await app.extras.grant(categories);
    // An unticked box that was given before is a withdrawal.
    for (const box of boxes) {
      if (!box.checked && app.extras.allowed(box.dataset.category)) await app.extras.withdraw(box.dataset.category);
    }
    announce(alreadyGiven ? 'Your consent choices are saved on this device.' : 'Your consent was recorded on this device.');
    join();
  } catch (err) {
    $('consent-error').textContent = errorWords(err);
    $('consent-error').hidden = false;
  } finally {
    $('consent-give').disabled = false;
  }
});
$('consent-skip').addEventListener('click', () => join());

// ----- step 3: joining and the waiting room -----------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * How long a patient who arrives before the clinician keeps trying: every 3 s for 10 min.
 * The relay cannot tell a visit not opened yet from one that ended or never existed (a link
 * with a wrong room), so after that the page says all three and stops. (The end-to-end
 * tests shorten it with `window.demoJoinRetry`.)
 */
const JOIN_RETRY = { everyMs: 3000, attempts: 200, ...globalThis.demoJoinRetry };

async function join() {
  app.leaving = false;
  showStep('waiting');
  const preview = app.localStream?.getVideoTracks().length ? app.localStream : null;
  $('waiting-preview').hidden = !preview;
  if (preview) attachVideo($('waiting-preview'), preview);
  setPill('connecting');
  const name = $('name').value.trim() || sessionStorage.getItem('teleconsult:name') || 'Patient';
  const media = app.extras.allowedMedia();
  let attempt = 0;
  for (;;) {
    if (app.leaving) return;
    $('waiting-text').textContent = attempt === 0
      ? 'Connecting to the visit service…'
      : 'Your clinician has not opened the visit yet. We keep trying every few seconds.';
    try {
      const token = await mintDevToken(room, 'patient');
      // The consultation stops the tracks it is given; give it copies so that a refused
      // attempt leaves the camera preview running.
      const localStream = sendableStream(media);
      const c = await Consultation.join({
        link: inviteLink, relayUrl: relayUrl(), token, role: 'patient', displayName: name,
        participantId: app.participantId, ...(localStream ? { localStream } : {}),
      });
      if (app.leaving) { c.hangUp(); return; }
      app.consultation = c;
      wire(c);
      onState(c.state);
      return;
    } catch (err) {
      if (err?.code === 'RelayRefused' && err.relayCode === 4007) {
        if (attempt === 0) announce('Your clinician has not opened the visit yet. Please wait.');
        attempt += 1;
        if (attempt >= JOIN_RETRY.attempts) return onEnded('not-open');
        await sleep(JOIN_RETRY.everyMs);
        continue;
      }
      showAlert(errorWords(err));
      $('waiting-text').textContent = errorWords(err);
      setPill('ended');
      return;
    }
  }
}

/** A copy of the checked camera/microphone with only what consent allows, or null. */
function sendableStream({ audio, video }) {
  const tracks = (app.localStream?.getTracks() ?? [])
    .filter((t) => (t.kind === 'audio' ? audio : video))
    .map((t) => t.clone());
  return tracks.length ? new MediaStream(tracks) : null;
}

$('leave-waiting').addEventListener('click', () => {
  app.leaving = true;
  app.consultation?.hangUp();
  if (!app.consultation) onEnded('hung-up');
});

// ----- the call -------------------------------------------------------------------------

function wire(c) {
  c.addEventListener('statechange', (e) => onState(e.detail.state, e.detail.endReason));
  c.addEventListener('participantjoined', (e) => {
    const p = e.detail.participant;
    if (p.role === 'clinician') { app.clinicianId = p.id; if (p.name) setClinicianName(p.name); }
  });
  c.addEventListener('participantconnected', (e) => {
    const p = c.participants().find((x) => x.id === e.detail.participantId);
    if (p?.role === 'clinician') {
      app.clinicianId = p.id;
      if (p.name) setClinicianName(p.name);
      // Back after a reload: the code check carries over (no new prompt if both confirmed).
      const s = sasOf(p.id);
      if (app.resumed && p.sas && !s.sas) {
        Object.assign(s, { sas: p.sas, confirmed: p.sasConfirmed, peerConfirmed: p.sasConfirmedByPeer, changed: false, restarted: false });
        renderSasCard();
      }
      announce(`You are connected to ${app.clinicianName ?? 'your clinician'}.`);
    }
  });
  c.addEventListener('resumed', () => {
    app.resumed = true;
    announce('You are back in the visit. Your clinician did not need to let you in again.');
  });
  c.addEventListener('track', (e) => {
    app.clinicianId = app.clinicianId ?? e.detail.participantId;
    attachVideo($('remote'), e.detail.stream);
    $('remote-empty').hidden = true;
  });
  c.addEventListener('sas', (e) => {
    const id = e.detail.participantId;
    app.clinicianId = id;
    const s = sasOf(id);
    const before = s.sas?.digits ?? s.previous;
    if (before && before !== e.detail.sas.digits) {
      // A new code is a new check: nothing verified before carries over.
      Object.assign(s, { confirmed: false, peerConfirmed: false, changed: true });
    }
    s.sas = e.detail.sas;
    s.restarted = false;
    renderSasCard();
    announce(s.changed
      ? `The security code changed: ${app.clinicianName ?? 'your clinician'} reconnected. It is not verified. Read the new code aloud again.`
      : 'A security code is shown. Read it aloud to your clinician.');
  });
  c.addEventListener('sasconfirmed', (e) => {
    const s = sasOf(e.detail.participantId);
    s.peerConfirmed = true;
    renderSasCard();
    announce(`${app.clinicianName ?? 'Your clinician'} confirmed the code.`);
  });
  c.addEventListener('participantleft', (e) => {
    if (e.detail.participantId !== app.clinicianId) return;
    if (e.detail.reason === 'restarted') {
      // Back with fresh keys: the old code no longer proves anything.
      const s = sasOf(e.detail.participantId);
      Object.assign(s, { previous: s.sas?.digits ?? s.previous, confirmed: false, peerConfirmed: false, restarted: true, sas: null });
      renderSasCard();
      announce(`${app.clinicianName ?? 'Your clinician'} reconnected. The security code is no longer verified; a new one will appear.`);
      return;
    }
    $('remote').srcObject = null;
    $('remote-empty').hidden = false;
    $('remote-empty').textContent = 'Your clinician left the visit. Please wait here; they may come back.';
    announce('Your clinician left the visit.');
  });
  c.addEventListener('quality', (e) => {
    $('quality').dataset.level = e.detail.level;
    $('quality').textContent = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection' }[e.detail.level] ?? '';
  });
  c.addEventListener('linkmismatch', (e) => {
    if (e.detail.role !== 'clinician') return;
    // Retrying cannot help: the link itself is wrong. Leave, and say what to do.
    app.leaving = true;
    app.endReason = 'wrong-link'; // the hang-up's own "hung-up" must not replace it
    c.hangUp();
    onEnded('wrong-link');
  });
  c.addEventListener('security', (e) => {
    if (e.detail.kind === 'sas-mismatch') showAlert('The security codes did not match. Leave the visit and contact your clinic.');
  });
  c.addEventListener('error', (e) => {
    if (e.detail.code === 'PermissionDenied') showAlert(errorWords(e.detail));
  });
  app.extras.attach(c);
  attachChat(c);
  attachPhotos(c, { canSend: true });
  attachScreenShare(c, { nameOf: () => app.clinicianName ?? 'Your clinician', sdk });
}

function setClinicianName(name) {
  app.clinicianName = name;
  $('call-title').textContent = `Your video visit with ${name}`;
  $('sas-intro').textContent = `Read this code aloud to ${name}. They should see the same code.`;
  $('sas-confirm').textContent = `${name} sees the same code`;
  $('waiting-text').textContent = `Waiting for ${name} to let you in.`;
}

function onState(state, endReason) {
  setPill(state);
  if (state === 'waiting') {
    $('waiting-text').textContent = `You are in the waiting room. ${app.clinicianName ?? 'Your clinician'} will let you in shortly.`;
    announce('You are in the waiting room. Your clinician will let you in shortly.');
  } else if ((state === 'admitted' || state === 'connected') && !app.inCall) {
    app.inCall = true;
    showStep('call');
    refreshSelfView();
    for (const t of app.localStream?.getTracks() ?? []) t.stop(); // the call has its own copies
    announce('Your clinician let you in. The visit has started.');
  } else if (state === 'reconnecting') {
    announce('The connection dropped. Reconnecting…');
  } else if (state === 'connected' && app.inCall) {
    announce('Connected again.');
  } else if (state === 'ended') {
    onEnded(endReason ?? app.consultation?.endReason);
  }
}

/** Shows what this side sends: the self view and the mute/camera buttons follow the tracks. */
function refreshSelfView() {
  const own = app.consultation?.localStream;
  const video = own?.getVideoTracks().some((t) => t.readyState === 'live');
  const audio = own?.getAudioTracks().some((t) => t.readyState === 'live');
  if (video) attachVideo($('self'), own);
  $('self').hidden = !video;
  $('camera').disabled = !video;
  $('switch-camera').disabled = !video;
  $('mute').disabled = !audio;
  $('sending').textContent = notSendingText({ video, audio });
}

/**
 * Why a kind is not sent, in words: no consent (the patient can give it), or the device is
 * blocked or missing (consent is given, but the browser refused or has no such device).
 */
function notSendingText(sending) {
  const kinds = [['video', 'video', 'camera'], ['audio', 'voice', 'microphone']];
  return kinds.filter(([kind]) => !sending[kind]).map(([kind, what, device]) => (
    app.extras.consentAvailable && !app.extras.allowed(kind)
      ? `You are not sending your ${what}: no consent given. You can give it under "Your consent".`
      : `You are not sending your ${what}: your ${device} is blocked or not available. Allow it in the browser's address bar, then reload this page.`
  )).join(' ');
}

function onEnded(ended) {
  const reason = app.endReason ?? ended;
  app.inCall = false;
  app.extras?.detach();
  for (const t of app.localStream?.getTracks() ?? []) t.stop();
  // One state, one message: a visit that never opened did not "end".
  setPill(reason === 'not-open' || reason === 'wrong-link' ? 'not-open' : 'ended');
  const title = { 'not-open': 'This visit is not open', 'wrong-link': 'This link does not match the visit' }[reason] ?? 'Your visit has ended';
  $('ended-title').textContent = title;
  $('rejoin').textContent = reason === 'not-open' ? 'Try again' : 'Join again';
  $('end-reason').textContent = END_WORDS[reason] ?? 'The visit has ended.';
  $('end-reason').dataset.reason = reason ?? '';
  // Joining again cannot help once the clinician turned the patient away or ended the visit,
  // or with a link that does not match it.
  $('rejoin').hidden = reason === 'denied' || reason === 'ended-by-clinician' || reason === 'wrong-link';
  showStep('ended');
  announce(`${title}. ${END_WORDS[reason] ?? ''}`);
}

$('rejoin').addEventListener('click', async () => {
  app.consultation = null;
  app.inCall = false;
  // Joining again sets up new keys: every code seen before is void, and a different one will be
  // shown as changed (not verified) until both sides confirm it.
  for (const s of app.sas.values()) {
    Object.assign(s, { previous: s.sas?.digits ?? s.previous, sas: null, confirmed: false, peerConfirmed: false, restarted: true });
  }
  renderSasCard();
  await runCheck();
  join();
});

$('sas-confirm').addEventListener('click', () => {
  if (!app.clinicianId) return;
  try {
    app.consultation.confirmSas(app.clinicianId);
    sasOf(app.clinicianId).confirmed = true;
    // The consent record notes the verified code: the SDK supplies the SAS it computed.
    app.extras.manager?.recordSasConfirmed(app.consultation, app.clinicianId).catch(() => {});
    renderSasCard();
    announce('You confirmed the code.');
  } catch (err) {
    showAlert(errorWords(err));
  }
});
$('sas-differs').addEventListener('click', () => {
  showAlert('The codes were different, so someone may be listening in. You left the visit; please call your clinic.');
  app.consultation?.hangUp();
});

/** The SAS state of participant `id` (created empty). */
function sasOf(id) {
  let s = app.sas.get(id);
  if (!s) {
    s = { sas: null, previous: null, confirmed: false, peerConfirmed: false, changed: false, restarted: false };
    app.sas.set(id, s);
  }
  return s;
}

/** The SAS card for the clinician this page talks to: the code, who confirmed, and whether it
 *  changed (a participant that restarted has fresh keys: the new code is unverified). */
function renderSasCard() {
  const s = app.clinicianId ? app.sas.get(app.clinicianId) : null;
  const card = $('sas-card');
  const who = app.clinicianName ?? 'Your clinician';
  if (!s?.sas) {
    $('sas').replaceChildren(h('p', { class: 'hint' }, s?.restarted
      ? `${who} reconnected: a new code appears in a moment.`
      : 'The code appears when the connection is set up…'));
    $('sas').dataset.state = 'pending';
    delete $('sas').dataset.digits;
  } else if ($('sas').dataset.digits !== s.sas.digits) {
    renderSas($('sas'), s.sas);
    $('sas').dataset.state = 'shown';
    $('sas').dataset.digits = s.sas.digits;
  }
  const both = Boolean(s?.sas && s.confirmed && s.peerConfirmed);
  if (both) s.changed = false;
  card.dataset.verified = String(both);
  card.dataset.peerConfirmed = String(Boolean(s?.peerConfirmed));
  card.dataset.changed = String(Boolean(s?.changed) && !both);
  $('sas-actions').hidden = Boolean(s?.confirmed);
  $('sas-confirm').disabled = !s?.sas;
  $('sas-differs').disabled = !s?.sas;
  app.sasConfirmed = Boolean(s?.confirmed);
  const changed = s?.changed && !both ? '⚠ The code changed because the connection was set up again: it is NOT verified. ' : '';
  $('sas-status').textContent = both
    ? '✓ You both confirmed the code: this visit is private.'
    : changed + (s?.confirmed ? `You confirmed. Waiting for ${who} to confirm.`
      : s?.peerConfirmed ? `${who} confirmed the code. Please confirm too if it matches.`
        : changed ? 'Read the new code aloud and compare it again.' : '');
}

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
$('switch-camera').addEventListener('click', async () => {
  try { await app.consultation?.switchCamera(); announce('Camera switched.'); } catch (err) { showAlert(errorWords(err)); }
});
$('hangup').addEventListener('click', () => app.consultation?.hangUp());

// ----- page chrome ------------------------------------------------------------------------

function setPill(state) {
  const pill = $('state-pill');
  pill.dataset.state = state;
  pill.textContent = STATE_WORDS[state] ?? '';
}

function showAlert(text) {
  const banner = $('alert');
  banner.textContent = text;
  banner.hidden = false;
}

// ----- start ------------------------------------------------------------------------------

/**
 * One tab per visit on this device: the first tab holds a Web Lock named after the room for
 * as long as it is open. A second tab with the same link says so before asking anything,
 * and takes over by itself once the first one closes (a reload releases and retakes it).
 * Resolves once this tab holds the lock; where Web Locks are missing, at once.
 */
function claimVisitTab() {
  if (!navigator.locks?.request) return Promise.resolve();
  const name = `teleconsult:visit:${room}`;
  const hold = () => new Promise(() => {}); // released when the page goes away
  return new Promise((resolve) => {
    navigator.locks.request(name, { ifAvailable: true }, (lock) => {
      if (lock) {
        resolve();
        return hold();
      }
      showStep('elsewhere');
      announce('This visit is already open in another tab.');
      navigator.locks.request(name, () => {
        resolve();
        return hold();
      });
    });
  });
}

app.extras = new PatientExtras({ ...sdk, ...devices }, { app, announce, showAlert, onMediaChanged: refreshSelfView, inviteLink });
if (!room) {
  showStep('nolink');
} else {
  claimVisitTab().then(() => {
    showStep('check', { focus: false });
    $('name').value = sessionStorage.getItem('teleconsult:name') ?? '';
    runCheck();
  });
}
