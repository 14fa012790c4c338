// Invites: creating a room's links, and taking this page's link out of the address bar.
import type { CreatedInvite } from './types/invite.js';
import * as wasm from '../web/teleconsult.js';
import { call } from './errors.js';
import { arg, str } from './validate.js';

/** Creates a room: the patient's and clinician's invite links (the room secret rides in the
 *  URL fragment) and the room id the app's backend issues join tokens for. */
export function createInvite(patientPage: string, clinicianPage: string): CreatedInvite {
  const p = arg(patientPage, 'patientPage', str);
  const k = arg(clinicianPage, 'clinicianPage', str);
  return call(() => wasm.createInvite(p, k));
}

/** Reads the invite link of this page and removes its fragment from the address bar and
 *  history; undefined when the page has none. */
export function takeInviteLink(): string | undefined {
  return call(() => wasm.takeInviteLink());
}

