//! Shared harness for the relay's integration tests: start the binary, talk HTTP and
//! WebSocket to it.
#![allow(dead_code, missing_docs, clippy::unwrap_used)] // test harness: a panic is a test failure

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const BIN: &str = env!("CARGO_BIN_EXE_teleconsult-relay");

/// A relay process; killed on drop so a failing test never leaks it.
pub struct RelayProc {
    pub child: Child,
    pub addr: SocketAddr,
}

impl RelayProc {
    pub fn start(args: &[&str]) -> Self {
        Self::start_env(args, &[])
    }

    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(["--listen", "127.0.0.1:0", "--exit-on-stdin-close"])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn relay");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read listen line");
        let url = line
            .trim()
            .strip_prefix("teleconsult-relay listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let addr = url.parse().expect("addr");
        Self { child, addr }
    }

    /// Waits up to `limit` for the process to exit; returns its exit status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RelayProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one raw HTTP/1.1 request (path sent verbatim, so traversal attempts reach the
/// server unnormalised) and reads the whole response.
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("timeout")
        .expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect::<Vec<_>>();
    let mut body = buf[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let len =
            usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if len == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + len]);
        b = &b[end + 2 + len + 2..];
    }
}

pub async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http(addr, "GET", path, None).await
}

/// A temporary directory of a test, removed when the test drops it.
pub struct TempTree(std::path::PathBuf);

impl std::ops::Deref for TempTree {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `files` (relative path, contents) under a fresh temporary directory.
pub fn temp_tree(files: &[(&str, &[u8])]) -> TempTree {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "relay-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, data) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    TempTree(dir)
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------
// In-process relay and WebSocket clients.

use futures_util::{SinkExt, StreamExt};
use teleconsult::signaling::relay_wire::{ClientMessage, ParticipantId, ServerMessage};
use teleconsult_relay::Config;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub const SECRET: &[u8] = b"integration-test-secret-0123456789";
pub const ROOM: &str = "cm9vbS1pbnRlZ3JhdGlvbg";

/// Test defaults: the shipped defaults with the test secret and an ephemeral port.
pub fn config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        token_secret: Some(SECRET.to_vec()),
        shutdown_grace: Duration::from_millis(500),
        ..Config::default()
    }
}

pub async fn relay_with(f: impl FnOnce(&mut Config)) -> teleconsult_relay::Relay {
    let mut c = config();
    f(&mut c);
    teleconsult_relay::start(c).await.unwrap()
}

pub fn token(room: &str, role: &str, sub: &str) -> String {
    teleconsult_relay::server::mint_token(
        SECRET,
        room,
        role,
        Duration::from_secs(600),
        Duration::from_secs(3600),
        Some(sub.into()),
        false,
    )
    .unwrap()
    .0
}

pub fn pid(n: u8) -> ParticipantId {
    ParticipantId([n, 0xAA, 0, 0, 0, 0, 0, n])
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed {
    /// The relay_wire Error code received before the close, if any.
    pub error: Option<u16>,
    /// The WebSocket close code, if a close frame arrived.
    pub close: Option<u16>,
}

pub struct Client {
    pub ws: Ws,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
        Self::connect_path(addr, "/ws").await
    }

    pub async fn connect_path(addr: SocketAddr, path: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
            .await
            .expect("ws connect");
        Self { ws }
    }

    pub async fn send_raw(&mut self, msg: Message) {
        let _ = self.ws.send(msg).await;
    }

    pub async fn send_msg(&mut self, m: ClientMessage) {
        self.send_raw(Message::Binary(m.encode().into())).await;
    }

    pub async fn join_raw(&mut self, id: ParticipantId, token: &str) {
        self.send_msg(ClientMessage::Join {
            id,
            token: token.as_bytes().to_vec(),
        })
        .await;
    }

    /// Connects and joins; panics unless welcomed. Returns the client and the welcome.
    pub async fn joined(addr: SocketAddr, id: ParticipantId, token: &str) -> (Self, ServerMessage) {
        let mut c = Self::connect(addr).await;
        c.join_raw(id, token).await;
        let w = c.recv().await;
        assert!(
            matches!(w, ServerMessage::Welcome { .. }),
            "expected welcome, got {w:?}"
        );
        (c, w)
    }

    /// Next relay message (skipping WebSocket pings), or panic after 5 s.
    pub async fn recv(&mut self) -> ServerMessage {
        self.try_recv(Duration::from_secs(5))
            .await
            .expect("no relay message within 5 s")
    }

    /// Next relay message within `limit`, or `None`.
    pub async fn try_recv(&mut self, limit: Duration) -> Option<ServerMessage> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Binary(b) => {
                    return Some(ServerMessage::decode(&b).expect("relay sent valid framing"));
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    /// Reads until the connection ends; reports the Error code and close code seen.
    pub async fn closed(&mut self) -> Closed {
        let mut out = Closed {
            error: None,
            close: None,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => panic!("connection not closed within 10 s: {out:?}"),
                Ok(None) | Ok(Some(Err(_))) => return out,
                Ok(Some(Ok(Message::Binary(b)))) => {
                    if let Ok(ServerMessage::Error { code, .. }) = ServerMessage::decode(&b) {
                        out.error = Some(code);
                    }
                }
                Ok(Some(Ok(Message::Close(f)))) => {
                    out.close = f.map(|f| u16::from(f.code));
                    return out;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    pub async fn send_to(&mut self, to: ParticipantId, payload: &[u8]) {
        self.send_msg(ClientMessage::Send {
            to,
            payload: payload.to_vec(),
        })
        .await;
    }

    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }
}

/// Expects a refusal with `code` both as relay_wire Error and as close code.
pub async fn expect_refused(c: &mut Client, code: u16) {
    let closed = c.closed().await;
    assert_eq!(
        closed,
        Closed {
            error: Some(code),
            close: Some(code)
        }
    );
}

/// A clinician and a patient in a fresh room exchange a frame both ways: proof the relay
/// still serves everyone else.
pub async fn pair_still_works(addr: SocketAddr, room: &str) {
    let (mut doc, _) = Client::joined(addr, pid(201), &token(room, "clinician", "doc-check")).await;
    let (mut pat, _) = Client::joined(addr, pid(202), &token(room, "patient", "pat-check")).await;
    assert!(matches!(doc.recv().await, ServerMessage::Joined { .. }));
    doc.send_to(pid(202), b"still here?").await;
    assert_eq!(
        pat.recv().await,
        ServerMessage::Deliver {
            from: pid(201),
            payload: b"still here?".to_vec()
        }
    );
    pat.send_to(ParticipantId::BROADCAST, b"yes").await;
    assert_eq!(
        doc.recv().await,
        ServerMessage::Deliver {
            from: pid(202),
            payload: b"yes".to_vec()
        }
    );
    pat.close().await;
    doc.close().await;
}

/// Polls `f` until true or 10 s pass.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Opens a raw TCP WebSocket (no client library), so we can stop reading or cut frames.
pub async fn raw_ws(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    s
}

/// A masked binary frame header for `len` payload bytes (mask key 0: payload unchanged).
pub fn frame_header(len: usize) -> Vec<u8> {
    let mut h = vec![0x82];
    if len < 126 {
        h.push(0x80 | len as u8);
    } else {
        h.push(0x80 | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    }
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

pub async fn raw_send(s: &mut tokio::net::TcpStream, payload: &[u8]) {
    let mut f = frame_header(payload.len());
    f.extend_from_slice(payload);
    s.write_all(&f).await.unwrap();
}
