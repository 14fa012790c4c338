// Node.js entry (CommonJS): the glue loads the .wasm synchronously from disk.
'use strict';
const api = require('./node/teleconsult.js');

/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
const ErrorCode = Object.freeze(Object.fromEntries(api.errorCodes().map((c) => [c, c])));

module.exports = { ...api, ErrorCode };
