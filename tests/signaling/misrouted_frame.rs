//! Frames from another room, addressed to someone else, with a forged sender, or from a
//! participant the relay never announced are rejected without state change.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::{RoomKeys, RoomSecret, Sealer};
use teleconsult::signaling::SecurityKind;
use teleconsult::signaling::SessionError;
use teleconsult::signaling::relay_wire::{ParticipantId, Role};

const APP: u8 = 0x03;

fn three_party_call() -> Net {
    let mut net = Net::new();
    for (n, r) in [(1, Role::Clinician), (2, Role::Patient), (3, Role::Guest)] {
        let i = net.add(n, r);
        net.connect(i);
    }
    net.run_for(500);
    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[0, 1, 2]));
    net
}

#[test]
fn a_frame_addressed_to_someone_else_is_rejected() {
    let mut net = three_party_call();
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"for the clinician", now)
        .unwrap();
    net.run_for(100);
    let f = frames(&net, pid(2), pid(1), APP).pop().unwrap();
    let before = snapshot(&net.nodes[2].session);
    // A malicious relay hands the clinician's frame to the guest.
    assert_eq!(
        net.inject_frame(2, pid(2), f),
        Err(SessionError::Misaddressed)
    );
    assert_eq!(snapshot(&net.nodes[2].session), before);
    assert!(net.nodes[2].app_data(pid(2)).is_empty());
    assert_eq!(
        net.nodes[2].session.security_count(SecurityKind::Misrouted),
        1
    );
}

#[test]
fn a_frame_with_a_forged_sender_is_rejected() {
    let mut net = three_party_call();
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"x", now)
        .unwrap();
    net.run_for(100);
    let f = frames(&net, pid(2), pid(1), APP).pop().unwrap();
    // The relay claims the guest sent the patient's frame.
    assert_eq!(
        net.inject_frame(0, pid(3), f),
        Err(SessionError::SenderMismatch)
    );
}

#[test]
fn a_frame_from_another_room_is_rejected() {
    let mut net = three_party_call();
    // A participant of another room (same ids, another room id and secret) seals a hello.
    let other_room = [0x77; 16];
    let keys = RoomKeys::derive(
        &teleconsult::crypto::RoomId(other_room),
        &RoomSecret::from_bytes([9; 32]),
    );
    let mut s = Sealer::new(&keys.hello_key(&pid(2).0, &[1; 8]), [1; 8]);
    let f = s
        .seal(0x01, &other_room, &pid(2).0, &[0; 8], &[0; 100])
        .unwrap();
    let before = snapshot(&net.nodes[0].session);
    assert_eq!(net.inject_frame(0, pid(2), f), Err(SessionError::WrongRoom));
    assert_eq!(snapshot(&net.nodes[0].session), before);
}

#[test]
fn a_frame_from_an_unannounced_participant_is_rejected() {
    let mut net = three_party_call();
    let f = frames(&net, pid(2), pid(1), 0x02).pop().unwrap();
    let stranger = ParticipantId([0x99; 8]);
    assert_eq!(
        net.inject_frame(0, stranger, f),
        Err(SessionError::UnknownPeer)
    );
}
