//! Where ledgers live between sessions.
//!
//! The store holds encoded entries only; everything loaded is verified again, so a store
//! (IndexedDB, a file, a server) never has to be trusted for integrity — only for keeping
//! what it was given.

use std::collections::BTreeMap;

use super::error::StoreError;

/// A persistence backend for consent ledgers, keyed by ledger id.
///
/// Calls are synchronous: a browser backend (IndexedDB) loads everything in its async
/// factory before the manager opens, then keeps an in-memory copy and writes through
/// behind it, reporting a failed write on the next call.
pub trait LedgerStore {
    /// The encoded entries of ledger `id`, in order; empty if the ledger is new.
    fn load(&self, id: &[u8; 16]) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Appends one encoded entry to ledger `id`.
    fn append(&mut self, id: &[u8; 16], entry: &[u8]) -> Result<(), StoreError>;
    /// The saved checkpoint record of ledger `id`, if any.
    fn load_checkpoint(&self, id: &[u8; 16]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replaces the saved checkpoint record of ledger `id`.
    fn save_checkpoint(&mut self, id: &[u8; 16], record: &[u8]) -> Result<(), StoreError>;
}

/// What [`MemoryStore`] keeps per ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredLedger {
    /// Encoded entries in order.
    pub entries: Vec<Vec<u8>>,
    /// The checkpoint record.
    pub checkpoint: Option<Vec<u8>>,
}

/// An in-memory store: for tests, Node.js tools and hosts without persistent storage.
/// Fields are public so that tests can play a hostile storage layer.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    /// Ledgers by id.
    pub ledgers: BTreeMap<[u8; 16], StoredLedger>,
}

impl LedgerStore for MemoryStore {
    fn load(&self, id: &[u8; 16]) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .ledgers
            .get(id)
            .map(|l| l.entries.clone())
            .unwrap_or_default())
    }

    fn append(&mut self, id: &[u8; 16], entry: &[u8]) -> Result<(), StoreError> {
        self.ledgers
            .entry(*id)
            .or_default()
            .entries
            .push(entry.to_vec());
        Ok(())
    }

    fn load_checkpoint(&self, id: &[u8; 16]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.ledgers.get(id).and_then(|l| l.checkpoint.clone()))
    }

    fn save_checkpoint(&mut self, id: &[u8; 16], record: &[u8]) -> Result<(), StoreError> {
        self.ledgers.entry(*id).or_default().checkpoint = Some(record.to_vec());
        Ok(())
    }
}
