//! Properties under replays and reorders: nothing accepted is lost, nothing is delivered
//! twice, and every side ends with the same conversation in the same order.

use proptest::prelude::*;

use crate::*;
use teleconsult::chat::*;
use teleconsult::consent::{Decision, Reason};
use teleconsult::signaling::relay_wire::Role;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The patient and the clinician send messages; the guest receives every live frame
    /// and every history frame, each possibly several times, in any order.
    #[test]
    fn nothing_accepted_is_lost_and_nothing_is_delivered_twice(
        plan in proptest::collection::vec((any::<bool>(), 0u64..50), 1..30),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..120),
    ) {
        let (mut dr, mut pt) = (clinician(), patient());
        // (sender, frame) for every live frame to the guest.
        let mut frames = Vec::new();
        let mut now = T0;
        for (from_patient, dt) in plan {
            now += dt;
            if from_patient {
                let (_, f) = pt.send("p", now).unwrap();
                dr.receive(peer(PT, Role::Patient), &f).unwrap();
                frames.push((peer(PT, Role::Patient), f));
            } else {
                let (_, f) = dr.send("d", now).unwrap();
                pt.receive(peer(DR, Role::Clinician), &f).unwrap();
                frames.push((peer(DR, Role::Clinician), f));
            }
        }
        let allowed = Decision { allowed: true, reason: Reason::Granted, grant: Some(0) };
        for h in dr.history_for(GUEST, &allowed).unwrap() {
            frames.push((peer(DR, Role::Clinician), h));
        }
        // Replays and reorders: the chosen frames in the chosen order, then every frame.
        let mut g = guest();
        let mut accepted = 0usize;
        let picks = order.iter().map(|i| i.index(frames.len())).chain(0..frames.len());
        for i in picks {
            let (from, f) = &frames[i];
            let before = g.messages().to_vec();
            match g.receive(*from, f) {
                Ok(Received::Message { .. } | Received::History { .. }) => accepted += 1,
                Ok(other) => prop_assert!(false, "unexpected {other:?}"),
                Err(e) => {
                    prop_assert!(matches!(e, ChatError::Replayed), "{e:?}");
                    prop_assert_eq!(g.messages(), &before[..], "a refusal changed what is held");
                }
            }
            // Nothing accepted is ever lost.
            for m in &before {
                prop_assert!(g.messages().contains(m));
            }
        }
        // Everything arrives exactly once, in the same order as the clinician's and the
        // patient's.
        prop_assert_eq!(accepted, dr.messages().len());
        prop_assert_eq!(g.messages(), dr.messages());
        prop_assert_eq!(dr.messages(), pt.messages());
    }

    #[test]
    fn arbitrary_bytes_from_anyone_never_lose_what_is_held(
        junk in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..40),
        role in 1u8..=3,
        in_call in any::<bool>(),
    ) {
        let mut dr = clinician();
        let (_, f) = patient().send("kept", T0).unwrap();
        dr.receive(peer(PT, Role::Patient), &f).unwrap();
        let from = Peer { id: MALLORY, role: Role::from_byte(role).unwrap(), in_call };
        for mut bytes in junk {
            if let Some(first) = bytes.first_mut() {
                *first = TAG_CHAT;
            }
            let _ = dr.receive(from, &bytes);
            prop_assert!(texts(&dr).contains(&"kept"));
        }
    }
}
