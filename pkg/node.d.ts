// Public types of the `teleconsult` package in Node.js. Generated from the Rust sources into
// node/teleconsult.d.ts; this file adds the runtime `ErrorCode` object.
export * from './node/teleconsult.js';

import type { ErrorCode as Code } from './node/teleconsult.js';
/** A stable error code (see `TeleconsultError`). */
export type ErrorCode = Code;
/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export declare const ErrorCode: { readonly [K in Code]: K };
