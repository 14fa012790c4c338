#![no_main]
//! Arbitrary file frames from arbitrary peers, mixed with real transfers whose frames are
//! dropped, duplicated, reordered or changed in flight, into a receiver's transfers: no
//! panic, whatever decodes re-encodes to the same bytes, every file held has its offered
//! size, type and SHA-256, the held files only grow, and the limits hold.
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use teleconsult::chat::Peer;
use teleconsult::consent::{Decision, Reason};
use teleconsult::files::{Frame, MAX_HELD_BYTES, MAX_TRANSFERS, TransferId, Transfers};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};

const DR: ParticipantId = ParticipantId([1; 8]);
const PT: ParticipantId = ParticipantId([2; 8]);

fuzz_target!(|data: &[u8]| {
    let yes = Decision { allowed: true, reason: Reason::Granted, grant: None };
    let no = Decision { allowed: false, reason: Reason::Withdrawn, grant: None };
    let mut dr = Transfers::new(DR, Role::Clinician);
    let mut pt = Transfers::new(PT, Role::Patient);
    let from_pt = Peer { id: PT, role: Role::Patient, in_call: true };
    let from_dr = Peer { id: DR, role: Role::Clinician, in_call: true };
    let mut in_flight: Vec<Vec<u8>> = Vec::new();
    let mut next_id = 0u64;
    let mut rest = data;
    while let [op, arg, tail @ ..] = rest {
        rest = tail;
        let held = dr.files().len();
        match op % 9 {
            // Raw bytes from a peer (sender and admission from `arg`), length-prefixed.
            0 => {
                let len = usize::from(*arg).min(rest.len());
                let (frame, tail) = rest.split_at(len);
                rest = tail;
                if let Ok(f) = Frame::decode(frame) {
                    assert_eq!(f.encode(), frame);
                }
                let from = Peer {
                    id: ParticipantId([arg & 3; 8]),
                    role: Role::from_byte(1 + (arg >> 2) % 3).unwrap_or(Role::Guest),
                    in_call: arg & 0x20 == 0,
                };
                let _ = dr.receive(from, frame, &yes, 0);
            }
            // The patient offers a small JPEG.
            1 => {
                next_id += 1;
                let mut file = vec![0xFF, 0xD8, 0xFF];
                file.resize(3 + usize::from(*arg) * 257, *arg);
                let _ = pt.send(DR, TransferId(next_id), "a.jpg", "image/jpeg", file, &yes, 0);
                in_flight.extend(std::iter::from_fn(|| pt.poll_transmit()).map(|(_, f)| f));
            }
            // The network delivers a frame in flight: in order, duplicated, out of order, or
            // with one byte changed.
            2..=4 if !in_flight.is_empty() => {
                let k = usize::from(*arg) % in_flight.len();
                let mut f = if op % 9 == 2 { in_flight.remove(0) } else { in_flight[k].clone() };
                if op % 9 == 4 && !f.is_empty() {
                    let at = usize::from(*arg) % f.len();
                    f[at] ^= 1 | arg;
                }
                let _ = dr.receive(from_pt, &f, &yes, 0);
                while let Some((_, back)) = dr.poll_transmit() {
                    let _ = pt.receive(from_dr, &back, &yes, 0);
                }
                in_flight.extend(std::iter::from_fn(|| pt.poll_transmit()).map(|(_, f)| f));
            }
            5 => {
                pt.resume(DR, 0);
                in_flight.extend(std::iter::from_fn(|| pt.poll_transmit()).map(|(_, f)| f));
            }
            6 => {
                let _ = dr.cancel(PT, TransferId(u64::from(*arg % 8)));
                let _ = pt.cancel(DR, TransferId(u64::from(*arg % 8)));
            }
            7 if !in_flight.is_empty() => {
                // Consent withdrawn on the receiving side for this frame.
                let f = in_flight.remove(0);
                let _ = dr.receive(from_pt, &f, &no, 0);
            }
            8 => {
                let _ = dr.peer_left(ParticipantId([arg & 3; 8]));
            }
            _ => {}
        }
        let _ = std::iter::from_fn(|| dr.poll_transmit()).count();
        assert!(dr.files().len() >= held, "a held file was lost");
        for f in dr.files() {
            assert_eq!(f.data.len(), f.offer.size as usize);
            assert_eq!(<[u8; 32]>::from(Sha256::digest(&f.data)), f.offer.sha256);
            assert!(f.offer.file_type.matches(&f.data));
        }
        assert!(dr.held_bytes() <= MAX_HELD_BYTES);
        assert!(dr.active() <= MAX_TRANSFERS);
    }
});
