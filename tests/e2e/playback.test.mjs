// Remote media under the autoplay rules of Safari and WKWebView, reproduced in Chromium with
// `--autoplay-policy=user-gesture-required`: an element attached with `attachMedia` that may
// not play yet raises one `playblocked` event, and `resumePlayback()` from a real click plays
// it (docs/BROWSERS.md, "Safari and WKWebView rules"). The patient page (pages/autoplay.html)
// runs by itself and reports on the console: DevTools evaluation would count as a gesture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchChromium, sdkPage, joinIn, testPages, engine } from './harness.mjs';

const skip = engine !== 'chromium' && 'the autoplay policy switch is a Chromium flag';
let relay, browser;
before(async () => {
  if (skip) return;
  relay = await startRelay({ www: testPages });
  browser = await launchChromium({ autoplayNeedsGesture: true });
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

/** Resolves to the words of the first console line `autoplay <word> …` of the page. */
function nextLine(page, word, timeout = 20_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${word}" from the page`)), timeout);
    page.on('console', function on(msg) {
      const parts = msg.text().split(' ');
      if (parts[0] !== 'autoplay' || parts[1] !== word) return;
      clearTimeout(timer);
      page.off('console', on);
      resolve(parts.slice(2));
    });
  });
}

test('a blocked play() gives one playblocked event; resumePlayback() from a click plays the clinician', { skip }, async () => {
  const clinician = await sdkPage(browser, relay);
  const patient = await browser.newPage();
  try {
    const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
    const doc = await joinIn(clinician, {
      link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
      token: await relay.token(invite.roomId, 'clinician'),
    }, { autoAdmit: true });
    const options = {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
      token: await relay.token(invite.roomId, 'patient'),
    };
    const blocked = nextLine(patient, 'playblocked');
    await patient.goto(`${relay.url}/autoplay.html#${encodeURIComponent(JSON.stringify(options))}`);
    const [from, paused] = await blocked;
    assert.equal(from, doc.id, 'the event names the clinician');
    assert.equal(paused, 'true', 'the browser refused to play');
    const playing = nextLine(patient, 'playing');
    const resumed = nextLine(patient, 'resumed');
    await patient.bringToFront();
    await patient.click('#resume');
    assert.deepEqual(await resumed, ['true']);
    await playing;
    assert.equal(await patient.$eval('#remote', (a) => a.paused), false);
    assert.equal(await patient.$eval('#remote', (a) => a.hasAttribute('playsinline')), true);
  } finally {
    await clinician.evaluate(() => window.c?.hangUp()).catch(() => {});
    await patient.close();
    await clinician.close();
  }
});
