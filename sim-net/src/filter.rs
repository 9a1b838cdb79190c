//! Per-message filters: a test's hook to drop, hold or delay chosen messages.

use std::fmt;
use std::time::Duration;

use sim_core::{NodeId, SimTime};

/// What a filter decides for one message.
///
/// ```
/// use sim_net::Verdict;
/// use std::time::Duration;
/// assert_eq!(Verdict::default(), Verdict::Pass);
/// let _slow = Verdict::Delay(Duration::from_millis(200));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verdict {
    /// Let the message through (and let later filters decide).
    #[default]
    Pass,
    /// Drop it (counted as [`DropCause::Filter`](sim_core::network::DropCause::Filter)).
    Drop,
    /// Keep it inside the network until
    /// [`FaultyNetwork::release_filtered`](crate::FaultyNetwork::release_filtered). On a FIFO
    /// link this is an explicit reordering: later messages are not held.
    Hold,
    /// Add this much latency to the message (on a FIFO link, later messages wait for it).
    Delay(Duration),
}

/// A filter: sees the send time, sender, receiver and message, and returns a [`Verdict`].
pub type FilterFn<M> = Box<dyn FnMut(SimTime, NodeId, NodeId, &M) -> Verdict>;

/// Identifies an installed filter, to remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilterId(pub(crate) u64);

/// The filters installed in a network, consulted in installation order; the first verdict
/// that is not [`Verdict::Pass`] wins.
pub(crate) struct Filters<M> {
    list: Vec<(FilterId, FilterFn<M>)>,
    next: u64,
}

impl<M> Default for Filters<M> {
    fn default() -> Self {
        Filters {
            list: Vec::new(),
            next: 0,
        }
    }
}

impl<M> fmt::Debug for Filters<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|(id, _)| id))
            .finish()
    }
}

impl<M> Filters<M> {
    pub(crate) fn add(&mut self, f: FilterFn<M>) -> FilterId {
        let id = FilterId(self.next);
        self.next += 1;
        self.list.push((id, f));
        id
    }

    pub(crate) fn remove(&mut self, id: FilterId) -> bool {
        let before = self.list.len();
        self.list.retain(|(i, _)| *i != id);
        self.list.len() != before
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn check(&mut self, now: SimTime, from: NodeId, to: NodeId, msg: &M) -> Verdict {
        for (_, f) in &mut self.list {
            let v = f(now, from, to, msg);
            if v != Verdict::Pass {
                return v;
            }
        }
        Verdict::Pass
    }
}

/// A filter that returns `verdict` for the `n`-th message (counting from 1) matching `pred`,
/// and passes everything else: "lose the third append to node 2".
///
/// ```
/// use sim_net::{filter::nth, Verdict};
/// use sim_core::{NodeId, SimTime};
/// let mut f = nth(3, |_t, _from, to, m: &&str| to == NodeId(2) && *m == "append", Verdict::Drop);
/// let t = SimTime::ZERO;
/// let verdicts: Vec<Verdict> =
///     (0..4).map(|_| f(t, NodeId(0), NodeId(2), &"append")).collect();
/// assert_eq!(verdicts, [Verdict::Pass, Verdict::Pass, Verdict::Drop, Verdict::Pass]);
/// ```
pub fn nth<M: 'static>(
    n: u64,
    mut pred: impl FnMut(SimTime, NodeId, NodeId, &M) -> bool + 'static,
    verdict: Verdict,
) -> FilterFn<M> {
    let mut seen = 0u64;
    Box::new(move |t, from, to, m| {
        if pred(t, from, to, m) {
            seen += 1;
            if seen == n {
                return verdict;
            }
        }
        Verdict::Pass
    })
}

/// A filter that returns `verdict` for every message matching `pred`.
///
/// ```
/// use sim_net::{filter::every, Verdict};
/// use sim_core::{NodeId, SimTime};
/// let mut f = every(|_t, from, _to, _m: &u32| from == NodeId(1), Verdict::Hold);
/// assert_eq!(f(SimTime::ZERO, NodeId(1), NodeId(0), &7), Verdict::Hold);
/// assert_eq!(f(SimTime::ZERO, NodeId(0), NodeId(1), &7), Verdict::Pass);
/// ```
pub fn every<M: 'static>(
    mut pred: impl FnMut(SimTime, NodeId, NodeId, &M) -> bool + 'static,
    verdict: Verdict,
) -> FilterFn<M> {
    Box::new(move |t, from, to, m| {
        if pred(t, from, to, m) {
            verdict
        } else {
            Verdict::Pass
        }
    })
}
