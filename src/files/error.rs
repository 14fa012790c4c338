//! The files module's one error type.

use core::fmt;

use crate::consent::Reason;

/// Why a file input or action was refused. A refusal of one frame leaves every other
/// transfer as it was; a refusal that ends a transfer (type, size, truncation, hash,
/// consent) discards every byte received for it: no partial file is kept. Messages name no
/// file, no name and no participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileError {
    /// The bytes are not a well-formed file frame (names what is wrong).
    Malformed(&'static str),
    /// A file frame of a format version this side does not speak.
    UnsupportedVersion(u8),
    /// A file over [`MAX_FILE_LEN`](super::MAX_FILE_LEN), a chunk past the declared size, or
    /// a frame over [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN).
    TooLarge,
    /// An empty file.
    Empty,
    /// A media type not on the allow-list, or content whose first bytes are not of the
    /// declared type.
    TypeNotAllowed,
    /// A file name that is empty, too long, or holds control characters or path separators.
    BadName,
    /// A chunk shorter than its place in the file requires: the transfer ended incomplete.
    Truncated,
    /// The assembled file's SHA-256 differs from the one offered.
    HashMismatch,
    /// A transfer id already finished, or a chunk already received.
    Replayed,
    /// The sender is not in the call (a patient or guest still in the waiting room).
    NotAdmitted,
    /// The peer may not send this (a frame from this side's own id; an acknowledgement of
    /// chunks never sent).
    NotPermitted,
    /// No transfer with that id (with that peer).
    UnknownTransfer,
    /// Too many transfers at once (from one peer, or in all), or the files held would pass
    /// [`MAX_HELD_BYTES`](super::MAX_HELD_BYTES).
    Busy,
    /// The patient's consent does not allow sharing images and documents.
    NotConsented(Reason),
}

impl FileError {
    /// A short description without personal data.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Malformed(what) => what,
            Self::UnsupportedVersion(_) => "file frame of an unsupported version",
            Self::TooLarge => "file over the size limit",
            Self::Empty => "empty file",
            Self::TypeNotAllowed => "file type not allowed",
            Self::BadName => "file name not allowed",
            Self::Truncated => "file transfer truncated",
            Self::HashMismatch => "file does not match its SHA-256",
            Self::Replayed => "file transfer or chunk replayed",
            Self::NotAdmitted => "file from a participant not admitted to the call",
            Self::NotPermitted => "file frame not permitted from this participant",
            Self::UnknownTransfer => "no such file transfer",
            Self::Busy => "too many file transfers at once",
            Self::NotConsented(_) => "the patient's consent does not allow sharing files",
        }
    }

    /// The stable name JavaScript sees as the error's `reason` (and a cancellation's).
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::UnsupportedVersion(_) => "unsupportedVersion",
            Self::TooLarge => "tooLarge",
            Self::Empty => "empty",
            Self::TypeNotAllowed => "typeNotAllowed",
            Self::BadName => "badName",
            Self::Truncated => "truncated",
            Self::HashMismatch => "hashMismatch",
            Self::Replayed => "replayed",
            Self::NotAdmitted => "notAdmitted",
            Self::NotPermitted => "notPermitted",
            Self::UnknownTransfer => "unknownTransfer",
            Self::Busy => "busy",
            Self::NotConsented(_) => "notConsented",
        }
    }

    /// The stable code JavaScript sees.
    pub const fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            Self::Malformed(_) | Self::Truncated | Self::HashMismatch => ErrorCode::Malformed,
            Self::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            Self::TooLarge | Self::Busy => ErrorCode::LimitExceeded,
            Self::Empty | Self::TypeNotAllowed | Self::BadName | Self::UnknownTransfer => {
                ErrorCode::InvalidArgument
            }
            Self::Replayed => ErrorCode::Replayed,
            Self::NotAdmitted | Self::NotPermitted => ErrorCode::ProtocolViolation,
            Self::NotConsented(_) => ErrorCode::ConsentDenied,
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for FileError {}

impl From<FileError> for crate::Error {
    fn from(e: FileError) -> Self {
        Self::File(e)
    }
}
