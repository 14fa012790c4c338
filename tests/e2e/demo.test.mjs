// The demo app as two people use it: a clinician in one tab, a patient in another, every step
// done with real clicks, through the real relay. Screenshots of every key screen, at desktop
// and phone widths, go to test-artifacts/demo/ (gitignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { startRelay, launchBrowser, root, chromiumOnly } from './harness.mjs';

const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

const ARTIFACTS = join(root, 'test-artifacts/demo');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 375, height: 760 };

let relay;
before(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  relay = await startRelay();
});
after(async () => {
  await relay?.stop();
  writeFileSync(join(ARTIFACTS, 'accessibility.json'), JSON.stringify(accessibility, null, 2));
});

/**
 * Opens `url` in a new tab; page errors, failed requests and Content-Security-Policy
 * violations (the pages carry a strict CSP: no inline script or style) are collected.
 */
async function openPage(browser, url, { width = 1280, height = 860, blockCamera = false } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('requestfailed', (req) => { if (!req.url().startsWith('blob:')) errors.push(`request failed: ${req.url()}`); });
  page.on('console', (msg) => { if (/Content Security Policy/i.test(msg.text())) errors.push(`CSP: ${msg.text()}`); });
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => { console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`); });
  });
  if (blockCamera) {
    // As when the person blocked the camera in the browser's prompt: any request for video
    // is refused with NotAllowedError; the microphone alone is allowed.
    await page.evaluateOnNewDocument(() => {
      const md = navigator.mediaDevices;
      const open = md.getUserMedia.bind(md);
      md.getUserMedia = (c) => (c?.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : open(c));
    });
  }
  await page.setViewport({ width, height });
  await page.goto(url, { waitUntil: 'load' });
  page.errors = errors;
  return page;
}

/** axe-core's serious and critical findings on the page as it is now. */
const accessibility = [];
async function axeScan(page, name) {
  // Evaluated through DevTools, so the page's CSP does not apply to the scanner itself.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  accessibility.push({ screen: name, violations });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Polls a condition in the page (no fixed sleeps); `what` names it in the failure. */
async function until(page, fn, arg, what, timeout = 20_000) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 50 }, arg);
  } catch {
    const state = await page.evaluate(() => ({
      screen: document.body.dataset.screen,
      pill: document.getElementById('state-pill')?.textContent,
      alert: document.getElementById('alert')?.textContent,
      activity: document.getElementById('activity')?.innerText,
    })).catch(() => ({}));
    throw new Error(`timed out waiting for ${what}; page: ${JSON.stringify(state)}`);
  }
}

const stepIs = (page, step) => until(page, (s) => document.body.dataset.screen === s, step, `step ${step}`);

/**
 * Screenshots the page at desktop and phone widths, and checks that the phone layout has no
 * sideways scrolling.
 */
async function shoot(page, name) {
  await page.bringToFront();
  await page.setViewport(DESKTOP);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewport(PHONE);
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  await page.screenshot({ path: join(ARTIFACTS, `${name}-375.png`), fullPage: true });
  const phoneFindings = await axeScan(page, `${name} (375 px)`);
  await page.setViewport(DESKTOP);
  assert.ok(widths.scroll <= widths.client, `${name}: ${widths.scroll}px wide at 375 px`);
  const desktopFindings = await axeScan(page, name);
  assert.deepEqual([...phoneFindings, ...desktopFindings], [], `${name}: serious or critical accessibility findings`);
}

/** A real click, in the tab brought to the front as a person would (background tabs render no
 *  frames), once the element is shown: a page shows its first step only after the SDK loaded. */
async function click(page, selector) {
  await page.bringToFront();
  await page.waitForSelector(selector, { visible: true });
  await page.click(selector);
}

async function typeIn(page, selector, text) {
  await page.bringToFront();
  await page.type(selector, text);
}

/** Video frames this page decoded from `peer`, per the SDK's getStats. */
async function framesFrom(page, peer) {
  return page.evaluate(async (id) => {
    const report = await window.demo.consultation.getStats(id);
    let frames = 0;
    report.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0; });
    return frames;
  }, peer);
}

async function framesIncrease(page, peer, what) {
  const first = await framesFrom(page, peer);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = await framesFrom(page, peer);
    if (now >= first + 10) return now;
    if (Date.now() > deadline) throw new Error(`${what}: frames decoded stuck at ${now} (from ${first})`);
    await page.waitForFunction(() => true, { timeout: 1000, polling: 200 }).catch(() => {});
  }
}

/** The first file that appears in `dir` (a finished download). */
async function waitForFile(dir) {
  const { readdirSync } = await import('node:fs');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const done = readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (done.length) return join(dir, done[0]);
    if (Date.now() > deadline) throw new Error('no download');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Decodes the QR code the console shows, from its rendered pixels. */
async function readQr(page) {
  const { width, height, pixels } = await page.evaluate(async () => {
    const svg = document.querySelector('#qr svg');
    const size = 400;
    const img = new Image();
    img.src = `data:image/svg+xml;base64,${btoa(new XMLSerializer().serializeToString(svg))}`;
    await img.decode();
    const canvas = new OffscreenCanvas(size, size);
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, 0, 0, size, size);
    return { width: size, height: size, pixels: Array.from(ctx.getImageData(0, 0, size, size).data) };
  });
  return jsQR(Uint8ClampedArray.from(pixels), width, height)?.data;
}

test('a clinician and a patient run a whole visit in two tabs with real clicks', { skip: chromiumOnly }, async (t) => {
  const browser = await launchBrowser({ webBluetooth: true });
  try {
    // The landing page points both ways.
    const landing = await openPage(browser, `${relay.url}/`);
    await until(landing, () => document.getElementById('summary').dataset.state === 'ready', null, 'pre-call check');
    await shoot(landing, '01-landing');

    // Clinician: start a visit.
    await click(landing, '#open-console');
    await landing.waitForSelector('#start-visit');
    const doc = landing;
    doc.errors.length = 0;
    await shoot(doc, '02-clinician-start');
    await click(doc, '#start-visit');
    await stepIs(doc, 'visit');
    const link = await doc.$eval('#patient-link', (i) => i.value);
    // A version-2 patient link: the room secret, the keys of both roles and the patient's own
    // signing key, all in the fragment.
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/patient\.html#[A-Za-z0-9_=&-]+$/);
    const fragment = new URLSearchParams(link.split('#')[1]);
    const secret = fragment.get('k');
    assert.equal(fragment.get('v'), '2');
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    for (const key of ['c', 'p', 's']) assert.match(fragment.get(key), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await readQr(doc), link, 'the QR code carries the patient link');
    await shoot(doc, '03-clinician-room-open');

    // Patient: open the link in another tab, pass the check, give a name.
    const patient = await openPage(browser, link);
    await until(patient, () => document.getElementById('summary').dataset.checked === 'true', null, 'patient check');
    // The link was read once: the fragment (the room secret) left the address bar and the history entry.
    const address = await patient.evaluate(() => ({ href: location.href, hash: location.hash }));
    assert.equal(address.hash, '', 'no fragment in the address bar');
    assert.ok(!address.href.includes(secret), 'the secret is not in the address');
    const check = await patient.evaluate(() => ({
      state: document.getElementById('summary').dataset.state,
      items: Object.fromEntries([...document.querySelectorAll('#checks li')].map((li) => [li.dataset.capability, li.dataset.available === 'true'])),
      demoNote: document.querySelector('[data-step="check"] .demo-note').textContent,
    }));
    assert.equal(check.state, 'ready');
    for (const id of ['camera', 'microphone', 'relay', 'rtcPeerConnection', 'webCrypto', 'webBluetooth']) assert.equal(check.items[id], true, id);
    assert.match(check.demoNote, /Demo only/);
    await shoot(patient, '04-patient-check');
    await click(patient, '#continue');
    await until(patient, () => document.getElementById('name-error').hidden === false, null, 'name required');
    await typeIn(patient, '#name', 'Sam Patient');
    await click(patient, '#continue');

    // Consent: the notice, nothing ticked in advance; the patient ticks each box.
    await stepIs(patient, 'consent');
    const consentForm = await patient.evaluate(() => ({
      notice: document.getElementById('notice').textContent,
      ticked: [...document.querySelectorAll('#consent-form input:checked')].length,
    }));
    assert.match(consentForm.notice, /withdraw any consent at any time/);
    assert.equal(consentForm.ticked, 0, 'no pre-ticked boxes');
    await shoot(patient, '05-patient-consent');
    for (const box of ['#c-video', '#c-audio', '#c-files', '#c-hr', '#c-spo2', '#c-bp']) await click(patient, box);
    await click(patient, '#consent-give');

    // Waiting room on both sides.
    await stepIs(patient, 'waiting');
    await until(patient, () => document.getElementById('state-pill').dataset.state === 'waiting', null, 'patient waiting');
    await shoot(patient, '06-patient-waiting');
    await until(doc, () => document.querySelector('#waiting-list li strong')?.textContent === 'Sam Patient', null, 'patient in the waiting list');
    await shoot(doc, '07-clinician-waiting-room');

    // Admit.
    const admitAt = Date.now();
    await click(doc, '#waiting-list li button.admit');
    await stepIs(patient, 'call');
    await until(patient, () => document.getElementById('state-pill').dataset.state === 'connected', null, 'patient connected');
    await until(doc, () => document.getElementById('state-pill').dataset.state === 'connected', null, 'clinician connected');
    t.diagnostic(`let in → both pages connected: ${Date.now() - admitAt} ms (includes CDP polling)`);
    assert.equal(await doc.$eval('#waiting-list', (l) => l.children.length), 0, 'the waiting room is empty');
    // Once the patient is in, the console no longer shows the link or its QR code (screen sharing).
    const invite = await doc.evaluate(() => ({
      collapsed: document.getElementById('invite-card').dataset.collapsed,
      fullHidden: document.getElementById('invite-full').hidden,
      qr: document.querySelectorAll('#qr svg').length,
      value: document.getElementById('patient-link').value,
      html: document.body.innerHTML,
    }));
    assert.equal(invite.collapsed, 'true');
    assert.equal(invite.fullHidden, true);
    assert.equal(invite.qr, 0, 'the QR code is gone');
    assert.equal(invite.value, '');
    assert.ok(!invite.html.includes(secret), 'the room secret is nowhere on the console page');

    // The same SAS on both pages.
    await until(doc, () => document.querySelector('#sas .sas-digits'), null, 'clinician SAS');
    await until(patient, () => document.querySelector('#sas .sas-digits'), null, 'patient SAS');
    const sasOf = (page) => page.evaluate(() => ({
      digits: document.querySelector('#sas .sas-digits').dataset.digits,
      emoji: [...document.querySelectorAll('#sas .sas-emoji li')].map((li) => li.textContent),
    }));
    const [sasDoc, sasPat] = [await sasOf(doc), await sasOf(patient)];
    assert.match(sasDoc.digits, /^\d{6}$/);
    assert.equal(sasDoc.emoji.length, 7);
    assert.deepEqual(sasPat, sasDoc, 'both pages show the same code');
    assert.match(await patient.$eval('#call-title', (e) => e.textContent), /Dr Alex Rivera/);
    assert.match(await doc.$eval('#visit-title', (e) => e.textContent), /Sam Patient/);

    // Confirm on both sides, with clicks.
    await click(patient, '#sas-confirm');
    await until(doc, () => document.getElementById('sas-status').textContent.includes('Sam Patient confirmed'), null, 'clinician sees the patient confirmed');
    await click(doc, '#sas-confirm');
    await until(doc, () => document.getElementById('sas-card').dataset.verified === 'true', null, 'clinician verified');
    await until(patient, () => document.getElementById('sas-card').dataset.verified === 'true', null, 'patient verified');

    // Video both ways: frames decoded keep increasing, and the page's <video> shows them.
    const ids = await Promise.all([doc, patient].map((p) => p.evaluate(() => window.demo.consultation.participantId)));
    await framesIncrease(doc, ids[1], 'clinician receiving patient video');
    await framesIncrease(patient, ids[0], 'patient receiving clinician video');
    for (const p of [doc, patient]) {
      await until(p, () => document.getElementById('remote').videoWidth > 0 && document.getElementById('self').videoWidth > 0, null, 'videos playing');
    }
    // Consent reached the clinician: every category given, the signed record verified.
    await until(doc, () => document.querySelectorAll('#consent-list li[data-state="active"]').length === 6, null, 'clinician sees six consents');
    await until(doc, () => document.getElementById('consent-status').dataset.verified === 'true', null, 'consent record verified');
    await until(patient, () => document.getElementById('consent-card-status').dataset.countersigned === 'true', null, 'patient record countersigned');

    // Vitals: the patient turns on the simulated device; the clinician's charts fill.
    await click(patient, '#simulate-device');
    const count = (page, vital) => page.evaluate((v) => Number(document.querySelector(`.vital[data-vital="${v}"]`)?.dataset.count ?? 0), vital);
    await until(doc, () => ['heart-rate', 'spo2', 'blood-pressure'].every((v) => Number(document.querySelector(`.vital[data-vital="${v}"]`).dataset.count ?? 0) >= 1)
      && Number(document.querySelector('.vital[data-vital="heart-rate"]').dataset.count) >= 3, null, 'charts filling');
    await until(patient, () => document.querySelectorAll('#readings li[data-status="shared"]').length === 3, null, 'patient sees readings shared');
    await shoot(patient, '08-patient-call');
    await shoot(doc, '09-clinician-call');

    // Chat: the patient writes, the clinician reads and answers; marks and text on both pages.
    await patient.type('#chat-input', 'My throat is sore since Monday');
    await click(patient, '#chat-form button[type="submit"]');
    await until(doc, () => document.querySelector('#chat-log li.chat-other .chat-text')?.textContent === 'My throat is sore since Monday', null, 'clinician sees the chat message');
    // Delivered at once; read once the clinician's tab is in view (it is in the background here).
    await until(patient, () => document.querySelector('#chat-log li.chat-own')?.dataset.status === 'delivered', null, 'patient sees it delivered');
    await doc.bringToFront();
    await until(patient, () => document.querySelector('#chat-log li.chat-own')?.dataset.status === 'read', null, 'patient sees it read');
    await patient.bringToFront();
    await doc.type('#chat-input', 'Thank you, I will take a look');
    await click(doc, '#chat-form button[type="submit"]');
    await until(patient, () => document.querySelectorAll('#chat-log li').length === 2, null, 'patient sees the answer');
    await shoot(patient, '09a-patient-chat');
    await shoot(doc, '09b-clinician-chat');

    // Screen sharing: the clinician shows its screen from the console; the patient is told who
    // shares and sees it below the call; the clinician stops and the patient's view goes.
    await click(doc, '#share-screen');
    await until(patient, () => !document.getElementById('screen-share').hidden
      && document.getElementById('screen-video').srcObject?.getVideoTracks().length === 1, null, 'patient sees the shared screen');
    assert.match(await patient.$eval('#screen-share-note', (e) => e.textContent), /Dr .* is sharing their screen/);
    assert.equal(await doc.$eval('#share-screen', (e) => e.getAttribute('aria-pressed')), 'true');
    await shoot(patient, '09c-patient-screen-shared');
    await shoot(doc, '09d-clinician-sharing');
    await click(doc, '#share-screen');
    await until(patient, () => document.getElementById('screen-share').hidden, null, 'patient sees the share end');
    assert.equal(await doc.$eval('#share-screen', (e) => e.textContent), 'Share screen');

    // A photo: the patient sends the demo's sample; it arrives whole (the SDK checked its
    // SHA-256) and the console shows it, as the browser decodes it.
    await click(patient, '#photo-sample');
    await until(patient, () => /delivered to your clinician/.test(document.getElementById('photo-note').textContent), null, 'patient sees the photo delivered');
    await until(doc, () => { const img = document.querySelector('#photo-list img'); return img?.complete && img.naturalWidth === 240; }, null, 'clinician sees the photo');
    assert.match(await doc.$eval('#photo-list li .hint', (e) => e.textContent), /From the patient, .*sample-photo\.png · 15 KB · checked on arrival/);
    await shoot(patient, '09e-patient-photo-sent');
    await shoot(doc, '09f-clinician-photo');

    // Withdrawal is one click and takes effect at once on both sides.
    const withdrawAt = Date.now();
    await click(patient, '#consent-list li[data-category="heart-rate"] button.withdraw');
    await until(doc, () => document.querySelector('#consent-list li[data-category="heart-rate"]').dataset.state === 'withdrawn', null, 'clinician sees the withdrawal');
    t.diagnostic(`withdraw click → clinician panel shows it: ${Date.now() - withdrawAt} ms (includes CDP polling)`);
    await until(patient, () => document.querySelector('#readings li[data-category="heart-rate"]')?.dataset.status === 'withheld', null, 'heart rate withheld');
    const hrAfter = await count(doc, 'heart-rate');
    const spo2After = await count(doc, 'spo2');
    await until(doc, (n) => Number(document.querySelector('.vital[data-vital="spo2"]').dataset.count) >= n + 2, spo2After, 'SpO2 keeps coming');
    assert.ok(await count(doc, 'heart-rate') <= hrAfter + 1, 'no heart rate after the withdrawal (one may have been in flight)');
    assert.equal(await patient.$eval('#consent-list li[data-category="heart-rate"] button', (b) => b.textContent), 'Give consent');
    await shoot(patient, '10-patient-withdrawn');

    // The clinician exports the visit record: Observations, Consents and the signed ledger.
    const downloads = join(ARTIFACTS, 'downloads');
    mkdirSync(downloads, { recursive: true });
    const cdp = await doc.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await click(doc, '#export');
    await until(doc, () => /^Exported/.test(document.getElementById('export-status').textContent), null, 'export done');
    const file = await waitForFile(downloads);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(bundle.resourceType, 'Bundle');
    const types = bundle.entry.map((e) => e.resource.resourceType);
    const observations = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'Observation');
    assert.ok(observations.length >= 5, 'observations exported');
    assert.ok(observations.every((o) => o.meta?.tag?.some((t) => t.code === 'simulated-device')), 'simulated readings are tagged as such');
    assert.equal(types.filter((t) => t === 'Consent').length, 6);
    // The photo: a Media pointing at its Binary, whose bytes are the sample's.
    const media = bundle.entry.find((e) => e.resource.resourceType === 'Media');
    assert.equal(media.resource.content.contentType, 'image/png');
    // FHIR resolves a relative reference against the base of the citing entry's fullUrl.
    const photoUrl = media.fullUrl.replace(/Media\/[^/]+$/, '') + media.resource.content.url;
    const photo = bundle.entry.find((e) => e.fullUrl === photoUrl);
    assert.deepEqual(Buffer.from(photo.resource.data, 'base64'), readFileSync(join(root, 'www/sample-photo.png')), 'the exported photo is the one sent');
    const communications = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'Communication');
    assert.deepEqual(communications.map((r) => r.payload[0].contentString), ['My throat is sore since Monday', 'Thank you, I will take a look'], 'the chat is in the visit record');
    const hrConsent = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === 'Consent' && JSON.stringify(r.provision.code).includes('8867-4'));
    assert.equal(hrConsent.status, 'inactive', 'the withdrawn heart-rate consent is inactive');
    const binary = bundle.entry.find((e) => e.resource.resourceType === 'Binary' && e.resource.contentType.includes('consent-ledger')).resource;
    const ledger = JSON.parse(Buffer.from(binary.data, 'base64').toString('utf8'));
    const { verifyLedger } = await import(join(root, 'pkg/node.mjs'));
    const summary = verifyLedger(Buffer.from(ledger.ledger, 'base64'), ledger.patientPublicKey,
      { bytes: Buffer.from(ledger.checkpoint.bytes, 'base64'), clinicianPublicKey: ledger.checkpoint.clinicianPublicKey });
    assert.equal(summary.entries, 8, 'six grants, the verified code and one withdrawal, verified offline');
    assert.equal(summary.withdrawnGrants, 1);
    await shoot(doc, '11-clinician-exported');

    // Mute is a real toggle.
    await click(patient, '#mute');
    assert.equal(await patient.$eval('#mute', (b) => b.textContent), 'Unmute microphone');
    assert.equal(await patient.evaluate(() => window.demo.consultation.localStream.getAudioTracks()[0].enabled), false);
    await click(patient, '#mute');

    // The patient leaves; the clinician is told; the clinician ends the visit.
    await click(patient, '#hangup');
    await stepIs(patient, 'ended');
    assert.match(await patient.$eval('#end-reason', (e) => e.textContent), /You left the visit/);
    await shoot(patient, '12-patient-ended');
    await until(doc, () => document.getElementById('activity').textContent.includes('Sam Patient left the visit'), null, 'clinician sees the patient leave');

    // The patient comes back with "Join again": the waiting room again, let in again, a new code.
    await click(patient, '#rejoin');
    await stepIs(patient, 'waiting');
    await until(doc, () => document.querySelector('#waiting-list li button.admit'), null, 'patient waiting again');
    await click(doc, '#waiting-list li button.admit');
    await stepIs(patient, 'call');
    await until(patient, () => document.getElementById('state-pill').dataset.state === 'connected', null, 'connected again');
    await until(patient, () => !document.getElementById('sas-confirm').disabled, null, 'a new code');
    const again = await sasOf(patient);
    await until(doc, (d) => document.querySelector('#sas .sas-digits')?.dataset.digits === d, again.digits, 'the clinician shows the new code');
    // New keys, a new code: on both pages it is shown as changed and NOT verified, per participant,
    // until both confirm it again.
    assert.notEqual(again.digits, sasDoc.digits, 'a new code');
    for (const page of [doc, patient]) {
      const card = await page.evaluate(() => ({ ...document.getElementById('sas-card').dataset, status: document.getElementById('sas-status').textContent }));
      assert.equal(card.verified, 'false');
      assert.equal(card.changed, 'true');
      assert.match(card.status, /NOT verified/);
    }
    await click(patient, '#sas-confirm');
    await until(doc, () => document.getElementById('sas-status').textContent.includes('Sam Patient confirmed'), null, 'the patient confirmed the new code');
    await click(doc, '#sas-confirm');
    for (const page of [doc, patient]) {
      await until(page, () => document.getElementById('sas-card').dataset.verified === 'true' && document.getElementById('sas-card').dataset.changed === 'false', null, 'the new code verified');
    }

    // The clinician ends the visit for everyone.
    await click(doc, '#end-visit');
    await stepIs(doc, 'ended');
    await stepIs(patient, 'ended');
    assert.match(await patient.$eval('#end-reason', (e) => e.textContent), /clinician ended/);
    assert.match(await doc.$eval('#end-summary', (e) => e.textContent), /readings/);
    await shoot(doc, '13-clinician-ended');

    // And can start another visit, with a new room.
    await click(doc, '#new-visit');
    await stepIs(doc, 'start');
    await click(doc, '#start-visit');
    await stepIs(doc, 'visit');
    assert.notEqual(await doc.$eval('#patient-link', (i) => i.value), link, 'a new room');
    assert.equal(await doc.$eval('.vital[data-vital="heart-rate"]', (e) => e.dataset.count ?? '0'), '0', 'a clean vitals panel');

    assert.deepEqual(doc.errors, [], 'no errors on the clinician page');
    assert.deepEqual(patient.errors, [], 'no errors on the patient page');
  } finally {
    await browser.close();
  }
});

test('the patient page without the secret in the link explains what to do', async () => {
  const browser = await launchBrowser();
  try {
    const page = await openPage(browser, `${relay.url}/patient.html`);
    await stepIs(page, 'nolink');
    assert.match(await page.$eval('[data-step="nolink"] h1', (e) => e.textContent), /not complete/);
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
  }
});

/** A visit's invite made on a blank page of the relay's origin, with no clinician in the room. */
async function inviteWithoutClinician(browser) {
  const helper = await openPage(browser, `${relay.url}/`);
  const invite = await helper.evaluate(async () => {
    const { createInvite } = await import('/pkg/index.js');
    return createInvite(`${location.origin}/patient.html`, `${location.origin}/clinician.html`);
  });
  return { helper, invite };
}

test('a patient who arrives before the clinician waits, then is let in', async () => {
  const browser = await launchBrowser();
  try {
    // The clinician's tab creates the invite but has not joined yet: build the link by hand.
    const { helper, invite } = await inviteWithoutClinician(browser);
    const patient = await openPage(browser, invite.patientLink);
    await until(patient, () => document.getElementById('summary').dataset.checked === 'true', null, 'patient check');
    await typeIn(patient, '#name', 'Early Patient');
    await click(patient, '#continue');
    await stepIs(patient, 'consent');
    await click(patient, '#consent-skip');
    await until(patient, () => /not opened the visit yet/.test(document.getElementById('waiting-text').textContent), null, 'told the clinician is not there yet');
    // The clinician opens the room now (through the SDK on the helper page).
    await helper.evaluate(async (link) => {
      const { Consultation } = await import('/pkg/index.js');
      const room = new URLSearchParams(link.split('#')[1]).get('r');
      const { token } = await (await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room, role: 'clinician' }) })).json();
      const c = await Consultation.join({ link, relayUrl: `${location.origin.replace('http', 'ws')}/ws`, token, role: 'clinician', displayName: 'Dr Late' });
      c.addEventListener('admissionrequested', (e) => c.admit(e.detail.participant.id));
      window.c = c;
    }, invite.clinicianLink);
    await stepIs(patient, 'call');
    await until(patient, () => /Dr Late/.test(document.getElementById('call-title').textContent), null, 'clinician name shown');
    assert.deepEqual(patient.errors, []);
    await helper.evaluate(() => window.c.hangUp(true));
    await stepIs(patient, 'ended');
    assert.match(await patient.$eval('#end-reason', (e) => e.textContent), /clinician ended/);
    assert.equal(await patient.$eval('#rejoin', (b) => b.hidden), true, 'no "Join again" into a visit the clinician ended');
  } finally {
    await browser.close();
  }
});

test('the same patient link in a second tab says the visit is open elsewhere before asking anything, and takes over when the first tab closes', async () => {
  const browser = await launchBrowser();
  try {
    const { doc, link } = await openVisit(browser);
    const first = await openPage(browser, link);
    await stepIs(first, 'check');
    const second = await openPage(browser, link);
    await stepIs(second, 'elsewhere');
    assert.match(await second.$eval('#elsewhere-title', (e) => e.textContent), /already open in another tab/);
    assert.equal(await second.evaluate(() => document.getElementById('name').closest('[data-step]').hidden), true, 'nothing asked in the second tab');
    await first.close();
    await stepIs(second, 'check');
    assert.deepEqual([...doc.errors, ...second.errors], []);
  } finally {
    await browser.close();
  }
});

test('a patient link with a wrong secret: within seconds both sides are told the link does not match, in plain words', async () => {
  const browser = await launchBrowser();
  try {
    const visit = await openVisit(browser);
    const doc = visit.doc;
    const link = new URL(visit.link);
    const params = new URLSearchParams(link.hash.slice(1));
    const k = params.get('k');
    params.set('k', (k[0] === 'A' ? 'B' : 'A') + k.slice(1)); // one character off: another secret
    link.hash = params.toString();
    const patient = await patientAtConsent(browser, link.href);
    await click(patient, '#consent-skip');
    const started = Date.now();
    await stepIs(patient, 'ended');
    assert.ok(Date.now() - started < 15_000, 'told within seconds, not after a handshake timeout');
    assert.equal(await patient.$eval('#ended-title', (e) => e.textContent), 'This link does not match the visit');
    assert.match(await patient.$eval('#end-reason', (e) => e.textContent), /incomplete or belongs to another visit/);
    assert.equal(await patient.$eval('#rejoin', (b) => b.hidden), true);
    await until(doc, () => /does not match this visit/.test(document.getElementById('alert').textContent), null, 'the clinician is told');
    assert.deepEqual([...doc.errors, ...patient.errors], []);
  } finally {
    await browser.close();
  }
});

test('a link to a visit that is not open (a wrong room, or one that ended) stops trying and says so', async () => {
  const browser = await launchBrowser();
  try {
    const { invite } = await inviteWithoutClinician(browser);
    // Nobody ever opens this room: to the relay it is the same as a garbled or ended one.
    const patient = await browser.newPage();
    await patient.evaluateOnNewDocument(() => { window.demoJoinRetry = { everyMs: 200, attempts: 3 }; });
    await patient.goto(invite.patientLink, { waitUntil: 'load' });
    await until(patient, () => document.getElementById('summary').dataset.checked === 'true', null, 'patient check');
    await typeIn(patient, '#name', 'Sam Patient');
    await click(patient, '#continue');
    await stepIs(patient, 'consent');
    await click(patient, '#consent-skip');
    await stepIs(patient, 'ended');
    assert.equal(await patient.$eval('#ended-title', (e) => e.textContent), 'This visit is not open');
    assert.match(await patient.$eval('#end-reason', (e) => e.textContent), /not have started yet.*ended.*link/);
    assert.equal(await patient.$eval('#state-pill', (e) => e.textContent), 'Visit not open');
    assert.equal(await patient.$eval('#rejoin', (b) => !b.hidden && b.textContent), 'Try again');
    assert.deepEqual(await patient.evaluate(() => document.getElementById('waiting-text').closest('[data-step]').hidden), true, 'the waiting room is gone');
  } finally {
    await browser.close();
  }
});

/** A clinician console that started a visit, and the visit's patient link. */
async function openVisit(browser, size = {}) {
  const doc = await openPage(browser, `${relay.url}/clinician.html`, size);
  await click(doc, '#start-visit');
  await stepIs(doc, 'visit');
  return { doc, link: await doc.$eval('#patient-link', (i) => i.value) };
}

/**
 * A patient page at `link`, through the device check (`atCheck` runs there) and the name, at
 * the consent step; other options go to `openPage`.
 */
async function patientAtConsent(browser, link, { name = 'Sam Patient', atCheck, ...pageOptions } = {}) {
  const patient = await openPage(browser, link, pageOptions);
  await until(patient, () => document.getElementById('summary').dataset.checked === 'true', null, 'patient check');
  await atCheck?.(patient);
  await typeIn(patient, '#name', name);
  await click(patient, '#continue');
  await stepIs(patient, 'consent');
  return patient;
}

/** A clinician console and a patient page in one visit, admitted and connected, by clicks. */
async function startVisit(browser, { consent = ['#c-video', '#c-audio', '#c-hr', '#c-spo2', '#c-bp'], size = {}, atCheck, atConsent } = {}) {
  const { doc, link } = await openVisit(browser, size);
  const patient = await patientAtConsent(browser, link, { atCheck, ...size });
  await atConsent?.(patient);
  for (const box of consent) await click(patient, box);
  await click(patient, consent.length ? '#consent-give' : '#consent-skip');
  await until(doc, () => document.querySelector('#waiting-list li button.admit'), null, 'patient waiting');
  await click(doc, '#waiting-list li button.admit');
  await stepIs(patient, 'call');
  await until(doc, () => document.getElementById('consent-status').dataset.verified === 'true' || !document.querySelector('#consent-list li'), null, 'consent synced');
  return { doc, patient };
}

const uuid = (short) => `0000${short}-0000-1000-8000-00805f9b34fb`;
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/**
 * An emulated Bluetooth heart-rate monitor (CDP BluetoothEmulation on a browser-level
 * session). `send(page, deviceId, bytes)` makes it "notify": Chromium has no command to push
 * a notification, so the page reads the characteristic and the read is answered with `bytes`.
 */
async function emulatedHeartRateMonitor(browser) {
  const bt = await browser.target().createCDPSession();
  const values = new Map();
  await bt.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
  bt.on('BluetoothEmulation.gattOperationReceived', ({ address, type }) => {
    bt.send('BluetoothEmulation.simulateGATTOperationResponse', { address, type, code: 0 }).catch(() => {});
  });
  bt.on('BluetoothEmulation.characteristicOperationReceived', ({ characteristicId, type }) => {
    const answer = { characteristicId, type, code: 0 };
    if (type === 'read') answer.data = b64(values.get(characteristicId) ?? []);
    bt.send('BluetoothEmulation.simulateCharacteristicOperationResponse', answer).catch(() => {});
  });
  bt.on('BluetoothEmulation.descriptorOperationReceived', ({ descriptorId, type }) => {
    const answer = { descriptorId, type, code: 0 };
    if (type === 'read') answer.data = b64([0, 0]);
    bt.send('BluetoothEmulation.simulateDescriptorOperationResponse', answer).catch(() => {});
  });
  const address = '09:09:09:09:09:0D';
  await bt.send('BluetoothEmulation.simulatePreconnectedPeripheral', { address, name: 'Chest strap', manufacturerData: [], knownServiceUuids: [uuid('180d')] });
  const { serviceId } = await bt.send('BluetoothEmulation.addService', { address, serviceUuid: uuid('180d') });
  const { characteristicId: measurement } = await bt.send('BluetoothEmulation.addCharacteristic', { serviceId, characteristicUuid: uuid('2a37'), properties: { read: true, notify: true } });
  await bt.send('BluetoothEmulation.addDescriptor', { characteristicId: measurement, descriptorUuid: uuid('2902') });
  const { serviceId: dis } = await bt.send('BluetoothEmulation.addService', { address, serviceUuid: uuid('180a') });
  const { characteristicId: maker } = await bt.send('BluetoothEmulation.addCharacteristic', { serviceId: dis, characteristicUuid: uuid('2a29'), properties: { read: true } });
  values.set(maker, [...Buffer.from('Acme Medical')]);
  return {
    address,
    /** Answers the page's device chooser with this monitor (each prompt once). */
    async chooseIn(page) {
      const s = await page.createCDPSession();
      await s.send('DeviceAccess.enable');
      const answered = new Set();
      s.on('DeviceAccess.deviceRequestPrompted', ({ id, devices }) => {
        if (answered.has(id) || !devices.some((d) => d.id === address)) return;
        answered.add(id);
        s.send('DeviceAccess.selectPrompt', { id, deviceId: address }).catch(() => {});
      });
    },
    async send(page, bytes) {
      values.set(measurement, bytes);
      await page.evaluate(async (service, characteristic) => {
        const [dev] = await navigator.bluetooth.getDevices();
        const c = await (await dev.gatt.getPrimaryService(service)).getCharacteristic(characteristic);
        await c.readValue();
      }, uuid('180d'), uuid('2a37'));
    },
    detach: () => bt.detach().catch(() => {}),
  };
}

test('a patient connects a Bluetooth heart-rate monitor with a click; the clinician charts its readings with provenance', { skip: chromiumOnly }, async () => {
  const browser = await launchBrowser({ webBluetooth: true });
  const monitor = await emulatedHeartRateMonitor(browser);
  try {
    const { doc, patient } = await startVisit(browser);
    await monitor.chooseIn(patient);
    await click(patient, '#connect-device');
    await until(patient, () => /Connected: Chest strap/.test(document.getElementById('devices-status').textContent), null, 'monitor connected');
    for (const bpm of [64, 66, 71]) {
      await monitor.send(patient, [0x00, bpm]);
      await until(doc, (n) => document.querySelector('.vital[data-vital="heart-rate"] .latest')?.textContent.startsWith(String(n)), bpm, `clinician sees ${bpm}/min`);
    }
    await until(patient, () => document.querySelector('#readings li[data-category="heart-rate"]')?.dataset.status === 'shared', null, 'shared on the patient page');
    const meta = await doc.$eval('.vital[data-vital="heart-rate"] .meta', (e) => e.textContent);
    assert.match(meta, /^3 readings/);
    assert.doesNotMatch(meta, /simulated/, 'a real device is not labelled simulated');
    // The FHIR Observation the clinician would export names the device and the code.
    const obs = await doc.evaluate(() => [...window.demo.extras.readings.values()].map((r) => r.observations[0]));
    assert.deepEqual(obs.map((o) => o.valueQuantity.value), [64, 66, 71]);
    assert.equal(obs[0].code.coding[0].code, '8867-4');
    assert.match(obs[0].device.reference, /^Device\/phd-[0-9a-f]{16}$/);
    assert.deepEqual([...doc.errors, ...patient.errors], []);
  } finally {
    await monitor.detach();
    await browser.close();
  }
});

/**
 * Presses Tab until `selector` has focus (fails after `max` presses): reachable by keyboard.
 * Shift+Tab when the target comes before the focused element, as a person would: tabbing
 * past the end of the page goes through the browser's own controls, and headless Firefox
 * then leaves the page without focus, where Enter on a button does nothing.
 */
async function tabTo(page, selector, max = 60) {
  await page.bringToFront();
  const back = await page.evaluate((s) => {
    const target = document.querySelector(s);
    return Boolean(target && document.activeElement && document.activeElement !== document.body
      && target.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING);
  }, selector);
  if (back) await page.keyboard.down('Shift');
  try {
    for (let i = 0; i < max; i++) {
      if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return i;
      await page.keyboard.press('Tab');
    }
  } finally {
    if (back) await page.keyboard.up('Shift');
  }
  throw new Error(`${selector} not reached with ${max} Tab presses`);
}

test('the whole visit works with the keyboard alone, and focus follows each step', async () => {
  const browser = await launchBrowser();
  try {
    const doc = await openPage(browser, `${relay.url}/clinician.html`);
    await until(doc, () => document.body.dataset.screen === 'start', null, 'start screen');
    await tabTo(doc, '#start-visit');
    await doc.keyboard.press('Enter');
    await stepIs(doc, 'visit');
    assert.equal(await doc.evaluate(() => document.activeElement.id), 'visit-title', 'focus moves to the new step\'s heading');
    const link = await doc.$eval('#patient-link', (i) => i.value);

    const patient = await openPage(browser, link);
    await until(patient, () => document.getElementById('summary').dataset.checked === 'true', null, 'check');
    await tabTo(patient, '#name');
    await patient.keyboard.type('Kim Keyboard');
    await patient.keyboard.press('Enter');
    await stepIs(patient, 'consent');
    assert.equal(await patient.evaluate(() => document.activeElement.id), 'consent-title');
    for (const box of ['#c-video', '#c-audio', '#c-spo2']) {
      await tabTo(patient, box);
      await patient.keyboard.press(' '); // not 'Space': puppeteer's BiDi keyboard (Firefox) lacks that name
    }
    await tabTo(patient, '#consent-give');
    await patient.keyboard.press('Enter');
    await stepIs(patient, 'waiting');

    await until(doc, () => document.querySelector('#waiting-list li button.admit'), null, 'waiting');
    await tabTo(doc, '#waiting-list li button.admit');
    await doc.keyboard.press('Enter');
    await stepIs(patient, 'call');
    assert.equal(await patient.evaluate(() => document.activeElement.id), 'call-title');

    await until(patient, () => !document.getElementById('sas-confirm').disabled, null, 'code shown');
    await tabTo(patient, '#sas-confirm');
    await patient.keyboard.press('Enter');
    await until(doc, () => !document.getElementById('sas-card').hidden && !document.getElementById('sas-confirm').disabled, null, 'clinician code');
    await tabTo(doc, '#sas-confirm');
    await doc.keyboard.press('Enter');
    await until(patient, () => document.getElementById('sas-card').dataset.verified === 'true', null, 'verified');

    // Withdrawing is as reachable as granting: a few Tab presses, one key; focus stays on the row.
    const presses = await tabTo(patient, '#consent-list li[data-category="spo2"] button.withdraw');
    assert.ok(presses < 30, `withdraw reached in ${presses} Tab presses`);
    await patient.keyboard.press('Enter');
    await until(patient, () => document.activeElement?.matches('#consent-list li[data-category="spo2"] button.give'), null, 'focus on the same row');
    await until(doc, () => document.querySelector('#consent-list li[data-category="spo2"]').dataset.state === 'withdrawn', null, 'clinician sees it');

    await tabTo(patient, '#hangup');
    await patient.keyboard.press('Enter');
    await stepIs(patient, 'ended');
    assert.deepEqual([...doc.errors, ...patient.errors], []);
  } finally {
    await browser.close();
  }
});

test('a patient whose camera is blocked sees and hears the clinician, and is told the camera, not consent, is why no video is sent', async () => {
  const browser = await launchBrowser();
  try {
    const { doc, link } = await openVisit(browser);
    const patient = await patientAtConsent(browser, link, {
      blockCamera: true,
      // The check names the button to press exactly as it reads.
      atCheck: async (page) => {
        const recheck = await page.evaluate(() => ({
          reason: [...document.querySelectorAll('#checks li[data-capability="camera"] .reason')].map((e) => e.textContent).join(' '),
          button: document.getElementById('recheck').textContent,
        }));
        assert.ok(recheck.reason.includes(`"${recheck.button}"`), `${recheck.reason} names "${recheck.button}"`);
      },
    });
    for (const box of ['#c-video', '#c-audio']) await click(patient, box);
    await click(patient, '#consent-give');
    await until(doc, () => document.querySelector('#waiting-list li button.admit'), null, 'patient waiting');
    await click(doc, '#waiting-list li button.admit');
    await stepIs(patient, 'call');
    const sending = await patient.$eval('#sending', (e) => e.textContent);
    assert.match(sending, /not sending your video: your camera is blocked/);
    assert.doesNotMatch(sending, /consent/i, 'video consent was given: the camera is the reason');
    const ids = await Promise.all([doc, patient].map((p) => p.evaluate(() => window.demo.consultation.participantId)));
    await framesIncrease(patient, ids[0], 'patient receiving clinician video');
    assert.equal(await patient.evaluate((id) => window.demo.consultation.remoteStream(id).getAudioTracks().length, ids[0]), 1);
    // The console says so over the (empty) picture, instead of a connection badge over black.
    await until(doc, () => document.querySelector('.stage').dataset.video === 'off', null, 'the console says the camera is off');
    const stage = await doc.evaluate(() => ({
      text: !document.getElementById('remote-off').hidden && document.getElementById('remote-off').textContent,
      badge: getComputedStyle(document.getElementById('quality')).display,
    }));
    assert.equal(stage.text, 'Sam Patient\'s camera is off');
    assert.equal(stage.badge, 'none', 'no connection badge over the empty picture');
    await shoot(doc, '15-clinician-patient-camera-off');
    assert.deepEqual([...doc.errors, ...patient.errors], []);
  } finally {
    await browser.close();
  }
});

test('a patient the clinician turns away is told so plainly, without a way to rejoin', async () => {
  const browser = await launchBrowser();
  try {
    const { doc, link } = await openVisit(browser);
    const patient = await patientAtConsent(browser, link, { name: 'Unexpected Person' });
    await click(patient, '#consent-skip');
    await until(doc, () => document.querySelector('#waiting-list li strong')?.textContent === 'Unexpected Person', null, 'in the waiting room');
    await click(doc, '#waiting-list li button.deny');
    await stepIs(patient, 'ended');
    assert.match(await patient.$eval('#end-reason', (e) => e.textContent), /could not admit you/);
    assert.equal(await patient.$eval('#rejoin', (b) => b.hidden), true);
    await until(doc, () => document.getElementById('waiting-list').children.length === 0, null, 'the waiting room is empty');
    assert.equal(await doc.evaluate(() => document.body.dataset.screen), 'visit', 'the room stays open');
    assert.deepEqual([...doc.errors, ...patient.errors], []);
  } finally {
    await browser.close();
  }
});

test('a patient who reloads mid-visit rejoins from the tab\'s link with the consent on the device shown as given, and is back in the call without a new admission or a new code to compare', async () => {
  const browser = await launchBrowser();
  try {
    const { doc, patient } = await startVisit(browser);
    const code = (page) => page.evaluate(() => document.querySelector('#sas .sas-digits')?.dataset.digits);
    await until(patient, () => !document.getElementById('sas-confirm').disabled, null, 'the first code');
    const first = await code(patient);
    await click(patient, '#sas-confirm');
    await until(doc, () => !document.getElementById('sas-confirm').disabled, null, 'clinician code');
    await click(doc, '#sas-confirm');
    await until(patient, () => document.getElementById('sas-card').dataset.verified === 'true', null, 'verified');

    // The patient's page restarts: no fragment in the address any more, the tab still has the link.
    assert.equal(await patient.evaluate(() => location.hash), '');
    const grants = () => patient.evaluate(() => window.demo.extras.manager.list().length);
    const grantsBefore = await grants();
    assert.equal(grantsBefore, 5);
    await patient.reload({ waitUntil: 'load' });
    await until(patient, () => document.getElementById('summary')?.dataset.checked === 'true', null, 'check after the reload');
    assert.notEqual(await patient.evaluate(() => document.body.dataset.screen), 'nolink', 'the link survived the reload in the tab');
    await click(patient, '#continue');
    await stepIs(patient, 'consent');
    // The grants stored on this device show as given, not as a new question.
    const form = await patient.evaluate(() => ({
      ticked: [...document.querySelectorAll('#consent-form input[data-category]')].filter((i) => i.checked).map((i) => i.dataset.category),
      given: document.getElementById('consent-form').dataset.given,
      note: !document.getElementById('consent-given').hidden && document.getElementById('consent-given').textContent,
      hint: document.getElementById('consent-hint').textContent,
      button: document.getElementById('consent-give').textContent,
      skip: document.getElementById('consent-skip').hidden,
    }));
    assert.deepEqual(form.ticked, ['video', 'audio', 'heart-rate', 'spo2', 'blood-pressure'], 'every stored grant is ticked');
    assert.equal(form.given, 'true');
    assert.match(form.note, /already gave consent on this device.*change them/s);
    assert.doesNotMatch(form.hint, /Nothing is ticked/);
    assert.equal(form.button, 'Continue with these choices');
    assert.equal(form.skip, true, 'no "Continue without giving consent" while consent is given');
    await shoot(patient, '14-patient-consent-after-reload');
    const waitingBefore = await doc.evaluate(() => document.getElementById('waiting-list').children.length);
    await click(patient, '#consent-give');
    assert.equal(await grants(), grantsBefore, 'no grant asked for or recorded again');
    // The tab's resume ticket lets the patient straight back in: the clinician clicks nothing.
    await stepIs(patient, 'call');
    await until(doc, () => [...document.querySelectorAll('#activity li')].some((li) => /reconnected \(their page reloaded\)/.test(li.textContent)), null, 'the console says the patient reconnected');
    assert.equal(await doc.evaluate(() => document.querySelectorAll('#waiting-list li button.admit').length), 0, 'no new waiting-room entry');
    assert.equal(await doc.evaluate(() => document.getElementById('waiting-list').children.length), waitingBefore);
    // New keys, a new code, but verified already on both pages: no new prompt.
    for (const page of [doc, patient]) {
      await until(page, () => document.getElementById('sas-card').dataset.verified === 'true', null, 'still verified');
      assert.equal(await page.evaluate(() => document.getElementById('sas-actions').hidden), true, 'no confirm buttons');
    }
    const second = await code(patient);
    assert.notEqual(second, first, 'new keys, a new code');
    assert.equal(await code(doc), second, 'both pages show the same code');
    assert.equal(await patient.evaluate(() => window.demo.resumed), true);
    await framesIncrease(doc, (await doc.evaluate(() => window.demo.focus)), 'the patient video after the reload');
    await shoot(doc, '14b-console-patient-reconnected');
    await shoot(patient, '14c-patient-back-in-call');
    assert.deepEqual(patient.errors, []);
  } finally {
    await browser.close();
  }
});

/** Where an element is in the viewport, scrolled to the top: `{ top, bottom }` in CSS px. */
const box = (page, selector) => page.evaluate((sel) => {
  window.scrollTo(0, 0);
  const r = document.querySelector(sel).getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, height: innerHeight };
}, selector);

test('the console tells the clinician what is true now: video withdrawn, vitals not current; its words and the code are right and in view at 1280×800', async () => {
  const browser = await launchBrowser();
  try {
    const FOLD = { width: 1280, height: 800 };
    const { doc, patient } = await startVisit(browser, {
      size: FOLD,
      // The patient's check page: the name field and "Continue" are above the fold.
      atCheck: async (page) => {
        for (const sel of ['#name', '#continue']) {
          const r = await box(page, sel);
          assert.ok(r.top >= 0 && r.bottom <= FOLD.height, `${sel} above the fold at 1280×800 (${JSON.stringify(r)})`);
        }
      },
      // An error text names the button exactly as it reads.
      atConsent: async (page) => {
        await click(page, '#consent-give');
        const texts = await page.evaluate(() => ({
          error: !document.getElementById('consent-error').hidden && document.getElementById('consent-error').textContent,
          skip: document.getElementById('consent-skip').textContent,
        }));
        assert.ok(texts.error.includes(`"${texts.skip}"`), `${texts.error} names "${texts.skip}"`);
      },
    });

    // The code card is above the fold on the console, next to the patient's picture.
    await until(doc, () => document.querySelector('#sas .sas-digits'), null, 'clinician code');
    await doc.setViewport(FOLD);
    for (const sel of ['#sas-card', '#sas-confirm']) {
      const r = await box(doc, sel);
      assert.ok(r.top >= 0 && r.bottom <= FOLD.height, `${sel} above the fold at 1280×800 (${JSON.stringify(r)})`);
    }

    // Wording: the patient's picture and consent are the patient's; SpO₂ with its capitals.
    const words = await doc.evaluate(() => ({
      video: document.querySelector('#consent-list li[data-category="video"] .what').textContent,
      audio: document.querySelector('#consent-list li[data-category="audio"] .what').textContent,
      remote: document.getElementById('remote').getAttribute('aria-label'),
      spo2: document.querySelector('.vital[data-vital="spo2"] h3').textContent,
      text: document.body.textContent,
    }));
    assert.equal(words.video, 'Patient\'s video');
    assert.equal(words.audio, 'Patient\'s voice');
    assert.equal(words.remote, 'Patient\'s video');
    assert.equal(words.spo2, 'Blood oxygen (SpO₂)');
    assert.doesNotMatch(words.text, /Your video|Your voice/, 'nothing on the console calls the patient\'s picture "your video"');
    for (const page of [doc, patient]) {
      // Every spelling of it on the page, the activity log's sentences included, is "SpO₂".
      const spellings = (await page.evaluate(() => document.body.textContent)).match(/spo[2₂]/gi) ?? [];
      assert.ok(spellings.length > 0 && spellings.every((m) => m === 'SpO₂'), `spelled ${[...new Set(spellings)]}`);
    }

    // Vitals: live while readings arrive; marked not current, with their age, once they stop.
    await until(doc, () => document.querySelector('.stage').dataset.video === 'on', null, 'the patient\'s picture is live');
    await click(patient, '#simulate-device');
    const hr = '.vital[data-vital="heart-rate"]';
    await until(doc, (sel) => Number(document.querySelector(sel).dataset.count ?? 0) >= 2 && document.querySelector(sel).dataset.stale === 'false', hr, 'heart rate live');
    assert.equal(await doc.$eval(`${hr} .freshness`, (e) => e.textContent), 'Live');
    await click(patient, '#simulate-device'); // stops the simulated devices
    // Instead of waiting 10 real seconds, the test shortens the threshold (read on every check).
    await doc.evaluate(() => { window.demoVitals = { staleAfterMs: 1500 }; });
    await until(doc, (sel) => document.querySelector(sel).dataset.stale === 'true', hr, 'heart rate marked not current');
    const first = await doc.$eval(`${hr} .freshness`, (e) => e.textContent);
    assert.match(first, /^Not current · last reading \d+ s ago$/);
    // The status line follows once every chart is stale (the others' last readings came a
    // little later than the heart rate's).
    await until(doc, () => /^Not current: the last reading from the patient's devices came \d+ s ago\./.test(document.getElementById('vitals-status').textContent), null, 'the status line says not current');
    // The age follows the clock without new readings.
    await until(doc, ([sel, before]) => document.querySelector(`${sel} .freshness`).textContent !== before, [hr, first], 'the age moves on');
    assert.match(await doc.$eval(`${hr} .freshness`, (e) => e.textContent), /^Not current · last reading \d+ s ago$/);
    await doc.evaluate(() => { window.demoVitals = { staleAfterMs: 60_000 }; }); // steady for the screenshots
    await shoot(doc, '16-clinician-vitals-not-current');
    await doc.evaluate(() => { window.demoVitals = { staleAfterMs: 1500 }; });
    await until(doc, (sel) => document.querySelector(sel).dataset.stale === 'true', hr, 'still not current');
    await doc.evaluate(() => { delete window.demoVitals; });
    await click(patient, '#simulate-device'); // the devices send again
    await until(doc, (sel) => document.querySelector(sel).dataset.stale === 'false' && document.querySelector(`${sel} .freshness`).textContent === 'Live', hr, 'live again');

    // The patient withdraws video: the stage says so, no "Good connection" over a black picture.
    await click(patient, '#consent-list li[data-category="video"] button.withdraw');
    await until(doc, () => document.querySelector('.stage').dataset.video === 'withdrawn', null, 'the stage says video was withdrawn');
    const stage = await doc.evaluate(() => ({
      text: !document.getElementById('remote-off').hidden && document.getElementById('remote-off').textContent,
      badge: getComputedStyle(document.getElementById('quality')).display,
    }));
    assert.equal(stage.text, 'Sam Patient withdrew consent for video');
    assert.equal(stage.badge, 'none');
    await click(patient, '#simulate-device'); // stop the readings: steady screenshots
    await shoot(doc, '17-clinician-video-withdrawn');
    // Given again: the picture comes back and the notice goes.
    await click(patient, '#consent-list li[data-category="video"] button.give');
    await until(doc, () => document.querySelector('.stage').dataset.video === 'on' && document.getElementById('remote-off').hidden, null, 'the picture is back');
    assert.deepEqual([...doc.errors, ...patient.errors], []);
  } finally {
    await browser.close();
  }
});
