//! Properties: decoding never panics; whatever the network loses, a resumed transfer ends
//! with exactly the sent bytes or nothing; a changed byte never yields a held file.

use proptest::prelude::*;

use crate::*;
use teleconsult::files::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoding_any_bytes_never_panics(kind in 0u8..7, rest in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = vec![TAG_FILES, VERSION, kind];
        bytes.extend_from_slice(&rest);
        if let Ok(f) = Frame::decode(&bytes) {
            prop_assert_eq!(Frame::decode(&f.encode()), Ok(f));
        }
        let _ = Frame::decode(&rest);
        let mut dr = Transfers::new(DR, Role::Clinician);
        let _ = dr.receive(peer(PT, Role::Patient), &bytes, &yes(), T0);
        prop_assert!(dr.held_bytes() <= MAX_HELD_BYTES);
    }

    /// Frames of the patient are lost at random (never the re-offer of a resume); after
    /// each round the sender resumes. The clinician ends with the exact bytes, once.
    #[test]
    fn losses_and_resumes_end_with_the_exact_file_once(
        len in 1usize..(CHUNK_LEN * 20),
        lost in proptest::collection::vec(any::<bool>(), 0..80),
    ) {
        let data = jpeg(len.max(4));
        let (mut pt, mut dr) = offered(data.clone());
        let mut k = 0;
        for _ in 0..200 {
            let lose = &lost;
            pump(&mut pt, &mut dr, |_, f| {
                k += 1;
                // The re-offer always arrives (the receiver answers it where it stands).
                matches!(Frame::decode(f), Ok(Frame::Offer { .. })) || !lose.get(k).copied().unwrap_or(false)
            });
            if dr.held(PT, ID).is_some() && pt.files().len() == 1 {
                break;
            }
            pt.resume(DR, T0);
        }
        prop_assert_eq!(&dr.held(PT, ID).unwrap().data, &data);
        prop_assert_eq!(dr.files().len(), 1);
        prop_assert_eq!(pt.files().len(), 1);
    }

    /// One byte of one chunk is changed in flight: the file is never held with other bytes.
    #[test]
    fn a_changed_byte_never_yields_a_held_file(
        len in 4usize..(CHUNK_LEN * 4),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let data = jpeg(len);
        let (mut pt, mut dr) = offered(data.clone());
        let at = at.index(len);
        let p = pump(&mut pt, &mut dr, |_, _| true);
        prop_assert_eq!(&dr.held(PT, ID).unwrap().data, &data);
        // Replay the same transfer under a new id with a byte changed in flight.
        let id = TransferId(77);
        let mut frames = p.from_pt;
        for f in &mut frames {
            f[3..11].copy_from_slice(&id.0.to_be_bytes());
        }
        let chunk = at / CHUNK_LEN + 1;
        let pos = 3 + 8 + 4 + at % CHUNK_LEN;
        frames[chunk][pos] ^= flip;
        let mut dr = Transfers::new(DR, Role::Clinician);
        for f in &frames {
            let _ = dr.receive(peer(PT, Role::Patient), f, &yes(), T0);
        }
        prop_assert!(dr.held(PT, id).is_none());
        prop_assert_eq!(dr.held_bytes(), 0);
    }
}
