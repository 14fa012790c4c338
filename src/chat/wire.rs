//! Chat frames on the app-data channel: one reserved first byte ([`TAG_CHAT`]), a format
//! version, a kind, and a body of fixed-width big-endian fields. Decoding is bounded (a
//! frame is at most [`MAX_FRAME_LEN`] bytes, a text at most [`MAX_TEXT_LEN`]) and never
//! panics: anything else is a typed [`ChatError`].
//!
//! ```text
//! 0xC6 version:u8=1 kind:u8 body
//!   kind 1 message   seq:u64 sent_at:u64 len:u16 text:[len]          (author: the sender)
//!   kind 2 receipt   state:u8 (1 delivered, 2 read) upto:u64         (of the recipient's messages)
//!   kind 3 typing    active:u8 (0 or 1)
//!   kind 4 history   author:[8] role:u8 seq:u64 sent_at:u64 len:u16 text:[len]  (clinician → late joiner)
//! ```

use super::error::ChatError;
use super::{MAX_TEXT_LEN, ReceiptState};
use crate::signaling::relay_wire::{ParticipantId, Role};

/// The first byte of every chat frame: next to the consent sync tags (`0xC0..=0xC4`) and the
/// recording indicator (`0xC5`), and like them never the first byte of a UTF-8 JSON text.
pub const TAG_CHAT: u8 = 0xC6;
/// The chat format version this side writes and reads.
pub const VERSION: u8 = 1;
/// The longest chat frame: a history frame with the longest text.
pub const MAX_FRAME_LEN: usize = 3 + 8 + 1 + 8 + 8 + 2 + MAX_TEXT_LEN;

/// 9999-12-31T23:59:59.999Z: FHIR `dateTime` has four-digit years.
pub const MAX_TIME: u64 = 253_402_300_799_999;

const KIND_MESSAGE: u8 = 1;
const KIND_RECEIPT: u8 = 2;
const KIND_TYPING: u8 = 3;
const KIND_HISTORY: u8 = 4;

/// One chat frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message from the sender itself.
    Message {
        /// The sender's sequence number for it (from 1).
        seq: u64,
        /// When the sender sent it (ms since the Unix epoch, the sender's clock).
        sent_at: u64,
        /// The text.
        text: String,
    },
    /// The sender received (or read) the recipient's messages up to `upto`.
    Receipt {
        /// Delivered or read.
        state: ReceiptState,
        /// The recipient's sequence number it covers, and every earlier one.
        upto: u64,
    },
    /// The sender started or stopped typing.
    Typing {
        /// Typing now.
        active: bool,
    },
    /// An earlier message of the conversation, for a late joiner (clinician only).
    History {
        /// Who wrote it.
        author: ParticipantId,
        /// The author's role.
        role: Role,
        /// The author's sequence number.
        seq: u64,
        /// When the author sent it.
        sent_at: u64,
        /// The text.
        text: String,
    },
}

impl Frame {
    /// Whether `bytes` is meant for the chat (its first byte is [`TAG_CHAT`]).
    pub fn is_chat(bytes: &[u8]) -> bool {
        bytes.first() == Some(&TAG_CHAT)
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![TAG_CHAT, VERSION];
        let text = |out: &mut Vec<u8>, t: &str| {
            // Texts are checked against MAX_TEXT_LEN (< u16::MAX) before a frame is built.
            out.extend_from_slice(&(t.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
            out.extend_from_slice(t.as_bytes());
        };
        match self {
            Self::Message {
                seq,
                sent_at,
                text: t,
            } => {
                out.push(KIND_MESSAGE);
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(&sent_at.to_be_bytes());
                text(&mut out, t);
            }
            Self::Receipt { state, upto } => {
                out.push(KIND_RECEIPT);
                out.push(*state as u8);
                out.extend_from_slice(&upto.to_be_bytes());
            }
            Self::Typing { active } => {
                out.extend_from_slice(&[KIND_TYPING, u8::from(*active)]);
            }
            Self::History {
                author,
                role,
                seq,
                sent_at,
                text: t,
            } => {
                out.push(KIND_HISTORY);
                out.extend_from_slice(&author.0);
                out.push(*role as u8);
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(&sent_at.to_be_bytes());
                text(&mut out, t);
            }
        }
        out
    }

    /// Decodes exactly one frame; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, ChatError> {
        if bytes.len() > MAX_FRAME_LEN {
            return Err(ChatError::TooLarge);
        }
        let mut r = Reader(bytes);
        if r.u8()? != TAG_CHAT {
            return Err(ChatError::Malformed("not a chat frame"));
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(ChatError::UnsupportedVersion(version));
        }
        let frame = match r.u8()? {
            KIND_MESSAGE => Self::Message {
                seq: r.seq()?,
                sent_at: r.time()?,
                text: r.text()?,
            },
            KIND_RECEIPT => Self::Receipt {
                state: match r.u8()? {
                    1 => ReceiptState::Delivered,
                    2 => ReceiptState::Read,
                    _ => return Err(ChatError::Malformed("chat receipt: unknown state")),
                },
                upto: r.seq()?,
            },
            KIND_TYPING => Self::Typing {
                active: match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(ChatError::Malformed("chat typing: not a flag")),
                },
            },
            KIND_HISTORY => Self::History {
                author: ParticipantId(r.array()?),
                role: Role::from_byte(r.u8()?)
                    .ok_or(ChatError::Malformed("chat history: unknown role"))?,
                seq: r.seq()?,
                sent_at: r.time()?,
                text: r.text()?,
            },
            _ => return Err(ChatError::Malformed("chat frame: unknown kind")),
        };
        if !r.0.is_empty() {
            return Err(ChatError::Malformed("chat frame: trailing bytes"));
        }
        Ok(frame)
    }
}

/// Checks a message text: non-empty, at most [`MAX_TEXT_LEN`] bytes of UTF-8, no control
/// characters other than tab and line breaks (they could hide or reorder what is shown).
pub fn check_text(text: &str) -> Result<(), ChatError> {
    if text.is_empty() {
        return Err(ChatError::Empty);
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(ChatError::TooLarge);
    }
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if text.chars().any(bad) {
        return Err(ChatError::Malformed("chat text: control character"));
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ChatError> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(ChatError::Malformed("chat frame: truncated"))?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ChatError> {
        self.take(N)?
            .try_into()
            .map_err(|_| ChatError::Malformed("chat frame: truncated"))
    }
    fn u8(&mut self) -> Result<u8, ChatError> {
        let [b] = self.array()?;
        Ok(b)
    }
    fn u64(&mut self) -> Result<u64, ChatError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// A sequence number: from 1.
    fn seq(&mut self) -> Result<u64, ChatError> {
        match self.u64()? {
            0 => Err(ChatError::Malformed("chat frame: sequence number 0")),
            n => Ok(n),
        }
    }
    /// A time: at most the last millisecond of the year 9999 (FHIR's `dateTime` range).
    fn time(&mut self) -> Result<u64, ChatError> {
        match self.u64()? {
            t if t > MAX_TIME => Err(ChatError::Malformed("chat frame: time after 9999")),
            t => Ok(t),
        }
    }
    fn text(&mut self) -> Result<String, ChatError> {
        let len = usize::from(u16::from_be_bytes(self.array()?));
        if len > MAX_TEXT_LEN {
            return Err(ChatError::TooLarge);
        }
        let text = core::str::from_utf8(self.take(len)?)
            .map_err(|_| ChatError::Malformed("chat text: not UTF-8"))?;
        check_text(text)?;
        Ok(text.to_owned())
    }
}
