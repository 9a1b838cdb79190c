//! Shared by the protocol tests: sim-net's faulty network (uniform 1–10 ms latency, optional
//! loss and duplication) and partition helpers that go through `Fault::apply`, so every
//! partition and heal is validated and recorded in the trace like a nemesis fault.

#![allow(dead_code)]

use models::msg::Msg;
use sim_core::{NodeId, Sim};
use sim_net::{Fault, FaultyNetwork, LinkConfig, NetConfig, PartitionSpec};

/// A network with sim-net's default links (uniform 1–10 ms, reordering) and this much loss and
/// duplication on every link.
pub fn lossy_net(loss: f64, duplicate: f64) -> FaultyNetwork<Msg> {
    let link = LinkConfig {
        loss,
        duplicate,
        ..LinkConfig::default()
    };
    // The network learns the node count as nodes are added.
    FaultyNetwork::new(NetConfig::new(0).with_default(link)).expect("valid network")
}

/// A network that loses nothing (it can still be partitioned).
pub fn net() -> FaultyNetwork<Msg> {
    lossy_net(0.0, 0.0)
}

/// Replaces the blocked links: nodes in different groups cannot talk (both directions); nodes
/// in no group keep all their links.
pub fn partition(sim: &mut Sim<Msg>, groups: &[Vec<NodeId>]) {
    Fault::Partition(PartitionSpec::Split {
        groups: groups.to_vec(),
    })
    .apply(sim)
    .expect("partition");
}

/// Splits `a` from `b` (replacing any earlier partition).
pub fn split(sim: &mut Sim<Msg>, a: Vec<NodeId>, b: Vec<NodeId>) {
    partition(sim, &[a, b]);
}

/// Unblocks every link.
pub fn heal(sim: &mut Sim<Msg>) {
    Fault::Heal.apply(sim).expect("heal");
}
