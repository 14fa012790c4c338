// Invites: creating a room's links, and taking this page's link out of the address bar.
import type { CreatedInvite } from './types/invite.js';
import * as wasm from '../web/teleconsult.js';
import { call } from './errors.js';
import { arg, str } from './validate.js';

/**
 * Creates a room: a random 128-bit room id, 256-bit room secret and the visit's clinician
 * and patient Ed25519 keys from the platform's CSPRNG, formatted into the clinician's,
 * the patient's and a guest link (`<page>#v=2&r=…&k=…&c=…&p=…[&s=…]`; the guest link uses
 * the patient page). The fragment never reaches a server. Throws `InvalidArgument` when a
 * page URL is empty or already has a fragment, `Unsupported` without a secure random source.
 */
export function createInvite(patientPage: string, clinicianPage: string): CreatedInvite {
  const p = arg(patientPage, 'patientPage', str);
  const k = arg(clinicianPage, 'clinicianPage', str);
  return call(() => wasm.createInvite(p, k));
}

/**
 * Reads the invite link this page was opened with, then removes its fragment from the address
 * bar and the current history entry (`history.replaceState`; the path, query and history
 * state stay). Returns the full link, to pass to `Consultation.join({ link })` and to keep in
 * memory (or `sessionStorage`, for a reload of the tab); `undefined` when the page's fragment
 * is not an invite (then nothing is changed) or outside a browser page.
 */
export function takeInviteLink(): string | undefined {
  return call(() => wasm.takeInviteLink());
}

