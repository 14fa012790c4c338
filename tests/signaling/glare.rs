//! Both sides offer at once (glare): perfect negotiation lets the polite peer (lower id)
//! roll back and answer, and its own change follows afterwards.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::signaling::SdpKind;

#[test]
fn simultaneous_renegotiation_is_resolved_by_the_polite_peer() {
    let mut net = two_party_call();
    let (c, p) = (0, 1); // clinician id 1 is polite, patient id 2 impolite
    let before_c = net.nodes[c].pc(pid(2)).offers_created;
    let before_p = net.nodes[p].pc(pid(1)).offers_created;
    let now = net.now;
    net.nodes[c]
        .session
        .request_renegotiation(pid(2), now)
        .unwrap();
    net.nodes[p]
        .session
        .request_renegotiation(pid(1), now)
        .unwrap();
    net.flush(c);
    net.flush(p);
    net.run_for(3_000);
    let pc_c = net.nodes[c].pc(pid(2));
    let pc_p = net.nodes[p].pc(pid(1));
    assert_eq!(pc_c.rollbacks, 1, "the polite side rolled its offer back");
    assert_eq!(pc_p.rollbacks, 0, "the impolite side kept its offer");
    // The impolite side ignored the colliding offer, then took the polite side's retry.
    assert_eq!(pc_c.offers_created, before_c + 2);
    assert_eq!(pc_p.offers_created, before_p + 1);
    let offers_at_p = pc_p
        .remote_descriptions
        .iter()
        .filter(|d| d.0 == SdpKind::Offer)
        .count();
    assert_eq!(offers_at_p, 1, "only the polite side's retry was applied");
    assert!(
        net.nodes.iter().all(|n| n.errors.is_empty()),
        "{:?}",
        net.nodes[0].errors
    );
    assert!(net.all_connected(&[c, p]));
}

#[test]
fn a_renegotiation_during_an_offer_waits_for_stable() {
    let mut net = two_party_call();
    let p = 1;
    net.nodes[p].auto_media = false;
    let now = net.now;
    net.nodes[p]
        .session
        .request_renegotiation(pid(1), now)
        .unwrap();
    net.nodes[p]
        .session
        .request_renegotiation(pid(1), now)
        .unwrap();
    net.flush(p);
    assert_eq!(net.nodes[p].held.len(), 1, "one offer at a time");
    net.nodes[p].auto_media = true;
    net.release_media(p);
    net.run_for(2_000);
    // The queued second request became one more offer after the answer came back.
    assert_eq!(net.nodes[p].pc(pid(1)).offers_created, 3);
    assert!(net.all_connected(&[0, 1]));
}
