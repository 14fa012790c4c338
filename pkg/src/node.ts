// Node.js entry (bundled to CommonJS as node.cjs; node.mjs re-exports it, so both module
// systems share one instance). The glue loads the .wasm synchronously from disk.
import { codes } from './api.js';

export * from './api.js';

/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export const ErrorCode = codes();
