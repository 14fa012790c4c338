//! File frames on the app-data channel: one reserved first byte ([`TAG_FILES`]), a format
//! version, a kind, the transfer id, and a body of fixed-width big-endian fields. Decoding is
//! bounded (a frame is at most [`MAX_FRAME_LEN`] bytes) and never panics: anything else is a
//! typed [`FileError`].
//!
//! ```text
//! 0xC7 version:u8=1 kind:u8 id:u64 body
//!   kind 1 offer     type:u8 size:u32 sha256:[32] sent_at:u64 name_len:u8 name:[name_len]
//!   kind 2 chunk     index:u32 data:[rest]       (CHUNK_LEN bytes; the last chunk the rest)
//!   kind 3 ack       next:u32                    (the receiver holds every chunk before next)
//!   kind 4 complete                              (the receiver checked size, type and hash)
//!   kind 5 cancel    reason:u8                   (either side; the transfer is gone)
//! ```

use super::error::FileError;
use super::{CHUNK_LEN, FileType, MAX_FILE_LEN, MAX_NAME_LEN};

/// The first byte of every file frame: after the chat's (`0xC6`), and like it never the
/// first byte of a UTF-8 JSON text.
pub const TAG_FILES: u8 = 0xC7;
/// The file format version this side writes and reads.
pub const VERSION: u8 = 1;
/// The longest file frame: a chunk (tag, version, kind, id, index, data).
pub const MAX_FRAME_LEN: usize = 3 + 8 + 4 + CHUNK_LEN;
/// 9999-12-31T23:59:59.999Z: FHIR `dateTime` has four-digit years.
pub const MAX_TIME: u64 = 253_402_300_799_999;

const KIND_OFFER: u8 = 1;
const KIND_CHUNK: u8 = 2;
const KIND_ACK: u8 = 3;
const KIND_COMPLETE: u8 = 4;
const KIND_CANCEL: u8 = 5;

/// A transfer's id: chosen at random by the sender (passed in: the core draws no random
/// numbers), unique per sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransferId(pub u64);

/// Why a transfer ended before completing (carried by a cancel frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// The sender's or the receiver's user (or app) cancelled it.
    Cancelled = 1,
    /// The patient's consent does not (or no longer) allow sharing files.
    NotConsented = 2,
    /// Over the size cap, or a chunk past the declared size.
    TooLarge = 3,
    /// A media type not on the allow-list, or content not of the declared type.
    TypeNotAllowed = 4,
    /// A chunk shorter than its place requires.
    Truncated = 5,
    /// The file's SHA-256 differs from the one offered.
    HashMismatch = 6,
    /// The receiver has too many transfers going, or holds too much already.
    Busy = 7,
    /// Any other refusal of the offer (a bad name, an empty file).
    Refused = 8,
    /// The peer left the call (never on the wire: this side's own decision).
    PeerLeft = 9,
}

impl CancelReason {
    /// The stable name JavaScript sees.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::NotConsented => "notConsented",
            Self::TooLarge => "tooLarge",
            Self::TypeNotAllowed => "typeNotAllowed",
            Self::Truncated => "truncated",
            Self::HashMismatch => "hashMismatch",
            Self::Busy => "busy",
            Self::Refused => "refused",
            Self::PeerLeft => "peerLeft",
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Cancelled,
            2 => Self::NotConsented,
            3 => Self::TooLarge,
            4 => Self::TypeNotAllowed,
            5 => Self::Truncated,
            6 => Self::HashMismatch,
            7 => Self::Busy,
            8 => Self::Refused,
            _ => return None,
        })
    }
}

impl From<FileError> for CancelReason {
    fn from(e: FileError) -> Self {
        match e {
            FileError::TooLarge => Self::TooLarge,
            FileError::TypeNotAllowed => Self::TypeNotAllowed,
            FileError::Truncated => Self::Truncated,
            FileError::HashMismatch => Self::HashMismatch,
            FileError::Busy => Self::Busy,
            FileError::NotConsented(_) => Self::NotConsented,
            _ => Self::Refused,
        }
    }
}

/// What a sender announces about a file before its first chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    /// Its type (on the allow-list by construction).
    pub file_type: FileType,
    /// Its length in bytes (1 to [`MAX_FILE_LEN`]).
    pub size: u32,
    /// Its SHA-256.
    pub sha256: [u8; 32],
    /// When the sender sent it (ms since the Unix epoch, the sender's clock).
    pub sent_at: u64,
    /// Its name (personal data: never logged), checked by [`check_name`].
    pub name: String,
}

impl Offer {
    /// How many chunks the file travels in.
    pub fn chunks(&self) -> u32 {
        self.size.div_ceil(CHUNK_LEN as u32)
    }
}

/// One file frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The sender offers a file (again, to resume).
    Offer {
        /// The transfer.
        id: TransferId,
        /// The file.
        offer: Offer,
    },
    /// Chunk `index` of the file.
    Chunk {
        /// The transfer.
        id: TransferId,
        /// From 0.
        index: u32,
        /// Its bytes.
        data: Vec<u8>,
    },
    /// The receiver holds every chunk before `next`.
    Ack {
        /// The transfer.
        id: TransferId,
        /// The first chunk it still needs.
        next: u32,
    },
    /// The receiver has the whole file, of the right size, type and hash.
    Complete {
        /// The transfer.
        id: TransferId,
    },
    /// The transfer ended, with the reason.
    Cancel {
        /// The transfer.
        id: TransferId,
        /// Why.
        reason: CancelReason,
    },
}

impl Frame {
    /// Whether `bytes` is meant for file sharing (its first byte is [`TAG_FILES`]).
    pub fn is_file(bytes: &[u8]) -> bool {
        bytes.first() == Some(&TAG_FILES)
    }

    /// The transfer the frame belongs to.
    pub fn id(&self) -> TransferId {
        match self {
            Self::Offer { id, .. }
            | Self::Chunk { id, .. }
            | Self::Ack { id, .. }
            | Self::Complete { id }
            | Self::Cancel { id, .. } => *id,
        }
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let kind = match self {
            Self::Offer { .. } => KIND_OFFER,
            Self::Chunk { .. } => KIND_CHUNK,
            Self::Ack { .. } => KIND_ACK,
            Self::Complete { .. } => KIND_COMPLETE,
            Self::Cancel { .. } => KIND_CANCEL,
        };
        let mut out = vec![TAG_FILES, VERSION, kind];
        out.extend_from_slice(&self.id().0.to_be_bytes());
        match self {
            Self::Offer { offer, .. } => {
                out.push(offer.file_type as u8);
                out.extend_from_slice(&offer.size.to_be_bytes());
                out.extend_from_slice(&offer.sha256);
                out.extend_from_slice(&offer.sent_at.to_be_bytes());
                // Names are checked against MAX_NAME_LEN (≤ u8::MAX) before an offer is built.
                let name = offer.name.as_bytes();
                let name = name.get(..MAX_NAME_LEN).unwrap_or(name);
                out.push(name.len() as u8);
                out.extend_from_slice(name);
            }
            Self::Chunk { index, data, .. } => {
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(data);
            }
            Self::Ack { next, .. } => out.extend_from_slice(&next.to_be_bytes()),
            Self::Complete { .. } => {}
            Self::Cancel { reason, .. } => out.push(*reason as u8),
        }
        out
    }

    /// Decodes exactly one frame; never panics. An offer's fields are checked here (type on
    /// the allow-list, size within the cap, a valid name); a chunk's length against its
    /// place needs the offer, and is checked by the receiver.
    pub fn decode(bytes: &[u8]) -> Result<Self, FileError> {
        if bytes.len() > MAX_FRAME_LEN {
            return Err(FileError::TooLarge);
        }
        let mut r = Reader(bytes);
        if r.u8()? != TAG_FILES {
            return Err(FileError::Malformed("not a file frame"));
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(FileError::UnsupportedVersion(version));
        }
        let kind = r.u8()?;
        let id = TransferId(u64::from_be_bytes(r.array()?));
        let frame = match kind {
            KIND_OFFER => {
                let file_type = FileType::from_byte(r.u8()?).ok_or(FileError::TypeNotAllowed)?;
                let size = r.u32()?;
                if size == 0 {
                    return Err(FileError::Empty);
                }
                if size as usize > MAX_FILE_LEN {
                    return Err(FileError::TooLarge);
                }
                let sha256 = r.array()?;
                let sent_at = r.u64()?;
                if sent_at > MAX_TIME {
                    return Err(FileError::Malformed("file offer: time after 9999"));
                }
                let len = usize::from(r.u8()?);
                let name = core::str::from_utf8(r.take(len)?)
                    .map_err(|_| FileError::BadName)?
                    .to_owned();
                check_name(&name)?;
                Self::Offer {
                    id,
                    offer: Offer {
                        file_type,
                        size,
                        sha256,
                        sent_at,
                        name,
                    },
                }
            }
            KIND_CHUNK => {
                let index = r.u32()?;
                let data = core::mem::take(&mut r.0).to_vec();
                if data.is_empty() {
                    return Err(FileError::Truncated);
                }
                Self::Chunk { id, index, data }
            }
            KIND_ACK => Self::Ack { id, next: r.u32()? },
            KIND_COMPLETE => Self::Complete { id },
            KIND_CANCEL => Self::Cancel {
                id,
                reason: CancelReason::from_byte(r.u8()?)
                    .ok_or(FileError::Malformed("file cancel: unknown reason"))?,
            },
            _ => return Err(FileError::Malformed("file frame: unknown kind")),
        };
        if !r.0.is_empty() {
            return Err(FileError::Malformed("file frame: trailing bytes"));
        }
        Ok(frame)
    }
}

/// Checks a file name: 1 to [`MAX_NAME_LEN`] bytes of UTF-8, no control characters and no
/// path separators (a receiver that saves it must not be steered into another folder).
pub fn check_name(name: &str) -> Result<(), FileError> {
    let bad = |c: char| c.is_control() || matches!(c, '/' | '\\');
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.chars().any(bad)
        || name == "."
        || name == ".."
    {
        return Err(FileError::BadName);
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], FileError> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(FileError::Malformed("file frame: truncated"))?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], FileError> {
        self.take(N)?
            .try_into()
            .map_err(|_| FileError::Malformed("file frame: truncated"))
    }
    fn u8(&mut self) -> Result<u8, FileError> {
        let [b] = self.array()?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, FileError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, FileError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}
