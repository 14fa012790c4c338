#!/usr/bin/env node
// Call set-up time: from the patient's join to the first decoded remote video frame, the SDK
// versus a plain-WebRTC baseline through the same relay. See docs/BENCHMARKS.md.
//
//   node bench/call-setup/run.mjs [--runs N] [--fps F] [--raw-waiting-room] [--raw-clinician-offers]
//                                 [--trace] [--verbose] [--profile DIR] [--relay-delay MS]
//                                 [--browser-flag FLAG]...
//                                 (needs pkg/ built and the relay binary)
//
// stdout:
//   call-setup: sdk_ms=<median> raw_ms=<median> ratio=<sdk/raw>   (call-setup-relay<MS>ms: with --relay-delay)
//   call-setup-detail: runs=… sdk_p90_ms=… sdk_min_ms=… sdk_max_ms=… raw_… (joined, connected,
//     getStats-polled medians; the SDK's runs split by which side offered)
//
// --runs N       interleaved pairs (default 20), after one discarded warm-up call of each kind
// --fps F        the fake camera's frame rate (default 30, like a webcam; Chromium's default is 20)
// --raw-waiting-room, --raw-clinician-offers   add the baseline variants `raw_wr` / `raw_co`
// --trace        print both pages' merged timelines and milestone medians (stderr)
// --verbose      print every run's numbers (stderr)
// --relay-delay MS  put the relay MS one way from both pages (a TCP proxy holding each chunk;
//                the media path stays on loopback): what each signaling round trip costs
// --browser-flag FLAG  one more Chromium command-line flag, for both kinds (repeatable); e.g.
//                `--browser-flag=--js-flags=--no-wasm-lazy-compilation` shows what V8's lazy
//                compilation of the wasm costs (docs/BENCHMARKS.md, "Call set-up")
// --profile DIR  write both pages' CPU profiles of the last call of each kind to DIR/{patient,clinician}-<kind>.cpuprofile
//
// Runs itself inside a loopback-only network namespace (re-executing under `unshare --net`
// when needed), starts its own relay (TELECONSULT_RELAY_BIN, else target/relay/ — the
// optimised build `cargo xtask bench` makes — else target/debug/teleconsult-relay) and
// Debian's Chromium with the e2e harness's flags.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkPrerequisites, ensureLoopbackNamespace, fail, fmt, median, quantile, startDelayProxy, startProfiles, stopProfiles } from './lib.mjs';

const NAME = 'call-setup';
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    verbose: { type: 'boolean', default: false },
    profile: { type: 'string' },
    trace: { type: 'boolean', default: false },
    'raw-waiting-room': { type: 'boolean', default: false },
    'raw-clinician-offers': { type: 'boolean', default: false },
    fps: { type: 'string', default: '30' },
    'relay-delay': { type: 'string', default: '0' },
    'browser-flag': { type: 'string', multiple: true, default: [] },
  },
});
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(NAME, '--runs must be a positive integer');
/** One call must show video within this long, or the benchmark fails. */
const CALL_TIMEOUT_MS = 15_000;

checkPrerequisites(NAME, { relay: true });
ensureLoopbackNamespace(NAME);

const FPS = Number(args.fps);
if (!Number.isInteger(FPS) || FPS < 1 || FPS > 60) fail(NAME, '--fps must be an integer from 1 to 60');
const { startRelay, chromiumArgs, sdkPage, joinIn, testPages } = await import('../../tests/e2e/harness.mjs');
const { default: puppeteer } = await import('puppeteer-core');
const pageSource = readFileSync(join(import.meta.dirname, 'page.js'), 'utf8');

const RELAY_DELAY_MS = Number(args['relay-delay']);
if (!Number.isInteger(RELAY_DELAY_MS) || RELAY_DELAY_MS < 0 || RELAY_DELAY_MS > 500) fail(NAME, '--relay-delay must be an integer from 0 to 500');
const relay = await startRelay({ www: testPages });
// Both kinds reach the relay the same way: directly, or through the delaying proxy.
const delayProxy = RELAY_DELAY_MS > 0 ? await startDelayProxy(Number(new URL(relay.url).port), RELAY_DELAY_MS) : null;
const relayWsUrl = delayProxy ? `ws://127.0.0.1:${delayProxy.port}/ws` : relay.wsUrl;
const profile = mkdtempSync(join(tmpdir(), 'teleconsult-call-setup-'));
// The harness's flags, with the fake camera's frame rate made explicit: the first remote frame
// can only leave the sender on a capture tick, so the rate sets the measurement's granularity.
// Chromium's fake camera defaults to 20 fps (50 ms steps); 30 fps is what webcams deliver.
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  userDataDir: profile,
  args: [...chromiumArgs().map((a) => (a === '--use-fake-device-for-media-stream' ? `${a}=fps=${FPS}` : a)), ...args['browser-flag']],
});

/** A page on the relay's origin with the SDK loaded (`window.t`) and the benchmark code. */
async function benchPage() {
  const page = await sdkPage(browser, relay);
  await page.evaluate(pageSource);
  return page;
}

/**
 * One call in a fresh room with fresh pages: the clinician joins (and, for the SDK, admits
 * whoever asks), then the patient's join is timed. Page loads, wasm compilation, the
 * clinician's join and both getUserMedia calls all happen before the clock starts.
 */
async function runOnce(kind, profile = false) {
  const clinician = await benchPage();
  const patient = await benchPage();
  try {
    let options;
    if (kind === 'sdk') {
      const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
      await joinIn(clinician, {
        link: invite.clinicianLink, relayUrl: relayWsUrl, role: 'clinician', displayName: 'Dr Rivera',
        token: await relay.token(invite.roomId, 'clinician'),
      }, { autoAdmit: true, media: 'join' });
      options = {
        link: invite.patientLink, relayUrl: relayWsUrl, role: 'patient', displayName: 'Sam Patient',
        token: await relay.token(invite.roomId, 'patient'),
      };
    } else {
      const room = randomBytes(16).toString('base64url');
      const variant = RAW_VARIANTS[kind];
      await clinician.evaluate((o) => window.bench.rawClinician(o), { wsUrl: relayWsUrl, token: await relay.token(room, 'clinician'), ...variant });
      options = { wsUrl: relayWsUrl, token: await relay.token(room, 'patient'), ...variant };
    }
    await patient.evaluate(() => window.bench.prepareMedia());
    await patient.bringToFront();
    if (args.trace) for (const p of [clinician, patient]) await p.evaluate(() => window.bench.startTrace());
    const profiling = profile ? await startProfiles({ patient, clinician }) : null;
    const result = await patient.evaluate((k, o, t) => window.bench.runPatient(k, o, t), kind === 'sdk' ? 'sdk' : 'raw', options, CALL_TIMEOUT_MS);
    if (profiling) await stopProfiles(NAME, profiling, args.profile, kind);
    if (args.trace) await printTrace(kind, { clinician, patient });
    return result;
  } finally {
    for (const p of [patient, clinician]) {
      await p.evaluate(() => window.bench.hangUp()).catch(() => {});
      await p.close().catch(() => {});
    }
  }
}

/** Milestones read from a merged trace: [name, predicate over {who, label}]. */
const MILESTONES = [
  ['ws_open', (e) => e.who === 'patient' && e.label === 'ws open'],
  ['welcome', (e) => e.who === 'patient' && e.label.startsWith('ws< welcome')],
  ['patient_pc', (e) => e.who === 'patient' && e.label === 'pc new'],
  ['offer_sent', (e) => /^ws> send\((\d{4,})\)/.test(e.label)],
  ['answer_sent', (e, seen) => /^ws> send\((\d{4,})\)/.test(e.label) && seen.offer_sent !== undefined && e.who !== seen.offer_sent_who],
  ['patient_connected', (e) => e.who === 'patient' && e.label === 'pc connected'],
  ['frame_presented', (e) => e.who === 'patient' && e.label === 'frame presented'],
];
const phases = {};

/** Prints both pages' timelines merged, in ms since the patient's t0 (stderr). */
async function printTrace(kind, pages) {
  const events = [];
  for (const [who, page] of Object.entries(pages)) {
    for (const [at, label] of await page.evaluate(() => window.bench.trace())) events.push({ at, who, label });
  }
  events.sort((a, b) => a.at - b.at);
  const t0 = events.find((e) => e.label === 't0')?.at ?? events[0]?.at;
  console.error(`--- ${kind} trace (ms since the patient's t0) ---`);
  for (const e of events) console.error(`${fmt(e.at - t0).padStart(8)}  ${e.who.padEnd(9)}  ${e.label}`);
  const seen = {};
  for (const e of events) {
    for (const [name, test] of MILESTONES) {
      if (seen[name] === undefined && test(e, seen)) { seen[name] = e.at - t0; seen[`${name}_who`] = e.who; }
    }
  }
  phases[kind] ??= [];
  phases[kind].push(seen);
}

/** Median time of each milestone per kind, when tracing (stderr). */
function printPhases() {
  if (!args.trace) return;
  console.error(`--- milestone medians, ms since t0 (traced runs incl. warm-up) ---`);
  console.error(`${''.padEnd(18)}${Object.keys(phases).map((k) => k.padStart(9)).join('')}`);
  for (const [name] of MILESTONES) {
    console.error(`${name.padEnd(18)}${Object.keys(phases).map((k) => fmt(median(phases[k].map((p) => p[name]).filter((v) => v !== undefined))).padStart(9)).join('')}`);
  }
}

/**
 * The raw baseline (`raw`: the patient offers as soon as it is welcomed) and its optional
 * variants, which help explain where the SDK's time goes: `raw_wr` adds a plaintext
 * knock/admit round trip before the offer, `raw_co` has the clinician offer instead (how about
 * half the SDK's calls went before an admitted patient was made the offerer).
 */
const RAW_VARIANTS = {
  raw: { offerer: 'patient', waitingRoom: false },
  raw_wr: { offerer: 'patient', waitingRoom: true },
  raw_co: { offerer: 'clinician', waitingRoom: false },
};
const KINDS = ['sdk', 'raw'];
if (args['raw-waiting-room']) KINDS.push('raw_wr');
if (args['raw-clinician-offers']) KINDS.push('raw_co');
const results = Object.fromEntries(KINDS.map((k) => [k, []]));
const started = performance.now();
try {
  // One discarded warm-up call of each kind (first codec/ICE/DTLS initialisation in the
  // browser process), then SDK and raw interleaved so drift affects both alike.
  for (const kind of KINDS) await runOnce(kind);
  for (let i = 0; i < RUNS; i++) {
    for (const kind of KINDS) {
      const r = await runOnce(kind, Boolean(args.profile) && i === RUNS - 1);
      results[kind].push(r);
      if (args.verbose) console.error(`${kind} #${i + 1}: ${JSON.stringify(r)}`);
    }
  }
} catch (err) {
  console.error(`${NAME}: a call failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  await delayProxy?.close();
  await relay.stop().catch(() => {});
}
if (process.exitCode) process.exit(process.exitCode);
printPhases();

const pick = (kind, key) => results[kind].map((r) => r[key]).filter((v) => typeof v === 'number');
const sdk = pick('sdk', 'firstFrameMs');
const raw = pick('raw', 'firstFrameMs');
// A run with the relay at a distance has a line of its own (`call-setup-relay25ms:`).
const LINE = RELAY_DELAY_MS > 0 ? `${NAME}-relay${RELAY_DELAY_MS}ms` : NAME;
console.log(`${LINE}: sdk_ms=${fmt(median(sdk))} raw_ms=${fmt(median(raw))} ratio=${fmt(median(sdk) / median(raw), 3)}`);
const detail = [`runs=${RUNS}`, `camera_fps=${FPS}`, `relay_delay_ms=${RELAY_DELAY_MS}`];
for (const kind of KINDS) {
  const xs = pick(kind, 'firstFrameMs');
  if (kind !== 'sdk' && kind !== 'raw') detail.push(`${kind}_ms=${fmt(median(xs))}`);
  detail.push(`${kind}_p90_ms=${fmt(quantile(xs, 0.9))}`, `${kind}_min_ms=${fmt(Math.min(...xs))}`, `${kind}_max_ms=${fmt(Math.max(...xs))}`);
}
for (const [key, label] of [['joinedMs', 'joined'], ['connectedMs', 'connected'], ['statsMs', 'stats']]) {
  for (const kind of KINDS) {
    const xs = pick(kind, key);
    detail.push(`${kind}_${label}_ms=${xs.length === RUNS ? fmt(median(xs)) : `${fmt(median(xs))}(${xs.length}/${RUNS})`}`);
  }
}
// Split the SDK's runs by who offered (an admitted patient always should: PROTOCOL.md §12;
// a clinician-offered call here would show a regression).
for (const [label, offered] of [['patient', true], ['clinician', false]]) {
  const xs = results.sdk.filter((r) => r.patientOffered === offered).map((r) => r.firstFrameMs);
  detail.push(`sdk_${label}_offers_ms=${fmt(median(xs))}(${xs.length})`);
}
const hidden = Object.values(results).flat().filter((r) => r.visibility !== 'visible').length;
detail.push(`hidden_runs=${hidden}`, `wall_s=${fmt((performance.now() - started) / 1000)}`);
console.log(`${LINE}-detail: ${detail.join(' ')}`);
