//! Hostile hellos: a wrong room secret, a claimed role the relay did not grant, a
//! downgrade, and a flood. All refused without state change and without a panic.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::{Ephemeral, RoomKeys, RoomSecret, Sealer};
use teleconsult::signaling::SessionError;
use teleconsult::signaling::message::Hello;
use teleconsult::signaling::relay_wire::{Role, ServerMessage};
use teleconsult::signaling::{Event, SecurityKind};

/// A hello sealed by an insider who knows `secret`.
fn craft_hello(
    secret: [u8; 32],
    n: u8,
    role: Role,
    max_version: u8,
    epoch: u64,
    salt: [u8; 8],
) -> Vec<u8> {
    let keys = RoomKeys::derive(&ROOM, &RoomSecret::from_bytes(secret));
    let st = Ephemeral::from_random([n.wrapping_add(50); 32]);
    let eph = Ephemeral::from_random([epoch as u8; 32]);
    let h = Hello {
        max_version,
        epoch,
        static_public: st.public(),
        ephemeral_public: eph.public(),
        role,
        capabilities: 0,
        name: "mallory".into(),
        proof: None,
        reply_to: 0,
    };
    Sealer::new(&keys.hello_key(&pid(n).0, &salt), salt)
        .seal(0x01, &ROOM.0, &pid(n).0, &[0; 8], &h.encode())
        .unwrap()
}

#[test]
fn hello_with_a_wrong_room_secret_never_connects() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add_config(config(2, Role::Patient, [0x99; 32]));
    net.connect(c);
    net.connect(p);
    net.run_for(35_000);
    assert!(!net.nodes[c].session.peer(pid(2)).unwrap().secured);
    assert!(net.nodes[c].session.peer(pid(2)).unwrap().name.is_none());
    assert!(
        net.nodes[c]
            .session
            .security_count(SecurityKind::AuthenticationFailed)
            >= 1
    );
    assert!(
        net.nodes[c]
            .events
            .contains(&Event::HandshakeTimeout { peer: pid(2) })
    );
    assert_eq!(
        net.nodes[c].count(|e| matches!(e, Event::AdmissionRequested { .. })),
        0
    );
    assert!(
        net.nodes[p]
            .session
            .security_count(SecurityKind::AuthenticationFailed)
            >= 1
    );
}

#[test]
fn a_hello_claiming_a_role_the_relay_did_not_grant_is_refused() {
    let mut net = two_party_call();
    net.inject(
        0,
        &ServerMessage::Joined {
            id: pid(3),
            role: Role::Guest,
        },
    )
    .unwrap();
    let before = snapshot(&net.nodes[0].session);
    for claimed in [Role::Clinician, Role::Patient] {
        let h = craft_hello(SECRET, 3, claimed, 2, 5, [1; 8]);
        assert_eq!(
            net.inject_frame(0, pid(3), h),
            Err(SessionError::RoleConflict)
        );
    }
    assert_eq!(snapshot(&net.nodes[0].session), before);
    assert_eq!(
        net.nodes[0]
            .session
            .security_count(SecurityKind::RoleConflict),
        2
    );
    // The honest hello is accepted.
    assert!(
        net.inject_frame(0, pid(3), craft_hello(SECRET, 3, Role::Guest, 2, 5, [2; 8]))
            .is_ok()
    );
    assert!(net.nodes[0].session.peer(pid(3)).unwrap().name.is_some());
}

#[test]
fn a_hello_offering_only_an_older_version_is_a_downgrade() {
    let mut net = two_party_call();
    net.inject(
        0,
        &ServerMessage::Joined {
            id: pid(3),
            role: Role::Guest,
        },
    )
    .unwrap();
    let before = snapshot(&net.nodes[0].session);
    let h = craft_hello(SECRET, 3, Role::Guest, 1, 5, [1; 8]);
    assert_eq!(net.inject_frame(0, pid(3), h), Err(SessionError::Downgrade));
    assert_eq!(snapshot(&net.nodes[0].session), before);
}

#[test]
fn a_flood_of_hellos_is_rate_limited_and_the_call_goes_on() {
    let mut net = two_party_call();
    net.inject(
        0,
        &ServerMessage::Joined {
            id: pid(3),
            role: Role::Guest,
        },
    )
    .unwrap();
    let sent_before = net.relay.transmitted.len();
    let mut limited = 0;
    for k in 0..60u64 {
        let h = craft_hello(SECRET, 3, Role::Guest, 2, 10 + k, k.to_be_bytes());
        if net.inject_frame(0, pid(3), h) == Err(SessionError::RateLimited) {
            limited += 1;
        }
    }
    assert!(limited >= 60 - 12, "{limited}");
    // At most one answer per accepted hello went out, with what was queued towards that
    // peer (here the SAS commitment) under the new keys: bounded by the hello limit.
    assert!(net.relay.transmitted.len() - sent_before <= 2 * 12);
    // Security events are rate-limited too, while the count goes on.
    let floods = net.nodes[0]
        .count(|e| matches!(e, Event::Security(s) if s.kind == SecurityKind::RateLimited));
    assert_eq!(floods, 1);
    assert_eq!(
        net.nodes[0]
            .session
            .security_count(SecurityKind::RateLimited),
        limited
    );
    // The real call is unaffected.
    let now = net.now;
    net.nodes[1]
        .session
        .send_app_data(pid(1), b"still here", now)
        .unwrap();
    net.run_for(500);
    assert_eq!(net.nodes[0].app_data(pid(2)), vec![b"still here".to_vec()]);
}
