// examples/plain-js: the minimal no-bundler page runs a whole consultation in two tabs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRelay, launchBrowser, openPage, root } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: join(root, 'examples/plain-js') });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

test('the plain-JS example: clinician starts, patient joins from the link, both see video and the same code', async () => {
  const clinician = await openPage(browser, `${relay.url}/`);
  const link = await clinician.waitForFunction(() => document.getElementById('invite').textContent.split('Patient link: ')[1], { timeout: 15_000, polling: 100 }).then((h) => h.jsonValue());
  assert.match(link, /#v=2&r=[\w-]+&k=[\w-]+&c=[\w-]+&p=[\w-]+&s=[\w-]+$/);
  const patient = await openPage(browser, link);
  for (const page of [clinician, patient]) {
    await page.waitForFunction(() => document.getElementById('status').textContent === 'connected', { timeout: 15_000, polling: 100 });
    await page.waitForFunction(() => document.getElementById('remote').videoWidth > 0, { timeout: 15_000, polling: 100 });
  }
  const codes = await Promise.all([clinician, patient].map((p) => p.$eval('#sas', (e) => e.textContent)));
  assert.match(codes[0], /^\d{6}$/);
  assert.equal(codes[0], codes[1]);
  await patient.click('#hangup');
  await patient.waitForFunction(() => document.getElementById('status').textContent === 'ended', { polling: 100 });
  assert.deepEqual([...clinician.errors, ...patient.errors], []);
  await clinician.close();
  await patient.close();
});
