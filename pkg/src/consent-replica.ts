// ConsentReplica: the clinician's verified copy of a patient's ledger.
import type {
  ConsentCheckpoint, ConsentDecision, ConsentEntryTiming, ConsentEventMap, ConsentGrantRecord,
  ConsentReplicaOptions, ConsentRequest, ConsentSummary, FhirConsent,
} from './types/consent.js';
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

/**
 * The clinician's copy of one patient's ledger: verifies each entry the patient sends and
 * countersigns a checkpoint of its head. Create it with `new ConsentReplica(options)` (or
 * `ConsentReplica.open`); it learns the ledger from the patient's announcement over
 * `attachConsultation`, or from `ledgerId` and `patientPublicKey` given up front (then only
 * that ledger is accepted). It countersigns with the clinician's per-visit identity key
 * (`clinicianSigningKey`), and records when it received each entry: an entry whose signed
 * time is more than 5 minutes from its arrival is refused (`Untimely`; see docs/CONSENT.md,
 * "Entry times").
 */
export class ConsentReplica {
  /**
   * A new replica kept in memory. Options: `clinicianSigningKey` (required: the
   * clinician's per-visit identity key, a 32-byte Ed25519 seed from the invite link);
   * `ledgerId` and `patientPublicKey` (hex) pin the ledger; `ledger` (an exported ledger,
   * `Uint8Array`) resumes from a copy kept earlier, verified against `patientPublicKey`,
   * with `receivedAt` (its entries' receive times, `timing()`); `recipient`, `purpose`,
   * `notice` are the defaults of `check` as for `ConsentManager.open`. Throws
   * `InvalidArgument`, or `Consent` if the resumed ledger fails verification. To keep the
   * replica across reloads, use `ConsentReplica.open`.
   */
  constructor(options?: ConsentReplicaOptions) {
    const o = arg(options, 'options', opt(replicaOptions));
    hold(this, call(() => new wasm.ConsentReplica(o as ConsentReplicaOptions)));
  }

  /**
   * Opens (or creates) the replica named `name` in IndexedDB: its received entries, their
   * receive times and the clinician's signing key, wrapped under a non-extractable
   * WebCrypto key as the patient's device key is. Each accepted entry is written through.
   * With `storage: "memory"` it is `new ConsentReplica(options)` behind a Promise.
   *
   * Resolves to the `ConsentReplica`. Rejects with `InvalidArgument` (bad options; no
   * `clinicianSigningKey` for a replica not stored yet; one that differs from the stored
   * replica's key), `Unsupported` (no IndexedDB or WebCrypto), or `Consent` (the stored
   * copy fails verification; `Store` when IndexedDB fails).
   */
  static open(options: ConsentReplicaOptions): Promise<ConsentReplica> {
    return promise(() => {
      const o = arg(options, 'options', replicaOptions);
      return wasm.ConsentReplica.open(o as ConsentReplicaOptions).then((i) => wrap(ConsentReplica, i));
    });
  }

  /** The clinician key that signs checkpoints (64 hex digits). */
  get publicKey(): string { return call(() => r(this).publicKey); }
  /** The replicated ledger's id, once known. */
  get ledgerId(): string | undefined { return call(() => r(this).ledgerId); }
  /** The patient's device key, once known. */
  get patientPublicKey(): string | undefined { return call(() => r(this).patientPublicKey); }
  /** Hash of the newest entry held (64 hex digits), once the ledger is known. */
  get head(): string | undefined { return call(() => r(this).head); }
  /** Entries held. */
  get size(): number { return call(() => r(this).size); }

  /**
   * Verifies one encoded entry from the patient and appends it; returns the countersigned
   * checkpoint of the new head, timed now. Throws `InvalidState` before the ledger is
   * known, and `Consent` for anything the ledger rejects (`Replayed`, `Fork`,
   * `MissingEntry`, `BadSignature`, `Untimely`: signed more than 5 minutes from now —
   * the replica then enforces nothing until the patient announces again, …).
   */
  receive(entry: Uint8Array): ConsentCheckpoint {
    const b = arg(entry, 'entry', bytes);
    return call(() => r(this).receive(b));
  }

  /** A countersigned checkpoint of the current head, once the ledger is known. */
  checkpoint(): ConsentCheckpoint | undefined { return call(() => r(this).checkpoint()); }
  /**
   * The decision for `request` against the replicated ledger (default deny; an unknown
   * ledger denies everything). Defaults come from the constructor options.
   */
  check(request: ConsentRequest): ConsentDecision {
    const q = arg(request, 'request', requestArg);
    return call(() => r(this).check(q as unknown as ConsentRequest));
  }
  /** Every grant with its status. */
  list(): ConsentGrantRecord[] { return call(() => r(this).list()); }
  /** Signed and receive time of every entry held (`ConsentEntryTiming[]`). */
  timing(): ConsentEntryTiming[] { return call(() => r(this).timing()); }
  /** Re-verifies the replicated ledger and its current checkpoint. */
  verify(): ConsentSummary { return call(() => r(this).verify()); }
  /** The replicated ledger, encoded (empty until the ledger is known). */
  export(): Uint8Array { return call(() => r(this).export()); }
  /** FHIR R4 Consent resources of the replicated ledger. */
  toFhir(): FhirConsent[] { return call(() => r(this).toFhir()); }

  /**
   * Syncs with the patient `participantId` of `consultation`: asks the patient's
   * `ConsentManager` to announce its ledger, verifies each entry it sends, answers with a
   * countersigned checkpoint, and dispatches `change` for each new entry.
   */
  attachConsultation(consultation: Consultation, participantId: string): void {
    const c = arg(consultation, 'consultation', consultationArg);
    const p = arg(participantId, 'participantId', str);
    call(() => c instanceof wasm.Consultation
      ? (r(this) as unknown as AttachCall).attachCall(c, p)
      : r(this).attachConsultation(c as wasm.Consultation, p));
  }

  /** Stops syncing with every consultation; a recording that needed this record stops. */
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
