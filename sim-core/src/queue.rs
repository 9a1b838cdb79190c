//! The event queue: events ordered by (virtual time, insertion sequence).
//!
//! The heap holds small fixed-size keys; event payloads live in a slab, so heap operations move
//! 24 bytes whatever the message type.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    time: u64,
    seq: u64,
    slot: u32,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest (time, seq) first.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
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
    heap: BinaryHeap<Key>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
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
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Key {
            time: time.as_nanos(),
            seq: self.seq,
            slot,
        });
        self.seq += 1;
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let key = self.heap.pop()?;
        let event = self.slab[key.slot as usize].take()?;
        self.free.push(key.slot);
        Some((SimTime::from_nanos(key.time), event))
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|k| SimTime::from_nanos(k.time))
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True if nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
