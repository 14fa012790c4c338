//! Bulk crypto done by the driver (docs/PROTOCOL.md §10.0, "Direct path"): large app-data
//! frames on a peer's direct path may be encrypted and decrypted by the platform's AES-GCM
//! (a browser's WebCrypto, with AES instructions) instead of this crate's software AES in
//! wasm, which caps a file transfer at a few MiB/s (docs/BENCHMARKS.md, "File transfer").
//!
//! Only the AES-256-GCM computation moves. The session still decides everything else: it
//! spends each frame's sequence number from the pair's one counter ([`Sealer::reserve`]), so
//! a nonce is never used twice under a key; it checks every incoming frame's header, key id
//! and replay window before asking for the decryption ([`Opener::precheck`]), and records the
//! sequence number only when the driver reports the tag verified, refusing a second report
//! of it ([`Opener::accept_authenticated`]). The frames on the wire are unchanged: a peer
//! that does not offload opens them as any other.
//!
//! [`Sealer::reserve`]: crate::crypto::Sealer::reserve
//! [`Opener::precheck`]: crate::crypto::Opener::precheck
//! [`Opener::accept_authenticated`]: crate::crypto::Opener::accept_authenticated

use super::{BulkKey, Output, R, Session, SessionError, err};
use crate::crypto::{CryptoError, HEADER_LEN, TAG_LEN};
use crate::signaling::message::KIND_APP_DATA;
use crate::signaling::relay_wire::ParticipantId;

/// The smallest app-data body the driver encrypts or decrypts: below it the promise hop of
/// an asynchronous API costs more than the software AES-GCM here.
pub const OFFLOAD_MIN_LEN: usize = 4096;
/// Most decryptions one peer may have outstanding; beyond, the oldest is forgotten (its
/// report is then refused and the sender retransmits the message).
const MAX_PENDING_OPENS: usize = 256;

impl Session {
    /// Lets the driver do the AES-256-GCM of bulk app data on direct paths (see the module
    /// documentation): [`Output::DirectSeal`] replaces [`Output::Direct`] for such frames,
    /// and incoming ones come back as [`Output::DirectOpen`], each key first handed over in
    /// an [`Output::OffloadKey`]. Off by default; a driver without a fast AES-GCM leaves it
    /// off.
    pub fn offload_bulk_crypto(&mut self, on: bool) {
        self.offload = on;
    }

    /// Whether a reliable message of `kind` with `body` (message id and payload) sealed for a
    /// direct path goes to the driver.
    pub(super) fn offloads(&self, kind: u8, body: &[u8]) -> bool {
        self.offload && kind == KIND_APP_DATA && body.len() >= OFFLOAD_MIN_LEN
    }

    /// Spends the next sequence number of the pair for `body` and asks the driver to seal it
    /// and send it on the direct path. Returns the sealer's error, if any.
    pub(super) fn offload_seal(
        &mut self,
        to: ParticipantId,
        kind: u8,
        body: &[u8],
    ) -> Result<(), CryptoError> {
        let (room, me) = (self.room.0, self.id.0);
        let keys = self
            .peers
            .get_mut(&to)
            .and_then(|p| p.keying.keys_mut())
            .ok_or(CryptoError::UnknownKey)?;
        let r = keys.sealer.reserve(kind, &room, &me, &to.0, body.len())?;
        let key_id = keys.sealer.key_id();
        if !keys.send_exported {
            keys.send_exported = true;
            let key = BulkKey(keys.sealer.export_key());
            self.out.push_back(Output::OffloadKey {
                peer: to,
                key_id,
                send: true,
                key,
            });
        }
        self.out.push_back(Output::DirectSeal {
            peer: to,
            key_id,
            aad: r.header,
            nonce: r.nonce,
            plaintext: body.to_vec(),
        });
        Ok(())
    }

    /// Whether a frame from the direct path goes to the driver to be opened.
    pub(super) fn offloads_open(&self, frame: &[u8]) -> bool {
        self.offload
            && frame.get(1) == Some(&KIND_APP_DATA)
            && frame.len() >= HEADER_LEN + OFFLOAD_MIN_LEN + TAG_LEN
    }

    /// Checks everything of a bulk frame from `from` but its tag and asks the driver to
    /// decrypt it; it reports with [`Self::handle_direct_opened`] or
    /// [`Self::handle_direct_open_failed`].
    pub(super) fn offload_open(&mut self, from: ParticipantId, frame: &[u8], now: u64) -> R {
        self.check_header(from, frame, now)?;
        let p = self.peers.get_mut(&from).ok_or(SessionError::UnknownPeer)?;
        let Some(keys) = p.keying.keys_mut() else {
            return Err(CryptoError::UnknownKey.into());
        };
        let (h, nonce) = match keys.opener.precheck(frame) {
            Ok(x) => x,
            Err(e) => return self.open_failed(from, e, now),
        };
        let key_id = h.key_id;
        let key = (!keys.recv_exported).then(|| {
            keys.recv_exported = true;
            BulkKey(keys.opener.export_key())
        });
        if p.offloaded.len() >= MAX_PENDING_OPENS {
            p.offloaded.pop_front();
        }
        p.offloaded.push_back((key_id, h.seq));
        if let Some(key) = key {
            self.out.push_back(Output::OffloadKey {
                peer: from,
                key_id,
                send: false,
                key,
            });
        }
        self.out.push_back(Output::DirectOpen {
            peer: from,
            key_id,
            seq: h.seq,
            nonce,
            frame: frame.to_vec(),
        });
        Ok(())
    }

    /// The driver decrypted the frame of [`Output::DirectOpen`] `(peer, key_id, seq)`: its tag
    /// verified and `plaintext` is its body. Handled as a frame that opened here, once: a
    /// report nobody asked for, a second report of one frame, or one under keys that changed
    /// meanwhile is refused and changes nothing.
    pub fn handle_direct_opened(
        &mut self,
        peer: ParticipantId,
        key_id: [u8; 8],
        seq: u64,
        plaintext: &[u8],
        now: u64,
    ) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        self.take_pending(peer, key_id, seq)?;
        let p = self.peers.get_mut(&peer).ok_or(SessionError::UnknownPeer)?;
        let Some(keys) = p.keying.keys_mut().filter(|k| k.opener.key_id() == key_id) else {
            // The keys changed meanwhile: the sender sends the message again under the new.
            return Err(CryptoError::UnknownKey.into());
        };
        if let Err(e) = keys.opener.accept_authenticated(seq) {
            return self.open_failed(peer, e, now);
        }
        self.on_opened(peer, KIND_APP_DATA, plaintext, now)
    }

    /// The driver could not decrypt the frame of [`Output::DirectOpen`] `(peer, key_id,
    /// seq)`: its tag did not verify (tampered, or not sealed under this key). A security
    /// event, as for a frame that fails to open here; nothing is delivered.
    pub fn handle_direct_open_failed(
        &mut self,
        peer: ParticipantId,
        key_id: [u8; 8],
        seq: u64,
        now: u64,
    ) -> R {
        self.timeout_reported = false;
        self.check_open()?;
        self.take_pending(peer, key_id, seq)?;
        self.open_failed(peer, CryptoError::AuthenticationFailed, now)
    }

    /// Removes `(key_id, seq)` from `peer`'s outstanding decryptions; an error when it is not
    /// one.
    fn take_pending(&mut self, peer: ParticipantId, key_id: [u8; 8], seq: u64) -> R {
        let p = self.peers.get_mut(&peer).ok_or(SessionError::UnknownPeer)?;
        let Some(at) = p.offloaded.iter().position(|x| *x == (key_id, seq)) else {
            return err(SessionError::InvalidState);
        };
        p.offloaded.remove(at);
        Ok(())
    }
}
