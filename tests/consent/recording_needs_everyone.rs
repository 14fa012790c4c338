//! Recording a consultation needs a `recording` grant from every other participant, to the
//! one who records, at this moment: the matrix of `check_recording` over one patient and one
//! guest, and the recording indicator signal's decoder on arbitrary bytes.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use proptest::prelude::*;
use teleconsult::consent::*;

/// A participant's ledger, signed by their own device key.
struct Record {
    key: ConsentKey,
    ledger: Ledger,
}

impl Record {
    fn new(seed: u8) -> Self {
        let key = ConsentKey::from_seed(&[seed; 32]);
        let ledger = Ledger::new([seed; 16], &key.public_key()).unwrap();
        Self { key, ledger }
    }

    /// Grants `categories` to `dr()` from T0 for an hour (grant seq = entry seq).
    fn granting(mut self, categories: &[DataCategory]) -> Self {
        self.append(T0, Event::Grant(grant(categories)));
        self
    }

    fn append(&mut self, at: u64, event: Event) {
        self.ledger.append(&self.key, at, event).unwrap();
    }

    fn consent<'a>(&'a self, recipient: &'a Recipient) -> PartyConsent<'a> {
        PartyConsent {
            state: self.ledger.state(),
            recipient,
            purpose: Purpose::Treatment,
            notice_version: "3",
        }
    }
}

const PATIENT: &str = "patient-0001";
const GUEST: &str = "guest-0002";

fn decide(
    patient: Option<&Record>,
    guest: Option<&Record>,
    asker: &Recipient,
    now: u64,
) -> RecordingDecision<&'static str> {
    let parties = [
        Party {
            id: PATIENT,
            consent: patient.map(|r| r.consent(asker)),
        },
        Party {
            id: GUEST,
            consent: guest.map(|r| r.consent(asker)),
        },
    ];
    check_recording(&parties, now)
}

fn denied(
    who: &'static str,
    reason: Reason,
    no_record: bool,
) -> impl Fn(&RecordingDecision<&'static str>) -> bool {
    move |d| matches!(d, RecordingDecision::Denied { participant, reason: r, no_record: n, .. } if *participant == who && *r == reason && *n == no_record)
}

#[test]
fn everyone_granted_allows_until_the_first_grant_ends() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let guest = Record::new(2).granting(&[DataCategory::Video, DataCategory::Recording]);
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + 1);
    assert_eq!(
        d,
        RecordingDecision::Allowed {
            until: Some(T0 + HOUR)
        }
    );
    assert!(d.allowed());

    // A grant without an end does not shorten it; the other one still does.
    let mut open = grant(&[DataCategory::Recording]);
    open.period.end = None;
    let mut guest = Record::new(2);
    guest.append(T0, Event::Grant(open));
    assert_eq!(
        decide(Some(&patient), Some(&guest), &dr(), T0 + 1),
        RecordingDecision::Allowed {
            until: Some(T0 + HOUR)
        }
    );
}

#[test]
fn one_participant_without_a_recording_grant_blocks_and_is_named() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    // The guest consented to video, not to recording.
    let guest = Record::new(2).granting(&[DataCategory::Video, DataCategory::Audio]);
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + 1);
    assert!(denied(GUEST, Reason::NoGrant, false)(&d), "{d:?}");
    assert!(!d.allowed());

    // The patient without one is named first.
    let patient = Record::new(1).granting(&[DataCategory::Video]);
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + 1);
    assert!(denied(PATIENT, Reason::NoGrant, false)(&d), "{d:?}");
}

#[test]
fn a_participant_without_any_consent_record_blocks() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let d = decide(Some(&patient), None, &dr(), T0 + 1);
    assert!(denied(GUEST, Reason::NoGrant, true)(&d), "{d:?}");
}

#[test]
fn a_withdrawn_grant_blocks_and_a_new_grant_allows_again() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let mut guest = Record::new(2).granting(&[DataCategory::Recording]);
    assert!(decide(Some(&patient), Some(&guest), &dr(), T0 + 1).allowed());
    guest.append(T0 + 2, Event::Withdraw { grant: 0 });
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + 3);
    assert!(denied(GUEST, Reason::Withdrawn, false)(&d), "{d:?}");
    // An old withdrawal never cancels a later grant.
    guest.append(T0 + 4, Event::Grant(grant(&[DataCategory::Recording])));
    assert!(decide(Some(&patient), Some(&guest), &dr(), T0 + 5).allowed());
}

#[test]
fn an_expired_grant_blocks_whether_or_not_the_expiry_was_recorded() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let guest = Record::new(2).granting(&[DataCategory::Recording]);
    // The period ended: no event needed.
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + HOUR);
    assert!(denied(PATIENT, Reason::Expired, false)(&d), "{d:?}");
    // Just before the end it still allows.
    assert!(decide(Some(&patient), Some(&guest), &dr(), T0 + HOUR - 1).allowed());
    // The expiry recorded on the guest's ledger.
    let mut guest = guest;
    guest.append(T0 + HOUR, Event::Expire { grant: 0 });
    let mut patient = patient;
    patient.append(T0 + HOUR, Event::Withdraw { grant: 0 });
    patient.append(
        T0 + HOUR,
        Event::Grant({
            let mut g = grant(&[DataCategory::Recording]);
            g.period = Period {
                start: T0 + HOUR,
                end: None,
            };
            g
        }),
    );
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + HOUR + 1);
    assert!(denied(GUEST, Reason::Expired, false)(&d), "{d:?}");
}

#[test]
fn a_grant_to_another_recipient_does_not_let_this_one_record() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let guest = Record::new(2).granting(&[DataCategory::Recording]);
    let d = decide(Some(&patient), Some(&guest), &other_dr(), T0 + 1);
    assert!(denied(PATIENT, Reason::OtherRecipient, false)(&d), "{d:?}");
}

#[test]
fn a_new_notice_version_blocks_until_consent_is_given_again() {
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let mut guest = Record::new(2).granting(&[DataCategory::Recording]);
    guest.append(T0 + 1, Event::NoticeUpdated(notice("4")));
    let d = decide(Some(&patient), Some(&guest), &dr(), T0 + 2);
    assert!(denied(GUEST, Reason::NoticeChanged, false)(&d), "{d:?}");
}

#[test]
fn nobody_else_in_the_call_is_not_consent() {
    let none: [Party<'_, &str>; 0] = [];
    assert_eq!(
        check_recording(&none, T0),
        RecordingDecision::NoParticipants
    );
    assert!(!check_recording(&none, T0).allowed());
}

#[test]
fn the_decision_agrees_with_check_every_for_a_single_recipient() {
    // check_recording asks exactly what check_every asks, participant by participant.
    let patient = Record::new(1).granting(&[DataCategory::Recording]);
    let guest = Record::new(2).granting(&[DataCategory::Video]);
    for now in [T0 - 1, T0, T0 + 1, T0 + HOUR] {
        for pair in [[&patient, &patient], [&patient, &guest], [&guest, &patient]] {
            let every = check_every(
                &[pair[0].ledger.state(), pair[1].ledger.state()],
                &request(DataCategory::Recording, now),
            );
            let ours = decide(Some(pair[0]), Some(pair[1]), &dr(), now);
            assert_eq!(ours.allowed(), every.allowed, "at {now}");
            if let RecordingDecision::Denied { reason, .. } = ours {
                assert_eq!(reason, every.reason);
            }
        }
    }
}

proptest! {
    #[test]
    fn recording_signals_decode_canonically_or_fail_typed(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
        if let Ok(s) = RecordingSignal::decode(&bytes) {
            prop_assert!(RecordingSignal::is_recording(&bytes));
            prop_assert_eq!(s.encode(), bytes);
        }
    }

    #[test]
    fn tagged_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4)) {
        let bytes = [&[TAG_RECORDING][..], &body].concat();
        let _ = RecordingSignal::decode(&bytes);
        prop_assert!(!SyncMessage::is_consent(&bytes));
    }
}
