//! The enforcement matrix: every data category against every consent state, and recording
//! that needs every participant's consent.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use teleconsult::consent::*;

/// The categories the scenario grant covers.
const COVERED: [DataCategory; 4] = [
    DataCategory::Video,
    DataCategory::Audio,
    DataCategory::HeartRate,
    DataCategory::BloodPressure,
];

/// Scenario name, reason for a covered category, reason for any other category.
const MATRIX: &[(&str, Reason, Reason)] = &[
    ("empty ledger", Reason::NoGrant, Reason::NoGrant),
    ("active grant", Reason::Granted, Reason::NoGrant),
    ("withdrawn", Reason::Withdrawn, Reason::NoGrant),
    (
        "regranted after withdrawal",
        Reason::Granted,
        Reason::NoGrant,
    ),
    ("period ended", Reason::Expired, Reason::NoGrant),
    ("expiry recorded", Reason::Expired, Reason::NoGrant),
    ("not yet valid", Reason::NotYetValid, Reason::NoGrant),
    (
        "app shows a newer notice",
        Reason::NoticeChanged,
        Reason::NoGrant,
    ),
    (
        "ledger records a newer notice",
        Reason::NoticeChanged,
        Reason::NoGrant,
    ),
    (
        "other recipient asks",
        Reason::OtherRecipient,
        Reason::NoGrant,
    ),
    (
        "purpose not covered",
        Reason::PurposeNotCovered,
        Reason::NoGrant,
    ),
    (
        "clock behind the ledger",
        Reason::ClockBehindLedger,
        Reason::ClockBehindLedger,
    ),
];

/// Builds the scenario's ledger and the request for a category.
fn scenario(name: &str) -> (Ledger, Box<dyn Fn(DataCategory) -> Request>) {
    let k = patient_key();
    let mut l = new_ledger();
    let mut now = T0 + 60_000;
    let mut req: fn(Request) -> Request = |r| r;
    let g = grant(&COVERED);
    match name {
        "empty ledger" => {}
        "active grant" => drop(l.append(&k, T0, Event::Grant(g)).unwrap()),
        "withdrawn" | "regranted after withdrawal" => {
            l.append(&k, T0, Event::Grant(g.clone())).unwrap();
            l.append(&k, T0 + 1, Event::Withdraw { grant: 0 }).unwrap();
            if name != "withdrawn" {
                l.append(&k, T0 + 2, Event::Grant(g)).unwrap();
            }
        }
        "period ended" | "expiry recorded" => {
            l.append(&k, T0, Event::Grant(g)).unwrap();
            now = T0 + HOUR;
            if name == "expiry recorded" {
                l.append(&k, now, Event::Expire { grant: 0 }).unwrap();
            }
        }
        "not yet valid" => {
            let mut g = g;
            g.period.start = T0 + HOUR / 2;
            l.append(&k, T0, Event::Grant(g)).unwrap();
        }
        "app shows a newer notice" => {
            l.append(&k, T0, Event::Grant(g)).unwrap();
            req = |r| Request {
                notice_version: "4".into(),
                ..r
            };
        }
        "ledger records a newer notice" => {
            l.append(&k, T0, Event::Grant(g)).unwrap();
            l.append(&k, T0 + 1, Event::NoticeUpdated(notice("4")))
                .unwrap();
        }
        "other recipient asks" => {
            l.append(&k, T0, Event::Grant(g)).unwrap();
            req = |r| Request {
                recipient: other_dr(),
                ..r
            };
        }
        "purpose not covered" => {
            l.append(&k, T0, Event::Grant(g)).unwrap();
            req = |r| Request {
                purpose: Purpose::Research,
                ..r
            };
        }
        "clock behind the ledger" => {
            l.append(&k, T0, Event::Grant(g)).unwrap();
            l.append(
                &k,
                T0 + 10 * 60_000,
                Event::SasConfirmed {
                    transcript: [3; 32],
                },
            )
            .unwrap();
            now = T0 + 5 * 60_000;
        }
        other => panic!("unknown scenario {other}"),
    }
    (l, Box::new(move |c| req(request(c, now))))
}

#[test]
fn every_category_in_every_state_gets_the_expected_decision() {
    let mut cells = 0;
    for &(name, covered, uncovered) in MATRIX {
        let (ledger, req) = scenario(name);
        for &c in DataCategory::ALL {
            let want = if COVERED.contains(&c) {
                covered
            } else {
                uncovered
            };
            let d = check(ledger.state(), &req(c));
            assert_eq!(d.reason, want, "{name} / {c:?}");
            assert_eq!(
                d.allowed,
                want == Reason::Granted,
                "{name} / {c:?}: default deny"
            );
            cells += 1;
        }
        // The clinician's replica reaches the same decisions from the same entries.
        let replica = rebuild(&entries(&ledger)).unwrap();
        for &c in DataCategory::ALL {
            assert_eq!(
                check(replica.state(), &req(c)),
                check(ledger.state(), &req(c))
            );
        }
    }
    assert_eq!(cells, MATRIX.len() * DataCategory::ALL.len());
}

#[test]
fn a_new_notice_version_requires_consent_again() {
    let k = patient_key();
    let mut l = new_ledger();
    l.append(&k, T0, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap();
    l.append(&k, T0 + 1, Event::NoticeUpdated(notice("4")))
        .unwrap();
    let v4 = |now| Request {
        notice_version: "4".into(),
        ..request(DataCategory::Video, now)
    };
    assert_eq!(check(l.state(), &v4(T0 + 2)).reason, Reason::NoticeChanged);
    let mut g = grant(&[DataCategory::Video]);
    g.notice = notice("4");
    l.append(&k, T0 + 3, Event::Grant(g)).unwrap();
    let d = check(l.state(), &v4(T0 + 4));
    assert!(d.allowed);
    assert_eq!(d.grant, Some(2));
}

fn participant(seed: u8, grants_recording: bool) -> Ledger {
    let key = ConsentKey::from_seed(&[seed; 32]);
    let mut l = Ledger::new([seed; 16], &key.public_key()).unwrap();
    let categories = if grants_recording {
        vec![DataCategory::Video, DataCategory::Recording]
    } else {
        vec![DataCategory::Video]
    };
    l.append(&key, T0, Event::Grant(grant(&categories)))
        .unwrap();
    l
}

#[test]
fn recording_needs_every_participants_consent() {
    let patient = participant(1, true);
    let interpreter = participant(2, true);
    let family = participant(3, false);
    let rec = request(DataCategory::Recording, T0 + 1);

    let d = check_every(&[patient.state(), interpreter.state()], &rec);
    assert_eq!((d.allowed, d.reason), (true, Reason::Granted));

    let d = check_every(
        &[patient.state(), interpreter.state(), family.state()],
        &rec,
    );
    assert_eq!((d.allowed, d.reason), (false, Reason::NoGrant));

    // Video needs only each participant's own consent: all three gave it.
    let all = [patient.state(), interpreter.state(), family.state()];
    assert!(check_every(&all, &request(DataCategory::Video, T0 + 1)).allowed);

    // Nobody listed is nobody's consent.
    assert!(!check_every(&[], &rec).allowed);

    // One participant withdrawing stops the recording.
    let mut interpreter = interpreter;
    let key = ConsentKey::from_seed(&[2; 32]);
    interpreter
        .append(&key, T0 + 2, Event::Withdraw { grant: 0 })
        .unwrap();
    let d = check_every(
        &[patient.state(), interpreter.state()],
        &request(DataCategory::Recording, T0 + 3),
    );
    assert_eq!((d.allowed, d.reason), (false, Reason::Withdrawn));
}
