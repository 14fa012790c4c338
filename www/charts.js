// Small hand-written SVG line charts for the clinician's vitals panel: one chart per vital,
// one line per series, the latest value in large type above it.
import { h, clock, shortTime } from '/common.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 120;
const PAD = { left: 34, right: 8, top: 8, bottom: 18 };
/** Points kept per chart (older ones scroll off). */
const KEEP = 240;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A live chart. `series`: `[{ key, label, color }]`; `range`: the y range always shown (it
 * grows to fit the data); `format(values)`: the latest value as text.
 */
export class VitalChart {
  constructor({ id, title, unit, series, range, format }) {
    Object.assign(this, { id, title, unit, series, range, format });
    this.points = [];
    /** When the newest reading was received (ms), for `refresh`. */
    this.receivedAt = null;
    this.stale = false;
    this.latest = h('p', { class: 'latest' }, '—');
    this.freshness = h('p', { class: 'freshness' });
    this.meta = h('p', { class: 'meta' }, 'No readings yet');
    this.svg = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}: no readings yet` });
    this.legend = series.length > 1
      ? h('p', { class: 'meta legend' }, series.map((s) => {
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.background = s.color; // CSSOM, allowed under a strict CSP
        return h('span', { class: 'key' }, swatch, s.label);
      }))
      : null;
    this.element = h('section', { class: 'vital', dataset: { vital: id }, 'aria-label': title },
      h('h3', {}, title), this.latest, this.freshness, this.svg, this.legend, this.meta);
    this.draw();
  }

  /**
   * Adds a reading: `values` by series key (numbers; others are skipped), measured at `time`
   * ms and received at `receivedAt` ms (what `refresh` ages).
   */
  add(time, values, { flagged = false, note = '', receivedAt = Date.now() } = {}) {
    this.receivedAt = Math.max(this.receivedAt ?? receivedAt, receivedAt);
    this.points.push({ time, values });
    this.points.sort((a, b) => a.time - b.time);
    if (this.points.length > KEEP) this.points.splice(0, this.points.length - KEEP);
    this.latest.replaceChildren(this.format(values), ' ', h('small', {}, this.unit));
    this.element.dataset.flag = String(flagged);
    this.element.dataset.count = String(this.points.length);
    this.meta.textContent = `${this.points.length} reading${this.points.length === 1 ? '' : 's'} · last at ${clock(time)}${note ? ` · ${note}` : ''}`;
    this.svg.setAttribute('aria-label', `${this.title}: latest ${this.format(values)} ${this.unit} at ${clock(time)}; ${this.points.length} readings charted`);
    this.draw();
  }

  /**
   * Marks the latest value as current or not: with no reading received for `staleAfterMs`,
   * the chart says "Not current · last reading 2 min ago" (the age follows the clock on each
   * call). Returns true when it has just become stale.
   */
  refresh(now, staleAfterMs) {
    if (this.receivedAt === null) {
      this.element.dataset.stale = 'false';
      this.freshness.textContent = '';
      return false;
    }
    const age = Math.max(0, now - this.receivedAt);
    const stale = age >= staleAfterMs;
    const became = stale && !this.stale;
    this.stale = stale;
    this.element.dataset.stale = String(stale);
    this.freshness.textContent = stale ? `Not current · last reading ${ago(age, this.receivedAt)}` : 'Live';
    return became;
  }

  draw() {
    const nums = this.points.flatMap((p) => this.series.map((s) => p.values[s.key]).filter(Number.isFinite));
    let [lo, hi] = this.range;
    if (nums.length) { lo = Math.min(lo, ...nums); hi = Math.max(hi, ...nums); }
    const t0 = this.points[0]?.time ?? 0;
    const t1 = Math.max(this.points.at(-1)?.time ?? 1, t0 + 20_000); // at least 20 s wide
    const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
    const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo || 1)) * (H - PAD.top - PAD.bottom);
    const nodes = [];
    for (const v of [lo, (lo + hi) / 2, hi]) {
      nodes.push(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), stroke: '#d5dde5', 'stroke-width': 1 }));
      nodes.push(svg('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#4a5a6a' }, String(Math.round(v))));
    }
    if (this.points.length) {
      nodes.push(svg('text', { x: PAD.left, y: H - 4, 'font-size': 10, fill: '#4a5a6a' }, clock(t0)));
      nodes.push(svg('text', { x: W - PAD.right, y: H - 4, 'font-size': 10, fill: '#4a5a6a', 'text-anchor': 'end' }, clock(t1)));
    }
    for (const s of this.series) {
      const pts = this.points.filter((p) => Number.isFinite(p.values[s.key]));
      if (!pts.length) continue;
      nodes.push(svg('polyline', {
        points: pts.map((p) => `${x(p.time).toFixed(1)},${y(p.values[s.key]).toFixed(1)}`).join(' '),
        fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-linecap': 'round',
      }));
      const last = pts.at(-1);
      nodes.push(svg('circle', { cx: x(last.time), cy: y(last.values[s.key]), r: 3, fill: s.color }));
    }
    this.svg.replaceChildren(...nodes);
  }
}

/** How long ago `age` ms was, in words: "8 s ago", "2 min ago", "at 14:05". */
export function ago(age, at) {
  const s = Math.floor(age / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `at ${shortTime(at)}`;
}

/** The three charts of the demo. */
export function vitalCharts() {
  return {
    heartRate: new VitalChart({
      id: 'heart-rate', title: 'Heart rate', unit: '/min', range: [50, 110],
      series: [{ key: 'hr', label: 'Heart rate', color: '#b0124f' }],
      format: (v) => String(Math.round(v.hr)),
    }),
    spo2: new VitalChart({
      id: 'spo2', title: 'Blood oxygen (SpO₂)', unit: '%', range: [88, 100],
      series: [{ key: 'spo2', label: 'SpO₂', color: '#0b5cad' }],
      format: (v) => String(Math.round(v.spo2)),
    }),
    bloodPressure: new VitalChart({
      id: 'blood-pressure', title: 'Blood pressure', unit: 'mmHg', range: [60, 150],
      series: [{ key: 'sys', label: 'Systolic', color: '#6a1b9a' }, { key: 'dia', label: 'Diastolic', color: '#00796b' }],
      format: (v) => `${Math.round(v.sys)}/${Math.round(v.dia)}`,
    }),
  };
}
