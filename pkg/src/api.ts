// The public API, shared by the browser and Node.js entries. Nothing here calls into wasm
// while the module loads: the browser entry instantiates the wasm first.
import type { Capabilities, CapabilityName } from './types/capabilities.js';
import type { ErrorCode as Code } from './types/error-code.js';
import * as wasm from '../web/teleconsult.js';
import { call } from './errors.js';
import { arg, int, list, str } from './validate.js';

export type * from './types/capabilities.js';
export type * from './types/chat.js';
export type * from './types/consent.js';
export type * from './types/consultation.js';
export type * from './types/files.js';
export type * from './types/invite.js';
export type * from './types/recording.js';
export type * from './types/screen.js';
export { TeleconsultError } from './errors.js';
export { ConsentManager } from './consent-manager.js';
export { ConsentReplica } from './consent-replica.js';
export { verifyLedger } from './ledger.js';
export { Consultation } from './consultation.js';
export { Recording } from './recording.js';
export { Chat, type ChatFhirOptions } from './chat.js';
export { Files, FileTransfer, type FileSendOptions, type FilesFhirOptions, type FileTransferEventMap } from './files.js';
export { createInvite, takeInviteLink } from './invite.js';

/** A stable error code (see `TeleconsultError`). */
export type ErrorCode = Code;

/**
 * The SDK version (`"0.1.0"`), the same as the npm package's.
 */
export function version(): string {
  return call(() => wasm.version());
}

/**
 * Every stable error code, in declaration order. The package's `ErrorCode` object is built
 * from this list.
 */
export function errorCodes(): ErrorCode[] {
  return call(() => wasm.errorCodes() as ErrorCode[]);
}

/**
 * Reports what this browser, webview or Node.js process offers the SDK: secure context,
 * WebRTC, camera and microphone, Web Bluetooth, IndexedDB, WebCrypto, WebSocket and screen
 * sharing (`getDisplayMedia`, missing in every mobile browser), each
 * with a reason when absent. Never throws; call it before a consultation to show a
 * pre-call check.
 */
export function capabilities(): Capabilities {
  return call(() => wasm.capabilities());
}

/**
 * Checks that every named capability is available.
 *
 * Throws a `TeleconsultError` with code `Unsupported` naming the first missing feature and
 * what to do instead, or `InvalidArgument` when a name is not a `CapabilityName`.
 */
export function requireCapabilities(names: readonly CapabilityName[]): void {
  const n = arg(names, 'names', list(str));
  call(() => wasm.requireCapabilities(n as CapabilityName[]));
}

/** Benchmark hook (docs/BENCHMARKS.md): seals and opens `iterations` frames, returns ms. */
export function benchEnvelope(iterations: number): number {
  const i = arg(iterations, 'iterations', int(0, 1_000_000_000));
  return call(() => (wasm as unknown as { benchEnvelope(n: number): number }).benchEnvelope(i));
}
