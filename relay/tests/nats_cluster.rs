//! Two relay nodes sharing rooms through a real `nats-server`: participants on different
//! nodes meet, and when a node dies its clients reconnect to the other node and resume.
//! Skips (loudly) only when the nats-server binary is missing.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns: a panic is a failure

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use teleconsult::signaling::relay_wire::{LeftReason, ParticipantId, Role, ServerMessage};

struct Nats {
    child: Child,
    url: String,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nats_binary() -> Option<&'static str> {
    [
        "/usr/bin/nats-server",
        "/usr/sbin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
}

fn start_nats() -> Option<Nats> {
    let Some(bin) = nats_binary() else {
        eprintln!(
            "\n!!!!!!!! SKIPPED: nats-server not installed (apt-get install nats-server) !!!!!!!!\n"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nats-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Nats {
        child,
        url: format!("nats://127.0.0.1:{port}"),
    })
}

fn node(nats: &Nats) -> RelayProc {
    let secret = std::str::from_utf8(SECRET).unwrap();
    RelayProc::start_env(
        &["--nats", &nats.url],
        &[("TELECONSULT_RELAY_TOKEN_SECRET", secret)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_on_different_nodes_meet() {
    let Some(nats) = start_nats() else { return };
    let (a, b) = (node(&nats), node(&nats));
    let (mut doc, _) = Client::joined(a.addr, pid(1), &token(ROOM, "clinician", "doc")).await;
    // The patient on the other node sees the room open, with the clinician in it.
    let pat_token = token(ROOM, "patient", "pat");
    let (mut pat, w) = Client::joined(b.addr, pid(2), &pat_token).await;
    assert_eq!(
        w,
        ServerMessage::Welcome {
            role: Role::Patient,
            present: vec![(pid(1), Role::Clinician)]
        }
    );
    assert_eq!(
        doc.recv().await,
        ServerMessage::Joined {
            id: pid(2),
            role: Role::Patient
        }
    );

    doc.send_to(pid(2), b"sealed offer").await;
    assert_eq!(
        pat.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: b"sealed offer".to_vec()
        }
    );
    pat.send_to(ParticipantId::BROADCAST, b"sealed answer")
        .await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Deliver {
            from: pid(2),
            payload: b"sealed answer".to_vec()
        }
    );

    // Room rules hold across nodes: a second patient on node A is refused…
    let mut second = Client::connect(a.addr).await;
    second
        .join_raw(pid(3), &token(ROOM, "patient", "other"))
        .await;
    expect_refused(&mut second, 4006).await;
    // …and so is the patient's single-use token replayed on node A for another id.
    let mut replay = Client::connect(a.addr).await;
    replay.join_raw(pid(4), &pat_token).await;
    expect_refused(&mut replay, 4004).await;
    // A room nobody opened stays closed on every node.
    let mut early = Client::connect(b.addr).await;
    early
        .join_raw(pid(5), &token("bm90LW9wZW4", "patient", "p"))
        .await;
    expect_refused(&mut early, 4007).await;

    // Leaving is seen across nodes.
    pat.close().await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Closed
        }
    );
}

/// Kept hellos across nodes: a node keeps the broadcasts it received from another node's
/// members as well as its own members', and hands them to newcomers after the Welcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_on_either_node_gets_the_hello_a_member_broadcast() {
    let Some(nats) = start_nats() else { return };
    let (a, b) = (node(&nats), node(&nats));
    let (mut doc, _) = Client::joined(a.addr, pid(1), &token(ROOM, "clinician", "doc")).await;
    let (mut pat, _) = Client::joined(b.addr, pid(2), &token(ROOM, "patient", "pat")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    doc.send_to(ParticipantId::BROADCAST, b"doc hello").await;
    let kept = ServerMessage::Deliver {
        from: pid(1),
        payload: b"doc hello".to_vec(),
    };
    assert_eq!(pat.recv().await, kept);
    for (n, addr) in [(3, b.addr), (4, a.addr)] {
        let (mut guest, w) =
            Client::joined(addr, pid(n), &token(ROOM, "guest", &format!("g{n}"))).await;
        assert!(matches!(w, ServerMessage::Welcome { .. }));
        assert_eq!(guest.recv().await, kept, "newcomer {n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_loses_its_clients_and_they_resume_on_another() {
    let Some(nats) = start_nats() else { return };
    let a = node(&nats);
    let mut b = node(&nats);
    let (mut doc, _) = Client::joined(a.addr, pid(1), &token(ROOM, "clinician", "doc")).await;
    let pat_token = token(ROOM, "patient", "pat");
    let (mut pat, _) = Client::joined(b.addr, pid(2), &pat_token).await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Joined {
            id: pid(2),
            role: Role::Patient
        }
    );

    // Node B dies without a word.
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    assert!(pat.try_recv(Duration::from_secs(2)).await.is_none());
    // Node A notices through the missing heartbeats and reports the patient lost.
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Lost
        }
    );

    // The patient's client reconnects to node A with the same id and token: a resume.
    let (mut pat2, w) = Client::joined(a.addr, pid(2), &pat_token).await;
    assert_eq!(
        w,
        ServerMessage::Welcome {
            role: Role::Patient,
            present: vec![(pid(1), Role::Clinician)]
        }
    );
    assert_eq!(
        doc.recv().await,
        ServerMessage::Joined {
            id: pid(2),
            role: Role::Patient
        }
    );
    doc.send_to(pid(2), b"welcome back").await;
    assert_eq!(
        pat2.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: b"welcome back".to_vec()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_shutting_down_sends_its_clients_to_another() {
    let Some(nats) = start_nats() else { return };
    let a = node(&nats);
    let mut b = node(&nats);
    let (mut doc, _) = Client::joined(a.addr, pid(1), &token(ROOM, "clinician", "doc")).await;
    let pat_token = token(ROOM, "patient", "pat");
    let (mut pat, _) = Client::joined(b.addr, pid(2), &pat_token).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));

    let ok = Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    expect_refused(&mut pat, 4013).await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Lost
        }
    );
    assert!(
        b.wait_exit(Duration::from_secs(10))
            .expect("node B exits")
            .success()
    );

    let (mut pat2, _) = Client::joined(a.addr, pid(2), &pat_token).await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Joined {
            id: pid(2),
            role: Role::Patient
        }
    );
    pat2.send_to(pid(1), b"back").await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Deliver {
            from: pid(2),
            payload: b"back".to_vec()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_nats_shuts_the_node_down_so_clients_move() {
    let Some(nats) = start_nats() else { return };
    let mut a = node(&nats);
    let (mut doc, _) = Client::joined(a.addr, pid(1), &token(ROOM, "clinician", "doc")).await;
    drop(nats);
    expect_refused(&mut doc, 4013).await;
    let status = a
        .wait_exit(Duration::from_secs(10))
        .expect("node exits when NATS is gone");
    assert!(
        !status.success(),
        "a node that lost NATS exits with failure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_use_token_refused_on_other_nats_node() {
    let Some(nats) = start_nats() else { return };
    let a = node(&nats);
    let (_doc, _) = Client::joined(a.addr, pid(1), &token(ROOM, "clinician", "doc")).await;
    let pat_token = token(ROOM, "patient", "pat");
    let (pat, _) = Client::joined(a.addr, pid(2), &pat_token).await;
    pat.close().await;
    // Node B starts after the token was used on A, so it never saw that use announced:
    // it asks the cluster before it admits anyone with a single-use token.
    let b = node(&nats);
    let mut replay = Client::connect(b.addr).await;
    replay.join_raw(pid(3), &pat_token).await;
    expect_refused(&mut replay, 4004).await;
    // The participant the token admitted may still resume on B.
    let (_pat, _) = Client::joined(b.addr, pid(2), &pat_token).await;
}
