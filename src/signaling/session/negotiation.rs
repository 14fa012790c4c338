//! Media negotiation with one peer: perfect negotiation (polite and impolite sides, glare),
//! trickle ICE with candidates queued until the remote description exists, ICE restarts and
//! the timers that retry a stuck exchange.

use super::{Event, IceState, MediaRequest, Output, Peer, Phase, R, Session, SessionError, err};
use crate::crypto;
use crate::signaling::message::{Candidate, SdpKind, Signal};
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{MAX_SDP_LEN, sdp};

/// Most remote candidates queued before the remote description exists.
const MAX_QUEUED_CANDIDATES: usize = 200;

/// Where the offer/answer exchange with the peer stands (`RTCSignalingState`, plus the
/// wait for the media engine to make our offer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sig {
    /// No exchange under way.
    Stable,
    /// We asked the media engine for an offer ([`MediaRequest::CreateOffer`]) and wait for
    /// it to report the local description.
    MakingOffer,
    /// Our offer is set and sent; we wait for the answer.
    LocalOffer,
    /// The peer's offer is set; we owe the answer.
    RemoteOffer,
}

/// An offer that must be made as soon as the exchange under way settles (asked for while
/// one was in flight, or given up in a glare).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Owed {
    /// Nothing.
    Nothing,
    /// An offer.
    Offer,
    /// An offer with an ICE restart.
    IceRestart,
}

/// A side's part in perfect negotiation with one peer: in a glare the polite side yields
/// (rolls its offer back), the impolite one ignores the other's offer. The lower
/// participant id is the polite one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Politeness {
    /// Yields in a glare; waits a grace period before restarting failed ICE itself.
    Polite,
    /// Keeps its offer in a glare; restarts failed ICE at once; between equals, offers first.
    Impolite,
}

impl Politeness {
    /// This side's part towards `peer` (never this side itself).
    pub(super) fn towards(me: ParticipantId, peer: ParticipantId) -> Self {
        if me < peer {
            Self::Polite
        } else {
            Self::Impolite
        }
    }
}

/// The negotiation with one peer.
pub(super) struct Neg {
    /// Negotiation began (an offer asked for or awaited, or a remote description came).
    pub(super) started: bool,
    /// A [`MediaRequest::Prepare`] was emitted (the driver holds a connection for this peer
    /// even if negotiation has not started).
    pub(super) prepared: bool,
    pub(super) sig: Sig,
    pub(super) owed: Owed,
    /// Perfect negotiation: the impolite side ignored a colliding offer (and its candidates).
    pub(super) ignore_offer: bool,
    pub(super) remote_set: bool,
    pub(super) queued: Vec<Candidate>,
    pub(super) deadline: Option<u64>,
    pub(super) ice: IceState,
    pub(super) ice_timer: Option<u64>,
    pub(super) restarts: u32,
    pub(super) connected: bool,
    pub(super) failed_reported: bool,
    /// When to report that no media path came up (`Timeouts::media_connect`), once.
    pub(super) connect_by: Option<u64>,
    /// Our first offer went to a clinician before our admission (an early offer): the
    /// clinician holds it until it admits us, so its timers start at the admission.
    pub(super) early: bool,
}

impl Neg {
    pub(super) fn new() -> Self {
        Self {
            started: false,
            prepared: false,
            sig: Sig::Stable,
            owed: Owed::Nothing,
            ignore_offer: false,
            remote_set: false,
            queued: Vec::new(),
            deadline: None,
            ice: IceState::New,
            ice_timer: None,
            restarts: 0,
            connected: false,
            failed_reported: false,
            connect_by: None,
            early: false,
        }
    }
}

impl Session {
    /// [`Session::handle_local_description`]: our offer or answer, checked to carry the
    /// committed certificate, goes to the peer.
    pub(super) fn local_description(
        &mut self,
        peer: ParticipantId,
        kind: SdpKind,
        sdp: &str,
        now: u64,
    ) -> R {
        if sdp.len() > MAX_SDP_LEN {
            return err(SessionError::TooLarge);
        }
        if crypto::encode_fingerprints(&sdp::fingerprints(sdp)) != self.own_fp {
            return err(SessionError::CertificateMismatch);
        }
        let t_neg = self.t.negotiation;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SessionError::InvalidState)?;
        if !p.neg.started {
            return err(SessionError::InvalidState);
        }
        match kind {
            SdpKind::Offer => {
                if p.neg.sig != Sig::MakingOffer {
                    return Ok(());
                }
                p.neg.sig = Sig::LocalOffer;
                p.neg.deadline = (!p.neg.early).then(|| now.saturating_add(t_neg));
            }
            SdpKind::Answer => {
                if p.neg.sig != Sig::RemoteOffer {
                    return err(SessionError::InvalidState);
                }
                p.neg.sig = Sig::Stable;
                p.neg.deadline = None;
            }
        }
        self.enqueue_signal(
            peer,
            &Signal::Description {
                kind,
                sdp: sdp.to_owned(),
            },
            now,
        )?;
        if kind == SdpKind::Answer {
            self.offer_if_needed(peer, now);
        }
        Ok(())
    }

    /// [`Session::handle_ice_state`]: ICE came up, or went down and may need a restart
    /// (the impolite side restarts at once, the polite one after a grace period).
    pub(super) fn ice_state(&mut self, peer: ParticipantId, state: IceState, now: u64) -> R {
        let part = Politeness::towards(self.id, peer);
        let t = self.t;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SessionError::InvalidState)?;
        p.neg.ice = state;
        match state {
            IceState::Connected | IceState::Completed => {
                p.neg.ice_timer = None;
                p.neg.connect_by = None;
                p.neg.restarts = 0;
                p.neg.failed_reported = false;
                if !p.neg.connected {
                    p.neg.connected = true;
                    self.event(Event::PeerConnected { peer });
                }
            }
            IceState::Disconnected => {
                p.neg.ice_timer = Some(now.saturating_add(t.ice_disconnected));
            }
            IceState::Failed => {
                if p.neg.connected {
                    p.neg.connect_by = Some(now.saturating_add(t.media_connect));
                }
                p.neg.connected = false;
                if part == Politeness::Impolite {
                    p.neg.ice_timer = None;
                    self.try_restart(peer, now);
                } else {
                    p.neg.ice_timer = Some(now.saturating_add(t.ice_restart_grace));
                }
            }
            IceState::New | IceState::Checking | IceState::Closed => {}
        }
        Ok(())
    }

    pub(super) fn media_allowed(&self, pid: ParticipantId) -> bool {
        self.phase == Phase::InCall && self.peers.get(&pid).is_some_and(Peer::in_call)
    }

    /// Whether we may offer to `pid` before our own admission: we wait to be admitted, and
    /// `pid` proved (by its hello's role key, not the relay's word) that it is a clinician
    /// and we hold keys for it. The offer is the one we would make once admitted; the
    /// clinician sets nothing from it until it admits us (docs/PROTOCOL.md §12).
    fn early_offer_allowed(&self, pid: ParticipantId) -> bool {
        self.phase == Phase::Waiting
            && self.role != Role::Clinician
            && self.peers.get(&pid).is_some_and(|p| {
                p.relay_role == Role::Clinician
                    && p.remote.as_ref().is_some_and(|r| r.role == Role::Clinician)
                    && p.keying.has_keys()
                    && !p.admission.is_denied()
            })
    }

    pub(super) fn maybe_start(&mut self, pid: ParticipantId, now: u64) {
        if !self.media_allowed(pid) {
            self.offer_early(pid, now);
            return;
        }
        let t = self.t.negotiation;
        let connect = self.t.media_connect;
        let me = self.role;
        let id = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.early {
            // Admitted after an early offer: the exchange is on from now, with its timers.
            p.neg.early = false;
            p.neg.connect_by = Some(now.saturating_add(connect));
            if matches!(p.neg.sig, Sig::MakingOffer | Sig::LocalOffer) {
                p.neg.deadline = Some(now.saturating_add(t));
            }
        }
        // Who makes the first offer: the participant joining a clinician (the one who was
        // admitted) offers, so media starts as soon as the admission arrives; between equals
        // the impolite (higher id) side offers. Glare is still resolved by politeness.
        let offers_first = match (me, p.relay_role) {
            (Role::Clinician, Role::Patient | Role::Guest) => false,
            (Role::Patient | Role::Guest, Role::Clinician) => true,
            _ => Politeness::towards(id, pid) == Politeness::Impolite,
        };
        // The answerer prepares its connection once the pair is confirmed — after the
        // admission went out (on_confirmed sends it first), while the other side is busy
        // making its offer.
        let prepare = !offers_first && p.keying.is_confirmed();
        if !p.neg.started {
            p.neg.started = true;
            p.neg.connect_by = Some(now.saturating_add(connect));
            // Ahead of any description: the peer knows the screen's stream when it arrives.
            let sharing = self.announce_screen(pid, now);
            let Some(p) = self.peers.get_mut(&pid) else {
                return;
            };
            if !offers_first {
                p.neg.deadline = Some(now.saturating_add(t));
                // An answer carries only the media sections the peer offered (its camera and
                // microphone): the screen needs an offer of ours once that exchange settles.
                if sharing {
                    p.neg.owed = p.neg.owed.max(Owed::Offer);
                }
            } else {
                self.request_offer(pid, false, now);
            }
        }
        if prepare {
            self.prepare(pid);
        }
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        let deferred: Vec<Signal> = p.deferred.drain(..).collect();
        for sig in deferred {
            self.apply_media(pid, sig, now);
        }
    }

    /// The first offer to a clinician, made while we wait for our admission (see
    /// [`Session::early_offer_allowed`]): it travels beside our hello's reply, so the answer
    /// can follow the admission at once instead of a round trip later. No timer runs
    /// until the admission; a denial closes the session and the offer with it.
    pub(super) fn offer_early(&mut self, pid: ParticipantId, now: u64) {
        if !self.early_offer_allowed(pid) {
            return;
        }
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.started {
            return;
        }
        p.neg.started = true;
        p.neg.early = true;
        self.request_offer(pid, false, now);
    }

    /// Asks the driver to create the connection for `pid` ahead of negotiation (once).
    pub(super) fn prepare(&mut self, pid: ParticipantId) {
        if let Some(p) = self.peers.get_mut(&pid)
            && !p.neg.prepared
        {
            p.neg.prepared = true;
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::Prepare,
            });
        }
    }

    pub(super) fn request_offer(&mut self, pid: ParticipantId, ice_restart: bool, now: u64) {
        let t = self.t.negotiation;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.sig == Sig::Stable {
            p.neg.sig = Sig::MakingOffer;
            p.neg.deadline = (!p.neg.early).then(|| now.saturating_add(t));
            self.out.push_back(Output::Media {
                peer: pid,
                request: MediaRequest::CreateOffer { ice_restart },
            });
        } else {
            let owed = if ice_restart {
                Owed::IceRestart
            } else {
                Owed::Offer
            };
            p.neg.owed = p.neg.owed.max(owed);
        }
    }

    pub(super) fn offer_if_needed(&mut self, pid: ParticipantId, now: u64) {
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.neg.owed != Owed::Nothing && p.neg.sig == Sig::Stable {
            let restart = p.neg.owed == Owed::IceRestart;
            p.neg.owed = Owed::Nothing;
            self.request_offer(pid, restart, now);
        }
    }

    pub(super) fn try_restart(&mut self, pid: ParticipantId, now: u64) {
        let max = self.t.max_ice_restarts;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if !p.neg.started {
            return;
        }
        if p.neg.restarts >= max {
            if !p.neg.failed_reported {
                p.neg.failed_reported = true;
                self.event(Event::PeerMediaFailed { peer: pid });
            }
            return;
        }
        p.neg.restarts += 1;
        self.request_offer(pid, true, now);
    }

    pub(super) fn negotiation_expired(&mut self, pid: ParticipantId, now: u64) {
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        match p.neg.sig {
            Sig::LocalOffer => {
                p.neg.sig = Sig::Stable;
                self.out.push_back(Output::Media {
                    peer: pid,
                    request: MediaRequest::Rollback,
                });
                self.try_restart(pid, now);
            }
            Sig::MakingOffer => {
                p.neg.sig = Sig::Stable;
                self.try_restart(pid, now);
            }
            Sig::RemoteOffer => {
                if !p.neg.failed_reported {
                    p.neg.failed_reported = true;
                    self.event(Event::PeerMediaFailed { peer: pid });
                }
            }
            Sig::Stable => {
                // The polite side waited for a first offer that never came: offer itself.
                if !p.neg.remote_set {
                    self.request_offer(pid, false, now);
                }
            }
        }
    }

    pub(super) fn apply_media(&mut self, pid: ParticipantId, sig: Signal, now: u64) {
        let part = Politeness::towards(self.id, pid);
        let t = self.t.negotiation;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        let mut reqs = Vec::new();
        match sig {
            Signal::Description { kind, sdp } => {
                // Exactly one certificate, which the SAS exchange must show is the one the
                // peer committed to (checked in update_sas): no extra, unchecked lines.
                let fp = crypto::encode_fingerprints(&sdp::fingerprints(&sdp));
                if fp.first() != Some(&1) {
                    self.sas_failed(pid, now);
                    return;
                }
                p.sas.remote_fp = Some(fp);
                p.neg.started = true;
                match kind {
                    SdpKind::Offer => {
                        let collision = matches!(p.neg.sig, Sig::MakingOffer | Sig::LocalOffer);
                        p.neg.ignore_offer = part == Politeness::Impolite && collision;
                        if p.neg.ignore_offer {
                            return;
                        }
                        if collision {
                            reqs.push(MediaRequest::Rollback);
                            p.neg.owed = p.neg.owed.max(Owed::Offer);
                        }
                        p.neg.sig = Sig::RemoteOffer;
                        p.neg.remote_set = true;
                        p.neg.ice_timer = None;
                        p.neg.deadline = Some(now.saturating_add(t));
                        reqs.push(MediaRequest::SetRemoteDescription { kind, sdp });
                        reqs.extend(p.neg.queued.drain(..).map(MediaRequest::AddIceCandidate));
                        reqs.push(MediaRequest::CreateAnswer);
                    }
                    SdpKind::Answer => {
                        if p.neg.sig != Sig::LocalOffer {
                            return;
                        }
                        p.neg.ignore_offer = false;
                        p.neg.sig = Sig::Stable;
                        p.neg.remote_set = true;
                        p.neg.deadline = None;
                        reqs.push(MediaRequest::SetRemoteDescription { kind, sdp });
                        reqs.extend(p.neg.queued.drain(..).map(MediaRequest::AddIceCandidate));
                    }
                }
            }
            Signal::Candidate(c) => {
                if p.neg.ignore_offer {
                    return;
                }
                if p.neg.remote_set {
                    reqs.push(MediaRequest::AddIceCandidate(c));
                } else if p.neg.queued.len() < MAX_QUEUED_CANDIDATES {
                    p.neg.queued.push(c);
                }
            }
            _ => {}
        }
        for request in reqs {
            self.out.push_back(Output::Media { peer: pid, request });
        }
        self.offer_if_needed(pid, now);
        self.update_sas(pid, now);
    }
}
