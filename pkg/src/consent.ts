// Consent: ConsentManager (the patient's signed ledger), ConsentReplica (the clinician's
// copy) and verifyLedger.
import type {
  ConsentAttachOptions,
  ConsentCategory,
  ConsentCheckpoint,
  ConsentDecision,
  ConsentEntry,
  ConsentEntryTiming,
  ConsentEventMap,
  ConsentGrantInput,
  ConsentGrantRecord,
  ConsentManagerOptions,
  ConsentNoticeInput,
  ConsentReceipt,
  ConsentReceiptContext,
  ConsentRecipient,
  ConsentReplicaOptions,
  ConsentRequest,
  ConsentSummary,
  FhirConsent,
} from '../web/teleconsult.js';
import * as wasm from '../web/teleconsult.js';
import { call, promise, TeleconsultError } from './errors.js';
import { disposable, free, hold, inner, listen, wrap } from './base.js';
import {
  arg, bytes, category, list, notice, nullable, num, obj, oneOf, opt, purpose, recipient, storage, str, u32,
} from './validate.js';
import { consultationArg, type Consultation } from './consultation.js';

const managerOptions = obj({
  patient: str,
  'storage?': storage,
  'ledgerId?': str,
  'databaseName?': str,
  'recipient?': recipient,
  'purpose?': purpose,
  'notice?': notice,
  'link?': str,
  'clinicianPublicKey?': bytes,
});

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

const attachOptions = obj({ 'recipient?': recipient, 'link?': str, 'clinicianPublicKey?': bytes });

const grantInput = obj({
  'patient?': str,
  'recipient?': recipient,
  purposes: list(purpose),
  categories: list(category),
  'period?': obj({ 'start?': num, 'end?': num }),
  'notice?': notice,
  'collection?': obj({ method: oneOf('patient-action', 'verbal-attested'), 'clinician?': str }),
});

const request = obj({
  category,
  'recipient?': recipient,
  'purpose?': purpose,
  'now?': num,
  'noticeVersion?': str,
});

const receiptContext = obj({
  controller: obj({ name: str, contact: str }),
  jurisdiction: str,
  withdrawalMethod: str,
});

const M = 'ConsentManager';
const CONSENT_EVENTS = ['change', 'checkpoint', 'error'];
const m = (w: ConsentManager) => inner<wasm.ConsentManager>(w, M);

/**
 * The patient's consent: grants, withdrawals and other events in a signed, append-only ledger,
 * the enforcement decisions, and exports. Create one with `ConsentManager.open`.
 */
export class ConsentManager {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use ConsentManager.open');
  }

  /** Opens (or creates) the patient's ledger. Rejects with `InvalidArgument` for bad options,
   *  `Unsupported` for a storage the platform lacks, `Consent` for a stored ledger that fails
   *  verification. */
  static open(options: ConsentManagerOptions): Promise<ConsentManager> {
    return promise(() => {
      const o = arg(options, 'options', managerOptions);
      return wasm.ConsentManager.open(o as unknown as ConsentManagerOptions).then((i) => wrap(ConsentManager, i));
    });
  }

  /** The ledger id (32 hex digits). */
  get ledgerId(): string { return call(() => m(this).ledgerId); }
  /** The patient device's Ed25519 public key (64 hex digits). */
  get publicKey(): string { return call(() => m(this).publicKey); }
  /** Entries in the ledger. */
  get size(): number { return call(() => m(this).size); }
  /** The hash of the newest entry (hex). */
  get head(): string { return call(() => m(this).head); }
  /** Where the ledger is kept. */
  get storage(): 'indexeddb' | 'memory' { return call(() => m(this).storage); }
  /** The newest checkpoint the clinician countersigned, if any. */
  get checkpoint(): ConsentCheckpoint | undefined { return call(() => m(this).checkpoint); }

  /** Records a grant; resolves to its record. */
  grant(grant: ConsentGrantInput): Promise<ConsentGrantRecord> {
    return promise(() => {
      const g = arg(grant, 'grant', grantInput);
      return m(this).grant(g as unknown as ConsentGrantInput);
    });
  }

  /** Withdraws the grant recorded at `grantSeq`; resolves to the new entry's `seq`. */
  withdraw(grantSeq: number): Promise<number> {
    return promise(() => {
      const s = arg(grantSeq, 'grantSeq', u32);
      return m(this).withdraw(s);
    });
  }

  /** Records that the grant at `grantSeq` expired; resolves to the new entry's `seq`. */
  expire(grantSeq: number): Promise<number> {
    return promise(() => {
      const s = arg(grantSeq, 'grantSeq', u32);
      return m(this).expire(s);
    });
  }

  /** Records that the app now presents `notice`; resolves to the new entry's `seq`. */
  updateNotice(notice: ConsentNoticeInput): Promise<number> {
    return promise(() => {
      const n = arg(notice, 'notice', noticeArg);
      return m(this).updateNotice(n as unknown as ConsentNoticeInput);
    });
  }

  /** Records that this side confirmed the SAS with `participantId` in `consultation`;
   *  resolves to the entry's `seq`. */
  recordSasConfirmed(consultation: Consultation, participantId: string): Promise<number> {
    return promise(() => {
      const c = arg(consultation, 'consultation', consultationArg);
      const p = arg(participantId, 'participantId', str);
      return m(this).recordSasConfirmed(c as wasm.Consultation, p);
    });
  }

  /** The enforcement decision for `request` (default deny). */
  check(request: ConsentRequest): ConsentDecision {
    const r = arg(request, 'request', requestArg);
    return call(() => m(this).check(r as unknown as ConsentRequest));
  }

  /** The decision for `category` with the default recipient, purpose and notice. */
  allows(category: ConsentCategory, recipient?: ConsentRecipient): ConsentDecision {
    const c = arg(category, 'category', categoryArg);
    const r = arg(recipient, 'recipient', opt(recipientArg));
    return call(() => m(this).allows(c, r as ConsentRecipient | undefined));
  }

  /** Every grant with its status. */
  list(): ConsentGrantRecord[] { return call(() => m(this).list()); }
  /** Every entry, decoded. */
  entries(): ConsentEntry[] { return call(() => m(this).entries()); }

  /** The signed bytes of the entry at `seq`, or undefined. */
  entryBytes(seq: number): Uint8Array | undefined {
    const s = arg(seq, 'seq', u32);
    return call(() => m(this).entryBytes(s));
  }

  /** Verifies the whole ledger. */
  verify(): ConsentSummary { return call(() => m(this).verify()); }
  /** The ledger's bytes (for `verifyLedger` or a `ConsentReplica`). */
  export(): Uint8Array { return call(() => m(this).export()); }
  /** FHIR R4 Consent resources, one per grant. */
  toFhir(): FhirConsent[] { return call(() => m(this).toFhir()); }

  /** An ISO/IEC TS 27560 style receipt for the grant at `seq`. */
  receipt(seq: number, context: ConsentReceiptContext): ConsentReceipt {
    const s = arg(seq, 'seq', u32);
    const c = arg(context, 'context', receiptContext);
    return call(() => m(this).receipt(s, c as unknown as ConsentReceiptContext));
  }

  /** Checks and keeps a checkpoint the clinician countersigned. */
  acceptCheckpoint(checkpoint: Uint8Array, clinicianPublicKey: string): Promise<void> {
    return promise(() => {
      const b = arg(checkpoint, 'checkpoint', bytes);
      const k = arg(clinicianPublicKey, 'clinicianPublicKey', str);
      return m(this).acceptCheckpoint(b, k);
    });
  }

  /** Syncs this ledger with the clinician `participantId` of `consultation`. */
  attachConsultation(consultation: Consultation, participantId: string, options?: ConsentAttachOptions): void {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    const o = arg(options, 'options', opt(attachOptions));
    call(() => m(this).attachConsultation(c as wasm.Consultation, p, o as ConsentAttachOptions | undefined));
  }

  /** Stops syncing with every attached consultation. */
  detachConsultations(): void { call(() => m(this).detachConsultations()); }
  /** Closes the storage and detaches; the manager is unusable afterwards. */
  close(): void { call(() => m(this).close()); }
  /** Releases the wasm memory (idempotent). */
  free(): void { free(this); }

  /** Listens for `change`, `checkpoint` and `error` events. */
  addEventListener<K extends keyof ConsentEventMap>(type: K, listener: (event: CustomEvent<ConsentEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void {
    listen(this, M, CONSENT_EVENTS, true, type, listener, options);
  }

  removeEventListener<K extends keyof ConsentEventMap>(type: K, listener: (event: CustomEvent<ConsentEventMap[K]>) => void, options?: boolean | EventListenerOptions): void {
    listen(this, M, CONSENT_EVENTS, false, type, listener, options);
  }
}
disposable(ConsentManager);

const noticeArg = notice;
const requestArg = request;
const categoryArg = category;
const recipientArg = recipient;

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
    call(() => r(this).attachConsultation(c as wasm.Consultation, p));
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

export interface ConsentManager { [Symbol.dispose](): void }
export interface ConsentReplica { [Symbol.dispose](): void }

const checkpointArg = obj({ bytes, clinicianPublicKey: str });

/** Verifies an exported ledger against the patient's public key (and a countersigned
 *  checkpoint); throws `Consent` with a `consentCode` when it fails. */
export function verifyLedger(bytes: Uint8Array, patientPublicKey: string, checkpoint?: { bytes: Uint8Array; clinicianPublicKey: string }): ConsentSummary {
  const b = arg(bytes, 'bytes', bytesArg);
  const k = arg(patientPublicKey, 'patientPublicKey', str);
  const c = arg(checkpoint, 'checkpoint', opt(checkpointArg));
  return call(() => wasm.verifyLedger(b, k, c as { bytes: Uint8Array; clinicianPublicKey: string } | undefined));
}
const bytesArg = bytes;
