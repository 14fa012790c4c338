//! The waiting room: a clinician admits or denies a patient or guest; the others learn who
//! is in the call from a clinician's signed word, never the relay's.

use super::{Event, Session};
use crate::signaling::MAX_PARTICIPANTS;
use crate::signaling::relay_wire::{ParticipantId, Role};

impl Session {
    pub(super) fn is_clinician_peer(&self, pid: ParticipantId) -> bool {
        self.peers.get(&pid).is_some_and(|p| {
            p.relay_role == Role::Clinician
                && p.remote.as_ref().is_some_and(|r| r.role == Role::Clinician)
        })
    }

    pub(super) fn mark_admitted(&mut self, id: ParticipantId) {
        if id == self.id {
            return;
        }
        match self.peers.get_mut(&id) {
            Some(p) if p.relay_role != Role::Clinician => {
                if !p.admitted {
                    p.admitted = true;
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
