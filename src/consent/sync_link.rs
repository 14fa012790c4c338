//! The consent sync link as sans-IO state machines: [`PatientSync`] keeps the clinician's
//! replicas in step with the patient's ledger, [`ReplicaSync`] keeps the clinician's copy
//! and countersigns it. Both speak the [`SyncMessage`]s of [`super::sync`] over any number
//! of links (one per consultation and remote participant), named by a [`LinkId`] the
//! driver chooses.
//!
//! A driver feeds each side what happens on a link — `add_link` when it is attached,
//! `handle_reachable` whenever the peer may have become reachable again, `handle_peer_left`,
//! `handle_data` for each consent message that arrives, `handle_timeout` once
//! `poll_timeout` has passed — and carries out what `poll_output` asks: send bytes to the
//! link's peer over the sealed channel, or tell the app. Time is always passed in; nothing
//! here reads a clock, stores anything or sends anything by itself.
//!
//! ```text
//! patient                                      replica (clinician)
//!   add_link ───────── announce ────────────▶  (replica made on first announcement)
//!            ◀──────── status (checkpoint) ──  "send me what I lack"
//!            ───────── entry … entry ────────▶  verify, append
//!            ◀──────── checkpoint ───────────  after each entry
//!   handle_local_entry ─ entry ──────────────▶  (each new entry, once in step)
//! ```
//!
//! Recovery: an entry that arrives with a gap makes the replica answer with its status,
//! and the patient sends what is missing; duplicates are ignored ([`LedgerError::Replayed`]).
//! A lost announcement, status or last entry is recovered by the next `handle_reachable`,
//! or, for a driver that arms timers, by `handle_timeout`: a patient that sent entries no
//! checkpoint has vouched for yet, or announced without an answer, announces again; a
//! replica that asked for an announcement without an answer asks again. Resends back off
//! from [`RESEND_MS`] to [`MAX_RESEND_MS`]. A resend never excuses an entry's time: an
//! entry recorded after the last full sync and held back more than
//! [`TIME_SKEW_MS`](super::TIME_SKEW_MS) is refused ([`LedgerError::Untimely`]; the replica
//! then enforces nothing) until the next full resync (`handle_reachable` after
//! `handle_peer_left`, or the replica's hello), which accepts it marked late.
//!
//! Messages on a link that is not attached are ignored.
//!
//! ```
//! use teleconsult::consent::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clinician_seed = [9; 32];
//! let mut manager = ConsentManager::open(&[7; 32], [1; 16], MemoryStore::default())?;
//! manager.expect_clinician(ConsentKey::from_seed(&clinician_seed).public_key());
//! let mut patient = PatientSync::new(manager);
//! let mut replica = ReplicaSync::new(&clinician_seed, None, None);
//! let now = 1_000;
//! patient.add_link(0, now);
//! replica.add_link(0, now);
//! // The driver loop: carry each side's transmits to the other until both are quiet.
//! loop {
//!     let mut moved = false;
//!     while let Some(out) = patient.poll_output() {
//!         if let LinkOutput::Transmit { link, bytes } = out {
//!             replica.handle_data(link, &bytes, now)?;
//!             moved = true;
//!         }
//!     }
//!     while let Some(out) = replica.poll_output() {
//!         if let LinkOutput::Transmit { link, bytes } = out {
//!             patient.handle_data(link, &bytes, now)?;
//!             moved = true;
//!         }
//!     }
//!     if !moved { break; }
//! }
//! assert_eq!(replica.replica().map(|r| r.ledger().size()), Some(0));
//! # Ok(()) }
//! ```

use std::collections::VecDeque;

use zeroize::Zeroizing;

use super::encoding::Checkpoint;
use super::error::{LedgerError, LinkError};
use super::ledger::{ConsentKey, LedgerReplica};
use super::manager::ConsentManager;
use super::policy::ConsentState;
use super::store::LedgerStore;
use super::sync::SyncMessage;

/// The driver's name for one link: a consultation and the remote participant on it.
pub type LinkId = u32;

/// The first resend delay after an unanswered message, in milliseconds.
pub const RESEND_MS: u64 = 2_000;
/// The longest resend delay: each unanswered resend doubles the delay up to this.
pub const MAX_RESEND_MS: u64 = 60_000;

/// What a sync side asks its driver to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutput<E> {
    /// Send `bytes` (an encoded [`SyncMessage`]) to the peer of `link` over the sealed
    /// channel. A send that fails is simply lost: the link recovers.
    Transmit {
        /// The link.
        link: LinkId,
        /// The encoded message.
        bytes: Vec<u8>,
    },
    /// Tell the app.
    Event(E),
}

/// What the patient side tells the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatientEvent {
    /// The clinician countersigned a checkpoint of this ledger; it was checked and kept.
    Checkpoint {
        /// The link it came over.
        link: LinkId,
        /// The checkpoint.
        checkpoint: Checkpoint,
        /// The clinician key that signed it.
        clinician: [u8; 32],
        /// It vouches for every entry held.
        matches_head: bool,
    },
}

/// What the replica side tells the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaEvent {
    /// Entry `seq` from the patient was verified and appended (keep the replica; a
    /// withdrawal takes effect at once).
    Entry {
        /// The link it came over.
        link: LinkId,
        /// Its sequence number.
        seq: u64,
    },
    /// Entry `seq` was refused for its time ([`LedgerError::Untimely`]): the replica
    /// enforces nothing until the patient announces again.
    Halted {
        /// The link it came over.
        link: LinkId,
        /// The refused entry.
        seq: u64,
    },
}

/// When an unanswered message is sent again, with the current delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resend {
    at: u64,
    delay: u64,
}

impl Resend {
    fn first(now: u64) -> Self {
        Self {
            at: now.saturating_add(RESEND_MS),
            delay: RESEND_MS,
        }
    }

    fn next(self, now: u64) -> Self {
        let delay = self.delay.saturating_mul(2).min(MAX_RESEND_MS);
        Self {
            at: now.saturating_add(delay),
            delay,
        }
    }
}

/// Sends `msg` on `link` (shared by both sides).
fn transmit<E>(out: &mut VecDeque<LinkOutput<E>>, link: LinkId, msg: &SyncMessage) {
    out.push_back(LinkOutput::Transmit {
        link,
        bytes: msg.encode(),
    });
}

// ----- the patient side ------------------------------------------------------------------

/// One link of the patient side.
#[derive(Clone, Copy, Debug)]
struct PatientLink {
    id: LinkId,
    /// The next entry to send, once the replica said what it holds (in step); `None`
    /// until then.
    next: Option<u64>,
    /// When to announce again: entries were sent (or an announcement) that nothing has
    /// answered yet.
    resend: Option<Resend>,
    /// The size announced at the last full (re)sync on this link: what the replica may
    /// accept late. A resend announces this again, never more, so that an entry recorded
    /// after the sync is still checked for its time however often it is resent.
    synced: u64,
}

/// The patient's side of the consent sync: owns the [`ConsentManager`] and tells every
/// attached clinician replica about each entry.
///
/// Record changes through [`manager_mut`](Self::manager_mut); once an entry is stored,
/// [`handle_local_entry`](Self::handle_local_entry) sends it on every link that is in step.
pub struct PatientSync<S: LedgerStore> {
    manager: ConsentManager<S>,
    links: Vec<PatientLink>,
    out: VecDeque<LinkOutput<PatientEvent>>,
}

impl<S: LedgerStore> core::fmt::Debug for PatientSync<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PatientSync")
            .field("manager", &self.manager)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

impl<S: LedgerStore> PatientSync<S> {
    /// The sync side of `manager`, with no links yet.
    pub fn new(manager: ConsentManager<S>) -> Self {
        Self {
            manager,
            links: Vec::new(),
            out: VecDeque::new(),
        }
    }

    // --- getters

    /// The manager (ledger, checks, exports).
    pub fn manager(&self) -> &ConsentManager<S> {
        &self.manager
    }

    /// Whether `link` is attached.
    pub fn has_link(&self, link: LinkId) -> bool {
        self.links.iter().any(|l| l.id == link)
    }

    /// Whether `link` is in step: its replica said what it holds, and each new entry goes
    /// out as it is recorded.
    pub fn in_step(&self, link: LinkId) -> bool {
        self.links.iter().any(|l| l.id == link && l.next.is_some())
    }

    // --- inputs

    /// The peer of `link` may have become reachable (it connected, was admitted, the
    /// consultation changed state): announces the ledger unless the link is in step.
    pub fn handle_reachable(&mut self, link: LinkId, now: u64) {
        if self.links.iter().any(|l| l.id == link && l.next.is_none()) {
            self.announce(link, now);
        }
    }

    /// The peer of `link` left: the link is out of step until it announces again.
    pub fn handle_peer_left(&mut self, link: LinkId) {
        if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
            l.next = None;
            l.resend = None;
        }
    }

    /// A consent message arrived on `link` from the clinician's side.
    ///
    /// `Hello` is answered with an announcement. A `Status` or `Checkpoint` is checked
    /// against the ledger and kept ([`PatientEvent::Checkpoint`]); a status also sends every
    /// entry after it. Errors change nothing that was accepted before: bytes that do not
    /// decode are [`LedgerError::Malformed`], a message only a patient sends is
    /// [`LinkError::Misdirected`], a checkpoint the ledger refuses is that refusal — except
    /// that a status signed by a key not expected here ([`LedgerError::UnknownClinicianKey`])
    /// still gets every entry: it is not evidence, but the peer is the one this ledger
    /// is attached to, and its replica ignores what it holds.
    pub fn handle_data(&mut self, link: LinkId, bytes: &[u8], now: u64) -> Result<(), LinkError> {
        if !self.has_link(link) {
            return Ok(());
        }
        match SyncMessage::decode(bytes).map_err(LedgerError::from)? {
            SyncMessage::Hello => {
                self.announce(link, now);
                Ok(())
            }
            SyncMessage::Checkpoint {
                checkpoint,
                clinician,
            } => self.signed(link, checkpoint, clinician, false, now),
            SyncMessage::Status {
                checkpoint,
                clinician,
            } => self.signed(link, checkpoint, clinician, true, now),
            SyncMessage::Entry(_) | SyncMessage::Announce { .. } => Err(LinkError::Misdirected),
        }
    }

    /// Time passed: announces again on each link whose last entries or announcement went
    /// unanswered until now, and the replica answers with its status. A link that never got
    /// in step announces in full, as on [`handle_reachable`](Self::handle_reachable); one in
    /// step announces the size of its last sync, so entries recorded since are still
    /// refused if they arrive too late ([`LedgerError::Untimely`]) — only a full resync
    /// lets the replica take them late.
    pub fn handle_timeout(&mut self, now: u64) {
        let due: Vec<(LinkId, Resend, Option<u64>)> = self
            .links
            .iter()
            .filter_map(|l| {
                let resend = l.resend.filter(|r| r.at <= now)?;
                Some((l.id, resend, l.next.map(|_| l.synced)))
            })
            .collect();
        for (id, resend, synced) in due {
            match synced {
                None => self.announce(id, now),
                Some(size) => {
                    let msg = self.announcement(size);
                    transmit(&mut self.out, id, &msg);
                }
            }
            if let Some(l) = self.links.iter_mut().find(|l| l.id == id) {
                l.resend = Some(resend.next(now));
            }
        }
    }

    // --- mutators

    /// Attaches `link` and announces the ledger on it. Attaching a link already attached
    /// starts it over.
    pub fn add_link(&mut self, link: LinkId, now: u64) {
        self.links.retain(|l| l.id != link);
        self.links.push(PatientLink {
            id: link,
            next: None,
            resend: None,
            synced: 0,
        });
        self.announce(link, now);
    }

    /// Detaches `link`.
    pub fn remove_link(&mut self, link: LinkId) {
        self.links.retain(|l| l.id != link);
    }

    /// Detaches every link.
    pub fn remove_links(&mut self) {
        self.links.clear();
    }

    /// The manager, to record changes. After an entry is recorded and stored, call
    /// [`handle_local_entry`](Self::handle_local_entry); an entry that is rolled back is
    /// never announced.
    pub fn manager_mut(&mut self) -> &mut ConsentManager<S> {
        &mut self.manager
    }

    /// Entry `seq`, recorded and stored, goes out on every link that is in step and
    /// waiting for exactly it.
    pub fn handle_local_entry(&mut self, seq: u64, now: u64) {
        let Some(bytes) = self.manager.ledger().entry_bytes(seq) else {
            return;
        };
        let msg = SyncMessage::Entry(bytes.to_vec());
        for l in &mut self.links {
            if l.next == Some(seq) {
                l.next = Some(seq.saturating_add(1));
                l.resend.get_or_insert(Resend::first(now));
                transmit(&mut self.out, l.id, &msg);
            }
        }
    }

    // --- outputs

    /// The next thing to do: a message to send or an event for the app.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<LinkOutput<PatientEvent>> {
        self.out.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.links
            .iter()
            .filter_map(|l| l.resend)
            .map(|r| r.at)
            .min()
    }

    // --- internals

    fn announcement(&self, size: u64) -> SyncMessage {
        SyncMessage::Announce {
            ledger_id: self.manager.ledger().id(),
            patient: self.manager.public_key(),
            size,
        }
    }

    /// A full (re)sync: announces every entry held.
    fn announce(&mut self, link: LinkId, now: u64) {
        let size = self.manager.ledger().size();
        let msg = self.announcement(size);
        transmit(&mut self.out, link, &msg);
        if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
            l.resend.get_or_insert(Resend::first(now));
            l.synced = size;
        }
    }

    /// Sends every entry from `from` on `link`, which is then in step.
    fn send_from(&mut self, link: LinkId, from: u64, now: u64) {
        let ledger = self.manager.ledger();
        for seq in from..ledger.size() {
            if let Some(e) = ledger.entry_bytes(seq) {
                transmit(&mut self.out, link, &SyncMessage::Entry(e.to_vec()));
            }
        }
        let size = ledger.size();
        if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
            l.next = Some(size);
            // Entries still unvouched for are awaited; a replica that holds them all is
            // answered.
            l.resend = (from < size).then(|| Resend::first(now));
        }
    }

    fn signed(
        &mut self,
        link: LinkId,
        checkpoint: Checkpoint,
        clinician: [u8; 32],
        status: bool,
        now: u64,
    ) -> Result<(), LinkError> {
        match self
            .manager
            .accept_checkpoint(&checkpoint.encode(), &clinician)
        {
            Ok(()) => {
                let ledger = self.manager.ledger();
                let matches_head =
                    checkpoint.size == ledger.size() && checkpoint.head == ledger.head();
                if status {
                    self.send_from(link, checkpoint.size, now);
                } else if matches_head {
                    // Everything sent is vouched for.
                    if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
                        l.resend = None;
                    }
                }
                self.out
                    .push_back(LinkOutput::Event(PatientEvent::Checkpoint {
                        link,
                        checkpoint,
                        clinician,
                        matches_head,
                    }));
                Ok(())
            }
            Err(e) => {
                if status && e == LedgerError::UnknownClinicianKey {
                    self.send_from(link, 0, now);
                    // No checkpoint from this peer will ever be accepted: do not wait for one.
                    if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
                        l.resend = None;
                    }
                }
                Err(e.into())
            }
        }
    }
}

// ----- the replica side ------------------------------------------------------------------

/// One link of the replica side.
#[derive(Clone, Copy, Debug)]
struct ReplicaLink {
    id: LinkId,
    /// The patient announced its ledger on this link.
    announced: bool,
    /// When to ask for an announcement again.
    resend: Option<Resend>,
}

/// The clinician's side of the consent sync: owns the [`LedgerReplica`] (made when the
/// patient first announces its ledger, unless given), verifies each entry and answers with
/// a countersigned checkpoint.
pub struct ReplicaSync {
    replica: Option<LedgerReplica>,
    /// The ledger (id, patient key) accepted before the replica exists.
    pinned: Option<([u8; 16], [u8; 32])>,
    /// The clinician's per-visit identity key's seed, for the replica made on announcement.
    seed: Zeroizing<[u8; 32]>,
    public_key: [u8; 32],
    links: Vec<ReplicaLink>,
    out: VecDeque<LinkOutput<ReplicaEvent>>,
}

impl core::fmt::Debug for ReplicaSync {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplicaSync")
            .field("replica", &self.replica)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

impl ReplicaSync {
    /// The replica side countersigning with the key of `seed` (the clinician's per-visit
    /// identity key; copied, and zeroized on drop), holding `replica` if one is resumed,
    /// else accepting the ledger `pinned` names (id, patient key), else the first one
    /// announced.
    pub fn new(
        seed: &[u8; 32],
        replica: Option<LedgerReplica>,
        pinned: Option<([u8; 16], [u8; 32])>,
    ) -> Self {
        let public_key = ConsentKey::from_seed(seed).public_key();
        let pinned = replica
            .as_ref()
            .map(|r| (r.ledger().id(), r.ledger().patient_public_key()))
            .or(pinned);
        Self {
            replica,
            pinned,
            seed: Zeroizing::new(*seed),
            public_key,
            links: Vec::new(),
            out: VecDeque::new(),
        }
    }

    // --- getters

    /// The replica, once the ledger is known.
    pub fn replica(&self) -> Option<&LedgerReplica> {
        self.replica.as_ref()
    }

    /// The clinician key that signs checkpoints.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// What the clinician side enforces: the replica's enforced state; `None` before the
    /// ledger is known (enforce nothing: deny everything).
    pub fn enforced_state(&self) -> Option<&ConsentState> {
        self.replica.as_ref().map(LedgerReplica::enforced_state)
    }

    /// Whether `link` is attached.
    pub fn has_link(&self, link: LinkId) -> bool {
        self.links.iter().any(|l| l.id == link)
    }

    /// Whether the patient announced its ledger on `link`.
    pub fn announced(&self, link: LinkId) -> bool {
        self.links.iter().any(|l| l.id == link && l.announced)
    }

    // --- inputs

    /// The peer of `link` may have become reachable: asks it to announce its ledger unless
    /// it has.
    pub fn handle_reachable(&mut self, link: LinkId, now: u64) {
        if self.links.iter().any(|l| l.id == link && !l.announced) {
            self.hello(link, now);
        }
    }

    /// The peer of `link` left: it must announce again.
    pub fn handle_peer_left(&mut self, link: LinkId) {
        if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
            l.announced = false;
            l.resend = None;
        }
    }

    /// A consent message arrived on `link` from the patient's side, at `now` (this side's
    /// clock: entries are timed by it).
    ///
    /// An announcement of the expected ledger (any, if none is pinned) makes the replica
    /// if needed and is answered with a status; an entry is verified and appended
    /// ([`ReplicaEvent::Entry`]) and answered with a checkpoint. An entry held already is
    /// ignored; one after a gap is answered with a status (the patient sends what is
    /// missing); one before any announcement with a hello. Errors change nothing: bytes
    /// that do not decode are [`LedgerError::Malformed`], a message only a clinician sends
    /// is [`LinkError::Misdirected`], an announcement of another ledger is
    /// [`LedgerError::WrongLedger`], an entry the replica refuses is that refusal
    /// ([`LedgerError::Untimely`] also gives [`ReplicaEvent::Halted`]).
    pub fn handle_data(&mut self, link: LinkId, bytes: &[u8], now: u64) -> Result<(), LinkError> {
        if !self.has_link(link) {
            return Ok(());
        }
        match SyncMessage::decode(bytes).map_err(LedgerError::from)? {
            SyncMessage::Announce {
                ledger_id,
                patient,
                size,
            } => self.announced_on(link, ledger_id, patient, size, now),
            SyncMessage::Entry(entry) => self.entry(link, &entry, now),
            SyncMessage::Hello | SyncMessage::Status { .. } | SyncMessage::Checkpoint { .. } => {
                Err(LinkError::Misdirected)
            }
        }
    }

    /// Time passed: asks again for an announcement on each link where the last request
    /// went unanswered until now.
    pub fn handle_timeout(&mut self, now: u64) {
        let due: Vec<(LinkId, Resend)> = self
            .links
            .iter()
            .filter(|l| !l.announced)
            .filter_map(|l| Some((l.id, l.resend.filter(|r| r.at <= now)?)))
            .collect();
        for (id, resend) in due {
            transmit(&mut self.out, id, &SyncMessage::Hello);
            if let Some(l) = self.links.iter_mut().find(|l| l.id == id) {
                l.resend = Some(resend.next(now));
            }
        }
    }

    // --- mutators

    /// Attaches `link` and asks its peer to announce its ledger. Attaching a link already
    /// attached starts it over.
    pub fn add_link(&mut self, link: LinkId, now: u64) {
        self.links.retain(|l| l.id != link);
        self.links.push(ReplicaLink {
            id: link,
            announced: false,
            resend: None,
        });
        self.hello(link, now);
    }

    /// Detaches `link`.
    pub fn remove_link(&mut self, link: LinkId) {
        self.links.retain(|l| l.id != link);
    }

    /// Detaches every link.
    pub fn remove_links(&mut self) {
        self.links.clear();
    }

    /// The replica, for entries received outside a link (`ConsentReplica.receive`).
    pub fn replica_mut(&mut self) -> Option<&mut LedgerReplica> {
        self.replica.as_mut()
    }

    // --- outputs

    /// The next thing to do: a message to send or an event for the app.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<LinkOutput<ReplicaEvent>> {
        self.out.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.links
            .iter()
            .filter(|l| !l.announced)
            .filter_map(|l| l.resend)
            .map(|r| r.at)
            .min()
    }

    // --- internals

    fn hello(&mut self, link: LinkId, now: u64) {
        transmit(&mut self.out, link, &SyncMessage::Hello);
        if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
            l.resend.get_or_insert(Resend::first(now));
        }
    }

    fn status(&mut self, link: LinkId, now: u64) {
        if let Some(r) = &self.replica {
            let msg = SyncMessage::Status {
                checkpoint: r.checkpoint(now),
                clinician: self.public_key,
            };
            transmit(&mut self.out, link, &msg);
        }
    }

    fn announced_on(
        &mut self,
        link: LinkId,
        ledger_id: [u8; 16],
        patient: [u8; 32],
        size: u64,
        now: u64,
    ) -> Result<(), LinkError> {
        if self.pinned.is_some_and(|k| k != (ledger_id, patient)) {
            return Err(LedgerError::WrongLedger.into());
        }
        let replica = match &mut self.replica {
            Some(r) => r,
            None => {
                let r = LedgerReplica::new(ledger_id, &patient, ConsentKey::from_seed(&self.seed))?;
                self.pinned = Some((ledger_id, patient));
                self.replica.insert(r)
            }
        };
        // What the patient holds now may arrive late: accepted, marked.
        replica.handle_announce(size);
        if let Some(l) = self.links.iter_mut().find(|l| l.id == link) {
            l.announced = true;
            l.resend = None;
        }
        self.status(link, now);
        Ok(())
    }

    fn entry(&mut self, link: LinkId, entry: &[u8], now: u64) -> Result<(), LinkError> {
        let Some(r) = self.replica.as_mut() else {
            self.hello(link, now);
            return Ok(());
        };
        match r.receive(entry, now) {
            Ok(checkpoint) => {
                let seq = r.ledger().size().saturating_sub(1);
                let msg = SyncMessage::Checkpoint {
                    checkpoint,
                    clinician: self.public_key,
                };
                transmit(&mut self.out, link, &msg);
                self.out
                    .push_back(LinkOutput::Event(ReplicaEvent::Entry { link, seq }));
                Ok(())
            }
            // At-least-once delivery after a resync: harmless.
            Err(LedgerError::Replayed { .. }) => Ok(()),
            Err(LedgerError::MissingEntry { .. }) => {
                self.status(link, now);
                Ok(())
            }
            Err(e @ LedgerError::Untimely { seq }) => {
                self.out
                    .push_back(LinkOutput::Event(ReplicaEvent::Halted { link, seq }));
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }
}
