// ConsentManager: the patient's signed, append-only consent ledger.
import type { ConsentAttachOptions, ConsentCategory, ConsentCheckpoint, ConsentDecision, ConsentEntry, ConsentEventMap, ConsentGrantInput, ConsentGrantRecord, ConsentManagerOptions, ConsentNoticeInput, ConsentReceipt, ConsentReceiptContext, ConsentRecipient, ConsentRequest, ConsentSummary, FhirConsent } from './types/consent.js';
import * as wasm from '../web/teleconsult.js';
import { call, promise, TeleconsultError } from './errors.js';
import { disposable, free, inner, listen, wrap, eventNames } from './base.js';
import {
  arg, bytes, category, list, request, notice, num, obj, oneOf, opt, purpose, recipient, storage, str, u32,
} from './validate.js';
import { consultationArg, ownConsultationArg, type Consultation } from './consultation.js';

/** The manager's export for this package's own consultations (src/web/consent.rs). */
type AttachCall = { attachCall(c: wasm.Consultation, participantId: string, options?: ConsentAttachOptions): void };

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

const receiptContext = obj({
  controller: obj({ name: str, contact: str }),
  jurisdiction: str,
  withdrawalMethod: str,
});

const M = 'ConsentManager';
const CONSENT_EVENTS = eventNames<ConsentEventMap>({ change: true, checkpoint: true, error: true });
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
      const c = arg(consultation, 'consultation', ownConsultationArg);
      const p = arg(participantId, 'participantId', str);
      return m(this).recordSasConfirmed(c, p);
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
    const opts = o as ConsentAttachOptions | undefined;
    call(() => c instanceof wasm.Consultation
      ? (m(this) as unknown as AttachCall).attachCall(c, p, opts)
      : m(this).attachConsultation(c as wasm.Consultation, p, opts));
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

export interface ConsentManager { [Symbol.dispose](): void }

// The shared checks under names the methods' parameters do not shadow.
const noticeArg = notice;
const requestArg = request;
const categoryArg = category;
const recipientArg = recipient;
