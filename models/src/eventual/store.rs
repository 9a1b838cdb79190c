//! The eventual protocol's store: a last-writer-wins map from keys to stamped values.

use std::collections::BTreeMap;
use std::time::Duration;

use sim_core::{NodeId, SimTime};

use crate::op::{Key, Value};

/// A write's last-writer-wins timestamp: the origin replica's local clock reading when it
/// accepted the write, then the replica's id to break ties. Greater wins.
///
/// ```
/// use models::eventual::Stamp;
/// use sim_core::{NodeId, SimTime};
/// let early = Stamp { time: SimTime::from_millis(5), replica: NodeId(4) };
/// let late = Stamp { time: SimTime::from_millis(6), replica: NodeId(0) };
/// assert!(late > early);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// The origin replica's local (possibly skewed) clock when it accepted the write.
    pub time: SimTime,
    /// The origin replica.
    pub replica: NodeId,
}

/// A value together with the stamp of the write that put it there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Versioned {
    /// The value written.
    pub value: Value,
    /// Its last-writer-wins stamp.
    pub stamp: Stamp,
}

/// For each key, the stamp of the version a replica holds: what anti-entropy compares.
pub type Digest = BTreeMap<Key, Stamp>;

/// A replica's state, kept in `Durable` storage (it survives crashes, like a file on disk).
///
/// ```
/// use models::eventual::Store;
/// use models::op::Value;
/// use sim_core::{NodeId, SimTime};
/// let mut s = Store::default();
/// let stamp = s.next_stamp(SimTime::from_millis(10), NodeId(1));
/// assert!(s.merge(0.into(), Value::Int(7), stamp));
/// assert_eq!(s.get(&0.into()), Value::Int(7));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Store {
    entries: BTreeMap<Key, Versioned>,
    /// The last stamp time this replica issued: a replica never issues one twice.
    last_issued: SimTime,
}

impl Store {
    /// The value of `key` (nil if it was never written).
    pub fn get(&self, key: &Key) -> Value {
        self.entries
            .get(key)
            .map_or(Value::Nil, |v| v.value.clone())
    }

    /// A fresh stamp for a write accepted now by `me`: the local clock `now`, moved just past the
    /// last stamp `me` issued if the clock did not advance (or was set back). It is *not* moved
    /// past stamps of other replicas: a replica whose clock lags loses to older writes of a
    /// replica whose clock runs ahead.
    pub fn next_stamp(&mut self, now: SimTime, me: NodeId) -> Stamp {
        let time = now.max(self.last_issued + Duration::from_nanos(1));
        self.last_issued = time;
        Stamp { time, replica: me }
    }

    /// Keeps `value` for `key` if `stamp` beats the version held. Returns whether it did.
    pub fn merge(&mut self, key: Key, value: Value, stamp: Stamp) -> bool {
        match self.entries.get(&key) {
            Some(held) if held.stamp >= stamp => false,
            _ => {
                self.entries.insert(key, Versioned { value, stamp });
                true
            }
        }
    }

    /// The stamp of every key held.
    pub fn digest(&self) -> Digest {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), v.stamp))
            .collect()
    }

    /// The versions held here that beat what `theirs` says the peer holds.
    pub fn newer_than(&self, theirs: &Digest) -> Vec<(Key, Versioned)> {
        self.entries
            .iter()
            .filter(|(k, v)| match theirs.get(*k) {
                Some(s) => v.stamp > *s,
                None => true,
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The keys for which the peer holds a version that beats ours.
    pub fn older_than(&self, theirs: &Digest) -> Vec<Key> {
        theirs
            .iter()
            .filter(|(k, s)| match self.entries.get(*k) {
                Some(v) => v.stamp < **s,
                None => true,
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The versions of `keys` held here.
    pub fn versions(&self, keys: &[Key]) -> Vec<(Key, Versioned)> {
        keys.iter()
            .filter_map(|k| self.entries.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }

    /// Every key and its version, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Versioned)> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(ms: u64, r: u32) -> Stamp {
        Stamp {
            time: SimTime::from_millis(ms),
            replica: NodeId(r),
        }
    }

    #[test]
    fn later_stamp_wins_and_ties_break_by_replica() {
        let mut s = Store::default();
        let k = Key::from(0);
        assert!(s.merge(k.clone(), Value::Int(1), stamp(10, 2)));
        assert!(!s.merge(k.clone(), Value::Int(2), stamp(9, 4)));
        assert!(!s.merge(k.clone(), Value::Int(3), stamp(10, 1)));
        assert!(s.merge(k.clone(), Value::Int(4), stamp(10, 3)));
        assert_eq!(s.get(&k), Value::Int(4));
        // Merging is idempotent.
        assert!(!s.merge(k.clone(), Value::Int(4), stamp(10, 3)));
    }

    #[test]
    fn stamps_of_one_replica_strictly_increase() {
        let mut s = Store::default();
        let a = s.next_stamp(SimTime::from_millis(5), NodeId(0));
        let b = s.next_stamp(SimTime::from_millis(5), NodeId(0));
        let c = s.next_stamp(SimTime::from_millis(1), NodeId(0));
        assert!(a < b && b < c);
    }

    #[test]
    fn digests_find_both_directions_of_difference() {
        let mut a = Store::default();
        let mut b = Store::default();
        a.merge(0.into(), Value::Int(1), stamp(1, 0));
        a.merge(1.into(), Value::Int(2), stamp(5, 0));
        b.merge(1.into(), Value::Int(3), stamp(4, 1));
        b.merge(2.into(), Value::Int(4), stamp(4, 1));
        let newer: Vec<Key> = a.newer_than(&b.digest()).into_iter().map(|e| e.0).collect();
        assert_eq!(newer, vec![Key::from(0), Key::from(1)]);
        assert_eq!(a.older_than(&b.digest()), vec![Key::from(2)]);
    }
}
