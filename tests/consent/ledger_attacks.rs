//! Attacks on the consent ledger: each is detected with its own error, and none lets data
//! through.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use consent_fixtures::*;
use ed25519_dalek::{Signer, SigningKey};
use teleconsult::consent::*;

/// Signs an arbitrary entry extending `l` with `seed` (as an attacker with that key could).
fn forge(l: &Ledger, seed: &[u8; 32], signer: [u8; 8], time: u64, event: Event) -> Vec<u8> {
    let mut e = Entry {
        seq: l.size(),
        prev: l.head(),
        time,
        signer,
        event,
        signature: [0; 64],
    };
    let msg = [CTX_ENTRY, &e.encode_unsigned()].concat();
    e.signature = SigningKey::from_bytes(seed).sign(&msg).to_bytes();
    e.encode()
}

fn assert_denied(state: &ConsentState, category: DataCategory, now: u64, reason: Reason) {
    let d = check(state, &request(category, now));
    assert!(!d.allowed, "{category:?} must be denied");
    assert_eq!(d.reason, reason);
}

#[test]
fn tampered_entry_is_a_bad_signature() {
    let mut es = entries(&sample_ledger());
    // Entry 3 withdraws grant 0; the attacker retargets it at grant 2 (last byte of the
    // grant number, just before the 64-byte signature).
    let n = es[3].len();
    es[3][n - 65] = 2;
    assert_eq!(
        Entry::decode(&es[3]).unwrap().event,
        Event::Withdraw { grant: 2 }
    );
    assert_eq!(
        rebuild(&es).unwrap_err(),
        LedgerError::BadSignature { seq: 3 }
    );
    // A tampered category list in grant 0 (audio -> recording) is caught the same way.
    let mut es = entries(&sample_ledger());
    let pos = es[0].windows(3).position(|w| w == [2, 1, 2]).unwrap();
    es[0][pos + 2] = 3;
    assert_eq!(
        rebuild(&es).unwrap_err(),
        LedgerError::BadSignature { seq: 0 }
    );
}

#[test]
fn swapped_entries_are_reported_as_reordered() {
    let mut es = entries(&sample_ledger());
    es.swap(1, 2);
    assert_eq!(rebuild(&es).unwrap_err(), LedgerError::Reordered { seq: 1 });
}

#[test]
fn removed_entry_is_reported_missing() {
    let mut es = entries(&sample_ledger());
    // Removing the withdrawal would resurrect grant 0.
    es.remove(3);
    assert_eq!(
        rebuild(&es).unwrap_err(),
        LedgerError::MissingEntry { seq: 3 }
    );
}

#[test]
fn duplicated_entry_is_reported_replayed() {
    let mut es = entries(&sample_ledger());
    es.insert(2, es[1].clone());
    assert_eq!(rebuild(&es).unwrap_err(), LedgerError::Replayed { seq: 1 });
}

#[test]
fn truncated_ledger_is_caught_by_the_countersigned_checkpoint() {
    let l = sample_ledger();
    let mut replica = replica(&patient_key().public_key());
    let mut cp = None;
    for e in entries(&l) {
        cp = Some(replica.receive(&e, on_time(&e)).unwrap());
    }
    let cp = cp.unwrap();
    let clinician = clinician_key().public_key();
    // Dropping the last two entries (the withdrawal among them) leaves a valid-looking chain...
    let es = entries(&l);
    let short = rebuild(&es[..3]).unwrap();
    assert_eq!(short.state().grants[0].status, GrantStatus::Active);
    // ...that the checkpoint exposes.
    let err = verify_exported(
        &short.encode(),
        &patient_key().public_key(),
        Some((&cp, &clinician)),
    );
    assert_eq!(
        err.unwrap_err(),
        LedgerError::Truncated {
            size: 3,
            checkpoint: 5
        }
    );
    assert!(
        verify_exported(
            &l.encode(),
            &patient_key().public_key(),
            Some((&cp, &clinician))
        )
        .is_ok()
    );
}

#[test]
fn truncated_store_is_caught_when_the_manager_opens() {
    let mut m = ConsentManager::open(&PATIENT_SEED, LEDGER_ID, MemoryStore::default()).unwrap();
    let mut replica = replica(&m.public_key());
    let e = m
        .grant(grant(&[DataCategory::Video]), NOTICE_TEXT, T0)
        .unwrap();
    replica.receive(&e, on_time(&e)).unwrap();
    let e = m.withdraw(0, T0 + 1).unwrap();
    let cp = replica.receive(&e, on_time(&e)).unwrap();
    m.expect_clinician(clinician_key().public_key());
    m.accept_checkpoint(&cp.encode(), &clinician_key().public_key())
        .unwrap();

    let mut store = MemoryStore::default();
    let mut stored = m_store_copy(&m);
    stored.entries.pop(); // a hostile or broken store forgets the withdrawal
    store.ledgers.insert(LEDGER_ID, stored);
    let err = ConsentManager::open(&PATIENT_SEED, LEDGER_ID, store).unwrap_err();
    assert_eq!(
        err,
        LedgerError::Truncated {
            size: 1,
            checkpoint: 2
        }
    );
}

/// The store contents a manager would have written.
fn m_store_copy(m: &ConsentManager<MemoryStore>) -> StoredLedger {
    let l = m.ledger();
    let (cp, key) = l.checkpoint().unwrap();
    StoredLedger {
        entries: entries(l),
        checkpoint: Some([cp.encode().as_slice(), key].concat()),
    }
}

#[test]
fn forged_signature_is_rejected() {
    let l = sample_ledger();
    let mut es = entries(&l);
    let n = es[4].len();
    es[4][n - 1] ^= 0x01;
    assert_eq!(
        rebuild(&es).unwrap_err(),
        LedgerError::BadSignature { seq: 4 }
    );
    // A signature by another key that claims the patient's key id is just as bad.
    let mut l = l;
    let forged = forge(
        &l,
        &MALLORY_SEED,
        key_id(&patient_key().public_key()),
        T0 + 9,
        Event::Withdraw { grant: 2 },
    );
    assert_eq!(
        l.push(&forged).unwrap_err(),
        LedgerError::BadSignature { seq: 5 }
    );
    assert_eq!(l.size(), 5);
}

#[test]
fn entry_signed_by_another_key_is_a_wrong_signer() {
    let mut l = sample_ledger();
    let mallory = ConsentKey::from_seed(&MALLORY_SEED);
    let forged = forge(
        &l,
        &MALLORY_SEED,
        key_id(&mallory.public_key()),
        T0 + 9,
        Event::Grant(grant(&[DataCategory::Recording])),
    );
    assert_eq!(
        l.push(&forged).unwrap_err(),
        LedgerError::WrongSigner { seq: 5 }
    );
    // Nor can another key append through the API.
    let err = l
        .append(
            &mallory,
            T0 + 9,
            Event::Grant(grant(&[DataCategory::Recording])),
        )
        .unwrap_err();
    assert_eq!(err, LedgerError::WrongSigner { seq: 5 });
    assert_denied(l.state(), DataCategory::Recording, T0 + 10, Reason::NoGrant);
}

#[test]
fn entries_from_another_ledger_do_not_chain() {
    let es = entries(&sample_ledger());
    let other = Ledger::from_entries(
        [0xcd; 16],
        &patient_key().public_key(),
        es.iter().map(Vec::as_slice),
    );
    assert_eq!(other.unwrap_err(), LedgerError::BrokenChain { seq: 0 });
}

#[test]
fn replayed_withdrawal_is_rejected_and_cannot_cancel_a_new_grant() {
    let k = patient_key();
    let mut l = new_ledger();
    let mut replica = replica(&k.public_key());
    let send = |bytes: &[u8], replica: &mut LedgerReplica| replica.receive(bytes, on_time(bytes));
    let g0 = l
        .append(&k, T0, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap()
        .to_vec();
    send(&g0, &mut replica).unwrap();
    let w = l
        .append(&k, T0 + 1, Event::Withdraw { grant: 0 })
        .unwrap()
        .to_vec();
    send(&w, &mut replica).unwrap();
    let g2 = l
        .append(&k, T0 + 2, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap()
        .to_vec();
    send(&g2, &mut replica).unwrap();

    // The old withdrawal bytes replayed at the clinician side.
    assert_eq!(
        send(&w, &mut replica).unwrap_err(),
        LedgerError::Replayed { seq: 1 }
    );
    // A freshly signed second withdrawal of the same grant.
    assert_eq!(
        l.append(&k, T0 + 3, Event::Withdraw { grant: 0 })
            .unwrap_err(),
        LedgerError::GrantNotActive { grant: 0 }
    );
    // Withdrawals name the grant they end, so the new grant stays in force on both sides.
    for state in [l.state(), replica.ledger().state()] {
        assert!(check(state, &request(DataCategory::Video, T0 + 4)).allowed);
        assert_eq!(
            check(state, &request(DataCategory::Video, T0 + 4)).grant,
            Some(2)
        );
    }
}

#[test]
fn withdrawal_of_a_non_grant_is_rejected() {
    let mut l = sample_ledger();
    let err = l
        .append(&patient_key(), T0 + 9, Event::Withdraw { grant: 1 })
        .unwrap_err();
    assert_eq!(err, LedgerError::UnknownGrant { grant: 1 });
    let err = l
        .append(&patient_key(), T0 + 9, Event::Expire { grant: 2 })
        .unwrap_err();
    assert_eq!(err, LedgerError::PrematureExpiry { grant: 2 });
}

#[test]
fn clock_set_backwards_is_rejected_on_append_and_denied_on_check() {
    let k = patient_key();
    let mut l = new_ledger();
    l.append(
        &k,
        T0 + 10 * HOUR,
        Event::SasConfirmed {
            transcript: [1; 32],
        },
    )
    .unwrap();
    // The clock jumps back: a grant "at T0" would be valid for an hour that already passed.
    let err = l
        .append(&k, T0, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap_err();
    assert_eq!(err, LedgerError::ClockWentBackwards { seq: 1 });
    assert_eq!(l.size(), 1);

    let mut l = new_ledger();
    l.append(&k, T0, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap();
    l.append(
        &k,
        T0 + 30 * 60_000,
        Event::SasConfirmed {
            transcript: [1; 32],
        },
    )
    .unwrap();
    // Inside the grant's period, but before the newest entry: the clock went back.
    assert_denied(
        l.state(),
        DataCategory::Video,
        T0 + 60_000,
        Reason::ClockBehindLedger,
    );
    assert!(check(l.state(), &request(DataCategory::Video, T0 + 31 * 60_000)).allowed);

    // A received entry whose time goes backwards is rejected too.
    let back = forge(
        &l,
        &PATIENT_SEED,
        key_id(&k.public_key()),
        T0,
        Event::Withdraw { grant: 0 },
    );
    assert_eq!(
        l.push(&back).unwrap_err(),
        LedgerError::ClockWentBackwards { seq: 2 }
    );
}

#[test]
fn grant_with_an_expired_period_is_rejected_and_old_grants_expire() {
    let k = patient_key();
    let mut l = new_ledger();
    let err = l
        .append(
            &k,
            T0 + 2 * HOUR,
            Event::Grant(grant(&[DataCategory::Video])),
        )
        .unwrap_err();
    assert_eq!(err, LedgerError::GrantExpired { seq: 0 });
    assert_denied(
        l.state(),
        DataCategory::Video,
        T0 + 2 * HOUR,
        Reason::NoGrant,
    );

    l.append(&k, T0, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap();
    assert_denied(l.state(), DataCategory::Video, T0 + HOUR, Reason::Expired);
    l.append(&k, T0 + HOUR, Event::Expire { grant: 0 }).unwrap();
    assert_denied(l.state(), DataCategory::Video, T0 + HOUR, Reason::Expired);
    // An ill-formed period (end before start) never enters the ledger.
    let mut g = grant(&[DataCategory::Video]);
    g.period = Period {
        start: T0 + 3 * HOUR,
        end: Some(T0 + 2 * HOUR),
    };
    assert_eq!(
        l.append(&k, T0 + HOUR, Event::Grant(g)).unwrap_err(),
        LedgerError::InvalidEvent { seq: 2 }
    );
}

#[test]
fn grant_for_another_recipient_lets_nothing_through() {
    let mut l = new_ledger();
    let mut g = grant(DataCategory::ALL);
    g.recipient = other_dr();
    l.append(&patient_key(), T0, Event::Grant(g)).unwrap();
    for &c in DataCategory::ALL {
        assert_denied(l.state(), c, T0 + 1, Reason::OtherRecipient);
    }
    let org = Recipient {
        kind: RecipientKind::Organization,
        id: "dr-2".into(),
    };
    let d = check(
        l.state(),
        &Request {
            recipient: org,
            ..request(DataCategory::Video, T0 + 1)
        },
    );
    assert_eq!((d.allowed, d.reason), (false, Reason::OtherRecipient));
}

#[test]
fn notice_hash_mismatch_is_rejected() {
    // The text shown is not the text whose hash the grant records.
    let mut m = ConsentManager::open(&PATIENT_SEED, LEDGER_ID, MemoryStore::default()).unwrap();
    let err = m
        .grant(grant(&[DataCategory::Video]), b"a different notice", T0)
        .unwrap_err();
    assert_eq!(err, LedgerError::NoticeHashMismatch);
    assert!(m.list().is_empty());
    assert!(m.ledger().size() == 0 && !m.check(&request(DataCategory::Video, T0)).allowed);

    // Same URI and version, different text: the notice was edited without a new version.
    let k = patient_key();
    let mut l = new_ledger();
    l.append(&k, T0, Event::NoticeUpdated(notice("3"))).unwrap();
    let mut g = grant(&[DataCategory::Video]);
    g.notice.sha256[0] ^= 1;
    assert_eq!(
        l.append(&k, T0, Event::Grant(g)).unwrap_err(),
        LedgerError::NoticeHashMismatch
    );
    let mut n = notice("3");
    n.sha256[31] ^= 1;
    assert_eq!(
        l.append(&k, T0, Event::NoticeUpdated(n)).unwrap_err(),
        LedgerError::NoticeHashMismatch
    );
}

#[test]
fn a_different_entry_at_a_held_sequence_number_is_a_fork() {
    let k = patient_key();
    let mut a = new_ledger();
    let mut b = new_ledger();
    let ea = a
        .append(&k, T0, Event::Grant(grant(&[DataCategory::Video])))
        .unwrap()
        .to_vec();
    let eb = b
        .append(&k, T0, Event::Grant(grant(&[DataCategory::Recording])))
        .unwrap()
        .to_vec();
    let mut replica = replica(&k.public_key());
    replica.receive(&ea, on_time(&ea)).unwrap();
    assert_eq!(
        replica.receive(&eb, on_time(&eb)).unwrap_err(),
        LedgerError::Fork { seq: 0 }
    );
    assert_denied(
        replica.ledger().state(),
        DataCategory::Recording,
        T0 + 1,
        Reason::NoGrant,
    );
}

#[test]
fn entry_appended_out_of_order_at_the_replica_is_missing_its_predecessor() {
    let es = entries(&sample_ledger());
    let mut replica = replica(&patient_key().public_key());
    replica.receive(&es[0], on_time(&es[0])).unwrap();
    assert_eq!(
        replica.receive(&es[2], on_time(&es[2])).unwrap_err(),
        LedgerError::MissingEntry { seq: 1 }
    );
    // Delivered in order, it catches up and the withdrawal takes effect on this side too.
    for e in &es[1..] {
        replica.receive(e, on_time(e)).unwrap();
    }
    assert_denied(
        replica.ledger().state(),
        DataCategory::Video,
        T0 + 5,
        Reason::Withdrawn,
    );
}

#[test]
fn bad_checkpoints_are_rejected_by_the_patient() {
    let mut l = sample_ledger();
    let clinician = clinician_key().public_key();
    let good = Checkpoint::sign(LEDGER_ID, 5, l.head(), T0, &clinician_key());
    let mallory = Checkpoint::sign(
        LEDGER_ID,
        5,
        l.head(),
        T0,
        &ConsentKey::from_seed(&MALLORY_SEED),
    );
    assert_eq!(
        l.accept_checkpoint(mallory, &clinician).unwrap_err(),
        LedgerError::BadCheckpointSignature
    );
    let other = Checkpoint::sign([0; 16], 5, l.head(), T0, &clinician_key());
    assert_eq!(
        l.accept_checkpoint(other, &clinician).unwrap_err(),
        LedgerError::WrongLedger
    );
    let rewritten = Checkpoint::sign(LEDGER_ID, 3, [9; 32], T0, &clinician_key());
    assert_eq!(
        l.accept_checkpoint(rewritten, &clinician).unwrap_err(),
        LedgerError::CheckpointMismatch
    );
    let ahead = Checkpoint::sign(LEDGER_ID, 6, [9; 32], T0, &clinician_key());
    assert_eq!(
        l.accept_checkpoint(ahead, &clinician).unwrap_err(),
        LedgerError::Truncated {
            size: 5,
            checkpoint: 6
        }
    );
    assert!(l.checkpoint().is_none());
    l.accept_checkpoint(good.clone(), &clinician).unwrap();
    assert_eq!(l.checkpoint().map(|(c, _)| c), Some(&good));
    assert_eq!(l.verify(l.checkpoint()).unwrap().checkpoint_size, Some(5));
}

#[test]
fn malformed_bytes_are_typed_errors() {
    let mut l = sample_ledger();
    assert_eq!(
        l.push(&[]).unwrap_err(),
        LedgerError::Malformed(DecodeError::Truncated)
    );
    assert_eq!(
        l.push(&[9]).unwrap_err(),
        LedgerError::Malformed(DecodeError::UnknownTag)
    );
    let bad = verify_exported(b"TCCL\x01", &patient_key().public_key(), None);
    assert_eq!(
        bad.unwrap_err(),
        LedgerError::Malformed(DecodeError::Truncated)
    );
    assert_eq!(
        verify_exported(&l.encode(), &[2; 32], None).unwrap_err(),
        LedgerError::BadPublicKey
    );
}
