//! History for late joiners: a guest admitted later gets the earlier messages from the
//! clinician only when the patient's `chat-history` grant allows it.

use crate::consent_fixtures::{self, grant, request};
use crate::*;
use teleconsult::chat::*;
use teleconsult::consent::{DataCategory, Decision, Event, check};
use teleconsult::signaling::relay_wire::Role;

/// The clinician's decision from a replica of a patient ledger granting `categories`.
fn decision(categories: &[DataCategory]) -> Decision {
    let key = consent_fixtures::patient_key();
    let mut ledger = consent_fixtures::new_ledger();
    if !categories.is_empty() {
        ledger
            .append(&key, T0, Event::Grant(grant(categories)))
            .unwrap();
    }
    check(ledger.state(), &request(DataCategory::ChatHistory, T0 + 1))
}

/// A clinician and a patient who exchanged two messages.
fn visit() -> Conversation {
    let (mut dr, mut pt) = (clinician(), patient());
    let (_, a) = pt.send("I have a rash", T0).unwrap();
    dr.receive(peer(PT, Role::Patient), &a).unwrap();
    let (_, b) = dr.send("Since when?", T0 + 10).unwrap();
    pt.receive(peer(DR, Role::Clinician), &b).unwrap();
    dr
}

#[test]
fn a_late_guest_gets_the_history_with_the_patients_consent() {
    let dr = visit();
    let frames = dr
        .history_for(GUEST, &decision(&[DataCategory::ChatHistory]))
        .unwrap();
    let mut g = guest();
    for f in &frames {
        assert!(matches!(
            g.receive(peer(DR, Role::Clinician), f),
            Ok(Received::History { .. })
        ));
    }
    assert_eq!(g.messages(), dr.messages());
    assert_eq!(g.messages()[0].author, PT);
    assert_eq!(g.messages()[0].role, Role::Patient);
}

#[test]
fn history_without_consent_is_refused_and_nothing_is_sent() {
    let dr = visit();
    for categories in [&[][..], &[DataCategory::Video, DataCategory::Audio][..]] {
        let d = decision(categories);
        assert!(!d.allowed);
        assert_eq!(
            dr.history_for(GUEST, &d),
            Err(ChatError::HistoryNotConsented(d.reason))
        );
    }
}

#[test]
fn history_and_live_messages_racing_each_other_are_held_once() {
    // The patient's next live message reaches the guest before the clinician's history.
    let (mut dr, mut pt) = (clinician(), patient());
    let (_, a) = pt.send("one", T0).unwrap();
    dr.receive(peer(PT, Role::Patient), &a).unwrap();
    let history = dr
        .history_for(GUEST, &decision(&[DataCategory::ChatHistory]))
        .unwrap();
    let (_, b) = pt.send("two", T0 + 1).unwrap();
    dr.receive(peer(PT, Role::Patient), &b).unwrap();
    let mut g = guest();
    g.receive(peer(PT, Role::Patient), &b).unwrap();
    for f in &history {
        g.receive(peer(DR, Role::Clinician), f).unwrap();
    }
    // A second history (after a reconnect) brings nothing twice.
    for f in dr
        .history_for(GUEST, &decision(&[DataCategory::ChatHistory]))
        .unwrap()
    {
        assert_eq!(
            g.receive(peer(DR, Role::Clinician), &f),
            Err(ChatError::Replayed)
        );
    }
    assert_eq!(texts(&g), ["one", "two"]);
}

#[test]
fn chat_history_is_a_consent_category_of_its_own() {
    assert_eq!(DataCategory::ChatHistory.code(), "chat-history");
    assert_eq!(DataCategory::from_byte(11), Some(DataCategory::ChatHistory));
    // A grant of every other category does not cover it (default deny).
    let others: Vec<_> = DataCategory::ALL
        .iter()
        .copied()
        .filter(|c| *c != DataCategory::ChatHistory)
        .collect();
    assert!(!decision(&others).allowed);
}
