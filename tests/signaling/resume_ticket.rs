//! Resume after a reload (docs/PROTOCOL.md, "Resume after a reload"; THREAT_MODEL.md): a
//! participant the clinician admitted gets a one-time ticket; a reloaded page presents it,
//! bound to the new pairing, and is let in again with the SAS state it had. Everyone else —
//! a link holder without the ticket, a replayed proof, an expired, used or revoked ticket,
//! another participant, a lying relay — waits in the waiting room, and the attempt counts
//! as a security event.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::message::Signal;
use teleconsult::signaling::relay_wire::{LeftReason, Role, ServerMessage};
use teleconsult::signaling::{
    Config, Event, Phase, RESUME_DEFER_MS, ResumeTicket, SecurityKind, Timeouts,
};
use zeroize::Zeroizing;

const C: usize = 0;
const P: usize = 1;

/// The last ticket node `i` was given.
fn ticket(net: &Net, i: usize) -> ResumeTicket {
    net.nodes[i]
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::ResumeTicket(t) => Some(t.clone()),
            _ => None,
        })
        .expect("the admitted participant got a ticket")
}

/// A new session of participant `n` in role `role`, as a reloaded page makes it: the same
/// participant id and link, new keys (`seed`), and the stored ticket if any.
fn reloaded(net: &mut Net, n: u8, role: Role, seed: u8, t: Option<ResumeTicket>) -> usize {
    let mut cfg: Config = config(n, role, SECRET);
    cfg.entropy = [seed; 32];
    let i = net.add_config(cfg);
    if let Some(t) = t {
        net.nodes[i].session.set_resume_ticket(t);
    }
    net.connect(i);
    net.run_for(3_000);
    i
}

fn refused(net: &Net, i: usize) -> u64 {
    net.nodes[i]
        .session
        .security_count(SecurityKind::ResumeRefused)
}

/// Events of node `i` from index `from` on that match `f`.
fn count_since(net: &Net, i: usize, from: usize, f: impl Fn(&Event) -> bool) -> usize {
    net.nodes[i].events[from..].iter().filter(|e| f(e)).count()
}

/// A call with the SAS confirmed on both sides.
fn verified_call() -> Net {
    let mut net = two_party_call();
    let now = net.now;
    net.nodes[C].session.confirm_sas(pid(2), now).unwrap();
    net.flush(C);
    net.nodes[P].session.confirm_sas(pid(1), now).unwrap();
    net.flush(P);
    net.run_for(500);
    let seen = net.nodes[C].session.peer(pid(2)).unwrap();
    assert!(seen.sas_confirmed && seen.sas_confirmed_by_peer);
    net
}

/// Asserts node `i` sits in the waiting room and the clinician was asked to admit it (the
/// ordinary path, not an error), with no resume.
fn waits_like_anyone(net: &Net, i: usize, clinician_events_from: usize) {
    assert_eq!(net.phase(i), Phase::Waiting, "not let in");
    assert_eq!(
        count_since(net, C, clinician_events_from, |e| matches!(
            e,
            Event::Resumed { .. }
        )),
        0
    );
    assert_eq!(
        count_since(net, C, clinician_events_from, |e| matches!(
            e,
            Event::AdmissionRequested { .. }
        )),
        1,
        "the clinician is asked to admit it, as anyone"
    );
}

/// The patient's ticket, and its tab closed a second ago (a reload under way).
fn ticket_of_closed_tab(net: &mut Net) -> ResumeTicket {
    let t = ticket(net, P);
    net.close_tab(P);
    net.run_for(1_000);
    t
}

/// A new session of participant `n` presents `t`: it is refused, counted once, and the
/// session waits like anyone.
fn presents_and_waits(net: &mut Net, n: u8, role: Role, seed: u8, t: ResumeTicket) {
    let before = net.nodes[C].events.len();
    let i = reloaded(net, n, role, seed, Some(t));
    waits_like_anyone(net, i, before);
    assert_eq!(refused(net, C), 1, "counted as a security event");
}

#[test]
fn a_real_resume_skips_the_waiting_room_and_keeps_the_sas_verified() {
    let mut net = verified_call();
    let before = net.nodes[C].events.len();
    let t = ticket_of_closed_tab(&mut net);
    let p2 = reloaded(&mut net, 2, Role::Patient, 0x77, Some(t.clone()));
    assert_eq!(net.phase(p2), Phase::InCall, "no new admission");
    assert!(net.all_connected(&[C, p2]), "media came back");
    assert_eq!(
        count_since(&net, C, before, |e| matches!(e, Event::Resumed { .. })),
        1
    );
    assert_eq!(
        count_since(&net, C, before, |e| matches!(
            e,
            Event::AdmissionRequested { .. }
        )),
        0,
        "no waiting-room entry for the clinician"
    );
    assert_eq!(
        net.nodes[p2].count(|e| matches!(e, Event::Resumed { .. })),
        1
    );
    for (i, peer) in [(C, pid(2)), (p2, pid(1))] {
        let seen = net.nodes[i].session.peer(peer).unwrap();
        assert!(
            seen.sas.is_some() && seen.sas_confirmed && seen.sas_confirmed_by_peer,
            "the SAS stays verified on both sides"
        );
    }
    assert_eq!(
        net.nodes[p2].count(|e| matches!(e, Event::SasReady { .. })),
        0,
        "no new SAS prompt"
    );
    assert_eq!(
        count_since(&net, C, before, |e| matches!(e, Event::SasReady { .. })),
        0
    );
    assert_eq!(refused(&net, C), 0);
    // Single use, renewed: the resumed pairing got a new ticket, which works for the next
    // reload; the first one is gone.
    let t2 = ticket(&net, p2);
    assert_ne!(t2.id, t.id);
    net.close_tab(p2);
    net.run_for(1_000);
    let p3 = reloaded(&mut net, 2, Role::Patient, 0x78, Some(t2));
    assert_eq!(net.phase(p3), Phase::InCall);
    assert!(net.all_connected(&[C, p3]));
}

#[test]
fn a_resume_before_the_sas_was_compared_shows_the_sas_to_compare() {
    let mut net = two_party_call();
    let t = ticket_of_closed_tab(&mut net);
    let p2 = reloaded(&mut net, 2, Role::Patient, 0x77, Some(t));
    assert_eq!(net.phase(p2), Phase::InCall, "let in again");
    let seen = net.nodes[p2].session.peer(pid(1)).unwrap();
    assert!(
        !seen.sas_confirmed && !seen.sas_confirmed_by_peer,
        "nothing is claimed verified that was not"
    );
    assert_eq!(
        net.nodes[p2].count(|e| matches!(e, Event::SasReady { .. })),
        1,
        "the SAS is shown to compare"
    );
}

#[test]
fn a_link_holder_without_the_ticket_is_not_admitted() {
    let mut net = verified_call();
    net.close_tab(P);
    net.run_for(1_000);
    let before = net.nodes[C].events.len();
    // The same link and participant id, but no ticket.
    let m = reloaded(&mut net, 2, Role::Patient, 0x66, None);
    waits_like_anyone(&net, m, before);
    assert!(!net.nodes[C].session.peer(pid(2)).unwrap().sas_confirmed);
}

#[test]
fn a_link_holder_with_a_made_up_ticket_is_not_admitted() {
    let mut net = verified_call();
    let real = ticket(&net, P);
    net.close_tab(P);
    net.run_for(1_000);
    let before = net.nodes[C].events.len();
    // Right clinician, right id even (as if the id leaked), wrong secret.
    let forged = ResumeTicket {
        clinician: pid(1),
        id: real.id,
        secret: Zeroizing::new([0x42; 32]),
    };
    let m = reloaded(&mut net, 2, Role::Patient, 0x66, Some(forged));
    waits_like_anyone(&net, m, before);
    assert_eq!(refused(&net, C), 1, "counted as a security event");
    assert!(
        !net.nodes[m]
            .events
            .iter()
            .any(|e| matches!(e, Event::Closed(_))),
        "nothing scary for the patient: it just waits"
    );
}

#[test]
fn a_replayed_proof_from_an_earlier_pairing_is_refused() {
    let mut net = verified_call();
    let t = ticket_of_closed_tab(&mut net);
    // An attacker with the link pairs with the clinician, and somehow holds the proof the
    // ticket gives for that pairing (say, from a compromised page of that moment).
    let m1 = reloaded(&mut net, 2, Role::Patient, 0x66, None);
    let proof = net.nodes[m1].session.test_resume_proof(&t).unwrap();
    net.close_tab(m1);
    net.run_for(1_000);
    // It replays that proof into its next pairing with the clinician.
    let before = net.nodes[C].events.len();
    let m2 = reloaded(&mut net, 2, Role::Patient, 0x67, None);
    let now = net.now;
    net.nodes[C].session.test_deliver_signal(
        pid(2),
        Signal::Resume {
            id: t.id,
            flags: 0,
            proof,
        },
        now,
    );
    net.flush(C);
    net.run_for(2_000);
    waits_like_anyone(&net, m2, before);
    assert_eq!(refused(&net, C), 1);
}

#[test]
fn the_proof_for_the_current_pairing_is_what_lets_a_ticket_in() {
    // The control for the replay test above: the same delivery with the proof of the
    // current pairing is accepted (so the refusal there is the pairing binding's doing).
    let mut net = verified_call();
    let t = ticket_of_closed_tab(&mut net);
    let m = reloaded(&mut net, 2, Role::Patient, 0x66, None);
    let proof = net.nodes[m].session.test_resume_proof(&t).unwrap();
    let now = net.now;
    net.nodes[C].session.test_deliver_signal(
        pid(2),
        Signal::Resume {
            id: t.id,
            flags: 0,
            proof,
        },
        now,
    );
    net.flush(C);
    net.run_for(1_000);
    assert_eq!(
        net.nodes[C].count(|e| matches!(e, Event::Resumed { .. })),
        1
    );
    assert!(net.nodes[C].session.peer(pid(2)).unwrap().in_call);
}

#[test]
fn a_ticket_after_the_window_is_refused() {
    let mut net = verified_call();
    let t = ticket(&net, P);
    net.close_tab(P);
    net.run_for(Timeouts::default().resume_window + 1_000);
    let before = net.nodes[C].events.len();
    let p2 = reloaded(&mut net, 2, Role::Patient, 0x77, Some(t));
    waits_like_anyone(&net, p2, before);
    assert!(refused(&net, C) >= 1);
}

#[test]
fn a_ticket_used_twice_is_refused() {
    let mut net = verified_call();
    let t = ticket_of_closed_tab(&mut net);
    let p2 = reloaded(&mut net, 2, Role::Patient, 0x77, Some(t.clone()));
    assert_eq!(net.phase(p2), Phase::InCall);
    net.close_tab(p2);
    net.run_for(1_000);
    let before = net.nodes[C].events.len();
    // The first ticket again (a copy kept from before the resume).
    let p3 = reloaded(&mut net, 2, Role::Patient, 0x78, Some(t));
    waits_like_anyone(&net, p3, before);
    assert_eq!(refused(&net, C), 1);
}

#[test]
fn a_ticket_after_the_visit_ended_is_refused() {
    let mut net = verified_call();
    let t = ticket(&net, P);
    let now = net.now;
    net.nodes[C].session.end_consultation(now).unwrap();
    net.flush(C);
    net.run_for(1_000);
    assert_eq!(net.phase(P), Phase::Closed);
    net.close_tab(C);
    net.close_tab(P);
    // The clinician opens the visit again (a new session under the same id).
    let mut cfg = config(1, Role::Clinician, SECRET);
    cfg.entropy = [0x55; 32];
    let c2 = net.add_config(cfg);
    net.connect(c2);
    net.run_for(1_000);
    let p2 = reloaded(&mut net, 2, Role::Patient, 0x77, Some(t));
    assert_eq!(net.phase(p2), Phase::Waiting);
    assert_eq!(
        net.nodes[c2].count(|e| matches!(e, Event::Resumed { .. })),
        0
    );
    assert_eq!(
        net.nodes[c2].count(|e| matches!(e, Event::AdmissionRequested { .. })),
        1
    );
    assert_eq!(refused(&net, c2), 1);
}

/// The patient's ticket after `revoke` happened to it, then its tab closed.
fn refused_after(revoke: impl FnOnce(&mut Net)) {
    let mut net = verified_call();
    revoke(&mut net);
    let t = ticket_of_closed_tab(&mut net);
    presents_and_waits(&mut net, 2, Role::Patient, 0x77, t);
}

#[test]
fn a_ticket_after_a_denial_is_refused() {
    refused_after(|net| {
        let now = net.now;
        net.nodes[C].session.deny(pid(2), now).unwrap();
        net.flush(C);
        net.run_for(1_000);
    });
}

#[test]
fn a_ticket_after_the_relay_removed_the_participant_is_refused() {
    refused_after(|net| {
        net.inject(
            C,
            &ServerMessage::Left {
                id: pid(2),
                reason: LeftReason::Removed,
            },
        )
        .unwrap();
        net.run_for(1_000);
    });
}

#[test]
fn a_ticket_after_the_participant_hung_up_is_refused() {
    refused_after(|net| {
        let now = net.now;
        net.nodes[P].session.hang_up(now).unwrap();
        net.flush(P);
        net.run_for(1_000);
    });
}

#[test]
fn a_guest_cannot_use_the_patients_ticket() {
    let mut net = verified_call();
    let t = ticket_of_closed_tab(&mut net);
    presents_and_waits(&mut net, 4, Role::Guest, 0x44, t);
}

#[test]
fn a_ticket_under_another_participant_id_is_refused() {
    // The patient link under a new participant id, with the patient's ticket: a ticket is
    // its participant's only.
    let mut net = verified_call();
    let t = ticket_of_closed_tab(&mut net);
    presents_and_waits(&mut net, 3, Role::Patient, 0x33, t);
}

#[test]
fn a_stolen_ticket_is_refused_while_its_holder_is_in_the_call() {
    let mut net = verified_call();
    let t = ticket(&net, P);
    presents_and_waits(&mut net, 4, Role::Guest, 0x44, t);
    assert!(net.all_connected(&[C, P]), "the patient's call goes on");
}

#[test]
fn a_relay_that_fakes_leave_and_join_cannot_trigger_a_resume() {
    let mut net = verified_call();
    let before = net.nodes[C].events.len();
    // The relay tells the clinician the patient left (it did not), then lets in an
    // insider with the patient link under the patient's id, announcing it resumes.
    net.inject(
        C,
        &ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Closed,
        },
    )
    .unwrap();
    net.relay_forget(P);
    let m = reloaded(&mut net, 2, Role::Patient, 0x66, None);
    waits_like_anyone(&net, m, before);
    // A relay cannot carry the real patient's ticket anywhere: the patient never presents it
    // (it is not reloading), and the relay cannot read the sealed channel it came over.
    assert_eq!(
        net.nodes[C].count(|e| matches!(e, Event::Resumed { .. })),
        0
    );
}

#[test]
fn a_participant_that_announces_a_ticket_and_sends_none_still_asks_in_time() {
    // An honest patient whose ticket the clinician had issued, but whose SAS exchange never
    // completes (here: the clinician's reveal is lost for good): its admission request is
    // held back only for `RESUME_DEFER_MS`.
    let mut net = verified_call();
    let t = ticket_of_closed_tab(&mut net);
    let before = net.nodes[C].events.len();
    let mut cfg = config(2, Role::Patient, SECRET);
    cfg.entropy = [0x77; 32];
    let p2 = net.add_config(cfg);
    // Break the ticket so it cannot be presented (a different clinician id): the hello still
    // announces one.
    net.nodes[p2].session.set_resume_ticket(ResumeTicket {
        clinician: pid(9),
        ..t
    });
    net.connect(p2);
    net.run_for(2_000);
    assert_eq!(
        count_since(&net, C, before, |e| matches!(
            e,
            Event::AdmissionRequested { .. }
        )),
        0,
        "held back while the ticket may still come"
    );
    net.run_for(RESUME_DEFER_MS);
    waits_like_anyone(&net, p2, before);
}

#[test]
fn a_ticket_copied_from_the_tab_is_refused_while_the_patient_is_still_connected() {
    // Someone copied the tab's storage (ticket and participant id) and joins from elsewhere
    // while the patient's page is still in the call: that is not a reload.
    let mut net = verified_call();
    let t = ticket(&net, P);
    let before = net.nodes[C].events.len();
    let m = reloaded(&mut net, 2, Role::Patient, 0x66, Some(t));
    assert_eq!(net.phase(m), Phase::Waiting, "not let in");
    assert_eq!(
        count_since(&net, C, before, |e| matches!(e, Event::Resumed { .. })),
        0
    );
    assert_eq!(refused(&net, C), 1);
}

#[test]
fn a_resume_works_after_the_relay_lost_the_patient() {
    // The page was killed without closing its socket: the relay reports it lost, then the
    // reloaded page joins under the same id.
    let mut net = verified_call();
    let t = ticket(&net, P);
    net.disconnect(P);
    net.nodes[P].timer = None;
    net.run_for(1_000);
    let p2 = reloaded(&mut net, 2, Role::Patient, 0x77, Some(t));
    assert_eq!(net.phase(p2), Phase::InCall);
    assert!(net.all_connected(&[C, p2]));
}

#[test]
fn a_relay_blip_of_the_patient_makes_its_ticket_wait_again() {
    // The relay lost the patient for a moment and its own session came back: a copy of the
    // ticket is worthless again.
    let mut net = verified_call();
    let t = ticket(&net, P);
    net.disconnect(P);
    net.run_for(500);
    net.connect(P);
    net.run_for(3_000);
    assert!(net.all_connected(&[C, P]), "the patient's session is back");
    let before = net.nodes[C].events.len();
    let m = reloaded(&mut net, 2, Role::Patient, 0x66, Some(t));
    assert_eq!(net.phase(m), Phase::Waiting);
    assert_eq!(
        count_since(&net, C, before, |e| matches!(e, Event::Resumed { .. })),
        0
    );
}
