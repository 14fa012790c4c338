// TeleconsultError: the one error class the package throws and rejects with. Errors raised in
// the wasm core arrive as plain `Error`s named "TeleconsultError" with a `code`; `normalise`
// gives them this class (keeping message, stack and every extra field), so `instanceof`
// works for both.
import type { ConsentErrorCode, ConsentReason } from './types/consent.js';
import type { ErrorCode } from './types/error-code.js';
import type { FileErrorReason } from './types/files.js';
import * as wasm from '../web/teleconsult.js';

/** Every error the SDK throws or rejects with. Branch on `code`, never on the message. */
export class TeleconsultError extends Error {
  declare name: 'TeleconsultError';
  /** A stable code from `ErrorCode`. */
  declare code: ErrorCode;
  /** For `RelayRefused`: the relay's close code (4001 bad token, 4002 expired, 4005 room full, …). */
  declare relayCode?: number;
  /** For `Consent`: exactly what the ledger rejected (see docs/CONSENT.md, "Verification rules"). */
  declare consentCode?: ConsentErrorCode;
  /**
   * For `ConsentDenied`: why the enforcement point said no (a `ConsentReason`). For
   * `MalformedMeasurement`: the parser's reason (see `MalformedMeasurementError`). For a
   * refused file: a `FileErrorReason`.
   */
  declare reason?: ConsentReason | 'truncated' | 'trailingBytes' | 'reserved' | 'invalid' | FileErrorReason;
  /** For `ConsentDenied` from `startRecording`: whose consent is missing. */
  declare participantId?: string;

  /** An error with a `code` from `ErrorCode` (throws `InvalidArgument` for any other code). */
  constructor(code: ErrorCode, message: string) {
    if (!knownCode(code)) throw invalid('code', 'an ErrorCode');
    if (typeof message !== 'string') throw invalid('message', 'a string');
    super(message);
    Object.defineProperty(this, 'name', { value: 'TeleconsultError', configurable: true, writable: true });
    this.code = code;
  }
}

/** Where the core's list of codes comes from: each entry (`teleconsult`,
 *  `teleconsult/devices`) adds its wasm module's `errorCodes` once that module is loaded, so
 *  errors work with either module alone (both list the same codes). */
let source: (() => string[]) | undefined;
let known: Set<unknown> | undefined;
function knownCode(code: unknown): boolean {
  known ??= new Set(source?.());
  return known.has(code);
}

/** Makes `errorCodes` of a loaded wasm module the source of the known codes. */
export function addCodes(errorCodes: () => string[]): void {
  source ??= errorCodes;
}

/** The runtime `ErrorCode` object, built from the core's list once the wasm is loaded. */
export function codes(): { readonly [K in ErrorCode]: K } {
  addCodes(wasm.errorCodes);
  return Object.freeze(Object.fromEntries(wasm.errorCodes().map((c) => [c, c]))) as { readonly [K in ErrorCode]: K };
}

/** An `InvalidArgument` error naming the parameter (never its value). */
export function invalid(param: string, expected: string): TeleconsultError {
  return new TeleconsultError('InvalidArgument', `invalid argument: ${param} must be ${expected}`);
}

/** An `InvalidState` error for a wrapper that holds no live object. */
export function released(what: string): TeleconsultError {
  return new TeleconsultError('InvalidState', `${what} was freed, or not created by this SDK`);
}

/**
 * Gives an error from the core the `TeleconsultError` class, in place; other values pass
 * through unchanged.
 */
export function normalise(e: unknown): unknown {
  if (e instanceof Error && !(e instanceof TeleconsultError) && e.name === 'TeleconsultError') {
    Object.setPrototypeOf(e, TeleconsultError.prototype);
  }
  return e;
}

/** Runs `f`, normalising what it throws. */
export function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw normalise(e);
  }
}

/**
 * Runs `f` (which validates its arguments, then starts the work) and returns its Promise with
 * errors normalised; a synchronous throw becomes a rejection.
 */
export function promise<T>(f: () => Promise<T>): Promise<T> {
  try {
    return f().then(undefined, (e: unknown) => Promise.reject(normalise(e)));
  } catch (e) {
    return Promise.reject(normalise(e));
  }
}
