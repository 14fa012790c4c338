//! The chat module's one error type.

use core::fmt;

use crate::consent::Reason;

/// Why a chat input or action was refused. Every refusal leaves the conversation as it was:
/// nothing already accepted is lost. Messages name no text and no participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatError {
    /// The bytes are not a well-formed chat frame (names what is wrong).
    Malformed(&'static str),
    /// A chat frame of a format version this side does not speak.
    UnsupportedVersion(u8),
    /// A message text over [`MAX_TEXT_LEN`](super::MAX_TEXT_LEN) bytes (or a frame over
    /// [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN)).
    TooLarge,
    /// An empty message text.
    Empty,
    /// A message (author, sequence number) already held, or older than the newest one held
    /// from that author: a replay.
    Replayed,
    /// The sender is not in the call (a patient or guest still in the waiting room).
    NotAdmitted,
    /// The sender may not send this (history from someone other than a clinician; a
    /// history request by a non-clinician).
    NotPermitted,
    /// A receipt or read mark names a message this side does not hold.
    UnknownMessage,
    /// The patient's consent does not allow sharing the earlier messages with a late
    /// joiner.
    HistoryNotConsented(Reason),
    /// The conversation holds [`MAX_MESSAGES`](super::MAX_MESSAGES) messages already.
    Full,
}

impl ChatError {
    /// A short description without personal data.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Malformed(what) => what,
            Self::UnsupportedVersion(_) => "chat frame of an unsupported version",
            Self::TooLarge => "chat message over the size limit",
            Self::Empty => "empty chat message",
            Self::Replayed => "chat message replayed or out of order",
            Self::NotAdmitted => "chat from a participant not admitted to the call",
            Self::NotPermitted => "chat frame not permitted from this participant",
            Self::UnknownMessage => "no such chat message",
            Self::HistoryNotConsented(_) => {
                "the patient's consent does not allow sharing chat history"
            }
            Self::Full => "the conversation holds the most messages it may",
        }
    }
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ChatError {}

impl From<ChatError> for crate::Error {
    fn from(e: ChatError) -> Self {
        Self::Chat(e)
    }
}

impl ChatError {
    /// The stable code JavaScript sees.
    pub const fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            Self::Malformed(_) => ErrorCode::Malformed,
            Self::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            Self::TooLarge | Self::Full => ErrorCode::LimitExceeded,
            Self::Empty | Self::UnknownMessage => ErrorCode::InvalidArgument,
            Self::Replayed => ErrorCode::Replayed,
            Self::NotAdmitted | Self::NotPermitted => ErrorCode::ProtocolViolation,
            Self::HistoryNotConsented(_) => ErrorCode::ConsentDenied,
        }
    }
}
