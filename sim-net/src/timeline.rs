//! The recorded timeline of partition changes, for reachability questions after a run.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sim_core::{NodeId, SimTime};

use crate::partition::Partition;

/// Every change of the network's cut (blocked or clogged links), in time order.
///
/// Availability accounting asks: at time `t`, which replicas could client `c` reach?
///
/// ```
/// use sim_net::{Partition, Timeline};
/// use sim_core::{NodeId, SimTime};
/// let mut tl = Timeline::new(3);
/// tl.record(SimTime::from_secs(1), Partition::split(&[vec![NodeId(0)], vec![NodeId(1), NodeId(2)]]));
/// tl.record(SimTime::from_secs(2), Partition::none());
/// assert!(tl.can_reach_at(SimTime::from_millis(500), NodeId(0), NodeId(1)));
/// assert!(!tl.can_reach_at(SimTime::from_secs(1), NodeId(0), NodeId(1)));
/// assert_eq!(tl.reachable_at(SimTime::from_millis(1500), NodeId(1)).len(), 2);
/// assert!(tl.can_reach_at(SimTime::from_secs(2), NodeId(0), NodeId(1)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    nodes: usize,
    changes: Vec<(SimTime, Partition)>,
}

impl Timeline {
    /// An empty timeline over `nodes` nodes: everything reachable at all times.
    pub fn new(nodes: usize) -> Self {
        Timeline {
            nodes,
            changes: Vec::new(),
        }
    }

    /// Records that from `at` on, the links of `cut` are unusable. Times must not decrease.
    pub fn record(&mut self, at: SimTime, cut: Partition) {
        if let Some(last) = self.changes.last_mut() {
            if last.0 == at {
                last.1 = cut;
                return;
            }
            if last.1 == cut {
                return;
            }
        } else if cut.is_empty() {
            return;
        }
        self.changes.push((at, cut));
    }

    pub(crate) fn set_nodes(&mut self, nodes: usize) {
        self.nodes = self.nodes.max(nodes);
    }

    /// Every change, in time order.
    pub fn changes(&self) -> &[(SimTime, Partition)] {
        &self.changes
    }

    /// The cut in force at time `t` (a change at `t` is in force at `t`).
    pub fn cut_at(&self, t: SimTime) -> Option<&Partition> {
        let i = self.changes.partition_point(|(at, _)| *at <= t);
        i.checked_sub(1).map(|i| &self.changes[i].1)
    }

    /// True if a message sent by `from` at `t` could reach `to` directly.
    pub fn can_reach_at(&self, t: SimTime, from: NodeId, to: NodeId) -> bool {
        from == to || self.cut_at(t).is_none_or(|p| !p.is_blocked(from, to))
    }

    /// Every node `from` could reach at `t` (itself included).
    pub fn reachable_at(&self, t: SimTime, from: NodeId) -> BTreeSet<NodeId> {
        (0..self.nodes as u32)
            .map(NodeId)
            .filter(|&to| self.can_reach_at(t, from, to))
            .collect()
    }
}
