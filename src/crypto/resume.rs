//! The resume proof (docs/PROTOCOL.md, "Resume after a reload").
//!
//! ```text
//! proof = HKDF-Expand(ticket, "tc2 resume" || direction || id || flags || transcript
//!                     || input, 32)        = HMAC-SHA256(ticket, … || 0x01)
//! ```
//!
//! `ticket` is the 32-byte random secret a clinician gave the participant over an earlier
//! pairing; `transcript` is the new pairing's transcript hash (both ids and both hellos'
//! cores: static and ephemeral keys, roles, epochs); `input` is the new pairing's SAS input
//! (both committed DTLS fingerprints and both nonces, lower id first, as in `sas`). So a
//! proof says "the holder of this ticket is the other end of exactly this pairing, with
//! exactly these certificates": it cannot be made without the ticket, and a recorded proof
//! matches no other pairing. The direction label keeps the clinician's answer from being
//! the holder's proof reflected.

use super::expand;
use super::sas::{SasInput, input_parts};

/// Who proves: the two directions of a resume use different labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeDirection {
    /// The ticket's holder (the participant who reloaded) to the clinician.
    Holder,
    /// The clinician's answer to the holder.
    Clinician,
}

/// The proof that the sender holds ticket `secret` (named `id`), bound to one pairing.
pub fn resume_proof(
    secret: &[u8; 32],
    direction: ResumeDirection,
    id: &[u8; 16],
    flags: u8,
    transcript: &[u8; 32],
    lo: SasInput<'_>,
    hi: SasInput<'_>,
) -> [u8; 32] {
    let label: &[u8] = match direction {
        ResumeDirection::Holder => b"tc2 resume holder",
        ResumeDirection::Clinician => b"tc2 resume clinician",
    };
    let mut lens = [[0; 2]; 2];
    let [a, b, c, d, e, f] = input_parts(&lo, &hi, &mut lens);
    let mut out = [0; 32];
    expand(
        secret,
        &[label, id, &[flags], transcript, a, b, c, d, e, f],
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(secret: u8, dir: ResumeDirection, flags: u8, transcript: u8, fp: u8) -> [u8; 32] {
        let (fa, fb) = ([fp; 34], [2; 34]);
        let lo = SasInput {
            fingerprint: &fa,
            nonce: &[3; 32],
        };
        let hi = SasInput {
            fingerprint: &fb,
            nonce: &[4; 32],
        };
        resume_proof(
            &[secret; 32],
            dir,
            &[5; 16],
            flags,
            &[transcript; 32],
            lo,
            hi,
        )
    }

    #[test]
    fn every_input_changes_the_proof() {
        use ResumeDirection::{Clinician, Holder};
        let base = proof(1, Holder, 0, 6, 1);
        assert_eq!(base, proof(1, Holder, 0, 6, 1));
        for other in [
            proof(2, Holder, 0, 6, 1),
            proof(1, Clinician, 0, 6, 1),
            proof(1, Holder, 1, 6, 1),
            proof(1, Holder, 0, 7, 1),
            proof(1, Holder, 0, 6, 9),
        ] {
            assert_ne!(base, other);
        }
    }
}
