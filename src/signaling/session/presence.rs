//! Which peers exist: the relay's welcome and join/leave announcements, a restarted or
//! departed peer's record being dropped, and what the lifetime memory keeps of it
//! (docs/PROTOCOL.md §11.5).

use super::peer::Carried;
use super::{
    CloseReason, Event, LeaveReason, MediaRequest, Output, Peer, Phase, R, Relay, SecurityKind,
    Session, SessionError, err,
};
use crate::signaling::MAX_PARTICIPANTS;
use crate::signaling::message::KIND_BYE;
use crate::signaling::relay_wire::{ParticipantId, Role};

impl Session {
    pub(super) fn on_welcome(
        &mut self,
        role: Role,
        present: Vec<(ParticipantId, Role)>,
        now: u64,
    ) -> R {
        if !matches!(self.relay, Relay::Joining { .. }) {
            return err(SessionError::ProtocolViolation);
        }
        if role != self.role {
            return err(SessionError::RoleConflict);
        }
        self.relay = Relay::Joined;
        self.next_ping = now.saturating_add(self.t.ping_interval);
        self.start_epoch(now);
        let mut listed = Vec::new();
        for (id, r) in present {
            if id == self.id || id.is_broadcast() || listed.contains(&id) {
                continue;
            }
            if self.add_or_refresh_peer(id, r, now).is_ok() {
                listed.push(id);
            }
        }
        let t = self.t;
        for (id, p) in self.peers.iter_mut() {
            if listed.contains(id) {
                p.hello_retry_at = Some(now.saturating_add(t.hello_retry));
                p.hello_backoff = t.hello_retry;
                p.handshake_deadline = Some(now.saturating_add(t.handshake));
            } else if p.present {
                p.present = false;
                p.absent_since = Some(now);
            }
        }
        match self.phase {
            Phase::Joining | Phase::Idle if self.self_admitted => self.set_phase(Phase::InCall),
            Phase::Joining | Phase::Idle => {
                self.waiting_since.get_or_insert(now);
                self.set_phase(Phase::Waiting);
            }
            _ => {}
        }
        self.send_hello(ParticipantId::BROADCAST, 0);
        self.event(Event::RelayConnected);
        for id in listed {
            self.prepare_for_clinician(id);
        }
        Ok(())
    }

    pub(super) fn on_joined(&mut self, id: ParticipantId, role: Role, now: u64) -> R {
        if self.relay != Relay::Joined || id == self.id || id.is_broadcast() {
            return err(SessionError::ProtocolViolation);
        }
        self.add_or_refresh_peer(id, role, now)?;
        // (Re)joined: whatever of ours it held may be gone.
        if let Some(h) = self.hello.as_mut() {
            h.broadcast_to.retain(|p| *p != id);
        }
        self.prepare_for_clinician(id);
        Ok(())
    }

    /// A patient or guest will make the first offer to a clinician as soon as it is admitted
    /// (see [`Session::maybe_start`]): its connection is prepared while the handshake and the
    /// admission are in flight. Nothing is sent until then.
    pub(super) fn prepare_for_clinician(&mut self, id: ParticipantId) {
        if self.role != Role::Clinician
            && self
                .peers
                .get(&id)
                .is_some_and(|p| p.relay_role == Role::Clinician)
        {
            self.prepare(id);
        }
    }

    pub(super) fn add_or_refresh_peer(&mut self, id: ParticipantId, role: Role, now: u64) -> R {
        if let Some(p) = self.peers.get_mut(&id) {
            if p.relay_role != role {
                self.security(SecurityKind::RoleConflict, Some(id), now);
                return err(SessionError::RoleConflict);
            }
            p.present = true;
            p.absent_since = None;
            p.handshake_deadline
                .get_or_insert(now.saturating_add(self.t.handshake));
            return Ok(());
        }
        if self.peers.len() + 1 >= MAX_PARTICIPANTS {
            return err(SessionError::RoomFull);
        }
        if role == Role::Patient && self.has_other_patient(id) {
            self.security(SecurityKind::RoleConflict, Some(id), now);
            return err(SessionError::RoleConflict);
        }
        self.peers.insert(id, Peer::new(role, now, &self.t));
        Ok(())
    }

    /// Whether someone other than `id` is the patient: this session, or a present peer
    /// whose hello proved the patient role (a relay's announcement alone does not count,
    /// so an impostor announced as patient cannot keep the real one out).
    pub(super) fn has_other_patient(&self, id: ParticipantId) -> bool {
        self.role == Role::Patient
            || self.peers.iter().any(|(q, p)| {
                *q != id && p.present && p.remote.as_ref().is_some_and(|r| r.role == Role::Patient)
            })
    }

    // ----- leaving ---------------------------------------------------------------------------

    pub(super) fn broadcast_bye(&mut self, reason: u8, _now: u64) {
        let ids: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.keying.is_confirmed())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.seal_and_send(id, KIND_BYE, &[reason]);
        }
    }

    /// Forgets everything about a restarted peer except its relay presence (its lifetime
    /// memory stays), and moves to a new epoch.
    pub(super) fn reset_peer(&mut self, pid: ParticipantId, now: u64) {
        let Some(old) = self.peers.remove(&pid) else {
            return;
        };
        self.remember(pid, &old, now);
        if old.has_connection() {
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::ClosePeer,
            });
        }
        let undelivered = old.undelivered_app_data();
        if undelivered > 0 {
            self.event(Event::AppDataUndelivered {
                peer: pid,
                count: undelivered,
            });
        }
        if old.joined_announced {
            self.event(Event::PeerLeft {
                peer: pid,
                reason: LeaveReason::Restarted,
            });
        }
        let mut fresh = Peer::new(old.relay_role, now, &self.t);
        fresh.hello_rate = old.hello_rate;
        fresh.present = old.present;
        self.peers.insert(pid, fresh);
    }

    pub(super) fn remove_peer(&mut self, pid: ParticipantId, reason: LeaveReason, now: u64) {
        let Some(old) = self.peers.remove(&pid) else {
            return;
        };
        self.remember(pid, &old, now);
        // Its session is gone: its resume ticket may be used from now (or from when the relay
        // lost it). A restart (`reset_peer`) does not do this: a new session under the id
        // of one still connected is not a reload, and gets no resume.
        let left_at = old.absent_since.unwrap_or(now);
        self.holder_left(pid, left_at, old.sas.shown.confirmations());
        if old.has_connection() {
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::ClosePeer,
            });
        }
        let undelivered = old.undelivered_app_data();
        if undelivered > 0 {
            self.event(Event::AppDataUndelivered {
                peer: pid,
                count: undelivered,
            });
        }
        self.event(Event::PeerLeft { peer: pid, reason });
    }

    /// A keyed peer's record is being dropped: keep what protects against its replay, and
    /// retire our ephemeral key, which must never key that peer again (a fresh record
    /// would restart its sealer at sequence 0 under the same keys).
    pub(super) fn remember(&mut self, pid: ParticipantId, old: &Peer, now: u64) {
        if old.remote.is_none() {
            return;
        }
        self.memory.forget_peer(
            pid,
            Carried {
                next_in: old.next_in,
                next_out: old.next_out,
                admission: old.admission,
                sas: old.sas.clone(),
            },
        );
        if self.relay == Relay::Joined && self.phase != Phase::Closed {
            self.start_epoch(now);
            self.send_hello(ParticipantId::BROADCAST, 0);
        } else {
            // The next welcome starts the new epoch.
            self.hello = None;
        }
    }

    pub(super) fn close(&mut self, reason: CloseReason) {
        if self.phase == Phase::Closed {
            return;
        }
        let started: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.has_connection())
            .map(|(id, _)| *id)
            .collect();
        for peer in started {
            self.out.push_back(Output::Media {
                peer,
                request: MediaRequest::ClosePeer,
            });
        }
        self.drop_keys();
        for p in self.peers.values_mut() {
            p.sas_prk = None;
        }
        // Nobody resumes into an ended visit.
        self.issued.clear();
        self.held = None;
        self.set_phase(Phase::Closed);
        self.event(Event::Closed(reason));
    }
}
