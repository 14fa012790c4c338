// Types of a consultation's chat (`Consultation.chat`).
import type { ParticipantRole } from './consultation.js';

/** A chat message as held on this side. */
export interface ChatMessage {
  /** `<author>-<seq>`: unique in the consultation. */
  id: string;
  /** The author's participant id. */
  author: string;
  role: ParticipantRole;
  /** The author's sequence number (from 1). */
  seq: number;
  /** When the author sent it (ms since the Unix epoch, the author's clock). */
  sentAt: number;
  text: string;
  /** Written on this side. */
  own: boolean;
}

/** How far a participant got with this side's messages: every one up to `delivered` reached
 *  it, every one up to `read` was read. */
export interface ChatProgress { delivered: number; read: number }
