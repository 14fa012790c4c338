// Types of `createInvite`.
/**
 * A new consultation room, as links. The room secret and the visit's role keys live only in
 * the links' fragments. Each link proves exactly one role: keep the clinician's link on the
 * clinician's side, send the patient's link only to the patient, and the guest link to an
 * interpreter or family member (it cannot act as the patient or the clinician).
 */
export interface CreatedInvite {
  /** The room id (base64url); give it to your backend to mint join tokens for this room. */
  roomId: string;
  /** Send this to the patient. */
  patientLink: string;
  /** Open this on the clinician's side. It carries the clinician's signing key. */
  clinicianLink: string;
  /** Send this to a guest (interpreter, family member). */
  guestLink: string;
}
