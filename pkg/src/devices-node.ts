// Node.js entry of `teleconsult/devices` (ESM as devices-node.mjs; devices-node.cjs requires
// it). The glue loads the devices .wasm synchronously from disk.
import * as wasm from '../web-devices/teleconsult_devices.js';
import { addCodes } from './errors.js';

addCodes(wasm.errorCodes);

export * from './devices-api.js';
