//! The chat frames: every frame round-trips, malformed bytes are typed errors, and the
//! decoder never panics on arbitrary bytes.

use proptest::prelude::*;
use teleconsult::chat::*;
use teleconsult::consent::{RecordingSignal, SyncMessage};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};

fn frames() -> Vec<Frame> {
    vec![
        Frame::Message {
            seq: 1,
            sent_at: 0,
            text: "hello".into(),
        },
        Frame::Message {
            seq: u64::MAX,
            sent_at: MAX_TIME,
            text: "é\n\tok".into(),
        },
        Frame::Receipt {
            state: ReceiptState::Delivered,
            upto: 7,
        },
        Frame::Receipt {
            state: ReceiptState::Read,
            upto: 1,
        },
        Frame::Typing { active: true },
        Frame::Typing { active: false },
        Frame::History {
            author: ParticipantId([9; 8]),
            role: Role::Guest,
            seq: 3,
            sent_at: 5,
            text: "x".repeat(MAX_TEXT_LEN),
        },
    ]
}

#[test]
fn every_frame_round_trips_and_is_neither_consent_nor_recording() {
    for f in frames() {
        let bytes = f.encode();
        assert!(bytes.len() <= MAX_FRAME_LEN);
        assert!(Frame::is_chat(&bytes));
        assert!(!SyncMessage::is_consent(&bytes));
        assert!(!RecordingSignal::is_recording(&bytes));
        assert_eq!(Frame::decode(&bytes), Ok(f));
    }
    // Never the first byte of a JSON text (app data) either.
    assert!(core::str::from_utf8(&[TAG_CHAT, b'{']).is_err());
}

#[test]
fn malformed_frames_are_typed_errors() {
    let msg = Frame::Message {
        seq: 1,
        sent_at: 2,
        text: "hi".into(),
    }
    .encode();
    let mut trailing = msg.clone();
    trailing.push(0);
    let mut bad_utf8 = msg.clone();
    *bad_utf8.last_mut().unwrap() = 0xFF;
    let mut seq0 = msg.clone();
    seq0[3..11].copy_from_slice(&0u64.to_be_bytes());
    let mut future = msg.clone();
    future[11..19].copy_from_slice(&(MAX_TIME + 1).to_be_bytes());
    let mut control = msg.clone();
    *control.last_mut().unwrap() = 0x07;
    let empty = [
        TAG_CHAT, VERSION, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let cases: Vec<(Vec<u8>, ChatError)> = vec![
        (vec![], ChatError::Malformed("chat frame: truncated")),
        (vec![b'{'], ChatError::Malformed("not a chat frame")),
        (vec![TAG_CHAT, 2, 1], ChatError::UnsupportedVersion(2)),
        (
            vec![TAG_CHAT, VERSION, 9],
            ChatError::Malformed("chat frame: unknown kind"),
        ),
        (
            msg[..msg.len() - 1].to_vec(),
            ChatError::Malformed("chat frame: truncated"),
        ),
        (trailing, ChatError::Malformed("chat frame: trailing bytes")),
        (bad_utf8, ChatError::Malformed("chat text: not UTF-8")),
        (seq0, ChatError::Malformed("chat frame: sequence number 0")),
        (future, ChatError::Malformed("chat frame: time after 9999")),
        (
            control,
            ChatError::Malformed("chat text: control character"),
        ),
        (empty.to_vec(), ChatError::Empty),
        (
            vec![TAG_CHAT, VERSION, 2, 3, 0, 0, 0, 0, 0, 0, 0, 1],
            ChatError::Malformed("chat receipt: unknown state"),
        ),
        (
            vec![TAG_CHAT, VERSION, 3, 2],
            ChatError::Malformed("chat typing: not a flag"),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(Frame::decode(&bytes), Err(want), "{bytes:?}");
    }
}

#[test]
fn an_oversized_text_is_refused_by_its_length_before_it_is_read() {
    let mut f = vec![TAG_CHAT, VERSION, 1];
    f.extend_from_slice(&1u64.to_be_bytes());
    f.extend_from_slice(&1u64.to_be_bytes());
    f.extend_from_slice(&((MAX_TEXT_LEN + 1) as u16).to_be_bytes());
    assert_eq!(Frame::decode(&f), Err(ChatError::TooLarge));
    assert_eq!(
        Frame::decode(&vec![TAG_CHAT; MAX_FRAME_LEN + 1]),
        Err(ChatError::TooLarge)
    );
}

proptest! {
    #[test]
    fn the_decoder_never_panics_and_accepts_only_what_re_encodes_to_the_same_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        prefix in 0usize..4,
    ) {
        // Arbitrary bytes, and arbitrary bytes behind a valid tag, version and kind.
        let headed: Vec<u8> = [&[TAG_CHAT, VERSION, (prefix % 5) as u8][..], &bytes].concat();
        for b in [&bytes, &headed] {
            if let Ok(f) = Frame::decode(b) {
                prop_assert_eq!(&f.encode(), b);
            }
        }
    }

    #[test]
    fn any_text_within_the_rules_round_trips(text in "[^\\p{Cc}]{1,200}", seq in 1u64.., at in 0..=MAX_TIME) {
        let f = Frame::Message { seq, sent_at: at, text };
        prop_assert_eq!(Frame::decode(&f.encode()), Ok(f));
    }
}
