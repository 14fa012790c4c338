// The demo's pre-call check as a patient sees it, in real Chromium through the real relay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, openPage, chromiumOnly } from './harness.mjs';

let relay;
before(async () => { relay = await startRelay(); });
after(async () => { await relay?.stop(); });

async function readCheck(page) {
  await page.waitForSelector('#summary:not([data-state="checking"])', { timeout: 10_000 });
  return page.evaluate(() => ({
    summary: document.getElementById('summary').textContent,
    state: document.getElementById('summary').dataset.state,
    version: document.getElementById('version').textContent,
    items: Object.fromEntries([...document.querySelectorAll('#checks li')].map((li) => [
      li.dataset.capability,
      { available: li.dataset.available === 'true', text: li.textContent },
    ])),
  }));
}

test('a browser with everything shows the patient that the visit can start', { skip: chromiumOnly }, async () => {
  const browser = await launchBrowser({ webBluetooth: true });
  try {
    const page = await openPage(browser, `${relay.url}/`);
    const check = await readCheck(page);
    assert.equal(check.state, 'ready');
    assert.match(check.summary, /ready for the video visit/);
    assert.match(check.version, /^\d+\.\d+\.\d+$/);
    for (const name of ['secureContext', 'rtcPeerConnection', 'getUserMedia', 'webSocket', 'webCrypto', 'webBluetooth', 'indexedDb']) {
      assert.equal(check.items[name]?.available, true, name);
    }
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
  }
});

test('without Web Bluetooth the visit can still start and the page explains the device bridge', async () => {
  const browser = await launchBrowser({ webBluetooth: false });
  try {
    const page = await openPage(browser, `${relay.url}/`);
    const check = await readCheck(page);
    assert.equal(check.state, 'ready', 'Bluetooth is optional for the visit');
    assert.equal(check.items.webBluetooth.available, false);
    assert.match(check.items.webBluetooth.text, /device bridge/);
  } finally {
    await browser.close();
  }
});

test('a browser without WebRTC is told plainly that the visit cannot run', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    // Simulate a restricted browser: remove WebRTC before any page script runs.
    await page.evaluateOnNewDocument(() => { delete window.RTCPeerConnection; });
    await page.goto(`${relay.url}/`);
    const check = await readCheck(page);
    assert.equal(check.state, 'blocked');
    assert.match(check.summary, /cannot run the video visit/);
    assert.equal(check.items.rtcPeerConnection.available, false);
    assert.match(check.items.rtcPeerConnection.text, /no WebRTC/);
  } finally {
    await browser.close();
  }
});

test('the check fits a 375 px phone screen without sideways scrolling', async () => {
  const browser = await launchBrowser();
  try {
    const page = await openPage(browser, `${relay.url}/`, { width: 375, height: 740 });
    await readCheck(page);
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    assert.ok(widths.scroll <= widths.client, `page is ${widths.scroll}px wide in a ${widths.client}px viewport`);
  } finally {
    await browser.close();
  }
});
