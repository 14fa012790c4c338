//! The early offer: a patient keys a present clinician from the hello the relay hands on
//! after its Welcome, and offers beside its reply, before its admission; the clinician sets
//! nothing from that offer until it admits the patient (docs/PROTOCOL.md §3, §12).
use crate::common;

use common::*;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Event, Phase, SdpKind};

const LATENCY_MS: u64 = 10;

/// A clinician (id 1) alone in the room, its hello kept by the relay, and a patient (id 2)
/// not connected yet: (net, clinician, patient).
fn clinician_waiting_for_a_patient() -> (Net, usize, usize) {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.run_for(200);
    (net, c, p)
}

/// Runs `ms` simulated milliseconds with every clinician admitting as soon as it is asked,
/// or until `done` holds.
fn run_admitting(net: &mut Net, ms: u64, done: impl Fn(&Net) -> bool) {
    for _ in 0..ms {
        net.admit_all();
        net.run_for(1);
        if done(net) {
            return;
        }
    }
}

/// Simulated milliseconds from the patient's join to the clinician's answer set on the
/// patient's side, with a clinician that admits as soon as it is asked.
fn join_to_answer(relay_keeps_hellos: bool) -> u64 {
    let mut net = Net::new();
    net.relay.latency = LATENCY_MS;
    net.relay.keeps_no_broadcasts = !relay_keeps_hellos;
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.run_for(200);
    let t0 = net.now;
    net.connect(p);
    let answered = |net: &Net| {
        net.nodes[p].pcs.get(&pid(1)).is_some_and(|pc| {
            pc.remote_descriptions
                .iter()
                .any(|d| d.0 == SdpKind::Answer)
        })
    };
    run_admitting(&mut net, 1_000, answered);
    assert!(answered(&net), "the patient never got an answer");
    assert!(net.nodes[p].errors.is_empty() && net.nodes[c].errors.is_empty());
    net.now - t0
}

/// The offer leaves with the patient's reply to the clinician's hello, so the answer comes
/// back one round trip after the Welcome — as in plain WebRTC, where the offer leaves at
/// the Welcome — instead of after the hello round trip and then the offer's.
#[test]
fn a_patient_joining_a_present_clinician_is_answered_one_round_trip_after_its_welcome() {
    let pipelined = join_to_answer(true);
    let without_kept_hellos = join_to_answer(false);
    // Join → Welcome, offer → clinician, answer → patient: three relay legs (+1 ms for the
    // clinician's admission, taken on the next simulated millisecond).
    assert!(
        pipelined <= 3 * LATENCY_MS + 2,
        "answered after {pipelined} ms"
    );
    // A relay that keeps no hellos costs the hello round trip: two legs more, still no
    // more than that (the offer leaves with the key confirmation, before the admission).
    assert!(
        (5 * LATENCY_MS..=5 * LATENCY_MS + 2).contains(&without_kept_hellos),
        "answered after {without_kept_hellos} ms without kept hellos"
    );
}

/// The waiting room still holds: the clinician applies nothing from a waiting patient's
/// offer, however long the patient waits, and the patient's offer does not time out and
/// get re-made meanwhile. The admission releases it.
#[test]
fn a_waiting_patients_early_offer_is_held_until_the_clinician_admits() {
    let (mut net, c, p) = clinician_waiting_for_a_patient();
    net.connect(p);
    net.run_for(120_000);
    assert_eq!(net.phase(p), Phase::Waiting);
    let offer = net.nodes[p].pc(pid(1));
    assert_eq!((offer.offers_created, offer.rollbacks), (1, 0));
    assert!(
        net.nodes[c]
            .pcs
            .values()
            .all(|pc| pc.remote_descriptions.is_empty() && pc.answers_created == 0),
        "the clinician set a waiting patient's offer"
    );
    assert_eq!(
        net.nodes[p].count(|e| matches!(e, Event::PeerMediaFailed { .. })),
        0
    );

    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[c, p]));
    assert_eq!(net.nodes[p].pc(pid(1)).offers_created, 1);
    assert_eq!(net.nodes[c].pc(pid(2)).answers_created, 1);
}

/// Only a clinician whose hello proved the role gets an early offer: a guest the relay
/// announces as a clinician (it holds a link, not the clinician's key) gets none.
#[test]
fn no_early_offer_goes_to_a_participant_the_relay_calls_a_clinician() {
    let mut net = Net::new();
    // Node 3 holds a guest's link but the relay announces it as a clinician.
    let mut fake = config(3, Role::Clinician, SECRET);
    fake.authority = authority(Role::Guest);
    let f = net.add_config(fake);
    let p = net.add(2, Role::Patient);
    net.connect(f);
    net.run_for(200);
    net.connect(p);
    net.run_for(5_000);
    assert_eq!(net.phase(p), Phase::Waiting);
    assert!(
        net.nodes[p]
            .pcs
            .get(&pid(3))
            .is_none_or(|pc| pc.offers_created == 0),
        "an offer went to an unproven clinician"
    );
}

/// A relay that hands a newcomer a stale hello (the clinician's previous epoch, whose
/// ephemeral key is gone) makes the newcomer's early frames undecryptable, nothing more:
/// they fail silently, go again under the clinician's current keys, and the call connects
/// with one offer applied once.
#[test]
fn a_stale_hello_handed_on_by_the_relay_only_delays_the_offer() {
    let (mut net, c, p) = clinician_waiting_for_a_patient();
    let stale = net
        .relay
        .kept
        .iter()
        .find(|k| k.0 == pid(1))
        .expect("the relay kept the clinician's hello")
        .1
        .clone();
    // The clinician's connection blips: a new epoch and a new hello.
    net.disconnect(c);
    net.run_for(100);
    net.connect(c);
    net.run_for(200);
    net.relay.kept = vec![(pid(1), stale)];
    net.connect(p);
    run_admitting(&mut net, 3_000, |_| false);
    assert!(net.all_connected(&[c, p]));
    let applied: Vec<_> = net.nodes[c]
        .pc(pid(2))
        .remote_descriptions
        .iter()
        .filter(|d| d.0 == SdpKind::Offer)
        .collect();
    assert_eq!(applied.len(), 1, "the offer was applied once");
    assert_eq!(
        net.nodes[c].count(|e| matches!(e, Event::AdmissionRequested { .. })),
        1
    );
}

/// The newcomer's broadcast hello already went to the clinician, so answering the kept
/// hello needs no second hello: the patient sends one hello in all, and the clinician
/// one reply (it cannot know the relay handed its hello on).
#[test]
fn a_newcomer_answers_a_kept_hello_without_a_second_hello_of_its_own() {
    const HELLO: u8 = 0x01;
    let (mut net, c, p) = clinician_waiting_for_a_patient();
    let before = net.relay.log.len();
    net.connect(p);
    run_admitting(&mut net, 2_000, |_| false);
    assert!(net.all_connected(&[c, p]));
    let hellos = |from| {
        net.relay.log[before..]
            .iter()
            .filter(|(f, _, frame)| *f == from && frame.get(1) == Some(&HELLO))
            .count()
    };
    assert_eq!((hellos(pid(2)), hellos(pid(1))), (1, 1));
}
