//! The deterministic binary encoding of entries, checkpoints and whole ledgers.
//!
//! docs/CONSENT.md ("Encoding") is the normative description. Integers are big-endian,
//! strings are `len:u16` + UTF-8 (at most [`MAX_STR`] bytes), sets are `count:u8` + codes
//! in strictly ascending order. Decoding accepts exactly one encoding per value, so
//! `encode(decode(b)) == b` for every accepted `b`, and never panics.

use serde::Serialize;

use super::error::DecodeError;
use super::model::{
    Collection, DataCategory, Event, Grant, Notice, Period, Purpose, Recipient, RecipientKind,
};

/// Format byte that starts every entry.
pub const ENTRY_FORMAT: u8 = 1;
/// Magic + format that start an encoded ledger.
pub const LEDGER_MAGIC: [u8; 5] = *b"TCCL\x01";
/// Magic + format that start an encoded checkpoint. Format 2 added the countersigner's
/// `time`; format 1 checkpoints are refused (`UnknownTag`).
pub const CHECKPOINT_MAGIC: [u8; 5] = *b"TCCP\x02";
/// Longest string field, in bytes.
pub const MAX_STR: usize = 1024;
/// Longest encoded entry, in bytes (a grant with every string at its limit fits).
pub const MAX_ENTRY_LEN: usize = 8 * 1024;
/// Most entries in one ledger.
pub const MAX_ENTRIES: u32 = 1 << 20;
/// Length of an encoded checkpoint.
pub const CHECKPOINT_LEN: usize = 5 + 16 + 8 + 32 + 8 + 64;

/// One signed ledger entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Position in the ledger, from 0.
    pub seq: u64,
    /// Hash of the previous entry, or the ledger's genesis hash for entry 0.
    #[serde(with = "super::model::hex")]
    pub prev: [u8; 32],
    /// When it was recorded, in milliseconds since the Unix epoch (non-decreasing).
    pub time: u64,
    /// Key id of the signing key (first 8 bytes of a hash of the public key).
    #[serde(with = "super::model::hex")]
    pub signer: [u8; 8],
    /// What happened.
    pub event: Event,
    /// Ed25519 signature over the domain-separated encoding of the fields above.
    #[serde(with = "super::model::hex")]
    pub signature: [u8; 64],
}

/// A countersigned checkpoint: the clinician's signature that a ledger had `size` entries
/// ending in `head`. Holding one lets either side detect a later truncation or rewrite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// The ledger's id.
    #[serde(with = "super::model::hex")]
    pub ledger_id: [u8; 16],
    /// Number of entries vouched for.
    pub size: u64,
    /// Hash of entry `size - 1` (the genesis hash when `size` is 0).
    #[serde(with = "super::model::hex")]
    pub head: [u8; 32],
    /// The countersigner's own clock when it signed, in milliseconds since the Unix epoch:
    /// for a checkpoint answering an entry, the time the clinician's replica received it.
    pub time: u64,
    /// The clinician's Ed25519 signature.
    #[serde(with = "super::model::hex")]
    pub signature: [u8; 64],
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    // `split_at_checked` and `split_first_chunk`: no panicking split or copy behind the
    // length checks, so no panic paths in the wasm.
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let [b] = self.array()?;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let len = usize::from(self.u16()?);
        if len > MAX_STR {
            return Err(DecodeError::BadField);
        }
        let s = core::str::from_utf8(self.take(len)?).map_err(|_| DecodeError::BadField)?;
        Ok(s.to_owned())
    }
    /// A set: `count:u8` then codes, strictly ascending.
    fn set<T: Copy>(&mut self, from: fn(u8) -> Option<T>) -> Result<Vec<T>, DecodeError> {
        let n = self.u8()?;
        let mut out = Vec::with_capacity(usize::from(n));
        let mut last = 0u8;
        for _ in 0..n {
            let b = self.u8()?;
            if b <= last {
                return Err(DecodeError::NotCanonical);
            }
            last = b;
            out.push(from(b).ok_or(DecodeError::UnknownTag)?);
        }
        Ok(out)
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Validated events never exceed MAX_STR; capping keeps the prefix honest regardless.
    let b = &s.as_bytes()[..s.len().min(MAX_STR)];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

fn put_set<T: Copy + Ord>(out: &mut Vec<u8>, items: &[T], byte: fn(T) -> u8) {
    let mut codes: Vec<u8> = items.iter().map(|&t| byte(t)).collect();
    crate::sorted_map::sort_dedup_few(&mut codes);
    out.push(codes.len() as u8); // at most 10 distinct codes
    out.extend_from_slice(&codes);
}

fn put_notice(out: &mut Vec<u8>, n: &Notice) {
    put_str(out, &n.uri);
    put_str(out, &n.version);
    put_str(out, &n.language);
    out.extend_from_slice(&n.sha256);
}

fn read_notice(r: &mut Reader<'_>) -> Result<Notice, DecodeError> {
    Ok(Notice {
        uri: r.str()?,
        version: r.str()?,
        language: r.str()?,
        sha256: r.array()?,
    })
}

fn put_event(out: &mut Vec<u8>, e: &Event) {
    match e {
        Event::Grant(g) => {
            out.push(1);
            put_str(out, &g.patient.0);
            out.push(g.recipient.kind as u8);
            put_str(out, &g.recipient.id.0);
            put_set(out, &g.purposes, |p| p as u8);
            put_set(out, &g.categories, |c| c as u8);
            out.extend_from_slice(&g.period.start.to_be_bytes());
            match g.period.end {
                None => out.push(0),
                Some(end) => {
                    out.push(1);
                    out.extend_from_slice(&end.to_be_bytes());
                }
            }
            put_notice(out, &g.notice);
            match &g.collection {
                Collection::PatientAction => out.push(1),
                Collection::VerbalAttested { clinician } => {
                    out.push(2);
                    put_str(out, &clinician.0);
                }
            }
        }
        Event::Withdraw { grant } => {
            out.push(2);
            out.extend_from_slice(&grant.to_be_bytes());
        }
        Event::Expire { grant } => {
            out.push(3);
            out.extend_from_slice(&grant.to_be_bytes());
        }
        Event::NoticeUpdated(n) => {
            out.push(4);
            put_notice(out, n);
        }
        Event::SasConfirmed { transcript } => {
            out.push(5);
            out.extend_from_slice(transcript);
        }
        Event::ParticipantAdmitted { participant } => {
            out.push(6);
            out.extend_from_slice(participant);
        }
    }
}

fn read_event(r: &mut Reader<'_>) -> Result<Event, DecodeError> {
    Ok(match r.u8()? {
        1 => {
            let patient = r.str()?.into();
            let kind = RecipientKind::from_byte(r.u8()?).ok_or(DecodeError::UnknownTag)?;
            let recipient = Recipient {
                kind,
                id: r.str()?.into(),
            };
            let purposes = r.set(Purpose::from_byte)?;
            let categories = r.set(DataCategory::from_byte)?;
            let start = r.u64()?;
            let end = match r.u8()? {
                0 => None,
                1 => Some(r.u64()?),
                _ => return Err(DecodeError::BadField),
            };
            let notice = read_notice(r)?;
            let collection = match r.u8()? {
                1 => Collection::PatientAction,
                2 => Collection::VerbalAttested {
                    clinician: r.str()?.into(),
                },
                _ => return Err(DecodeError::UnknownTag),
            };
            Event::Grant(Grant {
                patient,
                recipient,
                purposes,
                categories,
                period: Period { start, end },
                notice,
                collection,
            })
        }
        2 => Event::Withdraw { grant: r.u64()? },
        3 => Event::Expire { grant: r.u64()? },
        4 => Event::NoticeUpdated(read_notice(r)?),
        5 => Event::SasConfirmed {
            transcript: r.array()?,
        },
        6 => Event::ParticipantAdmitted {
            participant: r.array()?,
        },
        _ => return Err(DecodeError::UnknownTag),
    })
}

impl Entry {
    /// The encoding of every field but the signature: what the signature covers (after
    /// the entry context string).
    pub fn encode_unsigned(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.push(ENTRY_FORMAT);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.prev);
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.signer);
        put_event(&mut out, &self.event);
        out
    }

    /// The full encoding: the unsigned part followed by the 64-byte signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_unsigned();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes one entry; never panics. Checks the form only — signatures and the chain
    /// are checked by the ledger.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(DecodeError::BadField);
        }
        let mut r = Reader(bytes);
        if r.u8()? != ENTRY_FORMAT {
            return Err(DecodeError::UnknownTag);
        }
        let entry = Self {
            seq: r.u64()?,
            prev: r.array()?,
            time: r.u64()?,
            signer: r.array()?,
            event: read_event(&mut r)?,
            signature: r.array()?,
        };
        r.end()?;
        Ok(entry)
    }
}

impl Checkpoint {
    /// The 133-byte encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHECKPOINT_LEN);
        out.extend_from_slice(&CHECKPOINT_MAGIC);
        out.extend_from_slice(&self.ledger_id);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes a checkpoint; never panics. The signature is checked by
    /// `Checkpoint::verify`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader(bytes);
        if r.array::<5>()? != CHECKPOINT_MAGIC {
            return Err(DecodeError::UnknownTag);
        }
        let cp = Self {
            ledger_id: r.array()?,
            size: r.u64()?,
            head: r.array()?,
            time: r.u64()?,
            signature: r.array()?,
        };
        r.end()?;
        Ok(cp)
    }
}

/// Encodes a ledger container: magic, id, count, then each entry with a `u32` length.
pub fn encode_ledger<'a>(
    id: &[u8; 16],
    entries: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&LEDGER_MAGIC);
    out.extend_from_slice(id);
    // Ledgers never exceed MAX_ENTRIES (< u32::MAX) entries.
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for e in entries {
        out.extend_from_slice(&(e.len() as u32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Splits a ledger container into its id and entry byte strings; never panics.
pub fn decode_ledger(bytes: &[u8]) -> Result<([u8; 16], Vec<&[u8]>), DecodeError> {
    let mut r = Reader(bytes);
    if r.array::<5>()? != LEDGER_MAGIC {
        return Err(DecodeError::UnknownTag);
    }
    let id = r.array()?;
    let count = r.u32()?;
    if count > MAX_ENTRIES {
        return Err(DecodeError::BadField);
    }
    let mut entries = Vec::with_capacity(count.min(1024) as usize);
    for _ in 0..count {
        let len = r.u32()? as usize;
        if len > MAX_ENTRY_LEN {
            return Err(DecodeError::BadField);
        }
        entries.push(r.take(len)?);
    }
    r.end()?;
    Ok((id, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Entry {
        Entry {
            seq: 7,
            prev: [1; 32],
            time: 1_700_000_000_000,
            signer: [2; 8],
            event: Event::Grant(Grant {
                patient: "p".into(),
                recipient: Recipient {
                    kind: RecipientKind::Practitioner,
                    id: "c".into(),
                },
                purposes: vec![Purpose::Treatment],
                categories: vec![DataCategory::Video, DataCategory::Spo2],
                period: Period {
                    start: 1,
                    end: Some(2),
                },
                notice: Notice::for_text("https://n", "3", "en", b"x"),
                collection: Collection::VerbalAttested {
                    clinician: "c".into(),
                },
            }),
            signature: [3; 64],
        }
    }

    #[test]
    fn entry_round_trips() {
        let e = sample();
        let bytes = e.encode();
        assert_eq!(Entry::decode(&bytes), Ok(e));
        for cut in 0..bytes.len() {
            assert_eq!(
                Entry::decode(&bytes[..cut]),
                Err(DecodeError::Truncated),
                "{cut}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Entry::decode(&long), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn unsorted_sets_are_not_canonical() {
        let bytes = sample().encode();
        // Category set: count 2 then codes 1, 10; swap them.
        let pos = bytes.windows(3).position(|w| w == [2, 1, 10]).unwrap();
        let mut bad = bytes.clone();
        bad[pos + 1] = 10;
        bad[pos + 2] = 1;
        assert_eq!(Entry::decode(&bad), Err(DecodeError::NotCanonical));
    }

    #[test]
    fn ledger_container_round_trips_and_rejects_huge_counts() {
        let e = sample().encode();
        let bytes = encode_ledger(&[9; 16], [e.as_slice()].into_iter());
        let (id, entries) = decode_ledger(&bytes).unwrap();
        assert_eq!((id, entries), ([9; 16], vec![e.as_slice()]));
        let mut huge = bytes.clone();
        huge[21..25].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode_ledger(&huge), Err(DecodeError::BadField));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_accepted_bytes_are_canonical(
            bytes in proptest::collection::vec(any::<u8>(), 0..400)
        ) {
            if let Ok(e) = Entry::decode(&bytes) {
                prop_assert_eq!(e.encode(), bytes.clone());
            }
            if let Ok(c) = Checkpoint::decode(&bytes) {
                prop_assert_eq!(c.encode(), bytes.clone());
            }
            let _ = decode_ledger(&bytes);
        }

        #[test]
        fn mutated_valid_entries_never_panic(idx in any::<usize>(), val in any::<u8>()) {
            let mut bytes = sample().encode();
            let i = idx % bytes.len();
            bytes[i] = val;
            if let Ok(e) = Entry::decode(&bytes) {
                prop_assert_eq!(e.encode(), bytes);
            }
        }
    }
}
