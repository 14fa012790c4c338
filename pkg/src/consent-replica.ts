// ConsentReplica: the clinician's verified copy of a patient's ledger.
import type { ConsentCheckpoint, ConsentDecision, ConsentEntryTiming, ConsentEventMap, ConsentGrantRecord, ConsentReplicaOptions, ConsentRequest, ConsentSummary, FhirConsent } from './types/consent.js';
import * as wasm from '../web/teleconsult.js';
import { call, promise } from './errors.js';
import { disposable, free, hold, inner, listen, wrap, eventNames } from './base.js';
import { arg, bytes, list, request, notice, nullable, num, obj, opt, purpose, recipient, storage, str } from './validate.js';
import { consultationArg, type Consultation } from './consultation.js';

/** The replica's export for this package's own consultations (src/web/consent.rs). */
type AttachCall = { attachCall(c: wasm.Consultation, participantId: string): void };

const replicaOptions = obj({
  'link?': str,
  'clinicianSigningKey?': bytes,
  'storage?': storage,
  'name?': str,
  'databaseName?': str,
  'ledgerId?': str,
  'patientPublicKey?': str,
  'ledger?': bytes,
  'receivedAt?': list(nullable(num)),
  'recipient?': recipient,
  'purpose?': purpose,
  'notice?': notice,
});

const CONSENT_EVENTS = eventNames<ConsentEventMap>({ change: true, checkpoint: true, error: true });
const R = 'ConsentReplica';
const r = (w: ConsentReplica) => inner<wasm.ConsentReplica>(w, R);

/** The clinician's copy of a patient's ledger: receives entries, verifies them and
 *  countersigns checkpoints. */
export class ConsentReplica {
  /** A replica kept in memory. */
  constructor(options?: ConsentReplicaOptions) {
    const o = arg(options, 'options', opt(replicaOptions));
    hold(this, call(() => new wasm.ConsentReplica(o as ConsentReplicaOptions)));
  }

  /** A replica, from IndexedDB where `storage` says so. */
  static open(options: ConsentReplicaOptions): Promise<ConsentReplica> {
    return promise(() => {
      const o = arg(options, 'options', replicaOptions);
      return wasm.ConsentReplica.open(o as ConsentReplicaOptions).then((i) => wrap(ConsentReplica, i));
    });
  }

  /** The clinician's per-visit public key (hex). */
  get publicKey(): string { return call(() => r(this).publicKey); }
  get ledgerId(): string | undefined { return call(() => r(this).ledgerId); }
  get patientPublicKey(): string | undefined { return call(() => r(this).patientPublicKey); }
  get head(): string | undefined { return call(() => r(this).head); }
  get size(): number { return call(() => r(this).size); }

  /** Verifies and appends one entry; returns the new countersigned checkpoint. */
  receive(entry: Uint8Array): ConsentCheckpoint {
    const b = arg(entry, 'entry', bytes);
    return call(() => r(this).receive(b));
  }

  /** The newest countersigned checkpoint, if any. */
  checkpoint(): ConsentCheckpoint | undefined { return call(() => r(this).checkpoint()); }
  check(request: ConsentRequest): ConsentDecision {
    const q = arg(request, 'request', requestArg);
    return call(() => r(this).check(q as unknown as ConsentRequest));
  }
  list(): ConsentGrantRecord[] { return call(() => r(this).list()); }
  timing(): ConsentEntryTiming[] { return call(() => r(this).timing()); }
  verify(): ConsentSummary { return call(() => r(this).verify()); }
  export(): Uint8Array { return call(() => r(this).export()); }
  toFhir(): FhirConsent[] { return call(() => r(this).toFhir()); }

  /** Syncs with the patient `participantId` of `consultation`. */
  attachConsultation(consultation: Consultation, participantId: string): void {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    call(() => c instanceof wasm.Consultation
      ? (r(this) as unknown as AttachCall).attachCall(c, p)
      : r(this).attachConsultation(c as wasm.Consultation, p));
  }

  detachConsultations(): void { call(() => r(this).detachConsultations()); }
  free(): void { free(this); }

  addEventListener<K extends keyof ConsentEventMap>(type: K, listener: (event: CustomEvent<ConsentEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void {
    listen(this, R, CONSENT_EVENTS, true, type, listener, options);
  }

  removeEventListener<K extends keyof ConsentEventMap>(type: K, listener: (event: CustomEvent<ConsentEventMap[K]>) => void, options?: boolean | EventListenerOptions): void {
    listen(this, R, CONSENT_EVENTS, false, type, listener, options);
  }
}
disposable(ConsentReplica);

export interface ConsentReplica { [Symbol.dispose](): void }

// The request check under a name the parameter does not shadow.
const requestArg = request;
