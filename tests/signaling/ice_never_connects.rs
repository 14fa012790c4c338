//! No network path between the browsers (no TURN server, a firewall that blocks UDP): ICE
//! never connects. Both sides are told within `Timeouts::media_connect` (15 s) of
//! negotiation beginning, once, instead of "Connecting…" forever; and a path that failed
//! after working is reported the same way.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use crate::common;

use common::*;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Event, IceState, Phase};

fn unreachable(net: &Net, i: usize) -> usize {
    net.nodes[i].count(|e| matches!(e, Event::PeerUnreachable { .. }))
}

#[test]
fn both_sides_are_told_within_15_s_once() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    for i in [c, p] {
        net.nodes[i].no_path = true;
    }
    net.connect(c);
    net.run_for(100);
    net.connect(p);
    net.run_for(500);
    net.admit_all();
    net.run_for(14_000);
    assert_eq!(
        (unreachable(&net, c), unreachable(&net, p)),
        (0, 0),
        "not before 15 s"
    );
    net.run_for(2_000);
    assert_eq!(
        (unreachable(&net, c), unreachable(&net, p)),
        (1, 1),
        "both told by 16 s"
    );
    net.run_for(120_000);
    assert_eq!((unreachable(&net, c), unreachable(&net, p)), (1, 1), "once");
    assert_eq!(
        net.phase(p),
        Phase::InCall,
        "the visit goes on: a path may still come"
    );
}

#[test]
fn a_path_that_works_is_never_reported_and_one_that_fails_later_is() {
    let mut net = two_party_call();
    net.run_for(60_000);
    assert_eq!((unreachable(&net, 0), unreachable(&net, 1)), (0, 0));
    net.nodes[1].no_path = true;
    report_ice(&mut net, 1, pid(1), IceState::Failed);
    net.run_for(14_000);
    assert_eq!(unreachable(&net, 1), 0);
    net.run_for(2_000);
    assert_eq!(unreachable(&net, 1), 1);
}
