// examples/webview-bridge: the page a host app shows, fed exactly as a React Native host
// feeds it (JSON messages with base64 values posted into the webview).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRelay, launchBrowser, openPage, root } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: join(root, 'examples/webview-bridge') });
  browser = await launchBrowser({ webBluetooth: false });
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

/** What react-native-webview's postMessage does inside the page. */
const hostPosts = (page, message) => page.evaluate((m) => {
  window.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(m) }));
}, message);

test('host-pushed heart rate and blood pressure become readings; a malformed value is rejected', async () => {
  const page = await openPage(browser, `${relay.url}/`);
  await page.waitForFunction(() => document.readyState === 'complete');
  const b64 = (bytes) => Buffer.from(bytes).toString('base64');
  // Heart rate 72 bpm (flags 0x00, 8-bit value).
  await hostPosts(page, { type: 'teleconsult/ble', deviceId: 'AA:BB', service: '180d', characteristic: '00002a37-0000-1000-8000-00805f9b34fb', value: b64([0x00, 72]) });
  // Blood pressure 121/81 mmHg, MAP 106.
  await hostPosts(page, { type: 'teleconsult/ble', deviceId: 'CC:DD', service: '1810', characteristic: '2a35', value: b64([0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00]) });
  await page.waitForFunction(() => document.querySelectorAll('#readings li').length === 2, { polling: 50, timeout: 5_000 });
  const items = await page.$$eval('#readings li', (lis) => lis.map((li) => ({ kind: li.dataset.kind, loinc: li.dataset.loinc, text: li.textContent })));
  assert.equal(items[0].kind, 'heartRate');
  assert.equal(items[0].loinc, '8867-4');
  assert.match(items[0].text, /72/);
  assert.equal(items[1].loinc, '85354-9');
  assert.match(items[1].text, /121/);
  // A truncated heart-rate value (16-bit flag, one byte): rejected, nothing added.
  await hostPosts(page, { type: 'teleconsult/ble', deviceId: 'AA:BB', service: '180d', characteristic: '2a37', value: b64([0x01, 72]) });
  await page.waitForFunction(() => document.getElementById('status').dataset.error, { polling: 50, timeout: 5_000 });
  assert.equal(await page.$eval('#status', (s) => s.dataset.error), 'MalformedMeasurement');
  assert.equal(await page.$$eval('#readings li', (lis) => lis.length), 2);
  assert.deepEqual(page.errors, []);
  await page.close();
});
