//! A clinician and a patient (and then a guest) reach a connected call through the
//! waiting room, agree on the SAS, confirm it, and exchange app data.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Event, MediaRequest, Phase, SdpKind};

#[test]
fn clinician_and_patient_reach_connected_with_matching_sas() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.run_for(100);
    assert_eq!(net.phase(c), Phase::InCall);
    net.connect(p);
    net.run_for(1_000);
    // The patient waits; the clinician was asked; no media yet (the patient has made its
    // early offer on the connection it prepared; the clinician holds it, setting nothing).
    assert_eq!(net.phase(p), Phase::Waiting);
    assert_eq!(
        net.nodes[c]
            .count(|e| matches!(e, Event::AdmissionRequested { peer, .. } if *peer == pid(2))),
        1
    );
    assert!(net.nodes[c].pcs.is_empty());
    assert!(net.nodes[p].pcs.values().all(|pc| pc.prepared == 1
        && pc.local == Some(SdpKind::Offer)
        && !pc.remote
        && pc.remote_candidates == 0));
    let name = net.nodes[c].session.peer(pid(2)).unwrap().name.unwrap();
    assert_eq!(name.expose(), "participant 2");
    assert_eq!(format!("{name:?}"), "<redacted>");

    net.admit_all();
    net.run_for(2_000);
    assert_eq!(net.phase(p), Phase::InCall);
    assert!(net.all_connected(&[c, p]));
    // The impolite side (higher id: the patient) made the one and only offer.
    assert_eq!(net.nodes[p].pc(pid(1)).offers_created, 1);
    assert_eq!(net.nodes[c].pc(pid(2)).offers_created, 0);
    assert_eq!(net.nodes[c].pc(pid(2)).remote_descriptions.len(), 1);
    let sas_c = net.nodes[c].session.peer(pid(2)).unwrap().sas.unwrap();
    let sas_p = net.nodes[p].session.peer(pid(1)).unwrap().sas.unwrap();
    assert_eq!(sas_c, sas_p);
    assert_eq!(sas_c.digits().len(), 6);
    assert_eq!(
        net.nodes[c].count(|e| matches!(e, Event::SasReady { .. })),
        1
    );
}

#[test]
fn confirming_the_sas_is_recorded_on_both_sides() {
    let mut net = two_party_call();
    let (c, p) = (0, 1);
    assert!(!net.nodes[c].session.peer(pid(2)).unwrap().sas_confirmed);
    let now = net.now;
    net.nodes[c].session.confirm_sas(pid(2), now).unwrap();
    net.run_for(500);
    assert!(net.nodes[c].session.peer(pid(2)).unwrap().sas_confirmed);
    assert!(
        net.nodes[p]
            .session
            .peer(pid(1))
            .unwrap()
            .sas_confirmed_by_peer
    );
    assert_eq!(
        net.nodes[p].count(|e| matches!(e, Event::SasConfirmedByPeer { .. })),
        1
    );
    let now = net.now;
    net.nodes[p].session.confirm_sas(pid(1), now).unwrap();
    net.run_for(500);
    assert!(
        net.nodes[c]
            .session
            .peer(pid(2))
            .unwrap()
            .sas_confirmed_by_peer
    );
    assert_eq!(
        net.nodes[c]
            .session
            .security_count(teleconsult::signaling::SecurityKind::SasMismatch),
        0
    );
}

#[test]
fn sas_cannot_be_confirmed_before_it_exists() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.connect(p);
    net.run_for(500);
    let now = net.now;
    assert!(net.nodes[c].session.confirm_sas(pid(2), now).is_err());
}

#[test]
fn app_data_is_delivered_exactly_once_in_order_both_ways() {
    let mut net = two_party_call();
    for k in 0..20u8 {
        let now = net.now;
        net.nodes[0]
            .session
            .send_app_data(pid(2), &[k; 3], now)
            .unwrap();
        net.nodes[1]
            .session
            .send_app_data(pid(1), &[100 + k], now)
            .unwrap();
    }
    net.run_for(1_000);
    assert_eq!(
        net.nodes[1].app_data(pid(1)),
        (0..20u8).map(|k| vec![k; 3]).collect::<Vec<_>>()
    );
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        (0..20u8).map(|k| vec![100 + k]).collect::<Vec<_>>()
    );
}

#[test]
fn three_participants_connect_pairwise() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    let g = net.add(3, Role::Guest);
    net.connect(c);
    net.run_for(50);
    net.connect(p);
    net.connect(g);
    net.run_for(1_000);
    assert_eq!(net.phase(g), Phase::Waiting);
    // Patient and guest know each other (handshake) but may not negotiate media yet.
    assert!(net.nodes[p].session.peer(pid(3)).unwrap().secured);
    assert!(!net.nodes[p].pcs.contains_key(&pid(3)));
    net.admit_all();
    net.run_for(3_000);
    assert!(net.all_connected(&[c, p, g]));
    // Each pair has its own SAS.
    let sas_cp = net.nodes[c].session.peer(pid(2)).unwrap().sas;
    let sas_cg = net.nodes[c].session.peer(pid(3)).unwrap().sas;
    assert_ne!(sas_cp, sas_cg);
}

#[test]
fn a_guest_admitted_later_learns_who_is_in_the_call() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.connect(p);
    net.run_for(500);
    net.admit_all();
    net.run_for(1_000);
    let g = net.add(3, Role::Guest);
    net.connect(g);
    net.run_for(1_000);
    let now = net.now;
    net.nodes[c].session.admit(pid(3), now).unwrap();
    net.run_for(2_000);
    assert!(net.all_connected(&[c, p, g]));
    assert!(
        net.nodes[p].count(|e| matches!(e, Event::PeerAdmitted { peer } if *peer == pid(3))) == 1
    );
    assert!(net.nodes[g].pcs.values().all(|pc| pc.closed == 0));
    assert!(!net.nodes[g].pcs.values().any(|pc| pc.rollbacks > 0));
    let _ = MediaRequest::CreateAnswer;
}

#[test]
fn the_admitted_patient_makes_the_first_offer_whatever_the_ids() {
    // The clinician has the higher id (it would be the impolite side), yet the patient, who
    // learns of the admission last, offers: media starts as soon as the admission arrives.
    let mut net = Net::new();
    let c = net.add(9, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.run_for(100);
    net.connect(p);
    net.run_for(1_000);
    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[c, p]));
    assert_eq!(net.nodes[p].pc(pid(9)).offers_created, 1);
    assert_eq!(net.nodes[c].pc(pid(2)).offers_created, 0);
}
