// The privacy notice the patient reads before giving consent. Its exact text is hashed into
// every grant (ConsentManager), so the words shown are the words recorded: change the text and
// bump `version`, and earlier grants stop counting until the patient agrees again.
import { h } from '/common.js';

/** Who receives the data in this demo: the clinic, on behalf of the treating clinician. */
export const CLINIC = { kind: 'Organization', id: 'teleconsult-demo-clinic' };

/** The categories this demo asks about, in the order shown, with plain names. */
export const CATEGORIES = [
  { id: 'video', label: 'Your video' },
  { id: 'audio', label: 'Your voice' },
  { id: 'files', label: 'Photos and documents you send' },
  { id: 'heart-rate', label: 'Heart rate' },
  { id: 'spo2', label: 'Blood oxygen (SpO₂)' },
  { id: 'blood-pressure', label: 'Blood pressure' },
];

export const CATEGORY_LABEL = Object.fromEntries(CATEGORIES.map((c) => [c.id, c.label]));

/** A label inside a sentence: only its first letter lowered ("blood oxygen (SpO₂)", never "spo₂"). */
export const inSentence = (label) => label.charAt(0).toLowerCase() + label.slice(1);

/** How long a grant lasts unless withdrawn first: the visit, at most four hours. */
export const GRANT_HOURS = 4;

const TEXT = `Who receives your data
Teleconsult Demo Clinic and the clinician treating you in this video visit.

What is shared, and only if you agree
Your video and your voice during this visit. Photos and documents you choose to send to your clinician. Readings from health devices you choose to connect: heart rate, blood oxygen (SpO₂) and blood pressure. You choose each of these separately.

Why
Only to treat you during this visit (purpose: treatment). Nothing is shared for research, payment or marketing.

How it is protected
Video, voice, photos, documents and readings are encrypted between your device and your clinician's device. The visit service in between cannot read them. Teleconsult does not record the visit.

How long
Your consent lasts for this visit and ends after ${GRANT_HOURS} hours at the latest.

Your rights
You can withdraw any consent at any time during the visit with the "Withdraw" button next to it. It takes effect at once: your camera, microphone, photos being sent or device readings stop being shared. What was shared before you withdrew stays lawfully in your record. Your care does not depend on sharing device readings.

Proof of your choice
Each choice is recorded on this device, signed with a key that stays on this device, and a copy goes to your clinician, who countersigns it.`;

// Version 2: "SpO2" became "SpO₂" (the text is hashed, so a changed text is a new version).
// Version 3: photos and documents the patient sends.
export const NOTICE = { uri: 'urn:teleconsult:demo:privacy-notice', version: '3', language: 'en', text: TEXT };

/** Renders the notice, paragraph by paragraph, from exactly the text that is hashed. */
export function renderNotice(container) {
  const blocks = TEXT.split('\n\n').map((block) => {
    const [title, ...body] = block.split('\n');
    return [h('h2', {}, title), h('p', {}, body.join(' '))];
  });
  container.replaceChildren(h('p', { class: 'hint' }, `Privacy notice, version ${NOTICE.version}`), ...blocks.flat());
}
