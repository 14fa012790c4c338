//! The short authentication string of a pairing: the ZRTP-style commit/reveal exchange that
//! fixes both sides' inputs before either is known (docs/PROTOCOL.md §13), the check that
//! the peer's SDP carries the certificate it committed to, and both users' confirmations.
//! The derivations themselves live in `crypto::sas`.

use super::{Event, R, SecurityKind, Session, SessionError, err};
use crate::crypto::{self, Sas, SasInput};
use crate::signaling::message::Signal;
use crate::signaling::relay_wire::ParticipantId;

/// One pairing's SAS: the commit/reveal exchange (docs/PROTOCOL.md §13) and what came of
/// it. Kept across re-keys of the same pair, and carried in the lifetime memory when the
/// peer's record is dropped, so that both sides keep agreeing on it.
#[derive(Clone, Default)]
pub(super) struct SasState {
    /// Our nonce for this pairing: set when the exchange starts (fresh per pairing).
    pub(super) nonce: Option<[u8; 32]>,
    /// (The higher id of the pair) the peer's commitment.
    pub(super) commitment: Option<[u8; 32]>,
    /// The peer's reveal, verified against its commitment: nonce and fingerprint.
    pub(super) peer: Option<([u8; 32], Vec<u8>)>,
    /// The encoded fingerprint of the peer's last remote description.
    pub(super) remote_fp: Option<Vec<u8>>,
    /// What came of it.
    pub(super) shown: Shown,
}

/// What a pairing's SAS exchange has come to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Shown {
    /// Nothing to show yet: an input, the peer's reveal or its SDP is still missing.
    #[default]
    Pending,
    /// The SAS is shown to the user (a new one, with fresh confirmations, if a DTLS
    /// certificate changed).
    Ready {
        /// The SAS.
        code: Sas,
        /// The public value naming it, for the consent ledger.
        binding: [u8; 32],
        /// Our user confirmed it.
        confirmed_local: bool,
        /// The peer's user confirmed the same SAS (its tag checked).
        confirmed_remote: bool,
    },
    /// The exchange failed: a reveal that does not open the commitment, a second
    /// commitment, or an SDP with another certificate. No SAS is ever shown for the pair,
    /// and nothing shown before counts as confirmed.
    Failed,
}

impl Shown {
    /// The SAS on screen, if any.
    pub(super) fn code(&self) -> Option<Sas> {
        match self {
            Self::Ready { code, .. } => Some(*code),
            Self::Pending | Self::Failed => None,
        }
    }

    /// The binding of the SAS on screen, if any.
    pub(super) fn binding(&self) -> Option<[u8; 32]> {
        match self {
            Self::Ready { binding, .. } => Some(*binding),
            Self::Pending | Self::Failed => None,
        }
    }

    /// (our user, the peer's user) confirmed the SAS on screen.
    pub(super) fn confirmations(&self) -> (bool, bool) {
        match self {
            Self::Ready {
                confirmed_local,
                confirmed_remote,
                ..
            } => (*confirmed_local, *confirmed_remote),
            Self::Pending | Self::Failed => (false, false),
        }
    }
}

impl Session {
    /// Starts a new pairing's SAS exchange once its keys exist: a fresh nonce, and (the
    /// lower id) the commitment to our inputs. A pairing that already has one keeps it.
    pub(super) fn start_sas(&mut self, pid: ParticipantId, now: u64) {
        let nonce: [u8; 32] = self.rng.array();
        let me = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.sas.nonce.is_some() {
            return;
        }
        p.sas.nonce = Some(nonce);
        if me < pid {
            let c = crypto::sas_commitment(SasInput {
                fingerprint: &self.own_fp,
                nonce: &nonce,
            });
            let _ = self.enqueue_signal(pid, &Signal::SasCommit(c), now);
        }
    }

    /// (The higher id) the peer committed: reveal ours, now that its inputs are fixed.
    pub(super) fn on_sas_commit(&mut self, from: ParticipantId, c: [u8; 32], now: u64) {
        if self.id < from {
            self.security(SecurityKind::ProtocolViolation, Some(from), now);
            return;
        }
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        match p.sas.commitment {
            Some(old) if old == c => return,
            Some(_) => return self.sas_failed(from, now),
            None => p.sas.commitment = Some(c),
        }
        self.send_reveal(from, now);
    }

    /// The peer revealed its inputs: the higher id checks them against the commitment; the
    /// lower id, which committed first, now reveals its own.
    pub(super) fn on_sas_reveal(
        &mut self,
        from: ParticipantId,
        nonce: [u8; 32],
        fp: Vec<u8>,
        now: u64,
    ) {
        let me = self.id;
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if let Some((n, f)) = &p.sas.peer {
            if *n != nonce || *f != fp {
                self.sas_failed(from, now);
            }
            return;
        }
        let opens = match p.sas.commitment {
            _ if !is_single_fingerprint(&fp) => false,
            // We committed first; the peer revealed without knowing our nonce.
            None if me < from => p.sas.nonce.is_some(),
            None => {
                self.security(SecurityKind::ProtocolViolation, Some(from), now);
                return;
            }
            Some(c) => {
                let fingerprint = fp.as_slice();
                let got = crypto::sas_commitment(SasInput {
                    fingerprint,
                    nonce: &nonce,
                });
                crypto::ct_eq(&got, &c)
            }
        };
        if !opens {
            return self.sas_failed(from, now);
        }
        p.sas.peer = Some((nonce, fp));
        if me < from {
            self.send_reveal(from, now);
        }
        self.update_sas(from, now);
        self.maybe_present_ticket(from, now);
    }

    pub(super) fn send_reveal(&mut self, to: ParticipantId, now: u64) {
        let Some(nonce) = self.peers.get(&to).and_then(|p| p.sas.nonce) else {
            return;
        };
        let reveal = Signal::SasReveal {
            nonce,
            fingerprint: self.own_fp.clone(),
        };
        let _ = self.enqueue_signal(to, &reveal, now);
    }

    /// [`Session::confirm_sas`]: our user confirmed the SAS on screen; the peer gets a tag
    /// that only the same SAS opens.
    pub(super) fn confirm_own_sas(&mut self, peer: ParticipantId, now: u64) -> R {
        let me = self.id;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SessionError::InvalidState)?;
        let (Some(prk), Some((lo, hi))) = (
            p.sas_prk.as_ref(),
            sas_inputs(&self.own_fp, me, peer, &p.sas),
        ) else {
            return err(SessionError::InvalidState);
        };
        let Shown::Ready {
            confirmed_local, ..
        } = &mut p.sas.shown
        else {
            return err(SessionError::InvalidState);
        };
        let tag = Sas::confirm_tag(prk, &me.0, lo.input(), hi.input());
        *confirmed_local = true;
        self.enqueue_signal(peer, &Signal::SasConfirm(tag), now)
    }

    /// A man in the middle (or a broken peer): no SAS is ever shown for this pairing.
    pub(super) fn sas_failed(&mut self, pid: ParticipantId, now: u64) {
        if let Some(p) = self.peers.get_mut(&pid) {
            p.sas.shown = Shown::Failed;
        }
        self.security(SecurityKind::SasMismatch, Some(pid), now);
        self.request_deferred_admission(pid);
    }

    /// Shows the SAS once both inputs are revealed and the peer's SDP carries exactly the
    /// certificate it committed to.
    pub(super) fn update_sas(&mut self, pid: ParticipantId, now: u64) {
        let me = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        if p.sas.shown == Shown::Failed {
            return;
        }
        let (Some(prk), Some((_, peer_fp)), Some(sdp_fp)) =
            (p.sas_prk.as_ref(), &p.sas.peer, &p.sas.remote_fp)
        else {
            return;
        };
        if peer_fp != sdp_fp {
            return self.sas_failed(pid, now);
        }
        let Some((lo, hi)) = sas_inputs(&self.own_fp, me, pid, &p.sas) else {
            return;
        };
        let sas = Sas::derive(prk, lo.input(), hi.input());
        if p.sas.shown.code() != Some(sas) {
            // A resumed pairing starts with the confirmations of the one it resumed.
            let (confirmed_local, confirmed_remote) = p.resumed.unwrap_or((false, false));
            p.sas.shown = Shown::Ready {
                code: sas,
                binding: crypto::sas_binding(&p.identity, lo.input(), hi.input()),
                confirmed_local,
                confirmed_remote,
            };
            // Nothing left to compare: no new prompt.
            if !(confirmed_local && confirmed_remote) {
                self.event(Event::SasReady { peer: pid, sas });
            }
            self.check_sas_confirm(pid, now);
        }
    }

    pub(super) fn check_sas_confirm(&mut self, pid: ParticipantId, now: u64) {
        let me = self.id;
        let Some(p) = self.peers.get_mut(&pid) else {
            return;
        };
        let (Some(tag), Some(_), Some(prk), Some((lo, hi))) = (
            p.pending_confirm,
            p.sas.shown.code(),
            p.sas_prk.as_ref(),
            sas_inputs(&self.own_fp, me, pid, &p.sas),
        ) else {
            return;
        };
        p.pending_confirm = None;
        let expected = Sas::confirm_tag(prk, &pid.0, lo.input(), hi.input());
        if crypto::ct_eq(&expected, &tag) {
            if let Shown::Ready {
                confirmed_remote, ..
            } = &mut p.sas.shown
            {
                *confirmed_remote = true;
            }
            self.event(Event::SasConfirmedByPeer { peer: pid });
        } else {
            self.security(SecurityKind::SasMismatch, Some(pid), now);
        }
    }
}

/// One side's revealed SAS inputs, owned.
pub(super) struct OwnedInput {
    pub(super) fingerprint: Vec<u8>,
    pub(super) nonce: [u8; 32],
}

impl OwnedInput {
    pub(super) fn input(&self) -> SasInput<'_> {
        SasInput {
            fingerprint: &self.fingerprint,
            nonce: &self.nonce,
        }
    }
}

/// Both sides' SAS inputs, lower participant id first, once both are known.
pub(super) fn sas_inputs(
    own_fp: &[u8],
    me: ParticipantId,
    peer: ParticipantId,
    sas: &SasState,
) -> Option<(OwnedInput, OwnedInput)> {
    let mine = OwnedInput {
        fingerprint: own_fp.to_vec(),
        nonce: sas.nonce?,
    };
    let (nonce, fingerprint) = sas.peer.clone()?;
    let theirs = OwnedInput { fingerprint, nonce };
    Some(if me < peer {
        (mine, theirs)
    } else {
        (theirs, mine)
    })
}

/// Whether `fp` is a canonical fingerprint encoding with exactly one entry.
pub(super) fn is_single_fingerprint(fp: &[u8]) -> bool {
    let Some((&1, rest)) = fp.split_first() else {
        return false;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return false;
    };
    let Some((name, rest)) = rest.split_at_checked(usize::from(n)) else {
        return false;
    };
    let Some((&d, digest)) = rest.split_first() else {
        return false;
    };
    let canonical = crypto::encode_fingerprints(&[(
        String::from_utf8_lossy(name).into_owned(),
        digest.to_vec(),
    )]);
    usize::from(d) == digest.len() && canonical == fp
}
