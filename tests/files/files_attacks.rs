//! The attacks on file sharing, each named after what it tries. Every one is refused with a
//! typed error; a refusal that ends a transfer leaves no partial file and tells the sender;
//! other transfers and the files held are untouched.

use sha2::{Digest, Sha256};

use crate::*;
use teleconsult::consent::Reason;
use teleconsult::files::*;

fn offer_frame(id: TransferId, file_type: FileType, data: &[u8]) -> Vec<u8> {
    Frame::Offer {
        id,
        offer: Offer {
            file_type,
            size: data.len() as u32,
            sha256: Sha256::digest(data).into(),
            sent_at: T0,
            name: "x.jpg".into(),
        },
    }
    .encode()
}

fn chunks(id: TransferId, data: &[u8]) -> Vec<Vec<u8>> {
    data.chunks(CHUNK_LEN)
        .enumerate()
        .map(|(i, c)| {
            Frame::Chunk {
                id,
                index: i as u32,
                data: c.to_vec(),
            }
            .encode()
        })
        .collect()
}

fn from_pt(dr: &mut Transfers, f: &[u8]) -> Result<FileEvent, FileError> {
    dr.receive(peer(PT, Role::Patient), f, &yes(), T0)
}

/// A clinician holding one file from the patient (to check nothing held is touched).
fn holding() -> Transfers {
    let (mut pt, mut dr) = offered(jpeg(CHUNK_LEN + 5));
    pump(&mut pt, &mut dr, |_, _| true);
    assert_eq!(dr.files().len(), 1);
    dr
}

/// The transfer ended: nothing of it is held or going, and the sender was told why.
fn assert_dropped_with(dr: &mut Transfers, id: TransferId, reason: CancelReason) {
    assert!(dr.held(PT, id).is_none());
    assert_eq!(dr.active(), 0);
    assert_eq!(dr.files().len(), 1, "the file held before is still there");
    let sent = drain(dr);
    assert!(
        sent.iter()
            .any(|(to, f)| *to == PT && Frame::decode(f) == Ok(Frame::Cancel { id, reason })),
        "the sender is told: {reason:?}"
    );
}

#[test]
fn oversized_file_is_refused_by_the_sender_and_the_receiver() {
    let mut pt = Transfers::new(PT, Role::Patient);
    assert_eq!(
        pt.send(
            DR,
            ID,
            "big.jpg",
            "image/jpeg",
            jpeg(MAX_FILE_LEN + 1),
            &yes(),
            T0
        ),
        Err(FileError::TooLarge)
    );
    assert!(pt.poll_transmit().is_none());
    // A hostile sender lies in the offer: refused before a byte is kept.
    let mut f = offer_frame(ID, FileType::Jpeg, &jpeg(10));
    f[12..16].copy_from_slice(&(MAX_FILE_LEN as u32 + 1).to_be_bytes());
    let mut dr = holding();
    assert_eq!(from_pt(&mut dr, &f), Err(FileError::TooLarge));
    assert_eq!(dr.active(), 0);
}

#[test]
fn chunks_beyond_the_declared_size_end_the_transfer() {
    let mut dr = holding();
    let data = jpeg(100);
    let id = TransferId(2);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)).unwrap();
    let mut longer = data.clone();
    longer.push(0);
    let f = Frame::Chunk {
        id,
        index: 0,
        data: longer,
    }
    .encode();
    assert_eq!(from_pt(&mut dr, &f), Err(FileError::TooLarge));
    assert_dropped_with(&mut dr, id, CancelReason::TooLarge);
}

#[test]
fn a_type_off_the_allow_list_is_refused() {
    let mut pt = Transfers::new(PT, Role::Patient);
    for mime in [
        "image/svg+xml",
        "text/html",
        "application/x-msdownload",
        "image/gif",
    ] {
        assert_eq!(
            pt.send(DR, ID, "x", mime, jpeg(100), &yes(), T0),
            Err(FileError::TypeNotAllowed),
            "{mime}"
        );
    }
    // Declared a JPEG, but an executable inside: refused on both sides.
    let exe = [&b"MZ\x90\0"[..], &[0; 200]].concat();
    assert_eq!(
        pt.send(DR, ID, "x.jpg", "image/jpeg", exe.clone(), &yes(), T0),
        Err(FileError::TypeNotAllowed)
    );
    assert!(pt.poll_transmit().is_none());
    let mut dr = holding();
    let id = TransferId(3);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &exe)).unwrap();
    assert_eq!(
        from_pt(&mut dr, &chunks(id, &exe)[0]),
        Err(FileError::TypeNotAllowed)
    );
    assert_dropped_with(&mut dr, id, CancelReason::TypeNotAllowed);
}

#[test]
fn a_truncated_transfer_leaves_no_partial_file() {
    let mut dr = holding();
    let data = jpeg(CHUNK_LEN * 3);
    let id = TransferId(4);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)).unwrap();
    let c = chunks(id, &data);
    from_pt(&mut dr, &c[0]).unwrap();
    // The second chunk is cut short (the sender stopped mid-chunk).
    let short = Frame::Chunk {
        id,
        index: 1,
        data: data[CHUNK_LEN..CHUNK_LEN + 100].to_vec(),
    }
    .encode();
    assert_eq!(from_pt(&mut dr, &short), Err(FileError::Truncated));
    assert_dropped_with(&mut dr, id, CancelReason::Truncated);
    // The rest arriving afterwards rebuilds nothing.
    assert_eq!(from_pt(&mut dr, &c[2]), Err(FileError::Replayed));
    assert_eq!(dr.files().len(), 1);
}

#[test]
fn a_file_with_the_wrong_hash_is_dropped() {
    let mut dr = holding();
    let data = jpeg(CHUNK_LEN * 2 + 7);
    let id = TransferId(5);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)).unwrap();
    let mut tampered = data.clone();
    tampered[CHUNK_LEN + 3] ^= 1;
    let c = chunks(id, &tampered);
    assert!(from_pt(&mut dr, &c[0]).is_ok());
    assert!(from_pt(&mut dr, &c[1]).is_ok());
    assert_eq!(from_pt(&mut dr, &c[2]), Err(FileError::HashMismatch));
    assert_dropped_with(&mut dr, id, CancelReason::HashMismatch);
    // Sent again under the same id, the right bytes are refused too: the id is spent.
    assert_eq!(
        from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)),
        Err(FileError::Replayed)
    );
}

#[test]
fn replayed_and_duplicated_chunks_are_refused_without_effect() {
    let mut dr = holding();
    let data = jpeg(CHUNK_LEN * 3);
    let id = TransferId(6);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)).unwrap();
    let c = chunks(id, &data);
    from_pt(&mut dr, &c[0]).unwrap();
    assert_eq!(from_pt(&mut dr, &c[0]), Err(FileError::Replayed));
    // A chunk from further on (a gap) is refused, and does not count.
    assert_eq!(
        from_pt(&mut dr, &c[2]),
        Err(FileError::Malformed("file chunk: out of order"))
    );
    from_pt(&mut dr, &c[1]).unwrap();
    assert!(matches!(
        from_pt(&mut dr, &c[2]),
        Ok(FileEvent::Received { .. })
    ));
    assert_eq!(dr.held(PT, id).unwrap().data, data);
    // Replaying the whole transfer afterwards makes no second file.
    assert_eq!(
        from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)),
        Err(FileError::Replayed)
    );
    for f in &c {
        assert_eq!(from_pt(&mut dr, f), Err(FileError::Replayed));
    }
    assert_eq!(dr.files().len(), 2);
    // A second offer under an id in use, for other bytes, does not replace the first.
    let id = TransferId(7);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)).unwrap();
    assert_eq!(
        from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &jpeg(99))),
        Err(FileError::Replayed)
    );
}

#[test]
fn frames_from_a_participant_not_admitted_are_refused() {
    let mut dr = holding();
    let data = jpeg(100);
    let waiting = Peer {
        id: MALLORY,
        role: Role::Guest,
        in_call: false,
    };
    let offer = offer_frame(ID, FileType::Jpeg, &data);
    assert_eq!(
        dr.receive(waiting, &offer, &yes(), T0),
        Err(FileError::NotAdmitted)
    );
    assert_eq!(
        dr.receive(waiting, &chunks(ID, &data)[0], &yes(), T0),
        Err(FileError::NotAdmitted)
    );
    assert_eq!(dr.active(), 0);
    assert!(dr.poll_transmit().is_none());
    // This side's own id (a reflected frame) is refused too.
    assert_eq!(
        dr.receive(peer(DR, Role::Clinician), &offer, &yes(), T0),
        Err(FileError::NotPermitted)
    );
}

#[test]
fn another_participant_cannot_inject_chunks_into_a_transfer() {
    let mut dr = holding();
    let data = jpeg(CHUNK_LEN * 2);
    let id = TransferId(8);
    from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &data)).unwrap();
    // The guest (admitted) sends a chunk under the patient's transfer id.
    let forged = Frame::Chunk {
        id,
        index: 0,
        data: jpeg(CHUNK_LEN),
    }
    .encode();
    assert_eq!(
        dr.receive(peer(GUEST, Role::Guest), &forged, &yes(), T0),
        Err(FileError::UnknownTransfer)
    );
    let cancel = Frame::Cancel {
        id,
        reason: CancelReason::Cancelled,
    }
    .encode();
    assert_eq!(
        dr.receive(peer(GUEST, Role::Guest), &cancel, &yes(), T0),
        Err(FileError::UnknownTransfer)
    );
    for c in chunks(id, &data) {
        from_pt(&mut dr, &c).unwrap();
    }
    assert_eq!(dr.held(PT, id).unwrap().data, data);
}

#[test]
fn a_lying_acknowledgement_or_confirmation_is_refused() {
    let (mut pt, _) = offered(jpeg(CHUNK_LEN * 100));
    drain(&mut pt);
    let from_dr = |pt: &mut Transfers, f: Frame| {
        pt.receive(peer(DR, Role::Clinician), &f.encode(), &yes(), T0)
    };
    // Acknowledging chunks never sent, or confirming a file not all sent.
    assert_eq!(
        from_dr(
            &mut pt,
            Frame::Ack {
                id: ID,
                next: WINDOW + 1
            }
        ),
        Err(FileError::NotPermitted)
    );
    assert_eq!(
        from_dr(&mut pt, Frame::Complete { id: ID }),
        Err(FileError::NotPermitted)
    );
    assert_eq!(pt.files().len(), 0);
    assert!(
        pt.poll_transmit().is_none(),
        "no chunk beyond the window went out"
    );
    from_dr(&mut pt, Frame::Ack { id: ID, next: 16 }).unwrap();
    assert_eq!(
        from_dr(&mut pt, Frame::Ack { id: ID, next: 8 }),
        Err(FileError::Replayed)
    );
}

#[test]
fn a_hostile_sender_cannot_open_unbounded_transfers() {
    let mut dr = Transfers::new(DR, Role::Clinician);
    let big = jpeg(MAX_FILE_LEN);
    let mut accepted = 0;
    for n in 0..50u64 {
        if from_pt(
            &mut dr,
            &offer_frame(TransferId(100 + n), FileType::Jpeg, &big),
        )
        .is_ok()
        {
            accepted += 1;
        } else {
            assert_eq!(
                from_pt(
                    &mut dr,
                    &offer_frame(TransferId(1_000 + n), FileType::Jpeg, &big)
                ),
                Err(FileError::Busy)
            );
        }
    }
    assert_eq!(accepted, MAX_INCOMING_PER_PEER);
    assert!(dr.held_bytes() <= MAX_HELD_BYTES);
    // Offers refused as busy are answered with a cancel, so an honest sender stops.
    assert!(drain(&mut dr).iter().any(|(_, f)| matches!(
        Frame::decode(f),
        Ok(Frame::Cancel {
            reason: CancelReason::Busy,
            ..
        })
    )));
    // Other participants together cannot pass the global cap either.
    for (k, id) in [
        GUEST,
        MALLORY,
        ParticipantId([9; 8]),
        ParticipantId([10; 8]),
    ]
    .into_iter()
    .enumerate()
    {
        for n in 0..3u64 {
            let _ = dr.receive(
                peer(id, Role::Guest),
                &offer_frame(TransferId(k as u64 * 10 + n), FileType::Jpeg, &big),
                &yes(),
                T0,
            );
        }
    }
    assert!(dr.active() <= MAX_TRANSFERS);
    assert!(dr.held_bytes() <= MAX_HELD_BYTES);
}

#[test]
fn held_files_are_bounded_in_bytes() {
    let mut dr = Transfers::new(DR, Role::Clinician);
    let big = jpeg(MAX_FILE_LEN);
    let mut held = 0;
    for n in 0..20u64 {
        let id = TransferId(n);
        if from_pt(&mut dr, &offer_frame(id, FileType::Jpeg, &big)).is_err() {
            break;
        }
        for c in chunks(id, &big) {
            from_pt(&mut dr, &c).unwrap();
        }
        held += 1;
    }
    assert_eq!(held, MAX_HELD_BYTES / MAX_FILE_LEN);
    assert!(dr.held_bytes() <= MAX_HELD_BYTES);
}

#[test]
fn without_consent_nothing_is_sent_or_accepted() {
    let mut pt = Transfers::new(PT, Role::Patient);
    assert_eq!(
        pt.send(
            DR,
            ID,
            "rash.jpg",
            "image/jpeg",
            jpeg(100),
            &no(Reason::NoGrant),
            T0
        ),
        Err(FileError::NotConsented(Reason::NoGrant))
    );
    assert!(pt.poll_transmit().is_none(), "nothing sent");
    assert_eq!(pt.active(), 0);
    let mut dr = holding();
    let id = TransferId(9);
    let f = offer_frame(id, FileType::Jpeg, &jpeg(100));
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &f, &no(Reason::NoGrant), T0),
        Err(FileError::NotConsented(Reason::NoGrant))
    );
    assert_dropped_with(&mut dr, id, CancelReason::NotConsented);
}

#[test]
fn consent_withdrawn_midway_stops_the_transfer_on_both_sides() {
    let data = jpeg(CHUNK_LEN * 40);
    let (mut pt, mut dr) = offered(data.clone());
    let frames = drain(&mut pt);
    for (_, f) in &frames[..6] {
        from_pt(&mut dr, f).unwrap();
    }
    // The clinician's replica learns of the withdrawal: the next chunk is refused, and
    // what arrived is dropped.
    let withdrawn = no(Reason::Withdrawn);
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &frames[6].1, &withdrawn, T0),
        Err(FileError::NotConsented(Reason::Withdrawn))
    );
    assert_eq!((dr.active(), dr.files().len(), dr.held_bytes()), (0, 0, 0));
    // The patient's side stops everything going at once.
    assert_eq!(
        pt.stop_all(CancelReason::NotConsented),
        vec![(DR, ID, Direction::Outgoing)]
    );
    let sent = drain(&mut pt);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        Frame::decode(&sent[0].1),
        Ok(Frame::Cancel {
            id: ID,
            reason: CancelReason::NotConsented
        })
    );
    assert_eq!((pt.active(), pt.files().len()), (0, 0));
    // Chunks still in flight make nothing, even with consent back.
    for (_, f) in &frames[7..] {
        assert!(from_pt(&mut dr, f).is_err());
    }
    assert_eq!(dr.files().len(), 0);
}
