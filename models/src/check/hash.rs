//! The checkers' hasher for their hot tables: `StableHasher`'s word mixing *without* its final
//! avalanche.
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

use sim_core::hash::StableHasher;

/// [`StableHasher`]'s word mixing, finished without its avalanche.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(StableHasher);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0.unmixed()
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
