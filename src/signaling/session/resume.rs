//! Resume after a reload (docs/PROTOCOL.md, "Resume after a reload"): a clinician gives
//! each participant it admits a one-time ticket over their sealed channel; a new session of
//! that participant (the same tab, reloaded) proves it holds the ticket, bound to the new
//! pairing, and is admitted again at once with the SAS confirmations the old pairing had.
//!
//! The clinician keeps the tickets it issued ([`Issued`]); the holder's driver keeps its
//! own ticket across the reload (the web layer: `sessionStorage`) and hands it to the new
//! session with [`Session::set_resume_ticket`]. Anything that is not a valid, unexpired,
//! unused ticket of this participant falls back to the waiting room, counted as
//! [`SecurityKind::ResumeRefused`].

use core::fmt;

use zeroize::Zeroizing;

use super::sas::{Shown, sas_inputs};
use super::{Event, Phase, SecurityKind, Session};
use crate::crypto::{self, ResumeDirection};
use crate::signaling::message::{CAP_RESUME, CAP_RESUMING, Signal};
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{MAX_PARTICIPANTS, Redacted};

/// Length of an encoded [`ResumeTicket`].
pub const RESUME_TICKET_LEN: usize = 8 + 16 + 32;

/// Longest a clinician holds back the admission request of a participant that says it holds
/// one of its tickets ([`CAP_RESUMING`]) while the ticket has not arrived. Such a participant
/// only delays itself.
pub const RESUME_DEFER_MS: u64 = 10_000;

/// Flag bit of a clinician's resume answer: the clinician's user had confirmed the SAS.
const CLINICIAN_CONFIRMED: u8 = 1;
/// Flag bit of a clinician's resume answer: the holder's user had confirmed the SAS.
const HOLDER_CONFIRMED: u8 = 2;

/// A resume ticket as its holder keeps it: which clinician session issued it, its id and
/// its secret. `Debug` prints only the clinician; the secret is zeroized when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeTicket {
    /// The clinician that issued it (the only peer it is presented to).
    pub clinician: ParticipantId,
    /// The ticket's id.
    pub id: [u8; 16],
    /// The ticket's secret.
    pub secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for ResumeTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumeTicket")
            .field("clinician", &self.clinician)
            .finish_non_exhaustive()
    }
}

impl ResumeTicket {
    /// `clinician || id || secret` (56 bytes), for the driver to store across a reload.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(RESUME_TICKET_LEN));
        out.extend_from_slice(&self.clinician.0);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(self.secret.as_slice());
        out
    }

    /// Decodes [`Self::encode`]'s output; `None` for anything else.
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != RESUME_TICKET_LEN {
            return None;
        }
        let (clinician, rest) = b.split_first_chunk::<8>()?;
        let (id, secret) = rest.split_first_chunk::<16>()?;
        let secret: &[u8; 32] = secret.try_into().ok()?;
        Some(Self {
            clinician: ParticipantId(*clinician),
            id: *id,
            secret: Zeroizing::new(*secret),
        })
    }
}

/// (Clinicians) a ticket this session issued and has not seen used.
pub(super) struct Issued {
    id: [u8; 16],
    secret: Zeroizing<[u8; 32]>,
    /// The participant it was issued to: only that participant id may use it.
    holder: ParticipantId,
    role: Role,
    /// When this session last saw the holder's session (it became absent, or its record
    /// was dropped); `None` while that session is still here, when the ticket is not usable.
    left_at: Option<u64>,
    /// The old pairing's SAS confirmations when its record was dropped: (ours, the holder's).
    sas: (bool, bool),
}

/// (Holders) the ticket this session may present, and whether it has.
pub(super) struct Held {
    ticket: ResumeTicket,
    presented: bool,
}

impl Session {
    /// (Patients and guests) the ticket a previous session of this participant got from a
    /// clinician ([`Event::ResumeTicket`]): presented to that clinician once the new pairing's
    /// SAS inputs are exchanged, so that the participant is admitted again without waiting.
    /// Call before [`Session::handle_relay_connected`]. A clinician's session ignores it.
    pub fn set_resume_ticket(&mut self, ticket: ResumeTicket) {
        if self.role != Role::Clinician && !self.self_admitted {
            self.held = Some(Held {
                ticket,
                presented: false,
            });
        }
    }

    /// (Clinicians) issues `peer` a fresh ticket, if its hello said it takes them. Called
    /// on each admission; any older ticket of the same participant is revoked.
    pub(super) fn issue_ticket(&mut self, peer: ParticipantId, now: u64) {
        self.revoke_tickets(peer);
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        if p.remote
            .as_ref()
            .is_none_or(|r| r.capabilities & CAP_RESUME == 0)
        {
            return;
        }
        let role = p.relay_role;
        let window = self.t.resume_window;
        self.issued
            .retain(|t| t.left_at.is_none_or(|l| now <= l.saturating_add(window)));
        if self.issued.len() >= MAX_PARTICIPANTS {
            self.issued.remove(0);
        }
        let id: [u8; 16] = self.rng.array();
        let secret = Zeroizing::new(self.rng.array::<32>());
        let sig = Signal::ResumeTicket {
            id,
            secret: Redacted::new(secret.clone()),
        };
        if self.enqueue_signal(peer, &sig, now).is_ok() {
            self.issued.push(Issued {
                id,
                secret,
                holder: peer,
                role,
                left_at: None,
                sas: (false, false),
            });
        }
    }

    /// (Clinicians) `peer` may not resume: it was denied, removed, or hung up.
    pub(super) fn revoke_tickets(&mut self, peer: ParticipantId) {
        self.issued.retain(|t| t.holder != peer);
    }

    /// (Clinicians) `peer`'s session left, or the relay lost it, at `left_at`: its ticket
    /// becomes usable for the window, with the SAS state it had.
    pub(super) fn holder_left(&mut self, peer: ParticipantId, left_at: u64, sas: (bool, bool)) {
        for t in self.issued.iter_mut().filter(|t| t.holder == peer) {
            t.left_at = Some(t.left_at.map_or(left_at, |l| l.min(left_at)));
            t.sas = sas;
        }
    }

    /// (Clinicians) `peer`'s own session (the same static key) is back: its ticket is not
    /// usable again until that session is gone again.
    pub(super) fn holder_back(&mut self, peer: ParticipantId) {
        for t in self.issued.iter_mut().filter(|t| t.holder == peer) {
            t.left_at = None;
        }
    }

    /// A ticket from a clinician: the driver keeps it for a reload.
    pub(super) fn on_resume_ticket(
        &mut self,
        from: ParticipantId,
        id: [u8; 16],
        secret: Zeroizing<[u8; 32]>,
        now: u64,
    ) {
        if self.role == Role::Clinician || !self.is_clinician_peer(from) {
            self.security(SecurityKind::ProtocolViolation, Some(from), now);
            return;
        }
        self.event(Event::ResumeTicket(ResumeTicket {
            clinician: from,
            id,
            secret,
        }));
    }

    /// (Holders) both SAS inputs of the pairing with `pid` are known: present the ticket if
    /// it was issued by `pid` and we still wait.
    pub(super) fn maybe_present_ticket(&mut self, pid: ParticipantId, now: u64) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        if held.presented || held.ticket.clinician != pid || self.self_admitted {
            return;
        }
        held.presented = true;
        let (id, secret) = (held.ticket.id, held.ticket.secret.clone());
        let Some(proof) = self.pairing_proof(pid, &secret, ResumeDirection::Holder, &id, 0) else {
            return;
        };
        let _ = self.enqueue_signal(
            pid,
            &Signal::Resume {
                id,
                flags: 0,
                proof,
            },
            now,
        );
    }

    /// A resume proof from `from`: on a clinician, a holder asking to come back; on a
    /// holder, the clinician's answer.
    pub(super) fn on_resume(
        &mut self,
        from: ParticipantId,
        id: [u8; 16],
        flags: u8,
        proof: [u8; 32],
        now: u64,
    ) {
        if self.role == Role::Clinician {
            self.on_resume_request(from, id, flags, proof, now);
        } else {
            self.on_resume_answer(from, id, flags, proof, now);
        }
    }

    fn on_resume_request(
        &mut self,
        from: ParticipantId,
        id: [u8; 16],
        flags: u8,
        proof: [u8; 32],
        now: u64,
    ) {
        let Some(k) = self.issued.iter().position(|t| crypto::ct_eq(&t.id, &id)) else {
            return self.refuse_resume(from, now);
        };
        // Presented once, whatever comes of it.
        let ticket = self.issued.remove(k);
        let window = self.t.resume_window;
        let eligible = flags == 0
            && ticket.holder == from
            && ticket
                .left_at
                .is_some_and(|l| now <= l.saturating_add(window))
            && self.peers.get(&from).is_some_and(|p| {
                p.relay_role == ticket.role
                    && p.remote.as_ref().is_some_and(|r| r.role == ticket.role)
                    && !p.admission.is_admitted()
                    && !p.admission.is_denied()
                    && p.sas.shown != Shown::Failed
            });
        let expected =
            self.pairing_proof(from, &ticket.secret, ResumeDirection::Holder, &ticket.id, 0);
        let valid = expected.is_some_and(|e| crypto::ct_eq(&e, &proof));
        if !(eligible && valid) {
            return self.refuse_resume(from, now);
        }
        let (ours, theirs) = ticket.sas;
        let answer_flags =
            if ours { CLINICIAN_CONFIRMED } else { 0 } | if theirs { HOLDER_CONFIRMED } else { 0 };
        let Some(answer) = self.pairing_proof(
            from,
            &ticket.secret,
            ResumeDirection::Clinician,
            &ticket.id,
            answer_flags,
        ) else {
            return self.refuse_resume(from, now);
        };
        let sig = Signal::Resume {
            id: ticket.id,
            flags: answer_flags,
            proof: answer,
        };
        // The answer goes before the admission, so the holder knows it resumed when it is
        // let in.
        if self.enqueue_signal(from, &sig, now).is_err() {
            return self.refuse_resume(from, now);
        }
        self.carry_sas(from, ticket.sas);
        self.event(Event::Resumed { peer: from });
        // Admitting issues the next ticket.
        let _ = self.admit_peer(from, now);
    }

    fn on_resume_answer(
        &mut self,
        from: ParticipantId,
        id: [u8; 16],
        flags: u8,
        proof: [u8; 32],
        now: u64,
    ) {
        let Some(held) = self.held.take() else {
            return self.refuse_resume(from, now);
        };
        let t = held.ticket;
        let fits = held.presented
            && t.clinician == from
            && self.is_clinician_peer(from)
            && crypto::ct_eq(&t.id, &id)
            && self.phase == Phase::Waiting;
        let expected = self.pairing_proof(from, &t.secret, ResumeDirection::Clinician, &id, flags);
        if !(fits && expected.is_some_and(|e| crypto::ct_eq(&e, &proof))) {
            return self.refuse_resume(from, now);
        }
        let sas = (
            flags & HOLDER_CONFIRMED != 0,
            flags & CLINICIAN_CONFIRMED != 0,
        );
        self.carry_sas(from, sas);
        self.event(Event::Resumed { peer: from });
    }

    fn refuse_resume(&mut self, from: ParticipantId, now: u64) {
        self.security(SecurityKind::ResumeRefused, Some(from), now);
        self.request_deferred_admission(from);
    }

    /// The hello capability saying we hold a ticket to present ([`CAP_RESUMING`]).
    pub(super) fn resuming_capability(&self) -> u32 {
        if self.held.as_ref().is_some_and(|h| !h.presented) {
            CAP_RESUMING
        } else {
            0
        }
    }

    /// (Clinicians) a peer's first hello says it will present a ticket, and we issued one
    /// to this participant that it may use: hold its admission request back until the
    /// ticket is decided. Returns whether it is held back.
    pub(super) fn defer_admission_request(&mut self, from: ParticipantId, now: u64) -> bool {
        let ours = self
            .issued
            .iter()
            .any(|t| t.holder == from && t.left_at.is_some());
        let Some(p) = self.peers.get_mut(&from) else {
            return false;
        };
        let says = p
            .remote
            .as_ref()
            .is_some_and(|r| r.capabilities & CAP_RESUMING != 0);
        if !(ours && says) {
            return false;
        }
        p.admission_deferred_until = Some(now.saturating_add(RESUME_DEFER_MS));
        true
    }

    /// (Clinicians) the ticket a peer announced did not let it in (refused, never came, or
    /// its SAS exchange failed): it asks to be admitted like anyone else.
    pub(super) fn request_deferred_admission(&mut self, pid: ParticipantId) {
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.admission_deferred_until.take().is_none()
            || p.admission.is_admitted()
            || p.admission.is_denied()
        {
            return;
        }
        let Some(name) = p.remote.as_ref().map(|r| r.name.clone()) else {
            return;
        };
        let role = p.relay_role;
        self.event(Event::AdmissionRequested {
            peer: pid,
            role,
            name,
        });
    }

    /// The pairing with `pid` resumed an earlier one whose SAS confirmations were `sas`
    /// (ours, the peer's): its SAS, once shown, starts with them.
    fn carry_sas(&mut self, pid: ParticipantId, sas: (bool, bool)) {
        if let Some(p) = self.peers.get_mut(&pid) {
            p.resumed = Some(sas);
            if let Shown::Ready {
                confirmed_local,
                confirmed_remote,
                ..
            } = &mut p.sas.shown
            {
                *confirmed_local |= sas.0;
                *confirmed_remote |= sas.1;
            }
        }
    }

    /// Test hook (feature `test-hooks`): the proof this session would present with `ticket`
    /// over its current pairing with the ticket's clinician — what an attacker who somehow
    /// saw that proof would hold.
    #[cfg(feature = "test-hooks")]
    pub fn test_resume_proof(&self, ticket: &ResumeTicket) -> Option<[u8; 32]> {
        self.pairing_proof(
            ticket.clinician,
            &ticket.secret,
            ResumeDirection::Holder,
            &ticket.id,
            0,
        )
    }

    /// The resume proof in `direction` for the current pairing with `pid`, once its
    /// transcript and both SAS inputs are known.
    fn pairing_proof(
        &self,
        pid: ParticipantId,
        secret: &[u8; 32],
        direction: ResumeDirection,
        id: &[u8; 16],
        flags: u8,
    ) -> Option<[u8; 32]> {
        let p = self.peers.get(&pid)?;
        let transcript = p.transcript?;
        let (lo, hi) = sas_inputs(&self.own_fp, self.id, pid, &p.sas)?;
        Some(crypto::resume_proof(
            secret,
            direction,
            id,
            flags,
            &transcript,
            lo.input(),
            hi.input(),
        ))
    }
}
