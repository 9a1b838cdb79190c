//! Test harness shared by the sequential and linearizable tests (both run on the Raft core):
//! a random nemesis (on sim-net's faulty network, see `common`), a sampling monitor of Raft invariants, and
//! history checks that need no consistency checker (they use the final committed log as the
//! order of writes).

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use models::client::{Client, ClientConfig, ClientTimer, Routing};
use models::kv::KvMsg;
use models::op::{Key, Op, Ret, Value};
use models::protocol::{add_replica, local_value, Protocol, ProtocolSim};
use models::raft::{Command, Entry, Persistent, RoleName, Status, Store};
use models::workload::Workload;
use rand::Rng;
use sim_core::history::{Outcome, Recorder};
use sim_core::rng::Purpose;
use sim_core::{Durable, NodeId, NodeStatus, Sim, SimEnv, SimError, SimTime};
use sim_net::FaultyNetwork;

pub use crate::common::{heal, lossy_net, net, partition};

/// A replica's Raft status, as the protocol module exposes it (`sequential::status`, ...).
pub type StatusFn<P> = fn(&mut ProtocolSim<P>, NodeId) -> Result<Status, SimError>;

/// What a test needs from a Raft-based protocol: the protocol value (its replicas are added
/// with `models::protocol::add_replica`, read with `local_value`) and its status probe.
pub struct Proto<P: Protocol> {
    pub protocol: P,
    pub status: StatusFn<P>,
}

impl<P: Protocol> Proto<P> {
    pub fn status(&self, sim: &mut ProtocolSim<P>, node: NodeId) -> Result<Status, SimError> {
        (self.status)(sim, node)
    }

    pub fn local_value(
        &self,
        sim: &mut ProtocolSim<P>,
        node: NodeId,
        key: &Key,
    ) -> Result<Value, SimError> {
        local_value::<P>(sim, node, key)
    }
}

/// A simulation of `n` replicas and `clients` clients.
pub struct Cluster<P: Protocol> {
    pub sim: ProtocolSim<P>,
    pub replicas: Vec<NodeId>,
    pub clients: Vec<NodeId>,
    pub history: Recorder<Op, Ret>,
    pub monitor: Rc<RefCell<Monitor>>,
    pub keys: u32,
}

/// Client `i`'s routing.
pub type Homes = dyn Fn(usize) -> Routing;

pub fn cluster<P: Protocol>(
    seed: u64,
    n: usize,
    clients: usize,
    stop_at: SimTime,
    net: FaultyNetwork<KvMsg<P::Message>>,
    proto: &Proto<P>,
    homes: &Homes,
) -> Cluster<P> {
    let mut sim = Sim::with_network(seed, net);
    let replicas: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    for i in 0..n {
        let id = add_replica(&mut sim, &proto.protocol, i, &replicas);
        assert_eq!(id, replicas[i]);
    }
    let history = Recorder::new();
    let workload = Workload {
        keys: 3,
        read_fraction: 0.5,
        cas_fraction: 0.2,
        think_min: Duration::ZERO,
        think_max: Duration::from_millis(20),
    };
    let mut client_ids = Vec::new();
    for c in 0..clients {
        let cfg = ClientConfig {
            index: c as u32,
            clients: clients as u32,
            routing: homes(c),
            timeout: Duration::from_secs(1),
            workload: workload.clone(),
            cas_supported: proto.protocol.offers_cas(),
            stop_at,
        };
        let rec = history.clone();
        let id = sim.add_node(
            format!("c{c}"),
            (),
            move |env: SimEnv<KvMsg<P::Message>, ClientTimer>, _: Durable<()>| {
                Client::new(env, cfg.clone(), rec.clone())
            },
        );
        client_ids.push(id);
    }
    Cluster {
        sim,
        replicas,
        clients: client_ids,
        history,
        monitor: Rc::new(RefCell::new(Monitor::default())),
        keys: workload.keys,
    }
}

/// Raft invariants sampled during a run: one leader per term, committed prefixes agree.
#[derive(Debug, Default)]
pub struct Monitor {
    pub leaders: BTreeMap<u64, NodeId>,
    pub committed: Vec<Entry>,
    pub violations: Vec<String>,
    pub samples: u64,
}

impl Monitor {
    fn observe(&mut self, node: NodeId, status: &Status, log: &[Entry]) {
        self.samples += 1;
        if status.role == RoleName::Leader {
            let first = *self.leaders.entry(status.term).or_insert(node);
            if first != node {
                self.violations.push(format!(
                    "two leaders in term {}: {first} and {node}",
                    status.term
                ));
            }
        }
        let commit = status.commit as usize;
        if commit > log.len() {
            self.violations
                .push(format!("{node}: commit {commit} beyond log {}", log.len()));
            return;
        }
        let common = commit.min(self.committed.len());
        if let Some(i) = (0..common).find(|&i| log[i] != self.committed[i]) {
            self.violations.push(format!(
                "{node}: committed entry {} differs: {:?} vs {:?}",
                i + 1,
                log[i],
                self.committed[i]
            ));
        }
        if commit > self.committed.len() {
            self.committed
                .extend_from_slice(&log[self.committed.len()..commit]);
        }
    }
}

/// Samples every running replica's status and log every `every` until `until`.
pub fn start_monitor<P: Protocol>(
    c: &mut Cluster<P>,
    proto_status: StatusFn<P>,
    every: Duration,
    until: SimTime,
) {
    fn tick<P: Protocol>(
        sim: &mut ProtocolSim<P>,
        replicas: Rc<Vec<NodeId>>,
        monitor: Rc<RefCell<Monitor>>,
        status: StatusFn<P>,
        every: Duration,
        until: SimTime,
    ) {
        for &r in replicas.iter() {
            if sim.status(r) != Some(NodeStatus::Up) {
                continue;
            }
            let Ok(s) = status(sim, r) else { continue };
            let Some(d) = sim.durable::<Persistent>(r) else {
                continue;
            };
            let log = d.borrow().log.clone();
            monitor.borrow_mut().observe(r, &s, &log);
        }
        let next = sim.now() + every;
        if next <= until {
            sim.schedule(next, "monitor", move |sim| {
                tick::<P>(sim, replicas, monitor, status, every, until)
            });
        }
    }
    let replicas = Rc::new(c.replicas.clone());
    let monitor = Rc::clone(&c.monitor);
    let at = c.sim.now() + every;
    c.sim.schedule(at, "monitor", move |sim| {
        tick::<P>(sim, replicas, monitor, proto_status, every, until)
    });
}

/// A random nemesis between `from` and `to`: partitions, heals, crashes with restarts, pauses.
/// At `to` everything is healed, restarted and resumed.
pub fn random_nemesis<P: Protocol>(c: &mut Cluster<P>, from: SimTime, to: SimTime) {
    let mut rng = c.sim.rng(Purpose::Custom(77));
    let replicas = c.replicas.clone();
    let n = replicas.len();
    let mut t = from;
    loop {
        t += Duration::from_millis(rng.random_range(200..800));
        if t >= to {
            break;
        }
        let r = replicas[rng.random_range(0..n)];
        let back = t + Duration::from_millis(rng.random_range(100..1000));
        match rng.random_range(0..4) {
            0 => {
                let mut a = Vec::new();
                let mut b = Vec::new();
                for &x in &replicas {
                    if rng.random_bool(0.5) {
                        a.push(x)
                    } else {
                        b.push(x)
                    }
                }
                c.sim
                    .schedule(t, "partition", move |sim| partition(sim, &[a, b]));
            }
            1 => c.sim.schedule(t, "heal", heal),
            2 => {
                c.sim.schedule(t, "crash", move |sim| {
                    let _ = sim.crash(r);
                });
                c.sim.schedule(back.min(to), "restart", move |sim| {
                    if sim.status(r) == Some(NodeStatus::Down) {
                        let _ = sim.restart(r);
                    }
                });
            }
            _ => {
                c.sim.schedule(t, "pause", move |sim| {
                    let _ = sim.pause(r);
                });
                c.sim.schedule(back.min(to), "resume", move |sim| {
                    let _ = sim.resume(r);
                });
            }
        }
    }
    c.sim.schedule(to, "heal all", move |sim| {
        heal(sim);
        for r in replicas {
            match sim.status(r) {
                Some(NodeStatus::Down) => {
                    let _ = sim.restart(r);
                }
                Some(NodeStatus::Paused) => {
                    let _ = sim.resume(r);
                }
                _ => {}
            }
        }
    });
}

/// The committed log of the replica with the highest commit index.
pub fn final_log<P: Protocol>(c: &mut Cluster<P>, proto: &Proto<P>) -> Vec<Entry> {
    let mut best: Vec<Entry> = Vec::new();
    for &r in &c.replicas {
        let Ok(s) = proto.status(&mut c.sim, r) else {
            continue;
        };
        let Some(d) = c.sim.durable::<Persistent>(r) else {
            continue;
        };
        let log = &d.borrow().log;
        if s.commit as usize > best.len() {
            best = log[..s.commit as usize].to_vec();
        }
    }
    best
}

/// After heal and settling: every replica has committed and applied the same log and holds the
/// same values.
pub fn check_converged<P: Protocol>(c: &mut Cluster<P>, proto: &Proto<P>) -> Vec<String> {
    let mut v = Vec::new();
    let mut statuses = Vec::new();
    for &r in &c.replicas {
        match proto.status(&mut c.sim, r) {
            Ok(s) => statuses.push((r, s)),
            Err(e) => v.push(format!("{r}: {e}")),
        }
    }
    let leaders = statuses
        .iter()
        .filter(|(_, s)| s.role == RoleName::Leader)
        .count();
    if leaders != 1 {
        v.push(format!("{leaders} leaders after settling: {statuses:?}"));
    }
    for (r, s) in &statuses {
        if s.applied != s.last_index || s.commit != s.last_index {
            v.push(format!("{r}: not fully committed/applied: {s:?}"));
        }
    }
    for k in 0..c.keys {
        let key = Key::from(k);
        let values: Vec<Value> = c
            .replicas
            .clone()
            .into_iter()
            .filter_map(|r| proto.local_value(&mut c.sim, r, &key).ok())
            .collect();
        if values.windows(2).any(|w| w[0] != w[1]) {
            v.push(format!("key {key}: replicas disagree: {values:?}"));
        }
    }
    v
}

/// Where each effective write of the log sits.
pub struct LogOrder {
    /// Value written -> (key, log index).
    pub pos: BTreeMap<Value, (Key, u64)>,
    /// Key -> indexes of its effective writes, ascending.
    pub writes: BTreeMap<Key, Vec<u64>>,
}

pub fn log_order(log: &[Entry]) -> LogOrder {
    let mut store = Store::default();
    let mut pos = BTreeMap::new();
    let mut writes: BTreeMap<Key, Vec<u64>> = BTreeMap::new();
    for (i, e) in log.iter().enumerate() {
        let index = i as u64 + 1;
        if store.apply(&e.command) != Some(Ret::Ok) {
            continue;
        }
        if let Command::Client { op, .. } = &e.command {
            let (key, value) = match op {
                Op::Write { key, value } => (key, value),
                Op::Cas { key, new, .. } => (key, new),
                _ => continue,
            };
            pos.insert(value.clone(), (key.clone(), index));
            writes.entry(key.clone()).or_default().push(index);
        }
    }
    LogOrder { pos, writes }
}

fn written(op: &Op) -> Option<(&Key, &Value)> {
    match op {
        Op::Write { key, value } => Some((key, value)),
        Op::Cas { key, new, .. } => Some((key, new)),
        _ => None,
    }
}

/// Checks on the history against the committed log: acknowledged writes are in it, failed ones
/// are not, cas outcomes match, no read returns a value never written, and every client reads
/// its own writes and never reads backwards (session order).
pub fn check_history<P: Protocol>(c: &Cluster<P>, log: &[Entry]) -> Vec<String> {
    let order = log_order(log);
    let ops = c
        .history
        .snapshot()
        .operations()
        .expect("well-formed history");
    let mut v = Vec::new();
    let mut session: BTreeMap<Option<NodeId>, u64> = BTreeMap::new();
    for op in &ops {
        match (&op.op, &op.outcome) {
            (o @ (Op::Write { .. } | Op::Cas { .. }), Outcome::Ok(Ret::Ok)) => {
                let (_, value) = written(o).expect("a write");
                match order.pos.get(value) {
                    Some(&(_, i)) => {
                        let s = session.entry(op.node).or_insert(0);
                        *s = (*s).max(i);
                    }
                    None => v.push(format!("acknowledged {o} is not in the committed log")),
                }
            }
            (o @ (Op::Write { .. } | Op::Cas { .. }), Outcome::Fail | Outcome::Ok(_)) => {
                let (_, value) = written(o).expect("a write");
                if order.pos.contains_key(value) {
                    v.push(format!("{o} failed ({:?}) but took effect", op.outcome));
                }
            }
            (Op::Read { key }, Outcome::Ok(Ret::Value(value))) => {
                let p = if value.is_nil() {
                    0
                } else {
                    match order.pos.get(value) {
                        Some((k, i)) if k == key => *i,
                        _ => {
                            v.push(format!("read({key}) = {value}: never written to {key}"));
                            continue;
                        }
                    }
                };
                let s = session.entry(op.node).or_insert(0);
                let missed = order
                    .writes
                    .get(key)
                    .and_then(|ws| ws.iter().find(|&&w| w > p && w <= *s));
                if let Some(w) = missed {
                    v.push(format!(
                        "client {:?}: read({key}) = {value} (index {p}) misses the write at index {w} of its session {}",
                        op.node, *s
                    ));
                }
                *s = (*s).max(p);
            }
            _ => {}
        }
    }
    v
}

/// Linearizability of reads in real time: a read returns neither a value overwritten (in log
/// order) by a write that completed before the read began, nor a value written after it ended.
pub fn check_real_time<P: Protocol>(c: &Cluster<P>, log: &[Entry]) -> Vec<String> {
    let order = log_order(log);
    let ops = c
        .history
        .snapshot()
        .operations()
        .expect("well-formed history");
    let mut v = Vec::new();
    let acked: Vec<(&Key, u64, usize)> = ops
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Ok(Ret::Ok)))
        .filter_map(|o| {
            let (key, value) = written(&o.op)?;
            let &(_, i) = order.pos.get(value)?;
            Some((key, i, o.complete_index?))
        })
        .collect();
    let invoked: BTreeMap<&Value, usize> = ops
        .iter()
        .filter_map(|o| Some((written(&o.op)?.1, o.invoke_index)))
        .collect();
    for op in &ops {
        let (Op::Read { key }, Outcome::Ok(Ret::Value(value))) = (&op.op, &op.outcome) else {
            continue;
        };
        let p = order.pos.get(value).map_or(0, |&(_, i)| i);
        if let Some((_, w, _)) = acked
            .iter()
            .find(|&&(k, w, done)| k == key && w > p && done < op.invoke_index)
        {
            v.push(format!(
                "stale read({key}) = {value} (index {p}) at {}: the write at index {w} completed before it began",
                op.invoke_time
            ));
        }
        if let (Some(&inv), Some(done)) = (invoked.get(value), op.complete_index) {
            if inv > done {
                v.push(format!(
                    "read({key}) = {value} returned before the write began"
                ));
            }
        }
    }
    v
}

/// Ok-fraction of reads and writes (cas counted as writes) invoked in `[from, to)` by `clients`.
pub fn availability<P: Protocol>(
    c: &Cluster<P>,
    clients: &[NodeId],
    from: SimTime,
    to: SimTime,
) -> (f64, f64) {
    let ops = c
        .history
        .snapshot()
        .operations()
        .expect("well-formed history");
    let (mut r, mut rok, mut w, mut wok) = (0u32, 0u32, 0u32, 0u32);
    for o in ops.iter().filter(|o| {
        o.invoke_time >= from && o.invoke_time < to && o.node.is_some_and(|n| clients.contains(&n))
    }) {
        let ok = matches!(o.outcome, Outcome::Ok(_));
        if o.op.is_read_only() {
            r += 1;
            rok += u32::from(ok);
        } else {
            w += 1;
            wok += u32::from(ok);
        }
    }
    let frac = |ok: u32, all: u32| {
        if all == 0 {
            f64::NAN
        } else {
            f64::from(ok) / f64::from(all)
        }
    };
    (frac(rok, r), frac(wok, w))
}
