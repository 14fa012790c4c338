//! The bytes a conversation is persisted as (the browser keeps them in IndexedDB under the
//! same wrapping key as the consent ledger): a magic, a version, a count, and each message
//! as its history frame behind a length. Decoding is bounded and never panics.
//!
//! ```text
//! "TCCH" version:u8=1 count:u32 { len:u16 history-frame:[len] }*count
//! ```

use super::MAX_MESSAGES;
use super::conversation::{ChatMessage, history_frame, history_message};
use super::error::ChatError;
use super::wire::{Frame, MAX_FRAME_LEN};

const MAGIC: &[u8; 4] = b"TCCH";
const STORE_VERSION: u8 = 1;

/// The stored form of `messages`.
pub fn encode(messages: &[ChatMessage]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(STORE_VERSION);
    out.extend_from_slice(&(messages.len().min(MAX_MESSAGES) as u32).to_be_bytes());
    for m in messages.iter().take(MAX_MESSAGES) {
        let frame = history_frame(m).encode();
        // A frame is at most MAX_FRAME_LEN (< u16::MAX) bytes.
        out.extend_from_slice(&(frame.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
        out.extend_from_slice(&frame);
    }
    out
}

/// The messages stored in `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Vec<ChatMessage>, ChatError> {
    let truncated = ChatError::Malformed("stored chat: truncated");
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or(ChatError::Malformed("stored chat: bad magic"))?;
    let (&version, rest) = rest.split_first().ok_or(truncated)?;
    if version != STORE_VERSION {
        return Err(ChatError::UnsupportedVersion(version));
    }
    let (count, mut rest) = rest.split_at_checked(4).ok_or(truncated)?;
    let count = u32::from_be_bytes(count.try_into().map_err(|_| truncated)?) as usize;
    if count > MAX_MESSAGES {
        return Err(ChatError::Full);
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, tail) = rest.split_at_checked(2).ok_or(truncated)?;
        let len = usize::from(u16::from_be_bytes(len.try_into().map_err(|_| truncated)?));
        if len > MAX_FRAME_LEN {
            return Err(ChatError::TooLarge);
        }
        let (frame, tail) = tail.split_at_checked(len).ok_or(truncated)?;
        rest = tail;
        out.push(
            history_message(Frame::decode(frame)?)
                .ok_or(ChatError::Malformed("stored chat: not a message"))?,
        );
    }
    if !rest.is_empty() {
        return Err(ChatError::Malformed("stored chat: trailing bytes"));
    }
    Ok(out)
}
