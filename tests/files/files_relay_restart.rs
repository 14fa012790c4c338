//! A photo on its way when the relay restarts: the real sessions in the simulated network
//! carry the file frames; both relay connections drop (the relay loses what it queued) and
//! come back; the transfer resumes from the last acknowledged chunk and the clinician ends
//! with the exact bytes, once.

use crate::common::{self, Net, pid};
use crate::*;
use teleconsult::files::*;
use teleconsult::signaling::Event;

const C: usize = 0;
const P: usize = 1;

struct Call {
    net: Net,
    files: [Transfers; 2],
    seen: [usize; 2],
    /// Chunk frames each side handed to its session.
    chunks_sent: [usize; 2],
    /// What the clinician's side made of the patient's frames.
    at_dr: Vec<Result<FileEvent, FileError>>,
}

impl Call {
    fn new() -> Self {
        let net = common::two_party_call();
        Self {
            files: [
                Transfers::new(pid(1), Role::Clinician),
                Transfers::new(pid(2), Role::Patient),
            ],
            net,
            seen: [0, 0],
            chunks_sent: [0, 0],
            at_dr: Vec::new(),
        }
    }

    /// Hands queued frames to the sessions, lets `ms` pass, and gives the frames that
    /// arrived to the other side's transfers. Returns whether anything moved.
    fn step(&mut self, ms: u64) -> bool {
        let mut moved = false;
        for i in [C, P] {
            while let Some((to, f)) = self.files[i].poll_transmit() {
                moved = true;
                if matches!(Frame::decode(&f), Ok(Frame::Chunk { .. })) {
                    self.chunks_sent[i] += 1;
                }
                let now = self.net.now;
                // A frame the session cannot take (offline) is lost: the sender resumes.
                let _ = self.net.nodes[i].session.send_app_data(to, &f, now);
                self.net.flush(i);
            }
        }
        self.net.run_for(ms);
        for i in [C, P] {
            let events = self.net.nodes[i].events[self.seen[i]..].to_vec();
            self.seen[i] = self.net.nodes[i].events.len();
            for e in events {
                if let Event::AppData { peer: from, data } = e {
                    moved = true;
                    let role = if i == C {
                        Role::Patient
                    } else {
                        Role::Clinician
                    };
                    let r = self.files[i].receive(peer(from, role), &data, &yes(), self.net.now);
                    if i == C {
                        self.at_dr.push(r);
                    }
                }
            }
        }
        moved
    }
}

#[test]
fn a_transfer_cut_by_a_relay_restart_resumes_from_the_last_acknowledged_chunk() {
    let mut call = Call::new();
    let data = jpeg(CHUNK_LEN * 60 + 1_000);
    let total_chunks = 61;
    call.files[P]
        .send(
            pid(1),
            ID,
            "rash.jpg",
            "image/jpeg",
            data.clone(),
            &yes(),
            call.net.now,
        )
        .unwrap();
    // Until part of the file is in.
    let received = |call: &Call| {
        call.at_dr
            .iter()
            .filter(|r| matches!(r, Ok(FileEvent::Progress { .. })))
            .count()
    };
    while received(&call) < 20 {
        assert!(call.step(5), "stalled before the restart");
    }
    let before = received(&call);
    assert!(before < total_chunks);

    // The relay restarts: both connections drop, its queue is gone; then both come back.
    call.net.disconnect(C);
    call.net.disconnect(P);
    for _ in 0..10 {
        call.step(100);
    }
    call.net.connect(C);
    call.net.connect(P);
    call.net.run_for(3_000);
    assert!(call.net.all_connected(&[C, P]), "the call resumed");
    // The driver resumes every transfer towards a peer it is back with.
    let now = call.net.now;
    call.files[P].resume(pid(1), now);
    for _ in 0..500 {
        if !call.step(20) && call.files[P].files().len() == 1 {
            break;
        }
    }

    let held = call.files[C]
        .held(pid(2), ID)
        .expect("the file arrived after the restart");
    assert_eq!(held.data, data);
    assert_eq!(call.files[C].files().len(), 1, "exactly once");
    assert_eq!(
        call.files[P].files().len(),
        1,
        "the patient got the confirmation"
    );
    // Chunks are taken in order, each once: progress only grows.
    let progress: Vec<u32> = call
        .at_dr
        .iter()
        .filter_map(|r| match r {
            Ok(FileEvent::Progress { bytes, .. }) => Some(*bytes),
            _ => None,
        })
        .collect();
    assert!(progress.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(progress.len(), total_chunks - 1);
    // Resumed, not restarted: at most one window was sent twice.
    assert!(
        call.chunks_sent[P] <= total_chunks + WINDOW as usize,
        "{} chunk frames for {total_chunks} chunks",
        call.chunks_sent[P]
    );
}
