// Node.js entry (bundled to CommonJS as node.cjs; node.mjs re-exports it, so both module
// systems share one instance). The glue loads the .wasm synchronously from disk.
import type { ErrorCode as Code } from './types/error-code.js';
import { codes } from './errors.js';

export * from './api.js';

/** A stable error code (see `TeleconsultError`). */
export type ErrorCode = Code;
/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export const ErrorCode = codes();
