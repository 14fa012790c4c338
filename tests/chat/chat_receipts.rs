//! A clinician and a patient exchange messages: in order, each delivered once, with
//! delivered and read receipts; typing state.

use crate::*;
use teleconsult::chat::*;
use teleconsult::signaling::relay_wire::Role;

#[test]
fn messages_arrive_in_order_with_delivered_and_read_receipts() {
    let (mut dr, mut pt) = (clinician(), patient());
    let mut receipts = Vec::new();
    for (i, text) in ["Hello", "Can you hear me?", "Audio dropped"]
        .iter()
        .enumerate()
    {
        let (sent, frame) = pt.send(text, T0 + i as u64).unwrap();
        assert_eq!(sent.seq, i as u64 + 1);
        match dr.receive(peer(PT, Role::Patient), &frame).unwrap() {
            Received::Message { message, receipt } => {
                assert_eq!(message, sent);
                receipts.push(receipt);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(texts(&dr), texts(&pt));
    for r in &receipts {
        pt.receive(peer(DR, Role::Clinician), r).unwrap();
    }
    assert_eq!(
        pt.progress(DR),
        Progress {
            delivered: 3,
            read: 0
        }
    );

    // Reading the second marks the first read too; marking it again sends nothing.
    let read = dr.mark_read(PT, 2).unwrap().unwrap();
    assert_eq!(dr.mark_read(PT, 1), Ok(None));
    assert_eq!(
        pt.receive(peer(DR, Role::Clinician), &read),
        Ok(Received::Receipt {
            peer: DR,
            state: ReceiptState::Read,
            upto: 2
        })
    );
    assert_eq!(
        pt.progress(DR),
        Progress {
            delivered: 3,
            read: 2
        }
    );
}

#[test]
fn both_sides_hold_the_same_conversation_in_the_same_order() {
    let (mut dr, mut pt) = (clinician(), patient());
    let (_, a) = pt.send("first", T0).unwrap();
    let (_, b) = dr.send("second", T0 + 5).unwrap();
    let (_, c) = pt.send("third", T0 + 9).unwrap();
    dr.receive(peer(PT, Role::Patient), &a).unwrap();
    pt.receive(peer(DR, Role::Clinician), &b).unwrap();
    dr.receive(peer(PT, Role::Patient), &c).unwrap();
    assert_eq!(texts(&dr), ["first", "second", "third"]);
    assert_eq!(texts(&dr), texts(&pt));
}

#[test]
fn a_clock_that_goes_back_does_not_reorder_the_authors_messages() {
    let mut pt = patient();
    pt.send("one", T0 + 100).unwrap();
    let (two, _) = pt.send("two", T0).unwrap();
    assert_eq!(two.sent_at, T0 + 100);
    assert_eq!(texts(&pt), ["one", "two"]);
}

#[test]
fn typing_state_reaches_the_peer() {
    let mut dr = clinician();
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &Conversation::typing(true)),
        Ok(Received::Typing {
            peer: PT,
            active: true
        })
    );
    assert!(dr.messages().is_empty());
}

#[test]
fn the_text_rules_hold_for_sending() {
    let mut pt = patient();
    assert_eq!(pt.send("", T0), Err(ChatError::Empty));
    assert_eq!(
        pt.send(&"x".repeat(MAX_TEXT_LEN + 1), T0),
        Err(ChatError::TooLarge)
    );
    assert_eq!(
        pt.send("a\u{202E}b\u{7}", T0),
        Err(ChatError::Malformed("chat text: control character"))
    );
    assert!(pt.send(&"é".repeat(MAX_TEXT_LEN / 2), T0).is_ok());
    assert_eq!(pt.messages().len(), 1);
}

#[test]
fn a_stored_conversation_comes_back_whole_and_goes_on_numbering() {
    let (mut dr, mut pt) = (clinician(), patient());
    let (_, f) = pt.send("before reload", T0).unwrap();
    dr.receive(peer(PT, Role::Patient), &f).unwrap();
    dr.send("answer", T0 + 1).unwrap();
    let bytes = store::encode(dr.messages());
    let mut back = Conversation::restore(DR, Role::Clinician, store::decode(&bytes).unwrap());
    assert_eq!(back.messages(), dr.messages());
    assert_eq!(back.send("after", T0 + 2).unwrap().0.seq, 2);
    // What was held before the reload is still refused as a replay.
    assert_eq!(
        back.receive(peer(PT, Role::Patient), &f),
        Err(ChatError::Replayed)
    );
}

#[test]
fn malformed_storage_is_a_typed_error() {
    let mut pt = patient();
    pt.send("hi", T0).unwrap();
    let good = store::encode(pt.messages());
    assert!(store::decode(&good[..good.len() - 1]).is_err());
    assert_eq!(
        store::decode(b"XXXX"),
        Err(ChatError::Malformed("stored chat: bad magic"))
    );
    let mut v2 = good.clone();
    v2[4] = 2;
    assert_eq!(store::decode(&v2), Err(ChatError::UnsupportedVersion(2)));
    let mut huge = good[..5].to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(store::decode(&huge), Err(ChatError::Full));
}
