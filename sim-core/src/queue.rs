//! The event queue: events ordered by (virtual time, insertion sequence).
//!
//! The heap holds one `u128` per event — (time, sequence, slot) packed so that integer order is
//! event order — and payloads live in a slab, so heap operations move 16 bytes whatever the
//! message type. Up to 2^24 events may be pending at once and 2^40 pushed in one run.
//!
//! Most events are scheduled a few milliseconds ahead, so keys are first kept in a small
//! calendar: 64 buckets of 2^19 ns (about 0.5 ms) each, covering the 64 "epochs" (time >> 19)
//! from that of the last popped event on (a window of about 33 ms). A bucket holds the keys of
//! a single epoch, sorted (smallest last), and a bitmap says which buckets are non-empty, so
//! push is a short sorted insert and pop a bit scan plus a `Vec::pop`. Keys outside the window
//! (far future, or earlier than the last pop when the queue is used directly) and keys of
//! crowded buckets go to a binary heap; pop takes the smaller of the two minima, so the order
//! is exact whatever goes where.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::SimTime;

/// Slots are numbered in the low bits of a heap key, below the insertion sequence, so a key
/// is one `u128` ordered exactly by (time, sequence).
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// log2 of a calendar bucket's width in nanoseconds.
const EPOCH_SHIFT: u32 = 19;
/// Number of calendar buckets (one bit each in a `u64`).
const BUCKETS: u64 = 64;
/// A bucket holding this many keys sends further keys to the heap (inserts stay short).
const BUCKET_CAP: usize = 32;

#[inline]
fn epoch(k: u128) -> u64 {
    ((k >> 64) as u64) >> EPOCH_SHIFT
}

#[inline]
fn key(time: u64, seq: u64, slot: u32) -> u128 {
    (u128::from(time) << 64) | u128::from((seq << SLOT_BITS) | u64::from(slot))
}

/// A priority queue of events, FIFO among events at the same time.
///
/// ```
/// use sim_core::queue::EventQueue;
/// use sim_core::SimTime;
/// let mut q = EventQueue::new();
/// q.push(SimTime::from_nanos(5), "b");
/// q.push(SimTime::from_nanos(1), "a");
/// q.push(SimTime::from_nanos(5), "c");
/// assert_eq!(q.pop(), Some((SimTime::from_nanos(1), "a")));
/// assert_eq!(q.pop(), Some((SimTime::from_nanos(5), "b")));
/// assert_eq!(q.pop(), Some((SimTime::from_nanos(5), "c")));
/// assert_eq!(q.pop(), None);
/// ```
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Calendar buckets, indexed by epoch modulo [`BUCKETS`]; each sorted descending.
    buckets: Vec<Vec<u128>>,
    /// Bit `i` set iff `buckets[i]` is non-empty.
    occupied: u64,
    /// Every key in `buckets` has an epoch in `base..base + BUCKETS`.
    base: u64,
    /// Keys not in the calendar.
    heap: BinaryHeap<Reverse<u128>>,
    len: usize,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            base: 0,
            heap: BinaryHeap::new(),
            len: 0,
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time`, after every event already scheduled at that time.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(event);
                s
            }
            None => {
                assert!(
                    (self.slab.len() as u64) < SLOT_MASK,
                    "actsim: more than {SLOT_MASK} events pending at once (runaway message amplification?)"
                );
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        self.push_key(key(time.as_nanos(), self.seq, slot));
        self.seq += 1;
    }

    #[inline]
    fn push_key(&mut self, k: u128) {
        self.len += 1;
        let e = epoch(k);
        if e.wrapping_sub(self.base) < BUCKETS {
            let i = (e % BUCKETS) as usize;
            let b = &mut self.buckets[i];
            if b.len() < BUCKET_CAP {
                // Descending order: find the first key smaller than k, from the end.
                let mut pos = b.len();
                while pos > 0 && b[pos - 1] < k {
                    pos -= 1;
                }
                b.insert(pos, k);
                self.occupied |= 1 << i;
                return;
            }
        }
        self.heap.push(Reverse(k));
    }

    /// The smallest calendar key and its bucket.
    #[inline]
    fn calendar_min(&self) -> Option<(usize, u128)> {
        if self.occupied == 0 {
            return None;
        }
        let start = (self.base % BUCKETS) as u32;
        let off = self.occupied.rotate_right(start).trailing_zeros();
        let i = ((start + off) % BUCKETS as u32) as usize;
        self.buckets[i].last().map(|&k| (i, k))
    }

    #[inline]
    fn pop_key(&mut self) -> Option<u128> {
        let k = match (self.calendar_min(), self.heap.peek()) {
            (Some((_, ck)), Some(&Reverse(hk))) if hk < ck => self.heap.pop()?.0,
            (Some((i, ck)), _) => {
                let b = &mut self.buckets[i];
                b.pop();
                if b.is_empty() {
                    self.occupied &= !(1 << i);
                }
                ck
            }
            (None, Some(_)) => self.heap.pop()?.0,
            (None, None) => return None,
        };
        self.len -= 1;
        // k is the smallest key: every calendar key's epoch is at least epoch(k), so the window
        // may start there.
        self.base = self.base.max(epoch(k));
        Some(k)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let k = self.pop_key()?;
        let slot = (k as u64 & SLOT_MASK) as u32;
        let event = self.slab[slot as usize].take()?;
        self.free.push(slot);
        Some((SimTime::from_nanos((k >> 64) as u64), event))
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        let c = self.calendar_min().map(|(_, k)| k);
        let h = self.heap.peek().map(|r| r.0);
        let k = match (c, h) {
            (Some(c), Some(h)) => c.min(h),
            (c, h) => c.or(h)?,
        };
        Some(SimTime::from_nanos((k >> 64) as u64))
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops in (time, insertion) order whatever the mix of near, far, past and same-time
    /// pushes (crowded buckets, window jumps), checked against a sorted reference.
    #[test]
    fn matches_a_sorted_reference() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for spread in [1u64, 1 << 10, 1 << 20, 1 << 24, 1 << 27, 1 << 40] {
            let mut q = EventQueue::new();
            let mut reference = std::collections::BTreeSet::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for _ in 0..20_000 {
                if rand() % 3 != 0 || reference.is_empty() {
                    let t = match rand() % 16 {
                        // Sometimes earlier than the last pop (direct use of the queue).
                        0 => now.saturating_sub(rand() % spread),
                        1 => now + rand() % (spread << 8),
                        2 => now,
                        _ => now + rand() % spread,
                    };
                    q.push(SimTime::from_nanos(t), seq);
                    reference.insert((t, seq));
                    seq += 1;
                } else {
                    let (t, s) = reference.pop_first().unwrap();
                    assert_eq!(q.peek_time(), Some(SimTime::from_nanos(t)));
                    assert_eq!(q.pop(), Some((SimTime::from_nanos(t), s)));
                    now = t;
                }
                assert_eq!(q.len(), reference.len());
            }
            for (t, s) in reference {
                assert_eq!(q.pop(), Some((SimTime::from_nanos(t), s)));
            }
            assert!(q.is_empty());
            assert_eq!(q.pop(), None);
        }
    }
}
