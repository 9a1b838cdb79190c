//! A stable 64-bit hasher for trace hashes: the same input gives the same hash in every process.

use std::hash::{BuildHasher, Hash, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

/// A fast, fixed-key hasher (FxHash-style word mixing with a final avalanche).
///
/// Unlike `std`'s `RandomState`, it has no per-process key, so hashes are reproducible.
///
/// ```
/// use sim_core::hash::StableHasher;
/// use std::hash::{Hash, Hasher};
/// let mut a = StableHasher::default();
/// (1u32, "x").hash(&mut a);
/// let mut b = StableHasher::default();
/// (1u32, "x").hash(&mut b);
/// assert_eq!(a.finish(), b.finish());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct StableHasher {
    h: u64,
}

impl StableHasher {
    /// The accumulated state before `finish`'s avalanche: for tables whose keys are already
    /// well mixed, where the avalanche is wasted work (the checkers' memo tables).
    #[inline]
    pub fn unmixed(&self) -> u64 {
        self.h
    }

    #[inline]
    fn add(&mut self, w: u64) {
        self.h = (self.h.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for StableHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        crate::rng::splitmix64(self.h)
    }
}

/// Builds [`StableHasher`]s: use it for `HashMap`s whose iteration order must be reproducible.
#[derive(Clone, Copy, Debug, Default)]
pub struct StableState;

impl BuildHasher for StableState {
    type Hasher = StableHasher;
    fn build_hasher(&self) -> StableHasher {
        StableHasher::default()
    }
}

/// The stable hash of one value.
pub fn stable_hash<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = StableHasher::default();
    v.hash(&mut h);
    h.finish()
}
