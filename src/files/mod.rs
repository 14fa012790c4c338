//! Photos and documents shared over a consultation, sans-IO.
//!
//! A file travels over the session's sealed, reliable, ordered app-data channel
//! ([`Session::send_app_data`](crate::signaling::Session::send_app_data)) behind its own
//! reserved first byte, [`TAG_FILES`] (docs/PROTOCOL.md, "Files"; docs/FILES.md): an offer
//! (name, type, size, SHA-256), then chunks of [`CHUNK_LEN`] bytes, at most [`WINDOW`] ahead
//! of the receiver's last acknowledgement. The receiver checks each chunk against its place,
//! the first bytes against the declared type, and the whole file against its SHA-256 (in
//! constant time) before it holds it; anything else ends the transfer and drops every byte
//! received for it. A sender whose frames were lost (its peer's session restarted, the relay
//! lost its queue) offers again ([`Transfers::resume`]) and goes on from the last chunk the
//! receiver acknowledged.
//!
//! Consent: nothing is offered, sent or accepted unless the patient's `files` grant allows
//! it. The decision is passed in ([`Transfers::send`], [`Transfers::receive`]), never looked
//! up here; [`Transfers::stop_all`] ends every transfer when it is withdrawn.
//!
//! | module | job |
//! | --- | --- |
//! | `wire` | the frames and their bounded decoding |
//! | `transfers` | the state machine: offers, chunks, acknowledgements, checks, resume |
//! | `fhir` | held files as FHIR R4 `Media` / `DocumentReference` with their `Binary` |
//!
//! ```
//! use teleconsult::chat::Peer;
//! use teleconsult::consent::{Decision, Reason};
//! use teleconsult::files::{FileEvent, TransferId, Transfers};
//! use teleconsult::signaling::relay_wire::{ParticipantId, Role};
//!
//! let (dr, pt) = (ParticipantId([1; 8]), ParticipantId([2; 8]));
//! let yes = Decision { allowed: true, reason: Reason::Granted, grant: None };
//! let mut patient = Transfers::new(pt, Role::Patient);
//! let mut clinician = Transfers::new(dr, Role::Clinician);
//! let photo = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7; 40_000]].concat();
//! patient.send(dr, TransferId(9), "rash.jpg", "image/jpeg", photo.clone(), &yes, 1_000)?;
//! let (from_pt, from_dr) = (
//!     Peer { id: pt, role: Role::Patient, in_call: true },
//!     Peer { id: dr, role: Role::Clinician, in_call: true },
//! );
//! let mut received = None;
//! // The driver moves frames both ways until neither side has anything to send.
//! loop {
//!     let mut moved = false;
//!     while let Some((_, frame)) = patient.poll_transmit() {
//!         moved = true;
//!         if let Ok(FileEvent::Received { peer, id }) = clinician.receive(from_pt, &frame, &yes, 1_100) {
//!             received = clinician.held(peer, id).map(|f| f.data.clone());
//!         }
//!     }
//!     while let Some((_, frame)) = clinician.poll_transmit() {
//!         moved = true;
//!         patient.receive(from_dr, &frame, &yes, 1_200)?;
//!     }
//!     if !moved { break; }
//! }
//! assert_eq!(received, Some(photo));
//! # Ok::<(), teleconsult::files::FileError>(())
//! ```

mod error;
mod fhir;
mod transfers;
mod wire;

pub use error::FileError;
pub use fhir::{FileResource, FileResources, to_fhir};
pub use transfers::{Direction, FileEvent, SharedFile, Transfers};
pub use wire::{
    CancelReason, Frame, MAX_FRAME_LEN, MAX_TIME, Offer, TAG_FILES, TransferId, VERSION, check_name,
};

/// The largest file: 10 MiB (a phone photo, a scanned document).
pub const MAX_FILE_LEN: usize = 10 * 1024 * 1024;
/// The bytes of one chunk: half the session's largest app-data message, so a chunk frame
/// always fits.
pub const CHUNK_LEN: usize = 16 * 1024;
/// How many chunks a sender sends to one peer ahead of its acknowledgements, all transfers
/// to it together (1 MiB): enough to keep a direct path busy while each side's WebCrypto
/// works (docs/BENCHMARKS.md, "File transfer"; 32 gave 0.48× a plain data channel, 64 0.58×),
/// and a quarter of the session's outbox (256 messages).
pub const WINDOW: u32 = 64;
/// The receiver acknowledges every this many chunks (and the last).
pub const ACK_EVERY: u32 = 8;
/// The chunk bytes per second a browser sends (1.5 MiB/s) and its burst (2 MiB): three
/// quarters of the reference relay's default byte rate per connection (2 MiB/s sustained,
/// 4 MiB burst), leaving room for signaling and chat; above it the relay closes the
/// connection (4009).
pub const DEFAULT_RATE: (u64, u64) = (3 * 512 * 1024, 2 * 1024 * 1024);
/// The longest file name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 255;
/// Most transfers one peer may have going towards this side at once.
pub const MAX_INCOMING_PER_PEER: usize = 2;
/// Most transfers going at once, both directions, all peers.
pub const MAX_TRANSFERS: usize = 8;
/// Most bytes of files held (completed, and reserved by transfers going): bounds what a
/// hostile peer can make this side keep in memory.
pub const MAX_HELD_BYTES: usize = 64 * 1024 * 1024;

/// The types a file may have: images a browser shows, and PDF documents. Nothing else is
/// offered or accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// `image/jpeg`.
    Jpeg = 1,
    /// `image/png`.
    Png = 2,
    /// `image/webp`.
    Webp = 3,
    /// `application/pdf`.
    Pdf = 4,
}

impl FileType {
    /// Every allowed type.
    pub const ALL: [Self; 4] = [Self::Jpeg, Self::Png, Self::Webp, Self::Pdf];

    /// The media type.
    pub const fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
        }
    }

    /// The type of a media type on the allow-list (exact, lower case).
    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    /// Whether it is an image (FHIR `Media`) rather than a document (`DocumentReference`).
    pub const fn is_image(self) -> bool {
        !matches!(self, Self::Pdf)
    }

    /// Whether `data` starts as a file of this type must (its magic bytes): a renamed
    /// executable is refused before anyone opens it.
    pub fn matches(self, data: &[u8]) -> bool {
        match self {
            Self::Jpeg => data.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => data.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::Webp => data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP"),
            Self::Pdf => data.starts_with(b"%PDF-"),
        }
    }

    /// How many first bytes [`matches`](Self::matches) looks at.
    pub const fn magic_len(self) -> usize {
        match self {
            Self::Jpeg => 3,
            Self::Png => 8,
            Self::Webp => 12,
            Self::Pdf => 5,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == b)
    }
}
