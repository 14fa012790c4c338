//! One WebSocket connection: handshake (join), then a single task that reads the client,
//! writes its queue, enforces limits and timeouts, and leaves the room at the end.
//!
//! Payloads are never parsed beyond the relay_wire header and never logged.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use teleconsult::signaling::relay_wire::{
    ClientMessage, LeftReason, ParticipantId, Role, ServerMessage,
};
use tokio::sync::{mpsc, watch};

use crate::codes::{self, Close};
use crate::hub::{ConnHandle, Hub, Queued, RoomEntry, unix_now};
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

fn is_capacity_error(e: axum::Error) -> bool {
    matches!(
        e.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Sends the relay_wire `Error` and the close frame (best effort, bounded in time).
async fn refuse(ws: &mut WebSocket, hub: &Hub, close: Close) {
    hub.metrics.count_close(close.code);
    let err = ServerMessage::Error {
        code: close.code,
        reason: close.reason.to_owned(),
    }
    .encode();
    let frame = CloseFrame {
        code: close.code,
        reason: Utf8Bytes::from_static(close.reason),
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        ws.feed(Message::Binary(Bytes::from(err))).await?;
        ws.send(Message::Close(Some(frame))).await
    })
    .await;
}

/// Runs a connection to its end.
pub async fn run(
    mut ws: WebSocket,
    hub: Arc<Hub>,
    expect: Expect,
    mut shutdown: watch::Receiver<bool>,
    _slot: SlotGuard,
) {
    let conn_id = hub.next_conn_id();
    let cfg = &hub.config;
    // ---- Handshake: the first message must be a valid join, within the timeout. ----
    let first = tokio::select! {
        r = tokio::time::timeout(cfg.handshake_timeout, ws.next()) => r,
        () = down(&mut shutdown) => {
            refuse(&mut ws, &hub, codes::SHUTTING_DOWN).await;
            return;
        }
    };
    let data = match first {
        Err(_) => return refuse(&mut ws, &hub, codes::TIMEOUT).await,
        Ok(None) => return,
        Ok(Some(Err(e))) => {
            if is_capacity_error(e) {
                refuse(&mut ws, &hub, codes::FRAME_TOO_LARGE).await;
            }
            return;
        }
        Ok(Some(Ok(Message::Binary(b)))) => b,
        Ok(Some(Ok(Message::Close(_)))) => return,
        Ok(Some(Ok(_))) => return refuse(&mut ws, &hub, codes::MALFORMED).await,
    };
    hub.metrics.frames_in.fetch_add(1, Relaxed);
    hub.metrics.bytes_in.fetch_add(data.len() as u64, Relaxed);
    if data.len() > cfg.max_frame {
        return refuse(&mut ws, &hub, codes::FRAME_TOO_LARGE).await;
    }
    let Ok(ClientMessage::Join { id, token }) = ClientMessage::decode(&data) else {
        return refuse(&mut ws, &hub, codes::MALFORMED).await;
    };
    let Some(secret) = hub_secret(&hub) else {
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
    let (handle, rx) = ConnHandle::new(conn_id, cfg.send_queue, cfg.send_queue_bytes);
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
    hub.metrics.joined.fetch_add(1, Relaxed);
    let mut rx = rx;
    let reason = session(
        &mut ws,
        &hub,
        &joined.room,
        id,
        joined.welcome,
        handle.clone(),
        &mut rx,
        &mut shutdown,
    )
    .await;
    // Frames still queued are dropped with the connection.
    rx.close();
    while rx.try_recv().is_ok() {
        hub.metrics.queued.fetch_sub(1, Relaxed);
    }
    hub.metrics.joined.fetch_sub(1, Relaxed);
    let left = match reason {
        End::Closed => LeftReason::Closed,
        End::Lost => LeftReason::Lost,
        End::Refused(c) => {
            tracing::info!(conn = conn_id, code = c.code, "connection closed by relay");
            refuse(&mut ws, &hub, c).await;
            match c.code {
                4008..=4010 => LeftReason::Removed,
                _ => LeftReason::Lost,
            }
        }
        End::Dropped(c) => {
            tracing::info!(conn = conn_id, code = c.code, "connection dropped by relay");
            hub.metrics.count_close(c.code);
            LeftReason::Lost
        }
    };
    hub.leave(&joined.room, id, conn_id, left);
}

/// Resolves once shutdown has begun.
async fn down(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|d| *d).await;
}

fn hub_secret(hub: &Hub) -> Option<Arc<[u8]>> {
    hub.secret.clone()
}

/// How a joined session ended.
enum End {
    /// The client closed normally.
    Closed,
    /// The connection broke.
    Lost,
    /// The relay closes it with a code (Error message + close frame).
    Refused(Close),
    /// The relay drops it without ceremony (its writes are stuck).
    Dropped(Close),
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the list
async fn session(
    ws: &mut WebSocket,
    hub: &Hub,
    room: &Arc<RoomEntry>,
    id: ParticipantId,
    welcome: Bytes,
    handle: ConnHandle,
    rx: &mut mpsc::Receiver<Queued>,
    shutdown: &mut watch::Receiver<bool>,
) -> End {
    let cfg = &hub.config;
    let m = &hub.metrics;
    if ws.send(Message::Binary(welcome)).await.is_err() {
        return End::Lost;
    }
    let start = Instant::now();
    let mut msgs = Bucket::new(cfg.msg_rate, cfg.msg_burst, start);
    let mut bytes = Bucket::new(cfg.byte_rate, cfg.byte_burst, start);
    let mut idle_deadline = tokio::time::Instant::now() + cfg.idle_timeout;
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + cfg.heartbeat, cfg.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch: Vec<Queued> = Vec::with_capacity(8);
    loop {
        tokio::select! {
            biased;
            close = handle.kill.killed() => {
                return if close == codes::TOO_SLOW { End::Dropped(close) } else { End::Refused(close) };
            }
            () = down(shutdown) => return End::Refused(codes::SHUTTING_DOWN),
            n = rx.recv_many(&mut batch, BATCH_FRAMES) => {
                if n == 0 {
                    return End::Lost;
                }
                m.queued.fetch_sub(n as i64, Relaxed);
                // The batch is bounded by the per-connection byte cap, so feeding it whole
                // bounds the WebSocket write buffer too. A client that stops reading blocks
                // this write: the kill switch (queue overflow) and the write timeout end it.
                let mut total = 0usize;
                let write = async {
                    for (frame, _) in &batch {
                        total += frame.len();
                        ws.feed(Message::Binary(frame.clone())).await?;
                    }
                    ws.flush().await
                };
                let res = tokio::select! {
                    r = tokio::time::timeout(cfg.write_timeout, write) => {
                        r.unwrap_or_else(|_| Err(axum::Error::new("write timeout")))
                    }
                    close = handle.kill.killed() => return End::Dropped(close),
                };
                if res.is_err() {
                    return End::Lost;
                }
                let now = Instant::now();
                let count = batch.len();
                for (frame, at) in batch.drain(..) {
                    m.observe_latency(now.saturating_duration_since(at));
                    m.bytes_out.fetch_add(frame.len() as u64, Relaxed);
                }
                handle.queued_bytes.fetch_sub(total.min(handle.queued_bytes.load(Relaxed)), Relaxed);
                m.frames_out.fetch_add(count as u64, Relaxed);
            }
            msg = ws.next() => {
                let now = Instant::now();
                idle_deadline = tokio::time::Instant::now() + cfg.idle_timeout;
                let data = match msg {
                    None => return End::Lost,
                    Some(Err(e)) => return if is_capacity_error(e) { End::Refused(codes::FRAME_TOO_LARGE) } else { End::Lost },
                    Some(Ok(Message::Binary(b))) => b,
                    Some(Ok(Message::Close(_))) => return End::Closed,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Text(_))) => return End::Refused(codes::MALFORMED),
                };
                m.frames_in.fetch_add(1, Relaxed);
                m.bytes_in.fetch_add(data.len() as u64, Relaxed);
                if data.len() > cfg.max_frame {
                    return End::Refused(codes::FRAME_TOO_LARGE);
                }
                if !msgs.take(1.0, now) || !bytes.take(data.len() as f64, now) {
                    return End::Refused(codes::RATE_LIMITED);
                }
                match ClientMessage::decode(&data) {
                    Ok(ClientMessage::Send { to, payload }) => hub.forward(room, id, to, payload, now),
                    Ok(ClientMessage::Ping { nonce }) => {
                        handle.push(Bytes::from(ServerMessage::Pong { nonce }.encode()), now, m);
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
