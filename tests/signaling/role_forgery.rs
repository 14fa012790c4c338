//! Roles rest on the link's keys, not on the relay's word (issue 13, finding 3). An insider
//! holds a guest or patient link and controls the relay, which announces whatever role the
//! insider wants. The insider cannot admit, deny, end the visit or pose as the clinician,
//! and a guest cannot pose as the patient.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{CloseReason, Event, Phase, SecurityKind};
use zeroize::Zeroizing;

/// An insider (participant `n`) whose session claims `claimed` and whose join token makes
/// the relay announce `claimed` too, while its link only carries `link`'s keys.
fn insider(n: u8, claimed: Role, link: Role) -> teleconsult::signaling::Config {
    let mut cfg = config(n, claimed, SECRET);
    cfg.authority = authority(link);
    cfg.token = Zeroizing::new(claimed.as_str().as_bytes().to_vec());
    cfg
}

fn role_conflicts(net: &Net, i: usize) -> u64 {
    net.nodes[i]
        .session
        .security_count(SecurityKind::RoleConflict)
}

/// A patient waiting, the real clinician absent, and a false clinician that tries to admit,
/// deny and end the visit for everyone.
fn false_clinician_against_waiting_patient(link: Role) {
    let mut net = Net::new();
    let p = net.add(2, Role::Patient);
    let m = net.add_config(insider(1, Role::Clinician, link));
    net.connect(p);
    net.run_for(100);
    net.connect(m);
    net.run_for(2_000);
    // The false clinician's session believes the patient asked to be admitted? It never
    // even learns the patient's name: the patient refuses its hello.
    let now = net.now;
    let _ = net.nodes[m].session.admit(pid(2), now);
    net.flush(m);
    net.run_for(2_000);
    let _ = net.nodes[m].session.deny(pid(2), now);
    net.flush(m);
    let _ = net.nodes[m].session.end_consultation(net.now);
    net.flush(m);
    net.run_for(5_000);
    assert!(
        role_conflicts(&net, p) >= 1,
        "the forged clinician hello is refused"
    );
    assert_eq!(
        net.phase(p),
        Phase::Waiting,
        "not admitted, not denied, not ended"
    );
    assert!(!net.nodes[p].events.iter().any(|e| matches!(
        e,
        Event::Closed(CloseReason::Denied | CloseReason::EndedByClinician)
    )));
    let seen = net.nodes[p].session.peer(pid(1)).unwrap();
    assert!(
        seen.name.is_none() && !seen.secured,
        "no channel with the impostor"
    );
}

#[test]
fn a_guest_link_with_a_lying_relay_cannot_act_as_clinician() {
    false_clinician_against_waiting_patient(Role::Guest);
}

#[test]
fn a_patient_link_with_a_lying_relay_cannot_act_as_clinician() {
    false_clinician_against_waiting_patient(Role::Patient);
}

#[test]
fn a_guest_link_cannot_pose_as_the_patient() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let m = net.add_config(insider(3, Role::Patient, Role::Guest));
    net.connect(c);
    net.run_for(100);
    net.connect(m);
    net.run_for(3_000);
    assert!(role_conflicts(&net, c) >= 1);
    assert_eq!(
        net.nodes[c].count(|e| matches!(e, Event::AdmissionRequested { .. })),
        0,
        "the clinician is never asked to admit the impostor"
    );
    // The real patient still gets in.
    let p = net.add(2, Role::Patient);
    net.connect(p);
    net.run_for(2_000);
    net.admit_all();
    net.run_for(3_000);
    assert!(net.all_connected(&[c, p]));
}

#[test]
fn a_false_clinician_cannot_sit_between_the_patient_and_a_guest() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    let g = net.add(4, Role::Guest);
    for i in [c, p, g] {
        net.connect(i);
        net.run_for(100);
    }
    net.admit_all();
    net.run_for(3_000);
    assert!(net.all_connected(&[c, p, g]));
    // A second "clinician" with a guest link joins, announced by the relay as clinician.
    let m = net.add_config(insider(5, Role::Clinician, Role::Guest));
    net.connect(m);
    net.run_for(3_000);
    for i in [c, p, g] {
        assert!(role_conflicts(&net, i) >= 1);
        let seen = net.nodes[i].session.peer(pid(5)).unwrap();
        assert!(!seen.in_call && !seen.secured);
    }
    assert!(net.all_connected(&[c, p, g]), "the real call goes on");
}
