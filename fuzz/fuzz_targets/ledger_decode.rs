#![no_main]
//! Arbitrary bytes into every consent decoder and verifier: no panic; whatever decodes
//! re-encodes to the same bytes; a replica never accepts an entry it cannot verify.
use libfuzzer_sys::fuzz_target;
use teleconsult::consent::{
    Checkpoint, ConsentKey, Entry, Ledger, LedgerReplica, decode_ledger, verify_exported,
};

fuzz_target!(|data: &[u8]| {
    // The key of the docs/CONSENT.md vectors, so seeds from them verify all the way.
    let patient = ConsentKey::from_seed(&core::array::from_fn(|i| i as u8)).public_key();
    if let Ok(e) = Entry::decode(data) {
        assert_eq!(e.encode(), data);
        let mut replica = LedgerReplica::new([0; 16], &patient, ConsentKey::from_seed(&[2; 32]))
            .expect("valid fixed key");
        // Accepting would need a valid patient signature, which random bytes never carry.
        assert!(replica.receive(data, e.time).is_err());
    }
    if let Ok(c) = Checkpoint::decode(data) {
        assert_eq!(c.encode(), data);
        let _ = c.verify(&patient);
    }
    if let Ok((id, entries)) = decode_ledger(data) {
        assert_eq!(
            teleconsult::consent::encode_ledger(&id, entries.iter().copied()),
            data
        );
    }
    if let Ok(l) = Ledger::decode(data, &patient) {
        assert_eq!(l.encode(), data);
    }
    let _ = verify_exported(data, &patient, None);
});
