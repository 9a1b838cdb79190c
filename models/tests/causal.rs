//! Integration tests of the causal protocol: convergence and durability under partitions,
//! crashes, pauses, loss and duplication; sessions never seeing an effect before its cause;
//! availability on both sides of a partition; and the planted bug `no-deps`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

mod common;

use actix::{Actor, Context, Handler};
use common::{heal, lossy_net, net, split};
use models::causal::{self, Causal, Store};
use models::client::ClientMsg;
use models::kv::{KvMsg, KvReply, KvRequest};
use models::op::{Key, KvHistory, Op, Ret, Value};
use models::protocol::{add_replica, local_value, Protocol, ProtocolSim};
use models::runner::{RunOptions, Runner, SeedOutcome};
use sim_core::history::{Outcome, Recorder};
use sim_core::{Deliver, Durable, Env, NodeId, Sim, SimEnv, SimTime, Timeout};
use sim_net::FaultyNetwork;

/// The messages of a causal simulation.
type Msg = KvMsg<causal::Message>;

/// The seed runner for test `name` of this file (`ACTSIM_SEED`, `ACTSIM_SEEDS`, ...), with a
/// reproduce line that reruns exactly that test.
fn runner(name: &'static str, seeds: std::ops::Range<u64>) -> Runner {
    Runner::new(name)
        .seeds(seeds)
        .from_env()
        .reproduce_with(move |s| {
            format!("ACTSIM_SEED={s} cargo test -p models --test causal {name} -- --exact")
        })
}

// ---------------------------------------------------------------------------------------------
// Building a cluster with clients.

const KEYS: u32 = 4;

struct Cluster {
    sim: ProtocolSim<Causal>,
    replicas: Vec<NodeId>,
    /// `clients[i]` is sticky to `replicas[i % n]`.
    clients: Vec<NodeId>,
    history: Recorder<Op, Ret>,
}

/// `n` replicas and `per_replica` sticky clients each; clients invoke nothing after `stop_at`.
fn cluster(
    seed: u64,
    n: usize,
    per_replica: usize,
    cfg: &Causal,
    net: FaultyNetwork<Msg>,
    stop_at: SimTime,
) -> Cluster {
    let mut sim: ProtocolSim<Causal> = Sim::with_network(seed, net);
    let replicas: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    for i in 0..n {
        add_replica(&mut sim, cfg, i, &replicas);
    }
    let (clients, history) = common::add_sticky_clients(
        &mut sim,
        &replicas,
        per_replica,
        KEYS,
        cfg.offers_cas(),
        stop_at,
    );
    Cluster {
        sim,
        replicas,
        clients,
        history,
    }
}

/// Partitions, crashes, restarts and pauses between 1 s and 7 s.
fn nemesis(c: &mut Cluster) {
    common::scripted_nemesis(&mut c.sim, &c.replicas);
}

fn final_values(c: &mut Cluster) -> Vec<BTreeMap<Key, Value>> {
    common::final_values::<Causal>(&mut c.sim, &c.replicas, KEYS)
}

/// The values of every write a replica has applied (from its durable store).
fn applied_values(sim: &ProtocolSim<Causal>, node: NodeId) -> BTreeSet<Value> {
    let store = sim.durable::<Store>(node).unwrap();
    let values = store.borrow().writes().map(|w| w.value.clone()).collect();
    values
}

/// A write as the checker below sees it.
struct WriteInfo {
    process: u64,
    /// Its position among its process's writes.
    pos: usize,
    /// Its causal past, itself included: for each process, how many of its writes.
    past: BTreeMap<u64, usize>,
}

/// Reads that see an effect before its cause (or a value never written).
///
/// Causal order here is session order plus reads-from, closed transitively, tracked as a vector
/// of per-process write counts. Causal+ (even plain causal consistency) forbids a read of `k` to
/// return nil when some write of `k` is in its causal past, or a value `v` when a write of `k`
/// that causally follows `v`'s write is in its past (`v` was causally overwritten). A smaller
/// cousin of the causal checker, enough for these tests.
fn causal_violations(history: &KvHistory) -> Vec<String> {
    let ops = history.operations().unwrap();
    // Invocations and completions, in history order.
    let mut events: Vec<(usize, bool, usize)> = Vec::new();
    for (n, o) in ops.iter().enumerate() {
        events.push((o.invoke_index, true, n));
        if let Some(c) = o.complete_index {
            events.push((c, false, n));
        }
    }
    events.sort_unstable();

    let mut writes: Vec<WriteInfo> = Vec::new();
    let mut by_value: BTreeMap<Value, usize> = BTreeMap::new();
    // (process, key) -> (position, index in `writes`) of its writes of that key.
    let mut by_key: BTreeMap<(u64, Key), Vec<(usize, usize)>> = BTreeMap::new();
    let mut count: BTreeMap<u64, usize> = BTreeMap::new();
    let mut past: BTreeMap<u64, BTreeMap<u64, usize>> = BTreeMap::new();
    let mut violations = Vec::new();
    for (_, invoke, n) in events {
        let o = &ops[n];
        let p = o.process;
        match (&o.op, &o.outcome, invoke) {
            (Op::Write { key, value }, outcome, true) if *outcome != Outcome::Fail => {
                let pos = *count.entry(p).and_modify(|c| *c += 1).or_insert(0);
                let mine = past.entry(p).or_default();
                mine.insert(p, pos + 1);
                by_value.insert(value.clone(), writes.len());
                by_key
                    .entry((p, key.clone()))
                    .or_default()
                    .push((pos, writes.len()));
                writes.push(WriteInfo {
                    process: p,
                    pos,
                    past: mine.clone(),
                });
            }
            (Op::Read { key }, Outcome::Ok(Ret::Value(v)), false) => {
                let mine = past.entry(p).or_default();
                // The latest write of `key` by each process within p's causal past.
                let latest = mine.iter().filter_map(|(&q, &upto)| {
                    let ws = by_key.get(&(q, key.clone()))?;
                    let k = ws.partition_point(|&(pos, _)| pos < upto);
                    k.checked_sub(1).map(|k| &writes[ws[k].1])
                });
                if v.is_nil() {
                    if let Some(w) = latest.into_iter().next() {
                        violations.push(format!(
                            "process {p} read {key} = nil with a write of it by process {} \
                             in its causal past",
                            w.process
                        ));
                    }
                    continue;
                }
                let Some(&wv) = by_value.get(v) else {
                    violations.push(format!("process {p} read {v}, never written"));
                    continue;
                };
                let read = &writes[wv];
                let overwritten = latest
                    .into_iter()
                    .any(|w| w.past.get(&read.process).is_some_and(|&c| c > read.pos + 1));
                if overwritten {
                    violations.push(format!(
                        "process {p} read {key} = {v}, causally overwritten in its past"
                    ));
                }
                for (&q, &c) in &read.past {
                    let e = mine.entry(q).or_default();
                    *e = (*e).max(c);
                }
            }
            _ => {}
        }
    }
    violations
}

fn lossy() -> FaultyNetwork<Msg> {
    lossy_net(0.05, 0.02)
}

/// A chaotic run: 5 replicas, 2 clients each, partitions, crashes, pauses, loss, duplication.
/// `opts`: the seed runner's (trace file, event hashes).
fn chaotic_run(seed: u64, cfg: &Causal, opts: &RunOptions) -> Cluster {
    let mut c = cluster(seed, 5, 2, cfg, lossy(), SimTime::from_secs(8));
    common::attach(opts, &mut c.sim);
    nemesis(&mut c);
    c.sim.run_until(SimTime::from_secs(10)).unwrap();
    c
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn replicas_converge_and_keep_every_acknowledged_write() {
    runner("replicas_converge_and_keep_every_acknowledged_write", 1..5)
        .run(|seed, opts| {
            let mut c = chaotic_run(seed, &Causal::default(), opts);
            let finals = final_values(&mut c);
            assert!(
                finals.iter().all(|f| f == &finals[0]),
                "seed {seed}: replicas diverged after the heal: {finals:?}"
            );
            let acknowledged: Vec<Value> = c
                .history
                .snapshot()
                .operations()
                .unwrap()
                .into_iter()
                .filter_map(|o| match (o.op, o.outcome) {
                    (Op::Write { value, .. }, Outcome::Ok(_)) => Some(value),
                    _ => None,
                })
                .collect();
            assert!(acknowledged.len() > 200, "seed {seed}: too few writes");
            for &r in &c.replicas {
                let applied = applied_values(&c.sim, r);
                let lost: Vec<&Value> = acknowledged
                    .iter()
                    .filter(|v| !applied.contains(v))
                    .collect();
                assert!(
                    lost.is_empty(),
                    "seed {seed}: {r} lacks acknowledged writes {lost:?}"
                );
            }
            SeedOutcome::from_sim(&c.sim, None)
        })
        .assert_ok();
}

#[test]
fn sessions_never_see_an_effect_before_its_cause() {
    runner("sessions_never_see_an_effect_before_its_cause", 1..9)
        .run(|seed, opts| {
            let c = chaotic_run(seed, &Causal::default(), opts);
            let v = causal_violations(&c.history.snapshot());
            assert!(v.is_empty(), "seed {seed}: {v:#?}");
            SeedOutcome::from_sim(&c.sim, None)
        })
        .assert_ok();
}

#[test]
fn no_deps_bug_shows_an_effect_before_its_cause() {
    let cfg = Causal {
        bug: true,
        ..Causal::default()
    };
    // A push must be lost (or overtaken) and a reader must look at both keys inside the repair
    // window, on a key nobody else overwrote meanwhile: rare (the first seed that shows it is
    // beyond 25 since Raft and client ids were keyed by identity; before, about one in eight).
    // Each seed reports (the bug showed, the replicas converged).
    let report = runner("no_deps_bug_shows_an_effect_before_its_cause", 1..41).run(|seed, opts| {
        let mut c = chaotic_run(seed, &cfg, opts);
        let showed = !causal_violations(&c.history.snapshot()).is_empty();
        let finals = final_values(&mut c);
        let converged = finals.iter().all(|f| f == &finals[0]);
        SeedOutcome::from_sim(&c.sim, None).with((showed, converged))
    });
    report.assert_ok();
    let found: Vec<&SeedOutcome<(bool, bool)>> =
        report.outcomes.iter().filter(|o| o.value.0).collect();
    assert!(!found.is_empty(), "the bug never showed");
    // The bug does not break convergence: dependencies are still tracked.
    assert!(
        found[0].value.1,
        "seed {}: replicas diverged",
        found[0].seed
    );
}

#[test]
fn every_request_succeeds_on_both_sides_of_a_partition() {
    let mut c = cluster(11, 5, 2, &Causal::default(), net(), SimTime::from_secs(9));
    let r = c.replicas.clone();
    let side = |rs: &[NodeId], cs: &[NodeId]| -> Vec<NodeId> {
        let mut v = rs.to_vec();
        v.extend(
            cs.iter()
                .enumerate()
                .filter(|(i, _)| rs.contains(&r[i % 5]))
                .map(|(_, &c)| c),
        );
        v
    };
    let (maj, min) = (side(&r[..3], &c.clients), side(&r[3..], &c.clients));
    c.sim
        .schedule(SimTime::from_secs(1), "split 3|2", move |s| {
            split(s, maj, min)
        });
    c.sim.run_until(SimTime::from_secs(10)).unwrap();

    let ops = c.history.snapshot().operations().unwrap();
    let ok = ops
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
        .count();
    assert!(ops.len() > 1000, "too few operations: {}", ops.len());
    assert_eq!(ok, ops.len(), "some operations did not succeed");
    let finals = final_values(&mut c);
    assert_eq!(finals[0], finals[2]);
    assert_eq!(finals[3], finals[4]);
}

/// Records the replies it receives; sends nothing on its own.
struct Probe<E> {
    _env: E,
    replies: Rc<RefCell<Vec<KvReply>>>,
}

impl<E: Env<Timer = ()>> Actor for Probe<E> {
    type Context = Context<Self>;
}

impl<E: Env<Timer = ()>> Handler<Deliver<E::Msg>> for Probe<E>
where
    E::Msg: ClientMsg,
{
    type Result = ();
    fn handle(&mut self, d: Deliver<E::Msg>, _: &mut Context<Self>) {
        if let Some(r) = d.msg.reply() {
            self.replies.borrow_mut().push(r);
        }
    }
}

impl<E: Env<Timer = ()>> Handler<Timeout<()>> for Probe<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {}
}

#[test]
fn restarted_replica_keeps_acknowledged_writes_and_sequence_numbers() {
    let mut sim: ProtocolSim<Causal> = Sim::with_network(9, net());
    let replicas = [NodeId(0), NodeId(1), NodeId(2)];
    for i in 0..3 {
        add_replica(&mut sim, &Causal::default(), i, &replicas);
    }
    let replies = Rc::new(RefCell::new(Vec::new()));
    let r = Rc::clone(&replies);
    let probe = sim.add_node("probe", (), move |env: SimEnv<Msg, ()>, _: Durable<()>| {
        Probe {
            _env: env,
            replies: Rc::clone(&r),
        }
    });
    let (n0, others) = (NodeId(0), vec![NodeId(1), NodeId(2)]);
    split(&mut sim, vec![n0], others);
    let write = |sim: &mut ProtocolSim<Causal>, id: u64, key: i64, v: i64| {
        let op = Op::write(key, v);
        sim.post(probe, n0, KvMsg::Request(KvRequest { id, op, session: 0 }));
        sim.run_for(Duration::from_millis(50)).unwrap();
    };
    write(&mut sim, 1, 0, 10);
    write(&mut sim, 2, 1, 11);
    write(&mut sim, 3, 0, 12);
    sim.crash(n0).unwrap();
    sim.run_for(Duration::from_millis(100)).unwrap();
    sim.restart(n0).unwrap();
    sim.run_for(Duration::from_millis(100)).unwrap();
    // Nothing could leave n0, yet it still has its writes after the restart...
    assert_eq!(
        local_value::<Causal>(&mut sim, n0, &0.into()).unwrap(),
        Value::Int(12)
    );
    assert_eq!(
        local_value::<Causal>(&mut sim, n0, &1.into()).unwrap(),
        Value::Int(11)
    );
    // ...and numbers the next one after them.
    write(&mut sim, 4, 1, 13);
    let store = sim.durable::<Store>(n0).unwrap();
    let seqs: Vec<u64> = store.borrow().writes().map(|w| w.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(replies.borrow().len(), 4);
    // After the heal every replica catches up, in causal order.
    heal(&mut sim);
    sim.run_for(Duration::from_secs(1)).unwrap();
    for r in replicas {
        assert_eq!(
            local_value::<Causal>(&mut sim, r, &0.into()).unwrap(),
            Value::Int(12)
        );
        assert_eq!(
            local_value::<Causal>(&mut sim, r, &1.into()).unwrap(),
            Value::Int(13)
        );
    }
}

#[test]
fn same_seed_same_trace() {
    let run = |seed| {
        chaotic_run(seed, &Causal::default(), &RunOptions::default())
            .sim
            .trace_hash()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}
