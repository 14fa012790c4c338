//! One WebSocket connection: handshake (join), then a single task that reads the client,
//! writes its queue, enforces limits and timeouts, and leaves the room at the end.
//!
//! Payloads are never parsed beyond the relay_wire header and never logged.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use teleconsult::signaling::relay_wire::{
    ClientMessage, LeftReason, ParticipantId, Role, ServerMessage,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;

use crate::codes::{self, Close};
use crate::hub::{ConnHandle, Hub, QueueLimits, Queued, Refused, RoomEntry, unix_now};
use crate::token;

/// What the client asked for in the URL (`/ws?room=…&role=…`); both optional, and when
/// given they must match the token.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// Expected room id.
    pub room: Option<String>,
    /// Expected role.
    pub role: Option<String>,
}

/// Frames written per flush at most, so one busy connection yields to the others.
const BATCH_FRAMES: usize = 64;

/// A token bucket (rate per second, burst) for message and byte rates.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: u32, burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: now,
        }
    }

    fn take(&mut self, n: f64, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// Releases the connection slot and gauge when the connection ends, however it ends.
pub struct SlotGuard(pub Arc<Hub>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.metrics.connections.fetch_sub(1, Relaxed);
    }
}

/// The WebSocket over the upgraded HTTP connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Longest time spent getting a close frame out (after what the socket already holds).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest time spent reading what a client still sends after the close frame went out.
const LINGER: Duration = Duration::from_secs(1);

/// The close a read error calls for, if any: oversized messages get 4008, protocol
/// violations 1002, invalid UTF-8 1007; a broken connection gets nothing.
fn classify(e: &tungstenite::Error) -> Option<Close> {
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::Capacity(_) => Some(codes::FRAME_TOO_LARGE),
        tungstenite::Error::Utf8(_) => Some(codes::INVALID_UTF8),
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        tungstenite::Error::Protocol(_) => Some(codes::PROTOCOL_ERROR),
        _ => None,
    }
}

/// An unmasked server frame (FIN set) with `opcode` and `payload`.
fn server_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    match payload.len() {
        n @ 0..=125 => out.push(n as u8), // fits 7 bits (matched range)
        n @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes()); // fits 16 bits (matched range)
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Closes with `close`: the relay_wire `Error` (for 4000–4999), then the close frame, both
/// flushed, then a half-close, then the client's remaining bytes are read and discarded
/// until it closes (bounded in time) — so that the kernel never answers unread data with a
/// reset that would destroy the close frame on its way. Counted in the metrics.
async fn refuse(ws: &mut Socket, hub: &Hub, close: Close) {
    match close.code {
        1002 => hub.metrics.protocol_errors.fetch_add(1, Relaxed),
        1007 => hub.metrics.invalid_utf8.fetch_add(1, Relaxed),
        c => {
            hub.metrics.count_close(c);
            0
        }
    };
    let mut out = Vec::with_capacity(64);
    if close.code >= 4000 {
        let err = ServerMessage::Error {
            code: close.code,
            reason: close.reason.to_owned(),
        }
        .encode();
        server_frame(&mut out, 0x2, &err);
    }
    let mut payload = close.code.to_be_bytes().to_vec();
    payload.extend_from_slice(close.reason.as_bytes());
    server_frame(&mut out, 0x8, &payload);
    let sent = tokio::time::timeout(CLOSE_TIMEOUT, async {
        // Whatever the WebSocket layer still holds (frames, a pong) goes out first; after a
        // read error it may refuse, and its buffer is then empty or lost anyway.
        let _ = ws.flush().await;
        let io = ws.get_mut();
        io.write_all(&out).await?;
        io.flush().await?;
        io.shutdown().await
    })
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(LINGER, async {
        let mut buf = vec![0u8; 16 * 1024];
        let io = ws.get_mut();
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Takes one message's worth from the rate buckets; `false` when over the limit.
fn allow(msgs: &mut Bucket, bytes: &mut Bucket, len: usize, now: Instant) -> bool {
    msgs.take(1.0, now) && bytes.take(len as f64, now)
}

/// Runs a connection to its end.
pub async fn run(
    mut ws: Socket,
    hub: Arc<Hub>,
    expect: Expect,
    mut shutdown: watch::Receiver<bool>,
    _slot: SlotGuard,
) {
    let conn_id = hub.next_conn_id();
    let cfg = &hub.config;
    let m = &hub.metrics;
    let start = Instant::now();
    let mut msgs = Bucket::new(cfg.msg_rate, cfg.msg_burst, start);
    let mut bytes = Bucket::new(cfg.byte_rate, cfg.byte_burst, start);
    // ---- Handshake: a valid join within the timeout. WebSocket pings and relay_wire
    // Pings before it are answered (and rate limited) but do not extend the deadline. ----
    let deadline = tokio::time::Instant::now() + cfg.handshake_timeout;
    let data = loop {
        let next = tokio::select! {
            r = tokio::time::timeout_at(deadline, ws.next()) => r,
            () = down(&mut shutdown) => return refuse(&mut ws, &hub, codes::SHUTTING_DOWN).await,
        };
        let msg = match next {
            Err(_) => return refuse(&mut ws, &hub, codes::TIMEOUT).await,
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                if let Some(c) = classify(&e) {
                    refuse(&mut ws, &hub, c).await;
                }
                return;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        let now = Instant::now();
        if !allow(&mut msgs, &mut bytes, msg.len(), now) {
            return refuse(&mut ws, &hub, codes::RATE_LIMITED).await;
        }
        match msg {
            Message::Binary(b) => {
                m.frames_in.fetch_add(1, Relaxed);
                m.bytes_in.fetch_add(b.len() as u64, Relaxed);
                if let Ok(ClientMessage::Ping { nonce }) = ClientMessage::decode(&b) {
                    let pong = Bytes::from(ServerMessage::Pong { nonce }.encode());
                    if ws.send(Message::Binary(pong)).await.is_err() {
                        return;
                    }
                    continue;
                }
                break b;
            }
            Message::Ping(_) => {
                m.pings_in.fetch_add(1, Relaxed); // the WebSocket layer queues the pong
            }
            Message::Pong(_) => {
                m.pongs_in.fetch_add(1, Relaxed);
            }
            Message::Close(_) => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.flush()).await; // the echo
                return;
            }
            Message::Text(_) => return refuse(&mut ws, &hub, codes::MALFORMED).await,
            Message::Frame(_) => {}
        }
    };
    if data.len() > cfg.max_frame {
        return refuse(&mut ws, &hub, codes::FRAME_TOO_LARGE).await;
    }
    let Ok(ClientMessage::Join { id, token }) = ClientMessage::decode(&data) else {
        return refuse(&mut ws, &hub, codes::MALFORMED).await;
    };
    let Some(secret) = hub.secret.clone() else {
        return refuse(&mut ws, &hub, codes::BAD_TOKEN).await;
    };
    let verified = match token::verify(&secret, &token, unix_now(), cfg.max_token_ttl.as_secs()) {
        Ok(v) => v,
        Err(close) => {
            tracing::info!(conn = conn_id, code = close.code, "join refused");
            return refuse(&mut ws, &hub, close).await;
        }
    };
    if expect.room.as_ref().is_some_and(|r| *r != verified.room)
        || expect
            .role
            .as_ref()
            .is_some_and(|r| Role::parse(r) != Some(verified.role))
    {
        tracing::info!(conn = conn_id, code = 4003, "join refused");
        return refuse(&mut ws, &hub, codes::WRONG_ROOM_OR_ROLE).await;
    }
    let limits = QueueLimits {
        frames: cfg.send_queue,
        bytes: cfg.send_queue_bytes,
        stall_ms: u64::try_from(cfg.stall_timeout.as_millis()).unwrap_or(u64::MAX),
    };
    let (handle, rx) = ConnHandle::new(conn_id, limits);
    let joined = match hub.join(id, &verified, handle.clone()).await {
        Ok(j) => j,
        Err(close) => {
            tracing::info!(
                conn = conn_id,
                role = verified.role.as_str(),
                code = close.code,
                "join refused"
            );
            return refuse(&mut ws, &hub, close).await;
        }
    };
    tracing::info!(conn = conn_id, role = verified.role.as_str(), "joined");
    m.joined.fetch_add(1, Relaxed);
    let mut rx = rx;
    let mut session = Session {
        msgs,
        bytes,
        busy: Vec::new(),
    };
    let reason = session
        .run(
            &mut ws,
            &hub,
            &joined.room,
            id,
            joined.welcome,
            &handle,
            &mut rx,
            &mut shutdown,
        )
        .await;
    // Frames still queued are dropped with the connection. `recv` after `close` also
    // waits for a send that was in progress (`try_recv` could miss it and leave the
    // queued-frames gauge one too high forever).
    rx.close();
    while rx.recv().await.is_some() {
        m.queued.fetch_sub(1, Relaxed);
    }
    m.joined.fetch_sub(1, Relaxed);
    let left = match reason {
        End::Closed => LeftReason::Closed,
        End::Lost => LeftReason::Lost,
        End::Refused(c) => match c.code {
            4008..=4010 | 1002 | 1007 => LeftReason::Removed,
            _ => LeftReason::Lost,
        },
    };
    // The others learn at once; the close ceremony below may take a moment.
    hub.leave(&joined.room, id, conn_id, left);
    if let End::Refused(c) = reason {
        tracing::info!(conn = conn_id, code = c.code, "connection closed by relay");
        refuse(&mut ws, &hub, c).await;
    }
}

/// Resolves once shutdown has begun.
async fn down(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|d| *d).await;
}

/// How a joined session ended.
#[derive(Clone, Copy)]
enum End {
    /// The client closed normally.
    Closed,
    /// The connection broke.
    Lost,
    /// The relay closes it with a code (Error message + close frame).
    Refused(Close),
}

/// A joined connection's per-client state.
struct Session {
    msgs: Bucket,
    bytes: Bucket,
    /// Frames this client sent that a local recipient could not take yet (the client holds
    /// its fair share of that recipient's queue); nothing more is read from the client
    /// until they are queued or the recipient is found stalled.
    busy: Vec<(ConnHandle, Queued, u64)>,
}

impl Session {
    /// Retries the waiting frames; keeps those still refused.
    fn retry_busy(&mut self, m: &crate::metrics::Metrics) {
        let pending = std::mem::take(&mut self.busy);
        for (h, q, _) in pending {
            match h.push(q, m) {
                Ok(()) | Err(Refused::RecipientStalled) => {}
                Err(Refused::Busy(q, seen)) => self.busy.push((h, q, seen)),
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the list
    async fn run(
        &mut self,
        ws: &mut Socket,
        hub: &Hub,
        room: &Arc<RoomEntry>,
        id: ParticipantId,
        welcome: Bytes,
        handle: &ConnHandle,
        rx: &mut mpsc::Receiver<Queued>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> End {
        let cfg = &hub.config;
        let m = &hub.metrics;
        if ws.send(Message::Binary(welcome)).await.is_err() {
            return End::Lost;
        }
        handle.progressed();
        let mut idle_deadline = tokio::time::Instant::now() + cfg.idle_timeout;
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + cfg.heartbeat, cfg.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch: Vec<Queued> = Vec::with_capacity(8);
        loop {
            tokio::select! {
                biased;
                close = handle.kill.killed() => return End::Refused(close),
                () = down(shutdown) => return End::Refused(codes::SHUTTING_DOWN),
                n = rx.recv_many(&mut batch, BATCH_FRAMES) => {
                    if n == 0 {
                        return End::Lost;
                    }
                    handle.dequeued(&batch);
                    m.queued.fetch_sub(n as i64, Relaxed);
                    // The batch is bounded by the per-connection byte cap, so feeding it whole
                    // bounds the WebSocket write buffer too. A client that stops reading blocks
                    // this write: senders then wait for it, and it is dropped (4012) once it
                    // made no progress for --stall-timeout, or by the write timeout.
                    let write = async {
                        for q in &batch {
                            ws.feed(Message::Binary(q.frame.clone())).await?;
                            handle.progressed();
                        }
                        ws.flush().await
                    };
                    let res = tokio::select! {
                        r = tokio::time::timeout(cfg.write_timeout, write) => {
                            r.unwrap_or(Err(tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into())))
                        }
                        close = handle.kill.killed() => return End::Refused(close),
                    };
                    if res.is_err() {
                        return End::Lost;
                    }
                    handle.progressed();
                    let now = Instant::now();
                    let count = batch.len();
                    for q in batch.drain(..) {
                        m.observe_latency(now.saturating_duration_since(q.at));
                        m.bytes_out.fetch_add(q.frame.len() as u64, Relaxed);
                    }
                    m.frames_out.fetch_add(count as u64, Relaxed);
                }
                () = async {
                    match self.busy.first() {
                        Some((h, _, seen)) => h.wait_progress(*seen).await,
                        None => std::future::pending().await,
                    }
                }, if !self.busy.is_empty() => self.retry_busy(m),
                msg = ws.next(), if self.busy.is_empty() => {
                    let now = Instant::now();
                    idle_deadline = tokio::time::Instant::now() + cfg.idle_timeout;
                    let msg = match msg {
                        None => return End::Lost,
                        Some(Err(e)) => return classify(&e).map_or(End::Lost, End::Refused),
                        Some(Ok(msg)) => msg,
                    };
                    if !allow(&mut self.msgs, &mut self.bytes, msg.len(), now) {
                        return End::Refused(codes::RATE_LIMITED);
                    }
                    let data = match msg {
                        Message::Binary(b) => b,
                        Message::Close(_) => {
                            let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.flush()).await;
                            return End::Closed;
                        }
                        Message::Ping(_) => {
                            m.pings_in.fetch_add(1, Relaxed);
                            continue;
                        }
                        Message::Pong(_) => {
                            m.pongs_in.fetch_add(1, Relaxed);
                            continue;
                        }
                        Message::Frame(_) => continue,
                        Message::Text(_) => return End::Refused(codes::MALFORMED),
                    };
                    m.frames_in.fetch_add(1, Relaxed);
                    m.bytes_in.fetch_add(data.len() as u64, Relaxed);
                    if data.len() > cfg.max_frame {
                        return End::Refused(codes::FRAME_TOO_LARGE);
                    }
                    match ClientMessage::decode(&data) {
                        Ok(ClientMessage::Send { to, payload }) => {
                            self.busy = hub.forward(room, id, to, payload, now);
                        }
                        Ok(ClientMessage::Ping { nonce }) => {
                            handle.notice(Bytes::from(ServerMessage::Pong { nonce }.encode()), now, m);
                        }
                        Ok(ClientMessage::Join { .. }) | Err(_) => return End::Refused(codes::MALFORMED),
                    }
                }
                _ = tokio::time::sleep_until(idle_deadline) => return End::Refused(codes::TIMEOUT),
                _ = heartbeat.tick() => {
                    let ping = tokio::time::timeout(cfg.write_timeout, ws.send(Message::Ping(Bytes::new())));
                    if !matches!(ping.await, Ok(Ok(()))) {
                        return End::Lost;
                    }
                }
            }
        }
    }
}
