//! The checkers' hasher for their hot tables: Fx word mixing *without* a final avalanche.
//!
//! Everything else hashes with [`sim_core::hash::StableHasher`] (the same word mixing plus a
//! SplitMix64 avalanche in `finish`); Zobrist keys come from [`sim_core::hash::stable_hash`].
//! This second hasher exists for one reason: the checkers hash small integer keys (a model
//! state, mixed into an already uniform Zobrist hash of the linearized set; interned value ids)
//! millions of times per search, and the avalanche they do not need costs 5–7% of all
//! instructions there (callgrind: etcd_002 227 M vs 240 M, kv c50-ok 244 M vs 260 M).
//! Like `StableHasher` it is deterministic; it is not DoS-resistant.
//!
//! ```
//! use models::check::hash::FxBuild;
//! use std::collections::HashMap;
//! let mut m: HashMap<u64, u32, FxBuild> = HashMap::default();
//! m.insert(1, 2);
//! assert_eq!(m[&1], 2);
//! ```

use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hash (from rustc): one multiply and rotate per word, no finalization.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

/// The same multiplier as `StableHasher`.
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
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
        self.hash
    }
}

/// `BuildHasher` for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// Hashes one value with [`FxHasher`].
pub fn fx_hash<T: std::hash::Hash + ?Sized>(v: &T) -> u64 {
    let mut h = FxHasher::default();
    v.hash(&mut h);
    h.finish()
}
