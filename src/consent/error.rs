//! The consent module's one error type.

use core::fmt;

/// Why bytes are not a well-formed encoding (see docs/CONSENT.md, "Encoding").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before the fields do.
    Truncated,
    /// Bytes follow the last field.
    TrailingBytes,
    /// Unknown magic, format version, event tag or code.
    UnknownTag,
    /// A field is out of range (flag byte, UTF-8, length over its limit).
    BadField,
    /// A set is not in strictly ascending order: the encoding would not be canonical.
    NotCanonical,
}

/// Anything that can go wrong with a consent ledger. Each attack has its own variant so
/// that a verifier can say exactly what is wrong; messages name sequence numbers only,
/// never personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LedgerError {
    /// The bytes are malformed.
    Malformed(DecodeError),
    /// A public key is not a valid Ed25519 point.
    BadPublicKey,
    /// The entry names a signer other than the ledger's patient key.
    WrongSigner {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// The entry's signature does not verify: it was edited or forged.
    BadSignature {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// The entry's previous-hash does not match the entry before it (or the genesis).
    BrokenChain {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// The entry with this sequence number is missing.
    MissingEntry {
        /// The missing sequence number.
        seq: u64,
    },
    /// Entries are present but out of order; this sequence number comes too late.
    Reordered {
        /// The first sequence number found out of place.
        seq: u64,
    },
    /// An entry already in the ledger was presented again (replay or duplicate).
    Replayed {
        /// Its sequence number.
        seq: u64,
    },
    /// A different entry claims a sequence number the ledger already holds (a fork).
    Fork {
        /// The contested sequence number.
        seq: u64,
    },
    /// The entry's time is earlier than the entry before it, or than the head on append.
    ClockWentBackwards {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// The event is invalid in itself: empty purposes or categories, empty ids, a period
    /// ending before it starts, a time beyond the year 9999.
    InvalidEvent {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// A grant whose period had already ended when it was recorded.
    GrantExpired {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// A withdrawal or expiry names a sequence number that is not a grant.
    UnknownGrant {
        /// The named sequence number.
        grant: u64,
    },
    /// A withdrawal or expiry names a grant already withdrawn or expired.
    GrantNotActive {
        /// The named grant.
        grant: u64,
    },
    /// An expiry recorded before the grant's period ends (or for a grant with no end).
    PrematureExpiry {
        /// The named grant.
        grant: u64,
    },
    /// A notice's text hash differs from the text shown, or from the hash already recorded
    /// for the same notice URI and version.
    NoticeHashMismatch,
    /// A checkpoint for another ledger.
    WrongLedger,
    /// The checkpoint's countersignature does not verify.
    BadCheckpointSignature,
    /// The ledger is shorter than a checkpoint says it was: entries were cut off.
    Truncated {
        /// Entries present.
        size: u64,
        /// Entries the checkpoint vouches for.
        checkpoint: u64,
    },
    /// The entry at the checkpoint's size hashes differently: history was rewritten.
    CheckpointMismatch,
    /// The ledger reached its entry limit.
    Full,
    /// (Clinician's replica) the entry's signed time is further from the time the replica
    /// received it than [`TIME_SKEW_MS`](super::TIME_SKEW_MS) allows: dated in the future,
    /// backdated, or dated before the replica received the entry before it. The entry is
    /// not accepted (docs/CONSENT.md, "Entry times").
    Untimely {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// (Patient side) a checkpoint countersigned by a key other than the clinician key this
    /// side expects (from the invite link), or arriving before any key is expected.
    UnknownClinicianKey,
    /// The storage backend failed.
    Store(StoreError),
}

/// A storage backend's failure, with a static description (no data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreError(pub &'static str);

impl LedgerError {
    /// The stable code JavaScript branches on (`err.code`).
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::BadPublicKey => "BadPublicKey",
            Self::WrongSigner { .. } => "WrongSigner",
            Self::BadSignature { .. } => "BadSignature",
            Self::BrokenChain { .. } => "BrokenChain",
            Self::MissingEntry { .. } => "MissingEntry",
            Self::Reordered { .. } => "Reordered",
            Self::Replayed { .. } => "Replayed",
            Self::Fork { .. } => "Fork",
            Self::ClockWentBackwards { .. } => "ClockWentBackwards",
            Self::InvalidEvent { .. } => "InvalidEvent",
            Self::GrantExpired { .. } => "GrantExpired",
            Self::UnknownGrant { .. } => "UnknownGrant",
            Self::GrantNotActive { .. } => "GrantNotActive",
            Self::PrematureExpiry { .. } => "PrematureExpiry",
            Self::NoticeHashMismatch => "NoticeHashMismatch",
            Self::WrongLedger => "WrongLedger",
            Self::BadCheckpointSignature => "BadCheckpointSignature",
            Self::Truncated { .. } => "Truncated",
            Self::CheckpointMismatch => "CheckpointMismatch",
            Self::Full => "Full",
            Self::Untimely { .. } => "Untimely",
            Self::UnknownClinicianKey => "UnknownClinicianKey",
            Self::Store(_) => "Store",
        }
    }
}

impl From<DecodeError> for LedgerError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

impl From<StoreError> for LedgerError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl DecodeError {
    /// The variant's name (`"Truncated"`), for messages; see [`LedgerError`]'s `Display`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Truncated => "Truncated",
            Self::TrailingBytes => "TrailingBytes",
            Self::UnknownTag => "UnknownTag",
            Self::BadField => "BadField",
            Self::NotCanonical => "NotCanonical",
        }
    }
}

impl LedgerError {
    /// Appends the `Display` text to `out`, without the formatting machinery (see
    /// [`crate::Error`]'s message): decimals by [`crate::text::push_padded`].
    pub(crate) fn push_message(&self, out: &mut String) {
        use crate::text::push_padded;
        match *self {
            Self::Malformed(e) => {
                out.push_str("consent ledger malformed: ");
                out.push_str(e.name());
            }
            Self::Truncated { size, checkpoint } => {
                out.push_str("consent ledger truncated: ");
                push_padded(out, size, 0);
                out.push_str(" entries, checkpoint vouches for ");
                push_padded(out, checkpoint, 0);
            }
            Self::Store(StoreError(what)) => {
                out.push_str("consent ledger storage failed: ");
                out.push_str(what);
            }
            Self::WrongSigner { seq }
            | Self::BadSignature { seq }
            | Self::BrokenChain { seq }
            | Self::MissingEntry { seq }
            | Self::Reordered { seq }
            | Self::Replayed { seq }
            | Self::Fork { seq }
            | Self::ClockWentBackwards { seq }
            | Self::InvalidEvent { seq }
            | Self::GrantExpired { seq }
            | Self::Untimely { seq } => {
                out.push_str("consent ledger rejected: ");
                out.push_str(self.code());
                out.push_str(" { seq: ");
                push_padded(out, seq, 0);
                out.push_str(" }");
            }
            Self::UnknownGrant { grant }
            | Self::GrantNotActive { grant }
            | Self::PrematureExpiry { grant } => {
                out.push_str("consent ledger rejected: ");
                out.push_str(self.code());
                out.push_str(" { grant: ");
                push_padded(out, grant, 0);
                out.push_str(" }");
            }
            _ => {
                out.push_str("consent ledger rejected: ");
                out.push_str(self.code());
            }
        }
    }
}

/// Written out field by field, in the form `Debug` would print, rather than through
/// `Debug`: the message reaches JavaScript, and `Debug` formatting would pull its machinery
/// into the wasm. The text is made by `LedgerError::push_message`.
impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.push_message(&mut out);
        f.write_str(&out)
    }
}

impl std::error::Error for LedgerError {}

/// Why a consent sync link refused a message ([`PatientSync`](super::PatientSync),
/// [`ReplicaSync`](super::ReplicaSync)). The message changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The ledger (or the decoder) refused it: malformed bytes, another ledger, an entry
    /// or checkpoint that does not verify.
    Ledger(LedgerError),
    /// A message only the other side sends: the patient side received an entry or an
    /// announcement, or the clinician side a hello, status or checkpoint.
    Misdirected,
}

impl From<LedgerError> for LinkError {
    fn from(e: LedgerError) -> Self {
        Self::Ledger(e)
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ledger(e) => e.fmt(f),
            Self::Misdirected => f.write_str("consent sync message for the other side"),
        }
    }
}

impl std::error::Error for LinkError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::Reason;

    const DECODE: [DecodeError; 5] = [
        DecodeError::Truncated,
        DecodeError::TrailingBytes,
        DecodeError::UnknownTag,
        DecodeError::BadField,
        DecodeError::NotCanonical,
    ];

    /// The `Display` text as it was written with `write!`, before `push_message`.
    fn message_reference(e: &LedgerError) -> String {
        use LedgerError as L;
        match *e {
            L::Malformed(d) => format!("consent ledger malformed: {}", d.name()),
            L::Truncated { size, checkpoint } => format!(
                "consent ledger truncated: {size} entries, checkpoint vouches for {checkpoint}"
            ),
            L::Store(StoreError(what)) => format!("consent ledger storage failed: {what}"),
            L::WrongSigner { seq }
            | L::BadSignature { seq }
            | L::BrokenChain { seq }
            | L::MissingEntry { seq }
            | L::Reordered { seq }
            | L::Replayed { seq }
            | L::Fork { seq }
            | L::ClockWentBackwards { seq }
            | L::InvalidEvent { seq }
            | L::GrantExpired { seq }
            | L::Untimely { seq } => {
                format!("consent ledger rejected: {} {{ seq: {seq} }}", e.code())
            }
            L::UnknownGrant { grant }
            | L::GrantNotActive { grant }
            | L::PrematureExpiry { grant } => {
                format!("consent ledger rejected: {} {{ grant: {grant} }}", e.code())
            }
            _ => format!("consent ledger rejected: {}", e.code()),
        }
    }

    const OTHERS: [LedgerError; 8] = [
        LedgerError::BadPublicKey,
        LedgerError::UnknownClinicianKey,
        LedgerError::NoticeHashMismatch,
        LedgerError::WrongLedger,
        LedgerError::BadCheckpointSignature,
        LedgerError::CheckpointMismatch,
        LedgerError::Full,
        LedgerError::Store(StoreError("")),
    ];

    proptest::proptest! {
        #[test]
        fn messages_are_what_write_wrote(a in proptest::prelude::any::<u64>(), b in proptest::prelude::any::<u64>()) {
            let mut all = vec![
                LedgerError::Truncated { size: a, checkpoint: b },
                LedgerError::Store(StoreError("idb")),
                LedgerError::WrongSigner { seq: a },
                LedgerError::BadSignature { seq: a },
                LedgerError::BrokenChain { seq: a },
                LedgerError::MissingEntry { seq: a },
                LedgerError::Reordered { seq: a },
                LedgerError::Replayed { seq: a },
                LedgerError::Fork { seq: a },
                LedgerError::ClockWentBackwards { seq: a },
                LedgerError::InvalidEvent { seq: a },
                LedgerError::GrantExpired { seq: a },
                LedgerError::Untimely { seq: a },
                LedgerError::UnknownGrant { grant: b },
                LedgerError::GrantNotActive { grant: b },
                LedgerError::PrematureExpiry { grant: b },
            ];
            all.extend(DECODE.map(LedgerError::Malformed));
            all.extend(OTHERS);
            for e in all {
                proptest::prop_assert_eq!(e.to_string(), message_reference(&e));
            }
        }
    }

    #[test]
    fn names_are_what_debug_prints() {
        for e in DECODE {
            assert_eq!(e.name(), format!("{e:?}"));
        }
        for r in [
            Reason::Granted,
            Reason::NoGrant,
            Reason::OtherRecipient,
            Reason::PurposeNotCovered,
            Reason::Withdrawn,
            Reason::Expired,
            Reason::NotYetValid,
            Reason::NoticeChanged,
            Reason::ClockBehindLedger,
        ] {
            assert_eq!(r.name(), format!("{r:?}"));
        }
    }

    #[test]
    fn rejections_read_as_debug_would_print_them() {
        let seq = 7;
        let grant = 3;
        for e in [
            LedgerError::BadPublicKey,
            LedgerError::WrongSigner { seq },
            LedgerError::BadSignature { seq },
            LedgerError::BrokenChain { seq },
            LedgerError::MissingEntry { seq },
            LedgerError::Reordered { seq },
            LedgerError::Replayed { seq },
            LedgerError::Fork { seq },
            LedgerError::ClockWentBackwards { seq },
            LedgerError::InvalidEvent { seq },
            LedgerError::GrantExpired { seq },
            LedgerError::Untimely { seq },
            LedgerError::UnknownClinicianKey,
            LedgerError::UnknownGrant { grant },
            LedgerError::GrantNotActive { grant },
            LedgerError::PrematureExpiry { grant },
            LedgerError::NoticeHashMismatch,
            LedgerError::WrongLedger,
            LedgerError::BadCheckpointSignature,
            LedgerError::CheckpointMismatch,
            LedgerError::Full,
        ] {
            assert_eq!(e.to_string(), format!("consent ledger rejected: {e:?}"));
        }
        for d in DECODE {
            let e = LedgerError::Malformed(d);
            assert_eq!(e.to_string(), format!("consent ledger malformed: {d:?}"));
        }
    }
}
