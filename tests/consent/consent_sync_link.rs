//! The consent sync link (`PatientSync` ↔ `ReplicaSync`) in simulated time: entries reach
//! the replica and checkpoints come back; dropped, reordered and duplicated messages are
//! recovered; hostile or garbled messages are typed errors that change nothing; a
//! withdrawal reaches the clinician's side at once.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use crate::consent_fixtures;

use std::collections::VecDeque;

use consent_fixtures::*;
use proptest::prelude::*;
use teleconsult::consent::*;

const LINK: LinkId = 3;

/// A patient and a clinician replica joined by one link whose two directions are queues the
/// test delivers from, drops from, reorders and duplicates.
struct Net {
    patient: PatientSync<MemoryStore>,
    replica: ReplicaSync,
    now: u64,
    /// Patient → replica.
    up: VecDeque<Vec<u8>>,
    /// Replica → patient.
    down: VecDeque<Vec<u8>>,
    patient_events: Vec<PatientEvent>,
    replica_events: Vec<ReplicaEvent>,
    patient_errors: Vec<LinkError>,
    replica_errors: Vec<LinkError>,
}

impl Net {
    /// Both sides, the patient expecting the clinician's key; the link not attached yet.
    fn new() -> Self {
        let mut manager =
            ConsentManager::open(&PATIENT_SEED, LEDGER_ID, MemoryStore::default()).unwrap();
        manager.expect_clinician(clinician_key().public_key());
        Self {
            patient: PatientSync::new(manager),
            replica: ReplicaSync::new(&CLINICIAN_SEED, None, None),
            now: T0 + 1_000,
            up: VecDeque::new(),
            down: VecDeque::new(),
            patient_events: Vec::new(),
            replica_events: Vec::new(),
            patient_errors: Vec::new(),
            replica_errors: Vec::new(),
        }
    }

    /// Both sides attached and synced.
    fn attached() -> Self {
        let mut net = Self::new();
        net.patient.add_link(LINK, net.now);
        net.replica.add_link(LINK, net.now);
        net.settle();
        net
    }

    /// Moves both sides' outputs onto the wires and into the event lists.
    fn pump(&mut self) {
        while let Some(out) = self.patient.poll_output() {
            match out {
                LinkOutput::Transmit { link, bytes } => {
                    assert_eq!(link, LINK);
                    self.up.push_back(bytes);
                }
                LinkOutput::Event(e) => self.patient_events.push(e),
            }
        }
        while let Some(out) = self.replica.poll_output() {
            match out {
                LinkOutput::Transmit { link, bytes } => {
                    assert_eq!(link, LINK);
                    self.down.push_back(bytes);
                }
                LinkOutput::Event(e) => self.replica_events.push(e),
            }
        }
    }

    /// Hands `bytes` to the replica as if they arrived from the patient.
    fn send_up(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let r = self.replica.handle_data(LINK, bytes, self.now);
        if let Err(e) = r {
            self.replica_errors.push(e);
        }
        self.pump();
        r
    }

    /// Hands `bytes` to the patient as if they arrived from the clinician.
    fn send_down(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let r = self.patient.handle_data(LINK, bytes, self.now);
        if let Err(e) = r {
            self.patient_errors.push(e);
        }
        self.pump();
        r
    }

    /// Delivers the first message waiting in one direction; false if there was none.
    fn deliver(&mut self, up: bool) -> bool {
        let queue = if up { &mut self.up } else { &mut self.down };
        let Some(bytes) = queue.pop_front() else {
            return false;
        };
        let _ = if up {
            self.send_up(&bytes)
        } else {
            self.send_down(&bytes)
        };
        true
    }

    /// Delivers everything, both ways, until the wires are empty.
    fn settle(&mut self) {
        self.pump();
        while self.deliver(true) | self.deliver(false) {}
    }

    /// Advances the clock by `ms`, firing whatever timeouts fall due.
    fn advance(&mut self, ms: u64) {
        self.now += ms;
        if self.patient.poll_timeout().is_some_and(|t| t <= self.now) {
            self.patient.handle_timeout(self.now);
        }
        if self.replica.poll_timeout().is_some_and(|t| t <= self.now) {
            self.replica.handle_timeout(self.now);
        }
        self.pump();
    }

    /// Advances to the next timeout of either side; false if none is armed.
    fn advance_to_timeout(&mut self) -> bool {
        let next = [self.patient.poll_timeout(), self.replica.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) => {
                self.advance(t.saturating_sub(self.now));
                true
            }
            None => false,
        }
    }

    /// Records a grant of video and audio on the patient's side and hands it to the link.
    fn grant(&mut self) -> u64 {
        let m = self.patient.manager_mut();
        m.grant(
            grant(&[DataCategory::Video, DataCategory::Audio]),
            NOTICE_TEXT,
            self.now,
        )
        .unwrap();
        self.local_entry()
    }

    /// Withdraws grant `seq` on the patient's side and hands the entry to the link.
    fn withdraw(&mut self, seq: u64) -> u64 {
        self.patient.manager_mut().withdraw(seq, self.now).unwrap();
        self.local_entry()
    }

    fn local_entry(&mut self) -> u64 {
        let seq = self.patient.manager().ledger().size() - 1;
        self.patient.handle_local_entry(seq, self.now);
        self.pump();
        seq
    }

    fn replica_size(&self) -> u64 {
        self.replica.replica().map_or(0, |r| r.ledger().size())
    }

    /// Both sides hold the same ledger, and the patient holds a checkpoint of all of it.
    fn in_step(&self) -> bool {
        let ledger = self.patient.manager().ledger();
        let Some(r) = self.replica.replica() else {
            return false;
        };
        r.ledger().size() == ledger.size()
            && r.ledger().head() == ledger.head()
            && ledger
                .checkpoint()
                .is_some_and(|(cp, _)| cp.size == ledger.size() && cp.head == ledger.head())
    }

    /// The sequence numbers the replica accepted, in order.
    fn accepted(&self) -> Vec<u64> {
        self.replica_events
            .iter()
            .filter_map(|e| match e {
                ReplicaEvent::Entry { seq, .. } => Some(*seq),
                ReplicaEvent::Halted { .. } => None,
            })
            .collect()
    }

    fn video_allowed_by_replica(&self) -> Reason {
        let empty = ConsentState::default();
        let state = self.replica.enforced_state().unwrap_or(&empty);
        check(state, &request(DataCategory::Video, self.now)).reason
    }
}

#[test]
fn attaching_announces_and_the_replica_answers_with_its_status() {
    let mut net = Net::new();
    net.patient.add_link(LINK, net.now);
    net.replica.add_link(LINK, net.now);
    net.pump();
    assert_eq!(net.up.len(), 1, "the patient announces");
    assert!(matches!(
        SyncMessage::decode(&net.up[0]).unwrap(),
        SyncMessage::Announce { size: 0, .. }
    ));
    assert_eq!(net.down.len(), 1, "the replica says hello");
    net.settle();
    assert!(net.patient.in_step(LINK));
    assert!(net.replica.announced(LINK));
    assert_eq!(
        net.replica.replica().unwrap().ledger().id(),
        LEDGER_ID,
        "the replica learns the ledger from the announcement"
    );
    assert!(net.patient_errors.is_empty() && net.replica_errors.is_empty());
}

#[test]
fn entries_reach_the_replica_and_checkpoints_come_back() {
    let mut net = Net::attached();
    net.grant();
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0]);
    assert!(matches!(
        net.patient_events.last(),
        Some(PatientEvent::Checkpoint {
            link: LINK,
            matches_head: true,
            ..
        })
    ));
    assert_eq!(net.video_allowed_by_replica(), Reason::Granted);
    assert_eq!(net.patient.poll_timeout(), None, "nothing left to resend");
}

#[test]
fn entries_recorded_before_attaching_are_sent_after_the_status() {
    let mut net = Net::new();
    net.grant();
    net.grant();
    assert!(net.up.is_empty(), "nothing is sent before a link exists");
    net.patient.add_link(LINK, net.now);
    net.replica.add_link(LINK, net.now);
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0, 1]);
}

#[test]
fn withdrawal_reaches_the_clinician_side_at_once() {
    let mut net = Net::attached();
    let g = net.grant();
    net.settle();
    assert_eq!(net.video_allowed_by_replica(), Reason::Granted);
    net.withdraw(g);
    net.settle();
    assert_eq!(net.video_allowed_by_replica(), Reason::Withdrawn);
    assert!(net.in_step());
}

#[test]
fn a_dropped_entry_is_recovered_by_the_next_one() {
    let mut net = Net::attached();
    net.grant();
    assert_eq!(net.up.len(), 1);
    net.up.clear();
    net.grant();
    net.settle();
    assert!(net.in_step(), "the gap made the replica send its status");
    assert_eq!(net.accepted(), vec![0, 1]);
    assert!(net.replica_errors.is_empty());
}

#[test]
fn a_dropped_last_entry_is_resent_after_a_timeout() {
    let mut net = Net::attached();
    let g = net.grant();
    net.settle();
    net.withdraw(g);
    net.up.clear();
    assert_eq!(net.video_allowed_by_replica(), Reason::Granted);
    assert_eq!(net.patient.poll_timeout(), Some(net.now + RESEND_MS));
    net.advance(RESEND_MS - 1);
    assert!(net.up.is_empty(), "nothing before the timeout");
    net.advance(1);
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.video_allowed_by_replica(), Reason::Withdrawn);
}

#[test]
fn a_dropped_checkpoint_is_recovered_after_a_timeout() {
    let mut net = Net::attached();
    net.grant();
    assert!(net.deliver(true));
    assert_eq!(net.down.len(), 1);
    net.down.clear();
    assert!(!net.in_step());
    assert!(net.advance_to_timeout());
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0], "the entry was not accepted twice");
}

#[test]
fn a_lost_announcement_is_sent_again_with_backoff() {
    let mut net = Net::new();
    net.patient.add_link(LINK, net.now);
    net.pump();
    net.up.clear();
    let start = net.now;
    assert!(net.advance_to_timeout());
    assert_eq!(net.now, start + RESEND_MS);
    assert_eq!(net.up.len(), 1, "announced again");
    net.up.clear();
    assert!(net.advance_to_timeout());
    assert_eq!(
        net.now,
        start + 3 * RESEND_MS,
        "the second wait is twice as long"
    );
    net.up.clear();
    for _ in 0..10 {
        net.advance_to_timeout();
    }
    assert!(net.patient.poll_timeout().unwrap() - net.now <= MAX_RESEND_MS);
    net.up.clear();
    net.replica.add_link(LINK, net.now);
    net.settle();
    assert!(net.patient.in_step(LINK));
}

#[test]
fn a_lost_hello_is_asked_again_until_the_patient_announces() {
    let mut net = Net::new();
    net.replica.add_link(LINK, net.now);
    net.patient.add_link(LINK, net.now);
    net.pump();
    net.up.clear();
    net.down.clear();
    net.patient.remove_link(LINK);
    assert!(net.advance_to_timeout());
    assert_eq!(net.down.len(), 1, "the replica says hello again");
    net.patient.add_link(LINK, net.now);
    net.settle();
    assert!(net.replica.announced(LINK));
    assert_eq!(net.replica.poll_timeout(), None);
}

#[test]
fn reordered_entries_are_put_back_in_order() {
    let mut net = Net::attached();
    let g = net.grant();
    net.withdraw(g);
    net.grant();
    assert_eq!(net.up.len(), 3);
    net.up.swap(0, 2);
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0, 1, 2]);
    assert!(net.replica_errors.is_empty(), "{:?}", net.replica_errors);
}

#[test]
fn duplicated_messages_are_harmless() {
    let mut net = Net::attached();
    net.grant();
    let entry = net.up[0].clone();
    net.settle();
    let checkpoint = {
        net.grant();
        net.deliver(true);
        net.down[0].clone()
    };
    net.settle();
    for _ in 0..3 {
        net.send_up(&entry).unwrap();
        net.send_down(&checkpoint).unwrap();
    }
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0, 1], "nothing accepted twice");
    assert!(net.patient_errors.is_empty() && net.replica_errors.is_empty());
}

#[test]
fn garbled_messages_are_typed_errors_that_change_nothing() {
    let mut net = Net::attached();
    net.grant();
    net.settle();
    let before = (net.replica_size(), net.patient.manager().export());
    for bytes in [
        &[][..],
        &[TAG_ENTRY],
        &[TAG_ANNOUNCE, 1, 2, 3],
        &[TAG_HELLO, 0],
        &[0xC5, 1],
        b"{\"type\":\"reading\"}",
    ] {
        assert!(
            matches!(
                net.send_up(bytes),
                Err(LinkError::Ledger(LedgerError::Malformed(_)))
            ),
            "{bytes:?}"
        );
        assert!(
            matches!(
                net.send_down(bytes),
                Err(LinkError::Ledger(LedgerError::Malformed(_)))
            ),
            "{bytes:?}"
        );
    }
    // An entry that decodes as a message but not as an entry.
    assert!(matches!(
        net.send_up(&[TAG_ENTRY, 1, 2, 3]),
        Err(LinkError::Ledger(LedgerError::Malformed(_)))
    ));
    assert!(net.up.is_empty() && net.down.is_empty(), "nothing answered");
    assert_eq!(before, (net.replica_size(), net.patient.manager().export()));
    assert!(net.in_step());
}

#[test]
fn messages_for_the_other_side_are_misdirected() {
    let mut net = Net::attached();
    net.grant();
    net.settle();
    let entry = SyncMessage::Entry(
        net.patient
            .manager()
            .ledger()
            .entry_bytes(0)
            .unwrap()
            .to_vec(),
    );
    let announce = SyncMessage::Announce {
        ledger_id: LEDGER_ID,
        patient: patient_key().public_key(),
        size: 1,
    };
    for m in [&entry, &announce] {
        assert_eq!(net.send_down(&m.encode()), Err(LinkError::Misdirected));
    }
    let replica = net.replica.replica().unwrap();
    let status = SyncMessage::Status {
        checkpoint: replica.checkpoint(net.now),
        clinician: net.replica.public_key(),
    };
    for m in [SyncMessage::Hello, status] {
        assert_eq!(net.send_up(&m.encode()), Err(LinkError::Misdirected));
    }
    assert!(net.up.is_empty() && net.down.is_empty());
    assert!(net.in_step());
}

#[test]
fn a_forged_entry_or_checkpoint_is_refused_and_changes_nothing() {
    let mut net = Net::attached();
    net.grant();
    net.settle();
    // An entry signed by someone else's key, for the same ledger.
    let mut mallory = Ledger::new(
        LEDGER_ID,
        &ConsentKey::from_seed(&MALLORY_SEED).public_key(),
    )
    .unwrap();
    mallory
        .append(
            &ConsentKey::from_seed(&MALLORY_SEED),
            net.now,
            Event::Grant(grant(&[DataCategory::Recording])),
        )
        .unwrap();
    let forged = SyncMessage::Entry(mallory.entry_bytes(0).unwrap().to_vec()).encode();
    assert!(matches!(
        net.send_up(&forged),
        Err(LinkError::Ledger(LedgerError::Fork { seq: 0 }))
    ));
    // A checkpoint countersigned by a key the patient does not expect.
    let stranger = LedgerReplica::new(
        LEDGER_ID,
        &patient_key().public_key(),
        ConsentKey::from_seed(&MALLORY_SEED),
    )
    .unwrap();
    let cp = SyncMessage::Checkpoint {
        checkpoint: stranger.checkpoint(net.now),
        clinician: ConsentKey::from_seed(&MALLORY_SEED).public_key(),
    };
    assert_eq!(
        net.send_down(&cp.encode()),
        Err(LinkError::Ledger(LedgerError::UnknownClinicianKey))
    );
    // Another ledger announced on the link.
    let other = SyncMessage::Announce {
        ledger_id: [0xcd; 16],
        patient: patient_key().public_key(),
        size: 0,
    };
    assert_eq!(
        net.send_up(&other.encode()),
        Err(LinkError::Ledger(LedgerError::WrongLedger))
    );
    assert!(net.up.is_empty() && net.down.is_empty());
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0]);
    assert_eq!(net.video_allowed_by_replica(), Reason::Granted);
}

#[test]
fn a_status_from_an_unexpected_key_still_gets_every_entry() {
    let mut net = Net::new();
    net.grant();
    // The patient expects another clinician.
    net.patient
        .manager_mut()
        .expect_clinician(ConsentKey::from_seed(&MALLORY_SEED).public_key());
    net.patient.add_link(LINK, net.now);
    net.replica.add_link(LINK, net.now);
    net.settle();
    assert_eq!(net.replica_size(), 1, "the replica got the entry");
    assert!(net.patient.manager().ledger().checkpoint().is_none());
    assert!(
        net.patient_errors
            .iter()
            .all(|e| *e == LinkError::Ledger(LedgerError::UnknownClinicianKey))
    );
    assert_eq!(
        net.patient.poll_timeout(),
        None,
        "no checkpoint is awaited from it"
    );
}

#[test]
fn an_untimely_entry_halts_the_replica_until_the_next_announcement() {
    let mut net = Net::attached();
    net.grant();
    net.settle();
    // The patient's clock runs ten minutes ahead.
    net.patient
        .manager_mut()
        .record(
            Event::SasConfirmed {
                transcript: [1; 32],
            },
            net.now + 10 * 60_000,
        )
        .unwrap();
    net.local_entry();
    net.settle();
    assert!(matches!(
        net.replica_errors.as_slice(),
        [LinkError::Ledger(LedgerError::Untimely { seq: 1 })]
    ));
    assert!(matches!(
        net.replica_events.last(),
        Some(ReplicaEvent::Halted { link: LINK, seq: 1 })
    ));
    assert_eq!(
        net.video_allowed_by_replica(),
        Reason::NoGrant,
        "nothing is enforced"
    );
}

#[test]
fn a_resend_never_excuses_an_entry_held_back_too_long() {
    let mut net = Net::attached();
    let g = net.grant();
    net.settle();
    // The withdrawal is recorded, but the link loses everything for six minutes.
    net.withdraw(g);
    let start = net.now;
    while net.now < start + 6 * 60_000 {
        net.up.clear();
        assert!(net.advance_to_timeout(), "the patient keeps resending");
    }
    net.settle();
    assert!(matches!(
        net.replica_errors.last(),
        Some(LinkError::Ledger(LedgerError::Untimely { seq: 1 }))
    ));
    assert!(matches!(
        net.replica_events.last(),
        Some(ReplicaEvent::Halted { seq: 1, .. })
    ));
    assert_eq!(
        net.video_allowed_by_replica(),
        Reason::NoGrant,
        "the replica enforces nothing rather than the withdrawn grant"
    );
    // A full resync (the peer came back) takes it, marked late.
    net.patient.handle_peer_left(LINK);
    net.replica.handle_peer_left(LINK);
    net.patient.handle_reachable(LINK, net.now);
    net.replica.handle_reachable(LINK, net.now);
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.video_allowed_by_replica(), Reason::Withdrawn);
    assert!(net.replica.replica().unwrap().timing(1).unwrap().late);
}

#[test]
fn a_peer_that_left_resyncs_when_it_is_reachable_again() {
    let mut net = Net::attached();
    net.patient.handle_peer_left(LINK);
    net.replica.handle_peer_left(LINK);
    assert!(!net.patient.in_step(LINK));
    net.grant();
    assert!(
        net.up.is_empty(),
        "out of step: the entry waits for the status"
    );
    net.patient.handle_reachable(LINK, net.now);
    net.replica.handle_reachable(LINK, net.now);
    net.settle();
    assert!(net.in_step());
    assert_eq!(net.accepted(), vec![0]);
}

#[test]
fn messages_on_unknown_links_are_ignored() {
    let mut net = Net::attached();
    net.grant();
    let entry = net.up[0].clone();
    net.up.clear();
    assert_eq!(net.replica.handle_data(LINK + 1, &entry, net.now), Ok(()));
    assert_eq!(
        net.patient.handle_data(LINK + 1, &[TAG_HELLO], net.now),
        Ok(())
    );
    net.pump();
    assert!(net.up.is_empty() && net.down.is_empty());
    assert_eq!(net.replica_size(), 0);
}

/// One step of a hostile network.
#[derive(Clone, Debug)]
enum Step {
    /// The patient grants, or withdraws its oldest active grant.
    Change(bool),
    /// Delivers the i-th waiting message of a direction (true: up).
    Deliver(bool, usize),
    Drop(bool, usize),
    Duplicate(bool, usize),
    /// Moves the i-th waiting message to the back.
    Delay(bool, usize),
    Advance(u64),
    Reachable,
    PeerLeft,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => any::<bool>().prop_map(Step::Change),
        6 => (any::<bool>(), 0usize..8).prop_map(|(d, i)| Step::Deliver(d, i)),
        2 => (any::<bool>(), 0usize..8).prop_map(|(d, i)| Step::Drop(d, i)),
        2 => (any::<bool>(), 0usize..8).prop_map(|(d, i)| Step::Duplicate(d, i)),
        2 => (any::<bool>(), 0usize..8).prop_map(|(d, i)| Step::Delay(d, i)),
        2 => (0u64..3_000).prop_map(Step::Advance),
        1 => Just(Step::Reachable),
        1 => Just(Step::PeerLeft),
    ]
}

impl Net {
    fn queue(&mut self, up: bool) -> &mut VecDeque<Vec<u8>> {
        if up { &mut self.up } else { &mut self.down }
    }

    fn apply(&mut self, step: &Step) {
        match *step {
            Step::Change(true) => {
                self.grant();
            }
            Step::Change(false) => {
                let active = self
                    .patient
                    .manager()
                    .list()
                    .iter()
                    .find(|g| g.status == GrantStatus::Active)
                    .map(|g| g.seq);
                if let Some(seq) = active {
                    self.withdraw(seq);
                }
            }
            Step::Deliver(up, i) => {
                let q = self.queue(up);
                if !q.is_empty() {
                    let i = i % q.len();
                    let bytes = q.remove(i).unwrap();
                    let _ = if up {
                        self.send_up(&bytes)
                    } else {
                        self.send_down(&bytes)
                    };
                }
            }
            Step::Drop(up, i) => {
                let q = self.queue(up);
                if !q.is_empty() {
                    let i = i % q.len();
                    q.remove(i);
                }
            }
            Step::Duplicate(up, i) => {
                let q = self.queue(up);
                if !q.is_empty() {
                    let i = i % q.len();
                    let copy = q[i].clone();
                    q.push_back(copy);
                }
            }
            Step::Delay(up, i) => {
                let q = self.queue(up);
                if !q.is_empty() {
                    let i = i % q.len();
                    let m = q.remove(i).unwrap();
                    q.push_back(m);
                }
            }
            Step::Advance(ms) => self.advance(ms),
            Step::Reachable => {
                self.patient.handle_reachable(LINK, self.now);
                self.replica.handle_reachable(LINK, self.now);
                self.pump();
            }
            Step::PeerLeft => {
                self.patient.handle_peer_left(LINK);
                self.replica.handle_peer_left(LINK);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever a hostile network does, once it delivers again (and the timers run) both
    /// sides converge on the same ledger, the patient holds a checkpoint of all of it, and
    /// the replica accepted each entry exactly once, in order, without a single error.
    #[test]
    fn any_drop_duplicate_reorder_sequence_converges(steps in proptest::collection::vec(step(), 0..60)) {
        let mut net = Net::new();
        net.patient.add_link(LINK, net.now);
        net.replica.add_link(LINK, net.now);
        net.pump();
        for s in &steps {
            net.apply(s);
        }
        // The network heals: everything waiting is delivered, and the timers do the rest.
        // A peer that left has not come back until the driver says it is reachable.
        net.patient.handle_reachable(LINK, net.now);
        net.replica.handle_reachable(LINK, net.now);
        for _ in 0..20 {
            net.settle();
            if net.in_step() {
                break;
            }
            prop_assert!(net.advance_to_timeout(), "stuck with nothing armed");
        }
        prop_assert!(net.in_step());
        let size = net.patient.manager().ledger().size();
        prop_assert_eq!(net.accepted(), (0..size).collect::<Vec<_>>());
        prop_assert!(net.replica_errors.is_empty(), "{:?}", net.replica_errors);
        prop_assert!(net.patient_errors.is_empty(), "{:?}", net.patient_errors);
        prop_assert_eq!(
            net.replica.replica().unwrap().ledger().state(),
            net.patient.manager().ledger().state()
        );
    }
}
