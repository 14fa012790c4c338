//! The room registry: who is in which room, on which connection or node, and forwarding.
//!
//! Locking: the room map has one mutex, taken only to find, create or remove a room; each
//! room has its own mutex, taken per forwarded frame. Lock order is map → room, never the
//! reverse. A removed room is marked `dead` so a joiner that raced with its removal retries.
//!
//! Recipients are reached through bounded per-connection queues ([`ConnHandle::push`]): a
//! full queue (frames or bytes) kills that recipient with 4012 and never blocks the sender.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

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

/// A frame queued for a connection: the WebSocket payload and when it was queued.
pub type Queued = (Bytes, Instant);

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

/// The sending side of one local connection, as the room registry holds it.
#[derive(Clone)]
pub struct ConnHandle {
    /// Unique per connection on this node (resumes get new ids).
    pub id: u64,
    tx: mpsc::Sender<Queued>,
    /// Bytes currently queued for this connection.
    pub queued_bytes: Arc<AtomicUsize>,
    max_queued_bytes: usize,
    /// Closes the connection.
    pub kill: Arc<KillSwitch>,
}

impl ConnHandle {
    /// Creates a handle and the receiving end for the connection's task.
    pub fn new(id: u64, frames: usize, max_queued_bytes: usize) -> (Self, mpsc::Receiver<Queued>) {
        let (tx, rx) = mpsc::channel(frames);
        let h = Self {
            id,
            tx,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            max_queued_bytes,
            kill: Arc::new(KillSwitch::default()),
        };
        (h, rx)
    }

    /// Queues a frame without waiting; a full queue kills the connection as too slow.
    pub fn push(&self, frame: Bytes, at: Instant, metrics: &Metrics) {
        let len = frame.len();
        if self
            .queued_bytes
            .fetch_add(len, Relaxed)
            .saturating_add(len)
            > self.max_queued_bytes
        {
            self.queued_bytes.fetch_sub(len, Relaxed);
            self.kill.kill(codes::TOO_SLOW);
            return;
        }
        match self.tx.try_send((frame, at)) {
            Ok(()) => {
                metrics.queued.fetch_add(1, Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.queued_bytes.fetch_sub(len, Relaxed);
                self.kill.kill(codes::TOO_SLOW);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.queued_bytes.fetch_sub(len, Relaxed);
            }
        }
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
}

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

    /// Queues `frame` for every local member except `except`.
    fn notify_locals(&self, frame: &Bytes, except: Option<ParticipantId>, metrics: &Metrics) {
        let now = Instant::now();
        for m in &self.members {
            if Some(m.id) == except {
                continue;
            }
            if let Location::Local(h) = &m.loc {
                h.push(frame.clone(), now, metrics);
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
    /// A new, empty registry.
    pub fn new(config: Config, metrics: Arc<Metrics>, secret: Option<Arc<[u8]>>) -> Self {
        Self {
            secret,
            config,
            metrics,
            rooms: Mutex::new(HashMap::new()),
            replay: Mutex::new(ReplayCache::default()),
            next_conn: AtomicU64::new(1),
            cluster: OnceCell::new(),
        }
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
            if st.members[i].subject != token.subject {
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
    pub fn forward(
        &self,
        entry: &RoomEntry,
        from: ParticipantId,
        to: ParticipantId,
        payload: Vec<u8>,
        at: Instant,
    ) {
        let frame = encode(&ServerMessage::Deliver { from, payload });
        let mut remote = false;
        {
            let st = lock(&entry.state);
            let mut delivered = false;
            for m in &st.members {
                if m.id == from || !(to.is_broadcast() || m.id == to) {
                    continue;
                }
                delivered = true;
                match &m.loc {
                    Location::Local(h) => h.push(frame.clone(), at, &self.metrics),
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
        let st = lock(&e.state);
        for m in &st.members {
            if Some(m.id) == from || !(to.is_broadcast() || m.id == to) {
                continue;
            }
            if let Location::Local(h) = &m.loc {
                h.push(frame.clone(), now, &self.metrics);
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
}
