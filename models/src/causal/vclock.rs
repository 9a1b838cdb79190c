//! Version vectors: how many writes of each origin replica a replica has applied.

use std::collections::BTreeMap;

use sim_core::NodeId;

/// For each origin replica, the number of its writes applied (writes of one origin are applied
/// in their origin's order, so a count says exactly which ones). Missing entries are zero.
///
/// ```
/// use models::causal::VClock;
/// use sim_core::NodeId;
/// let mut a = VClock::default();
/// a.set(NodeId(0), 2);
/// let mut b = a.clone();
/// b.set(NodeId(1), 1);
/// assert!(a.le(&b) && !b.le(&a));
/// assert_eq!(b.get(NodeId(2)), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VClock(BTreeMap<NodeId, u64>);

impl VClock {
    /// The count of `origin`'s writes.
    pub fn get(&self, origin: NodeId) -> u64 {
        self.0.get(&origin).copied().unwrap_or(0)
    }

    /// Sets the count of `origin`'s writes.
    pub fn set(&mut self, origin: NodeId, count: u64) {
        if count == 0 {
            self.0.remove(&origin);
        } else {
            self.0.insert(origin, count);
        }
    }

    /// True if every entry of `self` is at most the same entry of `other` (`self` happened
    /// before or equals `other`).
    pub fn le(&self, other: &VClock) -> bool {
        self.0.iter().all(|(&o, &n)| n <= other.get(o))
    }

    /// The non-zero entries, in origin order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, u64)> + '_ {
        self.0.iter().map(|(&o, &n)| (o, n))
    }
}

impl FromIterator<(NodeId, u64)> for VClock {
    fn from_iter<I: IntoIterator<Item = (NodeId, u64)>>(iter: I) -> Self {
        let mut v = VClock::default();
        for (o, n) in iter {
            v.set(o, n);
        }
        v
    }
}
