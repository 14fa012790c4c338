// Public types of the `teleconsult` package. Functions and their types are generated from
// the Rust sources into web/teleconsult.d.ts; this file adds the runtime `ErrorCode` object.
export * from './web/teleconsult.js';

import type { ErrorCode as Code } from './web/teleconsult.js';
/** A stable error code (see `TeleconsultError`). */
export type ErrorCode = Code;
/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export declare const ErrorCode: { readonly [K in Code]: K };
