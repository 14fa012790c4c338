//! Transfers that go right: a 10 MiB photo and a document arrive whole and checked, with
//! progress both ways; either side may cancel midway, leaving no partial file.

use sha2::{Digest, Sha256};

use crate::*;
use teleconsult::files::*;

#[test]
fn a_ten_mib_photo_arrives_whole_with_progress_and_both_sides_hold_it() {
    let data = jpeg(MAX_FILE_LEN);
    let (mut pt, mut dr) = offered(data.clone());
    let p = pump(&mut pt, &mut dr, |_, _| true);

    // The clinician: offered, then progress up to the size, then received.
    let events: Vec<FileEvent> = p.at_dr.into_iter().map(Result::unwrap).collect();
    let FileEvent::Offered { offer, .. } = &events[0] else {
        panic!("{:?}", events[0])
    };
    assert_eq!(
        (offer.name.as_str(), offer.file_type, offer.size),
        ("rash.jpg", FileType::Jpeg, MAX_FILE_LEN as u32)
    );
    assert_eq!(offer.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    let progress: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            FileEvent::Progress {
                bytes,
                total,
                direction: Direction::Incoming,
                ..
            } => {
                assert_eq!(*total, MAX_FILE_LEN as u32);
                Some(*bytes)
            }
            _ => None,
        })
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] < w[1]),
        "progress only grows"
    );
    assert_eq!(
        events.last(),
        Some(&FileEvent::Received { peer: PT, id: ID })
    );
    assert_eq!(dr.held(PT, ID).unwrap().data, data);
    assert_eq!(dr.files().len(), 1);

    // The patient: acknowledged progress, then delivered; it holds its copy for the record.
    let events: Vec<FileEvent> = p.at_pt.into_iter().map(Result::unwrap).collect();
    assert!(events.iter().any(|e| matches!(
        e,
        FileEvent::Progress {
            direction: Direction::Outgoing,
            ..
        }
    )));
    assert_eq!(
        events.last(),
        Some(&FileEvent::Delivered { peer: DR, id: ID })
    );
    assert_eq!(pt.files()[0].data, data);
    assert_eq!((pt.active(), dr.active()), (0, 0));

    // Every chunk went once: 640 chunks and the offer.
    let chunks = MAX_FILE_LEN / CHUNK_LEN;
    assert_eq!(p.from_pt.len(), chunks + 1);
}

#[test]
fn the_sender_never_runs_more_than_a_window_ahead() {
    let (mut pt, _) = offered(jpeg(CHUNK_LEN * 100));
    // Offer + WINDOW chunks, then nothing until an acknowledgement.
    assert_eq!(drain(&mut pt).len(), 1 + WINDOW as usize);
    assert!(pt.poll_transmit().is_none());
    let ack = Frame::Ack {
        id: ID,
        next: ACK_EVERY,
    }
    .encode();
    pt.receive(peer(DR, Role::Clinician), &ack, &yes(), T0)
        .unwrap();
    assert_eq!(drain(&mut pt).len(), ACK_EVERY as usize);
}

#[test]
fn a_document_from_the_clinician_reaches_the_patient() {
    let mut dr = Transfers::new(DR, Role::Clinician);
    let mut pt = Transfers::new(PT, Role::Patient);
    let doc = pdf(70_000);
    dr.send(
        PT,
        ID,
        "lab results.pdf",
        "application/pdf",
        doc.clone(),
        &yes(),
        T0,
    )
    .unwrap();
    loop {
        let a = drain(&mut dr);
        for (_, f) in &a {
            pt.receive(peer(DR, Role::Clinician), f, &yes(), T0)
                .unwrap();
        }
        let b = drain(&mut pt);
        for (_, f) in &b {
            dr.receive(peer(PT, Role::Patient), f, &yes(), T0).unwrap();
        }
        if a.is_empty() && b.is_empty() {
            break;
        }
    }
    let f = pt.held(DR, ID).unwrap();
    assert_eq!(
        (f.data.as_slice(), f.role, f.offer.file_type),
        (doc.as_slice(), Role::Clinician, FileType::Pdf)
    );
}

#[test]
fn the_sender_cancels_midway_and_the_receiver_keeps_nothing() {
    let (mut pt, mut dr) = offered(jpeg(CHUNK_LEN * 50));
    // Half the window arrives, then the patient cancels.
    let frames = drain(&mut pt);
    for (_, f) in &frames[..10] {
        dr.receive(peer(PT, Role::Patient), f, &yes(), T0).unwrap();
    }
    assert_eq!(pt.cancel(DR, ID), Ok(Direction::Outgoing));
    let cancel = drain(&mut pt).pop().unwrap().1;
    assert_eq!(
        dr.receive(peer(PT, Role::Patient), &cancel, &yes(), T0),
        Ok(FileEvent::Cancelled {
            peer: PT,
            id: ID,
            direction: Direction::Incoming,
            reason: CancelReason::Cancelled
        })
    );
    assert_eq!((dr.active(), dr.files().len(), dr.held_bytes()), (0, 0, 0));
    // Chunks still in flight find no transfer: nothing is rebuilt from them.
    for (_, f) in &frames[10..] {
        assert_eq!(
            dr.receive(peer(PT, Role::Patient), f, &yes(), T0),
            Err(FileError::Replayed)
        );
    }
    assert_eq!((dr.active(), dr.files().len()), (0, 0));
    // And the sender's side has nothing going nor held.
    assert_eq!((pt.active(), pt.files().len()), (0, 0));
}

#[test]
fn the_receiver_cancels_midway_and_the_sender_stops() {
    let (mut pt, mut dr) = offered(jpeg(CHUNK_LEN * 50));
    for (_, f) in drain(&mut pt).iter().take(5) {
        dr.receive(peer(PT, Role::Patient), f, &yes(), T0).unwrap();
    }
    assert_eq!(dr.cancel(PT, ID), Ok(Direction::Incoming));
    assert_eq!(dr.held_bytes(), 0);
    let (_, cancel) = drain(&mut dr).pop().unwrap();
    assert!(matches!(
        pt.receive(peer(DR, Role::Clinician), &cancel, &yes(), T0),
        Ok(FileEvent::Cancelled {
            direction: Direction::Outgoing,
            reason: CancelReason::Cancelled,
            ..
        })
    ));
    assert_eq!(pt.active(), 0);
    // An acknowledgement arriving late changes nothing.
    let ack = Frame::Ack { id: ID, next: 8 }.encode();
    assert_eq!(
        pt.receive(peer(DR, Role::Clinician), &ack, &yes(), T0),
        Err(FileError::Replayed)
    );
    assert!(pt.poll_transmit().is_none());
}

#[test]
fn a_peer_leaving_ends_its_transfers_without_a_partial_file() {
    let (mut pt, mut dr) = offered(jpeg(CHUNK_LEN * 50));
    for (_, f) in drain(&mut pt).iter().take(20) {
        dr.receive(peer(PT, Role::Patient), f, &yes(), T0).unwrap();
    }
    assert_eq!(dr.peer_left(PT), vec![(ID, Direction::Incoming)]);
    assert_eq!((dr.active(), dr.files().len(), dr.held_bytes()), (0, 0, 0));
    assert_eq!(pt.peer_left(DR), vec![(ID, Direction::Outgoing)]);
    assert!(
        pt.poll_transmit().is_none(),
        "nothing queued for a peer who left"
    );
}

#[test]
fn a_lost_stretch_resumes_from_the_last_acknowledged_chunk() {
    let chunks = 100usize;
    let data = jpeg(CHUNK_LEN * chunks - 123);
    let (mut pt, mut dr) = offered(data.clone());
    // Frames 13 to 20 (chunks 12 to 19) are lost (the peer's session restarted, the relay lost its queue).
    let p = pump(&mut pt, &mut dr, |n, _| !(13..=20).contains(&n));
    assert!(dr.held(PT, ID).is_none(), "stalled: a gap");
    assert!(
        p.at_dr
            .contains(&Err(FileError::Malformed("file chunk: out of order")))
    );
    // The receiver acknowledged up to chunk 8 (every ACK_EVERY chunks), the last one it has
    // in order is 11: the sender resumes from 8, and the receiver tells it where it stands.
    pt.resume(DR, T0);
    let p = pump(&mut pt, &mut dr, |_, _| true);
    assert!(
        matches!(p.at_dr[0], Ok(FileEvent::Resumed { bytes, .. }) if bytes == 12 * CHUNK_LEN as u32)
    );
    assert_eq!(dr.held(PT, ID).unwrap().data, data);
    assert_eq!(pt.files().len(), 1);
    // Resent: the re-offer and the chunks from the last acknowledgement (8) on, not from 0.
    let resent_chunks = p.from_pt.len() - 1;
    assert!(
        resent_chunks <= chunks - ACK_EVERY as usize,
        "{resent_chunks}"
    );
}

#[test]
fn resuming_after_the_receivers_confirmation_was_lost_completes_once() {
    let data = jpeg(CHUNK_LEN * 3);
    let (mut pt, mut dr) = offered(data);
    for (_, f) in drain(&mut pt) {
        dr.receive(peer(PT, Role::Patient), &f, &yes(), T0).unwrap();
    }
    drain(&mut dr); // the ack and the completion are lost
    pt.resume(DR, T0);
    let p = pump(&mut pt, &mut dr, |_, _| true);
    assert_eq!(p.at_dr[0], Err(FileError::Replayed), "no second file");
    assert!(
        p.at_pt
            .contains(&Ok(FileEvent::Delivered { peer: DR, id: ID }))
    );
    assert_eq!((dr.files().len(), pt.files().len()), (1, 1));
}

#[test]
fn a_paced_sender_stays_below_the_relays_byte_rate_and_still_completes() {
    // The relay closes a connection above 2 MiB/s sustained (4 MiB burst): a browser sends
    // chunks at DEFAULT_RATE, in simulated time driven by poll_timeout / handle_timeout.
    let (rate, burst) = DEFAULT_RATE;
    const { assert!(DEFAULT_RATE.0 < 2 * 1024 * 1024 && DEFAULT_RATE.1 < 4 * 1024 * 1024) };
    let data = jpeg(MAX_FILE_LEN);
    let mut pt = Transfers::new(PT, Role::Patient);
    let mut dr = Transfers::new(DR, Role::Clinician);
    let t0 = T0;
    pt.set_rate(rate, burst, t0);
    pt.send(DR, ID, "big.jpg", "image/jpeg", data.clone(), &yes(), t0)
        .unwrap();
    let mut now = t0;
    let mut sent_bytes: u64 = 0;
    while pt.files().is_empty() {
        // Frames both ways until neither side has anything to send at this instant.
        loop {
            let mut moved = false;
            while let Some((_, f)) = pt.poll_transmit() {
                moved = true;
                if let Ok(Frame::Chunk { data, .. }) = Frame::decode(&f) {
                    sent_bytes += data.len() as u64;
                    // Never more than the burst plus the rate since the start.
                    assert!(
                        sent_bytes <= burst + rate * (now - t0) / 1_000,
                        "{sent_bytes} bytes at +{} ms",
                        now - t0
                    );
                }
                dr.receive(peer(PT, Role::Patient), &f, &yes(), now)
                    .unwrap();
            }
            while let Some((_, f)) = dr.poll_transmit() {
                moved = true;
                pt.receive(peer(DR, Role::Clinician), &f, &yes(), now)
                    .unwrap();
            }
            if !moved {
                break;
            }
        }
        if !pt.files().is_empty() {
            break;
        }
        let at = pt
            .poll_timeout()
            .unwrap_or_else(|| panic!("no deadline at +{} ms after {sent_bytes} bytes", now - t0));
        assert!(at > now, "the deadline is in the future");
        now = at;
        pt.handle_timeout(now);
    }
    assert_eq!(dr.held(PT, ID).unwrap().data, data);
    let ms = now - t0;
    let expected = (MAX_FILE_LEN as u64 - burst) * 1_000 / rate;
    assert!(
        ms + 20 >= expected && ms <= expected + 1_000,
        "{ms} ms for 10 MiB, expected ~{expected}"
    );
    assert_eq!(pt.poll_timeout(), None, "nothing left to pace");
}

#[test]
fn on_a_direct_path_the_pace_no_longer_holds_chunks_back_but_the_window_does() {
    let data = jpeg(4 * 1024 * 1024);
    let mut pt = Transfers::new(PT, Role::Patient);
    let mut dr = Transfers::new(DR, Role::Clinician);
    let chunks = |frames: &[(ParticipantId, Vec<u8>)]| {
        frames
            .iter()
            .filter(|(_, f)| matches!(Frame::decode(f), Ok(Frame::Chunk { .. })))
            .count() as u32
    };
    // Paced for the relay: a burst of two chunks, then the deadline.
    pt.set_rate(CHUNK_LEN as u64, 2 * CHUNK_LEN as u64, T0);
    pt.send(DR, ID, "big.jpg", "image/jpeg", data.clone(), &yes(), T0)
        .unwrap();
    let mut out: Vec<_> = std::iter::from_fn(|| pt.poll_transmit()).collect();
    assert_eq!(chunks(&out), 2);
    assert!(pt.poll_timeout().is_some());
    // The direct path comes up: the window fills at once, and nothing waits for the pace.
    pt.set_direct(DR, true, T0);
    out.extend(std::iter::from_fn(|| pt.poll_transmit()));
    assert_eq!(chunks(&out), WINDOW);
    assert_eq!(pt.poll_timeout(), None);
    // Back on the relay (the channel closed): paced again; the transfer still completes.
    pt.set_direct(DR, false, T0);
    let mut now = T0;
    while dr.held(PT, ID).is_none() {
        for (_, f) in out.drain(..) {
            dr.receive(peer(PT, Role::Patient), &f, &yes(), now)
                .unwrap();
        }
        while let Some((_, f)) = dr.poll_transmit() {
            pt.receive(peer(DR, Role::Clinician), &f, &yes(), now)
                .unwrap();
        }
        out.extend(std::iter::from_fn(|| pt.poll_transmit()));
        if out.is_empty() && dr.held(PT, ID).is_none() {
            now = pt.poll_timeout().expect("paced chunks wait for a deadline");
            pt.handle_timeout(now);
            out.extend(std::iter::from_fn(|| pt.poll_transmit()));
        }
    }
    assert_eq!(dr.held(PT, ID).unwrap().data, data);
    assert!(now > T0, "the relay leg was paced");
}

#[test]
fn transfers_to_one_peer_share_its_window_so_the_session_outbox_never_fills() {
    let mut pt = Transfers::new(PT, Role::Patient);
    pt.set_direct(DR, true, T0);
    let chunks = |frames: &[(ParticipantId, Vec<u8>)]| {
        frames
            .iter()
            .filter(|(_, f)| matches!(Frame::decode(f), Ok(Frame::Chunk { .. })))
            .count() as u32
    };
    // Four 2 MiB photos at once: together never more than WINDOW chunks ahead.
    for n in 0..4u64 {
        pt.send(
            DR,
            TransferId(100 + n),
            "p.jpg",
            "image/jpeg",
            jpeg(2 * 1024 * 1024),
            &yes(),
            T0,
        )
        .unwrap();
    }
    let out: Vec<_> = std::iter::from_fn(|| pt.poll_transmit()).collect();
    assert_eq!(chunks(&out), WINDOW);
    assert!(WINDOW as usize * 4 <= teleconsult::signaling::MAX_OUTBOX);
}
