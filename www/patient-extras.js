// The patient's consent and device panels, on the SDK's ConsentManager (a signed ledger on
// this device, synced to the clinician and enforced by the SDK: media and readings stop at once
// on withdrawal) and its device API (Web Bluetooth DeviceSession, DeviceBridge for the
// simulated device, ReadingShare to send readings to the clinician).
import { $, h, errorWords, shortTime } from '/common.js';
import { NOTICE, CLINIC, CATEGORIES, CATEGORY_LABEL, GRANT_HOURS, renderNotice, inSentence } from '/notice.js';
import { Simulator } from '/simulator.js';

/** The consent category of a reading, by characteristic. */
const READING_CATEGORY = {
  heartRateMeasurement: 'heart-rate',
  plxContinuousMeasurement: 'spo2',
  plxSpotCheckMeasurement: 'spo2',
  bloodPressureMeasurement: 'blood-pressure',
};

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const round = (v) => (num(v) === null ? '—' : String(Math.round(v)));

/** `{ category, text }` of a reading, for the patient's list; null for what is not shown. */
export function describeReading(reading) {
  const v = reading.measurement.value;
  switch (reading.measurement.kind) {
    case 'heartRate': return { category: 'heart-rate', text: `${round(v.heartRate)} /min` };
    case 'plxContinuous': return { category: 'spo2', text: `${round(v.normal.spo2)} %` };
    case 'plxSpotCheck': return { category: 'spo2', text: `${round(v.spo2)} %` };
    case 'bloodPressure': return { category: 'blood-pressure', text: `${round(v.systolic)}/${round(v.diastolic)} ${v.unit}` };
    default: return null;
  }
}

export class PatientExtras {
  constructor(sdk, ctx) {
    this.sdk = sdk;
    this.ctx = ctx;
    this.manager = null;
    this.openError = null;
    this.consultation = null;
    this.clinicianId = null;
    this.share = null;
    this.sources = [];
    this.session = null;
    this.bridge = null;
    this.simulator = null;
    /** category → { text, time, status: 'sending' | 'shared' | 'withheld' } */
    this.latest = new Map();
    /** reading id → category, for delivery events. */
    this.idCategory = new Map();
    this.checkpoint = null;
    this.ready = this.consentAvailable ? this.open() : Promise.resolve();
    $('connect-device').addEventListener('click', () => this.connectDevice());
    $('simulate-device').addEventListener('click', () => this.toggleSimulator());
    this.renderDevices();
    this.renderConsent();
  }

  get consentAvailable() { return typeof this.sdk.ConsentManager?.open === 'function'; }
  get devicesAvailable() { return typeof this.sdk.DeviceBridge === 'function' && typeof this.sdk.ReadingShare === 'function'; }

  /** The pseudonymous FHIR Patient id of this visit (never a name). */
  patientId() { return `demo-${this.ctx.app.participantId}`; }

  // ----- consent ------------------------------------------------------------------------

  async open() {
    try {
      // The link commits to the clinician's key: the only key checkpoints are accepted from.
      const link = this.ctx.inviteLink ?? undefined;
      this.manager = await this.sdk.ConsentManager.open({ patient: this.patientId(), recipient: CLINIC, notice: NOTICE, link });
      this.manager.addEventListener('change', () => this.renderConsent());
      this.manager.addEventListener('checkpoint', (e) => { this.checkpoint = e.detail; this.renderConsent(); });
      this.manager.addEventListener('error', (e) => { $('consent-card-status').textContent = `Consent record problem: ${e.detail.message}`; });
    } catch (err) {
      this.openError = err;
    }
    this.renderConsent();
  }

  showNotice(container) { renderNotice(container); }

  /** Active grant records covering `category`. */
  activeGrants(category) {
    return (this.manager?.list() ?? []).filter((r) => r.status.state === 'active' && r.grant.categories.includes(category));
  }

  /** Whether consent allows `category` now (true when this build has no consent API). */
  allowed(category) {
    if (!this.consentAvailable) return true;
    return Boolean(this.manager?.allows(category)?.allowed);
  }

  allowedMedia() { return { audio: this.allowed('audio'), video: this.allowed('video') }; }

  /** One grant per category, so each can be withdrawn on its own. */
  async grant(categories) {
    await this.ready;
    if (!this.manager) throw this.openError ?? new Error('The consent record could not be opened.');
    const end = Date.now() + GRANT_HOURS * 3_600_000;
    for (const category of categories) {
      // Skips what consent already allows (a grant under an earlier notice does not count).
      if (this.allowed(category)) continue;
      await this.manager.grant({ purposes: ['TREAT'], categories: [category], period: { end } });
    }
  }

  async withdraw(category) {
    for (const record of this.activeGrants(category)) await this.manager.withdraw(record.seq);
    this.ctx.announce(`You withdrew consent for ${inSentence(CATEGORY_LABEL[category])}. It stopped at once.`);
  }

  async give(category) {
    await this.grant([category]);
    this.ctx.announce(`You gave consent for ${inSentence(CATEGORY_LABEL[category])}.`);
    if ((category === 'video' || category === 'audio') && this.consultation) {
      // Open the camera/microphone again with everything consent now allows.
      try {
        await this.consultation.startMedia(this.allowedMedia());
        this.ctx.onMediaChanged?.();
      } catch (err) {
        this.ctx.showAlert(errorWords(err));
      }
    }
    this.share?.flush();
  }

  renderConsent() {
    const list = $('consent-list');
    const status = $('consent-card-status');
    if (!this.consentAvailable || this.openError) {
      list.replaceChildren();
      status.textContent = this.openError
        ? `Your consent record could not be opened on this device: ${errorWords(this.openError)}`
        : 'Consent recording is not available in this version.';
      return;
    }
    if (!this.manager) return;
    const records = this.manager.list();
    // A re-render (a countersignature arriving, say) must not take focus away from the list.
    const focused = list.contains(document.activeElement) ? document.activeElement.closest('li')?.dataset.category : null;
    list.replaceChildren(...CATEGORIES.map(({ id, label }) => {
      const covering = records.filter((r) => r.grant.categories.includes(id));
      const active = covering.some((r) => r.status.state === 'active');
      const last = covering.at(-1);
      const state = active ? 'active' : last?.status.state === 'withdrawn' ? 'withdrawn' : last ? 'inactive' : 'none';
      const words = { active: 'Given', withdrawn: `Withdrawn ${last ? shortTime(last.status.at) : ''}`, inactive: 'Ended', none: 'Not given' }[state];
      return h('li', { dataset: { category: id, state } },
        h('span', { class: 'what' }, label),
        h('span', { class: 'state' }, words),
        active
          ? h('button', { type: 'button', class: 'secondary withdraw', 'aria-label': `Withdraw consent for ${inSentence(label)}`, onclick: (e) => this.act(e, () => this.withdraw(id)) }, 'Withdraw')
          : h('button', { type: 'button', class: 'give', 'aria-label': `Give consent for ${inSentence(label)}`, onclick: (e) => this.act(e, () => this.give(id)) }, 'Give consent'));
    }));
    if (focused) list.querySelector(`li[data-category="${focused}"] button`)?.focus();
    const size = this.manager.size;
    status.textContent = size === 0
      ? 'Nothing recorded yet. Nothing is shared without your consent.'
      : this.checkpoint?.matchesHead && this.checkpoint.size === size
        ? `✓ ${size} signed ${size === 1 ? 'entry' : 'entries'} on this device, countersigned by your clinician.`
        : `${size} signed ${size === 1 ? 'entry' : 'entries'} on this device.`;
    status.dataset.countersigned = String(Boolean(this.checkpoint?.matchesHead && this.checkpoint.size === size));
  }

  /** Runs a consent action from a button, keeping focus on the same category's new button. */
  async act(event, fn) {
    const category = event.currentTarget.closest('li')?.dataset.category;
    event.currentTarget.disabled = true;
    try {
      await fn();
    } catch (err) {
      this.ctx.showAlert(errorWords(err));
    }
    this.renderConsent();
    this.renderDevices();
    $('consent-list').querySelector(`li[data-category="${category}"] button`)?.focus();
  }

  // ----- the consultation ---------------------------------------------------------------

  attach(c) {
    this.consultation = c;
    const seen = (id, role) => { if (role === 'clinician') this.setClinician(id); };
    c.addEventListener('participantjoined', (e) => seen(e.detail.participant.id, e.detail.participant.role));
    c.addEventListener('participantconnected', (e) => {
      const p = c.participants().find((x) => x.id === e.detail.participantId);
      seen(p?.id, p?.role);
    });
    c.addEventListener('localmediastopped', (e) => {
      const what = e.detail.kind === 'video' ? 'camera' : 'microphone';
      this.ctx.announce(`Your ${what} stopped because its consent was withdrawn.`);
      this.ctx.onMediaChanged?.();
    });
    for (const p of c.participants()) seen(p.id, p.role);
    this.renderConsent();
    this.renderDevices();
  }

  setClinician(id) {
    if (!id || id === this.clinicianId) return;
    this.clinicianId = id;
    if (this.manager) {
      this.manager.detachConsultations();
      this.manager.attachConsultation(this.consultation, id);
    }
    if (this.devicesAvailable) {
      this.share?.close();
      this.share = new this.sdk.ReadingShare(this.consultation, id, {});
      this.share.addEventListener('delivered', (e) => this.mark(e.detail.id, 'shared'));
      this.share.addEventListener('withheld', (e) => this.mark(e.detail.id, 'withheld'));
      this.share.addEventListener('error', (e) => { $('devices-status').textContent = `A reading could not be sent: ${e.detail.message}`; });
      for (const source of this.sources) this.share.attach(source);
    }
  }

  detach() {
    this.simulator?.stop();
    this.session?.close();
    this.share?.close();
    this.manager?.detachConsultations();
    this.session = null;
    this.bridge = null;
    this.simulator = null;
    this.sources = [];
    this.share = null;
    this.clinicianId = null;
    this.consultation = null;
  }

  // ----- devices ------------------------------------------------------------------------

  addSource(source) {
    source.addEventListener('reading', (e) => this.onReading(e.detail.reading));
    this.sources.push(source);
    this.share?.attach(source);
  }

  connectDevice() {
    const { DeviceSession } = this.sdk;
    if (!DeviceSession?.isSupported?.()) {
      $('devices-status').textContent = 'This browser cannot connect Bluetooth devices itself. In the Teleconsult app, your phone connects them through its device bridge; here you can try the simulated device.';
      return;
    }
    if (!this.session) {
      this.session = new DeviceSession({});
      this.session.addEventListener('connected', (e) => {
        const d = e.detail.device;
        $('devices-status').textContent = `${e.detail.reconnected ? 'Reconnected' : 'Connected'}: ${d.name ?? d.model ?? 'your device'}${d.batteryLevel !== undefined ? ` (battery ${d.batteryLevel}%)` : ''}.`;
        this.ctx.announce($('devices-status').textContent);
      });
      this.session.addEventListener('reconnecting', () => { $('devices-status').textContent = 'The device went out of reach. Reconnecting…'; });
      this.session.addEventListener('error', (e) => { $('devices-status').textContent = `The device sent something we could not read: ${e.detail.message}`; });
      this.addSource(this.session);
    }
    $('devices-status').textContent = 'Choose your device in the browser\'s window…';
    // requestDevice must run inside the click: it is the first thing this handler awaits.
    this.session.requestDevice({ kinds: ['heart-rate', 'pulse-oximeter', 'blood-pressure'] }).catch((err) => {
      $('devices-status').textContent = err.code === 'PermissionDenied'
        ? 'No device was chosen.'
        : `The device could not be connected: ${errorWords(err)}`;
    });
  }

  toggleSimulator() {
    if (!this.bridge) {
      this.bridge = new this.sdk.DeviceBridge({});
      this.addSource(this.bridge);
      this.simulator = new Simulator(this.bridge);
    }
    if (this.simulator.running) {
      this.simulator.stop();
      $('simulate-device').textContent = 'Use a simulated device (demo)';
      $('devices-status').textContent = 'The simulated device is off.';
    } else {
      this.simulator.start();
      $('simulate-device').textContent = 'Stop the simulated device';
      $('devices-status').textContent = 'A simulated heart-rate monitor, pulse oximeter and cuff are sending readings (demo data).';
    }
    this.ctx.announce($('devices-status').textContent);
  }

  onReading(reading) {
    const d = describeReading(reading);
    if (!d) return;
    this.latest.set(d.category, { text: d.text, time: reading.effectiveTime, status: 'sending', id: reading.id });
    this.idCategory.set(reading.id, d.category);
    if (this.idCategory.size > 500) this.idCategory.delete(this.idCategory.keys().next().value);
    this.renderDevices();
  }

  mark(id, status) {
    const category = this.idCategory.get(id);
    const entry = category && this.latest.get(category);
    if (entry && entry.id === id) entry.status = status;
    this.renderDevices();
  }

  renderDevices() {
    const available = this.devicesAvailable;
    $('connect-device').hidden = !available;
    $('simulate-device').hidden = !available;
    if (!available) {
      $('devices-status').textContent = 'Device readings are not available in this version.';
      return;
    }
    const words = { sending: 'Sending…', shared: 'Shared ✓', withheld: 'Not shared: no consent' };
    $('readings').replaceChildren(...[...this.latest.entries()].map(([category, r]) => {
      const status = r.status === 'sending' && !this.allowed(category) ? 'withheld' : r.status;
      return h('li', { dataset: { category, status } },
        h('span', {}, CATEGORY_LABEL[category]),
        h('span', {}, h('span', { class: 'value' }, r.text), ' ', h('span', { class: 'hint' }, words[status])));
    }));
  }
}
