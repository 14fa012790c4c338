//! ICE failure triggers an ICE restart; the media path comes back; restarts are bounded.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::{Event, IceState, MediaRequest};

#[test]
fn failed_ice_is_restarted_by_the_impolite_peer_and_recovers() {
    let mut net = two_party_call();
    let (c, p) = (0, 1);
    report_ice(&mut net, c, pid(2), IceState::Failed);
    report_ice(&mut net, p, pid(1), IceState::Failed);
    assert_eq!(
        net.nodes[p].pc(pid(1)).ice_restarts,
        1,
        "impolite restarts at once"
    );
    net.run_for(5_000);
    assert_eq!(
        net.nodes[c].pc(pid(2)).ice_restarts,
        0,
        "polite waited and took the restart offer"
    );
    assert_eq!(net.nodes[p].pc(pid(1)).ice_restarts, 1);
    assert_eq!(
        net.nodes[c].count(|e| matches!(e, Event::PeerConnected { .. })),
        2
    );
    assert!(net.all_connected(&[c, p]));
}

#[test]
fn the_polite_peer_restarts_if_the_other_side_does_not() {
    let mut net = two_party_call();
    let c = 0;
    report_ice(&mut net, c, pid(2), IceState::Failed);
    net.run_for(2_000);
    assert_eq!(
        net.nodes[c].pc(pid(2)).ice_restarts,
        0,
        "grace period first"
    );
    net.run_for(2_000);
    assert_eq!(net.nodes[c].pc(pid(2)).ice_restarts, 1);
    assert!(net.all_connected(&[0, 1]));
}

#[test]
fn ice_disconnected_for_too_long_restarts() {
    let mut net = two_party_call();
    let p = 1;
    report_ice(&mut net, p, pid(1), IceState::Disconnected);
    net.run_for(4_000);
    assert_eq!(net.nodes[p].pc(pid(1)).ice_restarts, 0);
    net.run_for(2_000);
    assert_eq!(net.nodes[p].pc(pid(1)).ice_restarts, 1);
}

#[test]
fn a_brief_disconnection_does_not_restart() {
    let mut net = two_party_call();
    report_ice(&mut net, 1, pid(1), IceState::Disconnected);
    net.run_for(1_000);
    report_ice(&mut net, 1, pid(1), IceState::Connected);
    net.run_for(10_000);
    assert_eq!(net.nodes[1].pc(pid(1)).ice_restarts, 0);
}

#[test]
fn the_app_can_restart_ice_explicitly() {
    let mut net = two_party_call();
    let now = net.now;
    net.nodes[0].session.restart_ice(pid(2), now).unwrap();
    net.flush(0);
    net.run_for(2_000);
    assert_eq!(net.nodes[0].pc(pid(2)).ice_restarts, 1);
    assert!(net.all_connected(&[0, 1]));
}

#[test]
fn restarts_are_bounded_and_then_reported() {
    let mut net = two_party_call();
    let p = 1;
    net.nodes[p].auto_media = false;
    for _ in 0..8 {
        report_ice(&mut net, p, pid(1), IceState::Failed);
        net.nodes[p].held.clear();
        net.run_for(25_000);
    }
    assert_eq!(
        net.nodes[p].count(|e| matches!(e, Event::PeerMediaFailed { .. })),
        1
    );
    let _ = MediaRequest::Rollback;
}
