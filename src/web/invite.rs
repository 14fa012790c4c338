//! `createInvite()`: a new room id and 256-bit room secret, as links for both sides.

use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use super::JsError;
use super::js::{self, object};
use crate::crypto::{ROOM_ID_LEN, ROOM_SECRET_LEN, RoomId, RoomSecret};
use crate::signaling::Invite;
use crate::signaling::invite::base64url_encode;

/// Creates a room: a random 128-bit room id, 256-bit room secret and the visit's clinician
/// and patient Ed25519 keys from the platform's CSPRNG, formatted into the clinician's,
/// the patient's and a guest link (`<page>#v=2&r=…&k=…&c=…&p=…[&s=…]`; the guest link uses
/// the patient page). The fragment never reaches a server. Throws `InvalidArgument` when a
/// page URL is empty or already has a fragment, `Unsupported` without a secure random source.
#[wasm_bindgen(js_name = createInvite, unchecked_return_type = "any")]
pub fn create_invite(
    #[wasm_bindgen(js_name = patientPage)] patient_page: &str,
    #[wasm_bindgen(js_name = clinicianPage)] clinician_page: &str,
) -> Result<JsValue, JsError> {
    for page in [patient_page, clinician_page] {
        if page.is_empty() || page.contains('#') {
            return Err(super::Error::InvalidArgument(
                "page URL: must be non-empty and without a #fragment",
            )
            .into());
        }
    }
    let mut room = [0u8; ROOM_ID_LEN];
    let mut secret = Zeroizing::new([0u8; ROOM_SECRET_LEN]);
    let mut clinician = Zeroizing::new([0u8; 32]);
    let mut patient = Zeroizing::new([0u8; 32]);
    for buf in [
        &mut room[..],
        secret.as_mut(),
        clinician.as_mut(),
        patient.as_mut(),
    ] {
        js::random_bytes(buf)?;
    }
    let links = Invite::create(
        RoomId(room),
        RoomSecret::from_bytes(*secret),
        &clinician,
        &patient,
    );
    Ok(object(&[
        ("roomId", base64url_encode(&room).into()),
        ("patientLink", links.patient.to_url(patient_page).into()),
        (
            "clinicianLink",
            links.clinician.to_url(clinician_page).into(),
        ),
        ("guestLink", links.guest.to_url(patient_page).into()),
    ])
    .into())
}
