//! The room registry: who is in which room, on which connection or node, and forwarding.
//!
//! Locking: the room map has one mutex, taken only to find, create or remove a room; each
//! room has its own mutex, taken per forwarded frame. Lock order is map → room, never the
//! reverse. A removed room is marked `dead` so a joiner that raced with its removal retries.
//!
//! Recipients are reached through bounded per-connection queues ([`ConnHandle::push`]): a
//! full queue (frames or bytes) kills that recipient with 4012 and never blocks the sender.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use teleconsult::signaling::relay_wire::{
    LeftReason, MAX_LISTED_PARTICIPANTS, ParticipantId, Role, ServerMessage,
};
use tokio::sync::{Notify, OnceCell, mpsc};

use crate::cluster::Cluster;
use crate::codes::{self, Close};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::token::{ReplayCache, Verified};

/// Id of a node in a cluster (random per process).
pub type NodeId = u64;

/// Locks a mutex, recovering from poisoning: the protected maps stay consistent because no
/// code path panics while holding them, and a relay must keep serving the others.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A frame queued for a connection: the WebSocket payload, when it was queued, and the
/// participant whose `Send` produced it (`None` for the relay's own notices).
pub struct Queued {
    /// The encoded relay_wire message.
    pub frame: Bytes,
    /// When it was queued (forwarding latency).
    pub at: Instant,
    /// The sending participant, for per-sender fair shares of the queue.
    pub from: Option<ParticipantId>,
}

/// Room in the channel above `--send-queue` for the relay's own notices (Joined, Left,
/// Pong): participants' frames can never crowd them out.
pub const NOTICE_HEADROOM: usize = 128;

/// Milliseconds since the first call (a monotonic clock shared through atomics).
pub fn mono_ms() -> u64 {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Tells a connection task to close with a code; the first code set wins.
#[derive(Default)]
pub struct KillSwitch {
    code: AtomicU16,
    notify: Notify,
}

impl KillSwitch {
    /// Asks the connection to close with `close`.
    pub fn kill(&self, close: Close) {
        if self
            .code
            .compare_exchange(0, close.code, Relaxed, Relaxed)
            .is_ok()
        {
            self.notify.notify_one();
        }
    }

    /// Waits until killed; returns the close.
    pub async fn killed(&self) -> Close {
        loop {
            let code = self.code.load(Relaxed);
            if code != 0 {
                return codes::ALL
                    .iter()
                    .copied()
                    .find(|c| c.code == code)
                    .unwrap_or(codes::TOO_SLOW);
            }
            self.notify.notified().await;
        }
    }
}

/// Accounting of one connection's outgoing queue.
#[derive(Default)]
struct QueueState {
    /// Participants' frames queued (notices not included).
    frames: usize,
    /// Bytes queued (participants' frames).
    bytes: usize,
    /// Per sender: frames and bytes queued.
    senders: Vec<(ParticipantId, usize, usize)>,
}

/// What one connection's queue shares between the registry and the connection's task.
struct QueueShared {
    state: Mutex<QueueState>,
    /// [`mono_ms`] of the writer's last progress (a frame taken off the queue or written).
    last_progress: AtomicU64,
    /// Bumped at every dequeue; waiters compare it to see progress.
    progress_seq: AtomicU64,
    progress: Notify,
}

/// Limits of one connection's queue.
#[derive(Clone, Copy)]
pub struct QueueLimits {
    /// Participants' frames queued at most (`--send-queue`).
    pub frames: usize,
    /// Bytes queued at most (`--send-queue-bytes`).
    pub bytes: usize,
    /// Milliseconds without progress after which a recipient counts as not reading.
    pub stall_ms: u64,
}

/// Why a frame could not be queued right now.
pub enum Refused {
    /// The sender already holds its fair share (or the queue is full) and the recipient is
    /// still reading: the sender must wait for progress past the given
    /// [`ConnHandle::progress_seq`] (or, remote, the frame is dropped).
    Busy(Queued, u64),
    /// The recipient made no progress for the stall time: it has been killed with 4012.
    RecipientStalled,
}

/// The sending side of one local connection, as the room registry holds it.
#[derive(Clone)]
pub struct ConnHandle {
    /// Unique per connection on this node (resumes get new ids).
    pub id: u64,
    tx: mpsc::Sender<Queued>,
    q: Arc<QueueShared>,
    limits: QueueLimits,
    /// Closes the connection.
    pub kill: Arc<KillSwitch>,
}

impl ConnHandle {
    /// Creates a handle and the receiving end for the connection's task.
    pub fn new(id: u64, limits: QueueLimits) -> (Self, mpsc::Receiver<Queued>) {
        let (tx, rx) = mpsc::channel(limits.frames.saturating_add(NOTICE_HEADROOM));
        let h = Self {
            id,
            tx,
            q: Arc::new(QueueShared {
                state: Mutex::new(QueueState::default()),
                last_progress: AtomicU64::new(mono_ms()),
                progress_seq: AtomicU64::new(0),
                progress: Notify::new(),
            }),
            limits,
            kill: Arc::new(KillSwitch::default()),
        };
        (h, rx)
    }

    /// Queues one of the relay's own notices; a connection whose notice headroom is full
    /// too is killed as too slow.
    pub fn notice(&self, frame: Bytes, at: Instant, metrics: &Metrics) {
        let q = Queued {
            frame,
            at,
            from: None,
        };
        match self.tx.try_send(q) {
            Ok(()) => {
                metrics.queued.fetch_add(1, Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => self.kill.kill(codes::TOO_SLOW),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Queues a participant's frame without waiting. Each sender may hold at most half of
    /// the recipient's queue (frames and bytes): beyond that — or when the queue is full —
    /// the frame is refused as [`Refused::Busy`] while the recipient keeps reading, and the
    /// recipient is killed (4012) only when it made no progress for the stall time.
    pub fn push(&self, q: Queued, metrics: &Metrics) -> Result<(), Refused> {
        let len = q.frame.len();
        let Some(from) = q.from else {
            self.notice(q.frame, q.at, metrics);
            return Ok(());
        };
        if self.tx.is_closed() || self.kill.code.load(Relaxed) != 0 {
            return Ok(()); // the recipient is going away: nothing to deliver to
        }
        let l = self.limits;
        let mut st = lock(&self.q.state);
        let seen = self.q.progress_seq.load(Relaxed);
        let i = match st.senders.iter().position(|s| s.0 == from) {
            Some(i) => i,
            None => {
                st.senders.push((from, 0, 0));
                st.senders.len() - 1
            }
        };
        let (_, f, b) = st.senders[i];
        let over = st.frames + 1 > l.frames
            || st.bytes.saturating_add(len) > l.bytes
            || f + 1 > l.frames.div_ceil(2)
            || b.saturating_add(len) > l.bytes.div_ceil(2);
        if over {
            if f == 0 {
                st.senders.swap_remove(i);
            }
            drop(st);
            if self.stalled() {
                self.kill.kill(codes::TOO_SLOW);
                return Err(Refused::RecipientStalled);
            }
            return Err(Refused::Busy(q, seen));
        }
        if st.frames == 0 {
            // The writer had nothing to do: its stall clock starts now.
            self.q.last_progress.store(mono_ms(), Relaxed);
        }
        match self.tx.try_send(q) {
            Ok(()) => {
                st.frames += 1;
                st.bytes += len;
                st.senders[i].1 += 1;
                st.senders[i].2 += len;
                metrics.queued.fetch_add(1, Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(q)) => {
                if st.senders[i].1 == 0 {
                    st.senders.swap_remove(i);
                }
                Err(Refused::Busy(q, seen))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                if st.senders[i].1 == 0 {
                    st.senders.swap_remove(i);
                }
                Ok(())
            }
        }
    }

    /// Whether the connection's writer made no progress for the stall time.
    pub fn stalled(&self) -> bool {
        mono_ms().saturating_sub(self.q.last_progress.load(Relaxed)) > self.limits.stall_ms
    }

    /// Called by the connection's task for frames it took off the queue.
    pub fn dequeued(&self, batch: &[Queued]) {
        {
            let mut st = lock(&self.q.state);
            for q in batch {
                let Some(from) = q.from else { continue };
                st.frames = st.frames.saturating_sub(1);
                st.bytes = st.bytes.saturating_sub(q.frame.len());
                if let Some(i) = st.senders.iter().position(|s| s.0 == from) {
                    st.senders[i].1 = st.senders[i].1.saturating_sub(1);
                    st.senders[i].2 = st.senders[i].2.saturating_sub(q.frame.len());
                    if st.senders[i].1 == 0 {
                        st.senders.swap_remove(i);
                    }
                }
            }
            self.progressed();
            self.q.progress_seq.fetch_add(1, Relaxed);
        }
        self.q.progress.notify_waiters();
    }

    /// Called by the connection's task whenever bytes moved towards the client.
    pub fn progressed(&self) {
        self.q.last_progress.store(mono_ms(), Relaxed);
    }

    /// The progress counter, to wait for a change with [`ConnHandle::wait_progress`].
    pub fn progress_seq(&self) -> u64 {
        self.q.progress_seq.load(Relaxed)
    }

    /// Waits until the queue moved past `seen` or until the recipient would count as
    /// stalled, whichever comes first.
    pub async fn wait_progress(&self, seen: u64) {
        let until = self
            .q
            .last_progress
            .load(Relaxed)
            .saturating_add(self.limits.stall_ms)
            .saturating_add(1);
        let wait = Duration::from_millis(until.saturating_sub(mono_ms()));
        let _ = tokio::time::timeout(wait, async {
            loop {
                let n = self.q.progress.notified();
                tokio::pin!(n);
                n.as_mut().enable();
                if self.progress_seq() != seen || self.kill.code.load(Relaxed) != 0 {
                    return;
                }
                n.await;
            }
        })
        .await;
    }
}

/// Where a participant is connected.
#[derive(Clone)]
pub enum Location {
    /// On this node.
    Local(ConnHandle),
    /// On another node of the cluster.
    Remote(NodeId),
}

/// One participant in a room.
#[derive(Clone)]
pub struct Member {
    /// The participant id the client chose.
    pub id: ParticipantId,
    /// The role its token granted.
    pub role: Role,
    /// Hash of the token subject, to tell a resume from an impostor.
    pub subject: [u8; 32],
    /// Where it is connected.
    pub loc: Location,
    /// Its latest broadcast (the encoded `Deliver`), if small: handed to each newcomer
    /// right after its `Welcome`. See [`MAX_KEPT_BROADCAST`].
    pub latest_broadcast: Option<Bytes>,
}

/// The largest broadcast (encoded `Deliver`) a room keeps for newcomers. A client's only
/// broadcast is its hello (about 300 bytes): kept, it lets a newcomer key its first peers
/// from the `Welcome` on instead of after a round trip. The relay learns nothing from it —
/// it forwarded the same bytes already — and a participant can make a room hold at most
/// this much for it.
pub const MAX_KEPT_BROADCAST: usize = 1024;

/// A room's state on this node.
#[derive(Default)]
pub struct Room {
    /// Participants, in join order (few: a Vec beats a map).
    pub members: Vec<Member>,
    /// A clinician has opened it.
    pub open: bool,
    /// Removed from the registry; joiners holding this Arc must retry.
    pub dead: bool,
}

impl Room {
    fn local_count(&self) -> usize {
        self.members
            .iter()
            .filter(|m| matches!(m.loc, Location::Local(_)))
            .count()
    }

    fn position(&self, id: ParticipantId) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }

    /// Keeps `frame`, a broadcast `from` sent, for newcomers (or forgets the older one when
    /// this one is too large to keep).
    fn keep_broadcast(&mut self, from: ParticipantId, frame: &Bytes) {
        if let Some(m) = self.members.iter_mut().find(|m| m.id == from) {
            m.latest_broadcast = (frame.len() <= MAX_KEPT_BROADCAST).then(|| frame.clone());
        }
    }

    /// Queues `frame` for every local member except `except`.
    fn notify_locals(&self, frame: &Bytes, except: Option<ParticipantId>, metrics: &Metrics) {
        let now = Instant::now();
        for m in &self.members {
            if Some(m.id) == except {
                continue;
            }
            if let Location::Local(h) = &m.loc {
                h.notice(frame.clone(), now, metrics);
            }
        }
    }
}

/// A room as the registry holds it: its state and, in NATS mode, a one-time sync.
pub struct RoomEntry {
    /// The room id.
    pub id: Arc<str>,
    /// The room's state.
    pub state: Mutex<Room>,
    synced: OnceCell<()>,
}

/// A successful join.
pub struct Joined {
    /// The room joined; forward through it.
    pub room: Arc<RoomEntry>,
    /// The encoded `Welcome` to send first.
    pub welcome: Bytes,
}

/// The node's room registry.
pub struct Hub {
    /// Configuration (limits).
    pub config: Config,
    /// Metrics of this node.
    pub metrics: Arc<Metrics>,
    rooms: Mutex<HashMap<Arc<str>, Arc<RoomEntry>>>,
    replay: Mutex<ReplayCache>,
    next_conn: AtomicU64,
    /// The join-token secret; `None` refuses every join (no secret configured).
    pub secret: Option<Arc<[u8]>>,
    /// The NATS cluster link, when configured.
    pub cluster: OnceCell<Arc<Cluster>>,
}

fn encode(msg: &ServerMessage) -> Bytes {
    Bytes::from(msg.encode())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Hub {
    /// A new, empty registry; with `--state-dir`, the used single-use token ids are read
    /// back from it (an error names the problem for the operator).
    pub fn new(
        config: Config,
        metrics: Arc<Metrics>,
        secret: Option<Arc<[u8]>>,
    ) -> Result<Self, String> {
        let replay = match &config.state_dir {
            Some(dir) => ReplayCache::open(dir, unix_now())
                .map_err(|e| format!("--state-dir {}: {e}", dir.display()))?,
            None => ReplayCache::default(),
        };
        Ok(Self {
            secret,
            config,
            metrics,
            rooms: Mutex::new(HashMap::new()),
            replay: Mutex::new(replay),
            next_conn: AtomicU64::new(1),
            cluster: OnceCell::new(),
        })
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Relaxed)
    }

    /// Number of rooms with participants on this node.
    pub fn room_count(&self) -> usize {
        lock(&self.rooms).len()
    }

    fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.get()
    }

    /// Finds or creates the room entry; `None` when the node is at its room limit.
    fn entry(&self, room: &str) -> Option<Arc<RoomEntry>> {
        let mut rooms = lock(&self.rooms);
        if let Some(e) = rooms.get(room) {
            return Some(e.clone());
        }
        if rooms.len() >= self.config.max_rooms {
            return None;
        }
        let id: Arc<str> = Arc::from(room);
        let e = Arc::new(RoomEntry {
            id: id.clone(),
            state: Mutex::new(Room::default()),
            synced: OnceCell::new(),
        });
        rooms.insert(id, e.clone());
        self.metrics
            .rooms
            .store(i64::try_from(rooms.len()).unwrap_or(i64::MAX), Relaxed);
        Some(e)
    }

    /// Removes `entry` from the registry if it has no local member left.
    /// Call without holding the room lock.
    fn maybe_remove(&self, entry: &Arc<RoomEntry>) {
        let mut rooms = lock(&self.rooms);
        let mut st = lock(&entry.state);
        if st.dead || st.local_count() > 0 {
            return;
        }
        st.dead = true;
        drop(st);
        if rooms.get(&entry.id).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            rooms.remove(&entry.id);
        }
        self.metrics
            .rooms
            .store(i64::try_from(rooms.len()).unwrap_or(i64::MAX), Relaxed);
        drop(rooms);
        if let Some(c) = self.cluster() {
            c.unsubscribe_room(&entry.id);
        }
    }

    /// Admits `id` with a verified token into its room, or says why not.
    pub async fn join(
        &self,
        id: ParticipantId,
        token: &Verified,
        conn: ConnHandle,
    ) -> Result<Joined, Close> {
        if !token.reusable {
            // In a cluster, ask the other nodes first: one that started (or restarted) after
            // the token's first use elsewhere still learns of it.
            if let Some(c) = self.cluster() {
                if lock(&self.replay).lookup(&token.jti).is_none() {
                    c.query_token(self, &token.jti).await;
                }
            }
            lock(&self.replay).check_and_record(&token.jti, id, token.exp, unix_now())?;
            if let Some(c) = self.cluster() {
                c.publish_token_used(&token.jti, id, token.exp);
            }
        }
        for _attempt in 0..8 {
            let Some(entry) = self.entry(&token.room) else {
                return Err(codes::ROOM_FULL);
            };
            if let Some(c) = self.cluster() {
                entry.synced.get_or_init(|| c.sync_room(self, &entry)).await;
            }
            match self.join_entry(&entry, id, token, &conn) {
                Ok(Some(j)) => return Ok(j),
                Ok(None) => continue, // raced with removal: retry with a fresh entry
                Err(close) => {
                    self.maybe_remove(&entry);
                    return Err(close);
                }
            }
        }
        Err(codes::ROOM_FULL)
    }

    fn join_entry(
        &self,
        entry: &Arc<RoomEntry>,
        id: ParticipantId,
        token: &Verified,
        conn: &ConnHandle,
    ) -> Result<Option<Joined>, Close> {
        let c = &self.config;
        let mut st = lock(&entry.state);
        if st.dead {
            return Ok(None);
        }
        let existing = st.position(id);
        if let Some(i) = existing {
            // A resume takes over a present id: only with a single-use token of the same
            // role and subject. Every holder of a reusable token looks the same, so such a
            // token never takes over an id (its holder may rejoin once the old connection
            // is gone), and another role never does.
            if st.members[i].subject != token.subject || token.reusable {
                return Err(codes::WRONG_ROOM_OR_ROLE);
            }
        }
        if token.role != Role::Clinician && !st.open {
            return Err(codes::ROOM_NOT_OPEN);
        }
        let others = |role: Option<Role>| {
            st.members
                .iter()
                .filter(|m| m.id != id && role.is_none_or(|r| m.role == r))
                .count()
        };
        if others(None) >= c.max_participants.min(MAX_LISTED_PARTICIPANTS) {
            return Err(codes::ROOM_FULL);
        }
        match token.role {
            Role::Patient if others(Some(Role::Patient)) >= c.max_patients => {
                return Err(codes::SECOND_PATIENT);
            }
            Role::Guest if others(Some(Role::Guest)) >= c.max_guests => {
                return Err(codes::ROOM_FULL);
            }
            _ => {}
        }
        let member = Member {
            id,
            role: token.role,
            subject: token.subject,
            loc: Location::Local(conn.clone()),
            latest_broadcast: None,
        };
        if let Some(i) = existing {
            // A resume: the old connection (here or on another node) gives way silently.
            if let Location::Local(old) = &st.members[i].loc {
                old.kill.kill(codes::REPLACED);
            }
            st.members[i] = member;
        } else {
            st.members.push(member);
        }
        if token.role == Role::Clinician {
            st.open = true;
        }
        let present = st
            .members
            .iter()
            .filter(|m| m.id != id)
            .map(|m| (m.id, m.role))
            .collect();
        let welcome = encode(&ServerMessage::Welcome {
            role: token.role,
            present,
        });
        // Queued now, sent right after the Welcome (which the connection writes first), so
        // the newcomer holds each present participant's hello from its first moment.
        let now = Instant::now();
        for m in st.members.iter().filter(|m| m.id != id) {
            if let Some(frame) = &m.latest_broadcast {
                conn.notice(frame.clone(), now, &self.metrics);
            }
        }
        st.notify_locals(
            &encode(&ServerMessage::Joined {
                id,
                role: token.role,
            }),
            Some(id),
            &self.metrics,
        );
        drop(st);
        if let Some(cl) = self.cluster() {
            cl.publish_joined(&entry.id, id, token.role, &token.subject);
        }
        Ok(Some(Joined {
            room: entry.clone(),
            welcome,
        }))
    }

    /// Removes a connection's participant (unless it was already replaced by a resume) and
    /// tells the others why it left.
    pub fn leave(
        &self,
        entry: &Arc<RoomEntry>,
        id: ParticipantId,
        conn_id: u64,
        reason: LeftReason,
    ) {
        {
            let mut st = lock(&entry.state);
            let Some(i) = st.position(id) else { return };
            if !matches!(&st.members[i].loc, Location::Local(h) if h.id == conn_id) {
                return;
            }
            st.members.remove(i);
            st.notify_locals(
                &encode(&ServerMessage::Left { id, reason }),
                None,
                &self.metrics,
            );
        }
        if let Some(c) = self.cluster() {
            c.publish_left(&entry.id, id, reason);
        }
        self.maybe_remove(entry);
    }

    /// Forwards a client's `Send` to one participant or (broadcast id) to all others.
    /// Returns the local recipients that could not take the frame yet (the sender holds its
    /// fair share of their queue): the sender's task waits for their progress and retries
    /// with [`ConnHandle::push`], reading nothing more from its client meanwhile.
    pub fn forward(
        &self,
        entry: &RoomEntry,
        from: ParticipantId,
        to: ParticipantId,
        payload: Vec<u8>,
        at: Instant,
    ) -> Vec<(ConnHandle, Queued, u64)> {
        let frame = encode(&ServerMessage::Deliver { from, payload });
        let mut remote = false;
        let mut busy = Vec::new();
        {
            let mut st = lock(&entry.state);
            if to.is_broadcast() {
                st.keep_broadcast(from, &frame);
            }
            let mut delivered = false;
            for m in &st.members {
                if m.id == from || !(to.is_broadcast() || m.id == to) {
                    continue;
                }
                delivered = true;
                match &m.loc {
                    Location::Local(h) => {
                        let q = Queued {
                            frame: frame.clone(),
                            at,
                            from: Some(from),
                        };
                        if let Err(Refused::Busy(q, seen)) = h.push(q, &self.metrics) {
                            self.metrics.sender_waits.fetch_add(1, Relaxed);
                            busy.push((h.clone(), q, seen));
                        }
                    }
                    Location::Remote(_) => remote = true,
                }
            }
            if !delivered {
                self.metrics.undeliverable.fetch_add(1, Relaxed);
            }
        }
        if remote {
            if let Some(c) = self.cluster() {
                c.publish_deliver(&entry.id, to, frame);
            }
        }
        busy
    }

    /// Kills every local connection with `close` (shutdown).
    pub fn kill_all(&self, close: Close) {
        let rooms: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for e in rooms {
            for m in &lock(&e.state).members {
                if let Location::Local(h) = &m.loc {
                    h.kill.kill(close);
                }
            }
        }
    }

    // ---- Called by the cluster link with events from other nodes. ----

    /// The room entry if this node has it.
    pub fn existing(&self, room: &str) -> Option<Arc<RoomEntry>> {
        lock(&self.rooms).get(room).cloned()
    }

    /// Snapshot of a room for another node: `(open, members)`.
    pub fn snapshot(&self, room: &str) -> (bool, Vec<(ParticipantId, Role, [u8; 32])>) {
        let Some(e) = self.existing(room) else {
            return (false, Vec::new());
        };
        let st = lock(&e.state);
        let local = st
            .members
            .iter()
            .filter(|m| matches!(m.loc, Location::Local(_)))
            .map(|m| (m.id, m.role, m.subject))
            .collect();
        (st.open, local)
    }

    /// Merges a snapshot from `node` into a room being synced.
    pub fn merge_snapshot(
        &self,
        entry: &RoomEntry,
        node: NodeId,
        open: bool,
        members: &[(ParticipantId, Role, [u8; 32])],
    ) {
        let mut st = lock(&entry.state);
        st.open |= open;
        for (id, role, subject) in members {
            if st.position(*id).is_none() {
                st.members.push(Member {
                    id: *id,
                    role: *role,
                    subject: *subject,
                    loc: Location::Remote(node),
                    latest_broadcast: None,
                });
            }
        }
    }

    /// A participant joined (or resumed) on another node.
    pub fn remote_joined(
        &self,
        room: &str,
        node: NodeId,
        id: ParticipantId,
        role: Role,
        subject: [u8; 32],
    ) {
        let Some(e) = self.existing(room) else { return };
        let mut st = lock(&e.state);
        let member = Member {
            id,
            role,
            subject,
            loc: Location::Remote(node),
            latest_broadcast: None,
        };
        match st.position(id) {
            Some(i) => {
                if let Location::Local(h) = &st.members[i].loc {
                    if st.members[i].subject != subject {
                        // Conflicting concurrent joins on two nodes: keep ours.
                        return;
                    }
                    h.kill.kill(codes::REPLACED);
                }
                st.members[i] = member;
            }
            None => st.members.push(member),
        }
        if role == Role::Clinician {
            st.open = true;
        }
        st.notify_locals(
            &encode(&ServerMessage::Joined { id, role }),
            Some(id),
            &self.metrics,
        );
        drop(st);
        // A local member that was replaced leaves the room's local count; clean up.
        self.maybe_remove(&e);
    }

    /// A participant on another node left.
    pub fn remote_left(&self, room: &str, node: NodeId, id: ParticipantId, reason: LeftReason) {
        let Some(e) = self.existing(room) else { return };
        let mut st = lock(&e.state);
        let Some(i) = st.position(id) else { return };
        if !matches!(st.members[i].loc, Location::Remote(n) if n == node) {
            return;
        }
        st.members.remove(i);
        st.notify_locals(
            &encode(&ServerMessage::Left { id, reason }),
            None,
            &self.metrics,
        );
    }

    /// A frame from another node for this room's local members.
    pub fn remote_deliver(&self, room: &str, to: ParticipantId, frame: Bytes) {
        let Some(e) = self.existing(room) else { return };
        // The sender's id is inside the Deliver frame (bytes 1..9).
        let from = frame
            .get(1..9)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map(ParticipantId);
        let now = Instant::now();
        let mut st = lock(&e.state);
        if let (true, Some(from)) = (to.is_broadcast(), from) {
            st.keep_broadcast(from, &frame);
        }
        for m in &st.members {
            if Some(m.id) == from || !(to.is_broadcast() || m.id == to) {
                continue;
            }
            if let Location::Local(h) = &m.loc {
                let q = Queued {
                    frame: frame.clone(),
                    at: now,
                    from,
                };
                // A sender on another node cannot be made to wait: beyond its share of a
                // reading recipient's queue its frames are dropped (and counted).
                if let Err(Refused::Busy(..)) = h.push(q, &self.metrics) {
                    self.metrics.remote_dropped.fetch_add(1, Relaxed);
                }
            }
        }
    }

    /// A node died: its participants are lost (they may resume elsewhere).
    pub fn node_lost(&self, node: NodeId) {
        let rooms: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for e in rooms {
            let mut st = lock(&e.state);
            let gone: Vec<ParticipantId> = st
                .members
                .iter()
                .filter(|m| matches!(m.loc, Location::Remote(n) if n == node))
                .map(|m| m.id)
                .collect();
            for id in gone {
                if let Some(i) = st.position(id) {
                    st.members.remove(i);
                }
                st.notify_locals(
                    &encode(&ServerMessage::Left {
                        id,
                        reason: LeftReason::Lost,
                    }),
                    None,
                    &self.metrics,
                );
            }
        }
    }

    /// A token use reported by another node.
    pub fn remember_token(&self, jti: &str, id: ParticipantId, exp: u64) {
        lock(&self.replay).remember(jti, id, exp);
    }

    /// What this node knows of a token id, for another node's query.
    pub fn lookup_token(&self, jti: &str) -> Option<(ParticipantId, u64)> {
        lock(&self.replay).lookup(jti)
    }
}
