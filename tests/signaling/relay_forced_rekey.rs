//! The relay holds no secret but controls presence: it can fake `Left`/`Joined`, replay
//! hellos and frames, and reorder. Whatever it does, no session seals two frames under one
//! (key, nonce) and no message is delivered twice (issue 13, finding 1). Every sealer
//! records its (key, nonce) uses through the `nonce-audit` instrumentation.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use std::collections::BTreeSet;

use common::*;
use proptest::prelude::*;
use teleconsult::crypto::nonce_audit;
use teleconsult::signaling::relay_wire::{LeftReason, ParticipantId, Role, ServerMessage};
use teleconsult::signaling::{Event, SecurityKind, Session};

const HELLO: u8 = 0x01;

/// Fails if any (key, nonce) pair was used twice since the last call.
fn assert_no_nonce_reuse() {
    let uses = nonce_audit::take();
    let mut seen = BTreeSet::new();
    for u in &uses {
        assert!(seen.insert(*u), "a (key, nonce) pair was sealed twice");
    }
    assert!(
        !uses.is_empty(),
        "the audit recorded nothing: instrumentation broken"
    );
}

/// Fails if node `i` delivered the same app data from the same peer twice (every payload
/// the tests send is unique).
fn assert_delivered_once(net: &Net, i: usize) {
    let mut seen = BTreeSet::new();
    for e in &net.nodes[i].events {
        if let Event::AppData { peer, data } = e {
            assert!(
                seen.insert((*peer, data.clone())),
                "app data delivered twice"
            );
        }
    }
}

fn send(net: &mut Net, from: usize, to: ParticipantId, data: &[u8]) {
    let now = net.now;
    let _ = net.nodes[from].session.send_app_data(to, data, now);
    net.flush(from);
}

/// Every frame `from` sent to `to` (or broadcast), in order.
fn stream(net: &Net, from: ParticipantId, to: ParticipantId) -> Vec<Vec<u8>> {
    net.relay
        .log
        .iter()
        .filter(|(f, t, _)| *f == from && (*t == to || t.is_broadcast()))
        .map(|(_, _, p)| p.clone())
        .collect()
}

#[test]
fn relay_faked_leave_and_join_then_replay_cannot_reuse_a_nonce_or_redeliver() {
    nonce_audit::take();
    let mut net = two_party_call();
    for m in [&b"p1"[..], b"p2", b"p3"] {
        send(&mut net, 1, pid(1), m);
    }
    send(&mut net, 0, pid(2), b"c1");
    net.run_for(500);
    let old = stream(&net, pid(2), pid(1));
    // The attack: the relay tells the clinician the patient left and came back, then
    // replays the patient's whole earlier stream, hello included.
    let _ = net.inject(
        0,
        &ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Closed,
        },
    );
    let _ = net.inject(
        0,
        &ServerMessage::Joined {
            id: pid(2),
            role: Role::Patient,
        },
    );
    for f in &old {
        let _ = net.inject_frame(0, pid(2), f.clone());
    }
    // The clinician keeps talking; the real patient keeps talking too.
    send(&mut net, 0, pid(2), b"c2");
    net.run_for(3_000);
    send(&mut net, 1, pid(1), b"p4");
    send(&mut net, 0, pid(2), b"c3");
    net.run_for(3_000);
    assert_no_nonce_reuse();
    assert_delivered_once(&net, 0);
    assert_delivered_once(&net, 1);
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        vec![
            b"p1".to_vec(),
            b"p2".to_vec(),
            b"p3".to_vec(),
            b"p4".to_vec()
        ],
        "the old stream is not delivered again, and the channel still works"
    );
    assert_eq!(
        net.nodes[1].app_data(pid(1)),
        vec![b"c1".to_vec(), b"c2".to_vec(), b"c3".to_vec()]
    );
}

#[test]
fn replayed_hello_from_a_restarted_peers_previous_session_is_refused() {
    nonce_audit::take();
    let mut net = two_party_call();
    send(&mut net, 1, pid(1), b"old session");
    net.run_for(500);
    let old = stream(&net, pid(2), pid(1));
    let old_hellos: Vec<_> = old.iter().filter(|f| f[1] == HELLO).cloned().collect();
    assert!(!old_hellos.is_empty());
    // The patient reloads: a new session (new static key) under the same participant id.
    net.disconnect(1);
    let mut cfg = config(2, Role::Patient, SECRET);
    cfg.entropy = [0x99; 32];
    net.nodes[1].session = Session::new(cfg);
    net.nodes[1].events.clear();
    net.nodes[1].pcs.clear();
    net.connect(1);
    net.run_for(1_000);
    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[0, 1]));
    send(&mut net, 1, pid(1), b"new session");
    net.run_for(500);
    let replays_before = net.nodes[0].session.security_count(SecurityKind::Replay);
    // The attack: the relay replays the previous session's hello, then its frames.
    for f in &old {
        let _ = net.inject_frame(0, pid(2), f.clone());
    }
    net.run_for(3_000);
    assert!(
        net.nodes[0].session.security_count(SecurityKind::Replay) > replays_before,
        "the old hello is recognised as a replay"
    );
    assert!(net.all_connected(&[0, 1]), "the live call is not disturbed");
    assert_no_nonce_reuse();
    assert_delivered_once(&net, 0);
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        vec![b"old session".to_vec(), b"new session".to_vec()]
    );
}

/// One thing a hostile relay (or the network) does.
#[derive(Clone, Debug)]
enum Attack {
    /// Tell node `to` that node `about` left (closed or removed) or was lost.
    Leave { to: usize, about: usize, how: u8 },
    /// Tell node `to` that node `about` joined.
    Join { to: usize, about: usize },
    /// A stale welcome.
    Welcome { to: usize },
    /// Deliver the `k`-th logged frame again (modulo the log's length) to its recipient.
    Replay { k: usize },
    /// Deliver the `k`-th logged frame to every other member.
    ReplayEverywhere { k: usize },
    /// The relay connection of a node drops and comes back.
    Bounce { node: usize },
    /// Application data, unique each time.
    Send { from: usize, to: usize },
    /// Time passes.
    Run { ms: u64 },
}

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        (0..3usize, 0..3usize, 0..3u8).prop_map(|(to, about, how)| Attack::Leave {
            to,
            about,
            how
        }),
        (0..3usize, 0..3usize).prop_map(|(to, about)| Attack::Join { to, about }),
        (0..3usize).prop_map(|to| Attack::Welcome { to }),
        any::<usize>().prop_map(|k| Attack::Replay { k }),
        any::<usize>().prop_map(|k| Attack::ReplayEverywhere { k }),
        (0..3usize).prop_map(|node| Attack::Bounce { node }),
        (0..3usize, 0..3usize).prop_map(|(from, to)| Attack::Send { from, to }),
        (1..4_000u64).prop_map(|ms| Attack::Run { ms }),
    ]
}

const ROLES: [Role; 3] = [Role::Clinician, Role::Patient, Role::Guest];

fn play(net: &mut Net, a: &Attack, counter: &mut u32) {
    match *a {
        Attack::Leave { to, about, how } if to != about => {
            let reason =
                [LeftReason::Closed, LeftReason::Removed, LeftReason::Lost][usize::from(how)];
            let id = net.nodes[about].id;
            let _ = net.inject(to, &ServerMessage::Left { id, reason });
        }
        Attack::Join { to, about } if to != about => {
            let (id, role) = (net.nodes[about].id, ROLES[about]);
            let _ = net.inject(to, &ServerMessage::Joined { id, role });
        }
        Attack::Welcome { to } => {
            let present = (0..3)
                .filter(|&i| i != to)
                .map(|i| (net.nodes[i].id, ROLES[i]))
                .collect();
            let _ = net.inject(
                to,
                &ServerMessage::Welcome {
                    role: ROLES[to],
                    present,
                },
            );
        }
        Attack::Replay { k } if !net.relay.log.is_empty() => {
            let (from, to, payload) = net.relay.log[k % net.relay.log.len()].clone();
            for i in 0..3 {
                if net.nodes[i].id != from && (to.is_broadcast() || net.nodes[i].id == to) {
                    let _ = net.inject_frame(i, from, payload.clone());
                }
            }
        }
        Attack::ReplayEverywhere { k } if !net.relay.log.is_empty() => {
            let (from, _, payload) = net.relay.log[k % net.relay.log.len()].clone();
            for i in 0..3 {
                if net.nodes[i].id != from {
                    let _ = net.inject_frame(i, from, payload.clone());
                }
            }
        }
        Attack::Bounce { node } => {
            if net.nodes[node].online {
                net.disconnect(node);
                net.run_for(50);
            }
            net.connect(node);
        }
        Attack::Send { from, to } if from != to => {
            *counter += 1;
            let data = format!("m{counter}");
            let to = net.nodes[to].id;
            send(net, from, to, data.as_bytes());
        }
        Attack::Run { ms } => net.run_for(ms),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn relay_injected_sequences_never_reuse_a_nonce_or_deliver_twice(
        attacks in proptest::collection::vec(attack(), 1..40)
    ) {
        nonce_audit::take();
        let mut net = Net::new();
        for (n, role) in [(1, Role::Clinician), (2, Role::Patient), (3, Role::Guest)] {
            let i = net.add(n, role);
            net.connect(i);
            net.run_for(100);
        }
        net.admit_all();
        net.run_for(1_000);
        let mut counter = 0;
        for a in &attacks {
            play(&mut net, a, &mut counter);
            // The relay may also reorder: everything it holds is delivered in a shuffled
            // order by replays above; here time moves on so retransmissions happen.
            net.run_for(10);
        }
        net.run_for(5_000);
        let uses = nonce_audit::take();
        let mut seen = BTreeSet::new();
        for u in &uses {
            prop_assert!(seen.insert(*u), "a (key, nonce) pair was sealed twice");
        }
        for i in 0..3 {
            let mut seen = BTreeSet::new();
            for e in &net.nodes[i].events {
                if let Event::AppData { peer, data } = e {
                    prop_assert!(seen.insert((*peer, data.clone())), "app data delivered twice");
                }
            }
        }
    }
}
