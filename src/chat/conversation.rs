//! One participant's view of the consultation's chat: the messages it holds, the receipts
//! its own messages got, and who is typing. Sans-IO: inputs are calls given `now`, outputs
//! are return values (frames to send, what happened).
//!
//! Order and replays: every author numbers its messages 1, 2, 3… A live message is accepted
//! only when its number is above every number held from that author (the session already
//! delivers each peer's data once and in order, so anything else is a replay); a history
//! entry only when its (author, number) is not held yet. So nothing is accepted twice, and
//! a refusal never touches what is held. Messages are kept ordered by (sent at, author,
//! number): the same order on every side.

use super::error::ChatError;
use super::wire::{Frame, check_text};
use super::{MAX_MESSAGES, ReceiptState};
use crate::consent::Decision;
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::sorted_map::SortedMap;

/// One chat message as held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who wrote it.
    pub author: ParticipantId,
    /// The author's role in the call.
    pub role: Role,
    /// The author's sequence number (from 1).
    pub seq: u64,
    /// When the author sent it (ms since the Unix epoch, the author's clock).
    pub sent_at: u64,
    /// The text (personal data: never logged).
    pub text: String,
}

impl ChatMessage {
    fn order(&self) -> (u64, ParticipantId, u64) {
        (self.sent_at, self.author, self.seq)
    }
}

/// A peer as the driver knows it when its frame arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its participant id (the session authenticated it).
    pub id: ParticipantId,
    /// Its role.
    pub role: Role,
    /// Whether it is in the call (admitted, or a clinician). Chat from the waiting room is
    /// refused.
    pub in_call: bool,
}

/// What an accepted frame did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// A new message from the peer. Send `receipt` (a delivered receipt) back to it.
    Message {
        /// The message, now held.
        message: ChatMessage,
        /// The delivered receipt to send to the peer.
        receipt: Vec<u8>,
    },
    /// An earlier message from a clinician's history, now held.
    History {
        /// The message.
        message: ChatMessage,
    },
    /// The peer received or read this side's messages up to `upto`.
    Receipt {
        /// Who.
        peer: ParticipantId,
        /// Delivered or read.
        state: ReceiptState,
        /// This side's sequence number it covers, and every earlier one.
        upto: u64,
    },
    /// The peer started or stopped typing.
    Typing {
        /// Who.
        peer: ParticipantId,
        /// Typing now.
        active: bool,
    },
}

/// How far one peer got with this side's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Every message up to this sequence number was delivered to the peer.
    pub delivered: u64,
    /// Every message up to this sequence number was read by the peer.
    pub read: u64,
}

/// One participant's chat state. See the module docs.
#[derive(Clone, Debug)]
pub struct Conversation {
    local: ParticipantId,
    role: Role,
    next_seq: u64,
    last_sent_at: u64,
    /// Ordered by [`ChatMessage::order`].
    messages: Vec<ChatMessage>,
    /// The highest sequence number held from each author.
    highest: SortedMap<ParticipantId, u64>,
    /// How far each peer got with this side's messages.
    progress: SortedMap<ParticipantId, Progress>,
    /// The read receipt last sent to each author.
    read_sent: SortedMap<ParticipantId, u64>,
}

impl Conversation {
    /// An empty conversation for the local participant.
    pub fn new(local: ParticipantId, role: Role) -> Self {
        Self {
            local,
            role,
            next_seq: 1,
            last_sent_at: 0,
            messages: Vec::new(),
            highest: SortedMap::default(),
            progress: SortedMap::default(),
            read_sent: SortedMap::default(),
        }
    }

    /// A conversation holding `messages` (as [`super::store::decode`] returned them):
    /// this side's numbering goes on after its own highest, and every message counts as
    /// already seen (a replay of one is refused). Duplicates are dropped; at most
    /// [`MAX_MESSAGES`] are kept.
    pub fn restore(local: ParticipantId, role: Role, messages: Vec<ChatMessage>) -> Self {
        let mut c = Self::new(local, role);
        for m in messages {
            // A stored duplicate or overflow is dropped; what was held stays.
            let _ = c.hold(m);
        }
        c
    }

    /// The local participant.
    pub fn local(&self) -> ParticipantId {
        self.local
    }

    /// Every message held, in conversation order.
    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    /// How far `peer` got with this side's messages.
    pub fn progress(&self, peer: ParticipantId) -> Progress {
        self.progress.get(&peer).copied().unwrap_or_default()
    }

    /// Writes a message: checks the text, numbers it, holds it. Send the returned frame to
    /// every peer in the call.
    pub fn send(&mut self, text: &str, now: u64) -> Result<(ChatMessage, Vec<u8>), ChatError> {
        check_text(text)?;
        if self.messages.len() >= MAX_MESSAGES {
            return Err(ChatError::Full);
        }
        // Never earlier than this side's previous message: the author's order is its
        // numbering, whatever the clock does.
        let sent_at = now.max(self.last_sent_at);
        let message = ChatMessage {
            author: self.local,
            role: self.role,
            seq: self.next_seq,
            sent_at,
            text: text.to_owned(),
        };
        self.hold(message.clone())?;
        let frame = Frame::Message {
            seq: message.seq,
            sent_at,
            text: message.text.clone(),
        };
        Ok((message, frame.encode()))
    }

    /// The typing frame to send to every peer in the call.
    pub fn typing(active: bool) -> Vec<u8> {
        Frame::Typing { active }.encode()
    }

    /// Marks `author`'s messages up to `seq` read: the read receipt to send to `author`, or
    /// `None` when an earlier mark already covered it.
    pub fn mark_read(
        &mut self,
        author: ParticipantId,
        seq: u64,
    ) -> Result<Option<Vec<u8>>, ChatError> {
        if author == self.local || !self.holds(author, seq) {
            return Err(ChatError::UnknownMessage);
        }
        let sent = self.read_sent.get_or_insert_with(author, || 0);
        if *sent >= seq {
            return Ok(None);
        }
        *sent = seq;
        Ok(Some(
            Frame::Receipt {
                state: ReceiptState::Read,
                upto: seq,
            }
            .encode(),
        ))
    }

    /// Takes a chat frame from `from`. A refusal leaves everything as it was.
    pub fn receive(&mut self, from: Peer, bytes: &[u8]) -> Result<Received, ChatError> {
        let frame = Frame::decode(bytes)?;
        if !from.in_call {
            return Err(ChatError::NotAdmitted);
        }
        if from.id == self.local {
            return Err(ChatError::NotPermitted);
        }
        match frame {
            Frame::Message { seq, sent_at, text } => {
                if self.highest.get(&from.id).is_some_and(|&h| seq <= h) {
                    return Err(ChatError::Replayed);
                }
                let message = ChatMessage {
                    author: from.id,
                    role: from.role,
                    seq,
                    sent_at,
                    text,
                };
                self.hold(message.clone())?;
                let receipt = Frame::Receipt {
                    state: ReceiptState::Delivered,
                    upto: seq,
                }
                .encode();
                Ok(Received::Message { message, receipt })
            }
            history @ Frame::History { .. } => {
                // Only a clinician vouches for others' words (it admitted them).
                if from.role != Role::Clinician {
                    return Err(ChatError::NotPermitted);
                }
                let message = history_message(history)
                    .ok_or(ChatError::Malformed("chat frame: not history"))?;
                self.hold(message.clone())?;
                Ok(Received::History { message })
            }
            Frame::Receipt { state, upto } => {
                if upto >= self.next_seq {
                    return Err(ChatError::UnknownMessage);
                }
                let p = self.progress.get_or_insert_with(from.id, Progress::default);
                let advanced = match state {
                    ReceiptState::Delivered => upto > p.delivered,
                    ReceiptState::Read => upto > p.read,
                };
                if !advanced {
                    return Err(ChatError::Replayed);
                }
                p.delivered = p.delivered.max(upto);
                if state == ReceiptState::Read {
                    p.read = upto;
                }
                Ok(Received::Receipt {
                    peer: from.id,
                    state,
                    upto,
                })
            }
            Frame::Typing { active } => Ok(Received::Typing {
                peer: from.id,
                active,
            }),
        }
    }

    /// The history frames for `joiner`, a participant admitted after the conversation began:
    /// every message held (but the joiner's own), oldest first. Only a clinician provides
    /// history, and only when `consent` (the patient's decision for `chat-history`) allows.
    pub fn history_for(
        &self,
        joiner: ParticipantId,
        consent: &Decision,
    ) -> Result<Vec<Vec<u8>>, ChatError> {
        if self.role != Role::Clinician {
            return Err(ChatError::NotPermitted);
        }
        if !consent.allowed {
            return Err(ChatError::HistoryNotConsented(consent.reason));
        }
        Ok(self
            .messages
            .iter()
            .filter(|m| m.author != joiner)
            .map(|m| history_frame(m).encode())
            .collect())
    }

    fn holds(&self, author: ParticipantId, seq: u64) -> bool {
        self.messages
            .iter()
            .any(|m| m.author == author && m.seq == seq)
    }

    /// Adds a message not held yet, in order; the only place `messages` grows.
    fn hold(&mut self, m: ChatMessage) -> Result<(), ChatError> {
        if self.holds(m.author, m.seq) {
            return Err(ChatError::Replayed);
        }
        if self.messages.len() >= MAX_MESSAGES {
            return Err(ChatError::Full);
        }
        let h = self.highest.get_or_insert_with(m.author, || 0);
        *h = (*h).max(m.seq);
        if m.author == self.local {
            self.next_seq = self.next_seq.max(m.seq.saturating_add(1));
            self.last_sent_at = self.last_sent_at.max(m.sent_at);
        }
        let at = self
            .messages
            .partition_point(|held| held.order() < m.order());
        self.messages.insert(at, m);
        Ok(())
    }
}

/// The message a history frame carries (`None` for other frames).
pub(super) fn history_message(frame: Frame) -> Option<ChatMessage> {
    match frame {
        Frame::History {
            author,
            role,
            seq,
            sent_at,
            text,
        } => Some(ChatMessage {
            author,
            role,
            seq,
            sent_at,
            text,
        }),
        _ => None,
    }
}

/// The history frame that carries `m`.
pub(super) fn history_frame(m: &ChatMessage) -> Frame {
    Frame::History {
        author: m.author,
        role: m.role,
        seq: m.seq,
        sent_at: m.sent_at,
        text: m.text.clone(),
    }
}
