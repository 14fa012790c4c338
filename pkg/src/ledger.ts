// verifyLedger: an exported ledger checked offline.
import type { ConsentSummary } from './types/consent.js';
import * as wasm from '../web/teleconsult.js';
import { call } from './errors.js';
import { arg, bytes, obj, opt, str } from './validate.js';

const checkpointArg = obj({ bytes, clinicianPublicKey: str });
/** The `bytes` check, under a name the parameter does not shadow. */
const bytesArg = bytes;

/** Verifies an exported ledger against the patient's public key (and a countersigned
 *  checkpoint); throws `Consent` with a `consentCode` when it fails. */
export function verifyLedger(bytes: Uint8Array, patientPublicKey: string, checkpoint?: { bytes: Uint8Array; clinicianPublicKey: string }): ConsentSummary {
  const b = arg(bytes, 'bytes', bytesArg);
  const k = arg(patientPublicKey, 'patientPublicKey', str);
  const c = arg(checkpoint, 'checkpoint', opt(checkpointArg));
  return call(() => wasm.verifyLedger(b, k, c as { bytes: Uint8Array; clinicianPublicKey: string } | undefined));
}
