//! The visit this process joins (protocol v2): from an invite link, or created here.
//!
//! A v2 invite link carries the room id and secret and also the visit's role keys: both
//! committed public keys (clinician and patient) and the holder's own signing key (none on a
//! guest link). The session proves its role with that key, so the link decides the role:
//! `--role` must name the role the link proves. A room id and secret alone (the old
//! `--room`/`--secret`) cannot join a v2 visit.

use teleconsult::crypto::{Authority, ROOM_ID_LEN, ROOM_SECRET_LEN, RoomId, RoomSecret};
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Invite, SignalingError};
use zeroize::Zeroizing;

use crate::cli::RoomSource;

/// What the session needs from the visit.
pub struct Visit {
    /// The room id.
    pub room: RoomId,
    /// The room secret.
    pub secret: RoomSecret,
    /// The role keys of this participant's link.
    pub authority: Authority,
    /// The links to hand out, when this process created the visit.
    pub created: Option<Created>,
}

/// The links of a visit this process created. The clinician's own link (which carries the
/// clinician's signing key) is kept to ourselves: its authority is in [`Visit::authority`].
pub struct Created {
    /// The patient's link (carries the patient's signing key).
    pub patient: Invite,
    /// A guest's link (proves no role).
    pub guest: Invite,
}

impl std::fmt::Debug for Visit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visit")
            .field("room", &self.room)
            .field("role", &self.authority.role())
            .field("created", &self.created.is_some())
            .finish_non_exhaustive()
    }
}

/// Resolves `source` for a participant joining as `role`. `random` fills a buffer from the
/// OS random source (used only to create a visit).
pub fn resolve(
    source: &RoomSource,
    role: Role,
    mut random: impl FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Visit, String> {
    match source {
        RoomSource::Invite(link) => {
            let invite = Invite::parse(link).map_err(|e| invite_error(&e))?;
            let proves = invite.role();
            if proves != role {
                return Err(format!(
                    "the invite link is a {} link but --role is {}: pass --role {} or the {} \
                     link of the visit",
                    proves.as_str(),
                    role.as_str(),
                    proves.as_str(),
                    role.as_str()
                ));
            }
            Ok(Visit {
                authority: invite.authority(),
                room: invite.room,
                secret: invite.secret,
                created: None,
            })
        }
        RoomSource::Create => {
            if role != Role::Clinician {
                return Err("only a clinician can create a visit".into());
            }
            let mut room = [0u8; ROOM_ID_LEN];
            let mut secret = Zeroizing::new([0u8; ROOM_SECRET_LEN]);
            let mut clinician_seed = Zeroizing::new([0u8; 32]);
            let mut patient_seed = Zeroizing::new([0u8; 32]);
            random(&mut room)?;
            random(secret.as_mut())?;
            random(clinician_seed.as_mut())?;
            random(patient_seed.as_mut())?;
            let links = Invite::create(
                RoomId(room),
                RoomSecret::from_bytes(*secret),
                &clinician_seed,
                &patient_seed,
            );
            Ok(Visit {
                authority: links.clinician.authority(),
                room: links.clinician.room,
                secret: links.clinician.secret.clone(),
                created: Some(Created {
                    patient: links.patient,
                    guest: links.guest,
                }),
            })
        }
    }
}

fn invite_error(e: &SignalingError) -> String {
    match e {
        SignalingError::OldInvite => "the invite link is a version-1 link (#r=…&k=… only); \
             protocol v2 links also carry the visit's role keys (#v=2&r=…&k=…&c=…&p=…[&s=…]): \
             create the visit again for a new link"
            .into(),
        other => format!("bad invite link: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teleconsult::signaling::invite::base64url_encode;

    fn counter() -> impl FnMut(&mut [u8]) -> Result<(), String> {
        let mut n = 0u8;
        move |buf: &mut [u8]| {
            for b in buf {
                n = n.wrapping_add(1);
                *b = n;
            }
            Ok(())
        }
    }

    fn created() -> Visit {
        resolve(&RoomSource::Create, Role::Clinician, counter()).unwrap()
    }

    #[test]
    fn a_created_visit_gives_the_clinician_its_key_and_hands_out_the_others() {
        let v = created();
        assert_eq!(v.authority.role(), Role::Clinician);
        let links = v.created.as_ref().unwrap();
        assert_eq!(links.patient.role(), Role::Patient);
        assert_eq!(links.guest.role(), Role::Guest);
        assert_eq!(links.patient.room, v.room);
        assert_eq!(links.patient.clinician, v.authority.clinician);
        assert_eq!(links.guest.patient, v.authority.patient);
        assert_ne!(
            v.authority.clinician, v.authority.patient,
            "two independent role keys"
        );
        let url = links.patient.to_url("http://127.0.0.1:9/");
        assert!(url.starts_with("http://127.0.0.1:9/#v=2&r="), "{url}");
        assert!(!links.guest.to_url("http://x/").contains("&s="));
    }

    #[test]
    fn a_patient_or_guest_cannot_create_a_visit() {
        for role in [Role::Patient, Role::Guest] {
            assert!(resolve(&RoomSource::Create, role, counter()).is_err());
        }
    }

    #[test]
    fn an_invite_joins_only_as_the_role_it_proves() {
        let v = created();
        let links = v.created.unwrap();
        for (link, proves) in [(&links.patient, Role::Patient), (&links.guest, Role::Guest)] {
            let source = RoomSource::Invite(link.to_url("http://x/"));
            let joined = resolve(&source, proves, counter()).unwrap();
            assert_eq!(joined.room, v.room);
            assert_eq!(joined.secret, v.secret);
            assert_eq!(joined.authority.role(), proves);
            assert!(joined.created.is_none());
            for other in [Role::Clinician, Role::Patient, Role::Guest] {
                if other != proves {
                    let e = resolve(&source, other, counter()).unwrap_err();
                    assert!(
                        e.contains(&format!("--role {}", proves.as_str())),
                        "the error names the link's role: {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn version_one_and_broken_links_are_refused_clearly() {
        let v1 = format!(
            "http://x/#r={}&k={}",
            base64url_encode(&[1; 16]),
            base64url_encode(&[2; 32])
        );
        let e = resolve(&RoomSource::Invite(v1), Role::Patient, counter()).unwrap_err();
        assert!(e.contains("version-1"), "{e}");
        let e = resolve(
            &RoomSource::Invite("#v=2&r=x".into()),
            Role::Patient,
            counter(),
        )
        .unwrap_err();
        assert!(e.starts_with("bad invite link"), "{e}");
    }
}
