//! The waiting room: patients and guests wait until a clinician admits or denies them.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::SessionError;
use teleconsult::signaling::relay_wire::{Role, ServerMessage};
use teleconsult::signaling::{CloseReason, Event, Phase, SdpKind, SecurityKind};

#[test]
fn a_denied_patient_is_closed_without_media() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.connect(p);
    net.run_for(500);
    let now = net.now;
    net.nodes[c].session.deny(pid(2), now).unwrap();
    net.run_for(500);
    assert_eq!(net.phase(p), Phase::Closed);
    assert!(
        net.nodes[p]
            .events
            .contains(&Event::Closed(CloseReason::Denied))
    );
    // The patient prepared a connection for the clinician while it waited and made its
    // early offer; the denial closed it before it ever held a remote description, and the
    // clinician never set that offer nor made a connection.
    let patient_pcs = &net.nodes[p].pcs;
    assert_eq!(patient_pcs.len(), 1);
    assert!(patient_pcs.values().all(|pc| pc.prepared == 1
        && pc.closed == 1
        && pc.offers_created == 1
        && pc.answers_created == 0
        && pc.remote_descriptions.is_empty()));
    assert!(net.nodes[c].pcs.is_empty());
    assert!(
        net.nodes[c]
            .events
            .contains(&Event::PeerDenied { peer: pid(2) })
    );
    let now = net.now;
    assert!(net.nodes[c].session.admit(pid(2), now).is_err());
}

#[test]
fn nobody_admitting_in_time_ends_the_wait() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.connect(p);
    net.run_for(29 * 60_000);
    assert_eq!(net.phase(p), Phase::Waiting);
    net.run_for(2 * 60_000);
    assert!(
        net.nodes[p]
            .events
            .contains(&Event::Closed(CloseReason::WaitingRoomTimeout))
    );
}

#[test]
fn only_clinicians_admit() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    let g = net.add(3, Role::Guest);
    for i in [c, p, g] {
        net.connect(i);
    }
    net.run_for(500);
    let now = net.now;
    assert_eq!(
        net.nodes[p].session.admit(pid(3), now),
        Err(SessionError::NotPermitted)
    );
    assert_eq!(
        net.nodes[g].session.deny(pid(2), now),
        Err(SessionError::NotPermitted)
    );
    assert_eq!(net.phase(g), Phase::Waiting);
}

#[test]
fn a_second_patient_is_refused() {
    let mut net = two_party_call();
    let r = net.inject(
        0,
        &ServerMessage::Joined {
            id: pid(9),
            role: Role::Patient,
        },
    );
    assert_eq!(r, Err(SessionError::RoleConflict));
    assert!(net.nodes[0].session.peer(pid(9)).is_none());
    assert_eq!(
        net.nodes[0]
            .session
            .security_count(SecurityKind::RoleConflict),
        1
    );
}

#[test]
fn a_participant_claiming_a_second_role_is_refused() {
    let mut net = two_party_call();
    let before = snapshot(&net.nodes[0].session);
    let r = net.inject(
        0,
        &ServerMessage::Joined {
            id: pid(2),
            role: Role::Clinician,
        },
    );
    assert_eq!(r, Err(SessionError::RoleConflict));
    assert_eq!(snapshot(&net.nodes[0].session), before);
}

#[test]
fn the_room_holds_at_most_six() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    net.connect(c);
    net.run_for(10);
    for n in 2..=6 {
        assert!(
            net.inject(
                c,
                &ServerMessage::Joined {
                    id: pid(n),
                    role: Role::Guest
                }
            )
            .is_ok()
        );
    }
    let r = net.inject(
        c,
        &ServerMessage::Joined {
            id: pid(7),
            role: Role::Guest,
        },
    );
    assert_eq!(r, Err(SessionError::RoomFull));
    assert_eq!(net.nodes[c].session.peers().len(), 5);
}

#[test]
fn connections_are_prepared_before_negotiation_and_only_the_early_offer_is_made_while_waiting() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.connect(p);
    net.run_for(500);
    assert_eq!(net.phase(p), Phase::Waiting);
    // Waiting: the patient holds a prepared connection with its early offer and nothing
    // remote; the clinician, which has not admitted anyone, holds no connection at all.
    let waiting = net.nodes[p].pc(pid(1));
    assert_eq!(waiting.prepared, 1);
    assert!(
        waiting.local == Some(SdpKind::Offer) && !waiting.remote && waiting.offers_created == 1
    );
    assert!(net.nodes[c].pcs.is_empty());

    let now = net.now;
    net.nodes[c].session.admit(pid(2), now).unwrap();
    net.run_for(2_000);
    // Admitted: the patient's offer, made on the connection it prepared (prepared once,
    // never closed), is the one answered; the clinician prepared its own connection at the
    // admission and only then set the offer it held.
    let patient_pc = net.nodes[p].pc(pid(1));
    assert_eq!(
        (
            patient_pc.prepared,
            patient_pc.closed,
            patient_pc.offers_created
        ),
        (1, 0, 1)
    );
    let clinician_pc = net.nodes[c].pc(pid(2));
    assert_eq!(
        (clinician_pc.prepared, clinician_pc.answers_created),
        (1, 1)
    );
    assert!(patient_pc.connected && clinician_pc.connected);
}

#[test]
fn the_admission_follows_the_reply_hello_without_waiting_for_key_confirmation() {
    const SIGNAL: u8 = 0x02;
    const ACK: u8 = 0x04;
    let mut net = Net::new();
    // A relay that hands newcomers no hellos: the patient's key confirmation then follows
    // the clinician's reply (with one, it travels beside the patient's first hello).
    net.relay.keeps_no_broadcasts = true;
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.run_for(100);
    net.connect(p);
    // Step until the clinician is asked to admit: it has just answered the patient's hello.
    for _ in 0..100 {
        if net.nodes[c].count(|e| matches!(e, Event::AdmissionRequested { .. })) > 0 {
            break;
        }
        net.run_for(1);
    }
    // The patient's key confirmation has not reached the clinician yet…
    assert!(frames(&net, pid(2), pid(1), ACK).is_empty());
    let now = net.now;
    net.nodes[c].session.admit(pid(2), now).unwrap();
    net.flush(c);
    // …yet the sealed admission is already on its way, right behind the reply hello and the
    // SAS commitment (the lower id commits as soon as the pair has keys), with the resume
    // ticket that comes with an admission.
    assert_eq!(frames(&net, pid(1), pid(2), SIGNAL).len(), 3);
    net.run_for(2_000);
    assert_eq!(net.phase(p), Phase::InCall);
    assert!(net.all_connected(&[c, p]));
}
