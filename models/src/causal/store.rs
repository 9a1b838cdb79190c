//! The causal protocol's durable state: every applied write, per origin, and the visible values.

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::message::Write;
use super::vclock::VClock;
use crate::op::{Key, Value};

/// The visible version of a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Version {
    value: Value,
    order: (u64, NodeId),
}

/// A replica's state, kept in `Durable` storage: a restarted replica still serves every write
/// it applied and never reuses one of its own sequence numbers.
///
/// ```
/// use models::causal::Store;
/// use models::op::Value;
/// use sim_core::NodeId;
/// let mut s = Store::default();
/// let w = s.write_local(NodeId(0), 3.into(), Value::Int(9));
/// assert_eq!((w.seq, w.lamport), (1, 1));
/// assert_eq!(s.get(&3.into()), Value::Int(9));
/// assert_eq!(s.applied().get(NodeId(0)), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Lamport clock: at least the timestamp of every write applied or seen here.
    lamport: u64,
    /// Every applied write, per origin, in origin order (`log[o][i].seq == i + 1`).
    log: BTreeMap<NodeId, Vec<Write>>,
    /// The visible value of each key: the applied write with the greatest `(lamport, origin)`.
    values: BTreeMap<Key, Version>,
}

impl Store {
    /// The visible value of `key` (nil if never written).
    pub fn get(&self, key: &Key) -> Value {
        self.values.get(key).map_or(Value::Nil, |v| v.value.clone())
    }

    /// How many of `origin`'s writes are applied here.
    pub fn count(&self, origin: NodeId) -> u64 {
        self.log.get(&origin).map_or(0, |l| l.len() as u64)
    }

    /// The version vector of applied writes.
    pub fn applied(&self) -> VClock {
        self.log.iter().map(|(&o, l)| (o, l.len() as u64)).collect()
    }

    /// Accepts a client's write at `me`: the next sequence number of `me`, a Lamport timestamp
    /// above everything applied here, and everything applied here as its dependencies. It is
    /// applied (visible) at once; the caller replicates the returned write.
    pub fn write_local(&mut self, me: NodeId, key: Key, value: Value) -> Write {
        self.lamport += 1;
        let w = Write {
            origin: me,
            seq: self.count(me) + 1,
            lamport: self.lamport,
            key,
            value,
            deps: self.applied(),
        };
        self.apply(w.clone());
        w
    }

    /// True if `w` is applied here already (a duplicate).
    pub fn has(&self, w: &Write) -> bool {
        w.seq <= self.count(w.origin)
    }

    /// True if `w` can be applied now: it is its origin's next write here, and every write it
    /// depends on is applied.
    pub fn is_ready(&self, w: &Write) -> bool {
        self.count(w.origin) + 1 == w.seq && w.deps.iter().all(|(o, n)| self.count(o) >= n)
    }

    /// True if `w` is its origin's next write here: its direct dependency is applied (what the
    /// planted bug `direct-deps-only` checks instead of [`Store::is_ready`]).
    pub fn is_next_of_origin(&self, w: &Write) -> bool {
        self.count(w.origin) + 1 == w.seq
    }

    /// Applies `w` once its origin's previous write is applied, whatever else it depends on:
    /// only the planted bug `direct-deps-only` calls it.
    pub fn apply_direct(&mut self, w: Write) {
        debug_assert!(
            self.is_next_of_origin(&w),
            "applying {w:?} out of origin order"
        );
        self.reveal(&w);
        self.log.entry(w.origin).or_default().push(w);
    }

    /// Applies a ready write: logs it and makes it visible unless a greater version of its key
    /// is visible already.
    pub fn apply(&mut self, w: Write) {
        debug_assert!(self.is_ready(&w), "applying {w:?} out of causal order");
        self.reveal(&w);
        self.log.entry(w.origin).or_default().push(w);
    }

    /// Makes `w`'s value visible if it beats the key's visible version, without logging it.
    /// Used by [`Store::apply`]; on its own (out of causal order) only by the planted bug.
    pub fn reveal(&mut self, w: &Write) {
        self.lamport = self.lamport.max(w.lamport);
        let newer = match self.values.get(&w.key) {
            Some(held) => held.order < w.order(),
            None => true,
        };
        if newer {
            self.values.insert(
                w.key.clone(),
                Version {
                    value: w.value.clone(),
                    order: w.order(),
                },
            );
        }
    }

    /// Up to `limit` writes applied here that are not in `have`, in Lamport order (so each comes
    /// after the writes it depends on, and any prefix can be applied by a replica at `have`).
    pub fn missing(&self, have: &VClock, limit: usize) -> Vec<Write> {
        let mut out: Vec<&Write> = self
            .log
            .iter()
            .flat_map(|(&o, l)| {
                let from = usize::try_from(have.get(o)).unwrap_or(usize::MAX);
                l.get(from..).unwrap_or(&[])
            })
            .collect();
        out.sort_by_key(|w| w.order());
        out.into_iter().take(limit).cloned().collect()
    }

    /// Every applied write, origin by origin, each origin's in order.
    pub fn writes(&self) -> impl Iterator<Item = &Write> {
        self.log.values().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_write_waits_for_its_dependencies() {
        let (a, b) = (NodeId(0), NodeId(1));
        let mut at_a = Store::default();
        let w1 = at_a.write_local(a, 0.into(), Value::Int(1));
        let w2 = at_a.write_local(a, 1.into(), Value::Int(2));
        let mut at_b = Store::default();
        assert!(!at_b.is_ready(&w2));
        assert!(at_b.is_ready(&w1));
        at_b.apply(w1.clone());
        assert!(at_b.has(&w1) && at_b.is_ready(&w2));
        // A write of b after seeing w1 depends on it and beats it.
        let w3 = at_b.write_local(b, 0.into(), Value::Int(3));
        assert_eq!(w3.deps.get(a), 1);
        assert!(w3.lamport > w1.lamport);
        assert_eq!(at_a.missing(&at_b.applied(), 10), vec![w2.clone()]);
        at_a.apply(w3);
        assert_eq!(at_a.get(&0.into()), Value::Int(3));
    }

    #[test]
    fn concurrent_writes_converge_by_lamport_then_origin() {
        let (a, b) = (NodeId(0), NodeId(1));
        let mut sa = Store::default();
        let mut sb = Store::default();
        let wa = sa.write_local(a, 0.into(), Value::Int(10));
        let wb = sb.write_local(b, 0.into(), Value::Int(20));
        sa.apply(wb);
        sb.apply(wa);
        assert_eq!(sa.get(&0.into()), Value::Int(20));
        assert_eq!(sb.get(&0.into()), Value::Int(20));
    }
}
