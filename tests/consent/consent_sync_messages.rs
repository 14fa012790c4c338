//! The consent sync envelope (`SyncMessage`): hostile bytes never panic the decoder, every
//! accepted message re-encodes to the same bytes, and nothing that is not a consent
//! message (such as the JSON device readings sharing the channel) is taken for one.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use proptest::prelude::*;
use teleconsult::consent::*;

proptest! {
    #[test]
    fn arbitrary_bytes_decode_canonically_or_fail_typed(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(m) = SyncMessage::decode(&bytes) {
            prop_assert!(SyncMessage::is_consent(&bytes));
            prop_assert_eq!(m.encode(), bytes);
        }
    }

    #[test]
    fn tagged_bytes_with_plausible_lengths_never_panic(tag in 0xC0u8..=0xC4, body in proptest::collection::vec(any::<u8>(), 150..170)) {
        let bytes = [vec![tag], body].concat();
        let _ = SyncMessage::decode(&bytes);
    }

    #[test]
    fn json_text_is_never_a_consent_message(text in "[ \\t\\r\\n]*[\\[{\"0-9tfn-][ -~]{0,40}") {
        prop_assert!(!SyncMessage::is_consent(text.as_bytes()));
    }
}

#[test]
fn a_replica_checkpoint_travels_in_a_status_message() {
    let patient = ConsentKey::from_seed(&[1; 32]);
    let clinician = ConsentKey::from_seed(&[2; 32]);
    let replica = LedgerReplica::new([7; 16], &patient.public_key(), clinician).unwrap();
    let msg = SyncMessage::Status {
        checkpoint: replica.checkpoint(1_700_000_000_000),
        clinician: replica.clinician_public_key(),
    };
    let bytes = msg.encode();
    assert_eq!(bytes[0], TAG_STATUS);
    assert_eq!(bytes.len(), 1 + CHECKPOINT_LEN + 32);
    let SyncMessage::Status {
        checkpoint,
        clinician: key,
    } = SyncMessage::decode(&bytes).unwrap()
    else {
        panic!("a status message decodes as one");
    };
    checkpoint.verify(&key).unwrap();
    assert_eq!((checkpoint.size, checkpoint.time), (0, 1_700_000_000_000));
}
