#![no_main]
//! Arbitrary app-data bytes into the reading receiver and sender (`devices::delivery`), as a
//! hostile participant would send them: no panic; a refused message changes nothing; an
//! accepted one is acknowledged, its reading rebuilds from its raw record to itself, and a
//! second copy is acknowledged but never handed on again; whatever decodes re-encodes to a
//! message that decodes the same.
use libfuzzer_sys::fuzz_target;
use teleconsult::devices::delivery::{
    ReadingReceiver, ReadingSender, ReceiverOutput, SenderConfig,
};
use teleconsult::devices::wire::{self, Message};

fuzz_target!(|data: &[u8]| {
    match wire::decode(data) {
        Ok(Message::Reading { id: Some(id), raw }) => {
            let again = wire::encode_reading(&id, &raw);
            assert_eq!(
                wire::decode(&again),
                Ok(Message::Reading { id: Some(id), raw })
            );
        }
        Ok(Message::Ack { id }) => {
            assert_eq!(wire::decode(&wire::encode_ack(&id)), Ok(Message::Ack { id }));
        }
        _ => {}
    }

    let mut receiver = ReadingReceiver::new();
    match receiver.handle_data("peer", data) {
        Err(_) => assert_eq!(receiver.poll_output(), None),
        Ok(()) => {
            let Some(ReceiverOutput::Transmit { to, bytes }) = receiver.poll_output() else {
                panic!("an accepted reading is acknowledged first");
            };
            assert_eq!(to, "peer");
            let Some(ReceiverOutput::Reading { reading, raw, .. }) = receiver.poll_output() else {
                panic!("a fresh reading is handed on");
            };
            assert_eq!(raw.capture().as_ref(), Ok(&*reading));
            assert!(matches!(wire::decode(&bytes), Ok(Message::Ack { id }) if id == reading.id));
            assert_eq!(receiver.handle_data("peer", data), Ok(()));
            assert!(matches!(receiver.poll_output(), Some(ReceiverOutput::Transmit { .. })));
            assert_eq!(receiver.poll_output(), None, "shown once");
        }
    }

    let mut sender = ReadingSender::new("peer".into(), SenderConfig::default());
    assert!(!sender.handle_data("peer", data));
    assert_eq!(sender.poll_event(), None);
});
