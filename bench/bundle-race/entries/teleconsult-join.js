// What a page imports to join a consultation with consent, and no devices: the patient's
// side records consent (ConsentManager), the clinician's side checks it (ConsentReplica).
// Nothing here imports `teleconsult/devices`, so the bundle has the call module's .wasm only.
export {
  ConsentManager, ConsentReplica, Consultation, ErrorCode, TeleconsultError, takeInviteLink,
} from 'teleconsult';
