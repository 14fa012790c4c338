// ConsentManager: the patient's signed, append-only consent ledger.
import type {
  ConsentAttachOptions, ConsentCategory, ConsentCheckpoint, ConsentDecision, ConsentEntry,
  ConsentEventMap, ConsentGrantInput, ConsentGrantRecord, ConsentManagerOptions,
  ConsentNoticeInput, ConsentReceipt, ConsentReceiptContext, ConsentRecipient, ConsentRequest,
  ConsentSummary, FhirConsent,
} from './types/consent.js';
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
 * persisted on the device and synced to the clinician; the enforcement decisions, and
 * exports. Create one with `ConsentManager.open(options)`.
 */
export class ConsentManager {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use ConsentManager.open');
  }

  /**
   * Opens the patient's ledger: loads every entry and the device key from IndexedDB (or
   * starts empty in memory), creating a ledger and a device key on first use, and
   * verifies everything it loaded.
   *
   * Resolves to the `ConsentManager`. Rejects with `InvalidArgument` (bad options),
   * `Unsupported` (no IndexedDB or WebCrypto for `storage: "indexeddb"`), or `Consent`
   * (the stored ledger fails verification; `consentCode` says how, e.g. `BadSignature`
   * for an edited entry, `Truncated` for entries lost after a checkpoint, `Store` when
   * IndexedDB fails).
   */
  static open(options: ConsentManagerOptions): Promise<ConsentManager> {
    return promise(() => {
      const o = arg(options, 'options', managerOptions);
      return wasm.ConsentManager.open(o as unknown as ConsentManagerOptions).then((i) => wrap(ConsentManager, i));
    });
  }

  /** The ledger id (32 hex digits): pass it as `ledgerId` to reopen this ledger. */
  get ledgerId(): string { return call(() => m(this).ledgerId); }
  /** The device's Ed25519 public key (64 hex digits): give it to verifiers and the clinician. */
  get publicKey(): string { return call(() => m(this).publicKey); }
  /** Number of entries in the ledger. */
  get size(): number { return call(() => m(this).size); }
  /** Hash of the newest entry (64 hex digits; the genesis hash when empty). */
  get head(): string { return call(() => m(this).head); }
  /** Where the ledger is kept: `"indexeddb"` or `"memory"`. */
  get storage(): 'indexeddb' | 'memory' { return call(() => m(this).storage); }
  /** The newest countersigned checkpoint accepted from a clinician, if any. */
  get checkpoint(): ConsentCheckpoint | undefined { return call(() => m(this).checkpoint); }

  /**
   * Records a grant, signed by the device key, persisted, then sent to every attached
   * clinician. Resolves to the new `ConsentGrantRecord` (its `seq` names the grant).
   * Rejects with `InvalidArgument` (a missing or malformed field), or `Consent`
   * (`InvalidEvent` for empty sets or a bad period, `GrantExpired`, `NoticeHashMismatch`
   * when the same notice version was recorded with another text, `Store` when the write
   * failed — the grant is then not recorded).
   */
  grant(grant: ConsentGrantInput): Promise<ConsentGrantRecord> {
    return promise(() => {
      const g = arg(grant, 'grant', grantInput);
      return m(this).grant(g as unknown as ConsentGrantInput);
    });
  }

  /**
   * Withdraws grant `grantSeq`: effective at once for every check on this device, and on
   * the clinician's side as soon as the entry arrives. Resolves to the withdrawal's `seq`.
   * Rejects with `Consent` (`UnknownGrant`, `GrantNotActive`, `Store`).
   */
  withdraw(grantSeq: number): Promise<number> {
    return promise(() => {
      const s = arg(grantSeq, 'grantSeq', u32);
      return m(this).withdraw(s);
    });
  }

  /**
   * Records that grant `grantSeq` reached the end of its period (the checks honour the
   * period without it; this puts the expiry on the record). Resolves to the entry's `seq`.
   */
  expire(grantSeq: number): Promise<number> {
    return promise(() => {
      const s = arg(grantSeq, 'grantSeq', u32);
      return m(this).expire(s);
    });
  }

  /**
   * Records that a new version of a notice was published: grants under older versions of
   * the same URI stop allowing anything, and `notice` becomes the default for grants and
   * checks. Resolves to the entry's `seq`.
   */
  updateNotice(notice: ConsentNoticeInput): Promise<number> {
    return promise(() => {
      const n = arg(notice, 'notice', noticeArg);
      return m(this).updateNotice(n as unknown as ConsentNoticeInput);
    });
  }

  /**
   * Records that this side's user compared and confirmed the SAS with `participantId` in
   * `consultation` (after `consultation.confirmSas`). The entry binds the SAS the SDK
   * computed (the participant's `sasBinding`), never bytes the app passes in. Resolves to
   * the entry's `seq`; rejects with `InvalidArgument` (no such participant) or
   * `InvalidState` (no SAS yet, or not confirmed on this side).
   */
  recordSasConfirmed(consultation: Consultation, participantId: string): Promise<number> {
    return promise(() => {
      const c = arg(consultation, 'consultation', ownConsultationArg);
      const p = arg(participantId, 'participantId', str);
      return m(this).recordSasConfirmed(c, p);
    });
  }

  /**
   * The enforcement decision for `request` (default deny). Throws `InvalidArgument` when
   * the request names no recipient or notice version and the options give none.
   */
  check(request: ConsentRequest): ConsentDecision {
    const r = arg(request, 'request', requestArg);
    return call(() => m(this).check(r as unknown as ConsentRequest));
  }

  /**
   * The decision for sharing `category` now with `recipient` (default: the `recipient`
   * option), for the default purpose and the presented notice — what the SDK's own
   * enforcement points ask. Never throws for lack of a recipient: it denies (`NoGrant`).
   */
  allows(category: ConsentCategory, recipient?: ConsentRecipient): ConsentDecision {
    const c = arg(category, 'category', categoryArg);
    const r = arg(recipient, 'recipient', opt(recipientArg));
    return call(() => m(this).allows(c, r as ConsentRecipient | undefined));
  }

  /** Every grant with its status, in ledger order. */
  list(): ConsentGrantRecord[] { return call(() => m(this).list()); }
  /** Every entry, decoded, in order. */
  entries(): ConsentEntry[] { return call(() => m(this).entries()); }

  /** The encoding of entry `seq` (what travels to the clinician), if it exists. */
  entryBytes(seq: number): Uint8Array | undefined {
    const s = arg(seq, 'seq', u32);
    return call(() => m(this).entryBytes(s));
  }

  /**
   * Re-verifies every entry and the newest countersigned checkpoint. Throws `Consent`
   * (with `consentCode`) if anything fails.
   */
  verify(): ConsentSummary { return call(() => m(this).verify()); }
  /**
   * The whole ledger, encoded (docs/CONSENT.md "Encoding"): archive it, or check it
   * anywhere with `verifyLedger(bytes, publicKey, checkpoint)`.
   */
  export(): Uint8Array { return call(() => m(this).export()); }
  /**
   * FHIR R4 Consent resources, one per grant (`inactive` once withdrawn, expired or
   * superseded).
   */
  toFhir(): FhirConsent[] { return call(() => m(this).toFhir()); }

  /**
   * The ISO/IEC TS 27560 style receipt of grant `seq`; `context` names the controller,
   * jurisdiction and withdrawal method. Throws `Consent` (`UnknownGrant`) or
   * `InvalidArgument`.
   */
  receipt(seq: number, context: ConsentReceiptContext): ConsentReceipt {
    const s = arg(seq, 'seq', u32);
    const c = arg(context, 'context', receiptContext);
    return call(() => m(this).receipt(s, c as unknown as ConsentReceiptContext));
  }

  /**
   * Checks a checkpoint the clinician returned (when not syncing through
   * `attachConsultation`) against this ledger and keeps it. Resolves once stored.
   * Rejects with `Consent` (`UnknownClinicianKey`: not the key of the `clinicianPublicKey`
   * option, `WrongLedger`, `BadCheckpointSignature`, `Truncated`: the clinician saw
   * entries this device lost, `CheckpointMismatch`: history differs).
   */
  acceptCheckpoint(checkpoint: Uint8Array, clinicianPublicKey: string): Promise<void> {
    return promise(() => {
      const b = arg(checkpoint, 'checkpoint', bytes);
      const k = arg(clinicianPublicKey, 'clinicianPublicKey', str);
      return m(this).acceptCheckpoint(b, k);
    });
  }

  /**
   * Syncs this ledger with the clinician `participantId` of `consultation`, over its
   * end-to-end encrypted app-data channel: announces the ledger, sends every entry the
   * clinician's `ConsentReplica` lacks and then each new one, and checks each
   * countersigned checkpoint that comes back (`checkpoint` event). Also makes this
   * manager the consent the consultation's enforcement points ask. Other app data on the
   * channel is left alone (consent messages start with a byte in 0xC0..0xC4).
   */
  attachConsultation(consultation: Consultation, participantId: string, options?: ConsentAttachOptions): void {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    const o = arg(options, 'options', opt(attachOptions));
    const opts = o as ConsentAttachOptions | undefined;
    call(() => c instanceof wasm.Consultation
      ? (m(this) as unknown as AttachCall).attachCall(c, p, opts)
      : m(this).attachConsultation(c as wasm.Consultation, p, opts));
  }

  /** Stops syncing with every consultation (the ledger stays open). */
  detachConsultations(): void { call(() => m(this).detachConsultations()); }
  /** Detaches every consultation and closes the database. Later changes are refused. */
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
