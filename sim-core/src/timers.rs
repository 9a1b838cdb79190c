//! The tags of one actor incarnation's pending timers.

use std::collections::VecDeque;

use crate::env::TimerId;

/// Pending timers of one incarnation, by id, with the tag each delivers when it fires.
///
/// Timer ids come from one counter per simulation, so a node's new timer has the largest id
/// yet and goes at the back; timers mostly fire in the order they were set, so the one that
/// fires is mostly at the front. Both are O(1) then, and a lookup is a binary search.
#[derive(Debug)]
pub(crate) struct PendingTimers<T> {
    /// Sorted by id.
    timers: VecDeque<(TimerId, T)>,
}

impl<T> Default for PendingTimers<T> {
    fn default() -> Self {
        PendingTimers {
            timers: VecDeque::new(),
        }
    }
}

impl<T> PendingTimers<T> {
    /// Records a new pending timer (replacing the tag if `id` is pending already).
    #[inline]
    pub(crate) fn insert(&mut self, id: TimerId, tag: T) {
        match self.timers.back() {
            Some(&(last, _)) if last >= id => match self.find(id) {
                Ok(i) => self.timers[i].1 = tag,
                Err(i) => self.timers.insert(i, (id, tag)),
            },
            _ => self.timers.push_back((id, tag)),
        }
    }

    /// Removes a pending timer and returns its tag; `None` if it is not pending (fired,
    /// cancelled, or set by another incarnation).
    #[inline]
    pub(crate) fn remove(&mut self, id: TimerId) -> Option<T> {
        match self.timers.front() {
            Some(&(first, _)) if first == id => self.timers.pop_front().map(|(_, tag)| tag),
            _ => {
                let i = self.find(id).ok()?;
                self.timers.remove(i).map(|(_, tag)| tag)
            }
        }
    }

    /// Forgets every pending timer.
    pub(crate) fn clear(&mut self) {
        self.timers.clear();
    }

    fn find(&self, id: TimerId) -> Result<usize, usize> {
        self.timers.binary_search_by_key(&id, |&(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Behaves as a map whatever the order of inserts and removes.
    #[test]
    fn matches_a_map() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut t = PendingTimers::default();
        let mut reference = BTreeMap::new();
        let mut next = 0u64;
        for step in 0..20_000u64 {
            match rand() % 5 {
                // Mostly new timers with the largest id yet, as in a simulation.
                0 | 1 => {
                    let id = if rand() % 8 == 0 {
                        TimerId(rand() % (next + 1))
                    } else {
                        next += 1 + rand() % 3;
                        TimerId(next)
                    };
                    t.insert(id, step);
                    reference.insert(id, step);
                }
                2 => {
                    let id = reference.keys().next().copied().unwrap_or(TimerId(0));
                    assert_eq!(t.remove(id), reference.remove(&id));
                }
                _ => {
                    let id = TimerId(rand() % (next + 2));
                    assert_eq!(t.remove(id), reference.remove(&id));
                }
            }
            assert_eq!(t.timers.len(), reference.len());
        }
        t.clear();
        assert_eq!(t.remove(TimerId(next)), None);
    }
}
