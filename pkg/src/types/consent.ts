// Types of the consent ledger (`ConsentManager`, `ConsentReplica`, `verifyLedger`).
import type { ErrorCode } from './error-code.js';

/** A data category a grant covers; each is a separate enforcement point. */
export type ConsentCategory =
  | "video" | "audio" | "recording" | "screen-share" | "heart-rate" | "blood-pressure"
  | "body-temperature" | "body-weight" | "blood-glucose" | "spo2" | "chat-history" | "files";

/** HL7 v3 PurposeOfUse: TREAT treatment, ETREAT emergency treatment, CAREMGT care management,
 *  HPAYMT payment, HOPERAT operations, HRESCH research, PATRQT patient request, PUBHLTH public
 *  health, HQUALIMP quality improvement. */
export type ConsentPurpose =
  | "TREAT" | "ETREAT" | "CAREMGT" | "HPAYMT" | "HOPERAT" | "HRESCH" | "PATRQT" | "PUBHLTH" | "HQUALIMP";

/** Who receives the data: a FHIR Practitioner or Organization logical id. */
export interface ConsentRecipient { kind: "Practitioner" | "Organization"; id: string }

/** The notice shown to the patient. The SDK hashes `text` (the exact words shown, UTF-8). */
export interface ConsentNoticeInput { uri: string; version: string; language: string; text: string | Uint8Array }

/** A notice as recorded: `sha256` is the lowercase hex SHA-256 of the text shown. */
export interface ConsentNotice { uri: string; version: string; language: string; sha256: string }

/** How consent was collected. */
export type ConsentCollection =
  | { method: "patient-action" }
  | { method: "verbal-attested"; clinician: string };

/** What `grant()` takes. Omitted fields come from `ConsentManager.open` options. */
export interface ConsentGrantInput {
  /** FHIR Patient id; default: the `patient` option. */
  patient?: string;
  /** Default: the `recipient` option. */
  recipient?: ConsentRecipient;
  purposes: ConsentPurpose[];
  categories: ConsentCategory[];
  /** Milliseconds since the Unix epoch; `start` defaults to now, no `end` = until withdrawn. */
  period?: { start?: number; end?: number };
  /** Default: the `notice` option. */
  notice?: ConsentNoticeInput;
  /** Default: `{ method: "patient-action" }`. */
  collection?: ConsentCollection;
}

/** A grant as recorded in the ledger. */
export interface ConsentGrant {
  patient: string;
  recipient: ConsentRecipient;
  purposes: ConsentPurpose[];
  categories: ConsentCategory[];
  period: { start: number; end?: number };
  notice: ConsentNotice;
  collection: ConsentCollection;
}

/** A grant, its sequence number (its id) and its status. */
export interface ConsentGrantRecord {
  seq: number;
  grantedAt: number;
  grant: ConsentGrant;
  status: { state: "active" } | { state: "withdrawn"; at: number } | { state: "expired"; at: number };
}

/** A question at an enforcement point. Omitted fields come from the `open` options. */
export interface ConsentRequest {
  category: ConsentCategory;
  recipient?: ConsentRecipient;
  /** Default: the `purpose` option (itself `"TREAT"` by default). */
  purpose?: ConsentPurpose;
  /** Default: `Date.now()`. */
  now?: number;
  /** The notice version the app presents; default: the `notice` option's version. */
  noticeVersion?: string;
}

/** Why a decision came out as it did (see docs/CONSENT.md, "Enforcement decisions"). */
export type ConsentReason =
  | "Granted" | "NoGrant" | "OtherRecipient" | "PurposeNotCovered" | "Withdrawn" | "Expired"
  | "NotYetValid" | "NoticeChanged" | "ClockBehindLedger";

/** The answer at an enforcement point: default deny. `grant` is the deciding grant's seq. */
export interface ConsentDecision { allowed: boolean; reason: ConsentReason; grant?: number }

/** Exactly what a ledger check rejected (the `consentCode` of a `Consent` error). */
export type ConsentErrorCode =
  | "Malformed" | "BadPublicKey" | "WrongSigner" | "BadSignature" | "BrokenChain" | "MissingEntry"
  | "Reordered" | "Replayed" | "Fork" | "ClockWentBackwards" | "InvalidEvent" | "GrantExpired"
  | "UnknownGrant" | "GrantNotActive" | "PrematureExpiry" | "NoticeHashMismatch" | "WrongLedger"
  | "BadCheckpointSignature" | "Truncated" | "CheckpointMismatch" | "Full" | "Untimely"
  | "UnknownClinicianKey" | "Store";

/** What a verification established. Hashes and ids are lowercase hex. */
export interface ConsentSummary {
  ledgerId: string;
  entries: number;
  head: string;
  headTime: number;
  activeGrants: number;
  withdrawnGrants: number;
  expiredGrants: number;
  /** Entries vouched for by the checkpoint that was checked, if one was. */
  checkpointSize?: number;
}

/** A recorded event. */
export type ConsentEvent =
  | ({ type: "grant" } & ConsentGrant)
  | { type: "withdraw"; grant: number }
  | { type: "expire"; grant: number }
  | ({ type: "notice-updated" } & ConsentNotice)
  | { type: "sas-confirmed"; transcript: string }
  | { type: "participant-admitted"; participant: string };

/** One signed ledger entry (hex for hashes, key id and signature). */
export interface ConsentEntry { seq: number; prev: string; time: number; signer: string; event: ConsentEvent; signature: string }

/** A countersigned checkpoint: the clinician's signature that the ledger had `size` entries ending in `head`. */
export interface ConsentCheckpoint {
  /** The 133-byte encoding (docs/CONSENT.md). */
  bytes: Uint8Array;
  ledgerId: string;
  size: number;
  head: string;
  /** The clinician's clock when it countersigned (ms since the Unix epoch): for a checkpoint
   *  answering an entry, when the clinician's replica received it. */
  time: number;
  clinicianPublicKey: string;
}

/** When the clinician's replica received an entry, next to the time the patient's device signed
 *  into it. `late`: announced as already held at a (re)sync and received more than 5 minutes
 *  after its signed time — the clinician vouches only for `receivedAt`. */
export interface ConsentEntryTiming { seq: number; signedAt: number; receivedAt: number | null; late: boolean }

/** Options of `new ConsentReplica` and `ConsentReplica.open`. */
export interface ConsentReplicaOptions {
  /** The clinician's invite link (from `createInvite`): the replica countersigns with the
   *  clinician's per-visit key it carries. Give this or `clinicianSigningKey`. */
  link?: string;
  /** The clinician's per-visit identity key as a 32-byte Ed25519 seed, instead of `link`.
   *  Checkpoints are countersigned with it; patients verify them against its public key.
   *  Required (or `link`) for `new ConsentReplica`; for `ConsentReplica.open`, only when no
   *  replica named `name` is stored yet (a stored one keeps its own key; a different key given
   *  is refused). */
  clinicianSigningKey?: Uint8Array;
  /** (`open`) `"indexeddb"` (the default where `indexedDB` exists) keeps the replica, its
   *  received entries and times and the wrapped signing key across reloads; `"memory"` keeps nothing. */
  storage?: "indexeddb" | "memory";
  /** (`open`, IndexedDB) the replica's record name, e.g. the visit and the patient's id. Not secret. */
  name?: string;
  /** (`open`) IndexedDB database name; default `"teleconsult-consent-replicas"`. */
  databaseName?: string;
  /** Pin the ledger (hex). */
  ledgerId?: string;
  patientPublicKey?: string;
  /** (`new`) resume from an exported ledger, verified against `patientPublicKey`. */
  ledger?: Uint8Array;
  /** (`new`, with `ledger`) the receive time of each entry (`timing()`); null where unknown. */
  receivedAt?: (number | null)[];
  recipient?: ConsentRecipient;
  purpose?: ConsentPurpose;
  notice?: ConsentNoticeInput;
}

/** What `receipt()` needs from the integrator. */
export interface ConsentReceiptContext {
  controller: { name: string; contact: string };
  jurisdiction: string;
  withdrawalMethod: string;
}

/** An ISO/IEC TS 27560 style consent receipt. */
export interface ConsentReceipt {
  schemaVersion: string;
  recordId: string;
  piiPrincipalId: string;
  controllers: { name: string; contact: string }[];
  recipients: ConsentRecipient[];
  purposes: ConsentPurpose[];
  piiCategories: { category: ConsentCategory; sensitive: boolean }[];
  validFrom: string;
  validUntil?: string;
  notice: ConsentNotice;
  collectionMethod: ConsentCollection;
  jurisdiction: string;
  withdrawalMethod: string;
  state: "active" | "withdrawn" | "expired" | "superseded";
  events: { time: string; type: "given" | "withdrawn" | "expired"; actor: "pii-principal" | "system" }[];
  proof: { algorithm: "Ed25519"; ledgerId: string; seq: number; entryHash: string; signature: string; publicKey: string };
}

/** A FHIR Coding / CodeableConcept / Reference, as used in `FhirConsent`. */
export interface FhirCoding { system: string; code: string }
export interface FhirCodeableConcept { coding: FhirCoding[] }
export interface FhirReference { reference: string }
export interface FhirExtension {
  url: string; valueCode?: string; valueString?: string; valueReference?: FhirReference; extension?: FhirExtension[];
}

/** A FHIR R4 Consent resource (one per grant; see docs/CONSENT.md, "Exports"). */
export interface FhirConsent {
  resourceType: "Consent";
  id: string;
  extension: FhirExtension[];
  identifier: { system: string; value: string }[];
  status: "active" | "inactive";
  scope: FhirCodeableConcept;
  category: FhirCodeableConcept[];
  patient: FhirReference;
  dateTime: string;
  performer: FhirReference[];
  policy: { uri: string }[];
  provision: {
    type: "permit";
    period: { start: string; end?: string };
    actor: { role: FhirCodeableConcept; reference: FhirReference }[];
    action: FhirCodeableConcept[];
    purpose: FhirCoding[];
    class: FhirCoding[];
    code: FhirCodeableConcept[];
  };
}

/** Options of `ConsentManager.open`. */
export interface ConsentManagerOptions {
  /** The patient's FHIR Patient id (pseudonymous; never a name). */
  patient: string;
  /** `"indexeddb"` (the default where `indexedDB` exists) keeps the ledger and the device key
   *  across reloads; `"memory"` (the default in Node.js) keeps nothing. */
  storage?: "indexeddb" | "memory";
  /** 32 hex digits: the ledger to open. Default: the newest ledger of `patient`, or a new one. */
  ledgerId?: string;
  /** IndexedDB database name; default `"teleconsult-consent"`. */
  databaseName?: string;
  /** The default recipient of grants and checks (the clinician or clinic). */
  recipient?: ConsentRecipient;
  /** The default purpose of checks; default `"TREAT"`. */
  purpose?: ConsentPurpose;
  /** The notice the app presents now: the default for grants, and its version for checks. */
  notice?: ConsentNoticeInput;
  /** The patient's invite link: checkpoints must be countersigned by the clinician key it
   *  commits to. Give this or `clinicianPublicKey`. */
  link?: string;
  /** The clinician's per-visit identity public key (32 bytes), instead of `link`: checkpoints
   *  countersigned by any other key are refused (`UnknownClinicianKey`). Without it (or `link`,
   *  or the `attachConsultation` options) no checkpoint is accepted. */
  clinicianPublicKey?: Uint8Array;
}

/** Options of `attachConsultation`. */
export interface ConsentAttachOptions {
  /** (Patient side) who the other participant is, for the enforcement points of this
   *  consultation; default: the `recipient` option. */
  recipient?: ConsentRecipient;
  /** (Patient side) the patient's invite link, or the clinician's identity public key (32
   *  bytes): sets the key checkpoints must be countersigned by, as the `open` options do. */
  link?: string;
  clinicianPublicKey?: Uint8Array;
}

/** The `detail` of each event a `ConsentManager` or `ConsentReplica` dispatches. */
export interface ConsentEventMap {
  /** A new entry: recorded here (`origin: "local"`) or received from the patient (`"remote"`). */
  change: { seq: number; entry: ConsentEntry; origin: "local" | "remote"; participantId?: string;
    /** (`"remote"`) the replica's receive time, and whether the entry arrived late (`ConsentEntryTiming`). */
    receivedAt?: number; late?: boolean };
  /** (Patient side) the clinician countersigned at `time`; `matchesHead` when it vouches for every entry held. */
  checkpoint: { size: number; head: string; time: number; clinicianPublicKey: string; matchesHead: boolean; participantId?: string };
  /** Something arriving over a consultation was rejected, or a write failed. */
  error: { code: ErrorCode; consentCode?: ConsentErrorCode; message: string; participantId?: string };
}
