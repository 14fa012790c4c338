//! The sealed channel of a pair: frames in (header checks, opening, acks, byes, reliable
//! messages re-ordered and delivered once) and out (message ids, the outbox, retransmission
//! with backoff).

use super::{
    CloseReason, Event, LeaveReason, MAX_BACKOFF_MS, Output, Peer, R, Relay, SecurityKind, Session,
    SessionError, err,
};
use crate::crypto::{CryptoError, Header, VERSION};
use crate::signaling::message::{
    self, KIND_ACK, KIND_APP_DATA, KIND_BYE, KIND_HELLO, KIND_SIGNAL, Signal,
};
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{MAX_OUTBOX, REORDER_WINDOW};

/// Over a direct path, app data received in order is acknowledged every this many messages
/// (or [`DIRECT_ACK_DELAY_MS`] after the first unacknowledged one) rather than each: a file
/// transfer's receiver otherwise seals and sends an ack per 16 KiB chunk, a third of its
/// work (docs/BENCHMARKS.md, "File transfer"). Acks are cumulative; a gap or a duplicate is
/// still acknowledged at once, so the sender retransmits no later than before.
pub const DIRECT_ACK_EVERY: u32 = 8;
/// The longest an ack of in-order direct-path app data is held back.
pub const DIRECT_ACK_DELAY_MS: u64 = 20;

/// A reliable message waiting for the peer's acknowledgement.
pub(super) struct OutMsg {
    pub(super) id: u64,
    pub(super) kind: u8,
    pub(super) payload: Vec<u8>,
    pub(super) next_retx: Option<u64>,
    pub(super) backoff: u64,
    /// Bulk data (file chunks): sealed as any message, but sent over the peer's direct path
    /// when there is one.
    pub(super) bulk: bool,
}

/// Makes every queued message due now with a fresh backoff: the keys changed, so whatever
/// was sent before must be sent again under the new ones.
pub(super) fn restart_outbox(p: &mut Peer, backoff: u64) {
    for m in p.outbox.iter_mut() {
        m.next_retx = None;
        m.backoff = backoff;
    }
}

impl Session {
    // ----- frames in -------------------------------------------------------------------------

    pub(super) fn on_frame(&mut self, from: ParticipantId, payload: &[u8], now: u64) -> R {
        let h = self.check_header(from, payload, now)?;
        match h.kind {
            KIND_HELLO => self.on_hello(from, &h, payload, now),
            KIND_SIGNAL | KIND_APP_DATA | KIND_ACK | KIND_BYE => self.on_sealed(from, payload, now),
            _ => {
                self.security(SecurityKind::Malformed, Some(from), now);
                err(SessionError::Malformed)
            }
        }
    }

    /// The checks of a frame's header that need no key: length, version, room, sender and
    /// recipient.
    pub(super) fn check_header(
        &mut self,
        from: ParticipantId,
        payload: &[u8],
        now: u64,
    ) -> Result<Header, SessionError> {
        if !self.peers.contains_key(&from) {
            return Err(SessionError::UnknownPeer);
        }
        let h = match Header::parse(payload) {
            Ok(h) => h,
            Err(e) => {
                self.security(SecurityKind::Malformed, Some(from), now);
                return Err(e.into());
            }
        };
        if h.version != VERSION {
            if h.version < VERSION {
                self.security(SecurityKind::Downgrade, Some(from), now);
                return Err(SessionError::Downgrade);
            }
            return Err(SessionError::UnsupportedVersion);
        }
        let misroute = if h.room != self.room.0 {
            Some(SessionError::WrongRoom)
        } else if h.sender != from.0 {
            Some(SessionError::SenderMismatch)
        } else if h.recipient != self.id.0 && !(h.kind == KIND_HELLO && h.recipient == [0; 8]) {
            Some(SessionError::Misaddressed)
        } else {
            None
        };
        if let Some(e) = misroute {
            self.security(SecurityKind::Misrouted, Some(from), now);
            return Err(e);
        }
        Ok(h)
    }

    pub(super) fn on_sealed(&mut self, from: ParticipantId, payload: &[u8], now: u64) -> R {
        let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
        let Some(keys) = p.keying.keys_mut() else {
            return Err(CryptoError::UnknownKey.into());
        };
        match keys.opener.open(payload) {
            Ok((h, body)) => self.on_opened(from, h.kind, &body, now),
            Err(e) => self.open_failed(from, e, now),
        }
    }

    /// A frame that did not open: a security event by cause (none for an unknown key, which
    /// a re-keying peer's late frames have), and the error.
    pub(super) fn open_failed(&mut self, from: ParticipantId, e: CryptoError, now: u64) -> R {
        match e {
            CryptoError::UnknownKey => {}
            CryptoError::Replayed | CryptoError::TooOld => {
                self.security(SecurityKind::Replay, Some(from), now)
            }
            _ => self.security(SecurityKind::AuthenticationFailed, Some(from), now),
        }
        Err(e.into())
    }

    /// A sealed frame of `kind` from `from` opened (here, or by the driver): it confirms the
    /// pair's keys, then its body is handled.
    pub(super) fn on_opened(&mut self, from: ParticipantId, kind: u8, body: &[u8], now: u64) -> R {
        let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
        if let Some(replied) = p.keying.confirm() {
            self.on_confirmed(from, replied, now);
        }
        match kind {
            KIND_ACK => self.on_ack(from, body, now),
            KIND_BYE => self.on_bye(from, body, now),
            kind => self.on_reliable(from, kind, body, now),
        }
    }

    pub(super) fn violation(&mut self, from: ParticipantId, now: u64) -> R {
        self.security(SecurityKind::ProtocolViolation, Some(from), now);
        err(SessionError::ProtocolViolation)
    }

    /// Acknowledges what arrived from `to`, over the direct path when there is one: acks are
    /// cumulative, so one lost with a closing channel is made good by the next.
    pub(super) fn send_ack(&mut self, to: ParticipantId) {
        let Some(p) = self.peers.get_mut(&to) else {
            return;
        };
        p.unacked = 0;
        p.ack_due = None;
        let (next, direct) = (p.next_in, p.direct);
        self.seal_and_send_via(to, KIND_ACK, &next.to_be_bytes(), direct);
    }

    /// Acknowledges what arrived from `to` now, or holds the ack back while app data comes
    /// in order over a direct path ([`DIRECT_ACK_EVERY`]).
    fn ack_or_hold(&mut self, to: ParticipantId, in_order_app_data: bool, now: u64) {
        let Some(p) = self.peers.get_mut(&to) else {
            return;
        };
        if in_order_app_data && p.direct {
            p.unacked += 1;
            if p.unacked < DIRECT_ACK_EVERY {
                p.ack_due
                    .get_or_insert(now.saturating_add(DIRECT_ACK_DELAY_MS));
                return;
            }
        }
        self.send_ack(to);
    }

    pub(super) fn seal_and_send(&mut self, to: ParticipantId, kind: u8, body: &[u8]) -> bool {
        self.seal_and_send_via(to, kind, body, false)
    }

    /// Seals `body` for `to` and sends it through the relay, or over the direct path
    /// (`direct`): the same envelope either way, sealed here or, for bulk data when the
    /// driver offloads it, by the driver (src/signaling/session/offload.rs).
    fn seal_and_send_via(
        &mut self,
        to: ParticipantId,
        kind: u8,
        body: &[u8],
        direct: bool,
    ) -> bool {
        let sealed = if direct && self.offloads(kind, body) {
            self.offload_seal(to, kind, body).map(|()| None)
        } else {
            let (room, me) = (self.room.0, self.id.0);
            match self.peers.get_mut(&to).and_then(|p| p.keying.keys_mut()) {
                Some(keys) => keys.sealer.seal(kind, &room, &me, &to.0, body).map(Some),
                None => return false,
            }
        };
        match sealed {
            Ok(Some(frame)) if direct => self.out.push_back(Output::Direct { peer: to, frame }),
            Ok(Some(frame)) => self.transmit_to(to, frame),
            Ok(None) => {}
            Err(CryptoError::NonceExhausted) => {
                // Hard stop reached: re-key every pair with a fresh epoch.
                if self.relay == Relay::Joined {
                    let now = self.epoch.saturating_add(1);
                    self.start_epoch(now);
                    self.send_hello(ParticipantId::BROADCAST, 0);
                }
                return false;
            }
            Err(_) => return false,
        }
        true
    }

    pub(super) fn on_ack(&mut self, from: ParticipantId, body: &[u8], now: u64) -> R {
        let Ok(next) = message::decode_ack(body) else {
            return self.violation(from, now);
        };
        let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
        if next > p.next_out {
            return self.violation(from, now);
        }
        p.outbox.retain(|m| m.id >= next);
        Ok(())
    }

    pub(super) fn on_bye(&mut self, from: ParticipantId, body: &[u8], now: u64) -> R {
        let Ok(reason) = message::decode_bye(body) else {
            return self.violation(from, now);
        };
        let clinician = self
            .peers
            .get(&from)
            .is_some_and(|p| p.relay_role == Role::Clinician);
        if reason == 1 && clinician {
            self.close(CloseReason::EndedByClinician);
        } else {
            self.remove_peer(from, LeaveReason::Left, now);
            // It hung up: a later session of it waits to be admitted again.
            self.revoke_tickets(from);
        }
        Ok(())
    }

    pub(super) fn on_reliable(
        &mut self,
        from: ParticipantId,
        kind: u8,
        body: &[u8],
        now: u64,
    ) -> R {
        let Ok((id, payload)) = message::split_reliable(body) else {
            return self.violation(from, now);
        };
        let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
        if id == 0 {
            return self.violation(from, now);
        }
        if id >= p.next_in.saturating_add(REORDER_WINDOW) {
            // Too far ahead to buffer; not acknowledged, so the sender retransmits it.
            return Ok(());
        }
        let in_order = id == p.next_in && p.reorder.len() == 0;
        if id >= p.next_in && !p.reorder.contains_key(&id) {
            p.reorder.insert(id, (kind, payload.to_vec()));
        }
        let mut ready = Vec::new();
        while let Some(m) = p.reorder.remove(&p.next_in) {
            p.next_in += 1;
            ready.push(m);
        }
        self.ack_or_hold(from, in_order && kind == KIND_APP_DATA, now);
        for (kind, payload) in ready {
            if kind == KIND_APP_DATA {
                let keep = self
                    .peers
                    .get(&from)
                    .is_some_and(|p| !p.admission.is_denied());
                if keep {
                    self.event(Event::AppData {
                        peer: from,
                        data: payload,
                    });
                }
                continue;
            }
            match Signal::decode(&payload) {
                Ok(sig) => self.on_signal(from, sig, now),
                Err(_) => {
                    self.security(SecurityKind::ProtocolViolation, Some(from), now);
                }
            }
        }
        Ok(())
    }

    // ----- reliable messages out -------------------------------------------------------------

    pub(super) fn enqueue_signal(&mut self, to: ParticipantId, sig: &Signal, now: u64) -> R {
        self.enqueue_as(to, KIND_SIGNAL, sig.encode(), false, now)
    }

    /// Queues a reliable message; `bulk` ones take the direct path when there is one.
    pub(super) fn enqueue_as(
        &mut self,
        to: ParticipantId,
        kind: u8,
        payload: Vec<u8>,
        bulk: bool,
        now: u64,
    ) -> R {
        let backoff = self.t.retransmit;
        let p = self.peers.get_mut(&to).ok_or(SessionError::InvalidState)?;
        if p.outbox.len() >= MAX_OUTBOX {
            return err(SessionError::QueueFull);
        }
        let id = p.next_out;
        p.next_out += 1;
        p.outbox.push_back(OutMsg {
            id,
            kind,
            payload,
            next_retx: None,
            backoff,
            bulk,
        });
        self.pump(to, now);
        Ok(())
    }

    /// Sends every queued message that is due, if the pair has confirmed keys.
    pub(super) fn pump(&mut self, to: ParticipantId, now: u64) {
        if self.relay != Relay::Joined {
            return;
        }
        let Some(p) = self.peers.get_mut(&to) else {
            return;
        };
        if !p.keying.may_seal() {
            return;
        }
        let direct = p.direct;
        let mut due = Vec::new();
        for m in p.outbox.iter_mut() {
            if m.next_retx.is_none_or(|t| t <= now) {
                let mut body = m.id.to_be_bytes().to_vec();
                body.extend_from_slice(&m.payload);
                due.push((m.kind, body, direct && m.bulk));
                m.next_retx = Some(now.saturating_add(m.backoff));
                m.backoff = m.backoff.saturating_mul(2).min(MAX_BACKOFF_MS);
            }
        }
        for (kind, body, direct) in due {
            if !self.seal_and_send_via(to, kind, &body, direct) {
                break;
            }
        }
    }
}
