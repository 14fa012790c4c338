//! Hostile and broken clients, each with real WebSocket connections. Every test checks the
//! close code (and the relay_wire Error before it), that the relay still serves a fresh
//! pair of participants afterwards, and that its queues and connection counts come back
//! down (bounded memory).

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::*;
use teleconsult::signaling::relay_wire::{ClientMessage, LeftReason, ParticipantId, ServerMessage};
use teleconsult_relay::token::{Claims, mint};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

async fn refused_join(
    relay: &teleconsult_relay::Relay,
    path: &str,
    id: ParticipantId,
    token: &str,
    code: u16,
) {
    let mut c = Client::connect_path(relay.local_addr(), path).await;
    c.join_raw(id, token).await;
    expect_refused(&mut c, code).await;
}

async fn settle(relay: &teleconsult_relay::Relay) {
    let m = relay.metrics();
    eventually("connections drop to zero", || {
        m.connections.load(Relaxed) == 0
    })
    .await;
    eventually("queues drain", || m.queued.load(Relaxed) == 0).await;
}

fn claims(room: &str, role: &str, exp: u64) -> Claims {
    Claims {
        room: room.into(),
        role: role.into(),
        sub: "s".into(),
        exp,
        jti: "j-1".into(),
        reusable: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_token_is_refused_with_4001() {
    let relay = relay_with(|_| {}).await;
    let now = teleconsult_relay::hub::unix_now();
    let forged = mint(
        b"not-the-relay-secret-at-all!!",
        &claims(ROOM, "clinician", now + 600),
    );
    refused_join(&relay, "/ws", pid(1), &forged, 4001).await;
    refused_join(&relay, "/ws", pid(1), "v1.garbage.garbage", 4001).await;
    // A valid token with its claims swapped for more powerful ones keeps an invalid MAC.
    let real = token(ROOM, "guest", "g");
    let better = mint(SECRET, &claims(ROOM, "clinician", now + 600));
    let spliced = format!(
        "v1.{}.{}",
        better.split('.').nth(1).unwrap(),
        real.split('.').nth(2).unwrap()
    );
    refused_join(&relay, "/ws", pid(1), &spliced, 4001).await;
    assert_eq!(relay.metrics().closes[1].load(Relaxed), 3);
    pair_still_works(relay.local_addr(), "after-forgery").await;
    settle(&relay).await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refused_with_4002() {
    let relay = relay_with(|_| {}).await;
    let now = teleconsult_relay::hub::unix_now();
    refused_join(
        &relay,
        "/ws",
        pid(1),
        &mint(SECRET, &claims(ROOM, "clinician", now - 1)),
        4002,
    )
    .await;
    pair_still_works(relay.local_addr(), "after-expired").await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_room_and_wrong_role_are_refused_with_4003() {
    let relay = relay_with(|_| {}).await;
    let t = token(ROOM, "patient", "p");
    refused_join(&relay, "/ws?room=some-other-room", pid(1), &t, 4003).await;
    refused_join(
        &relay,
        &format!("/ws?room={ROOM}&role=clinician"),
        pid(1),
        &t,
        4003,
    )
    .await;
    // (A correctly signed token with a malformed room or an unknown role is a bad token:
    // see abuse.rs, signed_token_with_malformed_room_is_refused_with_4001.)
    pair_still_works(relay.local_addr(), "after-wrong-room").await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_token_is_refused_with_4004() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let guest_token = token(ROOM, "guest", "g");
    let (_g, _) = Client::joined(a, pid(2), &guest_token).await;
    // The same single-use token presented for another participant id.
    refused_join(&relay, "/ws", pid(3), &guest_token, 4004).await;
    pair_still_works(a, "after-replay").await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_room_is_refused_with_4005() {
    let relay = relay_with(|c| {
        c.max_participants = 3;
        c.max_guests = 1;
    })
    .await;
    let a = relay.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let (_g, _) = Client::joined(a, pid(2), &token(ROOM, "guest", "g1")).await;
    // Guests are capped.
    refused_join(&relay, "/ws", pid(3), &token(ROOM, "guest", "g2"), 4005).await;
    let (_p, _) = Client::joined(a, pid(4), &token(ROOM, "patient", "p")).await;
    // The room is full.
    refused_join(&relay, "/ws", pid(5), &token(ROOM, "clinician", "d2"), 4005).await;
    pair_still_works(a, "after-full").await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_patient_is_refused_with_4006() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let (_p, _) = Client::joined(a, pid(2), &token(ROOM, "patient", "p1")).await;
    refused_join(&relay, "/ws", pid(3), &token(ROOM, "patient", "p2"), 4006).await;
    // The clinician saw exactly one join.
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    assert_eq!(doc.try_recv(Duration::from_millis(100)).await, None);
    relay.shutdown().await;

    let relaxed = relay_with(|c| c.max_patients = 2).await;
    let a = relaxed.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let (_p1, _) = Client::joined(a, pid(2), &token(ROOM, "patient", "p1")).await;
    let (_p2, _) = Client::joined(a, pid(3), &token(ROOM, "patient", "p2")).await;
    relaxed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_not_opened_by_a_clinician_is_refused_with_4007() {
    let relay = relay_with(|_| {}).await;
    refused_join(&relay, "/ws", pid(2), &token(ROOM, "patient", "p"), 4007).await;
    refused_join(&relay, "/ws", pid(3), &token(ROOM, "guest", "g"), 4007).await;
    assert_eq!(
        relay.hub().room_count(),
        0,
        "a refused join must not leave a room behind"
    );
    // Once the clinician is in, the same patient id may join.
    let a = relay.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let (_p, _) = Client::joined(a, pid(2), &token(ROOM, "patient", "p")).await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_is_refused_with_4008() {
    let relay = relay_with(|c| c.max_frame = 4096).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let (mut pat, _) = Client::joined(a, pid(2), &token(ROOM, "patient", "p")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    // Exactly at the limit is fine.
    pat.send_to(pid(1), &vec![0u8; 4096 - 9]).await;
    assert!(matches!(doc.recv().await, ServerMessage::Deliver { .. }));
    pat.send_to(pid(1), &vec![0u8; 4096]).await; // 4096 + 9 header bytes > 4096
    expect_refused(&mut pat, 4008).await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Removed
        }
    );
    // Far beyond the limit: cut off by the WebSocket layer, still 4008 when it can be said.
    let (mut big, _) = Client::joined(a, pid(3), &token(ROOM, "guest", "g")).await;
    big.send_to(pid(1), &vec![0u8; 10_000]).await;
    let closed = big.closed().await;
    assert!(closed.close.is_none_or(|c| c == 4008), "{closed:?}");
    pair_still_works(a, "after-oversize").await;
    doc.close().await;
    settle(&relay).await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_binary_or_malformed_framing_is_refused_with_4010() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    // Text instead of binary, before the join.
    let mut c = Client::connect(a).await;
    c.send_raw(Message::Text("{\"join\":1}".into())).await;
    expect_refused(&mut c, 4010).await;
    // Something other than a join (or a Ping, which is answered: see abuse.rs) first.
    let mut c = Client::connect(a).await;
    c.send_msg(ClientMessage::Send {
        to: pid(1),
        payload: b"early".to_vec(),
    })
    .await;
    expect_refused(&mut c, 4010).await;
    // Unknown type, bad length, wrong version.
    for junk in [
        vec![0x7f, 1, 2],
        vec![0x01],
        vec![0x01, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
        vec![],
    ] {
        let mut c = Client::connect(a).await;
        c.send_raw(Message::Binary(junk.into())).await;
        expect_refused(&mut c, 4010).await;
    }
    // After joining: text, a second join, a truncated send.
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    for bad in [
        Message::Text("hi".into()),
        Message::Binary(
            ClientMessage::Join {
                id: pid(2),
                token: b"x".to_vec(),
            }
            .encode()
            .into(),
        ),
        Message::Binary(vec![0x02, 1, 2].into()),
    ] {
        let (mut g, _) = Client::joined(a, pid(7), &token(ROOM, "guest", "g")).await;
        g.send_raw(bad).await;
        expect_refused(&mut g, 4010).await;
    }
    pair_still_works(a, "after-malformed").await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_flood_is_rate_limited_with_4009() {
    let relay = relay_with(|c| {
        c.msg_rate = 50;
        c.msg_burst = 100;
    })
    .await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let (mut flood, _) = Client::joined(a, pid(2), &token(ROOM, "guest", "g")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    for _ in 0..1000 {
        flood.send_to(pid(1), b"spam").await;
    }
    expect_refused(&mut flood, 4009).await;
    // The clinician got at most the burst, then a Left(Removed).
    let mut delivered = 0;
    loop {
        match doc.recv().await {
            ServerMessage::Deliver { .. } => delivered += 1,
            ServerMessage::Left { id, reason } => {
                assert_eq!((id, reason), (pid(2), LeftReason::Removed));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((90..=110).contains(&delivered), "delivered {delivered}");
    // A byte flood is caught too.
    let bytes = relay_with(|c| {
        c.byte_rate = 10_000;
        c.byte_burst = 20_000;
    })
    .await;
    let (_doc, _) =
        Client::joined(bytes.local_addr(), pid(1), &token(ROOM, "clinician", "d")).await;
    let (mut heavy, _) =
        Client::joined(bytes.local_addr(), pid(2), &token(ROOM, "guest", "g")).await;
    for _ in 0..10 {
        heavy.send_to(pid(1), &[0u8; 5000]).await;
    }
    expect_refused(&mut heavy, 4009).await;
    pair_still_works(a, "after-flood").await;
    relay.shutdown().await;
    bytes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_never_reads_is_dropped_with_4012() {
    let relay = relay_with(|c| {
        c.send_queue = 128;
        c.send_queue_bytes = 2 * 1024 * 1024;
        c.msg_rate = 100_000;
        c.msg_burst = 100_000;
        c.byte_rate = 1 << 30;
        c.byte_burst = 1 << 30;
    })
    .await;
    let a = relay.local_addr();
    // The stalled client joins over raw TCP and then never reads again.
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    // The clinician reads everything, so only the stalled client falls behind.
    let doc_reader = tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(m) = doc.try_recv(Duration::from_secs(3)).await {
            if matches!(m, ServerMessage::Deliver { .. }) {
                n += 1;
            }
        }
        n
    });
    let mut stalled = raw_ws(a).await;
    raw_send(
        &mut stalled,
        &ClientMessage::Join {
            id: pid(2),
            token: token(ROOM, "guest", "s").into_bytes(),
        }
        .encode(),
    )
    .await;
    let (mut sender, _) = Client::joined(a, pid(3), &token(ROOM, "patient", "p")).await;
    // Blast the room: the stalled client's socket buffers fill, then its queue.
    let chunk = vec![0x55u8; 16 * 1024];
    let m = relay.metrics();
    let mut max_queued = 0;
    let mut sent = 0u64;
    for _ in 0..4000 {
        sender.send_to(ParticipantId::BROADCAST, &chunk).await;
        sent += 1;
        max_queued = max_queued.max(m.queued.load(Relaxed));
        if m.closes[12].load(Relaxed) > 0 {
            break;
        }
    }
    eventually("the stalled client is dropped as too slow", || {
        m.closes[12].load(Relaxed) == 1
    })
    .await;
    // Memory stayed bounded: at most the per-connection caps were ever queued.
    assert!(max_queued <= 2 * 128, "queued {max_queued}");
    // The reading clinician was not disturbed: it got every frame.
    sender.send_to(pid(1), b"last").await;
    let got = doc_reader.await.unwrap();
    assert_eq!(got, sent + 1);
    drop(stalled);
    sender.close().await;
    pair_still_works(a, "after-stall").await;
    settle(&relay).await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_join_time_out_with_4011() {
    let relay = relay_with(|c| {
        c.handshake_timeout = Duration::from_millis(300);
        c.max_connections = 50;
    })
    .await;
    let a = relay.local_addr();
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(Client::connect(a).await);
    }
    // At the connection limit, further upgrades are refused with 503 before any WebSocket.
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{a}/ws"))
            .await
            .is_err()
    );
    assert_eq!(relay.metrics().refused_connections.load(Relaxed), 1);
    for c in &mut idle {
        expect_refused(c, 4011).await;
    }
    settle(&relay).await;
    pair_still_works(a, "after-lurkers").await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_participant_times_out_with_4011() {
    let relay = relay_with(|c| {
        c.idle_timeout = Duration::from_millis(400);
        c.heartbeat = Duration::from_secs(60);
    })
    .await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let mut silent = raw_ws(a).await;
    raw_send(
        &mut silent,
        &ClientMessage::Join {
            id: pid(2),
            token: token(ROOM, "guest", "g").into_bytes(),
        }
        .encode(),
    )
    .await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    // The clinician keeps talking (pings), the raw client says nothing.
    let mut left = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        doc.send_msg(ClientMessage::Ping { nonce: [1; 8] }).await;
        if let Some(ServerMessage::Left { id, reason }) =
            doc.try_recv(Duration::from_millis(100)).await
        {
            left = Some((id, reason));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, Some((pid(2), LeftReason::Lost)));
    assert_eq!(relay.metrics().closes[11].load(Relaxed), 1);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_disconnect_mid_frame_is_a_lost_participant() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    for round in 0..20u8 {
        let mut s = raw_ws(a).await;
        raw_send(
            &mut s,
            &ClientMessage::Join {
                id: pid(2),
                token: token(ROOM, "guest", &format!("g{round}")).into_bytes(),
            }
            .encode(),
        )
        .await;
        assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
        // Half a frame: a header promising 1000 bytes, 10 of them sent, then the socket dies.
        let mut f = frame_header(1000);
        f.extend_from_slice(&[0x02; 10]);
        s.write_all(&f).await.unwrap();
        drop(s);
        assert_eq!(
            doc.recv().await,
            ServerMessage::Left {
                id: pid(2),
                reason: LeftReason::Lost
            }
        );
    }
    // Half an upgrade request, too.
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
        s.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpg")
            .await
            .unwrap();
    }
    pair_still_works(a, "after-abrupt").await;
    let m = relay.metrics();
    eventually("only the clinician remains", || {
        m.connections.load(Relaxed) == 1
    })
    .await;
    relay.shutdown().await;
}
