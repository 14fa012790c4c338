//! A deterministic random bit generator over HKDF-SHA256.
//!
//! The SDK never reads a random source itself: the driver passes 32 bytes of entropy at
//! construction (and may add more at any time); every ephemeral key, salt and nonce the
//! protocol needs is expanded from it. After every output the state ratchets forward, so
//! that a later compromise of the state does not reveal earlier outputs.
//!
//! ```text
//! out   = HKDF-Expand(K, "tc1 drbg out"  || u64(counter), n)
//! K'    = HKDF-Expand(K, "tc1 drbg next" || u64(counter), 32);  counter += 1
//! reseed: K' = HKDF-Extract(salt = K, IKM = entropy)
//! ```

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The generator. Wiped on drop, never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Drbg {
    key: [u8; 32],
    counter: u64,
}

impl Drbg {
    /// Seeds the generator with (at least) 32 bytes of real entropy.
    pub fn new(seed: [u8; 32]) -> Self {
        let mut seed = seed;
        let key = super::extract(b"tc1 drbg", &seed);
        seed.zeroize();
        Self { key, counter: 0 }
    }

    /// Mixes more entropy into the state.
    pub fn reseed(&mut self, entropy: &[u8]) {
        self.key = super::extract(&self.key, entropy);
    }

    /// Fills `out` with pseudo-random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(255 * 32) {
            let c = self.counter.to_be_bytes();
            super::expand(&self.key, &[b"tc1 drbg out", &c], chunk);
            let mut next = [0u8; 32];
            super::expand(&self.key, &[b"tc1 drbg next", &c], &mut next);
            self.key = next;
            next.zeroize();
            self.counter = self.counter.wrapping_add(1);
        }
    }

    /// `N` pseudo-random bytes.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        self.fill(&mut a);
        a
    }
}

impl fmt::Debug for Drbg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Drbg(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_outputs_differ() {
        let mut a = Drbg::new([1; 32]);
        let mut b = Drbg::new([1; 32]);
        let x: [u8; 32] = a.array();
        assert_eq!(x, b.array::<32>());
        assert_ne!(x, a.array::<32>());
        b.reseed(b"more");
        assert_ne!(a.array::<32>(), b.array::<32>());
        let mut big = vec![0u8; 10_000];
        a.fill(&mut big);
        assert!(big[9000..].iter().any(|&v| v != 0));
    }
}
