// Node.js entry (ESM). The CommonJS glue loads the .wasm synchronously from disk.
import { errorCodes } from './node/teleconsult.js';

export * from './node/teleconsult.js';

/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export const ErrorCode = Object.freeze(Object.fromEntries(errorCodes().map((c) => [c, c])));
