// Files: `consultation.files`, photos and documents sent end to end over the consultation,
// chunked, checked on arrival (type, size, SHA-256), under the patient's `files` consent, and
// exported as FHIR Media / DocumentReference with their Binary.
import type { FileCancelReason, FileMediaType, SharedFileInfo } from '../web/teleconsult.js';
import type * as wasm from '../web/teleconsult.js';
import { call, invalid, released, TeleconsultError } from './errors.js';
import { arg, obj, oneOf, str } from './validate.js';

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
type Listener = EventListenerOrEventListenerObject | null | ((event: CustomEvent<never>) => void);

/**
 * One file on its way: `progress` events as the recipient acknowledges chunks, `done`
 * resolving once it confirmed the file whole (its SHA-256 checked), or rejecting with a
 * `TeleconsultError` (`reason`: why the recipient refused, `cancelled`, `peerLeft`…).
 */
export class FileTransfer extends EventTarget {
  /** The recipient's participant id. */
  readonly participantId: string;
  /** The name sent. */
  readonly name: string;
  readonly type: FileMediaType;
  /** Bytes. */
  readonly size: number;
  /** Resolves with the file as held once the recipient confirmed it. */
  readonly done: Promise<SharedFileInfo>;
  #id: string | undefined;
  #bytes = 0;
  #cancelled = false;
  #consultation: wasm.Consultation;

  /** @internal Use `Files.send`. */
  constructor(consultation: wasm.Consultation, to: string, name: string, type: FileMediaType, data: Blob) {
    super();
    this.#consultation = consultation;
    this.participantId = to;
    this.name = name;
    this.type = type;
    this.size = data.size;
    this.done = this.#run(data);
    // A rejection the app does not await is not an unhandled one: `done` is opt-in.
    this.done.catch(() => {});
  }

  /** The transfer id, once the bytes were read and the offer went out. */
  get transferId(): string | undefined { return this.#id; }
  /** Bytes the recipient acknowledged so far. */
  get bytes(): number { return this.#bytes; }

  /** Stops the transfer; the recipient drops what it received. `done` rejects (`cancelled`). */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (this.#id !== undefined) {
      const id = this.#id;
      try { call(() => this.#consultation.filesCancel(this.participantId, id)); } catch { /* already over */ }
    }
  }

  async #run(data: Blob): Promise<SharedFileInfo> {
    const bytes = new Uint8Array(await data.arrayBuffer());
    if (this.#cancelled) throw new TeleconsultError('InvalidState', 'file transfer cancelled');
    const w = this.#consultation;
    return new Promise<SharedFileInfo>((resolve, reject) => {
      const mine = (d: { transferId: string; participantId?: string }) => d.transferId === this.#id;
      const off = () => {
        w.removeEventListener('fileprogress', onProgress as EventListener);
        w.removeEventListener('filedelivered', onDelivered as EventListener);
        w.removeEventListener('filecancelled', onCancelled as EventListener);
      };
      const onProgress = (e: Detail<{ transferId: string; direction: string; bytes: number; total: number }>) => {
        if (!mine(e.detail) || e.detail.direction !== 'outgoing') return;
        this.#bytes = e.detail.bytes;
        this.dispatchEvent(new CustomEvent('progress', { detail: { bytes: e.detail.bytes, total: e.detail.total } }));
      };
      const onDelivered = (e: Detail<{ file: SharedFileInfo }>) => {
        if (e.detail.file.transferId !== this.#id) return;
        off();
        this.#bytes = this.size;
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
      w.addEventListener('fileprogress', onProgress as EventListener);
      w.addEventListener('filedelivered', onDelivered as EventListener);
      w.addEventListener('filecancelled', onCancelled as EventListener);
      try {
        this.#id = call(() => w.filesSend(this.participantId, this.name, this.type, bytes));
      } catch (e) {
        off();
        reject(e);
      }
    });
  }

  addEventListener<K extends keyof FileTransferEventMap>(type: K, listener: (event: CustomEvent<FileTransferEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: Listener, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
  removeEventListener<K extends keyof FileTransferEventMap>(type: K, listener: (event: CustomEvent<FileTransferEventMap[K]>) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: Listener, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
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
    return new FileTransfer(w, to, name, type, data);
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
