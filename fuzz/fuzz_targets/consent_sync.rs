#![no_main]
//! Arbitrary app-data bytes into the consent sync: the decoder never panics and whatever
//! decodes re-encodes to the same bytes; and the same bytes, cut into messages, fed to both
//! sides of a synced link (`PatientSync`, `ReplicaSync`) never panic them, never change the
//! patient's ledger, and never make the replica hold anything but a prefix of it.
use libfuzzer_sys::fuzz_target;
use teleconsult::consent::*;

const T0: u64 = 1_700_000_000_000;
const TEXT: &[u8] = b"notice";

/// A patient with one grant and a replica in step with it, over link 0.
fn synced() -> (PatientSync<MemoryStore>, ReplicaSync) {
    let clinician = [2; 32];
    let mut m = ConsentManager::open(&[1; 32], [3; 16], MemoryStore::default())
        .expect("a new in-memory ledger always opens");
    m.expect_clinician(ConsentKey::from_seed(&clinician).public_key());
    let grant = Grant {
        patient: "p".into(),
        recipient: Recipient {
            kind: RecipientKind::Practitioner,
            id: "dr".into(),
        },
        purposes: vec![Purpose::Treatment],
        categories: vec![DataCategory::Video],
        period: Period {
            start: T0,
            end: None,
        },
        notice: Notice::for_text("https://n.example", "1", "en", TEXT),
        collection: Collection::PatientAction,
    };
    m.grant(grant, TEXT, T0).expect("a valid grant is recorded");
    let mut patient = PatientSync::new(m);
    let mut replica = ReplicaSync::new(&clinician, None, None);
    patient.add_link(0, T0);
    replica.add_link(0, T0);
    // An honest network: carry messages until both sides are quiet.
    for _ in 0..8 {
        while let Some(o) = patient.poll_output() {
            if let LinkOutput::Transmit { link, bytes } = o {
                let _ = replica.handle_data(link, &bytes, T0);
            }
        }
        while let Some(o) = replica.poll_output() {
            if let LinkOutput::Transmit { link, bytes } = o {
                let _ = patient.handle_data(link, &bytes, T0);
            }
        }
    }
    (patient, replica)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = SyncMessage::decode(data) {
        assert!(SyncMessage::is_consent(data));
        assert_eq!(m.encode(), data);
    }
    let (mut patient, mut replica) = synced();
    let ledger = patient.manager().export();
    let mut rest = data;
    let mut now = T0;
    // Each message: one byte (low bit: which side; the rest: length), then the bytes.
    while let Some((&head, tail)) = rest.split_first() {
        let len = usize::from(head >> 1).min(tail.len());
        let (msg, tail) = tail.split_at(len);
        rest = tail;
        now += 1;
        let before = replica.replica().map(|r| r.ledger().encode());
        if head & 1 == 0 {
            let _ = patient.handle_data(0, msg, now);
        } else if replica.handle_data(0, msg, now).is_err() {
            assert_eq!(replica.replica().map(|r| r.ledger().encode()), before);
        }
        while patient.poll_output().is_some() {}
        while replica.poll_output().is_some() {}
        patient.handle_timeout(now);
        replica.handle_timeout(now);
    }
    assert_eq!(patient.manager().export(), ledger);
    let held = replica.replica().map_or(0, |r| r.ledger().size());
    let p = patient.manager().ledger();
    assert!(held <= p.size());
    for seq in 0..held {
        assert_eq!(
            replica.replica().and_then(|r| r.ledger().entry_bytes(seq)),
            p.entry_bytes(seq)
        );
    }
});
