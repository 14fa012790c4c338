//! Test instrumentation (feature `test-hooks`, never in a shipped build): every
//! [`super::Sealer`] records the (key, nonce) pair of each frame it seals, so that tests can
//! assert that no pair is ever used twice — whatever a hostile relay does.
//!
//! The key is recorded as a SHA-256 fingerprint of the key and IV, never the key itself.

use std::cell::RefCell;

use sha2::{Digest, Sha256};

/// A key's fingerprint and one nonce used under it.
pub type Use = ([u8; 16], [u8; 12]);

thread_local! {
    static USES: RefCell<Vec<Use>> = const { RefCell::new(Vec::new()) };
}

/// The fingerprint under which a sealer records its uses.
pub(super) fn fingerprint(key: &[u8; 32], iv: &[u8; 12]) -> [u8; 16] {
    let d = Sha256::new()
        .chain_update(b"nonce-audit")
        .chain_update(key)
        .chain_update(iv)
        .finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

pub(super) fn record(key: [u8; 16], nonce: [u8; 12]) {
    USES.with(|u| u.borrow_mut().push((key, nonce)));
}

/// Takes every use recorded on this thread since the last call.
pub fn take() -> Vec<Use> {
    USES.with(|u| core::mem::take(&mut *u.borrow_mut()))
}
