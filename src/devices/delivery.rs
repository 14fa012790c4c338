//! Reliable delivery of readings over a consultation: [`ReadingSender`] and
//! [`ReadingReceiver`], sans-IO.
//!
//! The session delivers app data exactly once and in order while both participants stay in
//! the call, and reports when a participant left or restarted first. So the sender keeps
//! every reading until the receiver's *application* acknowledges it, and sends it again when
//! the driver reports a possible loss ([`ReadingSender::handle_lost`]) or, when configured,
//! after a timeout; the receiver acknowledges every valid reading and hands each id to the
//! application once (ids are content-derived, so a re-send or a re-download has the same id).
//! Only the raw record travels (see [`super::wire`]): the receiver rebuilds the reading with
//! its own parsers and checks the id.
//!
//! Consent is a decision passed in, never looked up here: [`Consent`] when a reading is
//! shared, and a function from [`DataCategory`] to [`Consent`] at each send
//! ([`ReadingSender::poll_transmit`]), so a withdrawal also drops what was buffered and
//! nothing refused ever leaves.
//!
//! ```
//! use teleconsult::devices::delivery::{
//!     Consent, ReadingReceiver, ReadingSender, ReceiverOutput, SenderConfig, SenderEvent,
//! };
//! use teleconsult::devices::{RawRecord, Reading};
//!
//! let raw = RawRecord {
//!     uuid: 0x2A37, value: vec![0x00, 72], device_id: "strap".into(), system_id: None,
//!     pnp_id: None, received_at: 1_000, utc_offset: Some(0), weight_feature: None,
//!     glucose_context: None,
//! };
//! let reading = raw.capture()?;
//! let mut sender = ReadingSender::new("clinician".into(), SenderConfig::default());
//! let mut receiver = ReadingReceiver::new();
//! sender.handle_share(&reading, &raw, Consent::Allowed, 1_000)?;
//! let allow = |_| Consent::Allowed;
//! while let Some(t) = sender.poll_transmit(1_001, allow) {
//!     receiver.handle_data("patient", &t.bytes)?;
//! }
//! while let Some(out) = receiver.poll_output() {
//!     match out {
//!         ReceiverOutput::Transmit { bytes, .. } => { sender.handle_data("clinician", &bytes); }
//!         ReceiverOutput::Reading { reading, .. } => assert_eq!(reading.id, raw.capture()?.id),
//!     }
//! }
//! assert_eq!(sender.poll_event(), Some(SenderEvent::Delivered { id: reading.id.clone() }));
//! assert_eq!(sender.pending(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;

use super::raw::RawRecord;
use super::wire::{self, Message, WireError};
use super::{CaptureError, Measurement, Reading};
use crate::consent::{DataCategory, Reason};

/// Ids remembered by a receiver for de-duplication, oldest forgotten first.
pub const SEEN_LIMIT: usize = 10_000;
/// The default bound of a sender's queue.
pub const DEFAULT_MAX_PENDING: usize = 1_000;

/// The consent category a reading belongs to (`None`: not a reading consent covers).
pub fn reading_category(m: &Measurement) -> Option<DataCategory> {
    Some(match m {
        Measurement::HeartRate(_) => DataCategory::HeartRate,
        Measurement::BloodPressure(_) | Measurement::IntermediateCuffPressure(_) => {
            DataCategory::BloodPressure
        }
        Measurement::Temperature(_) => DataCategory::BodyTemperature,
        Measurement::Weight(_) => DataCategory::BodyWeight,
        Measurement::Glucose(_) => DataCategory::BloodGlucose,
        Measurement::PlxSpotCheck(_) | Measurement::PlxContinuous(_) => DataCategory::Spo2,
        _ => return None,
    })
}

/// Whether a reading may leave the device now: the driver's answer from the consent policy
/// and the application's own rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// It may be shared.
    Allowed,
    /// It may not; the policy's reason, or `None` when the application's rule refused.
    Refused(Option<Reason>),
}

/// How a sender behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderConfig {
    /// The most readings waiting for acknowledgement; more are refused
    /// ([`SendError::Full`]), never dropped.
    pub max_pending: usize,
    /// Send again what is unacknowledged this many ms after it was sent (`None`: only when
    /// the driver reports a loss, for channels that report every loss).
    pub resend_after: Option<u64>,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            max_pending: DEFAULT_MAX_PENDING,
            resend_after: None,
        }
    }
}

/// Why a reading was not accepted for delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The sender was closed.
    Closed,
    /// `max_pending` readings already wait for acknowledgement.
    Full,
}

impl SendError {
    /// The message, without the formatting machinery.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Closed => "the reading share is closed",
            Self::Full => "too many readings wait for delivery (maxPending)",
        }
    }
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SendError {}

/// What [`ReadingSender::handle_share`] did with a reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    /// Queued for delivery.
    Queued,
    /// Already waiting for acknowledgement; queued once.
    AlreadyQueued,
    /// Consent refused it; a [`SenderEvent::Withheld`] says so.
    Withheld,
}

/// What the application hears from a sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SenderEvent {
    /// The receiver's application acknowledged this reading.
    Delivered {
        /// The reading's id.
        id: String,
    },
    /// Consent refused this reading, when it was shared or before it was sent.
    Withheld {
        /// The reading's id.
        id: String,
        /// The policy's reason, or `None` when the application's rule refused.
        reason: Option<Reason>,
    },
}

/// Bytes for the driver to hand to the channel, addressed to the sender's peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The reading these bytes carry (for [`ReadingSender::handle_send_failed`]).
    pub id: String,
    /// The wire message.
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Not handed to the channel since the last possible loss.
    Unsent,
    /// Handed to the channel at this time; waiting for the acknowledgement.
    InFlight { since: u64 },
}

#[derive(Debug)]
struct Pending {
    id: String,
    /// What consent must cover at each send.
    category: Option<DataCategory>,
    bytes: Vec<u8>,
    delivery: Delivery,
}

/// Shares readings with one peer: consent-checked, queued while they cannot be delivered,
/// sent again until the peer's application acknowledges each one.
#[derive(Debug)]
pub struct ReadingSender {
    peer: String,
    config: SenderConfig,
    /// Oldest first. `Vec`s rather than `VecDeque`s: they stay short, and each `VecDeque`
    /// instantiation adds its ring-buffer code to the wasm.
    queue: Vec<Pending>,
    events: Vec<SenderEvent>,
    closed: bool,
}

impl ReadingSender {
    /// A sender to `peer` (the driver's address for it, compared with where acknowledgements
    /// and losses come from).
    pub fn new(peer: String, config: SenderConfig) -> Self {
        Self {
            peer,
            config,
            queue: Vec::new(),
            events: Vec::new(),
            closed: false,
        }
    }

    // ----- getters ---------------------------------------------------------------------------

    /// The peer readings go to.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Readings not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The ids of the readings not yet acknowledged, oldest first.
    pub fn pending_ids(&self) -> impl Iterator<Item = &str> {
        self.queue.iter().map(|p| p.id.as_str())
    }

    /// Whether [`Self::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    // ----- inputs ----------------------------------------------------------------------------

    /// The application shares `reading` (rebuilt from `raw` by the caller), with the consent
    /// decision for it now. A refusal is reported as [`SenderEvent::Withheld`]; a full queue
    /// is an error, so no accepted reading is ever dropped for lack of room.
    pub fn handle_share(
        &mut self,
        reading: &Reading,
        raw: &RawRecord,
        consent: Consent,
        _now: u64,
    ) -> Result<Shared, SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        if let Consent::Refused(reason) = consent {
            self.events.push(SenderEvent::Withheld {
                id: reading.id.clone(),
                reason,
            });
            return Ok(Shared::Withheld);
        }
        if self.queue.iter().any(|p| p.id == reading.id) {
            return Ok(Shared::AlreadyQueued);
        }
        if self.queue.len() >= self.config.max_pending {
            return Err(SendError::Full);
        }
        self.queue.push(Pending {
            id: reading.id.clone(),
            category: reading_category(&reading.measurement),
            bytes: wire::encode_reading(&reading.id, raw),
            delivery: Delivery::Unsent,
        });
        Ok(Shared::Queued)
    }

    /// App data from `from`: when it is an acknowledgement from the peer of a pending
    /// reading, that reading is delivered. Returns whether it was; anything else (other app
    /// data, another participant, an unknown id, hostile bytes) changes nothing.
    pub fn handle_data(&mut self, from: &str, bytes: &[u8]) -> bool {
        if from != self.peer {
            return false;
        }
        let Ok(Message::Ack { id }) = wire::decode(bytes) else {
            return false;
        };
        let Some(i) = self.queue.iter().position(|p| p.id == id) else {
            return false;
        };
        // In bounds: `position` just found it.
        self.queue.remove(i);
        self.events.push(SenderEvent::Delivered { id });
        true
    }

    /// What was sent to `participant` may be lost (undelivered data, the participant left or
    /// restarted): everything unacknowledged is sent again, when it is the peer.
    pub fn handle_lost(&mut self, participant: &str, _now: u64) {
        if participant != self.peer {
            return;
        }
        for p in &mut self.queue {
            p.delivery = Delivery::Unsent;
        }
    }

    /// Time passed: what has waited `resend_after` for its acknowledgement is sent again.
    pub fn handle_timeout(&mut self, now: u64) {
        let Some(after) = self.config.resend_after else {
            return;
        };
        for p in &mut self.queue {
            if let Delivery::InFlight { since } = p.delivery {
                if now >= since.saturating_add(after) {
                    p.delivery = Delivery::Unsent;
                }
            }
        }
    }

    /// The channel refused the [`Transmit`] of reading `id` (the peer is not reachable yet):
    /// it stays queued, to be sent at the next [`Self::poll_transmit`].
    pub fn handle_send_failed(&mut self, id: &str) {
        if let Some(p) = self.queue.iter_mut().find(|p| p.id == id) {
            p.delivery = Delivery::Unsent;
        }
    }

    /// Checks consent now for every reading not yet sent: those refused are dropped, each
    /// with a [`SenderEvent::Withheld`]. (Sent ones wait for their acknowledgement; if they
    /// must be sent again, [`Self::poll_transmit`] checks them then.)
    pub fn handle_consent(&mut self, mut consent: impl FnMut(Option<DataCategory>) -> Consent) {
        let events = &mut self.events;
        self.queue
            .retain(|p| match (p.delivery, consent(p.category)) {
                (Delivery::Unsent, Consent::Refused(reason)) => {
                    events.push(SenderEvent::Withheld {
                        id: p.id.clone(),
                        reason,
                    });
                    false
                }
                _ => true,
            });
    }

    // ----- mutators --------------------------------------------------------------------------

    /// Stops sharing: drops the queue; later shares fail with [`SendError::Closed`].
    pub fn close(&mut self) {
        self.closed = true;
        self.queue.clear();
    }

    // ----- outputs ---------------------------------------------------------------------------

    /// The next message to hand to the channel, oldest reading first, checked against
    /// `consent` just before it leaves (a refused one is dropped and reported, and the next
    /// is tried). `None` when nothing is to be sent, or after [`Self::close`].
    #[must_use]
    pub fn poll_transmit(
        &mut self,
        now: u64,
        mut consent: impl FnMut(Option<DataCategory>) -> Consent,
    ) -> Option<Transmit> {
        if self.closed {
            return None;
        }
        loop {
            let i = self
                .queue
                .iter()
                .position(|p| p.delivery == Delivery::Unsent)?;
            let p = self.queue.get_mut(i)?;
            match consent(p.category) {
                Consent::Allowed => {
                    p.delivery = Delivery::InFlight { since: now };
                    return Some(Transmit {
                        id: p.id.clone(),
                        bytes: p.bytes.clone(),
                    });
                }
                Consent::Refused(reason) => {
                    // In bounds: `position` just found it, and nothing removed since.
                    let p = self.queue.remove(i);
                    self.events.push(SenderEvent::Withheld { id: p.id, reason });
                }
            }
        }
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SenderEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }

    /// When [`Self::handle_timeout`] should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let after = self.config.resend_after?;
        self.queue
            .iter()
            .filter_map(|p| match p.delivery {
                Delivery::InFlight { since } => Some(since.saturating_add(after)),
                Delivery::Unsent => None,
            })
            .min()
    }
}

/// Why received bytes were not a reading to acknowledge. Nothing changed in the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiveError {
    /// Not a reading message (other app data): to be ignored.
    NotAReading,
    /// A reading message whose raw record is malformed; names what.
    Malformed(&'static str),
    /// The raw record does not make a reading.
    Capture(CaptureError),
    /// The message carries no id.
    MissingId,
    /// The rebuilt reading has another id than the message claims.
    IdMismatch,
}

impl From<WireError> for ReceiveError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Malformed(what) => Self::Malformed(what),
            WireError::Capture(c) => Self::Capture(c),
            _ => Self::NotAReading,
        }
    }
}

impl From<CaptureError> for ReceiveError {
    fn from(e: CaptureError) -> Self {
        Self::Capture(e)
    }
}

impl From<ReceiveError> for crate::Error {
    fn from(e: ReceiveError) -> Self {
        match e {
            ReceiveError::Capture(c) => Self::Device(c),
            other => Self::Reading(other),
        }
    }
}

impl ReceiveError {
    /// What is wrong, for an error message (the value itself is never named).
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotAReading => "not a reading message",
            Self::Malformed(what) => what,
            Self::Capture(_) => "the reading's value",
            Self::MissingId => "reading envelope without an id",
            Self::IdMismatch => "reading: its raw value does not match its id",
        }
    }
}

impl core::fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        crate::Error::from(*self).fmt(f)
    }
}

impl std::error::Error for ReceiveError {}

/// What the driver does for a receiver.
#[derive(Clone, Debug, PartialEq)]
pub enum ReceiverOutput {
    /// Send these bytes (an acknowledgement) to `to`.
    Transmit {
        /// The participant the reading came from.
        to: String,
        /// The wire message.
        bytes: Vec<u8>,
    },
    /// A reading arrived for the first time: hand it to the application.
    Reading {
        /// The participant it came from.
        from: String,
        /// The reading, rebuilt here.
        reading: Box<Reading>,
        /// What it was rebuilt from.
        raw: Box<RawRecord>,
    },
}

/// Turns reading messages into readings: each rebuilt from its raw record with the same
/// parsers, checked against its id, acknowledged, and handed on once per id.
#[derive(Debug, Default)]
pub struct ReadingReceiver {
    /// Ids already handed on, oldest first, at most [`SEEN_LIMIT`]. A linear search (ids
    /// differ in their first bytes, so ~10 µs for a full window) instead of a `BTreeSet`:
    /// the B-tree's code for one more key type costs several KB of wasm.
    seen: VecDeque<String>,
    out: Vec<ReceiverOutput>,
}

impl ReadingReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the reading with this id was already handed on (within the last
    /// [`SEEN_LIMIT`]).
    pub fn has_seen(&self, id: &str) -> bool {
        self.seen.iter().any(|s| s == id)
    }

    /// App data from `from`. A valid reading message is acknowledged (first, so the sender
    /// stops even if the application fails) and, the first time its id is seen, handed on.
    /// Anything else is an error and changes nothing; [`ReceiveError::NotAReading`] is other
    /// app data, not worth reporting.
    pub fn handle_data(&mut self, from: &str, bytes: &[u8]) -> Result<(), ReceiveError> {
        let Message::Reading { id, raw } = wire::decode(bytes)? else {
            return Err(ReceiveError::NotAReading);
        };
        let reading = raw.capture()?;
        match id {
            None => return Err(ReceiveError::MissingId),
            Some(id) if id != reading.id => return Err(ReceiveError::IdMismatch),
            Some(_) => {}
        }
        self.out.push(ReceiverOutput::Transmit {
            to: from.to_owned(),
            bytes: wire::encode_ack(&reading.id),
        });
        if self.has_seen(&reading.id) {
            return Ok(());
        }
        self.seen.push_back(reading.id.clone());
        if self.seen.len() > SEEN_LIMIT {
            self.seen.pop_front();
        }
        self.out.push(ReceiverOutput::Reading {
            from: from.to_owned(),
            reading: Box::new(reading),
            raw: Box::new(raw),
        });
        Ok(())
    }

    /// The next thing to do.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<ReceiverOutput> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }
}
