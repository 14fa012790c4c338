// Node.js entry (ESM). The CommonJS glue loads the .wasm synchronously from disk.
export * from './node/teleconsult.js';
export { ErrorCode } from './error-code.js';
