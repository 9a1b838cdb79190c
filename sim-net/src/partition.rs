//! Partitions: sets of blocked directed links, and the shapes a nemesis draws them in.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::error::{check_node, NetError};

/// A set of blocked directed links: `(from, to)` in the set means nothing sent by `from`
/// reaches `to`.
///
/// ```
/// use sim_net::Partition;
/// use sim_core::NodeId;
/// let p = Partition::one_way([NodeId(0)], [NodeId(1)]);
/// assert!(p.is_blocked(NodeId(0), NodeId(1)));
/// assert!(!p.is_blocked(NodeId(1), NodeId(0)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Partition {
    blocked: BTreeSet<(NodeId, NodeId)>,
}

impl Partition {
    /// No link blocked.
    pub fn none() -> Self {
        Partition::default()
    }

    /// Blocks exactly these directed links (self-links are ignored).
    pub fn from_links(links: impl IntoIterator<Item = (NodeId, NodeId)>) -> Self {
        Partition {
            blocked: links.into_iter().filter(|(a, b)| a != b).collect(),
        }
    }

    /// Nodes in different groups cannot talk (both directions); nodes in no group are untouched.
    pub fn split<G: AsRef<[NodeId]>>(groups: &[G]) -> Self {
        let mut blocked = BTreeSet::new();
        for (i, g) in groups.iter().enumerate() {
            for (j, h) in groups.iter().enumerate() {
                if i != j {
                    for &a in g.as_ref() {
                        for &b in h.as_ref() {
                            if a != b {
                                blocked.insert((a, b));
                            }
                        }
                    }
                }
            }
        }
        Partition { blocked }
    }

    /// Messages from any node of `from` to any node of `to` are blocked; the other direction
    /// stays open.
    pub fn one_way(
        from: impl IntoIterator<Item = NodeId>,
        to: impl IntoIterator<Item = NodeId> + Clone,
    ) -> Self {
        Partition::from_links(
            from.into_iter()
                .flat_map(|a| to.clone().into_iter().map(move |b| (a, b))),
        )
    }

    /// True if `from -> to` is blocked.
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.blocked.contains(&(from, to))
    }

    /// True if no link is blocked.
    pub fn is_empty(&self) -> bool {
        self.blocked.is_empty()
    }

    /// The blocked links, in order.
    pub fn links(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.blocked.iter().copied()
    }

    /// Number of blocked links.
    pub fn len(&self) -> usize {
        self.blocked.len()
    }
}

/// A partition shape, as written in a fault schedule. Randomised shapes (random halves, a random
/// node to isolate) are resolved when a schedule is generated, so that a saved schedule replays
/// exactly without the seed that drew it.
///
/// In JSON: `{"shape": "split", "groups": [[0, 1], [2, 3, 4]]}`.
///
/// ```
/// use sim_net::PartitionSpec;
/// use sim_core::NodeId;
/// let s = PartitionSpec::Isolate { node: NodeId(2) };
/// let p = s.resolve("partition", 3).unwrap();
/// assert!(p.is_blocked(NodeId(0), NodeId(2)) && p.is_blocked(NodeId(2), NodeId(1)));
/// assert!(!p.is_blocked(NodeId(0), NodeId(1)));
/// let bad = PartitionSpec::Isolate { node: NodeId(7) };
/// assert_eq!(bad.resolve("partition", 3).unwrap_err().field(), "partition.node");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum PartitionSpec {
    /// Nodes in different groups cannot talk; nodes in no group are untouched.
    Split {
        /// Disjoint groups.
        groups: Vec<Vec<NodeId>>,
    },
    /// `node` can neither send to nor receive from any other node.
    Isolate {
        /// The isolated node.
        node: NodeId,
    },
    /// Messages from `from` to `to` are blocked; `to -> from` stays open.
    OneWay {
        /// Senders whose messages are lost.
        from: Vec<NodeId>,
        /// Receivers that do not hear them.
        to: Vec<NodeId>,
    },
    /// Two halves that cannot talk to each other, both talking to the `bridge` node.
    Bridge {
        /// One half.
        left: Vec<NodeId>,
        /// The other half.
        right: Vec<NodeId>,
        /// The node in both halves.
        bridge: NodeId,
    },
    /// Jepsen's majorities ring: with `ring` in ring order, each node hears only the majority
    /// of nodes centred on itself, so every node sees a majority and no two see the same one.
    /// The blocked links are directed: a node ignores messages from outside its majority.
    MajoritiesRing {
        /// The nodes, in ring order.
        ring: Vec<NodeId>,
    },
    /// Exactly these directed links are blocked.
    Links {
        /// `[from, to]` pairs.
        blocked: Vec<(NodeId, NodeId)>,
    },
}

impl PartitionSpec {
    /// Two random halves of `nodes` (sizes differ by at most one; the first is the smaller).
    pub fn random_halves(nodes: &[NodeId], rng: &mut Pcg64) -> Self {
        let mut v = nodes.to_vec();
        v.shuffle(rng);
        let right = v.split_off(v.len() / 2);
        PartitionSpec::Split {
            groups: vec![v, right],
        }
    }

    /// A random bridge: two halves of the other nodes, sharing one random node.
    pub fn random_bridge(nodes: &[NodeId], rng: &mut Pcg64) -> Self {
        let mut v = nodes.to_vec();
        v.shuffle(rng);
        let bridge = v.pop().unwrap_or(NodeId(0));
        let right = v.split_off(v.len() / 2);
        PartitionSpec::Bridge {
            left: v,
            right,
            bridge,
        }
    }

    /// A majorities ring over `nodes` in a random ring order.
    pub fn random_majorities_ring(nodes: &[NodeId], rng: &mut Pcg64) -> Self {
        let mut ring = nodes.to_vec();
        ring.shuffle(rng);
        PartitionSpec::MajoritiesRing { ring }
    }

    /// Every node this spec names.
    pub fn nodes(&self) -> Vec<NodeId> {
        match self {
            PartitionSpec::Split { groups } => groups.iter().flatten().copied().collect(),
            PartitionSpec::Isolate { node } => vec![*node],
            PartitionSpec::OneWay { from, to } => from.iter().chain(to).copied().collect(),
            PartitionSpec::Bridge {
                left,
                right,
                bridge,
            } => left
                .iter()
                .chain(right)
                .chain(std::iter::once(bridge))
                .copied()
                .collect(),
            PartitionSpec::MajoritiesRing { ring } => ring.clone(),
            PartitionSpec::Links { blocked } => blocked.iter().flat_map(|&(a, b)| [a, b]).collect(),
        }
    }

    /// Checks every node against a network of `nodes` nodes; errors name `field.<name>`.
    pub fn validate(&self, field: &str, nodes: usize) -> Result<(), NetError> {
        let check = |name: &str, list: &[NodeId]| -> Result<(), NetError> {
            for &n in list {
                check_node(&format!("{field}.{name}"), n, nodes)?;
            }
            Ok(())
        };
        match self {
            PartitionSpec::Split { groups } => {
                let mut seen = BTreeSet::new();
                for g in groups {
                    check("groups", g)?;
                    for &n in g {
                        if !seen.insert(n) {
                            return Err(NetError::invalid(
                                format!("{field}.groups"),
                                format!("node {n} is in more than one group"),
                            ));
                        }
                    }
                }
                Ok(())
            }
            PartitionSpec::Isolate { node } => check("node", &[*node]),
            PartitionSpec::OneWay { from, to } => {
                check("from", from)?;
                check("to", to)
            }
            PartitionSpec::Bridge {
                left,
                right,
                bridge,
            } => {
                check("left", left)?;
                check("right", right)?;
                check("bridge", &[*bridge])?;
                if let Some(n) = left.iter().find(|n| right.contains(n) || *n == bridge) {
                    return Err(NetError::invalid(
                        format!("{field}.left"),
                        format!("node {n} is also in right or is the bridge"),
                    ));
                }
                if right.contains(bridge) {
                    return Err(NetError::invalid(
                        format!("{field}.right"),
                        format!("node {bridge} is the bridge"),
                    ));
                }
                Ok(())
            }
            PartitionSpec::MajoritiesRing { ring } => {
                check("ring", ring)?;
                let distinct: BTreeSet<_> = ring.iter().collect();
                if distinct.len() != ring.len() {
                    return Err(NetError::invalid(
                        format!("{field}.ring"),
                        "a node appears twice",
                    ));
                }
                Ok(())
            }
            PartitionSpec::Links { blocked } => {
                for &(a, b) in blocked {
                    check("blocked", &[a, b])?;
                }
                Ok(())
            }
        }
    }

    /// The blocked links, after checking the spec against a network of `nodes` nodes.
    pub fn resolve(&self, field: &str, nodes: usize) -> Result<Partition, NetError> {
        self.validate(field, nodes)?;
        Ok(match self {
            PartitionSpec::Split { groups } => Partition::split(groups),
            PartitionSpec::Isolate { node } => {
                let others: Vec<NodeId> = (0..nodes as u32)
                    .map(NodeId)
                    .filter(|n| n != node)
                    .collect();
                Partition::split(&[vec![*node], others])
            }
            PartitionSpec::OneWay { from, to } => {
                Partition::one_way(from.iter().copied(), to.iter().copied())
            }
            PartitionSpec::Bridge { left, right, .. } => Partition::split(&[left, right]),
            PartitionSpec::MajoritiesRing { ring } => majorities_ring(ring),
            PartitionSpec::Links { blocked } => Partition::from_links(blocked.iter().copied()),
        })
    }
}

/// Each node of the ring hears the `n / 2 + 1` nodes centred on itself (one more after it than
/// before it when that majority is even).
fn majorities_ring(ring: &[NodeId]) -> Partition {
    let n = ring.len();
    if n < 3 {
        return Partition::none();
    }
    let m = n / 2 + 1;
    let before = (m - 1) / 2;
    let after = m - 1 - before;
    let mut blocked = BTreeSet::new();
    for (i, &me) in ring.iter().enumerate() {
        for (j, &other) in ring.iter().enumerate() {
            // Ring distance from me forward to other, and backward.
            let fwd = (j + n - i) % n;
            let back = (i + n - j) % n;
            let heard = fwd == 0 || fwd <= after || back <= before;
            if !heard {
                blocked.insert((other, me));
            }
        }
    }
    Partition { blocked }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().copied().map(NodeId).collect()
    }

    #[test]
    fn majorities_ring_every_node_hears_a_distinct_majority() {
        for n in 3..=9u32 {
            let ring = ids(&(0..n).collect::<Vec<_>>());
            let p = majorities_ring(&ring);
            let mut views = BTreeSet::new();
            for &me in &ring {
                let view: BTreeSet<NodeId> = ring
                    .iter()
                    .copied()
                    .filter(|&o| !p.is_blocked(o, me))
                    .collect();
                assert!(view.len() > n as usize / 2, "n={n} {me} hears {view:?}");
                assert!(view.len() < n as usize, "n={n}: {me} hears everyone");
                assert!(
                    views.insert(view),
                    "n={n}: two nodes hear the same majority"
                );
            }
        }
    }

    #[test]
    fn bridge_node_talks_to_both_halves() {
        let s = PartitionSpec::Bridge {
            left: ids(&[0, 1]),
            right: ids(&[3, 4]),
            bridge: NodeId(2),
        };
        let p = s.resolve("p", 5).unwrap();
        assert!(p.is_blocked(NodeId(0), NodeId(3)) && p.is_blocked(NodeId(4), NodeId(1)));
        for o in [0, 1, 3, 4] {
            assert!(!p.is_blocked(NodeId(2), NodeId(o)) && !p.is_blocked(NodeId(o), NodeId(2)));
        }
    }

    #[test]
    fn bad_specs_name_their_field() {
        let e = PartitionSpec::Split {
            groups: vec![ids(&[0, 1]), ids(&[1, 2])],
        }
        .resolve("p", 3)
        .unwrap_err();
        assert_eq!(e.field(), "p.groups");
        let e = PartitionSpec::OneWay {
            from: ids(&[0]),
            to: ids(&[9]),
        }
        .resolve("p", 3)
        .unwrap_err();
        assert_eq!(e.field(), "p.to");
        assert!(e.to_string().contains("n9"), "{e}");
    }
}
