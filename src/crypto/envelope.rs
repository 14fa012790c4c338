//! The sealed envelope (docs/PROTOCOL.md, "Envelope").
//!
//! ```text
//! off len field
//!   0   1 version      (1)
//!   1   1 kind
//!   2  16 room id
//!  18   8 sender
//!  26   8 recipient    (all-zero = every participant)
//!  34   8 key id       (pair session id, or the hello salt)
//!  42   8 seq          (u64 big-endian, per direction)
//!  50   n ciphertext
//! 50+n 16 GCM tag
//! ```
//!
//! The 50 header bytes are the AAD; the nonce is `iv XOR (0^4 || seq)`.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use core::fmt;
use zeroize::Zeroizing;

use super::{CryptoError, DirectionKey};

/// The envelope version this implementation seals and accepts.
pub const VERSION: u8 = 2;
/// Length of the authenticated header.
pub const HEADER_LEN: usize = 50;
/// Length of the GCM tag.
pub const TAG_LEN: usize = 16;
/// Largest sealed frame: fits a relay `Send` (9 bytes of framing) inside the relay's
/// 64 KiB message limit with room to spare.
pub const MAX_FRAME_LEN: usize = 65_000;
/// The last sequence number a [`Sealer`] will use. Sealing stops here (hard stop well
/// before the 64-bit counter could wrap and repeat a nonce); the session re-keys long before.
pub const MAX_SEQ: u64 = (1 << 32) - 1;
/// Width of the replay window, in sequence numbers.
pub const REPLAY_WINDOW: u64 = 128;

/// A parsed envelope header. All of it is authenticated; none of it is secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Envelope version.
    pub version: u8,
    /// Message kind (docs/PROTOCOL.md, "Message kinds").
    pub kind: u8,
    /// The room.
    pub room: [u8; 16],
    /// The sender's participant id.
    pub sender: [u8; 8],
    /// The recipient's participant id, or all-zero for every participant.
    pub recipient: [u8; 8],
    /// Which key sealed the frame.
    pub key_id: [u8; 8],
    /// Per-direction sequence number.
    pub seq: u64,
}

impl Header {
    /// The 50 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let seq = self.seq.to_be_bytes();
        let first = [self.version, self.kind];
        let fields = first
            .iter()
            .chain(&self.room)
            .chain(&self.sender)
            .chain(&self.recipient)
            .chain(&self.key_id)
            .chain(&seq);
        let mut out = [0u8; HEADER_LEN];
        for (o, b) in out.iter_mut().zip(fields) {
            *o = *b;
        }
        out
    }

    /// Parses the header of a sealed frame, checking only lengths; never panics.
    pub fn parse(frame: &[u8]) -> Result<Self, CryptoError> {
        if frame.len() < HEADER_LEN + TAG_LEN || frame.len() > MAX_FRAME_LEN {
            return Err(CryptoError::Malformed);
        }
        let h = frame
            .first_chunk::<HEADER_LEN>()
            .ok_or(CryptoError::Malformed)?;
        Ok(Header {
            version: h[0],
            kind: h[1],
            room: field(h, 2),
            sender: field(h, 18),
            recipient: field(h, 26),
            key_id: field(h, 34),
            seq: u64::from_be_bytes(field(h, 42)),
        })
    }
}

/// The `N` header bytes at `at` (every field lies inside the 50 bytes, so never the zeros).
fn field<const N: usize>(h: &[u8; HEADER_LEN], at: usize) -> [u8; N] {
    h.get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; N])
}

fn nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// Seals frames in one direction. Owns the sequence counter, so a nonce is never reused
/// under its key. The AES key schedule inside wipes itself on drop.
pub struct Sealer {
    cipher: Aes256Gcm,
    /// The raw key, for [`Self::export_key`] (wiped on drop).
    key: Zeroizing<[u8; 32]>,
    iv: [u8; 12],
    key_id: [u8; 8],
    next_seq: u64,
    #[cfg(feature = "test-hooks")]
    audit_key: [u8; 16],
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer for `key`, stamping `key_id` in every header, starting at sequence 0.
    pub fn new(key: &DirectionKey, key_id: [u8; 8]) -> Self {
        Self::starting_at(key, key_id, 0)
    }

    /// A sealer that starts at `seq` (used for hellos, which continue one counter across
    /// retransmissions, and by tests of the hard stop).
    pub fn starting_at(key: &DirectionKey, key_id: [u8; 8], seq: u64) -> Self {
        Self {
            cipher: Aes256Gcm::new(&key.key.into()),
            key: Zeroizing::new(key.key),
            iv: key.iv,
            key_id,
            next_seq: seq,
            #[cfg(feature = "test-hooks")]
            audit_key: super::nonce_audit::fingerprint(&key.key, &key.iv),
        }
    }

    /// The sequence number the next frame will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The key id stamped in headers.
    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// Seals `plaintext` into a frame: header || ciphertext || tag.
    pub fn seal(
        &mut self,
        kind: u8,
        room: &[u8; 16],
        sender: &[u8; 8],
        recipient: &[u8; 8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let Reservation { header, nonce } =
            self.reserve(kind, room, sender, recipient, plaintext.len())?;
        let mut frame = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        frame.extend_from_slice(&header);
        frame.extend_from_slice(plaintext);
        // The frame starts with the header just written: the body always follows it.
        let body = frame.get_mut(HEADER_LEN..).ok_or(CryptoError::TooLarge)?;
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &header, body)
            .map_err(|_| CryptoError::TooLarge)?;
        frame.extend_from_slice(&tag);
        Ok(frame)
    }

    /// Spends the next sequence number on a frame of `len` plaintext bytes that AES-256-GCM
    /// outside this sealer will encrypt under [`Self::export_key`] (the browser's WebCrypto,
    /// for bulk data on the direct path: docs/PROTOCOL.md §10.0). The counter is the one
    /// [`Self::seal`] uses, so a nonce is never used twice under the key either way.
    pub fn reserve(
        &mut self,
        kind: u8,
        room: &[u8; 16],
        sender: &[u8; 8],
        recipient: &[u8; 8],
        len: usize,
    ) -> Result<Reservation, CryptoError> {
        if self.next_seq > MAX_SEQ {
            return Err(CryptoError::NonceExhausted);
        }
        if len > MAX_FRAME_LEN - HEADER_LEN - TAG_LEN {
            return Err(CryptoError::TooLarge);
        }
        let header = Header {
            version: VERSION,
            kind,
            room: *room,
            sender: *sender,
            recipient: *recipient,
            key_id: self.key_id,
            seq: self.next_seq,
        }
        .encode();
        let nonce = nonce(&self.iv, self.next_seq);
        #[cfg(feature = "test-hooks")]
        super::nonce_audit::record(self.audit_key, nonce);
        self.next_seq += 1;
        Ok(Reservation { header, nonce })
    }

    /// A copy of the AES-256 key, for a driver that encrypts [`Self::reserve`]d frames itself.
    pub fn export_key(&self) -> Zeroizing<[u8; 32]> {
        self.key.clone()
    }
}

/// A frame's spent sequence number, for encryption elsewhere: the frame is `header ||
/// AES-256-GCM(key, nonce, aad = header, plaintext)` (ciphertext then the 16-byte tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The 50 header bytes: the frame's start, and the AAD.
    pub header: [u8; HEADER_LEN],
    /// The GCM nonce.
    pub nonce: [u8; 12],
}

/// The sliding replay window of one receiving direction (as in RFC 4303 §3.4.3, 128 wide).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    highest: Option<u64>,
    /// Bit `i` set: sequence `highest - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// Whether `seq` may be accepted (does not record it).
    pub fn check(&self, seq: u64) -> Result<(), CryptoError> {
        let Some(high) = self.highest else {
            return Ok(());
        };
        if seq > high {
            return Ok(());
        }
        let back = high - seq;
        if back >= REPLAY_WINDOW {
            return Err(CryptoError::TooOld);
        }
        if self.seen & (1u128 << back) != 0 {
            return Err(CryptoError::Replayed);
        }
        Ok(())
    }

    /// Records `seq` as accepted; call only after [`Self::check`] passed and the frame
    /// authenticated.
    pub fn accept(&mut self, seq: u64) {
        match self.highest {
            None => {
                self.highest = Some(seq);
                self.seen = 1;
            }
            Some(high) if seq > high => {
                let shift = seq - high;
                self.seen = if shift >= REPLAY_WINDOW {
                    0
                } else {
                    self.seen << shift
                };
                self.seen |= 1;
                self.highest = Some(seq);
            }
            Some(high) => {
                let back = high - seq;
                if back < REPLAY_WINDOW {
                    self.seen |= 1u128 << back;
                }
            }
        }
    }

    /// The highest sequence number accepted so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// Opens frames of one receiving direction and keeps its replay window.
pub struct Opener {
    cipher: Aes256Gcm,
    /// The raw key, for [`Self::export_key`] (wiped on drop).
    key: Zeroizing<[u8; 32]>,
    iv: [u8; 12],
    key_id: [u8; 8],
    window: ReplayWindow,
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opener")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Opener {
    /// An opener for `key` that accepts only frames stamped with `key_id`.
    pub fn new(key: &DirectionKey, key_id: [u8; 8]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&key.key.into()),
            key: Zeroizing::new(key.key),
            iv: key.iv,
            key_id,
            window: ReplayWindow::default(),
        }
    }

    /// An opener that continues an earlier replay window (hellos: one window per sender
    /// and hello salt, kept by the session between frames).
    pub fn with_window(key: &DirectionKey, key_id: [u8; 8], window: ReplayWindow) -> Self {
        Self {
            window,
            ..Self::new(key, key_id)
        }
    }

    /// The key id this opener accepts.
    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// The replay window's state (for tests and diagnostics).
    pub fn window(&self) -> ReplayWindow {
        self.window
    }

    /// Checks and decrypts `frame`. On success the sequence number is recorded; on any
    /// error nothing changes. Never panics.
    pub fn open(&mut self, frame: &[u8]) -> Result<(Header, Vec<u8>), CryptoError> {
        let (header, nonce) = self.precheck(frame)?;
        // `precheck` parsed a header and found room for a tag: these splits always succeed.
        let (aad, rest) = frame
            .split_at_checked(HEADER_LEN)
            .ok_or(CryptoError::Malformed)?;
        let (body, tag) = rest
            .split_at_checked(rest.len().saturating_sub(TAG_LEN))
            .ok_or(CryptoError::Malformed)?;
        let mut plain = body.to_vec();
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                aad,
                &mut plain,
                Tag::from_slice(tag),
            )
            .map_err(|_| CryptoError::AuthenticationFailed)?;
        self.window.accept(header.seq);
        Ok((header, plain))
    }

    /// Every check of [`Self::open`] but the tag (length, version, key id, replay window),
    /// changing nothing: for a frame that AES-256-GCM outside this opener will decrypt under
    /// [`Self::export_key`]. Returns its header and nonce. Record it with
    /// [`Self::accept_authenticated`] once, and only if, its tag verified.
    pub fn precheck(&self, frame: &[u8]) -> Result<(Header, [u8; 12]), CryptoError> {
        let header = Header::parse(frame)?;
        if header.version != VERSION {
            return Err(CryptoError::UnsupportedVersion);
        }
        if header.key_id != self.key_id {
            return Err(CryptoError::UnknownKey);
        }
        self.window.check(header.seq)?;
        Ok((header, nonce(&self.iv, header.seq)))
    }

    /// Records `seq` of a frame whose tag verified elsewhere, after [`Self::precheck`];
    /// refuses it when the window has accepted it (or moved past it) meanwhile: a frame
    /// decrypted twice is delivered once.
    pub fn accept_authenticated(&mut self, seq: u64) -> Result<(), CryptoError> {
        self.window.check(seq)?;
        self.window.accept(seq);
        Ok(())
    }

    /// A copy of the AES-256 key, for a driver that decrypts [`Self::precheck`]ed frames
    /// itself.
    pub fn export_key(&self) -> Zeroizing<[u8; 32]> {
        self.key.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pair() -> (Sealer, Opener) {
        let k = DirectionKey::from_bytes([0x11; 32], [0x22; 12]);
        (Sealer::new(&k, [9; 8]), Opener::new(&k, [9; 8]))
    }

    #[test]
    fn sealed_frames_open_once_and_only_once() {
        let (mut s, mut o) = pair();
        let f = s.seal(2, &[1; 16], &[2; 8], &[3; 8], b"hello").unwrap();
        assert_eq!(f.len(), HEADER_LEN + 5 + TAG_LEN);
        let (h, p) = o.open(&f).unwrap();
        assert_eq!((h.kind, h.seq, p.as_slice()), (2, 0, &b"hello"[..]));
        assert_eq!(o.open(&f), Err(CryptoError::Replayed));
    }

    #[test]
    fn every_bit_flip_and_truncation_is_rejected_without_state_change() {
        let (mut s, mut o) = pair();
        let f = s
            .seal(2, &[1; 16], &[2; 8], &[3; 8], b"a body of some length")
            .unwrap();
        for i in 0..f.len() * 8 {
            let mut g = f.clone();
            g[i / 8] ^= 1 << (i % 8);
            assert!(o.open(&g).is_err(), "bit {i}");
        }
        for len in 0..f.len() {
            assert!(o.open(&f[..len]).is_err(), "len {len}");
        }
        assert_eq!(o.window(), ReplayWindow::default());
        assert!(o.open(&f).is_ok());
    }

    #[test]
    fn sealing_stops_at_the_hard_limit() {
        let k = DirectionKey::from_bytes([1; 32], [2; 12]);
        let mut s = Sealer::starting_at(&k, [0; 8], MAX_SEQ);
        assert!(s.seal(2, &[0; 16], &[1; 8], &[2; 8], b"x").is_ok());
        assert_eq!(
            s.seal(2, &[0; 16], &[1; 8], &[2; 8], b"x"),
            Err(CryptoError::NonceExhausted)
        );
        assert_eq!(
            s.seal(2, &[0; 16], &[1; 8], &[2; 8], b"x"),
            Err(CryptoError::NonceExhausted)
        );
    }

    #[test]
    fn oversized_plaintext_is_refused() {
        let (mut s, _) = pair();
        let big = vec![0; MAX_FRAME_LEN];
        assert_eq!(
            s.seal(2, &[0; 16], &[1; 8], &[2; 8], &big),
            Err(CryptoError::TooLarge)
        );
        assert_eq!(s.next_seq(), 0);
    }

    #[test]
    fn window_accepts_reordering_inside_and_rejects_outside() {
        let mut w = ReplayWindow::default();
        for seq in [5u64, 3, 4, 200, 150, 73] {
            assert_eq!(w.check(seq), Ok(()), "{seq}");
            w.accept(seq);
        }
        assert_eq!(w.check(72), Err(CryptoError::TooOld));
        assert_eq!(w.check(150), Err(CryptoError::Replayed));
        assert_eq!(w.check(151), Ok(()));
        assert_eq!(w.check(201), Ok(()));
    }

    /// AES-256-GCM done elsewhere (here by the same crate, as WebCrypto would) under an
    /// exported key.
    fn encrypt_elsewhere(key: &[u8; 32], r: &Reservation, plaintext: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{Aead, Payload};
        let cipher = Aes256Gcm::new(&(*key).into());
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&r.nonce),
                Payload {
                    msg: plaintext,
                    aad: &r.header,
                },
            )
            .unwrap();
        [r.header.as_slice(), &ct].concat()
    }

    #[test]
    fn a_reserved_frame_encrypted_elsewhere_is_the_frame_seal_makes() {
        let k = DirectionKey::from_bytes([0x11; 32], [0x22; 12]);
        let (mut a, mut b) = (Sealer::new(&k, [9; 8]), Sealer::new(&k, [9; 8]));
        for body in [&b"first"[..], &[7u8; 3000][..]] {
            let sealed = a.seal(3, &[1; 16], &[2; 8], &[3; 8], body).unwrap();
            let r = b
                .reserve(3, &[1; 16], &[2; 8], &[3; 8], body.len())
                .unwrap();
            assert_eq!(encrypt_elsewhere(&b.export_key(), &r, body), sealed);
        }
        // One counter: a reservation spends the sequence number `seal` would have used.
        let r = a.reserve(3, &[1; 16], &[2; 8], &[3; 8], 1).unwrap();
        let next = a.seal(3, &[1; 16], &[2; 8], &[3; 8], b"x").unwrap();
        assert_eq!(r.header[42..50], 2u64.to_be_bytes());
        assert_eq!(Header::parse(&next).unwrap().seq, 3);
        assert_eq!(a.next_seq(), 4);
    }

    #[test]
    fn a_frame_opened_elsewhere_is_prechecked_then_accepted_once() {
        let (mut s, mut o) = pair();
        let f = s.seal(2, &[1; 16], &[2; 8], &[3; 8], b"bulk").unwrap();
        let (h, nonce) = o.precheck(&f).unwrap();
        // Checking changes nothing: the same frame passes again, and `open` still works.
        assert_eq!(o.precheck(&f).unwrap(), (h, nonce));
        assert_eq!(o.window(), ReplayWindow::default());
        // What WebCrypto would do with the exported key and the given nonce.
        let cipher = Aes256Gcm::new(&(*o.export_key()).into());
        let mut plain = f[HEADER_LEN..f.len() - TAG_LEN].to_vec();
        cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                &f[..HEADER_LEN],
                &mut plain,
                Tag::from_slice(&f[f.len() - TAG_LEN..]),
            )
            .unwrap();
        assert_eq!(plain, b"bulk");
        assert_eq!(o.accept_authenticated(h.seq), Ok(()));
        // Decrypted twice (a duplicate in flight): the second is refused.
        assert_eq!(o.accept_authenticated(h.seq), Err(CryptoError::Replayed));
        assert_eq!(o.precheck(&f), Err(CryptoError::Replayed));
        assert_eq!(o.open(&f), Err(CryptoError::Replayed));
        // Another key id is refused before any decryption.
        let mut other = f.clone();
        other[34] ^= 1;
        assert_eq!(o.precheck(&other), Err(CryptoError::UnknownKey));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_open_or_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (_, mut o) = pair();
            prop_assert!(o.open(&bytes).is_err());
        }

        #[test]
        fn window_never_accepts_a_sequence_twice(seqs in proptest::collection::vec(0u64..300, 1..100)) {
            let mut w = ReplayWindow::default();
            let mut accepted = std::collections::HashSet::new();
            for s in seqs {
                if w.check(s).is_ok() {
                    prop_assert!(accepted.insert(s), "accepted {} twice", s);
                    w.accept(s);
                }
            }
        }
    }
}
