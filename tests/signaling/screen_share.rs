//! Screen sharing's notice (docs/PROTOCOL.md, "Screen sharing"): only a clinician's notice,
//! sealed under its pair key, makes a participant show the indicator. The relay cannot forge,
//! replay or re-attribute one; a patient or guest cannot send one; a participant who joins
//! during a share hears of it before any description.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use crate::common;

use common::*;
use teleconsult::crypto::CryptoError;
use teleconsult::signaling::message::Signal;
use teleconsult::signaling::relay_wire::Role;
use teleconsult::signaling::{Event, ScreenShare, ScreenShareEnd, SecurityKind, SessionError};

const SIGNAL: u8 = 0x02;

fn started(id: &str) -> ScreenShare {
    ScreenShare::Started {
        stream_id: id.into(),
    }
}

/// The screen-share notices node `i` reported, in order.
fn notices(net: &Net, i: usize) -> Vec<ScreenShare> {
    net.nodes[i]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::PeerScreenShare { peer, notice } if *peer == pid(1) => Some(notice.clone()),
            _ => None,
        })
        .collect()
}

/// The clinician (node 0) starts sharing and renegotiates, as the browser driver does;
/// returns the sealed frame that carried the notice to the patient.
fn share(net: &mut Net) -> Vec<u8> {
    let before = frames(net, pid(1), pid(2), SIGNAL).len();
    let now = net.now;
    net.nodes[0]
        .session
        .set_screen_share(started("screen-1"), now)
        .unwrap();
    net.flush(0);
    let notice = frames(net, pid(1), pid(2), SIGNAL)
        .get(before)
        .cloned()
        .unwrap();
    net.nodes[0]
        .session
        .request_renegotiation(pid(2), now)
        .unwrap();
    net.flush(0);
    net.run_for(1_000);
    notice
}

/// The clinician (node 0) stops sharing.
fn stop(net: &mut Net, why: ScreenShareEnd) {
    let now = net.now;
    net.nodes[0]
        .session
        .set_screen_share(ScreenShare::Stopped(why), now)
        .unwrap();
    net.flush(0);
    net.run_for(1_000);
}

#[test]
fn the_clinicians_notice_reaches_the_patient_once() {
    let mut net = two_party_call();
    let offers = net.nodes[0].pc(pid(2)).offers_created;
    share(&mut net);
    assert_eq!(notices(&net, 1), [started("screen-1")]);
    assert!(
        net.nodes[0].pc(pid(2)).offers_created > offers,
        "renegotiated"
    );
    assert!(net.all_connected(&[0, 1]));
    stop(&mut net, ScreenShareEnd::Ended);
    assert_eq!(
        notices(&net, 1),
        [
            started("screen-1"),
            ScreenShare::Stopped(ScreenShareEnd::Ended)
        ]
    );
}

#[test]
fn a_relay_replaying_the_notice_cannot_show_the_indicator_again() {
    let mut net = two_party_call();
    let frame = share(&mut net);
    stop(&mut net, ScreenShareEnd::Stopped);
    let before = snapshot(&net.nodes[1].session);
    assert_eq!(
        net.inject_frame(1, pid(1), frame),
        Err(SessionError::Crypto(CryptoError::Replayed))
    );
    assert_eq!(snapshot(&net.nodes[1].session), before);
    assert_eq!(
        notices(&net, 1),
        [
            started("screen-1"),
            ScreenShare::Stopped(ScreenShareEnd::Stopped)
        ],
        "the share stays stopped"
    );
    assert!(net.nodes[1].session.security_count(SecurityKind::Replay) >= 1);
}

#[test]
fn a_relay_forging_the_notice_is_refused() {
    let mut net = two_party_call();
    // The relay holds the clinician's real notice frame but no pair key: flipping any byte
    // of the sealed part (here: the stream id's ciphertext) fails authentication.
    net.relay.rule = Some(Box::new(|from, _, _| {
        if from == pid(1) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    }));
    let frame = share(&mut net);
    net.relay.rule = None;
    let mut forged = frame.clone();
    let last = forged.len() - 20;
    forged[last] ^= 1;
    assert_eq!(
        net.inject_frame(1, pid(1), forged),
        Err(SessionError::Crypto(CryptoError::AuthenticationFailed))
    );
    assert!(notices(&net, 1).is_empty(), "no indicator from a forgery");
    // The real frame, re-attributed to another sender, is not the clinician's either.
    assert!(net.inject_frame(1, pid(3), frame).is_err());
    assert!(notices(&net, 1).is_empty());
}

#[test]
fn only_a_clinician_may_share_and_a_participants_notice_is_a_violation() {
    let mut net = two_party_call();
    let g = net.add(3, Role::Guest);
    net.connect(g);
    net.run_for(500);
    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[0, 1, g]));
    // The patient's own SDK refuses to share.
    let now = net.now;
    assert_eq!(
        net.nodes[1].session.set_screen_share(started("mine"), now),
        Err(SessionError::NotPermitted)
    );
    // A patient whose SDK was modified sends one anyway: the guest and the clinician refuse it.
    for i in [0, g] {
        let violations = net.nodes[i]
            .session
            .security_count(SecurityKind::ProtocolViolation);
        net.nodes[i]
            .session
            .test_deliver_signal(pid(2), Signal::ScreenShare(started("fake")), now);
        net.flush(i);
        assert_eq!(
            net.nodes[i]
                .session
                .security_count(SecurityKind::ProtocolViolation),
            violations + 1
        );
        assert!(
            !net.nodes[i]
                .events
                .iter()
                .any(|e| matches!(e, Event::PeerScreenShare { .. })),
            "no indicator from a non-clinician"
        );
    }
}

#[test]
fn a_late_joiner_hears_of_the_share_under_way() {
    let mut net = two_party_call();
    share(&mut net);
    let g = net.add(3, Role::Guest);
    net.connect(g);
    net.run_for(500);
    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[0, 1, g]));
    assert_eq!(notices(&net, g), [started("screen-1")]);
    // The guest offered its own media; the clinician's answer could not add the screen, so
    // the clinician offers once that exchange settled (without a share it never offers to a
    // guest: the joiner offers).
    assert!(net.nodes[0].pc(pid(3)).offers_created >= 1);
    assert_eq!(notices(&net, 1), [started("screen-1")], "not told twice");
}

#[test]
fn malformed_or_out_of_turn_notices_are_refused_by_the_sharer() {
    let mut net = two_party_call();
    let now = net.now;
    let s = &mut net.nodes[0].session;
    let stop = ScreenShare::Stopped(ScreenShareEnd::Stopped);
    assert_eq!(
        s.set_screen_share(stop.clone(), now),
        Err(SessionError::InvalidState),
        "nothing to stop"
    );
    for bad in ["", "a b", "é", &"x".repeat(65)] {
        assert_eq!(
            s.set_screen_share(started(bad), now),
            Err(SessionError::InvalidState),
            "{bad:?}"
        );
    }
    s.set_screen_share(started("ok"), now).unwrap();
    s.set_screen_share(stop.clone(), now).unwrap();
    assert_eq!(
        s.set_screen_share(stop, now),
        Err(SessionError::InvalidState)
    );
}
