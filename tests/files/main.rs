//! Photos and documents: the wire frames, transfers (progress, cancellation, resume), the
//! checks on arrival (type, size, truncation, hash), consent, the FHIR export — and the
//! attacks on them, a hostile sender included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests may unwrap: a failure is the test failing"
)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../consent_fixtures/mod.rs"]
mod consent_fixtures;

mod files_attacks;
mod files_consent;
mod files_fhir;
mod files_properties;
mod files_relay_restart;
mod files_transfer;
mod files_wire;

use teleconsult::chat::Peer;
use teleconsult::consent::{Decision, Reason};
use teleconsult::files::{FileError, FileEvent, TransferId, Transfers};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};

/// The clinician, the patient, a guest and an outsider.
pub(crate) const DR: ParticipantId = ParticipantId([0xD0; 8]);
pub(crate) const PT: ParticipantId = ParticipantId([0xA1; 8]);
pub(crate) const GUEST: ParticipantId = ParticipantId([0x6E; 8]);
pub(crate) const MALLORY: ParticipantId = ParticipantId([0x66; 8]);

/// 2023-11-14T22:13:20Z (the consent fixtures' T0).
pub(crate) const T0: u64 = consent_fixtures::T0;

pub(crate) const ID: TransferId = TransferId(0x0123_4567_89ab_cdef);

pub(crate) fn peer(id: ParticipantId, role: Role) -> Peer {
    Peer {
        id,
        role,
        in_call: true,
    }
}

pub(crate) fn yes() -> Decision {
    Decision {
        allowed: true,
        reason: Reason::Granted,
        grant: Some(0),
    }
}

pub(crate) fn no(reason: Reason) -> Decision {
    Decision {
        allowed: false,
        reason,
        grant: None,
    }
}

/// A JPEG-looking file of `len` bytes (the magic, then a pattern).
pub(crate) fn jpeg(len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    v[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    v
}

/// A PDF-looking file of `len` bytes.
pub(crate) fn pdf(len: usize) -> Vec<u8> {
    let mut v = vec![b' '; len];
    v[..8].copy_from_slice(b"%PDF-1.7");
    v
}

/// A patient who offered `data` (a JPEG) to the clinician, and the clinician.
pub(crate) fn offered(data: Vec<u8>) -> (Transfers, Transfers) {
    let mut pt = Transfers::new(PT, Role::Patient);
    pt.send(DR, ID, "rash.jpg", "image/jpeg", data, &yes(), T0)
        .unwrap();
    (pt, Transfers::new(DR, Role::Clinician))
}

/// Every frame queued on `side`, in order.
pub(crate) fn drain(side: &mut Transfers) -> Vec<(ParticipantId, Vec<u8>)> {
    std::iter::from_fn(|| side.poll_transmit()).collect()
}

/// What one direction of a [`pump`] did.
#[derive(Default)]
pub(crate) struct Pumped {
    /// Events the patient's frames caused at the clinician.
    pub(crate) at_dr: Vec<Result<FileEvent, FileError>>,
    /// Events the clinician's frames caused at the patient.
    pub(crate) at_pt: Vec<Result<FileEvent, FileError>>,
    /// Frames the patient sent.
    pub(crate) from_pt: Vec<Vec<u8>>,
}

/// Moves frames both ways between the patient and the clinician until neither has anything
/// to send; `keep(n, frame)` decides whether the patient's `n`th frame arrives.
pub(crate) fn pump(
    pt: &mut Transfers,
    dr: &mut Transfers,
    mut keep: impl FnMut(usize, &[u8]) -> bool,
) -> Pumped {
    let mut out = Pumped::default();
    loop {
        let mut moved = false;
        while let Some((to, f)) = pt.poll_transmit() {
            assert_eq!(to, DR);
            moved = true;
            let n = out.from_pt.len();
            out.from_pt.push(f.clone());
            if keep(n, &f) {
                out.at_dr
                    .push(dr.receive(peer(PT, Role::Patient), &f, &yes(), T0 + 1));
            }
        }
        while let Some((to, f)) = dr.poll_transmit() {
            assert_eq!(to, PT);
            moved = true;
            out.at_pt
                .push(pt.receive(peer(DR, Role::Clinician), &f, &yes(), T0 + 2));
        }
        if !moved {
            return out;
        }
    }
}
