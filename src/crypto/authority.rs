//! Who may act as the clinician or the patient, without taking the relay's word for it
//! (docs/PROTOCOL.md §2 "Invite" and §8 "Handshake").
//!
//! `createInvite` makes two Ed25519 key pairs per visit: the clinician's and the patient's.
//! Every link commits to both public keys; only the clinician's link carries the clinician's
//! signing key, only the patient's link the patient's. A hello that claims either role
//! carries a signature by that role's key over the room, the sender and the hello, and
//! every receiver verifies it against the keys its own link committed to. A guest link
//! carries neither signing key, so a guest can claim neither role, whatever the relay
//! announces. Every clinician-only action (admit, deny, end for everyone, recording) travels
//! over the pair channel keyed from that signed hello, so it is authenticated as the
//! clinician's.
//!
//! ```text
//! proof = Ed25519-Sign(role key, "tc2 role" || room id || sender id || hello core)
//! ```

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use zeroize::Zeroizing;

use crate::signaling::relay_wire::Role;

/// The signing half of a role key, from the link. Wiped on drop; `Debug` prints nothing.
#[derive(Clone)]
pub struct RoleSigningKey(SigningKey);

impl RoleSigningKey {
    /// The key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The seed (for formatting a link; wipe the copy after use).
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key the links commit to.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
}

impl fmt::Debug for RoleSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoleSigningKey(<redacted>)")
    }
}

/// What one participant's link says about roles: both committed public keys, and the
/// signing key of the participant's own role (none for a guest).
#[derive(Clone, Debug)]
pub struct Authority {
    /// The clinician's public key.
    pub clinician: [u8; 32],
    /// The patient's public key.
    pub patient: [u8; 32],
    /// This participant's role key, if its link carries one.
    pub signing: Option<RoleSigningKey>,
}

impl Authority {
    /// The role this link lets its holder prove: clinician or patient when its signing key
    /// matches the committed key of that role, guest otherwise.
    pub fn role(&self) -> Role {
        match &self.signing {
            Some(k) if k.public() == self.clinician => Role::Clinician,
            Some(k) if k.public() == self.patient => Role::Patient,
            _ => Role::Guest,
        }
    }

    /// The committed key of `role`, or `None` for a guest (guests prove nothing).
    fn key_of(&self, role: Role) -> Option<&[u8; 32]> {
        match role {
            Role::Clinician => Some(&self.clinician),
            Role::Patient => Some(&self.patient),
            Role::Guest => None,
        }
    }

    /// Signs a hello core that claims this link's role; `None` for a guest link.
    pub fn prove(&self, room: &[u8; 16], sender: &[u8; 8], core: &[u8]) -> Option<[u8; 64]> {
        let key = self.signing.as_ref()?;
        Some(key.0.sign(&message(room, sender, core)).to_bytes())
    }

    /// Whether a hello claiming `role` is entitled to it: a guest needs no proof (and must
    /// carry none); a clinician or patient needs a valid signature by that role's
    /// committed key.
    pub fn verify(
        &self,
        role: Role,
        room: &[u8; 16],
        sender: &[u8; 8],
        core: &[u8],
        proof: Option<&[u8; 64]>,
    ) -> bool {
        match (self.key_of(role), proof) {
            (None, None) => true,
            (Some(public), Some(sig)) => VerifyingKey::from_bytes(public).is_ok_and(|k| {
                k.verify(&message(room, sender, core), &Signature::from_bytes(sig))
                    .is_ok()
            }),
            _ => false,
        }
    }
}

fn message(room: &[u8; 16], sender: &[u8; 8], core: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + 16 + 8 + core.len());
    m.extend_from_slice(b"tc2 role");
    m.extend_from_slice(room);
    m.extend_from_slice(sender);
    m.extend_from_slice(core);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(signing: Option<u8>) -> Authority {
        let c = RoleSigningKey::from_seed(&[1; 32]);
        let p = RoleSigningKey::from_seed(&[2; 32]);
        Authority {
            clinician: c.public(),
            patient: p.public(),
            signing: signing.map(|s| RoleSigningKey::from_seed(&[s; 32])),
        }
    }

    #[test]
    fn only_the_committed_key_proves_a_role() {
        let (room, id, core) = ([9; 16], [3; 8], b"hello core".as_slice());
        let clinician = authority(Some(1));
        let patient = authority(Some(2));
        let guest = authority(None);
        let stranger = authority(Some(7));
        assert_eq!(clinician.role(), Role::Clinician);
        assert_eq!(patient.role(), Role::Patient);
        assert_eq!(guest.role(), Role::Guest);
        assert_eq!(stranger.role(), Role::Guest);
        let c = clinician.prove(&room, &id, core).unwrap();
        let p = patient.prove(&room, &id, core).unwrap();
        let s = stranger.prove(&room, &id, core).unwrap();
        assert!(guest.verify(Role::Clinician, &room, &id, core, Some(&c)));
        assert!(guest.verify(Role::Patient, &room, &id, core, Some(&p)));
        assert!(!guest.verify(Role::Clinician, &room, &id, core, Some(&p)));
        assert!(!guest.verify(Role::Clinician, &room, &id, core, Some(&s)));
        assert!(!guest.verify(Role::Clinician, &room, &id, core, None));
        assert!(!guest.verify(Role::Clinician, &room, &[4; 8], core, Some(&c)));
        assert!(!guest.verify(Role::Clinician, &[8; 16], &id, core, Some(&c)));
        assert!(!guest.verify(Role::Clinician, &room, &id, b"other", Some(&c)));
        assert!(guest.verify(Role::Guest, &room, &id, core, None));
        assert!(!guest.verify(Role::Guest, &room, &id, core, Some(&s)));
        assert_eq!(guest.prove(&room, &id, core), None);
    }
}
