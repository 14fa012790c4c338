// The clinician's vitals, consent and export panels: a ReadingReceiver turns the patient's
// shared readings into charts and FHIR Observations; a ConsentReplica keeps the clinician's
// countersigned copy of the patient's consent ledger; Export writes both as one FHIR R4 Bundle.
import { $, h, shortTime, errorWords } from '/common.js';
import { vitalCharts, ago } from '/charts.js';
import { NOTICE, CLINIC, CATEGORIES, CATEGORY_LABEL, inSentence } from '/notice.js';
import { SIMULATOR_ID } from '/simulator.js';

const READING_CATEGORY = {
  heartRateMeasurement: 'heart-rate',
  plxContinuousMeasurement: 'spo2',
  plxSpotCheckMeasurement: 'spo2',
  bloodPressureMeasurement: 'blood-pressure',
};

/** The consent categories as the clinician reads them: the patient's video, not "your". */
const CLINICIAN_LABEL = { ...CATEGORY_LABEL, video: 'Patient\'s video', audio: 'Patient\'s voice' };

/** The tag on Observations that came from the demo's simulated device. */
const SIMULATED_TAG = { system: 'urn:teleconsult', code: 'simulated-device', display: 'Demo data from a simulated device, not a measurement of the patient' };

/**
 * How long a vital stays "current" without a new reading: 10 s. Heart-rate monitors and
 * pulse oximeters notify about once a second (the demo's simulator every 1.5 s, its cuff
 * every 8 s), so 10 s without one means the device stopped, went out of reach, or the
 * patient withdrew consent; a value that old must not pass for the patient's state now. A
 * cuff measures on demand, so its reading soon shows as "last reading N min ago", which is
 * what the clinician needs to know. The end-to-end tests shorten it with
 * `window.demoVitals = { staleAfterMs }` (read on every check).
 */
const STALE_AFTER_MS = 10_000;
const staleAfterMs = () => globalThis.demoVitals?.staleAfterMs ?? STALE_AFTER_MS;

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
const KPA_TO_MMHG = 7.500_62;

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export class ClinicianExtras {
  constructor(sdk, ctx) {
    this.sdk = sdk;
    this.ctx = ctx;
    this.reset();
    // The age of the latest readings follows the clock, with or without new readings.
    setInterval(() => this.refreshVitals(), 1000);
  }

  get devicesAvailable() { return typeof this.sdk.ReadingReceiver === 'function'; }
  get consentAvailable() { return typeof this.sdk.ConsentReplica === 'function'; }

  /** A fresh panel state (a new visit). */
  reset() {
    this.receiver?.close();
    this.replica?.detachConsultations();
    this.receiver = null;
    this.replica = null;
    this.consultation = null;
    this.patientId = null;
    /** reading id → { reading, observations, participantId } */
    this.readings = new Map();
    this.charts = vitalCharts();
    $('vitals').replaceChildren(...Object.values(this.charts).map((c) => c.element));
    $('vitals').hidden = true;
    $('vitals-card').dataset.stale = 'false';
    $('vitals-status').textContent = this.devicesAvailable
      ? 'No readings yet. They appear here, live, when the patient connects a device and agrees to share it.'
      : 'Device readings are not available in this version.';
    $('export-status').textContent = 'Download the readings and consent of this visit as a FHIR R4 Bundle, with the signed consent ledger.';
    this.renderConsent();
  }

  attach(c) {
    this.consultation = c;
    if (this.devicesAvailable) {
      this.receiver = new this.sdk.ReadingReceiver(c, { allow: (reading) => this.allowReading(reading) });
      this.receiver.addEventListener('reading', (e) => this.onReading(e.detail));
      this.receiver.addEventListener('error', (e) => this.ctx.log(`A reading was rejected: ${e.detail.message}`));
    }
    // Attach the consent replica as soon as a patient appears, so their record syncs early.
    const seen = (p) => { if (p?.role === 'patient') this.setPatient(p.id); };
    c.addEventListener('participantjoined', (e) => seen(e.detail.participant));
    c.addEventListener('admissionrequested', (e) => seen(e.detail.participant));
  }

  /** The patient this panel follows (a new participant id means a new ledger to follow). */
  setPatient(id) {
    if (!id || id === this.patientId || !this.consultation) return;
    this.patientId = id;
    if (!this.consentAvailable) return;
    this.replica?.detachConsultations();
    this.replica = null;
    this.openReplica(id);
  }

  /** Opens this patient's replica (kept in IndexedDB with the wrapped signing key) and attaches it. */
  async openReplica(id) {
    const app = this.ctx.app;
    // The replica countersigns with the clinician key of this visit's clinician link.
    const options = { recipient: CLINIC, notice: NOTICE, link: app.invite?.clinicianLink };
    let replica;
    try {
      replica = await this.sdk.ConsentReplica.open({ ...options, name: `${app.invite?.roomId ?? 'visit'}/${id}` });
    } catch (err) {
      // No IndexedDB here (or it failed): keep the record in memory for this visit.
      this.ctx.log(`The consent record is kept in memory only (${errorWords(err)}).`);
      replica = new this.sdk.ConsentReplica(options);
    }
    if (this.patientId !== id || !this.consultation) return;
    this.replica = replica;
    this.replica.addEventListener('change', (e) => this.onConsentChange(e.detail));
    this.replica.addEventListener('error', (e) => this.ctx.log(`Consent record problem: ${e.detail.message}`));
    this.replica.attachConsultation(this.consultation, id);
    this.renderConsent();
  }

  sasConfirmed() {}

  ended() {
    this.receiver?.close();
    this.replica?.detachConsultations();
  }

  // ----- consent ------------------------------------------------------------------------

  /** The receiving side's consent check: a withdrawal also takes effect here. */
  allowReading(reading) {
    if (!this.replica) return true;
    const category = READING_CATEGORY[reading.characteristic];
    return Boolean(category && this.replica.check({ category }).allowed);
  }

  onConsentChange({ entry }) {
    const ev = entry.event;
    const names = (list) => list.map((c) => inSentence(CLINICIAN_LABEL[c] ?? c)).join(', ');
    const cats = (seq) => names(this.replica.list().find((r) => r.seq === seq)?.grant.categories ?? []);
    if (ev.type === 'grant') this.ctx.log(`Consent given: ${names(ev.categories)}.`);
    if (ev.type === 'withdraw') {
      this.ctx.log(`Consent withdrawn: ${cats(ev.grant)}.`);
      this.ctx.announce(`The patient withdrew consent for ${cats(ev.grant)}.`);
    }
    this.renderConsent();
  }

  /**
   * The patient's consent for one category, from the clinician's replica: `state` is
   * 'active', 'withdrawn', 'inactive' (ended) or 'none'; null before the replica exists.
   */
  consentState(id) {
    if (!this.replica) return { state: null };
    const covering = this.replica.list().filter((r) => r.grant.categories.includes(id));
    const active = covering.find((r) => r.status.state === 'active');
    const last = covering.at(-1);
    const state = active ? 'active' : last?.status.state === 'withdrawn' ? 'withdrawn' : last ? 'inactive' : 'none';
    return { state, active, last };
  }

  renderConsent() {
    const list = $('consent-list');
    const status = $('consent-status');
    if (!this.consentAvailable) {
      list.replaceChildren();
      status.textContent = 'Consent records are not available in this version.';
      return;
    }
    if (!this.replica) {
      list.replaceChildren();
      status.textContent = 'The patient\'s consent choices appear here when they join.';
      return;
    }
    list.replaceChildren(...CATEGORIES.map(({ id }) => {
      const { state, active, last } = this.consentState(id);
      const label = CLINICIAN_LABEL[id];
      const words = {
        active: `Given${active?.grant.period.end ? `, until ${shortTime(active.grant.period.end)}` : ''}`,
        withdrawn: `Withdrawn ${last ? shortTime(last.status.at) : ''}`,
        inactive: 'Ended',
        none: 'Not given',
      }[state];
      return h('li', { dataset: { category: id, state } }, h('span', { class: 'what' }, label), h('span', { class: 'state' }, words));
    }));
    try {
      const summary = this.replica.size > 0 ? this.replica.verify() : null;
      status.textContent = summary
        ? `✓ Signed record verified: ${summary.entries} ${summary.entries === 1 ? 'entry' : 'entries'}, countersigned by you.`
        : 'Waiting for the patient\'s consent record…';
      status.dataset.verified = String(Boolean(summary));
    } catch (err) {
      status.textContent = `The consent record did not verify: ${err.message}`;
      status.dataset.verified = 'false';
    }
    this.ctx.consentChanged?.();
  }

  // ----- vitals -------------------------------------------------------------------------

  onReading({ reading, participantId }) {
    if (this.readings.has(reading.id)) return;
    let observations = [];
    try {
      observations = this.sdk.measurementToFhir(reading, { subject: `Patient/demo-${participantId}` });
      if (reading.device.id === SIMULATOR_ID) {
        // Demo data must never pass for the patient's own: say so in the exported record.
        for (const o of observations) o.meta = { ...o.meta, tag: [...(o.meta?.tag ?? []), SIMULATED_TAG] };
      }
    } catch (err) {
      this.ctx.log(`A reading could not be converted to FHIR: ${errorWords(err)}`);
    }
    this.readings.set(reading.id, { reading, observations, participantId });
    const v = reading.measurement.value;
    const notes = [];
    if (reading.device.id === SIMULATOR_ID) notes.push('simulated device');
    if (!reading.patientData) notes.push('demonstration data');
    if (reading.effectiveTimeSource === 'received') notes.push('timed on arrival');
    // Aged from when the patient's device received it (not when it was measured: a device
    // clock may be unset); never from a time ahead of this clock (the devices' clocks differ).
    const receivedAt = Math.min(num(reading.receivedAt) || Date.now(), Date.now());
    const opts = { flagged: reading.warnings.length > 0 || reading.flags.length > 0, note: notes.join(', '), receivedAt };
    const t = reading.effectiveTime;
    switch (reading.measurement.kind) {
      case 'heartRate': this.charts.heartRate.add(t, { hr: num(v.heartRate) }, opts); break;
      case 'plxContinuous': this.charts.spo2.add(t, { spo2: num(v.normal.spo2) }, opts); break;
      case 'plxSpotCheck': this.charts.spo2.add(t, { spo2: num(v.spo2) }, opts); break;
      case 'bloodPressure': {
        const k = v.unit === 'kPa' ? KPA_TO_MMHG : 1;
        this.charts.bloodPressure.add(t, { sys: num(v.systolic) * k, dia: num(v.diastolic) * k }, opts);
        break;
      }
      default: return;
    }
    if ($('vitals').hidden) {
      $('vitals').hidden = false;
      this.ctx.log('Readings are arriving from the patient\'s devices.');
    }
    this.refreshVitals();
  }

  /** Marks each chart current or not, and says in the status line how old the newest reading is. */
  refreshVitals() {
    if (!this.readings.size) return;
    const now = Date.now();
    const after = staleAfterMs();
    const charts = Object.values(this.charts).filter((c) => c.receivedAt !== null);
    const became = charts.filter((c) => c.refresh(now, after));
    const newest = Math.max(...charts.map((c) => c.receivedAt));
    const n = this.readings.size;
    const counted = `${n} reading${n === 1 ? '' : 's'} received, each checked against its raw device bytes.`;
    const allStale = charts.every((c) => c.stale);
    $('vitals-card').dataset.stale = String(allStale);
    $('vitals-status').textContent = allStale
      ? `Not current: the last reading from the patient's devices came ${ago(now - newest, newest)}. ${counted}`
      : `Live from the patient's devices · ${counted}`;
    if (became.length) {
      this.ctx.announce(`${became.map((c) => c.title).join(', ')}: no new reading. The value shown is not current.`);
    }
  }

  /** One sentence about the visit's record, for the end screen. */
  summary() {
    const n = this.readings.size;
    const records = this.replica?.list() ?? [];
    const given = records.length;
    const withdrawn = records.filter((r) => r.status.state === 'withdrawn').length;
    return `${n} device reading${n === 1 ? '' : 's'} received; ${given} consent${given === 1 ? '' : 's'} given`
      + `${withdrawn ? `, ${withdrawn} withdrawn` : ''}.`;
  }

  // ----- export -------------------------------------------------------------------------

  /** The visit as a FHIR R4 Bundle: Observations, Consents, chat Communications, the photos and documents (Media or DocumentReference, each with its Binary), and the signed ledger as a Binary. */
  bundle() {
    const entry = (resource) => ({ fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource });
    const observations = [...this.readings.values()].flatMap((r) => r.observations);
    const consents = this.replica && this.replica.size > 0 ? this.replica.toFhir() : [];
    const communications = this.consultation && this.patientId
      ? this.consultation.chat.toFhir({ subject: `Patient/demo-${this.patientId}` }) : [];
    const files = this.consultation && this.patientId
      ? this.consultation.files.toFhir({ subject: `Patient/demo-${this.patientId}` }) : [];
    // A Media or DocumentReference points at its Binary as `Binary/<id>`: those entries get a
    // URL under one base, so the reference resolves within the Bundle.
    const base = `${location.origin}/fhir/`;
    const entries = [...observations, ...consents, ...communications].map(entry)
      .concat(files.map((resource) => ({ fullUrl: `${base}${resource.resourceType}/${resource.id}`, resource })));
    let ledger = null;
    if (this.replica && this.replica.size > 0) {
      const bytes = this.replica.export();
      const checkpoint = this.replica.checkpoint();
      // Checked before it leaves: the same check a records system can run offline.
      const summary = this.sdk.verifyLedger(bytes, this.replica.patientPublicKey, checkpoint);
      ledger = {
        format: 'teleconsult consent ledger (docs/CONSENT.md)',
        ledgerId: this.replica.ledgerId,
        patientPublicKey: this.replica.patientPublicKey,
        ledger: base64(bytes),
        checkpoint: checkpoint ? { bytes: base64(checkpoint.bytes), size: checkpoint.size, head: checkpoint.head, clinicianPublicKey: checkpoint.clinicianPublicKey } : null,
        summary,
      };
      entries.push(entry({
        resourceType: 'Binary',
        meta: { tag: [{ system: 'urn:teleconsult', code: 'consent-ledger' }] },
        contentType: 'application/vnd.teleconsult.consent-ledger+json',
        data: base64(new TextEncoder().encode(JSON.stringify(ledger))),
      }));
    }
    return {
      bundle: { resourceType: 'Bundle', type: 'collection', timestamp: new Date().toISOString(), entry: entries },
      counts: { observations: observations.length, consents: consents.length, messages: communications.length, files: files.filter((r) => r.resourceType !== 'Binary').length, ledgerEntries: ledger?.summary.entries ?? 0 },
    };
  }

  export() {
    try {
      const { bundle, counts } = this.bundle();
      const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `teleconsult-visit-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      const text = `Exported: ${counts.observations} observation${counts.observations === 1 ? '' : 's'}, ${counts.consents} consent${counts.consents === 1 ? '' : 's'}`
        + (counts.files ? `, ${counts.files} photo${counts.files === 1 ? '' : 's'} or document${counts.files === 1 ? '' : 's'}` : '')
        + (counts.ledgerEntries ? `, and the signed consent ledger (${counts.ledgerEntries} entries, verified).` : '.');
      $('export-status').textContent = text;
      this.ctx.announce(text);
      this.ctx.log(text);
    } catch (err) {
      $('export-status').textContent = `The export failed: ${errorWords(err)}`;
    }
  }
}
