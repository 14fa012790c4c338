//! Scale-out over NATS core pub/sub: relay nodes share rooms so that participants connected
//! to different nodes meet.
//!
//! A hand-written client for the small text protocol of NATS core (`CONNECT`, `PUB`, `SUB`,
//! `UNSUB`, `MSG`, `PING`/`PONG`) — a few hundred lines instead of a TLS-capable client
//! crate with its own dependency tree; TLS to NATS is left to the network (see RELAY.md).
//!
//! Subjects:
//! - `tc.r.<room>`: room events from the nodes that have participants in it — `J` joined,
//!   `L` left, `D` deliver (the already-encoded relay_wire `Deliver` frame, opaque).
//! - `tc.ctl`: `H` heartbeat, `Q` room query, `T` single-use token used, `K` token query,
//!   `X` node leaving.
//! - `tc.n.<node>`: `S` snapshot and `k` token answers to this node's queries.
//!
//! Each node keeps a replica of every room it has local participants in. When a node gets
//! its first participant in a room it subscribes to the room subject, asks every live node
//! (known from heartbeats) for its members of that room, and waits for all answers (or
//! 300 ms) before deciding the join. A node silent for [`NODE_TIMEOUT`] is dead: its
//! participants are reported `Left(Lost)` and may resume on another node.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use teleconsult::signaling::relay_wire::{LeftReason, ParticipantId, Role};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

use crate::hub::{Hub, NodeId, RoomEntry, lock};
use crate::metrics::Metrics;

/// Interval between heartbeats.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// A node not heard from for this long is considered dead.
pub const NODE_TIMEOUT: Duration = Duration::from_millis(2500);
/// Longest wait for snapshot answers when syncing a room.
pub const SYNC_TIMEOUT: Duration = Duration::from_millis(300);
/// Largest NATS message accepted from the server (ours are at most a frame plus a header).
const MAX_NATS_PAYLOAD: usize = 1024 * 1024;

const CTL: &str = "tc.ctl";

struct Pending {
    remaining: HashSet<NodeId>,
    done: Arc<Notify>,
}

/// A node's link to the NATS cluster.
pub struct Cluster {
    /// This node's id.
    pub node: NodeId,
    out: mpsc::Sender<Bytes>,
    metrics: Arc<Metrics>,
    next_sid: AtomicU64,
    room_sids: std::sync::Mutex<HashMap<Arc<str>, u64>>,
    nodes: std::sync::Mutex<HashMap<NodeId, Instant>>,
    pending: std::sync::Mutex<HashMap<Arc<str>, Pending>>,
}

/// Why the NATS link could not be established.
#[derive(Debug)]
pub struct ClusterError(pub String);

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NATS: {}", self.0)
    }
}

impl std::error::Error for ClusterError {}

fn host_port(url: &str) -> Result<String, ClusterError> {
    let rest = url.strip_prefix("nats://").unwrap_or(url);
    let rest = rest
        .rsplit_once('@')
        .map_or(rest, |(_, h)| h)
        .trim_end_matches('/');
    if rest.is_empty() {
        return Err(ClusterError("empty NATS address".into()));
    }
    Ok(
        if rest
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            rest.to_owned()
        } else {
            format!("{rest}:4222")
        },
    )
}

fn pub_cmd(subject: &str, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(subject.len() + payload.len() + 24);
    b.put_slice(b"PUB ");
    b.put_slice(subject.as_bytes());
    b.put_slice(format!(" {}\r\n", payload.len()).as_bytes());
    b.put_slice(payload);
    b.put_slice(b"\r\n");
    b.freeze()
}

/// A bounds-checked reader over a NATS payload.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
    }
    fn id(&mut self) -> Option<ParticipantId> {
        self.take(8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(ParticipantId)
    }
    fn h32(&mut self) -> Option<[u8; 32]> {
        self.take(32).and_then(|b| <[u8; 32]>::try_from(b).ok())
    }
    fn str8(&mut self) -> Option<&'a str> {
        let n = usize::from(self.u8()?);
        std::str::from_utf8(self.take(n)?).ok()
    }
}

fn put_str8(b: &mut Vec<u8>, s: &str) {
    let s = &s.as_bytes()[..s.len().min(255)];
    b.push(s.len() as u8); // capped at 255 above
    b.extend_from_slice(s);
}

fn reason_byte(r: LeftReason) -> u8 {
    r as u8
}

fn reason_from(b: u8) -> LeftReason {
    match b {
        0 => LeftReason::Closed,
        2 => LeftReason::Removed,
        _ => LeftReason::Lost,
    }
}

impl Cluster {
    /// Connects to NATS, subscribes to the control subjects, discovers the other nodes,
    /// and starts the reader, writer and heartbeat tasks. `on_lost` runs if the NATS
    /// connection breaks later (the relay then shuts down so clients move to other nodes).
    pub async fn connect(
        url: &str,
        hub: Arc<Hub>,
        on_lost: impl FnOnce() + Send + 'static,
    ) -> Result<Arc<Self>, ClusterError> {
        let addr = host_port(url)?;
        let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&addr))
            .await
            .map_err(|_| ClusterError(format!("timeout connecting to {addr}")))?
            .map_err(|e| ClusterError(format!("cannot connect to {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::with_capacity(64 * 1024, rd);
        let mut line = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), rd.read_until(b'\n', &mut line))
            .await
            .map_err(|_| ClusterError("no INFO from server".into()))?
            .map_err(|e| ClusterError(e.to_string()))?;
        if !line.starts_with(b"INFO") {
            return Err(ClusterError("server did not greet with INFO".into()));
        }
        let mut node_bytes = [0u8; 8];
        getrandom::fill(&mut node_bytes).map_err(|e| ClusterError(e.to_string()))?;
        let node = u64::from_be_bytes(node_bytes) | 1;
        let connect = "CONNECT {\"verbose\":false,\"pedantic\":false,\"no_echo\":true,\"name\":\"teleconsult-relay\",\"lang\":\"rust\",\"version\":\"0.1.0\",\"protocol\":1}\r\n";
        let subs = format!("SUB {CTL} 1\r\nSUB tc.n.{node:016x} 2\r\nPING\r\n");
        wr.write_all(connect.as_bytes())
            .await
            .map_err(|e| ClusterError(e.to_string()))?;
        wr.write_all(subs.as_bytes())
            .await
            .map_err(|e| ClusterError(e.to_string()))?;
        // Wait for the PONG that confirms CONNECT and SUBs were accepted.
        loop {
            line.clear();
            let n = tokio::time::timeout(Duration::from_secs(5), rd.read_until(b'\n', &mut line))
                .await
                .map_err(|_| ClusterError("no PONG from server".into()))?
                .map_err(|e| ClusterError(e.to_string()))?;
            if n == 0 {
                return Err(ClusterError("server closed the connection".into()));
            }
            if line.starts_with(b"-ERR") {
                return Err(ClusterError(
                    String::from_utf8_lossy(&line).trim().to_owned(),
                ));
            }
            if line.starts_with(b"PONG") {
                break;
            }
        }
        let (out, out_rx) = mpsc::channel::<Bytes>(65_536);
        let cluster = Arc::new(Self {
            node,
            out,
            metrics: hub.metrics.clone(),
            next_sid: AtomicU64::new(10),
            room_sids: std::sync::Mutex::new(HashMap::new()),
            nodes: std::sync::Mutex::new(HashMap::new()),
            pending: std::sync::Mutex::new(HashMap::new()),
        });
        let (lost_tx, lost_rx) = tokio::sync::oneshot::channel::<()>();
        let lost_tx = Arc::new(std::sync::Mutex::new(Some(lost_tx)));
        tokio::spawn(writer(wr, out_rx, lost_tx.clone()));
        tokio::spawn(reader(rd, cluster.clone(), hub.clone(), lost_tx));
        tokio::spawn(heartbeats(cluster.clone(), hub));
        tokio::spawn(async move {
            if lost_rx.await.is_ok() {
                on_lost();
            }
        });
        // Announce ourselves and give the others a moment to answer, so that the first
        // joins already see the whole cluster.
        cluster.heartbeat();
        tokio::time::sleep(Duration::from_millis(150)).await;
        tracing::info!(
            node = format!("{node:016x}"),
            nodes = lock(&cluster.nodes).len() + 1,
            "joined NATS cluster"
        );
        Ok(cluster)
    }

    fn send(&self, cmd: Bytes) {
        if self.out.try_send(cmd).is_err() {
            self.metrics.nats_dropped.fetch_add(1, Relaxed);
        }
    }

    fn publish(&self, subject: &str, payload: &[u8]) {
        self.send(pub_cmd(subject, payload));
    }

    fn header(&self, kind: u8) -> Vec<u8> {
        let mut b = Vec::with_capacity(64);
        b.push(kind);
        b.extend_from_slice(&self.node.to_be_bytes());
        b
    }

    fn heartbeat(&self) {
        self.publish(CTL, &self.header(b'H'));
    }

    /// Live nodes other than this one.
    pub fn peers(&self) -> usize {
        lock(&self.nodes).len()
    }

    /// Tells the others this node is leaving (graceful shutdown).
    pub fn say_goodbye(&self) {
        self.publish(CTL, &self.header(b'X'));
    }

    /// Subscribes to a room and merges every live node's members into `entry`.
    pub async fn sync_room(&self, _hub: &Hub, entry: &RoomEntry) {
        let sid = self.next_sid.fetch_add(1, Relaxed);
        lock(&self.room_sids).insert(entry.id.clone(), sid);
        self.send(Bytes::from(format!("SUB tc.r.{} {sid}\r\n", entry.id)));
        let remaining: HashSet<NodeId> = lock(&self.nodes).keys().copied().collect();
        if remaining.is_empty() {
            return;
        }
        let done = Arc::new(Notify::new());
        lock(&self.pending).insert(
            entry.id.clone(),
            Pending {
                remaining,
                done: done.clone(),
            },
        );
        let mut q = self.header(b'Q');
        put_str8(&mut q, &entry.id);
        self.publish(CTL, &q);
        let _ = tokio::time::timeout(SYNC_TIMEOUT, done.notified()).await;
        lock(&self.pending).remove(&entry.id);
    }

    /// Stops following a room that has no local participant left.
    pub fn unsubscribe_room(&self, room: &str) {
        if let Some(sid) = lock(&self.room_sids).remove(room) {
            self.send(Bytes::from(format!("UNSUB {sid}\r\n")));
        }
    }

    /// Announces a local join or resume.
    pub fn publish_joined(&self, room: &str, id: ParticipantId, role: Role, subject: &[u8; 32]) {
        let mut b = self.header(b'J');
        b.extend_from_slice(&id.0);
        b.push(role as u8);
        b.extend_from_slice(subject);
        self.publish(&format!("tc.r.{room}"), &b);
    }

    /// Announces a local leave.
    pub fn publish_left(&self, room: &str, id: ParticipantId, reason: LeftReason) {
        let mut b = self.header(b'L');
        b.extend_from_slice(&id.0);
        b.push(reason_byte(reason));
        self.publish(&format!("tc.r.{room}"), &b);
    }

    /// Sends an encoded `Deliver` frame to the room's participants on other nodes.
    pub fn publish_deliver(&self, room: &str, to: ParticipantId, frame: Bytes) {
        let mut b = self.header(b'D');
        b.extend_from_slice(&to.0);
        b.extend_from_slice(&frame);
        self.publish(&format!("tc.r.{room}"), &b);
    }

    /// Asks every live node whether it has seen the single-use token id `jti`; answers are
    /// recorded through [`Hub::remember_token`]. Waits for all answers or [`SYNC_TIMEOUT`].
    pub async fn query_token(&self, _hub: &Hub, jti: &str) {
        let remaining: HashSet<NodeId> = lock(&self.nodes).keys().copied().collect();
        if remaining.is_empty() {
            return;
        }
        // Room ids are base64url, so a key with a space cannot collide with one.
        let key: Arc<str> = Arc::from(format!("token {jti}"));
        let done = Arc::new(Notify::new());
        lock(&self.pending).insert(
            key.clone(),
            Pending {
                remaining,
                done: done.clone(),
            },
        );
        let mut q = self.header(b'K');
        put_str8(&mut q, jti);
        self.publish(CTL, &q);
        let _ = tokio::time::timeout(SYNC_TIMEOUT, done.notified()).await;
        lock(&self.pending).remove(&key);
    }

    /// Shares a single-use token's first use with the other nodes.
    pub fn publish_token_used(&self, jti: &str, id: ParticipantId, exp: u64) {
        let mut b = self.header(b'T');
        b.extend_from_slice(&id.0);
        b.extend_from_slice(&exp.to_be_bytes());
        put_str8(&mut b, jti);
        self.publish(CTL, &b);
    }

    fn saw_node(&self, node: NodeId) {
        if node == self.node {
            return;
        }
        let new = lock(&self.nodes).insert(node, Instant::now()).is_none();
        if new {
            tracing::info!(peer = format!("{node:016x}"), "NATS peer discovered");
            self.heartbeat();
        }
    }

    fn handle(&self, hub: &Hub, subject: &str, payload: &[u8]) {
        let mut r = Rd(payload);
        let (Some(kind), Some(node)) = (r.u8(), r.u64()) else {
            return;
        };
        if node == self.node {
            return;
        }
        self.saw_node(node);
        if let Some(room) = subject.strip_prefix("tc.r.") {
            match kind {
                b'J' => {
                    if let (Some(id), Some(role), Some(subject)) =
                        (r.id(), r.u8().and_then(Role::from_byte), r.h32())
                    {
                        hub.remote_joined(room, node, id, role, subject);
                    }
                }
                b'L' => {
                    if let (Some(id), Some(reason)) = (r.id(), r.u8()) {
                        hub.remote_left(room, node, id, reason_from(reason));
                    }
                }
                b'D' => {
                    if let Some(to) = r.id() {
                        hub.remote_deliver(room, to, Bytes::copy_from_slice(r.0));
                    }
                }
                _ => {}
            }
            return;
        }
        match kind {
            b'Q' => {
                let Some(room) = r.str8() else { return };
                let (open, members) = hub.snapshot(room);
                let mut b = self.header(b'S');
                put_str8(&mut b, room);
                b.push(u8::from(open));
                b.push(u8::try_from(members.len()).unwrap_or(u8::MAX));
                for (id, role, subject) in members.iter().take(255) {
                    b.extend_from_slice(&id.0);
                    b.push(*role as u8);
                    b.extend_from_slice(subject);
                }
                self.publish(&format!("tc.n.{node:016x}"), &b);
            }
            b'S' => {
                let (Some(room), Some(open), Some(count)) = (r.str8(), r.u8(), r.u8()) else {
                    return;
                };
                let mut members = Vec::new();
                for _ in 0..count {
                    let (Some(id), Some(role), Some(subject)) =
                        (r.id(), r.u8().and_then(Role::from_byte), r.h32())
                    else {
                        return;
                    };
                    members.push((id, role, subject));
                }
                if let Some(e) = hub.existing(room) {
                    hub.merge_snapshot(&e, node, open != 0, &members);
                }
                let mut pending = lock(&self.pending);
                if let Some(p) = pending.get_mut(room) {
                    p.remaining.remove(&node);
                    if p.remaining.is_empty() {
                        p.done.notify_one();
                    }
                }
            }
            b'K' => {
                let Some(jti) = r.str8() else { return };
                let mut b = self.header(b'k');
                put_str8(&mut b, jti);
                match hub.lookup_token(jti) {
                    Some((id, exp)) => {
                        b.push(1);
                        b.extend_from_slice(&id.0);
                        b.extend_from_slice(&exp.to_be_bytes());
                    }
                    None => b.push(0),
                }
                self.publish(&format!("tc.n.{node:016x}"), &b);
            }
            b'k' => {
                let (Some(jti), Some(found)) = (r.str8(), r.u8()) else {
                    return;
                };
                if found == 1 {
                    if let (Some(id), Some(exp)) = (r.id(), r.u64()) {
                        hub.remember_token(jti, id, exp);
                    }
                }
                let mut pending = lock(&self.pending);
                if let Some(p) = pending.get_mut(format!("token {jti}").as_str()) {
                    p.remaining.remove(&node);
                    if p.remaining.is_empty() {
                        p.done.notify_one();
                    }
                }
            }
            b'T' => {
                if let (Some(id), Some(exp), Some(jti)) = (r.id(), r.u64(), r.str8()) {
                    hub.remember_token(jti, id, exp);
                }
            }
            b'X' => {
                lock(&self.nodes).remove(&node);
                tracing::info!(peer = format!("{node:016x}"), "NATS peer left");
                hub.node_lost(node);
            }
            _ => {} // 'H' only refreshes liveness (done above).
        }
    }
}

type LostTx = Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>;

fn signal_lost(lost: &LostTx) {
    if let Some(tx) = lock(lost).take() {
        let _ = tx.send(());
    }
}

async fn writer(
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Bytes>,
    lost: LostTx,
) {
    let mut batch = Vec::with_capacity(256);
    let mut buf = Vec::with_capacity(64 * 1024);
    while rx.recv_many(&mut batch, 256).await > 0 {
        buf.clear();
        for b in batch.drain(..) {
            buf.extend_from_slice(&b);
        }
        if wr.write_all(&buf).await.is_err() {
            break;
        }
    }
    signal_lost(&lost);
}

async fn reader(
    mut rd: BufReader<tokio::net::tcp::OwnedReadHalf>,
    cluster: Arc<Cluster>,
    hub: Arc<Hub>,
    lost: LostTx,
) {
    let mut line = Vec::with_capacity(256);
    let mut payload = Vec::new();
    loop {
        line.clear();
        match rd.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() > 4096 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let mut parts = text.split_ascii_whitespace();
        match parts.next() {
            Some("MSG") => {
                let fields: Vec<&str> = parts.collect();
                let (Some(subject), Some(len)) = (
                    fields.first(),
                    fields.last().and_then(|l| l.parse::<usize>().ok()),
                ) else {
                    break;
                };
                if len > MAX_NATS_PAYLOAD {
                    break;
                }
                payload.resize(len + 2, 0);
                if rd.read_exact(&mut payload).await.is_err() {
                    break;
                }
                cluster.handle(&hub, subject, &payload[..len]);
            }
            Some("PING") => cluster.send(Bytes::from_static(b"PONG\r\n")),
            Some("-ERR") => tracing::warn!(error = %text.trim(), "NATS error"),
            _ => {}
        }
    }
    tracing::error!("NATS connection lost");
    signal_lost(&lost);
}

async fn heartbeats(cluster: Arc<Cluster>, hub: Arc<Hub>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        cluster.heartbeat();
        let now = Instant::now();
        let dead: Vec<NodeId> = {
            let mut nodes = lock(&cluster.nodes);
            let dead = nodes
                .iter()
                .filter(|(_, seen)| now.duration_since(**seen) > NODE_TIMEOUT)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>();
            for n in &dead {
                nodes.remove(n);
            }
            dead
        };
        for n in dead {
            tracing::warn!(
                peer = format!("{n:016x}"),
                "NATS peer timed out; its participants are lost"
            );
            hub.node_lost(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_addresses_get_a_default_port() {
        assert_eq!(
            host_port("nats://127.0.0.1:4333").unwrap(),
            "127.0.0.1:4333"
        );
        assert_eq!(host_port("nats://localhost").unwrap(), "localhost:4222");
        assert_eq!(host_port("nats://u:p@h:1/").unwrap(), "h:1");
        assert!(host_port("nats://").is_err());
    }

    #[test]
    fn publish_command_frames_the_payload() {
        assert_eq!(&pub_cmd("tc.ctl", b"ab")[..], b"PUB tc.ctl 2\r\nab\r\n");
    }

    #[test]
    fn truncated_cluster_messages_are_ignored() {
        let mut r = Rd(&[1, 2, 3]);
        assert_eq!(r.u64(), None);
        let mut r = Rd(&[5, b'a']);
        assert_eq!(r.str8(), None);
    }
}
