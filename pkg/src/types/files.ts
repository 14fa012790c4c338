// Types of a consultation's photos and documents (`Consultation.files`).
import type { ParticipantRole } from './consultation.js';

/** A media type files may have: images the browser shows, and PDF documents. */
export type FileMediaType = "image/jpeg" | "image/png" | "image/webp" | "application/pdf";

/** Why a file frame or action was refused (the `reason` of the `TeleconsultError`; a
 *  consent refusal has a `ConsentReason` instead). */
export type FileErrorReason = "malformed" | "unsupportedVersion" | "tooLarge" | "empty"
  | "typeNotAllowed" | "badName" | "truncated" | "hashMismatch" | "replayed" | "notAdmitted"
  | "notPermitted" | "unknownTransfer" | "busy";

/** Why a transfer ended before completing. */
export type FileCancelReason = "cancelled" | "notConsented" | "tooLarge" | "typeNotAllowed"
  | "truncated" | "hashMismatch" | "busy" | "refused" | "peerLeft";

/** A file held in full on this side (sent and confirmed, or received and checked). */
export interface SharedFileInfo {
  /** The transfer id (16 hex digits), unique per sender. */
  transferId: string;
  /** The sender's participant id. */
  author: string;
  role: ParticipantRole;
  /** The recipient's participant id. */
  recipient: string;
  name: string;
  type: FileMediaType;
  /** Bytes. */
  size: number;
  /** The SHA-256 of the bytes, lower-case hex (checked on arrival). */
  sha256: string;
  /** When the sender sent it (ms since the Unix epoch, the sender's clock). */
  sentAt: number;
  /** Sent from this side. */
  own: boolean;
}
