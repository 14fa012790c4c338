//! The handshake: our sealed hello per epoch, the peer's hello (rate limit, role proof,
//! X25519, lifetime memory), pairwise keys and their confirmation (docs/PROTOCOL.md §8).

use zeroize::Zeroizing;

use super::admission::Admission;
use super::delivery::restart_outbox;
use super::{Event, R, SecurityKind, Session, SessionError, err};
use crate::crypto::{
    self, CryptoError, Ephemeral, Header, Opener, PeerPublic, ReplayWindow, Sealer, VERSION,
};
use crate::signaling::Redacted;
use crate::signaling::memory::Refusal;
use crate::signaling::message::{Hello, KIND_HELLO};
use crate::signaling::relay_wire::{ParticipantId, Role};

/// Hellos accepted from one peer per [`HELLO_RATE_WINDOW_MS`]; more are dropped unopened.
pub const HELLO_BURST: u32 = 12;
/// The window of the hello rate limit.
pub const HELLO_RATE_WINDOW_MS: u64 = 10_000;
/// Minimum gap between two answers to the same peer's repeated hellos.
const HELLO_REPLY_GAP_MS: u64 = 500;

/// Our hello of the current epoch: the ephemeral key every pair of this epoch is keyed
/// with, and the sealed body sent to every peer.
pub(super) struct OwnHello {
    pub(super) epoch: u64,
    pub(super) ephemeral: Ephemeral,
    pub(super) sealer: Sealer,
    /// The transcript core (what the role proof signs).
    pub(super) core: Vec<u8>,
    /// The encoded hello without `reply_to`.
    pub(super) body: Vec<u8>,
    /// The peers present when this hello was broadcast, and not announced (re)joining
    /// since: each holds it already, so its own hello needs no reply hello from us.
    pub(super) broadcast_to: Vec<ParticipantId>,
}

/// How far the pair's current keys have got (docs/PROTOCOL.md §8).
pub(super) enum Keying {
    /// No keys: before the peer's first hello, or dropped (relay lost, new epoch).
    None,
    /// Derived from the peer's hello; not yet answered nor confirmed.
    Derived(Keys),
    /// We answered the peer's current hello: it derives the keys from that reply before
    /// anything we send after it arrives (the relay keeps a sender's frames in order), so
    /// sealed messages may follow the reply at once, before key confirmation (0.5-RTT, as
    /// TLS 1.3 servers do).
    Replied(Keys),
    /// The peer proved it holds the keys: a sealed frame from it opened, or its hello
    /// answered ours.
    Confirmed(Keys),
}

impl Keying {
    /// The keys, whatever their stage.
    pub(super) fn keys_mut(&mut self) -> Option<&mut Keys> {
        match self {
            Self::None => None,
            Self::Derived(k) | Self::Replied(k) | Self::Confirmed(k) => Some(k),
        }
    }

    /// Whether the pair holds keys.
    pub(super) fn has_keys(&self) -> bool {
        !matches!(self, Self::None)
    }

    /// Whether the peer confirmed the keys.
    pub(super) fn is_confirmed(&self) -> bool {
        matches!(self, Self::Confirmed(_))
    }

    /// Whether reliable messages may be sealed under these keys now (confirmed, or sent
    /// after our reply).
    pub(super) fn may_seal(&self) -> bool {
        matches!(self, Self::Replied(_) | Self::Confirmed(_))
    }

    /// We answered the peer's hello under the keys derived from it.
    pub(super) fn mark_replied(&mut self) {
        *self = match core::mem::replace(self, Self::None) {
            Self::Derived(k) => Self::Replied(k),
            other => other,
        };
    }

    /// The peer proved it holds the keys. `Some(replied)` when this confirms them now
    /// (`replied`: we had answered its hello under them), `None` when there are none or
    /// they were confirmed already.
    pub(super) fn confirm(&mut self) -> Option<bool> {
        let (keys, replied) = match core::mem::replace(self, Self::None) {
            Self::Derived(k) => (k, false),
            Self::Replied(k) => (k, true),
            other => {
                *self = other;
                return None;
            }
        };
        *self = Self::Confirmed(keys);
        Some(replied)
    }
}

/// What the peer's current hello told us.
pub(super) struct Remote {
    pub(super) epoch: u64,
    pub(super) static_public: [u8; 32],
    pub(super) role: Role,
    /// Its hello's capability bits.
    pub(super) capabilities: u32,
    pub(super) name: Redacted<String>,
    pub(super) core: Vec<u8>,
}

/// A pair's directional keys.
pub(super) struct Keys {
    pub(super) sealer: Sealer,
    pub(super) opener: Opener,
    /// The driver holds the sealer's / opener's key (bulk crypto offload).
    pub(super) send_exported: bool,
    pub(super) recv_exported: bool,
}

impl Session {
    pub(super) fn start_epoch(&mut self, now: u64) {
        self.epoch = self.epoch.saturating_add(1).max(now);
        let ephemeral = match self.first_ephemeral.take() {
            Some(e) => e,
            None => Ephemeral::from_random(self.rng.array()),
        };
        let salt: [u8; 8] = self.rng.array();
        let key = self.room_keys.hello_key(&self.id.0, &salt);
        let mut hello = Hello {
            max_version: VERSION,
            epoch: self.epoch,
            static_public: self.static_key.public(),
            ephemeral_public: ephemeral.public(),
            role: self.role,
            capabilities: self.capabilities | self.resuming_capability(),
            name: self.name.expose().clone(),
            proof: None,
            reply_to: 0,
        };
        let core = hello.core();
        hello.proof = self.authority.prove(&self.room.0, &self.id.0, &core);
        let mut body = hello.encode();
        body.truncate(body.len() - 8); // reply_to is appended per send
        self.hello = Some(OwnHello {
            epoch: self.epoch,
            ephemeral,
            sealer: Sealer::new(&key, salt),
            core,
            body,
            broadcast_to: Vec::new(),
        });
        for p in self.peers.values_mut() {
            p.keying = Keying::None;
        }
    }

    pub(super) fn send_hello(&mut self, to: ParticipantId, reply_to: u64) {
        let (room, me) = (self.room.0, self.id.0);
        let Some(h) = self.hello.as_mut() else { return };
        if to.is_broadcast() {
            h.broadcast_to = self
                .peers
                .iter()
                .filter(|(_, p)| p.present)
                .map(|(id, _)| *id)
                .collect();
        }
        let mut body = h.body.clone();
        body.extend_from_slice(&reply_to.to_be_bytes());
        if let Ok(frame) = h.sealer.seal(KIND_HELLO, &room, &me, &to.0, &body) {
            self.transmit_to(to, frame);
        }
    }

    pub(super) fn on_hello(
        &mut self,
        from: ParticipantId,
        h: &Header,
        payload: &[u8],
        now: u64,
    ) -> R {
        // Rate limit before any cryptography: a flood costs one comparison per frame.
        {
            let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
            if now.saturating_sub(p.hello_rate.0) >= HELLO_RATE_WINDOW_MS {
                p.hello_rate = (now, 0);
            }
            if p.hello_rate.1 >= HELLO_BURST {
                self.security(SecurityKind::RateLimited, Some(from), now);
                return err(SessionError::RateLimited);
            }
            p.hello_rate.1 += 1;
        }
        let key = self.room_keys.hello_key(&from.0, &h.key_id);
        let p = self.peers.get(&from).ok_or(SessionError::UnknownPeer)?;
        let window = match p.hello_window {
            Some((salt, w)) if salt == h.key_id => w,
            _ => ReplayWindow::default(),
        };
        let mut opener = Opener::with_window(&key, h.key_id, window);
        let body = match opener.open(payload) {
            Ok((_, body)) => body,
            Err(e) => {
                let kind = match e {
                    CryptoError::Replayed | CryptoError::TooOld => SecurityKind::Replay,
                    _ => SecurityKind::AuthenticationFailed,
                };
                self.security(kind, Some(from), now);
                if kind == SecurityKind::AuthenticationFailed {
                    self.count_hello_failure(from);
                }
                return Err(e.into());
            }
        };
        let Ok(hello) = Hello::decode(&body) else {
            return self.violation(from, now);
        };
        if hello.max_version < VERSION {
            self.security(SecurityKind::Downgrade, Some(from), now);
            return err(SessionError::Downgrade);
        }
        // First contact: our reply hello depends on nothing the peer sent but its epoch, so
        // it goes out before the expensive checks (the role proof, then X25519), and the
        // peer verifies ours while we verify its own. A hello that then fails them gets
        // nothing more: we never key it. Our hello is no secret from anyone who can open
        // the peer's (the room secret seals both).
        let my_epoch = self.hello.as_ref().map_or(0, |o| o.epoch);
        // A peer that was there when we broadcast this epoch's hello holds it already (a
        // newcomer answering the hello the relay kept for it, say): our keys and its keys
        // come from the same two hellos, so no reply hello is needed, and what we send next
        // follows that broadcast under them.
        let has_ours = self
            .hello
            .as_ref()
            .is_some_and(|o| o.broadcast_to.contains(&from));
        let replied_early = !has_ours
            && p.remote.is_none()
            && hello.reply_to != my_epoch
            && hello.role == p.relay_role
            && self
                .memory
                .check(from, &hello.static_public, hello.epoch)
                .is_ok();
        if replied_early {
            self.send_hello(from, hello.epoch);
        }
        let Some(p) = self.peers.get(&from) else {
            return err(SessionError::UnknownPeer);
        };
        let entitled = self.authority.verify(
            hello.role,
            &self.room.0,
            &from.0,
            &hello.core(),
            hello.proof.as_ref(),
        );
        if !entitled
            || hello.role != p.relay_role
            || (hello.role == Role::Patient && self.has_other_patient(from))
        {
            self.security(SecurityKind::RoleConflict, Some(from), now);
            return err(SessionError::RoleConflict);
        }
        let core = hello.core();
        let same_session = p
            .remote
            .as_ref()
            .is_some_and(|r| r.static_public == hello.static_public);
        let restarted = match &p.remote {
            Some(r) if r.static_public == hello.static_public => {
                if hello.epoch < r.epoch {
                    self.security(SecurityKind::Replay, Some(from), now);
                    return Err(CryptoError::Replayed.into());
                }
                if hello.epoch == r.epoch && !p.keying.has_keys() && core == r.core {
                    // Our own epoch changed (we resumed): derive new keys from the peer's
                    // unchanged hello below.
                    false
                } else if hello.epoch == r.epoch {
                    if core != r.core {
                        return self.violation(from, now);
                    }
                    self.commit_hello_window(from, h.key_id, opener.window());
                    self.on_repeated_hello(from, hello.reply_to, my_epoch, now);
                    return Ok(());
                } else {
                    false
                }
            }
            Some(_) => true,
            None => false,
        };
        // A new handshake epoch (first contact, resumption, or a restarted peer). The
        // lifetime memory refuses a retired static key or an epoch older than one keyed.
        match self.memory.check(from, &hello.static_public, hello.epoch) {
            Ok(()) => {}
            Err(Refusal::Replay) => {
                self.security(SecurityKind::Replay, Some(from), now);
                return Err(CryptoError::Replayed.into());
            }
            Err(Refusal::Full) => {
                self.security(SecurityKind::RateLimited, Some(from), now);
                return err(SessionError::RateLimited);
            }
        }
        if restarted {
            // Also moves us to a new epoch: our ephemeral keyed the peer's old session.
            self.reset_peer(from, now);
        }
        let Some(own) = self.hello.as_ref() else {
            return err(SessionError::InvalidState);
        };
        let my_epoch = own.epoch;
        let th = crypto::transcript_hash(&self.room.0, (&self.id.0, &own.core), (&from.0, &core));
        let peer_pub = PeerPublic {
            id: &from.0,
            static_public: &hello.static_public,
            ephemeral_public: &hello.ephemeral_public,
        };
        let secrets = match crypto::derive_pair(
            &self.room.0,
            &self.room_keys,
            &self.static_key,
            &own.ephemeral,
            &self.id.0,
            peer_pub,
            &th,
        ) {
            Ok(s) => s,
            Err(_) => return self.violation(from, now),
        };
        if self.memory.used_session_id(from, &secrets.session_id) {
            // These exact keys were installed before: installing them again would restart
            // a sealer at sequence 0. Never happens unless the memory above was bypassed.
            self.security(SecurityKind::Replay, Some(from), now);
            return Err(CryptoError::Replayed.into());
        }
        let carried = self
            .memory
            .keyed(from, hello.static_public, hello.epoch, secrets.session_id);
        self.commit_hello_window(from, h.key_id, opener.window());
        let name = Redacted::new(hello.name.clone());
        let pre_admitted = self.pre_admitted.contains(&from);
        let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
        p.remote = Some(Remote {
            epoch: hello.epoch,
            static_public: hello.static_public,
            role: hello.role,
            capabilities: hello.capabilities,
            name: name.clone(),
            core,
        });
        p.transcript = Some(secrets.transcript);
        p.sas_prk = Some(Zeroizing::new(secrets.sas_prk));
        p.keying = Keying::Derived(Keys {
            sealer: Sealer::new(&secrets.send, secrets.session_id),
            opener: Opener::new(&secrets.recv, secrets.session_id),
            send_exported: false,
            recv_exported: false,
        });
        p.identity = secrets.identity;
        if same_session || carried.is_some() {
            // The holder's own session is back (a relay blip): its ticket waits again.
            self.holder_back(from);
        }
        let Some(p) = self.peers.get_mut(&from) else {
            return err(SessionError::UnknownPeer);
        };
        if let Some(c) = carried {
            // The same peer session is back after its record was dropped (it left, or the
            // relay said so): continue its message ids, so nothing is delivered twice, and
            // its SAS, which the peer still holds.
            p.next_in = p.next_in.max(c.next_in);
            p.next_out = p.next_out.max(c.next_out);
            p.admission = p.admission.join(c.admission);
            p.sas = c.sas;
        }
        if pre_admitted {
            p.admission = p.admission.join(Admission::Admitted);
        }
        let first = !p.joined_announced;
        p.joined_announced = true;
        let announce = first.then_some((hello.role, name, p.admission));
        if hello.reply_to == my_epoch {
            self.announce(from, announce, now);
            let replied = self
                .peers
                .get_mut(&from)
                .and_then(|p| p.keying.confirm())
                .unwrap_or(false);
            self.send_ack(from);
            self.on_confirmed(from, replied, now);
        } else {
            // The reply goes out before the app hears of the newcomer: the peer is waiting
            // for it, and the app's handlers (an admission dialog, say) may take a while.
            if !replied_early && !has_ours {
                self.send_hello(from, hello.epoch);
            }
            let (t, t_retx) = (self.t.hello_retry, self.t.retransmit);
            if let Some(p) = self.peers.get_mut(&from) {
                p.last_reply_at = Some(now);
                p.hello_retry_at = Some(now.saturating_add(t));
                p.hello_backoff = t;
                p.keying.mark_replied();
                restart_outbox(p, t_retx);
            }
            // Anything queued for this peer follows the reply under the new keys, and so
            // does an early offer to a clinician.
            self.pump(from, now);
            self.offer_early(from, now);
            self.announce(from, announce, now);
        }
        self.start_sas(from, now);
        self.update_sas(from, now);
        Ok(())
    }

    pub(super) fn commit_hello_window(
        &mut self,
        from: ParticipantId,
        salt: [u8; 8],
        w: ReplayWindow,
    ) {
        if let Some(p) = self.peers.get_mut(&from) {
            p.hello_window = Some((salt, w));
        }
    }

    /// A retransmitted hello of the current epoch: answer it (rate-limited) so that a lost
    /// reply or key confirmation cannot leave the pair half-established.
    pub(super) fn on_repeated_hello(
        &mut self,
        from: ParticipantId,
        reply_to: u64,
        my_epoch: u64,
        now: u64,
    ) {
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if !p.keying.has_keys() {
            return;
        }
        let newly = if reply_to == my_epoch {
            p.keying.confirm()
        } else {
            None
        };
        let may_answer = p
            .last_reply_at
            .is_none_or(|t| now >= t.saturating_add(HELLO_REPLY_GAP_MS));
        if newly.is_some() || may_answer {
            p.last_reply_at = Some(now);
            let epoch = p.remote.as_ref().map_or(0, |r| r.epoch);
            if reply_to == my_epoch {
                // Key confirmation: our first sealed frame tells the peer we hold the keys.
                self.send_ack(from);
            } else {
                self.send_hello(from, epoch);
            }
        }
        if let Some(replied) = newly {
            self.on_confirmed(from, replied, now);
        }
    }

    /// The pair's keys were just confirmed; `replied`: we had answered the peer's hello
    /// under them, so what we sent since went out under them already.
    pub(super) fn on_confirmed(&mut self, from: ParticipantId, replied: bool, now: u64) {
        let t = self.t.retransmit;
        if let Some(p) = self.peers.get_mut(&from) {
            p.hello_retry_at = None;
            p.handshake_deadline = None;
            // What went out after our reply was sealed with these keys already: it keeps its
            // retransmission timer. Anything else is (re)sent now under them.
            if !replied {
                restart_outbox(p, t);
            }
        }
        self.pump(from, now);
        self.maybe_start(from, now);
    }
}

/// Hellos from a peer that fail to open before any has opened: a peer that is really there
/// (the relay lists it) but holds another room secret. Two in a row, about a second apart
/// with the hello retries, are not chance.
const LINK_MISMATCH_AFTER: u8 = 2;

impl Session {
    /// A hello from `from` did not open under the room key. The second such hello from a
    /// peer whose hello never opened tells the app, once, that the two links do not match
    /// (one is wrong, or from another visit), so neither side waits for a handshake that
    /// cannot happen. A relay could fake this, as it could drop every frame: the worst it
    /// gets is a wrong message, never a key.
    fn count_hello_failure(&mut self, from: ParticipantId) {
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if p.remote.is_some() || p.hello_failures >= LINK_MISMATCH_AFTER {
            return;
        }
        p.hello_failures += 1;
        if p.hello_failures == LINK_MISMATCH_AFTER {
            let role = p.relay_role;
            // The peer cannot open ours either: one more of ours makes its count too, so
            // it is told now rather than after our next retry — which a side that leaves
            // on this notice never sends (a newcomer counts the kept hello and the peer's
            // first retry, before its own retry is due).
            self.send_hello(from, 0);
            self.event(Event::LinkMismatch { peer: from, role });
        }
    }
}
