// Node.js entry (ESM), sharing the CommonJS build so both module systems see one instance.
import api from './node.cjs';

export const { ErrorCode } = api;
export * from './node/teleconsult.js';
