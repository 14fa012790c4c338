//! `createInvite()`: a new room id and 256-bit room secret, as links for both sides.

use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use super::JsError;
use super::js::{self, object};
use crate::crypto::{ROOM_ID_LEN, ROOM_SECRET_LEN, RoomId, RoomSecret};
use crate::signaling::Invite;
use crate::signaling::invite::base64url_encode;

#[wasm_bindgen(typescript_custom_section)]
const INVITE_TS: &'static str = r#"
/** A new consultation room, as links. The room secret lives only in the links' fragments. */
export interface CreatedInvite {
  /** The room id (base64url); give it to your backend to mint join tokens for this room. */
  roomId: string;
  /** Send this to the patient. */
  patientLink: string;
  /** Open this on the clinician's side. */
  clinicianLink: string;
}
"#;

/// Creates a room: a random 128-bit room id and 256-bit room secret from the platform's
/// CSPRNG, formatted into a patient link and a clinician link (`<page>#r=<room>&k=<secret>`).
/// The fragment never reaches a server. Throws `InvalidArgument` when a page URL is empty or
/// already has a fragment, `Unsupported` without a secure random source.
#[wasm_bindgen(js_name = createInvite, unchecked_return_type = "CreatedInvite")]
pub fn create_invite(
    #[wasm_bindgen(js_name = patientPage)] patient_page: &str,
    #[wasm_bindgen(js_name = clinicianPage)] clinician_page: &str,
) -> Result<JsValue, JsError> {
    for page in [patient_page, clinician_page] {
        if page.is_empty() || page.contains('#') {
            return Err(crate::Error::InvalidArgument(
                "page URL: must be non-empty and without a #fragment",
            )
            .into());
        }
    }
    let mut room = [0u8; ROOM_ID_LEN];
    let mut secret = Zeroizing::new([0u8; ROOM_SECRET_LEN]);
    js::random_bytes(&mut room)?;
    js::random_bytes(secret.as_mut())?;
    let invite = Invite::new(RoomId(room), RoomSecret::from_bytes(*secret));
    Ok(object(&[
        ("roomId", base64url_encode(&room).into()),
        ("patientLink", invite.to_url(patient_page).into()),
        ("clinicianLink", invite.to_url(clinician_page).into()),
    ])
    .into())
}
