//! The waiting room: a clinician admits or denies a patient or guest; the others learn who
//! is in the call from a clinician's word (a sealed signal from a peer whose hello proved
//! the clinician role), never from the relay's.

use super::negotiation::Neg;
use super::{Event, MediaRequest, Output, R, Session, SessionError, err};
use crate::signaling::MAX_PARTICIPANTS;
use crate::signaling::Redacted;
use crate::signaling::message::Signal;
use crate::signaling::relay_wire::{ParticipantId, Role};

/// Where a patient or guest stands in the waiting room, as this session knows it. (A
/// clinician is in the call by its role and stays [`Admission::Waiting`] here.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Admission {
    /// Not admitted: held in the waiting room.
    #[default]
    Waiting,
    /// A clinician admitted it (this session, or another clinician's word).
    Admitted,
    /// This session (a clinician) turned it away. Final for this peer session: nothing it
    /// sends is applied, and another clinician's admission does not bring it back.
    Denied,
}

impl Admission {
    /// Whether a clinician admitted it (and this session has not denied it).
    pub(super) fn is_admitted(self) -> bool {
        self == Self::Admitted
    }

    /// Whether this session turned it away.
    pub(super) fn is_denied(self) -> bool {
        self == Self::Denied
    }

    /// A returning peer session's standing: what its record had before it was dropped,
    /// joined with what it has now. A denial outranks an admission, which outranks waiting.
    pub(super) fn join(self, other: Self) -> Self {
        match (self, other) {
            (Self::Denied, _) | (_, Self::Denied) => Self::Denied,
            (Self::Admitted, _) | (_, Self::Admitted) => Self::Admitted,
            (Self::Waiting, Self::Waiting) => Self::Waiting,
        }
    }
}

impl Session {
    /// (Clinicians) [`Session::admit`]: tells the newcomer who is in the call, and everyone
    /// in the call about the newcomer.
    pub(super) fn admit_peer(&mut self, peer: ParticipantId, now: u64) -> R {
        if self.role != Role::Clinician {
            return err(SessionError::NotPermitted);
        }
        let p = self.peers.get(&peer).ok_or(SessionError::InvalidState)?;
        if p.remote.is_none() || p.admission.is_denied() || p.relay_role == Role::Clinician {
            return err(SessionError::InvalidState);
        }
        if p.admission.is_admitted() {
            return Ok(());
        }
        let others: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(id, q)| **id != peer && q.in_call())
            .map(|(id, _)| *id)
            .collect();
        let mut in_call = others.clone();
        in_call.push(self.id);
        in_call.truncate(MAX_PARTICIPANTS);
        self.enqueue_signal(peer, &Signal::Admit { in_call }, now)?;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.admission = Admission::Admitted;
        }
        for q in others {
            // Best effort: a full queue towards q only delays q's view of the newcomer.
            let _ = self.enqueue_signal(q, &Signal::Admitted(peer), now);
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.admission_deferred_until = None;
        }
        self.event(Event::PeerAdmitted { peer });
        self.issue_ticket(peer, now);
        self.maybe_start(peer, now);
        Ok(())
    }

    /// (Clinicians) [`Session::deny`]: tells the peer, and closes its connection if any.
    pub(super) fn deny_peer(&mut self, peer: ParticipantId, now: u64) -> R {
        if self.role != Role::Clinician {
            return err(SessionError::NotPermitted);
        }
        let p = self.peers.get(&peer).ok_or(SessionError::InvalidState)?;
        if p.remote.is_none() || p.relay_role == Role::Clinician {
            return err(SessionError::InvalidState);
        }
        self.enqueue_signal(peer, &Signal::Deny, now)?;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.admission = Admission::Denied;
            p.direct = false;
            // Its early offer, held until an admission that will not come, is dropped.
            p.deferred.clear();
            if p.has_connection() {
                p.neg = Neg::new();
                self.out.push_back(Output::Media {
                    peer,
                    request: MediaRequest::ClosePeer,
                });
            }
        }
        self.revoke_tickets(peer);
        self.event(Event::PeerDenied { peer });
        Ok(())
    }

    /// Tells the app about a peer's first hello: it joined, and (to a clinician) that it
    /// asks to be admitted.
    pub(super) fn announce(
        &mut self,
        from: ParticipantId,
        first: Option<(Role, Redacted<String>, Admission)>,
        now: u64,
    ) {
        let Some((role, name, admission)) = first else {
            return;
        };
        self.event(Event::PeerJoined {
            peer: from,
            role,
            name: name.clone(),
        });
        if self.role == Role::Clinician && role != Role::Clinician && !admission.is_admitted() {
            if self.defer_admission_request(from, now) {
                return;
            }
            self.event(Event::AdmissionRequested {
                peer: from,
                role,
                name,
            });
        }
    }

    /// Whether `pid` is a clinician by the relay's word and by its own proven hello: the
    /// only peer whose admission signals count.
    pub(super) fn is_clinician_peer(&self, pid: ParticipantId) -> bool {
        self.peers.get(&pid).is_some_and(|p| {
            p.relay_role == Role::Clinician
                && p.remote.as_ref().is_some_and(|r| r.role == Role::Clinician)
        })
    }

    /// A clinician said `id` is in the call: mark it admitted, or (not known yet) remember
    /// that for when it arrives.
    pub(super) fn mark_admitted(&mut self, id: ParticipantId) {
        if id == self.id {
            return;
        }
        match self.peers.get_mut(&id) {
            Some(p) if p.relay_role != Role::Clinician => {
                if p.admission == Admission::Waiting {
                    p.admission = Admission::Admitted;
                    self.event(Event::PeerAdmitted { peer: id });
                }
            }
            Some(_) => {}
            None => {
                if !self.pre_admitted.contains(&id) && self.pre_admitted.len() < MAX_PARTICIPANTS {
                    self.pre_admitted.push(id);
                }
            }
        }
    }
}
