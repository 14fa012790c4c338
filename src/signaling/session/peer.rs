//! The record a session keeps per peer, built from the state of each part of the protocol
//! (handshake, delivery, admission, negotiation, SAS), and what of it outlives the record.

use std::collections::VecDeque;

use zeroize::Zeroizing;

use super::Timeouts;
use super::admission::Admission;
use super::delivery::OutMsg;
use super::handshake::{Keying, Remote};
use super::negotiation::Neg;
use super::sas::SasState;
use crate::crypto::ReplayWindow;
use crate::signaling::message::{KIND_APP_DATA, Signal};
use crate::signaling::relay_wire::Role;
use crate::sorted_map::SortedMap;

/// Everything this session knows about one other participant, as long as the relay or the
/// handshake keeps it around. Each part of the protocol owns its fields; what must outlive
/// the record goes to the lifetime memory as [`Carried`].
pub(super) struct Peer {
    pub(super) relay_role: Role,
    pub(super) present: bool,
    pub(super) absent_since: Option<u64>,
    pub(super) remote: Option<Remote>,
    pub(super) sas_prk: Option<Zeroizing<[u8; 32]>>,
    /// The pair's current keys and how far they have got.
    pub(super) keying: Keying,
    pub(super) hello_window: Option<([u8; 8], ReplayWindow)>,
    pub(super) hello_rate: (u64, u32),
    pub(super) last_reply_at: Option<u64>,
    pub(super) hello_retry_at: Option<u64>,
    pub(super) hello_backoff: u64,
    pub(super) handshake_deadline: Option<u64>,
    /// Hellos from this peer that did not open under the room key (see `LINK_MISMATCH_AFTER`).
    pub(super) hello_failures: u8,
    pub(super) next_out: u64,
    pub(super) outbox: VecDeque<OutMsg>,
    /// The driver reports a direct path to the peer (its data channel open, ICE
    /// connected): bulk messages and acknowledgements go there ([`Output::Direct`]).
    ///
    /// [`Output::Direct`]: super::Output::Direct
    pub(super) direct: bool,
    /// Frames handed to the driver to decrypt, `(key id, seq)`, awaiting its report
    /// (src/signaling/session/offload.rs).
    pub(super) offloaded: VecDeque<([u8; 8], u64)>,
    pub(super) next_in: u64,
    /// Bulk messages from the direct path received in order since the last ack, and when
    /// the ack held back for them is due (`delivery::DIRECT_ACK_EVERY`).
    pub(super) unacked: u32,
    pub(super) ack_due: Option<u64>,
    pub(super) reorder: SortedMap<u64, (u8, Vec<u8>)>,
    pub(super) deferred: VecDeque<Signal>,
    /// Its standing in the waiting room.
    pub(super) admission: Admission,
    pub(super) joined_announced: bool,
    pub(super) neg: Neg,
    /// The pair's identity hash, for the SAS binding.
    pub(super) identity: [u8; 32],
    /// The current keys' transcript hash, which a resume proof is bound to.
    pub(super) transcript: Option<[u8; 32]>,
    /// This pairing resumed an earlier one (a valid resume ticket) whose SAS confirmations
    /// were (ours, the peer's): its SAS starts with them.
    pub(super) resumed: Option<(bool, bool)>,
    /// (Clinicians) the peer said it holds one of our resume tickets: its admission request
    /// waits for the ticket until then (see `resume`).
    pub(super) admission_deferred_until: Option<u64>,
    /// This pairing's SAS (kept across re-keys of the same pair).
    pub(super) sas: SasState,
    pub(super) pending_confirm: Option<[u8; 16]>,
}

/// What a dropped peer record hands to the lifetime memory, restored if the same peer
/// session comes back (docs/PROTOCOL.md §11.5).
#[derive(Clone)]
pub(super) struct Carried {
    pub(super) next_in: u64,
    pub(super) next_out: u64,
    pub(super) admission: Admission,
    pub(super) sas: SasState,
}

impl Peer {
    pub(super) fn new(relay_role: Role, now: u64, t: &Timeouts) -> Self {
        Self {
            relay_role,
            present: true,
            absent_since: None,
            remote: None,
            sas_prk: None,
            keying: Keying::None,
            hello_window: None,
            hello_rate: (now, 0),
            last_reply_at: None,
            hello_retry_at: Some(now.saturating_add(t.hello_retry)),
            hello_backoff: t.hello_retry,
            handshake_deadline: Some(now.saturating_add(t.handshake)),
            hello_failures: 0,
            next_out: 1,
            outbox: VecDeque::new(),
            direct: false,
            offloaded: VecDeque::new(),
            next_in: 1,
            unacked: 0,
            ack_due: None,
            reorder: SortedMap::new(),
            deferred: VecDeque::new(),
            admission: Admission::Waiting,
            joined_announced: false,
            neg: Neg::new(),
            identity: [0; 32],
            transcript: None,
            resumed: None,
            admission_deferred_until: None,
            sas: SasState::default(),
            pending_confirm: None,
        }
    }

    pub(super) fn in_call(&self) -> bool {
        self.remote.is_some()
            && match self.admission {
                Admission::Denied => false,
                Admission::Admitted => true,
                Admission::Waiting => self.relay_role == Role::Clinician,
            }
    }

    /// The driver holds a peer connection for this peer (prepared or negotiating).
    pub(super) fn has_connection(&self) -> bool {
        self.neg.started || self.neg.prepared
    }

    pub(super) fn undelivered_app_data(&self) -> usize {
        self.outbox
            .iter()
            .filter(|m| m.kind == KIND_APP_DATA)
            .count()
    }
}
