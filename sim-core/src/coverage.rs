//! Coverage: which protocol-visible states a run reached, and when it first reached each.
//!
//! Two sources feed it, both cheap and both off unless the simulation turns coverage on
//! ([`Sim::enable_coverage`](crate::Sim::enable_coverage)):
//!
//! - **message-kind edges**, automatic: for every delivery and timer at a node, the pair (the
//!   kind of the node's previous event, the kind of this one), with AFL-style hit-count buckets
//!   (1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+ times) so that "three elections in a row" is new
//!   when only "one" was seen. A message's kind is what the simulation's kind function says
//!   (for a protocol's messages: the enum variant);
//! - **points the protocol reports**, with [`Env::cover`](crate::Env::cover): a state
//!   abstraction of its own choosing (`env.cover(&(role, "stepped down"))`), with the same
//!   hit-count buckets.
//!
//! Points are hashed into a 64K map, so a run's coverage is a short list of point indices in
//! the order they were first hit, each with its virtual time: what coverage-guided exploration
//! needs to keep a run that did something new and to branch new runs just before that moment.
//!
//! ```
//! use sim_core::coverage::Coverage;
//! use sim_core::SimTime;
//! let mut c = Coverage::default();
//! c.hit(42, SimTime::from_millis(5));
//! c.hit(42, SimTime::from_millis(9)); // seen already
//! assert_eq!(c.points().len(), 1);
//! assert_eq!(c.points()[0].1, SimTime::from_millis(5));
//! ```

use crate::hash::stable_hash;
use crate::time::SimTime;

/// How many distinct points the map tells apart (points are hashed into it).
pub const MAP_SIZE: usize = 1 << 16;

/// The kind recorded for a timer firing.
const TIMER: u64 = 0x7469_6d65_7200_0001;
/// The kind recorded for a restart (a fresh incarnation).
const RESTART: u64 = 0x7265_7374_6172_7401;

/// The points one run hit, in first-hit order, each with its virtual time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    points: Vec<(u16, SimTime)>,
    seen: Vec<u64>,
}

impl Coverage {
    /// Records point `point` (any hash) at `now`; only its first hit is kept.
    pub fn hit(&mut self, point: u64, now: SimTime) {
        if self.seen.is_empty() {
            self.seen = vec![0; MAP_SIZE / 64];
        }
        let i = (point >> 48) as u16;
        let (word, bit) = (usize::from(i) / 64, 1u64 << (i % 64));
        if self.seen[word] & bit == 0 {
            self.seen[word] |= bit;
            self.points.push((i, now));
        }
    }

    /// Every point hit (its index in the map) with the virtual time of its first hit, in the
    /// order they were first hit.
    pub fn points(&self) -> &[(u16, SimTime)] {
        &self.points
    }
}

/// A run's coverage while it runs: the map, each node's last event kind, and edge counts.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) coverage: Coverage,
    last: Vec<u64>,
    counts: Vec<u8>,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Recorder {
            coverage: Coverage::default(),
            last: Vec::new(),
            counts: vec![0; MAP_SIZE],
        }
    }

    /// A node's event of kind `kind` at `now`: its edge from the node's previous kind.
    pub(crate) fn event(&mut self, node: usize, kind: u64, now: SimTime) {
        if self.last.len() <= node {
            self.last.resize(node + 1, 0);
        }
        let edge = stable_hash(&(self.last[node], kind));
        self.last[node] = kind;
        self.count(edge, now);
    }

    /// A timer fired at `node`.
    pub(crate) fn timer(&mut self, node: usize, now: SimTime) {
        self.event(node, TIMER, now);
    }

    /// `node` restarted: its next event's edge starts from the restart.
    pub(crate) fn restart(&mut self, node: usize) {
        if self.last.len() <= node {
            self.last.resize(node + 1, 0);
        }
        self.last[node] = RESTART;
    }

    /// A point the protocol reported, with the same hit-count buckets as edges (a run that
    /// reaches a state three times is new where one that reached it once was seen).
    pub(crate) fn point(&mut self, point: u64, now: SimTime) {
        self.count(stable_hash(&("cover", point)), now);
    }

    fn count(&mut self, key: u64, now: SimTime) {
        let slot = &mut self.counts[(key >> 48) as usize];
        *slot = slot.saturating_add(1);
        if let Some(bucket) = bucket_start(*slot) {
            self.coverage.hit(stable_hash(&(key, bucket)), now);
        }
    }
}

/// The bucket a hit count starts, if it starts one (AFL's buckets).
fn bucket_start(count: u8) -> Option<u8> {
    matches!(count, 1 | 2 | 3 | 4 | 8 | 16 | 32 | 128).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_is_new_again_when_its_count_reaches_a_new_bucket() {
        let mut r = Recorder::new();
        let t = SimTime::ZERO;
        r.event(0, 1, t);
        let one = r.coverage.points().len();
        r.event(0, 1, t); // the edge (1, 1), first time
        r.event(0, 1, t); // (1, 1) twice: a new bucket
        r.event(0, 1, t); // three times: another
        assert_eq!(r.coverage.points().len(), one + 3);
        for _ in 0..3 {
            r.event(0, 1, t); // 4, 5, 6 times: 4 starts a bucket, 5 and 6 do not
        }
        assert_eq!(r.coverage.points().len(), one + 4);
    }

    #[test]
    fn nodes_keep_their_own_last_kind() {
        let mut a = Recorder::new();
        a.event(0, 1, SimTime::ZERO);
        a.event(1, 2, SimTime::ZERO);
        a.event(0, 3, SimTime::ZERO); // edge (1, 3), not (2, 3)
        let mut b = Recorder::new();
        b.event(0, 1, SimTime::ZERO);
        b.event(0, 3, SimTime::ZERO);
        b.event(1, 2, SimTime::ZERO);
        let set = |r: &Recorder| {
            let mut v: Vec<u16> = r.coverage.points().iter().map(|p| p.0).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(set(&a), set(&b));
    }
}
