#!/usr/bin/env node
// Degraded networks (issue 16): a relay-only call through coturn with a userspace UDP shaper
// in front of it (tests/e2e/shaper.mjs), one scenario per call: 300 kbit/s, 150 ms one-way
// delay, 5 % loss, a collapse from 2 Mbit/s to 100 kbit/s for 20 s, a 5 s outage. For each,
// the time from the network healing to video and audio flowing again, the share of audio
// samples concealed, and the lowest frame rate seen. See docs/BENCHMARKS.md.
//
//   node bench/network/run.mjs [--only NAME] [--engine chromium|firefox]
//
// stdout, one line per scenario:
//   network: scenario=<name> survived=<bool> recover_ms=<ms> concealed_pct=<%> min_fps=<fps> qualities=<levels>
import { parseArgs } from 'node:util';
import { checkPrerequisites, ensureLoopbackNamespace, fail } from '../call-setup/lib.mjs';

const NAME = 'network';
const { values: args } = parseArgs({ options: { only: { type: 'string' }, engine: { type: 'string', default: 'chromium' } } });
checkPrerequisites(NAME, { relay: true });
ensureLoopbackNamespace(NAME);
process.env.E2E_ENGINE = args.engine;

const { startRelay, launchBrowser, startCall, until, testPages } = await import('../../tests/e2e/harness.mjs');
const { startTurn } = await import('../../tests/e2e/turn_server.mjs');
const { startShaper } = await import('../../tests/e2e/shaper.mjs');
const { SCENARIOS, runScenario } = await import('../../tests/e2e/network_scenarios.mjs');

const names = args.only ? args.only.split(',') : Object.keys(SCENARIOS);
for (const n of names) if (!SCENARIOS[n]) fail(NAME, `unknown scenario ${n}; known: ${Object.keys(SCENARIOS).join(', ')}`);

const turn = await startTurn();
const shaper = await startShaper(turn.port);
const relay = await startRelay({ www: testPages });
const browser = await launchBrowser();
try {
  for (const name of names) {
    const ice = turn.iceOptions('secret', shaper.port);
    const call = await startCall(browser, relay, { clinicianExtra: ice, patientExtra: ice });
    try {
      await until(call.patient, () => window.c.state === 'connected', null, { what: 'connected', timeout: 30_000 });
      await call.patient.bringToFront();
      const r = await runScenario(name, { patient: call.patient, docId: call.doc.id, shaper });
      console.log(`${NAME}: scenario=${r.name} survived=${r.survived} recover_ms=${r.recoverMs === null ? 'none' : Math.round(r.recoverMs)} concealed_pct=${r.concealedPct.toFixed(1)} min_fps=${r.minFps?.toFixed(1)} states=${r.states.join('/')} qualities=${r.qualities.join(',')}`);
    } finally {
      shaper.set({});
      await call.close();
    }
  }
} finally {
  await browser.close();
  await relay.stop();
  shaper.close();
  await turn.close();
}
