// Chat: `consultation.chat`, end-to-end encrypted text messages with receipts, typing state,
// history for late joiners under the patient's consent, encrypted storage and FHIR export.
import type { ChatMessage, ChatProgress } from './types/chat.js';
import type * as wasm from '../web/teleconsult.js';
import { call, promise, released, TeleconsultError } from './errors.js';
import { arg, bool, int, obj, str } from './validate.js';

/** What `Chat.toFhir` points the Communications at. */
export interface ChatFhirOptions {
  /** The patient reference, e.g. `Patient/123`. */
  subject: string;
  /** The visit's Encounter reference. */
  encounter?: string;
  /** FHIR references of participants by participant id (`{ "<id>": "Practitioner/dr-1" }`);
   *  others are named by their participant id. */
  senders?: Record<string, string>;
}

const fhirOptions = obj({ subject: str, 'encounter?': str, 'senders?': obj({}, str) });
const seq = int(1, Number.MAX_SAFE_INTEGER);

/** Chat → the consultation it belongs to (a getter: `InvalidState` once that is freed). */
const OWNER = new WeakMap<Chat, () => wasm.Consultation>();
const c = (w: Chat) => {
  const get = OWNER.get(w);
  if (!get) throw released('Chat');
  return get();
};

/** The chat of a consultation (`consultation.chat`). Events arrive on the Consultation:
 *  `chatmessage`, `chatreceipt`, `chattyping`, `chathistory`. */
export class Chat {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use Consultation.chat');
  }
  /** Sends `text` (1 to 4000 bytes of UTF-8, no control characters but tab and line breaks)
   *  to everyone in the call; returns the message as held. `LimitExceeded` when too long. */
  send(text: string): ChatMessage {
    const t = arg(text, 'text', str);
    return call(() => c(this).chatSend(t));
  }
  /** Marks `participantId`'s messages up to `seq` read, and tells them (a read receipt). */
  markRead(participantId: string, messageSeq: number): void {
    const p = arg(participantId, 'participantId', str);
    const s = arg(messageSeq, 'messageSeq', seq);
    call(() => c(this).chatMarkRead(p, s));
  }
  /** Tells everyone in the call that this side started or stopped typing. */
  setTyping(active: boolean): void {
    const a = arg(active, 'active', bool);
    call(() => c(this).chatTyping(a));
  }
  /** Every message held, in conversation order (the same order on every side). */
  messages(): ChatMessage[] { return call(() => c(this).chatMessages()); }
  /** How far `participantId` got with this side's messages. */
  progress(participantId: string): ChatProgress {
    const p = arg(participantId, 'participantId', str);
    return call(() => c(this).chatProgress(p));
  }
  /** The messages as FHIR R4 `Communication` resources, for the visit's Bundle. */
  toFhir(options: ChatFhirOptions): object[] {
    const o = arg(options, 'options', fhirOptions) as unknown as ChatFhirOptions;
    const senders = Object.entries(o.senders ?? {});
    return call(() => c(this).chatToFhir(o.subject, o.encounter, senders));
  }
  /** Keeps the chat in IndexedDB under `name` (encrypted under a non-extractable WebCrypto
   *  key), merging what is stored there; written again after every change. */
  persist(name: string): Promise<void> {
    return promise(() => {
      const n = arg(name, 'name', str);
      return c(this).chatPersist(n);
    });
  }
}

/** The `Chat` of a consultation wrapper (`get` returns its wasm object or throws). */
export function chatFor(get: () => wasm.Consultation): Chat {
  const w = Object.create(Chat.prototype) as Chat;
  OWNER.set(w, get);
  return w;
}
