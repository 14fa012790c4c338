//! The messages that keep the clinician's replica in step with the patient's ledger over a
//! consultation's end-to-end encrypted app-data channel (`Consultation.sendData`).
//!
//! The channel is shared with other app data (device readings travel as JSON), so every
//! consent message starts with a byte in `0xC0..=0xC4`. These bytes never occur in UTF-8
//! (`0xC0` and `0xC1` are always invalid, `0xC2..=0xC4` cannot start a JSON text, which
//! begins with whitespace, `{`, `[`, `"`, a digit, `-`, `t`, `f` or `n`), so a receiver
//! tells them apart by the first byte alone. docs/CONSENT.md ("Sync over the session")
//! gives the exchange:
//!
//! ```text
//! patient  → clinician  0xC2 announce    ledger_id:[16] patient_key:[32] size:u64
//! clinician → patient   0xC3 status      checkpoint:[133] clinician_key:[32]   ("send me what I lack")
//! patient  → clinician  0xC0 entry       encoded entry                         (each new entry)
//! clinician → patient   0xC1 checkpoint  checkpoint:[133] clinician_key:[32]   (after each entry)
//! clinician → patient   0xC4 hello       (nothing)                             ("announce yourself")
//! ```

use super::encoding::{CHECKPOINT_LEN, Checkpoint, MAX_ENTRY_LEN};
use super::error::DecodeError;

/// First byte of an entry message.
pub const TAG_ENTRY: u8 = 0xC0;
/// First byte of a checkpoint answering an entry.
pub const TAG_CHECKPOINT: u8 = 0xC1;
/// First byte of a ledger announcement.
pub const TAG_ANNOUNCE: u8 = 0xC2;
/// First byte of a replica's status (a checkpoint asking for the entries after it).
pub const TAG_STATUS: u8 = 0xC3;
/// First byte of a request to announce the ledger.
pub const TAG_HELLO: u8 = 0xC4;

/// One consent sync message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncMessage {
    /// A new ledger entry (encoded), patient to clinician.
    Entry(Vec<u8>),
    /// The clinician's countersigned checkpoint after an entry, with its public key.
    Checkpoint {
        /// The checkpoint.
        checkpoint: Checkpoint,
        /// The clinician key that signed it.
        clinician: [u8; 32],
    },
    /// The patient names its ledger, its device key and its size.
    Announce {
        /// The ledger id.
        ledger_id: [u8; 16],
        /// The patient device's public key.
        patient: [u8; 32],
        /// Entries the patient holds.
        size: u64,
    },
    /// The replica's current checkpoint: the patient sends every entry after it.
    Status {
        /// The checkpoint of the replica's head.
        checkpoint: Checkpoint,
        /// The clinician key that signed it.
        clinician: [u8; 32],
    },
    /// The replica asks the patient to announce its ledger.
    Hello,
}

impl SyncMessage {
    /// Whether `bytes` is meant for the consent sync (its first byte is a consent tag), as
    /// opposed to other app data on the same channel.
    pub fn is_consent(bytes: &[u8]) -> bool {
        matches!(bytes.first(), Some(TAG_ENTRY..=TAG_HELLO))
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Entry(entry) => [&[TAG_ENTRY][..], entry].concat(),
            Self::Checkpoint {
                checkpoint,
                clinician,
            } => [&[TAG_CHECKPOINT][..], &checkpoint.encode(), clinician].concat(),
            Self::Status {
                checkpoint,
                clinician,
            } => [&[TAG_STATUS][..], &checkpoint.encode(), clinician].concat(),
            Self::Announce {
                ledger_id,
                patient,
                size,
            } => [&[TAG_ANNOUNCE][..], ledger_id, patient, &size.to_be_bytes()].concat(),
            Self::Hello => vec![TAG_HELLO],
        }
    }

    /// Decodes a consent message; never panics. Bytes that are not consent messages at
    /// all ([`is_consent`](Self::is_consent) is false) are [`DecodeError::UnknownTag`].
    /// Entries are only length-checked here: the replica verifies them.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&tag, body) = bytes.split_first().ok_or(DecodeError::Truncated)?;
        let exact = |len: usize| match body.len().cmp(&len) {
            core::cmp::Ordering::Less => Err(DecodeError::Truncated),
            core::cmp::Ordering::Greater => Err(DecodeError::TrailingBytes),
            core::cmp::Ordering::Equal => Ok(()),
        };
        let signed = |body: &[u8]| -> Result<(Checkpoint, [u8; 32]), DecodeError> {
            let (cp, key) = body
                .split_at_checked(CHECKPOINT_LEN)
                .ok_or(DecodeError::Truncated)?;
            Ok((
                Checkpoint::decode(cp)?,
                key.try_into().map_err(|_| DecodeError::Truncated)?,
            ))
        };
        match tag {
            TAG_ENTRY => {
                if body.is_empty() {
                    return Err(DecodeError::Truncated);
                }
                if body.len() > MAX_ENTRY_LEN {
                    return Err(DecodeError::BadField);
                }
                Ok(Self::Entry(body.to_vec()))
            }
            TAG_CHECKPOINT | TAG_STATUS => {
                exact(CHECKPOINT_LEN + 32)?;
                let (checkpoint, clinician) = signed(body)?;
                Ok(if tag == TAG_CHECKPOINT {
                    Self::Checkpoint {
                        checkpoint,
                        clinician,
                    }
                } else {
                    Self::Status {
                        checkpoint,
                        clinician,
                    }
                })
            }
            TAG_ANNOUNCE => {
                exact(16 + 32 + 8)?;
                let field = |range: core::ops::Range<usize>| body.get(range).unwrap_or_default();
                Ok(Self::Announce {
                    ledger_id: field(0..16)
                        .try_into()
                        .map_err(|_| DecodeError::Truncated)?,
                    patient: field(16..48)
                        .try_into()
                        .map_err(|_| DecodeError::Truncated)?,
                    size: u64::from_be_bytes(
                        field(48..56)
                            .try_into()
                            .map_err(|_| DecodeError::Truncated)?,
                    ),
                })
            }
            TAG_HELLO => {
                exact(0)?;
                Ok(Self::Hello)
            }
            _ => Err(DecodeError::UnknownTag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentKey;

    fn checkpoint() -> Checkpoint {
        Checkpoint::sign(
            [3; 16],
            7,
            [4; 32],
            1_700_000_000_000,
            &ConsentKey::from_seed(&[5; 32]),
        )
    }

    #[test]
    fn every_message_round_trips() {
        let cp = checkpoint();
        for m in [
            SyncMessage::Entry(vec![1, 2, 3]),
            SyncMessage::Checkpoint {
                checkpoint: cp.clone(),
                clinician: [9; 32],
            },
            SyncMessage::Status {
                checkpoint: cp,
                clinician: [8; 32],
            },
            SyncMessage::Announce {
                ledger_id: [1; 16],
                patient: [2; 32],
                size: 42,
            },
            SyncMessage::Hello,
        ] {
            let bytes = m.encode();
            assert!(SyncMessage::is_consent(&bytes));
            assert_eq!(SyncMessage::decode(&bytes), Ok(m));
        }
    }

    #[test]
    fn json_app_data_is_never_taken_for_consent() {
        for json in [
            &b"{\"type\":\"reading\"}"[..],
            b"[1]",
            b" {}",
            b"\"x\"",
            b"",
            b"null",
        ] {
            assert!(!SyncMessage::is_consent(json));
            assert!(SyncMessage::decode(json).is_err());
        }
        // A consent tag followed by ASCII is never UTF-8, so never JSON.
        for tag in TAG_ENTRY..=TAG_HELLO {
            assert!(core::str::from_utf8(&[tag, b'{']).is_err());
        }
    }

    #[test]
    fn wrong_lengths_are_typed_errors() {
        let mut status = SyncMessage::Status {
            checkpoint: checkpoint(),
            clinician: [0; 32],
        }
        .encode();
        status.push(0);
        assert_eq!(
            SyncMessage::decode(&status),
            Err(DecodeError::TrailingBytes)
        );
        status.truncate(100);
        assert_eq!(SyncMessage::decode(&status), Err(DecodeError::Truncated));
        assert_eq!(
            SyncMessage::decode(&[TAG_ANNOUNCE, 1, 2]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            SyncMessage::decode(&[TAG_HELLO, 0]),
            Err(DecodeError::TrailingBytes)
        );
        assert_eq!(
            SyncMessage::decode(&[TAG_ENTRY]),
            Err(DecodeError::Truncated)
        );
        let long = [vec![TAG_ENTRY], vec![0; MAX_ENTRY_LEN + 1]].concat();
        assert_eq!(SyncMessage::decode(&long), Err(DecodeError::BadField));
        assert_eq!(SyncMessage::decode(&[0xC5]), Err(DecodeError::UnknownTag));
    }
}
