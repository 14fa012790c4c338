//! A link with the wrong room secret (garbled, or from another visit): the peers are both in
//! the room, but no hello opens. Both sides learn it within seconds, once per peer, instead
//! of one waiting forever; nothing is keyed; and a right link is never reported.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use crate::common;

use common::*;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Event, Phase};

fn mismatches(
    net: &Net,
    i: usize,
) -> Vec<(teleconsult::signaling::relay_wire::ParticipantId, Role)> {
    net.nodes[i]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::LinkMismatch { peer, role } => Some((*peer, *role)),
            _ => None,
        })
        .collect()
}

#[test]
fn both_sides_learn_within_seconds_that_the_links_do_not_match() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add_config(config(2, Role::Patient, [0x55; 32]));
    net.connect(c);
    net.run_for(100);
    net.connect(p);
    // Hellos are retried after 1 s, then 2 s: the second failure comes within about 3 s.
    net.run_for(5_000);
    assert_eq!(
        mismatches(&net, p),
        [(pid(1), Role::Clinician)],
        "the patient is told"
    );
    assert_eq!(
        mismatches(&net, c),
        [(pid(2), Role::Patient)],
        "the clinician is told"
    );
    // Once per peer, however long the hellos keep failing; nothing is ever keyed.
    net.run_for(60_000);
    assert_eq!(mismatches(&net, p).len(), 1);
    assert_eq!(mismatches(&net, c).len(), 1);
    assert_eq!(
        net.nodes[c].count(|e| matches!(e, Event::PeerJoined { .. })),
        0
    );
    assert_eq!(net.phase(p), Phase::Waiting);
}

#[test]
fn matching_links_are_never_reported() {
    let net = two_party_call();
    for i in 0..2 {
        assert!(mismatches(&net, i).is_empty());
    }
}

/// A side that leaves as soon as it is told (the reference app's patient does) still gets
/// the other side told. With the hello the relay kept, a newcomer can reach its count before
/// its own first retry is due (here its retries are slower than the clinician's); its last
/// hello, sent when it is told, makes the clinician's count.
#[test]
fn a_side_that_leaves_as_soon_as_it_is_told_still_gets_the_other_told() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let mut patient = config(2, Role::Patient, [0x55; 32]);
    patient.timeouts.hello_retry = 3_000;
    let p = net.add_config(patient);
    net.connect(c);
    net.run_for(100);
    net.connect(p);
    for _ in 0..5_000 {
        net.run_for(1);
        if !mismatches(&net, p).is_empty() {
            net.close_tab(p);
            break;
        }
    }
    assert_eq!(mismatches(&net, p), [(pid(1), Role::Clinician)]);
    net.run_for(1_000);
    assert_eq!(
        mismatches(&net, c),
        [(pid(2), Role::Patient)],
        "the clinician is told"
    );
}
