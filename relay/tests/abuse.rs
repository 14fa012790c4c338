//! The relay under attack (issue 18, "Abuse"): each test is named after the attack and
//! fails on the relay before the fix. Hand-made WebSocket frames go over raw TCP where a
//! client library would refuse to send them or would hide what the relay sent back.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns: a panic is a failure
mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::*;
use teleconsult::signaling::relay_wire::{ClientMessage, LeftReason, ParticipantId, ServerMessage};
use teleconsult_relay::token::{Claims, mint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A masked client frame (mask key 0, so the payload is sent as is) with first byte `b0`
/// (FIN, RSV bits and opcode).
fn client_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![b0];
    match payload.len() {
        n @ 0..=125 => f.push(0x80 | n as u8),
        n => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

fn join_frame(id: ParticipantId, token: &str) -> Vec<u8> {
    client_frame(
        0x82,
        &ClientMessage::Join {
            id,
            token: token.as_bytes().to_vec(),
        }
        .encode(),
    )
}

fn send_frame(to: ParticipantId, payload: &[u8]) -> Vec<u8> {
    client_frame(
        0x82,
        &ClientMessage::Send {
            to,
            payload: payload.to_vec(),
        }
        .encode(),
    )
}

/// What a raw client read from the relay until the close frame (or EOF / reset).
#[derive(Debug, Default)]
struct Seen {
    /// relay_wire messages in binary frames.
    messages: Vec<ServerMessage>,
    /// Pong frames.
    pongs: usize,
    /// The close frame's code, if one arrived.
    close: Option<u16>,
    /// The connection ended with a reset (data lost) rather than EOF.
    reset: bool,
}

impl Seen {
    fn error_code(&self) -> Option<u16> {
        self.messages.iter().rev().find_map(|m| match m {
            ServerMessage::Error { code, .. } => Some(*code),
            _ => None,
        })
    }
}

/// Reads unmasked server frames until a close frame, EOF or reset (10 s at most).
async fn read_until_close(s: &mut TcpStream) -> Seen {
    let mut seen = Seen::default();
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        // Parse what we have.
        loop {
            if buf.len() < 2 {
                break;
            }
            let opcode = buf[0] & 0x0f;
            let (len, hdr) = match buf[1] & 0x7f {
                126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
                127 if buf.len() >= 10 => (
                    usize::try_from(u64::from_be_bytes(buf[2..10].try_into().unwrap())).unwrap(),
                    10,
                ),
                126 | 127 => break,
                n => (usize::from(n), 2),
            };
            if buf.len() < hdr + len {
                break;
            }
            let payload: Vec<u8> = buf[hdr..hdr + len].to_vec();
            buf.drain(..hdr + len);
            match opcode {
                0x2 => seen
                    .messages
                    .push(ServerMessage::decode(&payload).expect("relay framing")),
                0x8 => {
                    seen.close = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                    return seen;
                }
                0xA => seen.pongs += 1,
                _ => {}
            }
        }
        let mut chunk = [0u8; 64 * 1024];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => panic!("no close within 10 s: {seen:?}"),
            Ok(Ok(0)) => return seen,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => {
                seen.reset = true;
                return seen;
            }
        }
    }
}

/// A raw client that joined (the Welcome is read and checked).
async fn raw_joined(addr: std::net::SocketAddr, id: ParticipantId, token: &str) -> TcpStream {
    let mut s = raw_ws(addr).await;
    s.write_all(&join_frame(id, token)).await.unwrap();
    let mut hdr = [0u8; 2];
    s.read_exact(&mut hdr).await.unwrap();
    assert_eq!(hdr[0], 0x82);
    let len = usize::from(hdr[1] & 0x7f);
    assert!(len < 126);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    assert!(matches!(
        ServerMessage::decode(&body),
        Ok(ServerMessage::Welcome { .. })
    ));
    s
}

// ---- 1. A sender's burst cannot evict a reading recipient ----------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_sender_cannot_evict_reading_recipient() {
    // A recipient queue far smaller than the sender's burst allowance: before the fix one
    // burst overflowed it and the reading recipient was dropped with 4012.
    let relay = relay_with(|c| {
        c.send_queue = 32;
        c.msg_burst = 400;
    })
    .await;
    let a = relay.local_addr();
    let m = relay.metrics();
    const BURST: usize = 390;
    for trial in 0..8u8 {
        let room = format!("burst-{trial}");
        let (mut doc, _) = Client::joined(a, pid(1), &token(&room, "clinician", "d")).await;
        let mut guest = raw_joined(a, pid(2), &token(&room, "guest", "g")).await;
        assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
        // The whole burst in one write: the relay reads it as fast as it can.
        let mut burst = Vec::new();
        for i in 0..BURST {
            burst.extend_from_slice(&send_frame(pid(1), &(i as u32).to_be_bytes()));
        }
        guest.write_all(&burst).await.unwrap();
        // The clinician reads every frame, in order, and stays connected.
        for i in 0..BURST {
            assert_eq!(
                doc.recv().await,
                ServerMessage::Deliver {
                    from: pid(2),
                    payload: (i as u32).to_be_bytes().to_vec()
                },
                "trial {trial}, frame {i}"
            );
        }
        doc.send_to(pid(2), b"still here").await;
        drop(guest);
        assert_eq!(
            doc.recv().await,
            ServerMessage::Left {
                id: pid(2),
                reason: LeftReason::Lost
            }
        );
        doc.close().await;
    }
    assert_eq!(
        m.closes[12].load(Relaxed),
        0,
        "nobody was dropped as too slow"
    );
    // The sender paid: it was made to wait for its share of the recipient's queue.
    assert!(
        m.sender_waits.load(Relaxed) > 0,
        "the burst never hit its share"
    );
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_recipient_gets_its_4012_close_frame() {
    let relay = relay_with(|c| {
        c.stall_timeout = Duration::from_millis(300);
        c.msg_rate = 100_000;
        c.msg_burst = 100_000;
        c.byte_rate = 1 << 30;
        c.byte_burst = 1 << 30;
    })
    .await;
    let a = relay.local_addr();
    let m = relay.metrics();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    // The patient joins, then stops reading.
    let mut slow = raw_joined(a, pid(2), &token(ROOM, "patient", "p")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    let sender = tokio::spawn(async move {
        let chunk = vec![0x33u8; 16 * 1024];
        for _ in 0..2000 {
            doc.send_to(pid(2), &chunk).await;
        }
        doc
    });
    eventually("the stalled patient is dropped as too slow", || {
        m.closes[12].load(Relaxed) == 1
    })
    .await;
    // It reads again: behind the frames already on their way comes the 4012, then the close.
    let seen = read_until_close(&mut slow).await;
    assert_eq!((seen.error_code(), seen.close), (Some(4012), Some(4012)));
    assert!(!seen.reset);
    let mut doc = sender.await.unwrap();
    loop {
        if let ServerMessage::Left { id, reason } = doc.recv().await {
            assert_eq!((id, reason), (pid(2), LeftReason::Lost));
            break;
        }
    }
    relay.shutdown().await;
}

// ---- 2. Nothing hangs before the upgrade -----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_before_upgrade_times_out() {
    let relay = relay_with(|c| {
        c.http_timeout = Duration::from_millis(800);
        c.max_http_connections = 16;
    })
    .await;
    let a = relay.local_addr();
    let m = relay.metrics();
    let mut lurkers = Vec::new();
    for i in 0..48 {
        let mut s = TcpStream::connect(a).await.unwrap();
        if i % 2 == 0 {
            // Slowloris: a request that never ends. The others send nothing at all.
            s.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nX-a: ")
                .await
                .unwrap();
        }
        lurkers.push(s);
    }
    eventually("the oldest lurkers are evicted", || {
        m.http_evicted.load(Relaxed) >= 32
    })
    .await;
    assert!(m.http_connections.load(Relaxed) <= 16);
    // Health and metrics stay reachable while the lurkers hold on.
    assert_eq!(get(a, "/healthz").await.text(), "ok");
    let metrics = get(a, "/metrics").await.text();
    assert!(metrics.contains("relay_http_evicted_total"), "{metrics}");
    // Every lurker is closed by the relay: evicted at once, the rest at the deadline.
    for s in &mut lurkers {
        let mut b = [0u8; 64];
        let r = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await;
        assert!(
            matches!(r, Ok(Ok(0) | Err(_))),
            "an HTTP-phase connection outlived its deadline"
        );
    }
    assert!(m.http_timeouts.load(Relaxed) >= 1);
    eventually("no HTTP-phase connection is left", || {
        m.http_connections.load(Relaxed) == 0
    })
    .await;
    pair_still_works(a, "after-slowloris").await;
    relay.shutdown().await;
}

/// Starts the relay binary under `prlimit --nofile=N`.
fn relay_with_nofile(nofile: u32, args: &[&str]) -> Option<RelayProc> {
    use std::io::BufRead;
    if !std::path::Path::new("/usr/bin/prlimit").exists() {
        eprintln!("\n!!!!!!!! SKIPPED: prlimit (util-linux) not installed !!!!!!!!\n");
        return None;
    }
    let mut child = std::process::Command::new("/usr/bin/prlimit")
        .arg(format!("--nofile={nofile}:{nofile}"))
        .arg(BIN)
        .args(["--listen", "127.0.0.1:0", "--exit-on-stdin-close"])
        .args(args)
        .env(
            "TELECONSULT_RELAY_TOKEN_SECRET",
            std::str::from_utf8(SECRET).unwrap(),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn relay under prlimit");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("teleconsult-relay listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    Some(RelayProc { child, addr })
}

fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn descriptor_exhaustion_is_refused_before_health_and_metrics_hang() {
    // 160 descriptors: the relay keeps 64 in reserve and fits its limits in the other 96
    // (24 HTTP-phase connections, 72 WebSocket connections), however high they are set.
    let Some(relay) = relay_with_nofile(
        160,
        &["--max-connections", "5000", "--handshake-timeout", "60s"],
    ) else {
        return;
    };
    let a = relay.addr;
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..100 {
        match tokio_tungstenite::connect_async(format!("ws://{a}/ws")).await {
            Ok((ws, _)) => open.push(ws),
            Err(_) => refused += 1,
        }
    }
    assert_eq!((open.len(), refused), (72, 28));
    // Idle TCP connections on top: the oldest are evicted, health and metrics answer.
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(TcpStream::connect(a).await.unwrap());
    }
    assert_eq!(get(a, "/healthz").await.text(), "ok");
    let text = get(a, "/metrics").await.text();
    assert_eq!(metric(&text, "relay_connections"), 72);
    assert_eq!(metric(&text, "relay_refused_connections_total"), 28);
    assert_eq!(metric(&text, "relay_accept_errors_total"), 0);
    assert!(metric(&text, "relay_http_evicted_total") >= 36);
}

// ---- 3. WebSocket ping and pong count ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_flood_is_rate_limited_and_counted() {
    let relay = relay_with(|c| {
        c.msg_rate = 50;
        c.msg_burst = 100;
    })
    .await;
    let a = relay.local_addr();
    let m = relay.metrics();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let mut flood = raw_joined(a, pid(2), &token(ROOM, "guest", "g")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    let mut pings = Vec::new();
    for _ in 0..2000 {
        pings.extend_from_slice(&client_frame(0x89, b"ping"));
    }
    flood.write_all(&pings).await.unwrap();
    let seen = read_until_close(&mut flood).await;
    assert_eq!((seen.error_code(), seen.close), (Some(4009), Some(4009)));
    assert_eq!(m.closes[9].load(Relaxed), 1);
    let counted = m.pings_in.load(Relaxed);
    assert!((90..=130).contains(&counted), "pings counted: {counted}");
    // Not 2000 pongs: at most one for each counted ping, plus the one that hit the limit.
    assert!(seen.pongs <= counted as usize + 1, "{} pongs", seen.pongs);
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Removed
        }
    );
    // Before the join too: pings do not slip past the limits.
    let mut early = raw_ws(a).await;
    early.write_all(&pings).await.unwrap();
    let seen = read_until_close(&mut early).await;
    assert_eq!((seen.error_code(), seen.close), (Some(4009), Some(4009)));
    assert!(
        get(a, "/metrics")
            .await
            .text()
            .contains("relay_control_frames_in_total{kind=\"ping\"}")
    );
    relay.shutdown().await;
}

// ---- 4. Refusals reach the client; protocol violations get their codes --------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_close_reaches_client_with_data_in_flight() {
    let relay = relay_with(|c| {
        c.msg_rate = 50;
        c.msg_burst = 100;
    })
    .await;
    let a = relay.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    for trial in 0..5u8 {
        let mut flood = raw_joined(
            a,
            pid(10 + trial),
            &token(ROOM, "guest", &format!("g{trial}")),
        )
        .await;
        // Far more than the burst, and more bytes (8 MB) than the socket buffers hold: the
        // client is still writing when the relay refuses the 101st frame.
        let mut frames = Vec::new();
        for _ in 0..70_000 {
            frames.extend_from_slice(&send_frame(pid(1), &[7u8; 100]));
        }
        // A client library stops at the first failed write (a reset): the relay must keep
        // reading until the client is done, so every write succeeds.
        let writer = tokio::spawn(async move {
            let wrote = flood.write_all(&frames).await;
            (flood, wrote)
        });
        let (mut flood, wrote) = writer.await.unwrap();
        assert!(wrote.is_ok(), "trial {trial}: write failed: {wrote:?}");
        let seen = read_until_close(&mut flood).await;
        assert!(
            !seen.reset,
            "trial {trial}: the refusal was destroyed by a reset"
        );
        assert_eq!(
            (seen.error_code(), seen.close),
            (Some(4009), Some(4009)),
            "trial {trial}"
        );
    }
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_close_reaches_client_with_data_in_flight() {
    let relay = relay_with(|c| c.max_frame = 4096).await;
    let a = relay.local_addr();
    let (_doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    for trial in 0..5u8 {
        let mut big = raw_joined(
            a,
            pid(10 + trial),
            &token(ROOM, "guest", &format!("g{trial}")),
        )
        .await;
        // An 8 MB frame: the relay refuses it from its header while its bytes (more than the
        // socket buffers hold) still arrive.
        let len = 8_000_000usize;
        let mut f = vec![0x82, 0x80 | 127];
        f.extend_from_slice(&(len as u64).to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend(std::iter::repeat_n(0u8, len));
        let wrote = big.write_all(&f).await;
        assert!(wrote.is_ok(), "trial {trial}: write failed: {wrote:?}");
        let seen = read_until_close(&mut big).await;
        assert!(
            !seen.reset,
            "trial {trial}: the refusal was destroyed by a reset"
        );
        assert_eq!(
            (seen.error_code(), seen.close),
            (Some(4008), Some(4008)),
            "trial {trial}"
        );
    }
    assert_eq!(relay.metrics().closes[8].load(Relaxed), 5);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_close_with_1002_or_1007_and_are_counted() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let m = relay.metrics();
    let unmasked = {
        let mut f = vec![0x82, 3];
        f.extend_from_slice(b"abc");
        f
    };
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked client frame", unmasked, 1002),
        ("RSV1 set", client_frame(0xC2, b"abc"), 1002),
        ("reserved data opcode", client_frame(0x83, b"abc"), 1002),
        ("reserved control opcode", client_frame(0x8B, b""), 1002),
        ("oversized ping", client_frame(0x89, &[0u8; 126]), 1002),
        ("fragmented ping", client_frame(0x09, b"x"), 1002),
        (
            "continuation without a start",
            client_frame(0x80, b"x"),
            1002,
        ),
        (
            "invalid UTF-8 in a text frame",
            client_frame(0x81, &[0xff, 0xfe, 0xfd]),
            1007,
        ),
    ];
    for (what, frame, code) in &cases {
        let mut s = raw_ws(a).await;
        s.write_all(frame).await.unwrap();
        let seen = read_until_close(&mut s).await;
        assert_eq!(seen.close, Some(*code), "{what}: {seen:?}");
    }
    // After the join as well; the others see the violator removed.
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "d")).await;
    let mut bad = raw_joined(a, pid(2), &token(ROOM, "guest", "g")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    bad.write_all(&client_frame(0x81, &[0xc3, 0x28]))
        .await
        .unwrap();
    assert_eq!(read_until_close(&mut bad).await.close, Some(1007));
    assert_eq!(
        doc.recv().await,
        ServerMessage::Left {
            id: pid(2),
            reason: LeftReason::Removed
        }
    );
    assert_eq!(m.protocol_errors.load(Relaxed), 7);
    assert_eq!(m.invalid_utf8.load(Relaxed), 2);
    let text = get(a, "/metrics").await.text();
    assert!(text.contains("relay_drops_total{reason=\"protocol_error\",code=\"1002\"} 7"));
    assert!(text.contains("relay_drops_total{reason=\"invalid_utf8\",code=\"1007\"} 2"));
    pair_still_works(a, "after-violations").await;
    relay.shutdown().await;
}

// ---- 5. Smaller points ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_before_join_is_answered_without_penalty() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let mut c = Client::connect(a).await;
    // A relay_wire Ping before the Join is answered with its Pong…
    c.send_msg(ClientMessage::Ping { nonce: [9; 8] }).await;
    assert_eq!(c.recv().await, ServerMessage::Pong { nonce: [9; 8] });
    // …a WebSocket ping with a WebSocket pong…
    c.send_raw(Message::Ping(b"hb".to_vec().into())).await;
    let pong = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::StreamExt::next(&mut c.ws),
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert_eq!(pong, Message::Pong(b"hb".to_vec().into()));
    // …and the Join that follows is welcome.
    c.join_raw(pid(1), &token(ROOM, "clinician", "d")).await;
    assert!(matches!(c.recv().await, ServerMessage::Welcome { .. }));
    assert_eq!(relay.metrics().closes[10].load(Relaxed), 0);
    assert_eq!(relay.metrics().pings_in.load(Relaxed), 1);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_token_with_malformed_room_is_refused_with_4001() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let now = teleconsult_relay::hub::unix_now();
    for (room, role) in [("not/a room", "guest"), ("", "clinician"), (ROOM, "admin")] {
        let claims = Claims {
            room: room.into(),
            role: role.into(),
            sub: "s".into(),
            exp: now + 60,
            jti: "j".into(),
            reusable: false,
        };
        let mut c = Client::connect(a).await;
        c.join_raw(pid(1), &mint(SECRET, &claims)).await;
        expect_refused(&mut c, 4001).await;
    }
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_token_with_clinician_subject_cannot_take_over_clinician_id() {
    let relay = relay_with(|_| {}).await;
    let a = relay.local_addr();
    let (mut doc, _) = Client::joined(a, pid(1), &token(ROOM, "clinician", "dr-who")).await;
    let (mut pat, _) = Client::joined(a, pid(2), &token(ROOM, "patient", "p")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    let mut thief = Client::connect(a).await;
    thief
        .join_raw(pid(1), &token(ROOM, "guest", "dr-who"))
        .await;
    expect_refused(&mut thief, 4003).await;
    // The clinician keeps its connection and id; the patient saw no one come back.
    doc.send_to(pid(2), b"still me").await;
    assert_eq!(
        pat.recv().await,
        ServerMessage::Deliver {
            from: pid(1),
            payload: b"still me".to_vec()
        }
    );
    assert_eq!(doc.try_recv(Duration::from_millis(100)).await, None);
    relay.shutdown().await;
}

fn token_cmd(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .arg("token")
        .args(args)
        .env(
            "TELECONSULT_RELAY_TOKEN_SECRET",
            std::str::from_utf8(SECRET).unwrap(),
        )
        .env_remove("TELECONSULT_RELAY_MAX_TOKEN_TTL")
        .output()
        .unwrap()
}

#[test]
fn token_help_prints_usage() {
    let out = token_cmd(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("usage: teleconsult-relay token"), "{text}");
    assert!(text.contains("--subject"));
}

#[test]
fn token_subject_flag_is_accepted_as_the_usage_says() {
    use base64::Engine;
    for flag in ["--subject", "--sub"] {
        let out = token_cmd(&["--room", ROOM, "--role", "patient", flag, "person-7"]);
        assert!(
            out.status.success(),
            "{flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap();
        let claims = token.trim().split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap();
        let claims: Claims = serde_json::from_slice(&json).unwrap();
        assert_eq!(claims.sub, "person-7");
    }
}

#[test]
fn token_ttl_beyond_relay_limit_is_refused_at_minting() {
    let out = token_cmd(&["--room", ROOM, "--role", "guest", "--ttl", "48h"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-token-ttl"));
    // Accepted when the relay is told to accept it, too.
    let out = token_cmd(&[
        "--room",
        ROOM,
        "--role",
        "guest",
        "--ttl",
        "48h",
        "--max-token-ttl",
        "72h",
    ]);
    assert!(out.status.success());
}

/// The close-code table in docs/RELAY.md and the relay table in docs/PROTOCOL.md §4 list
/// exactly the relay's codes, with the relay's names, and the same default room size.
#[test]
fn docs_share_one_table_of_close_codes_and_room_size() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rows = |file: &str, section: &str| -> Vec<(u16, String)> {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let start = text
            .find(section)
            .unwrap_or_else(|| panic!("{section} in {file}"));
        text[start..]
            .lines()
            .skip(1)
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| {
                let mut cells = l.split('|').map(str::trim).skip(1);
                let code = cells.next()?.parse().ok()?;
                Some((code, cells.next()?.to_owned()))
            })
            .collect()
    };
    let relay: Vec<(u16, String)> = teleconsult_relay::codes::ALL
        .iter()
        .map(|c| (c.code, c.reason.to_owned()))
        .collect();
    let protocol = rows("docs/PROTOCOL.md", "## 4. Relay error and close codes");
    let relay_md = rows("docs/RELAY.md", "## Close codes");
    let app: Vec<(u16, String)> = relay_md
        .iter()
        .filter(|(c, _)| *c >= 4000)
        .cloned()
        .collect();
    assert_eq!(app, relay, "docs/RELAY.md");
    assert_eq!(protocol, relay, "docs/PROTOCOL.md §4");
    let size = teleconsult_relay::Config::default().max_participants;
    assert_eq!(size, teleconsult::signaling::MAX_PARTICIPANTS);
    for file in ["docs/RELAY.md", "docs/PROTOCOL.md"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(
            text.contains(&format!("room size: {size} participants")),
            "{file} must state the room size ({size})"
        );
    }
}
