//! Hanging up, ending the consultation, and peers that vanish.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::SessionError;
use teleconsult::signaling::relay_wire::{LeftReason, Role, ServerMessage};
use teleconsult::signaling::{CloseReason, Event, LeaveReason, Phase};

#[test]
fn hanging_up_closes_both_ends_cleanly() {
    let mut net = two_party_call();
    let now = net.now;
    net.nodes[1].session.hang_up(now).unwrap();
    net.flush(1);
    assert_eq!(net.phase(1), Phase::Closed);
    assert!(
        net.nodes[1]
            .events
            .contains(&Event::Closed(CloseReason::HungUp))
    );
    assert_eq!(net.nodes[1].pc(pid(1)).closed, 1);
    net.run_for(100);
    assert!(net.nodes[0].events.contains(&Event::PeerLeft {
        peer: pid(2),
        reason: LeaveReason::Left
    }));
    assert_eq!(net.nodes[0].pc(pid(2)).closed, 1);
    assert!(net.nodes[0].session.peer(pid(2)).is_none());
    assert_eq!(net.phase(0), Phase::InCall, "the clinician stays");
    // A closed session refuses input and hang_up stays idempotent.
    let now = net.now;
    assert!(net.nodes[1].session.hang_up(now).is_ok());
    let r = net.nodes[1].session.send_app_data(pid(1), b"x", now);
    assert_eq!(r, Err(SessionError::Closed));
    let pong = ServerMessage::Pong { nonce: [0; 8] }.encode();
    assert!(
        net.nodes[1]
            .session
            .handle_relay_message(&pong, now)
            .is_err()
    );
    assert_eq!(net.nodes[1].session.next_timeout(), None);
}

#[test]
fn the_clinician_can_end_the_consultation_for_everyone() {
    let mut net = Net::new();
    for (n, r) in [(1, Role::Clinician), (2, Role::Patient), (3, Role::Guest)] {
        let i = net.add(n, r);
        net.connect(i);
    }
    net.run_for(500);
    net.admit_all();
    net.run_for(2_000);
    let now = net.now;
    assert_eq!(
        net.nodes[1].session.end_consultation(now),
        Err(SessionError::NotPermitted)
    );
    net.nodes[0].session.end_consultation(now).unwrap();
    net.flush(0);
    net.run_for(100);
    for i in [1, 2] {
        assert_eq!(net.phase(i), Phase::Closed);
        assert!(
            net.nodes[i]
                .events
                .contains(&Event::Closed(CloseReason::EndedByClinician))
        );
        assert!(net.nodes[i].pcs.values().all(|pc| pc.closed == 1));
    }
}

#[test]
fn a_peer_closing_its_connection_is_gone() {
    let mut net = two_party_call();
    net.inject(
        0,
        &ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Closed,
        },
    )
    .unwrap();
    assert!(net.nodes[0].events.contains(&Event::PeerLeft {
        peer: pid(2),
        reason: LeaveReason::Left
    }));
    assert_eq!(net.nodes[0].pc(pid(2)).closed, 1);
}

#[test]
fn a_lost_peer_is_forgotten_after_the_grace_period_unless_it_resumes() {
    let mut net = two_party_call();
    net.disconnect(1);
    net.run_for(30_000);
    assert!(
        net.nodes[0]
            .session
            .peer(pid(2))
            .is_some_and(|p| !p.present)
    );
    net.run_for(31_000);
    assert!(net.nodes[0].events.contains(&Event::PeerLeft {
        peer: pid(2),
        reason: LeaveReason::Lost
    }));
    // Undelivered app data is reported, not silently lost.
    let mut net = two_party_call();
    net.disconnect(1);
    let now = net.now;
    net.nodes[0]
        .session
        .send_app_data(pid(2), b"reading", now)
        .unwrap();
    net.run_for(61_000);
    assert!(net.nodes[0].events.contains(&Event::AppDataUndelivered {
        peer: pid(2),
        count: 1
    }));
}

#[test]
fn a_silent_relay_is_reported_stalled() {
    let mut net = two_party_call();
    // The relay stops answering anything (pings included).
    net.nodes[1].online = false;
    net.run_for(30_000);
    assert!(net.nodes[1].events.contains(&Event::RelayStalled));
    assert!(!net.nodes[1].session.is_relay_joined());
}
