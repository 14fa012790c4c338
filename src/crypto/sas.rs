//! The short authentication string (docs/PROTOCOL.md §13, "SAS").
//!
//! ```text
//! fp(x)    = u8 1 || u8 len || hash-name || u8 len || digest   (the one certificate)
//! commit   = SHA-256("tc2 sas commit" || u16 len || fp || nonce[32])
//! input    = u16 len || fp(lo) || u16 len || fp(hi) || nonce(lo) || nonce(hi)
//! sas      = HKDF-Expand(sas_prk, "tc2 sas" || input, 16)
//! digits   = u64(sas[0..8]) mod 1_000_000, shown as 6 digits
//! emoji    = the top 42 bits of sas[8..14], as 7 indices of 6 bits into EMOJI
//! confirm  = HKDF-Expand(sas_prk, "tc2 sas confirm" || confirmer id || input, 16)
//! binding  = SHA-256("tc2 sas binding" || identity hash || input)   (public; the ledger)
//! ```
//!
//! `lo`/`hi` are the participant with the lower/higher id. Each side's SAS inputs (its
//! certificate's fingerprint and a fresh 32-byte nonce) are committed before the other
//! side's are revealed (ZRTP-style: the lower id commits, the higher id reveals, then the
//! lower id reveals), so a man in the middle must fix its inputs without knowing the
//! other side's nonce: each attempt matches a given 6-digit SAS with probability 10^-6.
//! Because the SAS covers the DTLS fingerprints, and the session checks that the SDP
//! carries exactly the committed certificate, a matching verbal check also proves that the
//! media path (DTLS-SRTP) ends at the person on the other side.

use sha2::{Digest, Sha256};

/// The 64 SAS emoji with their English names (index = 6-bit value).
pub const EMOJI: [(&str, &str); 64] = [
    ("🐶", "dog"),
    ("🐱", "cat"),
    ("🦁", "lion"),
    ("🐎", "horse"),
    ("🦄", "unicorn"),
    ("🐷", "pig"),
    ("🐘", "elephant"),
    ("🐰", "rabbit"),
    ("🐼", "panda"),
    ("🐓", "rooster"),
    ("🐧", "penguin"),
    ("🐢", "turtle"),
    ("🐟", "fish"),
    ("🐙", "octopus"),
    ("🦋", "butterfly"),
    ("🌷", "flower"),
    ("🌳", "tree"),
    ("🌵", "cactus"),
    ("🍄", "mushroom"),
    ("🌏", "globe"),
    ("🌙", "moon"),
    ("☁️", "cloud"),
    ("🔥", "fire"),
    ("🍌", "banana"),
    ("🍎", "apple"),
    ("🍓", "strawberry"),
    ("🌽", "corn"),
    ("🍕", "pizza"),
    ("🎂", "cake"),
    ("❤️", "heart"),
    ("😀", "smiley"),
    ("🤖", "robot"),
    ("🎩", "hat"),
    ("👓", "glasses"),
    ("🔧", "spanner"),
    ("🎅", "santa"),
    ("👍", "thumbs up"),
    ("☂️", "umbrella"),
    ("⌛", "hourglass"),
    ("⏰", "clock"),
    ("🎁", "gift"),
    ("💡", "light bulb"),
    ("📕", "book"),
    ("✏️", "pencil"),
    ("📎", "paperclip"),
    ("✂️", "scissors"),
    ("🔒", "lock"),
    ("🔑", "key"),
    ("🔨", "hammer"),
    ("☎️", "telephone"),
    ("🏁", "flag"),
    ("🚂", "train"),
    ("🚲", "bicycle"),
    ("✈️", "aeroplane"),
    ("🚀", "rocket"),
    ("🏆", "trophy"),
    ("⚽", "ball"),
    ("🎸", "guitar"),
    ("🎺", "trumpet"),
    ("🔔", "bell"),
    ("⚓", "anchor"),
    ("🎧", "headphones"),
    ("📁", "folder"),
    ("📌", "pin"),
];

/// A short authentication string, in the two forms users compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sas {
    digits: u32,
    emoji: [u8; 7],
}

/// One side's SAS inputs: its encoded certificate fingerprint ([`encode_fingerprints`]) and
/// the nonce it committed to.
#[derive(Clone, Copy, Debug)]
pub struct SasInput<'a> {
    /// The encoded fingerprint of the DTLS certificate.
    pub fingerprint: &'a [u8],
    /// The committed nonce.
    pub nonce: &'a [u8; 32],
}

/// The commitment to one side's SAS inputs, sent before the other side reveals its own.
pub fn sas_commitment(input: SasInput<'_>) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"tc2 sas commit")
        .chain_update(len16(input.fingerprint))
        .chain_update(input.fingerprint)
        .chain_update(input.nonce)
        .finalize()
        .into()
}

/// The public value that names one SAS: what a consent ledger records when the SAS is
/// confirmed. Both sides compute the same value; it reveals nothing secret.
pub fn sas_binding(identity: &[u8; 32], lo: SasInput<'_>, hi: SasInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tc2 sas binding");
    h.update(identity);
    for part in input_parts(&lo, &hi, &mut [[0; 2]; 2]) {
        h.update(part);
    }
    h.finalize().into()
}

/// The SAS input as HKDF info parts: both fingerprints with their lengths, then both nonces.
pub(super) fn input_parts<'a>(
    lo: &SasInput<'a>,
    hi: &SasInput<'a>,
    lens: &'a mut [[u8; 2]; 2],
) -> [&'a [u8]; 6] {
    lens[0] = len16(lo.fingerprint);
    lens[1] = len16(hi.fingerprint);
    let [l1, l2] = lens;
    [l1, lo.fingerprint, l2, hi.fingerprint, lo.nonce, hi.nonce]
}

impl Sas {
    /// Derives the SAS of a pair from its `sas_prk` and both participants' revealed inputs,
    /// lower participant id first.
    pub fn derive(sas_prk: &[u8; 32], lo: SasInput<'_>, hi: SasInput<'_>) -> Self {
        let mut out = [0u8; 16];
        let mut lens = [[0; 2]; 2];
        let [a, b, c, d, e, f] = input_parts(&lo, &hi, &mut lens);
        super::expand(sas_prk, &[b"tc2 sas", a, b, c, d, e, f], &mut out);
        let mut d = [0u8; 8];
        d.copy_from_slice(&out[..8]);
        let digits = (u64::from_be_bytes(d) % 1_000_000) as u32;
        let mut bits = [0u8; 8];
        bits[2..].copy_from_slice(&out[8..14]);
        let bits = u64::from_be_bytes(bits);
        let mut emoji = [0u8; 7];
        for (i, e) in emoji.iter_mut().enumerate() {
            *e = ((bits >> (42 - 6 * i)) & 0x3f) as u8;
        }
        Self { digits, emoji }
    }

    /// The tag a participant sends when its user confirms the SAS; the peer recomputes and
    /// compares it in constant time.
    pub fn confirm_tag(
        sas_prk: &[u8; 32],
        confirmer: &[u8; 8],
        lo: SasInput<'_>,
        hi: SasInput<'_>,
    ) -> [u8; 16] {
        let mut out = [0u8; 16];
        let mut lens = [[0; 2]; 2];
        let [a, b, c, d, e, f] = input_parts(&lo, &hi, &mut lens);
        super::expand(
            sas_prk,
            &[b"tc2 sas confirm", confirmer, a, b, c, d, e, f],
            &mut out,
        );
        out
    }

    /// The six-digit form, zero-padded (`"042917"`).
    pub fn digits(&self) -> String {
        format!("{:06}", self.digits)
    }

    /// The emoji form: seven (emoji, name) pairs.
    pub fn emoji(&self) -> [(&'static str, &'static str); 7] {
        self.emoji.map(|i| EMOJI[usize::from(i & 0x3f)])
    }

    /// The seven emoji indices (0–63).
    pub fn emoji_indices(&self) -> [u8; 7] {
        self.emoji
    }
}

fn len16(b: &[u8]) -> [u8; 2] {
    (b.len().min(usize::from(u16::MAX)) as u16).to_be_bytes()
}

/// Canonical encoding of a set of DTLS fingerprints `(hash name, digest)`: names
/// lower-cased, sorted, deduplicated, at most 8 entries, names and digests at most 64 bytes.
pub fn encode_fingerprints(fps: &[(String, Vec<u8>)]) -> Vec<u8> {
    // The 8 smallest distinct entries, in order: the same as collecting, sorting,
    // de-duplicating and truncating to 8, but each entry is binary-searched into a list of at
    // most 8 (O(n) for a hostile SDP's many lines), and the wasm needs no sort code.
    let mut list: Vec<(String, Vec<u8>)> = Vec::new();
    for (n, d) in fps {
        if n.is_empty() || n.len() > 64 || d.is_empty() || d.len() > 64 {
            continue;
        }
        let entry = (n.to_ascii_lowercase(), d.clone());
        if let Err(i) = list.binary_search(&entry) {
            if i < 8 {
                list.insert(i, entry);
                list.truncate(8);
            }
        }
    }
    let mut out = vec![list.len() as u8];
    for (n, d) in list {
        out.push(n.len() as u8);
        out.extend_from_slice(n.as_bytes());
        out.push(d.len() as u8);
        out.extend_from_slice(&d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emoji_table_has_64_distinct_entries() {
        let mut names: Vec<_> = EMOJI.iter().map(|e| e.1).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 64);
    }

    #[test]
    fn every_input_changes_the_sas() {
        let fa = encode_fingerprints(&[("sha-256".into(), vec![1; 32])]);
        let fb = encode_fingerprints(&[("sha-256".into(), vec![2; 32])]);
        let fm = encode_fingerprints(&[("sha-256".into(), vec![3; 32])]);
        let i = |fingerprint, nonce| SasInput { fingerprint, nonce };
        let (na, nb, nm) = ([4; 32], [5; 32], [6; 32]);
        let good = Sas::derive(&[7; 32], i(&fa, &na), i(&fb, &nb));
        assert_eq!(good, Sas::derive(&[7; 32], i(&fa, &na), i(&fb, &nb)));
        assert_ne!(good, Sas::derive(&[7; 32], i(&fa, &na), i(&fm, &nb)));
        assert_ne!(good, Sas::derive(&[7; 32], i(&fa, &na), i(&fb, &nm)));
        assert_ne!(good, Sas::derive(&[8; 32], i(&fa, &na), i(&fb, &nb)));
        assert_eq!(good.digits().len(), 6);
        assert_ne!(sas_commitment(i(&fa, &na)), sas_commitment(i(&fa, &nm)));
        assert_ne!(sas_commitment(i(&fa, &na)), sas_commitment(i(&fm, &na)));
    }

    #[test]
    fn fingerprint_encoding_is_canonical() {
        let a = encode_fingerprints(&[("SHA-256".into(), vec![1]), ("sha-1".into(), vec![2])]);
        let b = encode_fingerprints(&[
            ("sha-1".into(), vec![2]),
            ("sha-256".into(), vec![1]),
            ("sha-1".into(), vec![2]),
        ]);
        assert_eq!(a, b);
        assert_eq!(a[0], 2);
    }

    /// The bounded insertion keeps exactly what sort + dedup + truncate(8) kept.
    #[test]
    fn fingerprint_encoding_matches_sort_dedup_truncate() {
        let reference = |fps: &[(String, Vec<u8>)]| {
            let mut list: Vec<(String, Vec<u8>)> = fps
                .iter()
                .filter(|(n, d)| !n.is_empty() && n.len() <= 64 && !d.is_empty() && d.len() <= 64)
                .map(|(n, d)| (n.to_ascii_lowercase(), d.clone()))
                .collect();
            list.sort();
            list.dedup();
            list.truncate(8);
            let mut out = vec![list.len() as u8];
            for (n, d) in list {
                out.push(n.len() as u8);
                out.extend_from_slice(n.as_bytes());
                out.push(d.len() as u8);
                out.extend_from_slice(&d);
            }
            out
        };
        let names = ["sha-256", "SHA-256", "sha-1", "sha-512", "", "x"];
        let mut x: u32 = 3;
        for len in 0..60 {
            let fps: Vec<(String, Vec<u8>)> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let name = names[(x >> 16) as usize % names.len()].to_owned();
                    let digest = vec![((x >> 8) % 7) as u8; ((x >> 4) % 3) as usize];
                    (name, digest)
                })
                .collect();
            assert_eq!(encode_fingerprints(&fps), reference(&fps));
        }
    }
}
