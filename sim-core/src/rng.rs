//! Seeded randomness: one master seed derives an independent `Pcg64` stream per purpose.
//!
//! Streams are derived from `(seed, purpose)` only, so adding a node, or drawing more numbers in
//! one stream, never changes the draws of another stream.

use rand_pcg::Pcg64;

/// What a random stream is for.
///
/// ```
/// use sim_core::rng::{stream, Purpose};
/// use rand::Rng;
/// let a: u64 = stream(7, Purpose::Network).random();
/// let b: u64 = stream(7, Purpose::Network).random();
/// let c: u64 = stream(7, Purpose::Workload).random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Network fates: latency, loss, duplication.
    Network,
    /// Fault schedules generated from the seed.
    Nemesis,
    /// Client workloads.
    Workload,
    /// The stream a node sees through `Env::rng` (index of the node).
    Node(u32),
    /// Anything else a harness needs, by number.
    Custom(u64),
}

impl Purpose {
    fn tag(self) -> u64 {
        match self {
            Purpose::Network => 1,
            Purpose::Nemesis => 2,
            Purpose::Workload => 3,
            Purpose::Node(i) => 0x1_0000_0000 | u64::from(i),
            Purpose::Custom(n) => 0x2_0000_0000_0000u64.wrapping_add(n),
        }
    }
}

/// SplitMix64 finaliser: a bijective mix used to spread seeds.
/// A stream keyed by `key` (an identity's hash), cheap to make per message: both halves of the
/// PCG state are well-mixed functions of the key, so nearby keys give independent streams.
///
/// ```
/// use rand::Rng;
/// let (mut a, mut b) = (sim_core::rng::keyed(1), sim_core::rng::keyed(2));
/// assert_ne!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn keyed(key: u64) -> Pcg64 {
    let hi = splitmix64(key);
    let lo = splitmix64(hi ^ 0x9e37_79b9_7f4a_7c15);
    Pcg64::new(u128::from(hi) << 64 | u128::from(lo), 0xa02b_dbf7_bb3c_0a7f)
}

/// The splitmix64 finaliser.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of node `node`'s keyed draws (`Env::rng_for`) under master seed `seed`: the same
/// in simulation and live mode, independent of every stream.
///
/// ```
/// assert_ne!(sim_core::rng::node_key_seed(7, 0), sim_core::rng::node_key_seed(7, 1));
/// ```
pub fn node_key_seed(seed: u64, node: u32) -> u64 {
    splitmix64(seed ^ splitmix64(0x6b65_7965_6400_0000 | u64::from(node)))
}

/// The random stream for `purpose` under master seed `seed`.
pub fn stream(seed: u64, purpose: Purpose) -> Pcg64 {
    let tag = purpose.tag();
    let a = splitmix64(seed ^ splitmix64(tag));
    let b = splitmix64(a ^ 0x5851_f42d_4c95_7f2d);
    let c = splitmix64(tag.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ seed.rotate_left(17));
    let state = (u128::from(a) << 64) | u128::from(b);
    let inc = (u128::from(c) << 64) | u128::from(splitmix64(c));
    Pcg64::new(state, inc)
}
