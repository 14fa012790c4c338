//! The attacks on the chat, each named after what it tries: every one is refused with a
//! typed error, and nothing already accepted is lost or changed.

use crate::*;
use teleconsult::chat::*;
use teleconsult::consent::{Decision, Reason};
use teleconsult::signaling::relay_wire::Role;

/// A clinician holding one message from the patient and one of its own.
fn held() -> (Conversation, Vec<u8>) {
    let mut dr = clinician();
    let (_, f) = patient().send("private words", T0).unwrap();
    dr.receive(peer(PT, Role::Patient), &f).unwrap();
    dr.send("reply", T0 + 1).unwrap();
    (dr, f)
}

fn assert_unchanged(dr: &Conversation) {
    assert_eq!(texts(dr), ["private words", "reply"]);
}

#[test]
fn replayed_message_is_refused() {
    let (mut dr, f) = held();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &f),
        Err(ChatError::Replayed)
    );
    assert_unchanged(&dr);
}

#[test]
fn replayed_message_with_other_text_is_refused() {
    // Same number, new words: not a way to rewrite what was said.
    let (mut dr, _) = held();
    let forged = Frame::Message {
        seq: 1,
        sent_at: T0,
        text: "other words".into(),
    }
    .encode();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &forged),
        Err(ChatError::Replayed)
    );
    assert_unchanged(&dr);
}

#[test]
fn old_sequence_number_is_refused() {
    let (mut dr, _) = held();
    let mut pt = patient();
    pt.send("1", T0).unwrap();
    let (_, two) = pt.send("2", T0 + 2).unwrap();
    dr.receive(peer(PT, Role::Patient), &two).unwrap();
    let one_again = Frame::Message {
        seq: 1,
        sent_at: T0 + 3,
        text: "late".into(),
    }
    .encode();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &one_again),
        Err(ChatError::Replayed)
    );
    assert_eq!(dr.messages().len(), 3);
}

#[test]
fn oversized_message_is_refused() {
    let (mut dr, _) = held();
    let mut f = vec![TAG_CHAT, VERSION, 1];
    f.extend_from_slice(&9u64.to_be_bytes());
    f.extend_from_slice(&T0.to_be_bytes());
    f.extend_from_slice(&u16::MAX.to_be_bytes());
    f.extend(std::iter::repeat_n(b'a', usize::from(u16::MAX)));
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &f),
        Err(ChatError::TooLarge)
    );
    assert_unchanged(&dr);
}

#[test]
fn malformed_message_is_refused() {
    let (mut dr, f) = held();
    for bad in [&f[..5], &[TAG_CHAT, 7][..], &[TAG_CHAT][..]] {
        assert!(dr.receive(peer(PT, Role::Patient), bad).is_err());
    }
    assert_unchanged(&dr);
}

#[test]
fn message_from_a_participant_not_admitted_is_refused() {
    let (mut dr, _) = held();
    let (_, f) = Conversation::new(MALLORY, Role::Guest)
        .send("let me in", T0)
        .unwrap();
    let waiting = Peer {
        id: MALLORY,
        role: Role::Guest,
        in_call: false,
    };
    assert_eq!(dr.receive(waiting, &f), Err(ChatError::NotAdmitted));
    assert_eq!(
        dr.receive(waiting, &Conversation::typing(true)),
        Err(ChatError::NotAdmitted)
    );
    assert_unchanged(&dr);
}

#[test]
fn history_forged_by_a_non_clinician_is_refused() {
    // A guest (or the patient) claims someone said something: only a clinician relays
    // others' words.
    let (mut dr, _) = held();
    let forged = Frame::History {
        author: PT,
        role: Role::Patient,
        seq: 9,
        sent_at: T0,
        text: "stop your medication".into(),
    }
    .encode();
    assert_eq!(
        dr.receive(peer(GUEST, Role::Guest), &forged),
        Err(ChatError::NotPermitted)
    );
    let mut g = guest();
    assert_eq!(
        g.receive(peer(PT, Role::Patient), &forged),
        Err(ChatError::NotPermitted)
    );
    assert!(g.messages().is_empty());
    assert_unchanged(&dr);
}

#[test]
fn history_without_consent_is_refused() {
    let (dr, _) = held();
    let denied = Decision {
        allowed: false,
        reason: Reason::NoGrant,
        grant: None,
    };
    assert_eq!(
        dr.history_for(GUEST, &denied),
        Err(ChatError::HistoryNotConsented(Reason::NoGrant))
    );
    // And nobody but a clinician hands history out, consent or not.
    let allowed = Decision {
        allowed: true,
        reason: Reason::Granted,
        grant: Some(0),
    };
    assert_eq!(
        patient().history_for(GUEST, &allowed),
        Err(ChatError::NotPermitted)
    );
}

#[test]
fn receipt_for_a_message_never_sent_is_refused() {
    let (mut dr, _) = held();
    let bogus = Frame::Receipt {
        state: ReceiptState::Read,
        upto: 99,
    }
    .encode();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &bogus),
        Err(ChatError::UnknownMessage)
    );
    assert_eq!(dr.progress(PT), Progress::default());
}

#[test]
fn replayed_receipt_is_refused() {
    let (mut dr, _) = held();
    let r = Frame::Receipt {
        state: ReceiptState::Delivered,
        upto: 1,
    }
    .encode();
    dr.receive(peer(PT, Role::Patient), &r).unwrap();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &r),
        Err(ChatError::Replayed)
    );
    assert_eq!(
        dr.progress(PT),
        Progress {
            delivered: 1,
            read: 0
        }
    );
}

#[test]
fn flooding_past_the_message_limit_is_refused_without_losing_what_is_held() {
    let mut dr = clinician();
    let mut pt = patient();
    for i in 0..MAX_MESSAGES {
        let (_, f) = pt.send("spam", T0 + i as u64).unwrap();
        dr.receive(peer(PT, Role::Patient), &f).unwrap();
    }
    assert_eq!(pt.send("one more", T0), Err(ChatError::Full));
    let over = Frame::Message {
        seq: u64::MAX,
        sent_at: T0,
        text: "over".into(),
    }
    .encode();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &over),
        Err(ChatError::Full)
    );
    assert_eq!(dr.messages().len(), MAX_MESSAGES);
}

#[test]
fn read_mark_for_a_message_not_held_is_refused() {
    let (mut dr, _) = held();
    assert_eq!(dr.mark_read(PT, 5), Err(ChatError::UnknownMessage));
    assert_eq!(dr.mark_read(DR, 1), Err(ChatError::UnknownMessage));
}
