//! What a session remembers, for its whole lifetime, about every peer it has keyed
//! (docs/PROTOCOL.md §11.5, "Peer memory").
//!
//! The relay can fake `Left`/`Joined` for a peer, replay its old hellos and frames, and
//! reorder them. Whatever it does, a session must never derive the same pair keys twice
//! (that would restart a sealer at sequence 0: AES-GCM nonce reuse) and never deliver a
//! message twice. The session's per-peer state goes away when a peer leaves or restarts,
//! so the facts that make those guarantees hold live here instead, and are never
//! forgotten while the session lives:
//!
//! - the static keys a participant id has used: a key that was *replaced* (the peer
//!   restarted) is retired for good, so a replayed hello from the peer's previous session
//!   is refused;
//! - the highest epoch keyed under the current static key: an older hello is a replay;
//! - the pair session ids ever installed: keys with a retired id are never installed
//!   again;
//! - the reliable-delivery counters and admission of the current static key, restored
//!   when the same session comes back, so message ids already delivered are not
//!   delivered again.
//!
//! Memory is bounded: past the limits below the session refuses to key that peer again
//! (fail closed) rather than forget.

use super::relay_wire::ParticipantId;
use crate::sorted_map::SortedMap;

/// Most distinct participant ids remembered.
pub const MAX_REMEMBERED_PEERS: usize = 64;
/// Most retired static keys remembered per participant id.
pub const MAX_RETIRED_STATICS: usize = 16;
/// Most pair session ids remembered per participant id (one per re-key).
pub const MAX_SESSION_IDS: usize = 512;

struct Remembered<C> {
    current: Option<[u8; 32]>,
    highest_epoch: u64,
    carried: Option<C>,
    retired_statics: Vec<[u8; 32]>,
    session_ids: Vec<[u8; 8]>,
}

/// Why a hello may not be keyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A replay: a retired static key, or an epoch older than one already keyed.
    Replay,
    /// The memory for this peer (or for peers at all) is full.
    Full,
}

impl<C> Default for Remembered<C> {
    fn default() -> Self {
        Self {
            current: None,
            highest_epoch: 0,
            carried: None,
            retired_statics: Vec::new(),
            session_ids: Vec::new(),
        }
    }
}

/// Lifetime memory of keyed peers; `C` is the per-peer state carried over when the same
/// peer session comes back (message ids, admission, the pairing's SAS).
pub struct PeerMemory<C> {
    peers: SortedMap<ParticipantId, Remembered<C>>,
}

impl<C> Default for PeerMemory<C> {
    fn default() -> Self {
        Self {
            peers: SortedMap::new(),
        }
    }
}

impl<C> PeerMemory<C> {
    /// Checks a hello's static key and epoch before keying: refused if the static key
    /// was retired, or if it is the current one and the epoch is older than the highest
    /// keyed. A new static key for a known id is allowed (the peer restarted).
    pub fn check(
        &self,
        id: ParticipantId,
        static_public: &[u8; 32],
        epoch: u64,
    ) -> Result<(), Refusal> {
        let Some(r) = self.peers.get(&id) else {
            return if self.peers.len() >= MAX_REMEMBERED_PEERS {
                Err(Refusal::Full)
            } else {
                Ok(())
            };
        };
        if r.retired_statics.contains(static_public) {
            return Err(Refusal::Replay);
        }
        match r.current {
            Some(s) if s == *static_public && epoch < r.highest_epoch => Err(Refusal::Replay),
            Some(s) if s != *static_public && r.retired_statics.len() >= MAX_RETIRED_STATICS => {
                Err(Refusal::Full)
            }
            _ if r.session_ids.len() >= MAX_SESSION_IDS => Err(Refusal::Full),
            _ => Ok(()),
        }
    }

    /// Whether a pair session id was ever installed for `id`.
    pub fn used_session_id(&self, id: ParticipantId, sid: &[u8; 8]) -> bool {
        self.peers
            .get(&id)
            .is_some_and(|r| r.session_ids.contains(sid))
    }

    /// Records that `id` was keyed with `static_public` at `epoch` under session id `sid`
    /// (call only after [`Self::check`] passed). A new static key retires the previous one
    /// and its carried state. Returns the state carried over from an earlier record of
    /// the same static key, if any.
    pub fn keyed(
        &mut self,
        id: ParticipantId,
        static_public: [u8; 32],
        epoch: u64,
        sid: [u8; 8],
    ) -> Option<C> {
        let r = self.peers.get_or_insert_with(id, Remembered::default);
        if let Some(old) = r.current
            && old != static_public
        {
            if r.retired_statics.len() < MAX_RETIRED_STATICS {
                r.retired_statics.push(old);
            }
            r.carried = None;
            r.highest_epoch = 0;
        }
        r.current = Some(static_public);
        r.highest_epoch = r.highest_epoch.max(epoch);
        if r.session_ids.len() < MAX_SESSION_IDS {
            r.session_ids.push(sid);
        }
        r.carried.take()
    }

    /// Records the reliable-delivery state of a peer whose record is being dropped (it
    /// left, was lost, or restarted), so that the same session coming back resumes it.
    pub fn forget_peer(&mut self, id: ParticipantId, carried: C) {
        if let Some(r) = self.peers.get_mut(&id) {
            r.carried = Some(carried);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: ParticipantId = ParticipantId([7; 8]);

    #[test]
    fn a_replaced_static_key_never_comes_back() {
        let mut m = PeerMemory::<u8>::default();
        assert_eq!(m.check(ID, &[1; 32], 5), Ok(()));
        m.keyed(ID, [1; 32], 5, [1; 8]);
        assert_eq!(
            m.check(ID, &[2; 32], 1),
            Ok(()),
            "a restarted peer is allowed"
        );
        m.keyed(ID, [2; 32], 1, [2; 8]);
        assert_eq!(m.check(ID, &[1; 32], 9), Err(Refusal::Replay));
        assert_eq!(m.check(ID, &[2; 32], 0), Err(Refusal::Replay));
        assert_eq!(
            m.check(ID, &[2; 32], 1),
            Ok(()),
            "same epoch: our own epoch changed"
        );
        assert!(m.used_session_id(ID, &[1; 8]) && m.used_session_id(ID, &[2; 8]));
    }

    #[test]
    fn carried_state_returns_only_to_the_same_static_key() {
        let mut m = PeerMemory::default();
        m.keyed(ID, [1; 32], 5, [1; 8]);
        let c = 42u8;
        m.forget_peer(ID, c);
        assert_eq!(m.keyed(ID, [1; 32], 6, [3; 8]), Some(c));
        m.forget_peer(ID, c);
        assert_eq!(m.keyed(ID, [2; 32], 1, [4; 8]), None);
    }

    #[test]
    fn memory_is_bounded_and_fails_closed() {
        let mut m = PeerMemory::<u8>::default();
        for i in 0..MAX_REMEMBERED_PEERS {
            let id = ParticipantId([i as u8 + 1; 8]);
            m.keyed(id, [1; 32], 1, [1; 8]);
        }
        assert_eq!(
            m.check(ParticipantId([0xee; 8]), &[1; 32], 1),
            Err(Refusal::Full)
        );
        for i in 0..MAX_SESSION_IDS {
            m.keyed(ID, [9; 32], 1, (i as u64).to_be_bytes());
        }
        assert_eq!(m.check(ID, &[9; 32], 2), Err(Refusal::Full));
    }
}
