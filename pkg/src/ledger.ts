// verifyLedger: an exported ledger checked offline.
import type { ConsentSummary } from './types/consent.js';
import * as wasm from '../web/teleconsult.js';
import { call } from './errors.js';
import { arg, bytes, obj, opt, str } from './validate.js';

const checkpointArg = obj({ bytes, clinicianPublicKey: str });
/** The `bytes` check, under a name the parameter does not shadow. */
const bytesArg = bytes;

/**
 * Verifies an exported ledger (`ConsentManager.export()`, `ConsentReplica.export()`)
 * offline — in a browser or in Node.js — against the patient's public key (64 hex digits)
 * and, if given, a countersigned checkpoint (`{ bytes, clinicianPublicKey }`, as
 * `checkpoint` returns).
 *
 * Returns a `ConsentSummary`. Throws `InvalidArgument` for malformed arguments and
 * `Consent` when verification fails; its `consentCode` names the attack: `BadSignature` (an
 * edited entry), `BrokenChain`, `MissingEntry`, `Reordered`, `Replayed`, `WrongSigner`,
 * `Malformed`, `Truncated` (entries cut off after the checkpoint), `CheckpointMismatch`
 * (history rewritten), `BadCheckpointSignature`, `WrongLedger`.
 */
export function verifyLedger(bytes: Uint8Array, patientPublicKey: string, checkpoint?: { bytes: Uint8Array; clinicianPublicKey: string }): ConsentSummary {
  const b = arg(bytes, 'bytes', bytesArg);
  const k = arg(patientPublicKey, 'patientPublicKey', str);
  const c = arg(checkpoint, 'checkpoint', opt(checkpointArg));
  return call(() => wasm.verifyLedger(b, k, c as { bytes: Uint8Array; clinicianPublicKey: string } | undefined));
}
