// The degraded-network scenarios of issue 16, shared by the end-to-end test (which asserts
// that the call survives and recovers) and the benchmark (which reports the figures): a
// relay-only call through coturn with the UDP shaper in front of it, one impairment timeline
// per scenario, and what the patient receives from the clinician sampled from getStats.

/** Each scenario: a timeline of `[seconds from start, impairments]` and when it is over. */
export const SCENARIOS = {
  'rate-300kbit': { timeline: [[0, { rateKbps: 300 }]], heal: 20 },
  'delay-150ms': { timeline: [[0, { delayMs: 150 }]], heal: 15 },
  'loss-5pct': { timeline: [[0, { loss: 0.05 }]], heal: 15 },
  'collapse-2mbit-100kbit': { timeline: [[0, { rateKbps: 2000 }], [5, { rateKbps: 100 }]], heal: 25 },
  'outage-5s': { timeline: [[0, {}], [3, { down: true }]], heal: 8 },
};

/** One sample of what the page receives from `from`, and its SDK's state (`at`: this process's clock). */
async function sample(page, from) {
  const s = await page.evaluate(async (id) => {
    const out = { state: window.c.state, frames: 0, samples: 0, concealed: 0 };
    const report = await window.c.getStats(id).catch(() => null);
    report?.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') out.frames += s.framesDecoded ?? 0;
      if (s.kind === 'audio') {
        out.samples += s.totalSamplesReceived ?? 0;
        out.concealed += s.concealedSamples ?? 0;
      }
    });
    return out;
  }, from);
  return { at: performance.now(), ...s };
}

/** Whether video and audio both flow in the window `[a, b]` of samples (≥ 10 fps, ≤ 10 % concealed). */
function flowing(a, b) {
  const seconds = (b.at - a.at) / 1000;
  const fps = (b.frames - a.frames) / seconds;
  const samples = b.samples - a.samples;
  const concealed = (b.concealed - a.concealed) / Math.max(samples, 1);
  return seconds > 0 && fps >= 10 && samples > 0 && concealed <= 0.1;
}

/**
 * Runs `scenario` on a connected call: applies its timeline to `shaper`, heals the network at
 * `heal` seconds, and samples the patient's view of the clinician every 250 ms until media
 * flows again (at most `recoverWithin` seconds after healing). Resolves to
 * `{ name, survived, recoverMs, concealedPct, minFps, states, qualities }`: `recoverMs` is
 * the time from healing until a 1 s window where video and audio both flow (null if it never
 * came), `concealedPct` the share of audio samples concealed from start to recovery.
 */
export async function runScenario(name, { patient, docId, shaper, recoverWithin = 20 }) {
  const { timeline, heal } = SCENARIOS[name];
  await patient.evaluate((id) => {
    window.qualityLog = [];
    window.c.addEventListener('quality', (e) => window.qualityLog.push(e.detail.level));
    // Received audio is decoded only while something plays it out, as a visit page does.
    window.speaker = new Audio();
    window.speaker.srcObject = window.c.remoteStream(id);
    return window.speaker.play();
  }, docId);
  const samples = [];
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const steps = [...timeline];
  let healed = false;
  let healedAt = null;
  let recoverMs = null;
  const states = new Set();
  while (true) {
    while (steps.length && steps[0][0] <= elapsed()) shaper.set(steps.shift()[1]);
    if (!healed && elapsed() >= heal) {
      shaper.set({});
      healed = true;
      healedAt = performance.now();
    }
    const s = await sample(patient, docId);
    samples.push(s);
    states.add(s.state);
    if (healed) {
      const windowStart = samples.findLast((x) => x.at <= s.at - 1000);
      if (windowStart && windowStart.at >= healedAt - 250 && flowing(windowStart, s)) {
        recoverMs = Math.max(0, windowStart.at - healedAt);
        break;
      }
      if (performance.now() - healedAt > recoverWithin * 1000) break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  shaper.set({});
  const first = samples[0];
  const last = samples.at(-1);
  let minFps = Infinity;
  for (let i = 4; i < samples.length; i++) {
    const a = samples[i - 4];
    const b = samples[i];
    minFps = Math.min(minFps, (b.frames - a.frames) / ((b.at - a.at) / 1000));
  }
  const qualities = await patient.evaluate(() => window.qualityLog);
  return {
    name,
    survived: last.state === 'connected' && recoverMs !== null,
    recoverMs,
    concealedPct: (100 * (last.concealed - first.concealed)) / Math.max(last.samples - first.samples, 1),
    minFps: Number.isFinite(minFps) ? minFps : null,
    states: [...states],
    qualities,
  };
}
