//! Recording needs every participant's consent.
//!
//! A consultation may be recorded only while **every** other participant in the call (each
//! patient and guest) is covered by a `recording` grant to the one who records, for this
//! moment and the notice that participant's record is checked against. A participant
//! without a consent record is not covered (default deny). [`check_recording`] answers
//! this with the same [`check`] as every other enforcement point, and names the first
//! participant who is not covered, so the app can say whose consent is missing.
//!
//! [`RecordingSignal`] is the small message that tells the other participants, over the
//! end-to-end encrypted app-data channel, that a recording started or stopped (so the
//! patient's page can show an indicator). Like the consent sync messages
//! ([`SyncMessage`](super::SyncMessage)) it starts with a byte no JSON text can start with.
//!
//! ```
//! use teleconsult::consent::*;
//!
//! let dr = Recipient { kind: RecipientKind::Practitioner, id: "dr-1".into() };
//! let nobody = ConsentState::default();
//! let parties = [
//!     Party { id: "patient", consent: Some(PartyConsent {
//!         state: &nobody, recipient: &dr, purpose: Purpose::Treatment, notice_version: "3" }) },
//!     Party { id: "guest", consent: None },
//! ];
//! match check_recording(&parties, 1_000) {
//!     RecordingDecision::Denied { participant, reason, .. } => {
//!         assert_eq!((participant, reason), ("patient", Reason::NoGrant));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

use super::error::DecodeError;
use super::model::{DataCategory, Purpose, Recipient};
use super::policy::{ConsentState, Reason, Request, check};

/// One participant whose consent a recording needs.
#[derive(Clone, Copy, Debug)]
pub struct Party<'a, P> {
    /// How the caller names the participant (a participant id); returned in a denial.
    pub id: P,
    /// Their consent record as held by the one who records, with what to check it
    /// against; `None` when no record of theirs is held (denied: `NoGrant`).
    pub consent: Option<PartyConsent<'a>>,
}

/// A participant's consent record and the question to ask it.
#[derive(Clone, Copy, Debug)]
pub struct PartyConsent<'a> {
    /// What their ledger says.
    pub state: &'a ConsentState,
    /// Who would receive the recording (the clinician or organization recording).
    pub recipient: &'a Recipient,
    /// What for.
    pub purpose: Purpose,
    /// The notice version the recording side presents.
    pub notice_version: &'a str,
}

/// Whether a recording may start (or go on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordingDecision<P> {
    /// Every participant is covered.
    Allowed {
        /// The earliest end of the covering grants' periods, if any has one: the decision
        /// must be taken again then (nothing else would tell the recorder that a grant ran
        /// out).
        until: Option<u64>,
    },
    /// There is nobody whose consent could be asked: nobody else is in the call.
    NoParticipants,
    /// `participant` is not covered.
    Denied {
        /// The first participant (in the order given) whose consent is missing.
        participant: P,
        /// Why: the decision of their record, or [`Reason::NoGrant`] without a record.
        reason: Reason,
        /// The grant that came closest, if any.
        grant: Option<u64>,
        /// No consent record of theirs is held at all.
        no_record: bool,
    },
}

impl<P> RecordingDecision<P> {
    /// Whether recording may go on.
    pub fn allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }
}

/// Decides whether the call may be recorded at `now`: every party must be covered by a
/// `recording` grant in their own record ([`check`] with [`DataCategory::Recording`]).
/// The first party not covered is named; an empty list is
/// [`RecordingDecision::NoParticipants`] (never allowed by default).
pub fn check_recording<P: Clone>(parties: &[Party<'_, P>], now: u64) -> RecordingDecision<P> {
    check_everyone(parties, DataCategory::Recording, now)
}

/// Whether every party's record covers `category` at `now`, as [`check_recording`] decides
/// for recording: the same rule for other data every participant must agree to (chat
/// history shared with a late joiner: [`DataCategory::ChatHistory`]).
pub fn check_everyone<P: Clone>(
    parties: &[Party<'_, P>],
    category: DataCategory,
    now: u64,
) -> RecordingDecision<P> {
    if parties.is_empty() {
        return RecordingDecision::NoParticipants;
    }
    let mut until: Option<u64> = None;
    for party in parties {
        let Some(c) = &party.consent else {
            return RecordingDecision::Denied {
                participant: party.id.clone(),
                reason: Reason::NoGrant,
                grant: None,
                no_record: true,
            };
        };
        let request = Request {
            category,
            recipient: c.recipient.clone(),
            purpose: c.purpose,
            now,
            notice_version: c.notice_version.to_owned(),
        };
        let d = check(c.state, &request);
        if !d.allowed {
            return RecordingDecision::Denied {
                participant: party.id.clone(),
                reason: d.reason,
                grant: d.grant,
                no_record: false,
            };
        }
        let end = d
            .grant
            .and_then(|seq| c.state.grant(seq))
            .and_then(|r| r.grant.period.end);
        if let Some(end) = end {
            until = Some(until.map_or(end, |u| u.min(end)));
        }
    }
    RecordingDecision::Allowed { until }
}

/// The first byte of a [`RecordingSignal`]: next to the consent sync tags (`0xC0..=0xC4`),
/// and like them never the first byte of a UTF-8 JSON text.
pub const TAG_RECORDING: u8 = 0xC5;

/// Why a recording stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The recording side stopped it.
    Stopped,
    /// A participant's consent no longer covers it (withdrawn, expired, new notice).
    ConsentWithdrawn,
    /// A participant without a covering grant entered the call.
    ParticipantJoined,
    /// The recording side left the call.
    HungUp,
    /// The recorder failed.
    Failed,
}

impl StopReason {
    /// Every reason, in code order.
    pub const ALL: &'static [StopReason] = &[
        Self::Stopped,
        Self::ConsentWithdrawn,
        Self::ParticipantJoined,
        Self::HungUp,
        Self::Failed,
    ];

    /// The stable name JavaScript sees.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::ConsentWithdrawn => "consent-withdrawn",
            Self::ParticipantJoined => "participant-joined",
            Self::HungUp => "hung-up",
            Self::Failed => "error",
        }
    }

    /// The byte on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Self::Stopped => 1,
            Self::ConsentWithdrawn => 2,
            Self::ParticipantJoined => 3,
            Self::HungUp => 4,
            Self::Failed => 5,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// Tells the other participants that the sender started or stopped recording the call.
///
/// ```text
/// 0xC5 0x01              started
/// 0xC5 0x00 reason:u8    stopped (StopReason::code)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingSignal {
    /// The sender is recording.
    Started,
    /// The sender stopped recording.
    Stopped(StopReason),
}

impl RecordingSignal {
    /// Whether `bytes` is meant for the recording indicator (first byte [`TAG_RECORDING`]).
    pub fn is_recording(bytes: &[u8]) -> bool {
        bytes.first() == Some(&TAG_RECORDING)
    }

    /// The encoding.
    pub fn encode(self) -> Vec<u8> {
        match self {
            Self::Started => vec![TAG_RECORDING, 1],
            Self::Stopped(reason) => vec![TAG_RECORDING, 0, reason.code()],
        }
    }

    /// Decodes exactly one signal; never panics. Anything else is a typed error.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        match bytes {
            [] => Err(DecodeError::Truncated),
            [tag, ..] if *tag != TAG_RECORDING => Err(DecodeError::UnknownTag),
            [_] => Err(DecodeError::Truncated),
            [_, 1] => Ok(Self::Started),
            [_, 1, ..] => Err(DecodeError::TrailingBytes),
            [_, 0] => Err(DecodeError::Truncated),
            [_, 0, code] => StopReason::from_code(*code)
                .map(Self::Stopped)
                .ok_or(DecodeError::UnknownTag),
            [_, 0, _, ..] => Err(DecodeError::TrailingBytes),
            [_, _, ..] => Err(DecodeError::BadField),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::SyncMessage;

    #[test]
    fn every_signal_round_trips_and_is_not_consent_sync() {
        let all = std::iter::once(RecordingSignal::Started)
            .chain(StopReason::ALL.iter().map(|r| RecordingSignal::Stopped(*r)));
        for s in all {
            let bytes = s.encode();
            assert!(RecordingSignal::is_recording(&bytes));
            assert!(!SyncMessage::is_consent(&bytes));
            assert_eq!(RecordingSignal::decode(&bytes), Ok(s));
        }
    }

    #[test]
    fn malformed_signals_are_typed_errors() {
        use DecodeError::*;
        for (bytes, want) in [
            (&[][..], Truncated),
            (&[0xC4, 1], UnknownTag),
            (&[b'{', 1], UnknownTag),
            (&[TAG_RECORDING], Truncated),
            (&[TAG_RECORDING, 1, 0], TrailingBytes),
            (&[TAG_RECORDING, 0], Truncated),
            (&[TAG_RECORDING, 0, 0], UnknownTag),
            (&[TAG_RECORDING, 0, 6], UnknownTag),
            (&[TAG_RECORDING, 0, 1, 1], TrailingBytes),
            (&[TAG_RECORDING, 2], BadField),
            (&[TAG_RECORDING, 0xFF, 0], BadField),
        ] {
            assert_eq!(RecordingSignal::decode(bytes), Err(want), "{bytes:?}");
        }
        // Never the first byte of a JSON text (or of any UTF-8 text followed by ASCII).
        assert!(core::str::from_utf8(&[TAG_RECORDING, b'{']).is_err());
    }

    #[test]
    fn stop_reasons_have_stable_names_and_codes() {
        let names: Vec<_> = StopReason::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            [
                "stopped",
                "consent-withdrawn",
                "participant-joined",
                "hung-up",
                "error"
            ]
        );
        let codes: Vec<_> = StopReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5]);
    }
}
