//! One participant's file transfers, both directions, and the files it holds. Sans-IO:
//! inputs are calls, frames to send wait in a queue ([`Transfers::poll_transmit`]), what
//! happened is the return value.
//!
//! Order and replays: the session delivers each peer's data once and in order, so a
//! receiver takes chunk `next` and nothing else: an earlier index is a replay (refused, no
//! change), a later one a gap (refused, no change: the sender resumes from the last
//! acknowledgement). A finished transfer id (completed, cancelled or refused) is remembered
//! and never starts again.

use std::collections::VecDeque;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::FileError;
use super::wire::{CancelReason, Frame, Offer, TransferId, check_name};
use super::{
    ACK_EVERY, CHUNK_LEN, FileType, MAX_FILE_LEN, MAX_HELD_BYTES, MAX_INCOMING_PER_PEER,
    MAX_TRANSFERS, WINDOW,
};
use crate::chat::Peer;
use crate::consent::Decision;
use crate::signaling::relay_wire::{ParticipantId, Role};

/// How many finished transfer ids are remembered (oldest forgotten first): far more than a
/// visit's files; a replay of an older one meets the held-bytes cap at worst.
const MAX_FINISHED: usize = 1_024;

/// Which way a transfer goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From this side.
    Outgoing,
    /// To this side.
    Incoming,
}

/// A file held in full: sent and confirmed, or received and checked.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedFile {
    /// Its transfer.
    pub id: TransferId,
    /// Who sent it.
    pub author: ParticipantId,
    /// The sender's role.
    pub role: Role,
    /// Who received it.
    pub recipient: ParticipantId,
    /// Its name, type, size, SHA-256 and time.
    pub offer: Offer,
    /// Its bytes (personal data: never logged).
    pub data: Vec<u8>,
}

impl core::fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedFile")
            .field("id", &self.id)
            .field("file_type", &self.offer.file_type)
            .field("size", &self.offer.size)
            .finish_non_exhaustive()
    }
}

/// What an accepted frame did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileEvent {
    /// The peer offered a file; its chunks follow.
    Offered {
        /// Who.
        peer: ParticipantId,
        /// The transfer.
        id: TransferId,
        /// The file's name, type, size and hash.
        offer: Offer,
    },
    /// The peer offered again a file already coming (it resumes): this side told it where
    /// to go on from.
    Resumed {
        /// Who.
        peer: ParticipantId,
        /// The transfer.
        id: TransferId,
        /// Bytes already held.
        bytes: u32,
    },
    /// More of a file arrived (incoming) or was acknowledged (outgoing).
    Progress {
        /// The other side.
        peer: ParticipantId,
        /// The transfer.
        id: TransferId,
        /// Which way.
        direction: Direction,
        /// Bytes received (or acknowledged) so far.
        bytes: u32,
        /// The file's size.
        total: u32,
    },
    /// A file arrived whole, of its type and hash: now held ([`Transfers::held`]).
    Received {
        /// Who sent it.
        peer: ParticipantId,
        /// The transfer.
        id: TransferId,
    },
    /// The peer confirmed it holds this side's file whole: now held here too.
    Delivered {
        /// Who.
        peer: ParticipantId,
        /// The transfer.
        id: TransferId,
    },
    /// The peer ended a transfer; whatever was received of it is gone.
    Cancelled {
        /// Who.
        peer: ParticipantId,
        /// The transfer.
        id: TransferId,
        /// Which way it went.
        direction: Direction,
        /// Why.
        reason: CancelReason,
    },
}

struct Outgoing {
    id: TransferId,
    to: ParticipantId,
    offer: Offer,
    data: Vec<u8>,
    /// The receiver holds every chunk before this one.
    acked: u32,
    /// The next chunk to send.
    sent: u32,
    /// One past the highest chunk ever sent: an acknowledgement beyond it is a lie.
    high: u32,
}

struct Incoming {
    id: TransferId,
    from: ParticipantId,
    role: Role,
    offer: Offer,
    /// The chunks before `next`, in order.
    data: Vec<u8>,
    next: u32,
}

/// One participant's file transfers. See the module docs.
pub struct Transfers {
    local: ParticipantId,
    role: Role,
    outgoing: Vec<Outgoing>,
    incoming: Vec<Incoming>,
    held: Vec<SharedFile>,
    /// (sender, id) of transfers that ended, oldest first.
    finished: VecDeque<(ParticipantId, TransferId)>,
    out: VecDeque<(ParticipantId, Vec<u8>)>,
    /// Chunk bytes per second this side may send (`None`: as fast as acknowledged).
    pace: Option<Pace>,
    /// Peers whose frames take a direct path, not the relay: their chunks do not count
    /// against the pace (the window and acknowledgements still hold).
    unpaced: Vec<ParticipantId>,
}

/// A token bucket over the chunk bytes sent: the relay closes a connection that sends more
/// than its byte rate (docs/PROTOCOL.md §4, 4009), so a sender stays below it.
#[derive(Clone, Copy, Debug)]
struct Pace {
    rate: u64,
    burst: u64,
    tokens: u64,
    at: u64,
}

impl Pace {
    fn refill(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.at);
        self.tokens = self
            .tokens
            .saturating_add(elapsed.saturating_mul(self.rate) / 1_000)
            .min(self.burst);
        self.at = self.at.max(now);
    }
}

impl core::fmt::Debug for Transfers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transfers")
            .field("outgoing", &self.outgoing.len())
            .field("incoming", &self.incoming.len())
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl Transfers {
    /// No transfers yet, for the local participant.
    pub fn new(local: ParticipantId, role: Role) -> Self {
        Self {
            local,
            role,
            outgoing: Vec::new(),
            incoming: Vec::new(),
            held: Vec::new(),
            finished: VecDeque::new(),
            out: VecDeque::new(),
            pace: None,
            unpaced: Vec::new(),
        }
    }

    /// Limits the chunk bytes this side sends to `bytes_per_sec` on average, at most `burst`
    /// at once (from `now`): the browser driver keeps below the relay's byte rate with
    /// [`DEFAULT_RATE`](super::DEFAULT_RATE). Chunks held back go out from
    /// [`handle_timeout`](Self::handle_timeout) at [`poll_timeout`](Self::poll_timeout).
    pub fn set_rate(&mut self, bytes_per_sec: u64, burst: u64, now: u64) {
        let burst = burst.max(super::CHUNK_LEN as u64);
        self.pace = Some(Pace {
            rate: bytes_per_sec.max(1),
            burst,
            tokens: burst,
            at: now,
        });
    }

    /// Frames to `peer` take a direct path (`true`: the pace no longer holds its chunks back,
    /// which go out now up to the window) or the relay again (`false`).
    pub fn set_direct(&mut self, peer: ParticipantId, direct: bool, now: u64) {
        self.unpaced.retain(|p| *p != peer);
        if direct {
            self.unpaced.push(peer);
            self.fill_all(now);
        }
    }

    // ----- getters ---------------------------------------------------------------------------

    /// Every file held in full, in the order they completed.
    pub fn files(&self) -> &[SharedFile] {
        &self.held
    }

    /// The file `author` sent under `id`, if held.
    pub fn held(&self, author: ParticipantId, id: TransferId) -> Option<&SharedFile> {
        self.held.iter().find(|f| f.author == author && f.id == id)
    }

    /// How many transfers are going (both directions).
    pub fn active(&self) -> usize {
        self.outgoing.len().saturating_add(self.incoming.len())
    }

    /// Bytes of files held or reserved by transfers going: at most [`MAX_HELD_BYTES`].
    pub fn held_bytes(&self) -> usize {
        let size = |o: &Offer| o.size as usize;
        self.held
            .iter()
            .map(|f| size(&f.offer))
            .chain(self.outgoing.iter().map(|t| size(&t.offer)))
            .chain(self.incoming.iter().map(|t| size(&t.offer)))
            .sum()
    }

    // ----- inputs ----------------------------------------------------------------------------

    /// Takes a file frame from `from`. `consent` is the patient's decision for `files`: a
    /// new file, and every chunk of one, is refused without it. A refusal that ends a
    /// transfer drops what was received of it and queues a cancel frame for the peer.
    pub fn receive(
        &mut self,
        from: Peer,
        bytes: &[u8],
        consent: &Decision,
        now: u64,
    ) -> Result<FileEvent, FileError> {
        let frame = Frame::decode(bytes)?;
        if !from.in_call {
            return Err(FileError::NotAdmitted);
        }
        if from.id == self.local {
            return Err(FileError::NotPermitted);
        }
        match frame {
            Frame::Offer { id, offer } => self.on_offer(from, id, offer, consent),
            Frame::Chunk { id, index, data } => self.on_chunk(from.id, id, index, &data, consent),
            Frame::Ack { id, next } => self.on_ack(from.id, id, next, now),
            Frame::Complete { id } => self.on_complete(from.id, id),
            Frame::Cancel { id, reason } => self.on_cancel(from.id, id, reason),
        }
    }

    fn on_offer(
        &mut self,
        from: Peer,
        id: TransferId,
        offer: Offer,
        consent: &Decision,
    ) -> Result<FileEvent, FileError> {
        if let Some(t) = self
            .incoming
            .iter()
            .find(|t| t.from == from.id && t.id == id)
        {
            if t.offer != offer {
                return Err(FileError::Replayed);
            }
            // The sender lost track (a restart): tell it where to go on from.
            let (next, bytes) = (t.next, t.data.len() as u32);
            self.queue(from.id, Frame::Ack { id, next });
            return Ok(FileEvent::Resumed {
                peer: from.id,
                id,
                bytes,
            });
        }
        if self.finished.contains(&(from.id, id)) {
            // The sender may have lost this side's confirmation: confirm again if it was
            // received (idempotent); a second file is never made.
            if self.held(from.id, id).is_some() {
                self.queue(from.id, Frame::Complete { id });
            }
            return Err(FileError::Replayed);
        }
        let refused = if !consent.allowed {
            Some(FileError::NotConsented(consent.reason))
        } else if self.incoming.iter().filter(|t| t.from == from.id).count()
            >= MAX_INCOMING_PER_PEER
            || self.active() >= MAX_TRANSFERS
            || self.held_bytes().saturating_add(offer.size as usize) > MAX_HELD_BYTES
        {
            Some(FileError::Busy)
        } else {
            None
        };
        if let Some(e) = refused {
            self.finish(from.id, id);
            self.queue(
                from.id,
                Frame::Cancel {
                    id,
                    reason: e.into(),
                },
            );
            return Err(e);
        }
        self.incoming.push(Incoming {
            id,
            from: from.id,
            role: from.role,
            offer: offer.clone(),
            data: Vec::new(),
            next: 0,
        });
        Ok(FileEvent::Offered {
            peer: from.id,
            id,
            offer,
        })
    }

    fn on_chunk(
        &mut self,
        from: ParticipantId,
        id: TransferId,
        index: u32,
        data: &[u8],
        consent: &Decision,
    ) -> Result<FileEvent, FileError> {
        let Some(pos) = self
            .incoming
            .iter()
            .position(|t| t.from == from && t.id == id)
        else {
            return Err(if self.finished.contains(&(from, id)) {
                FileError::Replayed
            } else {
                FileError::UnknownTransfer
            });
        };
        if !consent.allowed {
            return Err(self.abort_incoming(pos, FileError::NotConsented(consent.reason)));
        }
        let Some(t) = self.incoming.get(pos) else {
            return Err(FileError::UnknownTransfer);
        };
        if index < t.next {
            return Err(FileError::Replayed);
        }
        if index > t.next {
            return Err(FileError::Malformed("file chunk: out of order"));
        }
        let size = t.offer.size as usize;
        let start = (index as usize).saturating_mul(CHUNK_LEN);
        let expected = size.saturating_sub(start).min(CHUNK_LEN);
        let check = if expected == 0 || data.len() > expected {
            Err(FileError::TooLarge)
        } else if data.len() < expected {
            Err(FileError::Truncated)
        } else if index == 0 && !t.offer.file_type.matches(data) {
            Err(FileError::TypeNotAllowed)
        } else {
            Ok(())
        };
        if let Err(e) = check {
            return Err(self.abort_incoming(pos, e));
        }
        let Some(t) = self.incoming.get_mut(pos) else {
            return Err(FileError::UnknownTransfer);
        };
        if index == 0 {
            t.data.reserve_exact(size);
        }
        t.data.extend_from_slice(data);
        t.next = t.next.saturating_add(1);
        let (next, got, total) = (t.next, t.data.len(), t.offer.size);
        if got < size {
            if next % ACK_EVERY == 0 {
                self.queue(from, Frame::Ack { id, next });
            }
            return Ok(FileEvent::Progress {
                peer: from,
                id,
                direction: Direction::Incoming,
                bytes: got as u32,
                total,
            });
        }
        let digest = Sha256::digest(&t.data);
        if !bool::from(digest.as_slice().ct_eq(&t.offer.sha256)) {
            return Err(self.abort_incoming(pos, FileError::HashMismatch));
        }
        let t = self.incoming.remove(pos);
        self.finish(from, id);
        self.held.push(SharedFile {
            id,
            author: from,
            role: t.role,
            recipient: self.local,
            offer: t.offer,
            data: t.data,
        });
        self.queue(from, Frame::Ack { id, next });
        self.queue(from, Frame::Complete { id });
        Ok(FileEvent::Received { peer: from, id })
    }

    fn on_ack(
        &mut self,
        from: ParticipantId,
        id: TransferId,
        next: u32,
        now: u64,
    ) -> Result<FileEvent, FileError> {
        let t = self.outgoing_mut(from, id)?;
        if next < t.acked {
            return Err(FileError::Replayed);
        }
        if next > t.high {
            return Err(FileError::NotPermitted);
        }
        t.acked = next;
        t.sent = t.sent.max(next);
        let bytes = (next as usize)
            .saturating_mul(CHUNK_LEN)
            .min(t.offer.size as usize) as u32;
        let total = t.offer.size;
        self.fill(from, id, now);
        Ok(FileEvent::Progress {
            peer: from,
            id,
            direction: Direction::Outgoing,
            bytes,
            total,
        })
    }

    fn on_complete(&mut self, from: ParticipantId, id: TransferId) -> Result<FileEvent, FileError> {
        let t = self.outgoing_mut(from, id)?;
        if t.high < t.offer.chunks() {
            return Err(FileError::NotPermitted);
        }
        let pos = self
            .outgoing
            .iter()
            .position(|t| t.to == from && t.id == id)
            .ok_or(FileError::UnknownTransfer)?;
        let t = self.outgoing.remove(pos);
        self.finish(self.local, id);
        self.held.push(SharedFile {
            id,
            author: self.local,
            role: self.role,
            recipient: from,
            offer: t.offer,
            data: t.data,
        });
        Ok(FileEvent::Delivered { peer: from, id })
    }

    fn on_cancel(
        &mut self,
        from: ParticipantId,
        id: TransferId,
        reason: CancelReason,
    ) -> Result<FileEvent, FileError> {
        let direction = self.remove(from, id).ok_or(FileError::UnknownTransfer)?;
        Ok(FileEvent::Cancelled {
            peer: from,
            id,
            direction,
            reason,
        })
    }

    // ----- mutators --------------------------------------------------------------------------

    /// Offers `data` (named `name`, of media type `mime`) to `to` under `id` (a random
    /// number the caller draws), and queues the offer and the first chunks. `consent` is
    /// the patient's decision for `files`: nothing is sent without it. Checks the name, the
    /// type (allow-list and magic bytes), the size and the limits first.
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one input of the offer"
    )]
    pub fn send(
        &mut self,
        to: ParticipantId,
        id: TransferId,
        name: &str,
        mime: &str,
        data: Vec<u8>,
        consent: &Decision,
        now: u64,
    ) -> Result<(), FileError> {
        if !consent.allowed {
            return Err(FileError::NotConsented(consent.reason));
        }
        if to == self.local {
            return Err(FileError::NotPermitted);
        }
        check_name(name)?;
        let file_type = FileType::from_mime(mime).ok_or(FileError::TypeNotAllowed)?;
        if data.is_empty() {
            return Err(FileError::Empty);
        }
        if data.len() > MAX_FILE_LEN {
            return Err(FileError::TooLarge);
        }
        if !file_type.matches(&data) {
            return Err(FileError::TypeNotAllowed);
        }
        if self.outgoing.iter().any(|t| t.id == id) || self.finished.contains(&(self.local, id)) {
            return Err(FileError::Replayed);
        }
        if self.active() >= MAX_TRANSFERS
            || self.held_bytes().saturating_add(data.len()) > MAX_HELD_BYTES
        {
            return Err(FileError::Busy);
        }
        let offer = Offer {
            file_type,
            // At most MAX_FILE_LEN (< u32::MAX), checked above.
            size: data.len() as u32,
            sha256: Sha256::digest(&data).into(),
            sent_at: now.min(super::MAX_TIME),
            name: name.to_owned(),
        };
        self.queue(
            to,
            Frame::Offer {
                id,
                offer: offer.clone(),
            },
        );
        self.outgoing.push(Outgoing {
            id,
            to,
            offer,
            data,
            acked: 0,
            sent: 0,
            high: 0,
        });
        self.fill(to, id, now);
        Ok(())
    }

    /// Cancels the transfer `id` with `peer` (either direction): drops it, and queues a
    /// cancel frame for the peer.
    pub fn cancel(&mut self, peer: ParticipantId, id: TransferId) -> Result<Direction, FileError> {
        let direction = self.remove(peer, id).ok_or(FileError::UnknownTransfer)?;
        self.queue(
            peer,
            Frame::Cancel {
                id,
                reason: CancelReason::Cancelled,
            },
        );
        Ok(direction)
    }

    /// Ends every transfer going (consent was withdrawn: `reason` is
    /// [`CancelReason::NotConsented`]), dropping what was received, and queues a cancel frame
    /// for each peer. Returns what ended.
    pub fn stop_all(
        &mut self,
        reason: CancelReason,
    ) -> Vec<(ParticipantId, TransferId, Direction)> {
        let mut ended = Vec::new();
        for t in core::mem::take(&mut self.outgoing) {
            self.finish(self.local, t.id);
            ended.push((t.to, t.id, Direction::Outgoing));
        }
        for t in core::mem::take(&mut self.incoming) {
            self.finish(t.from, t.id);
            ended.push((t.from, t.id, Direction::Incoming));
        }
        for &(peer, id, _) in &ended {
            self.queue(peer, Frame::Cancel { id, reason });
        }
        ended
    }

    /// `peer` left the call: its transfers end (what was received of them is dropped);
    /// nothing is sent to it. Returns what ended.
    pub fn peer_left(&mut self, peer: ParticipantId) -> Vec<(TransferId, Direction)> {
        let mut ended = Vec::new();
        self.unpaced.retain(|p| *p != peer);
        let (gone, kept): (Vec<_>, Vec<_>) = core::mem::take(&mut self.outgoing)
            .into_iter()
            .partition(|t| t.to == peer);
        self.outgoing = kept;
        for t in gone {
            self.finish(self.local, t.id);
            ended.push((t.id, Direction::Outgoing));
        }
        let (gone, kept): (Vec<_>, Vec<_>) = core::mem::take(&mut self.incoming)
            .into_iter()
            .partition(|t| t.from == peer);
        self.incoming = kept;
        for t in gone {
            self.finish(peer, t.id);
            ended.push((t.id, Direction::Incoming));
        }
        self.out.retain(|(to, _)| *to != peer);
        ended
    }

    /// Frames to `peer` may have been lost (its session restarted, the relay lost its
    /// queue): offers every file going to it again and goes on from the last chunk it
    /// acknowledged. The receiver answers an offer it already has with where it stands.
    pub fn resume(&mut self, peer: ParticipantId, now: u64) {
        let ids: Vec<TransferId> = self
            .outgoing
            .iter_mut()
            .filter(|t| t.to == peer)
            .map(|t| {
                t.sent = t.acked;
                t.id
            })
            .collect();
        for id in ids {
            if let Some(t) = self.outgoing.iter().find(|t| t.to == peer && t.id == id) {
                let offer = t.offer.clone();
                self.queue(peer, Frame::Offer { id, offer });
            }
            self.fill(peer, id, now);
        }
    }

    /// Time passed: chunks the pace held back go out.
    pub fn handle_timeout(&mut self, now: u64) {
        self.fill_all(now);
    }

    // ----- poll ------------------------------------------------------------------------------

    /// When to call [`handle_timeout`](Self::handle_timeout): chunks wait for the pace.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let p = self.pace.as_ref()?;
        let waiting = self.outgoing.iter().any(|t| {
            t.sent < t.offer.chunks()
                && t.sent < t.acked.saturating_add(WINDOW)
                && !self.unpaced.contains(&t.to)
        });
        if !waiting {
            return None;
        }
        let need = (CHUNK_LEN as u64).saturating_sub(p.tokens);
        Some(p.at.saturating_add(need.saturating_mul(1_000).div_ceil(p.rate)))
    }

    /// The next frame to send, and to whom.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<(ParticipantId, Vec<u8>)> {
        self.out.pop_front()
    }

    // ----- helpers ---------------------------------------------------------------------------

    fn outgoing_mut(
        &mut self,
        to: ParticipantId,
        id: TransferId,
    ) -> Result<&mut Outgoing, FileError> {
        let replayed = self.finished.contains(&(self.local, id));
        self.outgoing
            .iter_mut()
            .find(|t| t.to == to && t.id == id)
            .ok_or(if replayed {
                FileError::Replayed
            } else {
                FileError::UnknownTransfer
            })
    }

    /// Queues chunks of every outgoing transfer until its window is full, its file all sent,
    /// or the pace allows no more for now.
    fn fill_all(&mut self, now: u64) {
        let ids: Vec<(ParticipantId, TransferId)> =
            self.outgoing.iter().map(|t| (t.to, t.id)).collect();
        for (to, id) in ids {
            self.fill(to, id, now);
        }
    }

    /// Queues chunks of `id` until the window is full, the file is all sent, or the pace
    /// allows no more for now.
    fn fill(&mut self, to: ParticipantId, id: TransferId, now: u64) {
        if let Some(p) = self.pace.as_mut() {
            p.refill(now);
        }
        let paced = !self.unpaced.contains(&to);
        // The window is the peer's, shared by every transfer to it: the session's outbox
        // (256 messages) never fills, however many files go at once.
        let others: u32 = self
            .outgoing
            .iter()
            .filter(|t| t.to == to && t.id != id)
            .map(|t| t.sent.saturating_sub(t.acked))
            .sum();
        let window = WINDOW.saturating_sub(others);
        let Some(t) = self.outgoing.iter_mut().find(|t| t.to == to && t.id == id) else {
            return;
        };
        let mut frames = Vec::new();
        while t.sent < t.offer.chunks() && t.sent < t.acked.saturating_add(window) {
            let start = (t.sent as usize).saturating_mul(CHUNK_LEN);
            let end = start.saturating_add(CHUNK_LEN).min(t.data.len());
            let Some(data) = t.data.get(start..end) else {
                break;
            };
            if let Some(p) = self.pace.as_mut().filter(|_| paced) {
                let cost = data.len() as u64;
                if p.tokens < cost {
                    break;
                }
                p.tokens -= cost;
            }
            frames.push(Frame::Chunk {
                id,
                index: t.sent,
                data: data.to_vec(),
            });
            t.sent = t.sent.saturating_add(1);
            t.high = t.high.max(t.sent);
        }
        for f in frames {
            self.queue(to, f);
        }
    }

    /// Drops the transfer `id` with `peer` (either direction) and spends its id.
    fn remove(&mut self, peer: ParticipantId, id: TransferId) -> Option<Direction> {
        if let Some(pos) = self
            .outgoing
            .iter()
            .position(|t| t.to == peer && t.id == id)
        {
            self.outgoing.remove(pos);
            self.finish(self.local, id);
            return Some(Direction::Outgoing);
        }
        let pos = self
            .incoming
            .iter()
            .position(|t| t.from == peer && t.id == id)?;
        self.incoming.remove(pos);
        self.finish(peer, id);
        Some(Direction::Incoming)
    }

    /// Drops incoming transfer `pos` and every byte of it, tells the sender why, and gives
    /// back the error.
    fn abort_incoming(&mut self, pos: usize, e: FileError) -> FileError {
        if pos < self.incoming.len() {
            let t = self.incoming.remove(pos);
            self.finish(t.from, t.id);
            self.queue(
                t.from,
                Frame::Cancel {
                    id: t.id,
                    reason: e.into(),
                },
            );
        }
        e
    }

    fn finish(&mut self, sender: ParticipantId, id: TransferId) {
        if self.finished.len() >= MAX_FINISHED {
            self.finished.pop_front();
        }
        self.finished.push_back((sender, id));
    }

    fn queue(&mut self, to: ParticipantId, frame: Frame) {
        self.out.push_back((to, frame.encode()));
    }
}
