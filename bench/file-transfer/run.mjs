#!/usr/bin/env node
// File transfer throughput: a 10 MiB photo from the patient to the clinician through the SDK
// (sealed session over the peers' direct data channel, chunked, acknowledged, SHA-256 checked on
// arrival) against the same bytes over a plain RTCDataChannel between the same two pages (ordered,
// reliable, 64 KiB messages with bufferedAmount flow control, SHA-256 computed on arrival too), both in one
// run, interleaved. See docs/BENCHMARKS.md.
//
//   node bench/file-transfer/run.mjs [--runs N] [--mib M] [--profile DIR]
//   (needs pkg/ built and the relay binary; --profile writes each page's CPU profile of the last
//   run's transfers to DIR/{patient,clinician}-{sdk,raw}.cpuprofile, for Chromium's DevTools)
//
// stdout:
//   file-transfer: sdk_mib_s=<median> raw_dc_mib_s=<median> ratio=<sdk/raw> size_mib=<M> runs=<N>
//
// Runs itself inside a loopback-only network namespace and starts its own relay
// (TELECONSULT_RELAY_BIN, else target/relay/, else target/debug/).
import { parseArgs } from 'node:util';
import { checkPrerequisites, ensureLoopbackNamespace, fail, fmt, median, startProfiles, stopProfiles } from '../call-setup/lib.mjs';

const NAME = 'file-transfer';
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' }, mib: { type: 'string', default: '10' }, profile: { type: 'string' } } });
const RUNS = Number(args.runs);
const MIB = Number(args.mib);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(NAME, '--runs must be a positive integer');
if (!(MIB > 0 && MIB <= 10)) fail(NAME, '--mib must be in (0, 10] (the SDK caps files at 10 MiB)');
checkPrerequisites(NAME, { relay: true });
ensureLoopbackNamespace(NAME);

const { startRelay, launchBrowser, startCall, directChannelOpen, until, testPages, CLINICIAN_SEED, CLINICIAN_PK } = await import('../../tests/e2e/harness.mjs');
const relay = await startRelay({ www: testPages });
const browser = await launchBrowser();
const SIZE = Math.floor(MIB * 1024 * 1024);
const notice = { uri: 'https://clinic.example/notice', version: '1', language: 'en', text: 'Photos.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };

try {
  const call = await startCall(browser, relay, { media: false });
  const { clinician, patient, doc, pat } = call;
  await until(clinician, () => window.c.participants().some((p) => p.role === 'patient' && p.secured && p.inCall), null, { what: 'patient in call' });
  // The patient's `files` grant, replicated to the clinician (without it nothing is sent).
  await patient.evaluate(async (notice, dr, pk) => {
    window.m = await window.t.ConsentManager.open({ patient: 'pat-bench', recipient: dr, notice, storage: 'memory', clinicianPublicKey: new Uint8Array(pk) });
    await window.m.grant({ purposes: ['TREAT'], categories: ['files'] });
  }, notice, dr, CLINICIAN_PK);
  await clinician.evaluate((id, notice, dr, seed) => {
    window.r = new window.t.ConsentReplica({ notice, recipient: dr, clinicianSigningKey: new Uint8Array(seed) });
    window.r.attachConsultation(window.c, id);
  }, pat.id, notice, dr, CLINICIAN_SEED);
  await patient.evaluate((id) => window.m.attachConsultation(window.c, id), doc.id);
  await until(clinician, () => window.r.check({ category: 'files' }).allowed, null, { what: 'grant replicated' });
  // The peer connection is up and its direct channel open: the SDK's chunks take the direct
  // path (docs/FILES.md), not the relay. (`media: false` still negotiates receive-only audio
  // and video, so the connection connects.)
  await directChannelOpen(patient, doc.id, 20_000);

  // The same random bytes on both pages' sides: the patient's file.
  await patient.evaluate((size) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    window.benchBytes = bytes;
  }, SIZE);
  await clinician.evaluate(() => {
    window.received = [];
    window.c.addEventListener('filereceived', async (e) => {
      const d = await crypto.subtle.digest('SHA-256', e.detail.data);
      window.received.push({ at: performance.timeOrigin + performance.now(), sha: [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('') });
    });
  });

  // A plain data channel between the same two pages, signalled through the test (no relay).
  await patient.evaluate(() => {
    window.rawPc = new RTCPeerConnection();
    window.rawDc = window.rawPc.createDataChannel('bench', { ordered: true });
    window.rawDc.binaryType = 'arraybuffer';
    window.rawIce = [];
    window.rawPc.onicecandidate = (e) => e.candidate && window.rawIce.push(e.candidate.toJSON());
  });
  await clinician.evaluate(() => {
    window.rawPc = new RTCPeerConnection();
    window.rawIce = [];
    window.rawPc.onicecandidate = (e) => e.candidate && window.rawIce.push(e.candidate.toJSON());
    window.rawPc.ondatachannel = (e) => {
      const dc = e.channel;
      dc.binaryType = 'arraybuffer';
      window.rawIn = { parts: [], bytes: 0 };
      dc.onmessage = async (m) => {
        const s = window.rawIn;
        s.parts.push(new Uint8Array(m.data));
        s.bytes += m.data.byteLength;
        if (s.bytes === s.expected) {
          const all = new Uint8Array(s.bytes);
          let o = 0;
          for (const p of s.parts) { all.set(p, o); o += p.length; }
          const d = await crypto.subtle.digest('SHA-256', all);
          s.done = { at: performance.timeOrigin + performance.now(), sha: [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('') };
        }
      };
      window.rawDc = dc;
    };
  });
  const offer = await patient.evaluate(async () => { await window.rawPc.setLocalDescription(); return window.rawPc.localDescription.toJSON(); });
  const answer = await clinician.evaluate(async (o) => { await window.rawPc.setRemoteDescription(o); await window.rawPc.setLocalDescription(); return window.rawPc.localDescription.toJSON(); }, offer);
  await patient.evaluate((a) => window.rawPc.setRemoteDescription(a), answer);
  await new Promise((r) => setTimeout(r, 500));
  for (const [from, to] of [[patient, clinician], [clinician, patient]]) {
    const ice = await from.evaluate(() => window.rawIce);
    await to.evaluate(async (ice) => { for (const c of ice) await window.rawPc.addIceCandidate(c); }, ice);
  }
  await until(patient, () => window.rawDc.readyState === 'open', null, { what: 'raw data channel open', timeout: 20_000 });

  const sha = await patient.evaluate(async () => {
    const d = await crypto.subtle.digest('SHA-256', window.benchBytes);
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });

  const sdk = [];
  const raw = [];
  // One discarded warm-up of each (the data channel's SCTP starts slow; the SDK's pages warm
  // their wasm), then RUNS measured pairs.
  for (let run = -1; run < RUNS; run++) {
    // SDK: send() until the clinician holds the checked bytes.
    const profiling = args.profile && run === RUNS - 1 ? await startProfiles({ patient, clinician }) : null;
    const n = await clinician.evaluate(() => window.received.length);
    const start = await patient.evaluate((run) => {
      const t0 = performance.timeOrigin + performance.now();
      window.c.files.send(new File([window.benchBytes], `bench-${run}.jpg`, { type: 'image/jpeg' }));
      return t0;
    }, run);
    const got = await until(clinician, (n) => window.received[n], n, { what: 'SDK transfer', timeout: 120_000 });
    if (got.sha !== sha) fail(NAME, 'the SDK delivered other bytes');
    const sdkRate = SIZE / 1048576 / ((got.at - start) / 1000);
    if (profiling) await stopProfiles(NAME, profiling, args.profile, 'sdk');

    // Plain data channel: the same bytes, 64 KiB messages, buffered at most 4 MiB ahead (its
    // best settings here: 16 KiB messages with 1 MiB buffered were slower).
    const rawProfiling = args.profile && run === RUNS - 1 ? await startProfiles({ patient, clinician }) : null;
    await clinician.evaluate((size) => { window.rawIn.parts = []; window.rawIn.bytes = 0; window.rawIn.expected = size; window.rawIn.done = undefined; }, SIZE);
    const rawStart = await patient.evaluate(() => {
      const dc = window.rawDc;
      const bytes = window.benchBytes;
      const CHUNK = 65536;
      dc.bufferedAmountLowThreshold = 1024 * 1024;
      const t0 = performance.timeOrigin + performance.now();
      let o = 0;
      const pump = () => {
        while (o < bytes.length && dc.bufferedAmount < 4 * 1024 * 1024) {
          dc.send(bytes.subarray(o, Math.min(bytes.length, o + CHUNK)));
          o += CHUNK;
        }
        if (o < bytes.length) dc.onbufferedamountlow = pump;
      };
      pump();
      return t0;
    });
    const rawGot = await until(clinician, () => window.rawIn.done, null, { what: 'raw transfer', timeout: 120_000 });
    if (rawGot.sha !== sha) fail(NAME, 'the data channel delivered other bytes');
    const rawRate = SIZE / 1048576 / ((rawGot.at - rawStart) / 1000);
    if (rawProfiling) await stopProfiles(NAME, rawProfiling, args.profile, 'raw');
    console.error(`${NAME}: ${run < 0 ? 'warm-up' : `run ${run + 1}`}: sdk ${fmt(sdkRate)} MiB/s, data channel ${fmt(rawRate)} MiB/s`);
    if (run < 0) continue;
    sdk.push(sdkRate);
    raw.push(rawRate);
  }
  const s = median(sdk);
  const r = median(raw);
  console.log(`${NAME}: sdk_mib_s=${fmt(s)} raw_dc_mib_s=${fmt(r)} ratio=${(s / r).toFixed(3)} size_mib=${MIB} runs=${RUNS}`);
  await call.close();
} finally {
  await browser.close();
  await relay.stop();
}

