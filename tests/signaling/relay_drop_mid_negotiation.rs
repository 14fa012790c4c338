//! The relay connection drops in the middle of an offer/answer exchange; the participants
//! re-handshake with fresh keys and finish without losing or repeating a message.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Event, SdpKind};

const SIGNAL: u8 = 0x02;

#[test]
fn lost_offer_is_retransmitted_under_new_keys_after_resume() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    // The relay loses every signal the patient sends (its early offer among them), and
    // after the admission everything it sends.
    net.relay.rule = Some(Box::new(|from, _, frame| {
        if from == pid(2) && frame.get(1) == Some(&SIGNAL) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    net.connect(c);
    net.connect(p);
    net.run_for(500);
    net.relay.rule = Some(Box::new(|from, _, _| {
        if from == pid(2) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    net.admit_all();
    net.run_for(20);
    assert_eq!(
        net.nodes[p].pc(pid(1)).offers_created,
        1,
        "the patient offered"
    );
    assert!(
        net.nodes[c]
            .pcs
            .get(&pid(2))
            .is_none_or(|pc| pc.remote_descriptions.is_empty()),
        "…but the offer never arrived"
    );
    net.disconnect(p);
    assert!(net.nodes[p].events.contains(&Event::RelayLost));
    net.run_for(3_000);
    net.relay.rule = None;
    net.connect(p);
    net.run_for(3_000);
    assert!(net.all_connected(&[c, p]));
    // Exactly one offer made and exactly one applied: no duplicate effects.
    assert_eq!(net.nodes[p].pc(pid(1)).offers_created, 1);
    let offers = &net.nodes[c].pc(pid(2)).remote_descriptions;
    assert_eq!(offers.iter().filter(|d| d.0 == SdpKind::Offer).count(), 1);
    // The retransmission travelled under a different pair key than the lost original.
    let key_ids: std::collections::BTreeSet<Vec<u8>> = frames(&net, pid(2), pid(1), SIGNAL)
        .iter()
        .map(|f| f[34..42].to_vec())
        .collect();
    assert!(key_ids.len() >= 2, "a fresh session key after resume");
}

#[test]
fn clinician_drop_after_receiving_the_offer_still_completes() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.connect(p);
    net.run_for(500);
    let now = net.now;
    net.nodes[c].session.admit(pid(2), now).unwrap();
    net.run_for(8);
    // The admit is through and the patient's offer is on its way: from now on the relay
    // loses the clinician's answer, and then the clinician's connection drops.
    net.relay.rule = Some(Box::new(|from, _, _| {
        if from == pid(1) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    net.run_for(10);
    assert_eq!(net.nodes[c].pc(pid(2)).answers_created, 1);
    net.disconnect(c);
    net.relay.rule = None;
    net.run_for(100);
    net.connect(c);
    net.run_for(5_000);
    assert!(net.all_connected(&[c, p]));
    let answers = &net.nodes[p].pc(pid(1)).remote_descriptions;
    assert_eq!(answers.iter().filter(|d| d.0 == SdpKind::Answer).count(), 1);
    assert_eq!(net.nodes[c].pc(pid(2)).answers_created, 1);
}

#[test]
fn app_data_sent_while_disconnected_arrives_once_after_resume() {
    let mut net = two_party_call();
    net.disconnect(1);
    for k in 0..5u8 {
        let now = net.now;
        net.nodes[1]
            .session
            .send_app_data(pid(1), &[k], now)
            .unwrap();
    }
    net.run_for(2_000);
    assert!(net.nodes[0].app_data(pid(2)).is_empty());
    net.connect(1);
    net.run_for(3_000);
    assert_eq!(
        net.nodes[0].app_data(pid(2)),
        (0..5u8).map(|k| vec![k]).collect::<Vec<_>>()
    );
    // Media was never torn down by the signaling outage.
    assert_eq!(net.nodes[0].pc(pid(2)).closed, 0);
    assert_eq!(net.nodes[1].pc(pid(1)).closed, 0);
}

#[test]
fn a_lossy_duplicating_reordering_relay_still_gets_everyone_connected() {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    let g = net.add(3, Role::Guest);
    let mut n = 0u32;
    net.relay.rule = Some(Box::new(move |_, _, _| {
        n += 1;
        match n % 7 {
            0 => Fault::Drop,
            3 => Fault::Duplicate,
            5 => Fault::Delay(40),
            _ => Fault::Pass,
        }
    }));
    for i in [c, p, g] {
        net.connect(i);
    }
    net.run_for(3_000);
    net.admit_all();
    for k in 0..30u8 {
        let now = net.now;
        net.nodes[p]
            .session
            .send_app_data(pid(1), &[k], now)
            .unwrap();
        net.run_for(7);
    }
    net.run_for(20_000);
    assert!(net.all_connected(&[c, p, g]));
    assert_eq!(
        net.nodes[c].app_data(pid(2)),
        (0..30u8).map(|k| vec![k]).collect::<Vec<_>>()
    );
    for node in &net.nodes {
        for pc in node.pcs.values() {
            assert!(
                pc.remote_descriptions
                    .iter()
                    .filter(|d| d.0 == SdpKind::Offer)
                    .count()
                    <= 1
            );
        }
    }
}
