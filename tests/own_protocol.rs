//! A protocol that is not one of the built-ins, written here from scratch against the public
//! API only, run through everything actsim gives a protocol: a sweep, a failing seed, its
//! reproduce line (same trace hash), shrinking, a replay file, and the command line.
//!
//! The protocol is a multi-writer ABD quorum register (Attiya, Bar-Noy, Dolev): the replica a
//! client talks to coordinates its operation. A write asks a majority for their highest
//! timestamp, then stores (highest + 1, writer) at a majority; a read asks a majority for their
//! newest (timestamp, value), writes it back to a majority, then returns it. That is
//! linearizable. The planted bug `read-one` answers reads from the coordinator's own copy.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use actix::{Actor, Context, Handler, MessageResult};
use actsim::cli::Cli;
use actsim::harness::Runner;
use models::check::Model;
use models::experiment::{Experiment, Explicit, Nemesis, PinnedOp, Setup};
use models::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use models::op::{Key, Op, Ret, Value};
use models::protocol::{Membership, Protocol, ReplicaEnv};
use models::shrink::Repro;
use sim_core::{Deliver, Durable, Env, NodeId, Timeout};
use sim_net::{Fault, FaultKind, PartitionSpec, Schedule};

/// A timestamp: (counter, writing client) — clients break ties, so timestamps are unique.
type Ts = (u64, u64);

#[derive(Clone, Debug, Hash)]
enum AbdMsg {
    Query {
        op: u64,
        key: Key,
    },
    QueryReply {
        op: u64,
        ts: Ts,
        value: Value,
    },
    Store {
        op: u64,
        key: Key,
        ts: Ts,
        value: Value,
    },
    StoreAck {
        op: u64,
    },
}

#[derive(Clone, Debug, Default)]
struct Abd {
    read_one: bool,
}

/// An operation this replica coordinates.
struct Pending {
    client: NodeId,
    req: u64,
    key: Key,
    /// `Some(value)` for a write.
    write: Option<Value>,
    replies: BTreeMap<NodeId, (Ts, Value)>,
    /// Set once the store phase started: what is stored, and who acknowledged.
    storing: Option<(Ts, Value, BTreeSet<NodeId>)>,
}

struct Replica {
    env: ReplicaEnv<Abd>,
    bug: bool,
    members: Membership,
    /// Durable: a replica that forgot an acknowledged store after a crash would break the
    /// quorum intersection on its own.
    data: Durable<BTreeMap<Key, (Ts, Value)>>,
    pending: BTreeMap<u64, Pending>,
    next_op: u64,
    /// Client requests this incarnation has started: a request the network duplicated must not
    /// run twice (a second run of a completed write would bring its value back later).
    started: BTreeSet<(NodeId, u64)>,
}

impl Replica {
    fn everyone(&self, msg: AbdMsg) {
        for &r in &self.members.replicas {
            self.env.send(r, KvMsg::Peer(msg.clone()));
        }
    }

    fn local(&self, key: &Key) -> (Ts, Value) {
        let data = self.data.borrow();
        data.get(key).cloned().unwrap_or(((0, 0), Value::Nil))
    }

    fn on_request(&mut self, client: NodeId, req: KvRequest) {
        if !self.started.insert((client, req.id)) {
            return; // a duplicate of a request already started
        }
        let (key, write) = match req.op {
            Op::Read { key } if self.bug => {
                let ret = Ret::Value(self.local(&key).1); // BUG: no quorum
                let reply = KvReply::Ok {
                    id: req.id,
                    ret,
                    session: 0,
                };
                return self.env.send(client, KvMsg::Reply(reply));
            }
            Op::Read { key } => (key, None),
            Op::Write { key, value } => (key, Some(value)),
            other => {
                let reason = format!("abd offers no {other}");
                return self
                    .env
                    .send(client, KvMsg::Reply(KvReply::Fail { id: req.id, reason }));
            }
        };
        let op = self.next_op;
        self.next_op += 1;
        self.everyone(AbdMsg::Query {
            op,
            key: key.clone(),
        });
        let p = Pending {
            client,
            req: req.id,
            key,
            write,
            replies: BTreeMap::new(),
            storing: None,
        };
        self.pending.insert(op, p);
    }

    fn on_peer(&mut self, from: NodeId, msg: AbdMsg) {
        let majority = self.members.majority();
        match msg {
            AbdMsg::Query { op, key } => {
                let (ts, value) = self.local(&key);
                self.env
                    .send(from, KvMsg::Peer(AbdMsg::QueryReply { op, ts, value }));
            }
            AbdMsg::Store { op, key, ts, value } => {
                if ts > self.local(&key).0 {
                    self.data.borrow_mut().insert(key, (ts, value));
                }
                self.env.send(from, KvMsg::Peer(AbdMsg::StoreAck { op }));
            }
            AbdMsg::QueryReply { op, ts, value } => {
                let Some(p) = self.pending.get_mut(&op) else {
                    return;
                };
                if p.storing.is_some() {
                    return;
                }
                p.replies.insert(from, (ts, value));
                if p.replies.len() < majority {
                    return;
                }
                let newest = p.replies.values().max_by_key(|(ts, _)| *ts).cloned();
                let (ts, value) = newest.unwrap_or(((0, 0), Value::Nil));
                let (ts, value) = match p.write.clone() {
                    // Ties are broken by the writing operation itself: after a timeout a
                    // client's next write can run beside its earlier one, so the client alone
                    // would not do.
                    Some(v) => ((ts.0 + 1, writer(p.client, self.members.index, op)), v),
                    None => (ts, value), // write back what is read
                };
                p.storing = Some((ts, value.clone(), BTreeSet::new()));
                let key = p.key.clone();
                self.everyone(AbdMsg::Store { op, key, ts, value });
            }
            AbdMsg::StoreAck { op } => {
                let Some(p) = self.pending.get_mut(&op) else {
                    return;
                };
                let Some((_, value, acks)) = &mut p.storing else {
                    return;
                };
                acks.insert(from);
                if acks.len() < majority {
                    return;
                }
                let ret = if p.write.is_some() {
                    Ret::Ok
                } else {
                    Ret::Value(value.clone())
                };
                let reply = KvReply::Ok {
                    id: p.req,
                    ret,
                    session: 0,
                };
                let client = p.client;
                self.pending.remove(&op);
                self.env.send(client, KvMsg::Reply(reply));
            }
        }
    }
}

impl Actor for Replica {
    type Context = Context<Self>;
}

impl Handler<Deliver<KvMsg<AbdMsg>>> for Replica {
    type Result = ();
    fn handle(&mut self, d: Deliver<KvMsg<AbdMsg>>, _: &mut Context<Self>) {
        match d.msg {
            KvMsg::Request(req) => self.on_request(d.from, req),
            KvMsg::Peer(m) => self.on_peer(d.from, m),
            KvMsg::Reply(_) => {}
        }
    }
}

impl Handler<Timeout<()>> for Replica {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {}
}

impl Handler<ReadLocal> for Replica {
    type Result = MessageResult<ReadLocal>;
    fn handle(&mut self, q: ReadLocal, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.local(&q.key).1)
    }
}

impl Protocol for Abd {
    type Message = AbdMsg;
    type Timer = ();
    type Durable = BTreeMap<Key, (Ts, Value)>;
    type Replica = Replica;

    fn name(&self) -> &str {
        "abd"
    }

    fn model(&self) -> Model {
        Model::Linearizable
    }

    fn replica(
        &self,
        env: ReplicaEnv<Self>,
        data: Durable<Self::Durable>,
        m: &Membership,
    ) -> Replica {
        // Operation ids start at a random point of each incarnation, so replies to what a
        // crashed incarnation coordinated never match a new operation.
        let next_op = rand::Rng::random::<u64>(&mut *env.rng()) >> 1;
        let pending = BTreeMap::new();
        Replica {
            env,
            bug: self.read_one,
            members: m.clone(),
            data,
            pending,
            next_op,
            started: BTreeSet::new(),
        }
    }
}

fn experiment(protocol: Abd) -> Experiment<Abd> {
    Experiment::new(protocol)
        .replicas(3)
        .clients(6)
        .nemesis(Nemesis::random([
            FaultKind::Halves,
            FaultKind::Isolate,
            FaultKind::Pause,
        ]))
}

// ------------------------------------------------------------------------------------------
// The ten-line protocol test.

#[test]
fn abd_register_is_linearizable() {
    experiment(Abd::default())
        .sweep(
            Runner::new("abd_register_is_linearizable")
                .seeds(0..8)
                .from_env(),
        )
        .assert_ok();
}

// ------------------------------------------------------------------------------------------
// What a failing protocol gets.

#[test]
fn a_planted_bug_is_found_reproduced_shrunk_and_replayed() {
    let buggy = experiment(Abd { read_one: true });
    let report = buggy.sweep(Runner::new("abd_read_one").seeds(0..8).jobs(1));
    let f = report
        .failures
        .first()
        .expect("the read-one bug fails some seed of 8");
    assert!(f.violation.starts_with("linearizable"), "{}", f.violation);
    assert!(f
        .reproduce
        .starts_with(&format!("ACTSIM_SEED={} cargo test", f.seed)));
    assert_eq!(
        f.shrink.as_deref(),
        Some(&*format!("ACTSIM_SHRINK=1 {}", f.reproduce))
    );

    // Reproduce: the same seed is the same run.
    let again = buggy.run(f.seed).expect("runs");
    assert_eq!(Some(again.outcome.summary.trace_hash), f.trace_hash);
    assert!(again.violation().is_some());

    // A seed written as a replay file (schedule and message anomalies explicit) is the same run.
    let explicit = buggy.explicit(f.seed).expect("runs");
    let replayed = buggy.replay(&explicit).expect("replays");
    assert_eq!(
        replayed.outcome.summary.trace_hash,
        again.outcome.summary.trace_hash
    );

    // Shrink: no more faults than before, still the same failure, through a file.
    let s = buggy.shrink(f.seed).expect("runs").expect("the seed fails");
    let (b, a) = (s.before, s.after);
    assert!(a.faults <= b.faults && a.operations <= b.operations && a.messages <= b.messages);
    let path = std::env::temp_dir().join(format!("actsim-abd-{}.repro.json", std::process::id()));
    s.repro.write(&path).expect("writes");
    let file = Repro::read(&path).expect("reads");
    let _ = std::fs::remove_file(&path);
    assert!(buggy.replay(&file).expect("replays").violation().is_some());

    // Shrinking never invents a failure: the correct twin passes the shrunk run.
    let twin = experiment(Abd::default()).replay(&file).expect("replays");
    assert!(twin.violation().is_none(), "{:?}", twin.violation());
}

#[test]
fn the_protocol_gets_a_command_line() {
    let cli = || {
        Cli::new()
            .command_line("abd")
            .protocol("abd", Abd::default)
            .bug(
                "read-one",
                "reads answer from the coordinator's copy",
                || Abd { read_one: true },
            )
    };
    let run = |args: &[&str]| cli().run_from(std::iter::once("abd").chain(args.iter().copied()));
    let quiet = ["--replicas", "3", "--clients", "6", "--faulty-ms", "3000"];
    let with = |a: &[&'static str]| [a, &quiet[..]].concat();
    assert_eq!(run(&with(&["run", "--seed", "1"])), ExitCode::SUCCESS);
    assert_eq!(run(&with(&["sweep", "--seeds", "0..4"])), ExitCode::SUCCESS);
    assert_eq!(
        run(&with(&["sweep", "--seeds", "0..4", "--bug", "read-one"])),
        ExitCode::from(1)
    );
    assert_eq!(
        run(&with(&["run", "--bug", "no-such-bug"])),
        ExitCode::from(2)
    );
    assert_eq!(run(&["run", "--replicas", "0"]), ExitCode::from(2));
}

/// The smallest failing run of the read-one bug, made by hand: n2 and its clients are cut off,
/// a client of n0 writes (a majority, n0 and n1, stores it), then a client of n2 reads at n2.
fn hand_made_stale_read(buggy: &Experiment<Abd>, seed: u64) -> Repro {
    // Which of client 0's operations is a write, and which of client 4's reads that key: the
    // operations are the seed's, keyed by (client, n), whatever else runs.
    let free = buggy
        .clone()
        .nemesis(Nemesis::None)
        .run(seed)
        .expect("runs");
    let ops = free
        .outcome
        .history
        .operations()
        .expect("a well-formed history");
    let of = |node: u32| {
        ops.iter()
            .filter(move |o| o.node == Some(NodeId(node)))
            .enumerate()
    };
    let (nw, key) = of(3)
        .find_map(|(n, o)| match &o.op {
            Op::Write { key, .. } => Some((n as u64, key.clone())),
            _ => None,
        })
        .expect("client 0 writes");
    let nr = of(7)
        .find_map(|(n, o)| matches!(&o.op, Op::Read { key: k } if *k == key).then_some(n as u64))
        .expect("client 4 reads that key");
    let cut_off = vec![NodeId(2), NodeId(7), NodeId(8)];
    let rest = vec![
        NodeId(0),
        NodeId(1),
        NodeId(3),
        NodeId(4),
        NodeId(5),
        NodeId(6),
    ];
    let split = Fault::Partition(PartitionSpec::Split {
        groups: vec![cut_off, rest],
    });
    let setup = Setup {
        nemesis: Nemesis::Schedule(Schedule::new().at(2_100, split)),
        explicit: Some(Explicit {
            messages: vec![],
            ops: Some(vec![
                PinnedOp {
                    client: 0,
                    n: nw,
                    at_ns: 2_500_000_000,
                },
                PinnedOp {
                    client: 4,
                    n: nr,
                    at_ns: 3_000_000_000,
                },
            ]),
        }),
        ..buggy.setup.clone()
    };
    Repro {
        protocol: "abd".into(),
        bug: None,
        seed,
        setup,
        violation: None,
    }
}

#[test]
fn the_shrunk_run_is_within_twice_the_hand_made_one() {
    let buggy = experiment(Abd { read_one: true });
    let hand = hand_made_stale_read(&buggy, 0);
    let run = buggy.replay(&hand).expect("replays");
    assert!(run.violation().is_some(), "the hand-made run fails");
    assert!(experiment(Abd::default())
        .replay(&hand)
        .expect("replays")
        .violation()
        .is_none());
    let report =
        buggy.sweep(Runner::new("the_shrunk_run_is_within_twice_the_hand_made_one").seeds(0..3));
    assert!(
        !report.failures.is_empty(),
        "the bug fails some of seeds 0..3"
    );
    for f in &report.failures {
        let s = buggy.shrink(f.seed).expect("runs").expect("fails again");
        // The hand-made run: 1 fault, 2 client operations, no message anomaly.
        assert!(
            s.after.faults <= 2 && s.after.operations <= 4 && s.after.messages == 0,
            "seed {}: {}",
            f.seed,
            s.after
        );
    }
}

#[test]
fn a_failing_seeds_trace_comes_with_its_html_report() {
    let dir = std::env::temp_dir().join(format!("actsim-abd-traces-{}", std::process::id()));
    let buggy = experiment(Abd { read_one: true });
    let report = buggy.sweep(Runner::new("abd_traced").seeds(0..2).trace_dir(&dir));
    let f = report
        .failures
        .first()
        .expect("the read-one bug fails seed 0 or 1");
    let trace = f.trace.as_ref().expect("a trace");
    assert!(trace.exists(), "{}", trace.display());
    let html = dir.join(format!("abd_traced-seed{}.report.html", f.seed));
    let page = std::fs::read_to_string(&html).expect("the report is written beside the trace");
    assert!(page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"));
    assert!(
        page.contains(&f.reproduce),
        "the page carries the reproduce line"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_strategy_finds_the_bug_and_its_seeds_replay_exactly() {
    for st in models::strategy::Strategy::ALL {
        if st == models::strategy::Strategy::Coverage {
            continue; // a search, not a per-seed setup: the test below
        }
        let buggy = experiment(Abd { read_one: true }).strategy(st);
        let report = buggy.sweep(Runner::new("abd_strategies").seeds(0..6));
        let f = report
            .failures
            .first()
            .unwrap_or_else(|| panic!("{st}: read-one fails some seed of 6"));
        let file = buggy.explicit(f.seed).expect("runs");
        assert_eq!(file.setup, {
            let mut s = buggy.materialize(f.seed).setup;
            s.nemesis = file.setup.nemesis.clone();
            s.explicit = file.setup.explicit.clone();
            s
        });
        let replayed = buggy.replay(&file).expect("replays");
        assert_eq!(
            Some(replayed.outcome.summary.trace_hash),
            f.trace_hash,
            "{st}"
        );
        assert!(experiment(Abd::default())
            .replay(&file)
            .expect("replays")
            .violation()
            .is_none());
    }
}

#[test]
fn the_coverage_search_finds_the_bug_and_its_replay_files_rerun_it() {
    use models::strategy::Strategy;
    let dir = std::env::temp_dir().join(format!("actsim-abd-coverage-{}", std::process::id()));
    let buggy = experiment(Abd { read_one: true }).strategy(Strategy::Coverage);
    let runner = Runner::new("abd_coverage").seeds(0..16).trace_dir(&dir);
    let report = buggy.sweep(runner);
    let f = report
        .failures
        .first()
        .expect("the search finds read-one in 16 runs");
    // The reproduce line replays the run's file: `ACTSIM_REPLAY=<file> ...`.
    let file = f
        .reproduce
        .strip_prefix("ACTSIM_REPLAY=")
        .and_then(|r| r.split_whitespace().next())
        .expect("the reproduce line names the replay file");
    let repro = models::shrink::Repro::read(std::path::Path::new(file)).expect("written");
    let again = buggy.replay(&repro).expect("replays");
    let first = |v: Option<String>| v.and_then(|v| v.lines().next().map(str::to_string));
    assert_eq!(
        first(again.violation()),
        first(repro.violation.clone()),
        "the file reruns the same failure"
    );
    assert!(
        f.trace.as_ref().is_some_and(|t| t.exists()),
        "a trace beside it"
    );
    assert!(experiment(Abd::default())
        .replay(&repro)
        .expect("replays")
        .violation()
        .is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tie-breaker unique to one write: its client, its coordinator and the coordinator's
/// operation id.
fn writer(client: sim_core::NodeId, coordinator: usize, op: u64) -> u64 {
    sim_core::hash::stable_hash(&(client.0, coordinator, op))
}
