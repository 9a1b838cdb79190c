//! The event queue: events ordered by (virtual time, insertion sequence).
//!
//! The heap holds one `u128` per event — (time, sequence, slot) packed so that integer order is
//! event order — and payloads live in a slab, so heap operations move 16 bytes whatever the
//! message type. Up to 2^24 events may be pending at once and 2^40 pushed in one run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::SimTime;

/// Slots are numbered in the low bits of a heap key, below the insertion sequence, so a key
/// is one `u128` ordered exactly by (time, sequence).
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

#[inline]
fn key(time: u64, seq: u64, slot: u32) -> Reverse<u128> {
    Reverse((u128::from(time) << 64) | u128::from((seq << SLOT_BITS) | u64::from(slot)))
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
    heap: BinaryHeap<Reverse<u128>>,
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
                assert!(
                    (self.slab.len() as u64) < SLOT_MASK,
                    "actsim: more than {SLOT_MASK} events pending at once (runaway message amplification?)"
                );
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(key(time.as_nanos(), self.seq, slot));
        self.seq += 1;
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse(k) = self.heap.pop()?;
        let slot = (k as u64 & SLOT_MASK) as u32;
        let event = self.slab[slot as usize].take()?;
        self.free.push(slot);
        Some((SimTime::from_nanos((k >> 64) as u64), event))
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap
            .peek()
            .map(|Reverse(k)| SimTime::from_nanos((k >> 64) as u64))
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
