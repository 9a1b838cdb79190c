//! Shared by the protocol tests: sim-net's faulty network (uniform 1–10 ms latency, optional
//! loss and duplication) and partition helpers that go through `Fault::apply`, so every
//! partition and heal is validated and recorded in the trace like a nemesis fault.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use models::client::{Client, ClientConfig, ClientMsg, ClientTimer, Routing};
use models::op::{Key, Op, Ret, Value};
use models::protocol::{local_value, Protocol, ProtocolSim};
use models::runner::RunOptions;
use models::workload::Workload;
use sim_core::history::Recorder;
use sim_core::{Durable, NodeId, Payload, Sim, SimEnv, SimTime};
use sim_net::{Fault, FaultyNetwork, LinkConfig, NetConfig, PartitionSpec};

/// A network with sim-net's default links (uniform 1–10 ms, reordering) and this much loss and
/// duplication on every link.
pub fn lossy_net<M: Payload>(loss: f64, duplicate: f64) -> FaultyNetwork<M> {
    let link = LinkConfig {
        loss,
        duplicate,
        ..LinkConfig::default()
    };
    // The network learns the node count as nodes are added.
    FaultyNetwork::new(NetConfig::new(0).with_default(link)).expect("valid network")
}

/// A network that loses nothing (it can still be partitioned).
pub fn net<M: Payload>() -> FaultyNetwork<M> {
    lossy_net(0.0, 0.0)
}

/// Replaces the blocked links: nodes in different groups cannot talk (both directions); nodes
/// in no group keep all their links.
pub fn partition<M: Payload>(sim: &mut Sim<M>, groups: &[Vec<NodeId>]) {
    Fault::Partition(PartitionSpec::Split {
        groups: groups.to_vec(),
    })
    .apply(sim)
    .expect("partition");
}

/// Splits `a` from `b` (replacing any earlier partition).
pub fn split<M: Payload>(sim: &mut Sim<M>, a: Vec<NodeId>, b: Vec<NodeId>) {
    partition(sim, &[a, b]);
}

/// Unblocks every link.
pub fn heal<M: Payload>(sim: &mut Sim<M>) {
    Fault::Heal.apply(sim).expect("heal");
}

/// A scripted nemesis on five replicas `r` between 1 s and 7 s: a 3|2 split, heal, crash and
/// restart of r[1], pause and resume of r[4], isolation of r[0] with a crash and restart, heal.
pub fn scripted_nemesis<M: Payload>(sim: &mut Sim<M>, r: &[NodeId]) {
    let at = SimTime::from_millis;
    let (maj, min) = (r[..3].to_vec(), r[3..].to_vec());
    sim.schedule(at(1000), "split 3|2", move |s| split(s, maj, min));
    sim.schedule(at(3000), "heal", heal);
    let (n0, n1, n4) = (r[0], r[1], r[4]);
    sim.schedule(at(3500), "crash n1", move |s| s.crash(n1).expect("crash"));
    sim.schedule(at(4000), "restart n1", move |s| {
        s.restart(n1).expect("restart")
    });
    sim.schedule(at(4500), "pause n4", move |s| s.pause(n4).expect("pause"));
    sim.schedule(at(5000), "resume n4", move |s| {
        s.resume(n4).expect("resume")
    });
    let (alone, rest) = (vec![n0], r[1..].to_vec());
    sim.schedule(at(5500), "isolate n0", move |s| split(s, alone, rest));
    sim.schedule(at(6000), "crash n0", move |s| s.crash(n0).expect("crash"));
    sim.schedule(at(6500), "restart n0", move |s| {
        s.restart(n0).expect("restart")
    });
    sim.schedule(at(7000), "heal", heal);
}

/// Every replica's local value of keys `0..keys`, one map per replica.
pub fn final_values<P: Protocol>(
    sim: &mut ProtocolSim<P>,
    replicas: &[NodeId],
    keys: u32,
) -> Vec<BTreeMap<Key, Value>> {
    replicas
        .iter()
        .map(|&r| {
            (0..keys)
                .map(|k| {
                    let key = Key::from(k);
                    let v = local_value::<P>(sim, r, &key).expect("final read");
                    (key, v)
                })
                .collect()
        })
        .collect()
}

/// Adds `per_replica` key-value clients per replica, client `i` sticky to
/// `replicas[i % replicas.len()]`, running the default workload on `keys` keys and invoking
/// nothing after `stop_at`. Returns the client nodes and the history they record into.
pub fn add_sticky_clients<M: ClientMsg>(
    sim: &mut Sim<M>,
    replicas: &[NodeId],
    per_replica: usize,
    keys: u32,
    cas: bool,
    stop_at: SimTime,
) -> (Vec<NodeId>, Recorder<Op, Ret>) {
    let history = Recorder::new();
    let total = (replicas.len() * per_replica) as u32;
    let clients = (0..total)
        .map(|index| {
            let cfg = ClientConfig {
                index,
                clients: total,
                routing: Routing::Sticky {
                    home: replicas[index as usize % replicas.len()],
                },
                timeout: Duration::from_secs(1),
                workload: Workload {
                    keys,
                    ..Workload::default()
                },
                cas_supported: cas,
                stop_at,
            };
            let rec = history.clone();
            sim.add_node(
                format!("c{index}"),
                (),
                move |env: SimEnv<M, ClientTimer>, _: Durable<()>| {
                    Client::new(env, cfg.clone(), rec.clone())
                },
            )
        })
        .collect();
    (clients, history)
}

/// Applies the seed runner's options to a freshly built simulation (before it runs): the trace
/// file of a failing seed (`ACTSIM_TRACE`), per-event hashes (`ACTSIM_CHECK_DETERMINISM`).
pub fn attach<M: Payload>(opts: &RunOptions, sim: &mut Sim<M>) {
    if let Err(e) = opts.attach(sim) {
        eprintln!("cannot write the trace of seed {}: {e}", sim.seed());
    }
}
