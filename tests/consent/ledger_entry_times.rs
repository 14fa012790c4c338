//! Issue 13, point 4: the clinician's replica does not take the patient device's word for
//! when an entry was made. It records its own receive time for every entry, countersigns
//! checkpoints that carry that time, and refuses an entry whose signed time is further than
//! `TIME_SKEW_MS` (±5 minutes) from its arrival.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use teleconsult::consent::*;

const MINUTE: u64 = 60_000;

/// A patient ledger with a video grant at T0, and the replica that received it 200 ms later.
fn granted() -> (Ledger, LedgerReplica) {
    let mut l = new_ledger();
    let mut r = replica(&patient_key().public_key());
    let g = l
        .append(
            &patient_key(),
            T0,
            Event::Grant(grant(&[DataCategory::Video, DataCategory::Recording])),
        )
        .unwrap()
        .to_vec();
    r.receive(&g, T0 + 200).unwrap();
    (l, r)
}

fn withdraw_dated(l: &mut Ledger, time: u64) -> Vec<u8> {
    l.append(&patient_key(), time, Event::Withdraw { grant: 0 })
        .unwrap()
        .to_vec()
}

/// The attack of the review: a withdrawal signed an hour after the grant but dated one
/// second after it, so that the recording made in that hour looks unconsented. Before,
/// the replica accepted it and it verified as made at T0 + 1 s.
#[test]
fn withdrawal_backdated_by_an_hour_is_refused() {
    let (mut l, mut r) = granted();
    let w = withdraw_dated(&mut l, T0 + 1_000);
    assert_eq!(
        r.receive(&w, T0 + HOUR).unwrap_err(),
        LedgerError::Untimely { seq: 1 }
    );
    // Not applied, not countersigned: the replica still holds one entry...
    assert_eq!(r.ledger().size(), 1);
    assert_eq!(r.checkpoint(T0 + HOUR).size, 1);
    // ...and, fail-safe, enforces nothing: the patient's ledger moved on without it.
    assert_eq!(r.halted(), Some(1));
    let decision = check(
        r.enforced_state(),
        &request(DataCategory::Recording, T0 + HOUR),
    );
    assert!(!decision.allowed);
    assert_eq!(decision.reason, Reason::NoGrant);
    // Re-sent live, it is refused again.
    assert_eq!(
        r.receive(&w, T0 + HOUR + 5).unwrap_err(),
        LedgerError::Untimely { seq: 1 }
    );
}

#[test]
fn an_entry_within_the_skew_is_accepted_with_its_receive_time() {
    let (mut l, mut r) = granted();
    // Signed 4 min 59 s before it arrives (a slow patient clock): still on time.
    let w = withdraw_dated(&mut l, T0 + MINUTE);
    let cp = r.receive(&w, T0 + MINUTE + TIME_SKEW_MS - 1_000).unwrap();
    assert_eq!(cp.time, T0 + MINUTE + TIME_SKEW_MS - 1_000);
    assert_eq!(cp.size, 2);
    assert_eq!(
        r.timing(1),
        Some(EntryTiming {
            seq: 1,
            signed_at: T0 + MINUTE,
            received_at: Some(T0 + MINUTE + TIME_SKEW_MS - 1_000),
            late: false,
        })
    );
    assert_eq!(r.received(), &[Some(T0 + 200), Some(cp.time)]);
    // The patient verifies the checkpoint (its time is signed: editing it breaks it).
    let pk = r.clinician_public_key();
    l.accept_checkpoint(cp.clone(), &pk).unwrap();
    let mut edited = cp;
    edited.time = T0 + 1_000;
    assert_eq!(
        l.check_checkpoint(&edited, &pk).unwrap_err(),
        LedgerError::BadCheckpointSignature
    );
}

#[test]
fn an_entry_dated_in_the_future_is_refused() {
    let (mut l, mut r) = granted();
    let w = withdraw_dated(&mut l, T0 + 10 * MINUTE);
    assert_eq!(
        r.receive(&w, T0 + 10 * MINUTE - TIME_SKEW_MS - 1)
            .unwrap_err(),
        LedgerError::Untimely { seq: 1 }
    );
    // The same entry once the clocks agree (the patient resends after the refusal).
    r.handle_announce(2);
    r.receive(&w, T0 + 10 * MINUTE - TIME_SKEW_MS).unwrap();
    assert_eq!(r.halted(), None);
}

/// An honest patient granted in the waiting room, long before the clinician's replica was
/// attached: the entry is announced as held and arrives late. It is accepted, so the chain
/// (and any later withdrawal) is not blocked, but marked late: the replica's record and
/// checkpoint vouch only for when the clinician learned of it.
#[test]
fn an_entry_announced_at_sync_is_accepted_but_marked_late() {
    let mut l = new_ledger();
    let g = l
        .append(
            &patient_key(),
            T0,
            Event::Grant(grant(&[DataCategory::Video])),
        )
        .unwrap()
        .to_vec();
    let mut r = replica(&patient_key().public_key());
    r.handle_announce(1);
    let cp = r.receive(&g, T0 + 20 * MINUTE).unwrap();
    assert_eq!(cp.time, T0 + 20 * MINUTE);
    let t = r.timing(0).unwrap();
    assert!(t.late);
    assert_eq!((t.signed_at, t.received_at), (T0, Some(T0 + 20 * MINUTE)));
    // The next entry beyond the announced size is live again: backdated, it is refused.
    let w = withdraw_dated(&mut l, T0 + 1_000);
    assert_eq!(
        r.receive(&w, T0 + 21 * MINUTE).unwrap_err(),
        LedgerError::Untimely { seq: 1 }
    );
    // Even announced as held, an entry dated in the future is not.
    let mut l2 = new_ledger();
    let g2 = l2
        .append(
            &patient_key(),
            T0 + HOUR,
            Event::SasConfirmed {
                transcript: [7; 32],
            },
        )
        .unwrap()
        .to_vec();
    let mut r2 = replica(&patient_key().public_key());
    r2.handle_announce(1);
    assert_eq!(
        r2.receive(&g2, T0).unwrap_err(),
        LedgerError::Untimely { seq: 0 }
    );
}

/// The backdated withdrawal resent after a resync is accepted (a withdrawal must never be
/// lost) but carries the replica's receive time, an hour after its claimed time.
#[test]
fn a_backdated_withdrawal_resent_at_resync_keeps_its_true_arrival() {
    let (mut l, mut r) = granted();
    let w = withdraw_dated(&mut l, T0 + 1_000);
    r.receive(&w, T0 + HOUR).unwrap_err();
    r.handle_announce(2);
    let cp = r.receive(&w, T0 + HOUR + 10).unwrap();
    assert_eq!(cp.time, T0 + HOUR + 10);
    let t = r.timing(1).unwrap();
    assert!(t.late, "a backdated entry never counts as on time");
    assert_eq!(t.received_at, Some(T0 + HOUR + 10));
    let decision = check(
        r.enforced_state(),
        &request(DataCategory::Video, T0 + HOUR + 20),
    );
    assert_eq!(decision.reason, Reason::Withdrawn);
}

#[test]
fn receive_times_never_go_backwards_when_the_clinician_clock_does() {
    let (mut l, mut r) = granted();
    let w = withdraw_dated(&mut l, T0 + 100);
    // The clinician's clock stepped back 150 ms: the arrival stays at the latest seen.
    let cp = r.receive(&w, T0 + 50).unwrap();
    assert_eq!(cp.time, T0 + 200);
    assert_eq!(r.received(), &[Some(T0 + 200), Some(T0 + 200)]);
}

#[test]
fn a_replica_resumes_with_its_receive_times_and_rejects_impossible_ones() {
    let (_, r) = granted();
    let ledger = || Ledger::decode(&r.ledger().encode(), &patient_key().public_key()).unwrap();
    let resumed = LedgerReplica::resume(ledger(), r.received().to_vec(), clinician_key()).unwrap();
    assert_eq!(resumed.timing(0), r.timing(0));
    // Unknown (older copies): kept as unknown, never invented.
    let unknown = LedgerReplica::resume(ledger(), Vec::new(), clinician_key()).unwrap();
    assert_eq!(unknown.timing(0).unwrap().received_at, None);
    assert_eq!(
        LedgerReplica::resume(ledger(), vec![Some(1), Some(2)], clinician_key()).unwrap_err(),
        LedgerError::Malformed(DecodeError::BadField)
    );
}

proptest::proptest! {
    /// Live, an entry is accepted exactly when its signed time is within the skew of its
    /// arrival; a refused one changes nothing; any times (up to the u64 edge) never panic.
    #[test]
    fn live_entries_are_accepted_exactly_within_the_skew(
        offset in -(3 * TIME_SKEW_MS as i64)..(3 * TIME_SKEW_MS as i64),
        now_edge in proptest::prelude::any::<u64>(),
    ) {
        let (mut l, mut r) = granted();
        let signed = T0 + HOUR / 2;
        let w = withdraw_dated(&mut l, signed);
        let arrival = signed.checked_add_signed(offset).unwrap();
        let got = r.receive(&w, arrival);
        let within = offset.unsigned_abs() <= TIME_SKEW_MS;
        proptest::prop_assert_eq!(got.is_ok(), within, "offset {}", offset);
        if within {
            proptest::prop_assert_eq!(r.timing(1).unwrap().received_at, Some(arrival));
        } else {
            proptest::prop_assert_eq!(got.unwrap_err(), LedgerError::Untimely { seq: 1 });
            proptest::prop_assert_eq!(r.ledger().size(), 1);
        }
        // Hostile clock values never panic.
        let (mut l2, mut r2) = granted();
        let w2 = withdraw_dated(&mut l2, T0 + 1);
        let _ = r2.receive(&w2, now_edge);
        let _ = r2.checkpoint(now_edge);
    }
}
