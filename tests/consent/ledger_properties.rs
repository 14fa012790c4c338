//! Property tests: hostile bytes never panic the decoders, random valid operation
//! sequences always verify (on both sides), and any single changed byte is detected.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use proptest::prelude::*;
use teleconsult::consent::*;

/// An operation intent; `apply` turns it into an event valid at that point.
#[derive(Clone, Debug)]
enum Op {
    Grant {
        cats: u16,
        purposes: u16,
        start_back: u32,
        dur: Option<u32>,
        other: bool,
        verbal: bool,
        version: u8,
    },
    Withdraw(usize),
    Expire(usize),
    Notice(u8),
    Sas(u8),
    Admit(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u16..1 << 10, 1u16..1 << 9, 0u32..3_600_000, proptest::option::of(1u32..7_200_000), any::<bool>(), any::<bool>(), 0u8..3)
            .prop_map(|(cats, purposes, start_back, dur, other, verbal, version)| Op::Grant { cats, purposes, start_back, dur, other, verbal, version }),
        2 => any::<usize>().prop_map(Op::Withdraw),
        1 => any::<usize>().prop_map(Op::Expire),
        1 => (0u8..3).prop_map(Op::Notice),
        1 => any::<u8>().prop_map(Op::Sas),
        1 => any::<u8>().prop_map(Op::Admit),
    ]
}

fn pick<T: Copy>(all: &[T], mask: u16) -> Vec<T> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, &t)| t)
        .collect()
}

/// The event `op` stands for at `now`, or `None` if it has no valid form right now.
fn event(op: &Op, state: &ConsentState, now: u64) -> Option<Event> {
    let active: Vec<&GrantRecord> = state
        .grants
        .iter()
        .filter(|r| r.status == GrantStatus::Active)
        .collect();
    Some(match *op {
        Op::Grant {
            cats,
            purposes,
            start_back,
            dur,
            other,
            verbal,
            version,
        } => {
            let mut g = grant(&pick(DataCategory::ALL, cats));
            g.purposes = pick(Purpose::ALL, purposes);
            g.period.start = now.saturating_sub(u64::from(start_back));
            g.period.end = dur.map(|d| now + u64::from(d));
            g.notice = notice(&version.to_string());
            if other {
                g.recipient = other_dr();
            }
            if verbal {
                g.collection = Collection::VerbalAttested {
                    clinician: "dr-1".into(),
                };
            }
            Event::Grant(g)
        }
        Op::Withdraw(i) => Event::Withdraw {
            grant: active.get(i % active.len().max(1))?.seq,
        },
        Op::Expire(i) => {
            let ended: Vec<_> = active
                .iter()
                .filter(|r| r.grant.period.end.is_some_and(|e| e <= now))
                .collect();
            Event::Expire {
                grant: ended.get(i % ended.len().max(1))?.seq,
            }
        }
        Op::Notice(v) => Event::NoticeUpdated(notice(&v.to_string())),
        Op::Sas(b) => Event::SasConfirmed {
            transcript: [b; 32],
        },
        Op::Admit(b) => Event::ParticipantAdmitted {
            participant: [b; 8],
        },
    })
}

fn sample_bytes() -> Vec<u8> {
    sample_ledger().encode()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_operation_sequences_always_verify(
        ops in proptest::collection::vec((op(), 0u32..1_800_000), 1..24)
    ) {
        let k = patient_key();
        let clinician = clinician_key();
        let mut l = new_ledger();
        let mut replica = replica(&k.public_key());
        let mut now = T0;
        for (op, dt) in &ops {
            now += u64::from(*dt);
            let Some(ev) = event(op, l.state(), now) else { continue };
            let bytes = l.append(&k, now, ev.clone()).map_err(|e| TestCaseError::fail(format!("{ev:?}: {e:?}")))?.to_vec();
            let cp = replica.receive(&bytes, now + 250).unwrap();
            l.accept_checkpoint(cp, &clinician.public_key()).unwrap();
        }
        let s = l.verify(l.checkpoint()).unwrap();
        prop_assert_eq!(s.entries, l.size());
        prop_assert_eq!(s.checkpoint_size, (l.size() > 0).then_some(l.size()));
        prop_assert_eq!(s.active_grants + s.withdrawn_grants + s.expired_grants, l.state().grants.len());
        let decoded = Ledger::decode(&l.encode(), &k.public_key()).unwrap();
        prop_assert_eq!(decoded.state(), l.state());
        prop_assert_eq!(replica.ledger().encode(), l.encode());
        for &c in DataCategory::ALL {
            let r = request(c, now);
            prop_assert_eq!(check(l.state(), &r), check(replica.ledger().state(), &r));
        }
    }

    #[test]
    fn any_single_byte_change_in_an_encoded_ledger_is_detected(idx in any::<usize>(), flip in 1u8..=255) {
        let mut bytes = sample_bytes();
        let i = idx % bytes.len();
        bytes[i] ^= flip;
        prop_assert!(Ledger::decode(&bytes, &patient_key().public_key()).is_err(), "byte {} undetected", i);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let pk = patient_key().public_key();
        let _ = Ledger::decode(&bytes, &pk);
        let _ = verify_exported(&bytes, &pk, None);
        let _ = Checkpoint::decode(&bytes);
        let mut replica = replica(&pk);
        prop_assert!(replica.receive(&bytes, on_time(&bytes)).is_err());
        // Behind a valid header, the bytes reach the entry decoder.
        let mut framed = b"TCCL\x01".to_vec();
        framed.extend_from_slice(&LEDGER_ID);
        framed.extend_from_slice(&1u32.to_be_bytes());
        framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        framed.extend_from_slice(&bytes);
        prop_assert!(Ledger::decode(&framed, &pk).is_err());
    }

    #[test]
    fn truncating_an_encoded_ledger_anywhere_is_detected(cut in any::<usize>()) {
        let bytes = sample_bytes();
        let cut = cut % bytes.len();
        prop_assert!(Ledger::decode(&bytes[..cut], &patient_key().public_key()).is_err());
    }
}

#[test]
fn every_single_byte_change_in_the_sample_ledger_is_detected() {
    // Exhaustive over positions (one flip each), complementing the random flips above.
    let bytes = sample_bytes();
    let pk = patient_key().public_key();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        assert!(Ledger::decode(&b, &pk).is_err(), "byte {i} undetected");
    }
}
