// Browser and bundler entry: loads the WebAssembly module once, then exports the API.
// The `new URL(…, import.meta.url)` form lets bundlers (Vite, webpack, Rollup) find and emit
// the .wasm file; a plain <script type="module"> page needs no bundler at all.
import init from '../web/teleconsult.js';
import type { ErrorCode as Code } from './types/error-code.js';
import { codes } from './errors.js';

await init({ module_or_path: new URL('./web/teleconsult_bg.wasm', import.meta.url) });

export * from './api.js';

/** A stable error code (see `TeleconsultError`). */
export type ErrorCode = Code;
/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export const ErrorCode = codes();
