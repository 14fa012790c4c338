// Files: `consultation.files`, photos and documents sent end to end over the consultation,
// chunked, checked on arrival (type, size, SHA-256), under the patient's `files` consent, and
// exported as FHIR Media / DocumentReference with their Binary.
import type { FileCancelReason, FileMediaType, SharedFileInfo } from './types/files.js';
import type * as wasm from '../web/teleconsult.js';
import { call, invalid, released, TeleconsultError } from './errors.js';
import { eventsOf } from './base.js';
import { arg, listener as listenerCheck, listenerOptions, obj, oneOf, str } from './validate.js';

/** How `Files.send` sends a file. */
export interface FileSendOptions {
  /** The recipient's participant id (default: the clinician; for a clinician, the patient). */
  to?: string;
  /** The name the recipient sees (default: the `File`'s name, else `"file"`). */
  name?: string;
  /** The media type (default: the Blob's `type`). */
  type?: FileMediaType;
}

/** What `Files.toFhir` points the resources at. */
export interface FilesFhirOptions {
  /** The patient reference, e.g. `Patient/123`. */
  subject: string;
  /** The visit's Encounter reference. */
  encounter?: string;
  /** FHIR references of participants by participant id; others are named by their id. */
  senders?: Record<string, string>;
}

/** The events of a `FileTransfer`. */
export interface FileTransferEventMap {
  /** The recipient acknowledged `bytes` of `total`. */
  progress: { bytes: number; total: number };
}

const mediaType = oneOf<FileMediaType>('image/jpeg', 'image/png', 'image/webp', 'application/pdf');
const sendOptions = obj({ 'to?': str, 'name?': str, 'type?': mediaType });
const fhirOptions = obj({ subject: str, 'encounter?': str, 'senders?': obj({}, str) });
const blob = (v: unknown, n: string): Blob => {
  if (typeof Blob === 'undefined' || !(v instanceof Blob)) throw invalid(n, 'a Blob or File');
  return v;
};

/** Files → the consultation they belong to (a getter: `InvalidState` once that is freed). */
const OWNER = new WeakMap<Files, () => wasm.Consultation>();
const c = (w: Files) => {
  const get = OWNER.get(w);
  if (!get) throw released('Files');
  return get();
};

type Detail<T> = CustomEvent<T>;

interface TransferState {
  consultation: wasm.Consultation;
  participantId: string;
  name: string;
  type: FileMediaType;
  size: number;
  id?: string;
  bytes: number;
  cancelled: boolean;
  events: EventTarget;
  done?: Promise<SharedFileInfo>;
}
/** FileTransfer → its state (none for an object not made by `Files.send`). */
const TRANSFERS = new WeakMap<FileTransfer, TransferState>();
const st = (w: FileTransfer) => {
  const s = TRANSFERS.get(w);
  if (!s) throw released('FileTransfer');
  return s;
};
const transferEvents = oneOf<keyof FileTransferEventMap>('progress');

/**
 * One file on its way (from `Files.send`): `progress` events as the recipient acknowledges
 * chunks, `done` resolving once it confirmed the file whole (its SHA-256 checked), or
 * rejecting with a `TeleconsultError` (`reason`: why the recipient refused, `cancelled`,
 * `peerLeft`, …).
 */
export class FileTransfer {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use Files.send');
  }
  /** The recipient's participant id. */
  get participantId(): string { return st(this).participantId; }
  /** The name sent. */
  get name(): string { return st(this).name; }
  get type(): FileMediaType { return st(this).type; }
  /** Bytes. */
  get size(): number { return st(this).size; }
  /** The transfer id, once the bytes were read and the offer went out. */
  get transferId(): string | undefined { return st(this).id; }
  /** Bytes the recipient acknowledged so far. */
  get bytes(): number { return st(this).bytes; }
  /** Resolves with the file as held once the recipient confirmed it. */
  get done(): Promise<SharedFileInfo> { return st(this).done as Promise<SharedFileInfo>; }

  /** Stops the transfer; the recipient drops what it received. `done` rejects (`cancelled`). */
  cancel(): void {
    const s = st(this);
    if (s.cancelled) return;
    s.cancelled = true;
    if (s.id !== undefined) {
      const id = s.id;
      try { call(() => s.consultation.filesCancel(s.participantId, id)); } catch { /* already over */ }
    }
  }

  addEventListener<K extends keyof FileTransferEventMap>(type: K, listener: (event: CustomEvent<FileTransferEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void {
    const t = arg(type, 'type', transferEvents);
    const f = arg(listener, 'listener', listenerCheck) as EventListener;
    const o = arg(options, 'options', listenerOptions) as boolean | AddEventListenerOptions | undefined;
    st(this).events.addEventListener(t, f, o);
  }
  removeEventListener<K extends keyof FileTransferEventMap>(type: K, listener: (event: CustomEvent<FileTransferEventMap[K]>) => void, options?: boolean | EventListenerOptions): void {
    const t = arg(type, 'type', transferEvents);
    const f = arg(listener, 'listener', listenerCheck) as EventListener;
    const o = arg(options, 'options', listenerOptions) as boolean | EventListenerOptions | undefined;
    st(this).events.removeEventListener(t, f, o);
  }
}

/** Reads `data`, offers it, and follows the transfer's events until it ends. */
async function run(s: TransferState, data: Blob): Promise<SharedFileInfo> {
  const bytes = new Uint8Array(await data.arrayBuffer());
  if (s.cancelled) throw new TeleconsultError('InvalidState', 'file transfer cancelled');
  const w = s.consultation;
  const events = eventsOf(w);
  return new Promise<SharedFileInfo>((resolve, reject) => {
    const mine = (d: { transferId: string }) => d.transferId === s.id;
    const off = () => {
      events.removeEventListener('fileprogress', onProgress as EventListener);
      events.removeEventListener('filedelivered', onDelivered as EventListener);
      events.removeEventListener('filecancelled', onCancelled as EventListener);
    };
    const onProgress = (e: Detail<{ transferId: string; direction: string; bytes: number; total: number }>) => {
      if (!mine(e.detail) || e.detail.direction !== 'outgoing') return;
      s.bytes = e.detail.bytes;
      s.events.dispatchEvent(new CustomEvent('progress', { detail: { bytes: e.detail.bytes, total: e.detail.total } }));
    };
    const onDelivered = (e: Detail<{ file: SharedFileInfo }>) => {
      if (e.detail.file.transferId !== s.id) return;
      off();
      s.bytes = s.size;
      resolve(e.detail.file);
    };
    const onCancelled = (e: Detail<{ transferId: string; direction: string; reason: FileCancelReason }>) => {
      if (!mine(e.detail) || e.detail.direction !== 'outgoing') return;
      off();
      const error = new TeleconsultError(e.detail.reason === 'notConsented' ? 'ConsentDenied' : 'InvalidState',
        `file transfer ended: ${e.detail.reason}`);
      (error as { reason?: string }).reason = e.detail.reason;
      reject(error);
    };
    events.addEventListener('fileprogress', onProgress as EventListener);
    events.addEventListener('filedelivered', onDelivered as EventListener);
    events.addEventListener('filecancelled', onCancelled as EventListener);
    try {
      s.id = call(() => w.filesSend(s.participantId, s.name, s.type, bytes));
    } catch (e) {
      off();
      reject(e);
    }
  });
}

function startTransfer(consultation: wasm.Consultation, to: string, name: string, type: FileMediaType, data: Blob): FileTransfer {
  const w = Object.create(FileTransfer.prototype) as FileTransfer;
  const s: TransferState = { consultation, participantId: to, name, type, size: data.size, bytes: 0, cancelled: false, events: new EventTarget() };
  TRANSFERS.set(w, s);
  s.done = run(s, data);
  // A rejection the app does not await is not an unhandled one: `done` is opt-in.
  s.done.catch(() => {});
  return w;
}

/** The photos and documents of a consultation (`consultation.files`). Events arrive on the
 *  Consultation: `fileoffered`, `fileprogress`, `filereceived`, `filedelivered`,
 *  `filecancelled`. */
export class Files {
  private constructor() {
    throw new TeleconsultError('InvalidState', 'use Consultation.files');
  }

  /**
   * Sends `file` (a JPEG, PNG, WebP image or a PDF, at most 10 MiB) end to end. Checks
   * first, synchronously, before a byte is read: the patient's `files` consent
   * (`ConsentDenied`), the type (`InvalidArgument`, reason `typeNotAllowed`), the size
   * (`LimitExceeded`), the name, and that the recipient is in the call (`InvalidState`).
   * Content that is not of its declared type rejects `done` (`typeNotAllowed`).
   */
  send(file: Blob, options: FileSendOptions = {}): FileTransfer {
    const data = arg(file, 'file', blob);
    const o = arg(options, 'options', sendOptions) as FileSendOptions;
    // The core checks the type against the allow-list (`typeNotAllowed`).
    const type = (o.type ?? data.type) as FileMediaType;
    const fileName = (data as { name?: unknown }).name;
    const name = o.name ?? (typeof fileName === 'string' && fileName !== '' ? fileName : 'file');
    const w = c(this);
    const to = call(() => w.filesCheck(o.to, name, type, data.size));
    return startTransfer(w, to, name, type, data);
  }
  /** Cancels an incoming or outgoing transfer with `participantId`. */
  cancel(participantId: string, transferId: string): void {
    const p = arg(participantId, 'participantId', str);
    const t = arg(transferId, 'transferId', str);
    call(() => c(this).filesCancel(p, t));
  }
  /** Every file held in full on this side, in the order they completed. */
  list(): SharedFileInfo[] { return call(() => c(this).filesList()); }
  /** A held file's bytes as a Blob of its type (shown by the browser; never decoded here). */
  blob(file: SharedFileInfo): Blob {
    const f = arg(file, 'file', obj({ author: str, transferId: str, type: mediaType })) as { author: string; transferId: string; type: FileMediaType };
    const bytes = call(() => c(this).filesData(f.author, f.transferId));
    return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: f.type });
  }
  /** The held files as FHIR R4 resources for the visit's Bundle: for each, a `Media`
   *  (image) or `DocumentReference` (document), then the `Binary` it points at. */
  toFhir(options: FilesFhirOptions): object[] {
    const o = arg(options, 'options', fhirOptions) as unknown as FilesFhirOptions;
    const senders = Object.entries(o.senders ?? {});
    return call(() => c(this).filesToFhir(o.subject, o.encounter, senders));
  }
}

/** The `Files` of a consultation wrapper (`get` returns its wasm object or throws). */
export function filesFor(get: () => wasm.Consultation): Files {
  const w = Object.create(Files.prototype) as Files;
  OWNER.set(w, get);
  return w;
}
