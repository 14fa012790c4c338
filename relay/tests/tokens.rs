//! Join tokens bound to participants (issue 13, point 7): a reusable token's holder cannot
//! take over another holder's participant id, and a single-use token stays used across a
//! relay restart (`--state-dir`). Across NATS nodes: nats_cluster.rs.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns: a panic is a failure
mod common;

use std::time::Duration;

use common::*;
use teleconsult::signaling::relay_wire::ServerMessage;

fn reusable(room: &str, role: &str, sub: &str) -> String {
    teleconsult_relay::server::mint_token(
        SECRET,
        room,
        role,
        Duration::from_secs(600),
        Duration::from_secs(3600),
        Some(sub.into()),
        true,
    )
    .unwrap()
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reusable_token_cannot_resume_other_holders_id() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    // One shared guest link, two holders.
    let link = reusable(ROOM, "guest", "family");
    let (mut first, _) = Client::joined(a, pid(2), &link).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    let (_second, _) = Client::joined(a, pid(3), &link).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    assert!(matches!(first.recv().await, ServerMessage::Joined { .. }));
    // The second holder tries to "resume" as the first.
    let mut thief = Client::connect(a).await;
    thief.join_raw(pid(2), &link).await;
    expect_refused(&mut thief, 4003).await;
    // The first holder keeps its id and connection; the clinician saw nothing happen.
    doc.send_to(pid(2), b"for the first holder").await;
    assert_eq!(
        first.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: b"for the first holder".to_vec()
        }
    );
    assert_eq!(doc.try_recv(Duration::from_millis(100)).await, None);
    // A single-use token of the same person still resumes its own id.
    let own = token(ROOM, "patient", "pat");
    let (_pat, _) = Client::joined(a, pid(4), &own).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    let (_pat2, _) = Client::joined(a, pid(4), &own).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_use_token_refused_after_relay_restart() {
    let dir = temp_tree(&[]);
    let state = dir.join("state");
    let secret = std::str::from_utf8(SECRET).unwrap();
    let start = || {
        RelayProc::start_env(
            &["--state-dir", path_str(&state)],
            &[("TELECONSULT_RELAY_TOKEN_SECRET", secret)],
        )
    };
    let pat_token = token(ROOM, "patient", "pat");
    {
        let r = start();
        let (_doc, _) = Client::joined(r.addr, pid(1), &token(ROOM, "clinician", "d")).await;
        let (_pat, _) = Client::joined(r.addr, pid(2), &pat_token).await;
        // `r` is killed here (SIGKILL): nothing is saved on the way out.
    }
    assert!(
        state
            .join(teleconsult_relay::token::USED_TOKENS_FILE)
            .exists()
    );
    let r = start();
    let (_doc, _) = Client::joined(r.addr, pid(1), &token(ROOM, "clinician", "d2")).await;
    let mut replay = Client::connect(r.addr).await;
    replay.join_raw(pid(3), &pat_token).await;
    expect_refused(&mut replay, 4004).await;
    // Its own participant id may still come back with it (a resume).
    let (_pat, _) = Client::joined(r.addr, pid(2), &pat_token).await;
}

/// `POST /dev/token` with extra request headers; returns the status code.
async fn dev_token_status(addr: std::net::SocketAddr, host: &str, extra: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = r#"{"role":"clinician"}"#;
    let req = format!(
        "POST /dev/token HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_token_is_not_served_through_a_reverse_proxy() {
    let relay = relay_with(|c| c.dev = true).await;
    let a = relay.local_addr();
    let port = a.port();
    let local = format!("127.0.0.1:{port}");
    // A local caller (curl, the demo page) gets its token…
    assert_eq!(dev_token_status(a, &local, "").await, 200);
    assert_eq!(
        dev_token_status(a, &format!("localhost:{port}"), "").await,
        200
    );
    assert_eq!(
        dev_token_status(
            a,
            &local,
            &format!("Origin: http://localhost:{port}\r\nSec-Fetch-Site: same-origin\r\n")
        )
        .await,
        200
    );
    // …but anything a reverse proxy on the same host adds gets 404.
    for extra in [
        "X-Forwarded-For: 203.0.113.9\r\n",
        "X-Forwarded-Host: relay.example\r\n",
        "X-Forwarded-Proto: https\r\n",
        "Forwarded: for=203.0.113.9\r\n",
        "X-Real-IP: 203.0.113.9\r\n",
        "Via: 1.1 proxy\r\n",
        "Origin: https://relay.example\r\n",
        "Sec-Fetch-Site: cross-site\r\n",
    ] {
        assert_eq!(dev_token_status(a, &local, extra).await, 404, "{extra:?}");
    }
    // A public Host name (what proxies forward by default) as well.
    assert_eq!(dev_token_status(a, "relay.example", "").await, 404);
    assert_eq!(dev_token_status(a, "relay.example:443", "").await, 404);
    relay.shutdown().await;
}
