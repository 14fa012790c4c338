//! Joining, forwarding, notices, resume and shutdown with real WebSocket clients against an
//! in-process relay.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::*;
use teleconsult::signaling::relay_wire::{
    ClientMessage, LeftReason, ParticipantId, Role, ServerMessage,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_meet_forward_and_see_each_other_leave() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, w) = Client::joined(a, pid(1), &token(ROOM, "clinician", "doc")).await;
    assert_eq!(
        w,
        ServerMessage::Welcome {
            role: Role::Clinician,
            present: vec![]
        }
    );
    let (mut pat, w) = Client::joined(a, pid(2), &token(ROOM, "patient", "pat")).await;
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
    let (mut guest, _) = Client::joined(a, pid(3), &token(ROOM, "guest", "interp")).await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Joined {
            id: pid(3),
            role: Role::Guest
        }
    );
    assert_eq!(
        pat.recv().await,
        ServerMessage::Joined {
            id: pid(3),
            role: Role::Guest
        }
    );

    // Unicast reaches only its recipient; the payload is passed through untouched.
    let sealed = vec![0xEE; 1000];
    doc.send_to(pid(2), &sealed).await;
    assert_eq!(
        pat.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: sealed.clone()
        }
    );
    // Broadcast reaches all others, not the sender.
    pat.send_to(ParticipantId::BROADCAST, b"hello all").await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Deliver {
            from: pid(2),
            payload: b"hello all".to_vec()
        }
    );
    assert_eq!(
        guest.recv().await,
        ServerMessage::Deliver {
            from: pid(2),
            payload: b"hello all".to_vec()
        }
    );
    assert_eq!(
        guest.try_recv(Duration::from_millis(100)).await,
        None,
        "guest saw the unicast"
    );
    assert_eq!(
        pat.try_recv(Duration::from_millis(50)).await,
        None,
        "sender got its own broadcast"
    );

    // Ping → pong with the same nonce.
    doc.send_msg(ClientMessage::Ping { nonce: [9; 8] }).await;
    assert_eq!(doc.recv().await, ServerMessage::Pong { nonce: [9; 8] });

    // A clean close is `Closed`; an abrupt drop is `Lost`.
    guest.close().await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(3),
            reason: LeftReason::Closed
        }
    );
    assert_eq!(
        pat.recv().await,
        ServerMessage::Left {
            id: pid(3),
            reason: LeftReason::Closed
        }
    );
    drop(pat);
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Lost
        }
    );

    let m = relay.metrics();
    assert!(m.frames_in.load(Relaxed) >= 6);
    assert!(m.frames_out.load(Relaxed) >= 8);
    relay.shutdown().await;
}

/// A newcomer gets, right after its Welcome, each present participant's latest broadcast
/// (its hello), so it can key them without waiting for their replies; unicast frames, a
/// broadcast too large to be a hello, and the broadcast of someone who left or resumed are
/// never handed on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_gets_each_present_participants_latest_broadcast_after_its_welcome() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "doc")).await;
    let (mut doc2, _) = Client::joined(a, pid(3), &token(ROOM, "clinician", "doc2")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    doc.send_to(ParticipantId::BROADCAST, b"old hello").await;
    doc.send_to(ParticipantId::BROADCAST, b"new hello").await;
    doc.send_to(pid(3), b"unicast").await;
    doc2.send_to(ParticipantId::BROADCAST, &vec![7; 2000]).await;
    for _ in 0..3 {
        assert!(matches!(doc2.recv().await, ServerMessage::Deliver { .. }));
    }
    assert!(matches!(doc.recv().await, ServerMessage::Deliver { .. }));

    let (mut pat, w) = Client::joined(a, pid(2), &token(ROOM, "patient", "pat")).await;
    assert!(matches!(w, ServerMessage::Welcome { .. }));
    assert_eq!(
        pat.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: b"new hello".to_vec()
        }
    );
    assert_eq!(pat.try_recv(Duration::from_millis(200)).await, None);

    // Someone who left leaves nothing behind; a resumed participant starts afresh.
    doc2.close().await;
    let (_doc_again, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "doc")).await;
    let (mut guest, _) = Client::joined(a, pid(4), &token(ROOM, "guest", "interp")).await;
    assert_eq!(guest.try_recv(Duration::from_millis(200)).await, None);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_with_the_same_id_and_subject_resumes() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "doc")).await;
    let pat_token = token(ROOM, "patient", "pat");
    let (mut old, _) = Client::joined(a, pid(2), &pat_token).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));

    // Same token, same participant id: a resume, even though the token is single-use.
    let (mut new, w) = Client::joined(a, pid(2), &pat_token).await;
    assert_eq!(
        w,
        ServerMessage::Welcome {
            role: Role::Patient,
            present: vec![(pid(1), Role::Clinician)]
        }
    );
    expect_refused(&mut old, 4000).await;
    // The others see a re-join, never a leave.
    assert_eq!(
        doc.recv().await,
        ServerMessage::Joined {
            id: pid(2),
            role: Role::Patient
        }
    );
    assert_eq!(doc.try_recv(Duration::from_millis(200)).await, None);
    doc.send_to(pid(2), b"to the resumed one").await;
    assert_eq!(
        new.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: b"to the resumed one".to_vec()
        }
    );

    // A fresh token for the same subject also resumes.
    let (_newer, _) = Client::joined(a, pid(2), &token(ROOM, "patient", "pat")).await;
    expect_refused(&mut new, 4000).await;

    // Another subject cannot take the id over.
    let mut thief = Client::connect(a).await;
    thief
        .join_raw(pid(2), &token(ROOM, "guest", "someone-else"))
        .await;
    expect_refused(&mut thief, 4003).await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_tells_clients_to_reconnect() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "doc")).await;
    let mut waiting = Client::connect(a).await;
    relay.shutdown().await;
    expect_refused(&mut doc, 4013).await;
    expect_refused(&mut waiting, 4013).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_endpoints_answer() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "doc")).await;
    let r = get(a, "/metrics").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    for series in [
        "relay_connections 1",
        "relay_participants 1",
        "relay_rooms 1",
        "relay_frames_in_total 1",
        "relay_drops_total{reason=\"too_slow\",code=\"4012\"} 0",
        "relay_forward_latency_seconds_bucket{le=\"+Inf\"}",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
    assert!(!text.contains(ROOM), "room ids must not appear in metrics");
    assert_eq!(get(a, "/healthz").await.text(), "ok");
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_mints_tokens_on_loopback_only_in_dev_mode() {
    let relay = relay_with(|c| {
        c.dev = true;
        c.token_secret = None;
    })
    .await;
    let a = relay.local_addr();
    let r = http(
        a,
        "POST",
        "/dev/token",
        Some(r#"{"role":"clinician","ttl":"15m"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let room = v["room"].as_str().unwrap().to_owned();
    let doc_token = v["token"].as_str().unwrap().to_owned();
    let (_doc, _) = Client::joined(a, pid(1), &doc_token).await;
    let r = http(
        a,
        "POST",
        "/dev/token",
        Some(&format!(r#"{{"room":"{room}","role":"patient","ttl":60}}"#)),
    )
    .await;
    let pat_token = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_pat, w) = Client::joined(a, pid(2), &pat_token).await;
    assert_eq!(
        w,
        ServerMessage::Welcome {
            role: Role::Patient,
            present: vec![(pid(1), Role::Clinician)]
        }
    );
    assert_eq!(
        http(a, "POST", "/dev/token", Some(r#"{"role":"admin"}"#))
            .await
            .status,
        400
    );
    assert_eq!(
        http(
            a,
            "POST",
            "/dev/token",
            Some(r#"{"role":"guest","ttl":"100d"}"#)
        )
        .await
        .status,
        400
    );
    relay.shutdown().await;

    let prod = relay_with(|_| {}).await;
    let r = http(
        prod.local_addr(),
        "POST",
        "/dev/token",
        Some(r#"{"role":"clinician"}"#),
    )
    .await;
    assert_eq!(r.status, 404, "/dev/token must not exist outside --dev");
    prod.shutdown().await;
}

#[test]
fn token_subcommand_mints_tokens_the_relay_accepts() {
    let out = std::process::Command::new(BIN)
        .args([
            "token", "--room", ROOM, "--role", "patient", "--ttl", "15m", "--sub", "p1",
        ])
        .env(
            "TELECONSULT_RELAY_TOKEN_SECRET",
            std::str::from_utf8(SECRET).unwrap(),
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let t = String::from_utf8(out.stdout).unwrap();
    let v = teleconsult_relay::token::verify(
        SECRET,
        t.trim().as_bytes(),
        teleconsult_relay::hub::unix_now(),
        3600,
    )
    .unwrap();
    assert_eq!((v.room.as_str(), v.role), (ROOM, Role::Patient));
    let bad = std::process::Command::new(BIN)
        .args(["token", "--room", ROOM])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
