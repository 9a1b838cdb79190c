//! Writing your own protocol with actsim, top to bottom: a primary–backup register.
//!
//! ```sh
//! cargo run --release --example custom_protocol            # the correct protocol: all seeds pass
//! cargo run --release --example custom_protocol -- --bug   # a planted bug: a failing seed
//! cargo run --release --example custom_protocol -- --bug --seed 3   # rerun exactly one seed
//! ```
//!
//! The protocol: node n0 is the primary, n1 the backup. The primary applies a write, sends it
//! to the backup, and answers the client only once the backup has acknowledged it; reads are
//! served by the primary. Clients may talk to either node: the backup forwards their requests
//! to the primary. That is linearizable.
//!
//! The planted bug (`--bug`): the primary answers a write before the backup has it, and the
//! backup serves reads itself. A client can then write, get "ok", read at the backup and see
//! the old value — a stale read, which the linearizability checker reports with the seed.
//!
//! What to copy: (1) a message enum that implements `ClientMsg`, so the ready-made key-value
//! `Client` (workload, timeouts, history recording) drives your replicas; (2) replicas written
//! against the `Env` trait only (no clocks, threads or global state: that is what makes a run a
//! function of its seed); (3) a `Sim` on sim-net's `FaultyNetwork` with a generated nemesis;
//! (4) `Runner` over seeds, `check(Model::Linearizable, ..)` on each history.

use std::collections::BTreeMap;
use std::time::Duration;

use actix::{Actor, Context, Handler};
use actsim::harness::{Runner, SeedOutcome};
use models::check::{check, CheckOptions, Model, Verdict};
use models::client::{Client, ClientConfig, ClientMsg, ClientTimer, Routing};
use models::kv::{KvReply, KvRequest};
use models::op::{Key, Op, Ret, Value};
use models::workload::Workload;
use sim_core::history::Recorder;
use sim_core::rng::Purpose;
use sim_core::{Deliver, Durable, Env, NodeId, Sim, SimEnv, SimTime, Timeout};
use sim_net::{FaultKind, FaultyNetwork, Generator, LinkConfig, NetConfig};

const PRIMARY: NodeId = NodeId(0);
const BACKUP: NodeId = NodeId(1);

// ---------------------------------------------------------------------------------------------
// 1. Messages. Every message of the simulation is one enum (it must be Clone + Debug + Hash:
//    the kernel hashes each delivered message into the trace hash).

#[derive(Clone, Debug, Hash)]
enum PbMsg {
    /// Client -> node, and node -> client (the `Client` actor speaks these two).
    Request(KvRequest),
    Reply(KvReply),
    /// Backup -> primary: a client's request, to be answered directly to `client`.
    Forward {
        client: NodeId,
        req: KvRequest,
    },
    /// Primary -> backup: the `seq`-th write. Backup -> primary: every write up to `upto` applied.
    Replicate {
        seq: u64,
        key: Key,
        value: Value,
    },
    Ack {
        upto: u64,
    },
}

/// Lets the kv `Client` wrap its requests in, and find its replies among, our messages.
impl ClientMsg for PbMsg {
    fn request(r: KvRequest) -> Self {
        PbMsg::Request(r)
    }
    fn reply(self) -> Option<KvReply> {
        match self {
            PbMsg::Reply(r) => Some(r),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The replica actor: an ordinary actix actor, generic over its `Env` (simulated here; the
//    same code runs live with `actsim::live`). Timers arrive as `Timeout<Tick>` messages.

#[derive(Clone, Copy, Debug, Hash)]
struct Tick; // the primary's retransmission timer

struct Node<E> {
    env: E,
    bug: bool,
    store: BTreeMap<Key, Value>,
    // Primary: writes sent to the backup and not yet acknowledged, by sequence number.
    unacked: BTreeMap<u64, (Key, Value, NodeId, u64)>,
    next_seq: u64,
    // Backup: writes applied so far, and those that arrived early (the network reorders).
    applied: u64,
    early: BTreeMap<u64, (Key, Value)>,
    // Highest request id seen per client: retried or duplicated requests are applied once.
    seen: BTreeMap<NodeId, u64>,
}

impl<E: Env<Msg = PbMsg, Timer = Tick>> Node<E> {
    fn new(env: E, bug: bool) -> Self {
        Node {
            env,
            bug,
            store: BTreeMap::new(),
            unacked: BTreeMap::new(),
            next_seq: 1,
            applied: 0,
            early: BTreeMap::new(),
            seen: BTreeMap::new(),
        }
    }

    fn reply(&self, client: NodeId, id: u64, ret: Ret) {
        let r = KvReply::Ok {
            id,
            ret,
            session: 0,
        };
        self.env.send(client, PbMsg::Reply(r));
    }

    /// The primary serves a client request.
    fn serve(&mut self, client: NodeId, req: KvRequest) {
        let seen = self.seen.entry(client).or_insert(0);
        if req.id <= *seen {
            return; // a duplicate
        }
        *seen = req.id;
        match req.op {
            Op::Read { key } => {
                let v = self.store.get(&key).cloned().unwrap_or(Value::Nil);
                self.reply(client, req.id, Ret::Value(v));
            }
            Op::Write { key, value } => {
                self.store.insert(key.clone(), value.clone());
                let seq = self.next_seq;
                self.next_seq += 1;
                let msg = PbMsg::Replicate {
                    seq,
                    key: key.clone(),
                    value: value.clone(),
                };
                self.env.send(BACKUP, msg);
                if self.bug {
                    // BUG: acknowledge before the backup has the write.
                    self.reply(client, req.id, Ret::Ok);
                    self.unacked.insert(seq, (key, value, client, 0));
                } else {
                    self.unacked.insert(seq, (key, value, client, req.id));
                }
            }
            other => panic!("this register offers no {other:?}"),
        }
    }

    /// The backup applies replicated writes in sequence order and acknowledges them.
    fn replicate(&mut self, seq: u64, key: Key, value: Value) {
        self.early.insert(seq, (key, value));
        while let Some((k, v)) = self.early.remove(&(self.applied + 1)) {
            self.store.insert(k, v);
            self.applied += 1;
        }
        self.env.send(PRIMARY, PbMsg::Ack { upto: self.applied });
    }
}

impl<E: Env<Msg = PbMsg, Timer = Tick>> Actor for Node<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        if self.env.me() == PRIMARY {
            self.env.set_timer(Duration::from_millis(50), Tick);
        }
    }
}

impl<E: Env<Msg = PbMsg, Timer = Tick>> Handler<Deliver<PbMsg>> for Node<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<PbMsg>, _: &mut Context<Self>) {
        let primary = self.env.me() == PRIMARY;
        match d.msg {
            PbMsg::Request(req) if primary => self.serve(d.from, req),
            PbMsg::Forward { client, req } if primary => self.serve(client, req),
            PbMsg::Request(req) => match req.op {
                // BUG: the backup answers reads from its own, possibly lagging, copy.
                Op::Read { key } if self.bug => {
                    let v = self.store.get(&key).cloned().unwrap_or(Value::Nil);
                    self.reply(d.from, req.id, Ret::Value(v));
                }
                _ => self.env.send(
                    PRIMARY,
                    PbMsg::Forward {
                        client: d.from,
                        req,
                    },
                ),
            },
            PbMsg::Replicate { seq, key, value } => self.replicate(seq, key, value),
            PbMsg::Ack { upto } => {
                // Everything up to `upto` is on both nodes: answer those clients now.
                let rest = self.unacked.split_off(&(upto + 1));
                for (_, (_, _, client, id)) in std::mem::replace(&mut self.unacked, rest) {
                    if id > 0 {
                        self.reply(client, id, Ret::Ok);
                    }
                }
            }
            PbMsg::Reply(_) | PbMsg::Forward { .. } => {}
        }
    }
}

impl<E: Env<Msg = PbMsg, Timer = Tick>> Handler<Timeout<Tick>> for Node<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<Tick>, _: &mut Context<Self>) {
        // Messages get lost: resend what the backup has not acknowledged yet.
        for (&seq, (key, value, _, _)) in self.unacked.iter().take(32) {
            let msg = PbMsg::Replicate {
                seq,
                key: key.clone(),
                value: value.clone(),
            };
            self.env.send(BACKUP, msg);
        }
        self.env.set_timer(Duration::from_millis(50), Tick);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. One run: a seed in, a history and a trace hash out.

fn run(seed: u64, bug: bool) -> SeedOutcome {
    // Two nodes and four clients; every link: 1–10 ms latency, 2% loss, reordering.
    let link = LinkConfig {
        loss: 0.02,
        ..LinkConfig::default()
    };
    let net = FaultyNetwork::new(NetConfig::new(6).with_default(link)).unwrap();
    let mut sim: Sim<PbMsg> = Sim::with_network(seed, net);
    for _ in [PRIMARY, BACKUP] {
        // The factory is called again on a restart (with the same durable state, here none).
        sim.add_node("pb", (), move |env: SimEnv<PbMsg, Tick>, _: Durable<()>| {
            Node::new(env, bug)
        });
    }
    let history = Recorder::new();
    for c in 0..4u32 {
        let cfg = ClientConfig {
            index: c,
            clients: 4,
            routing: Routing::Sticky {
                home: NodeId(c % 2),
            }, // half on the primary, half on the backup
            timeout: Duration::from_millis(500),
            workload: Workload {
                keys: 2,
                ..Workload::default()
            },
            cas_supported: false,
            stop_at: SimTime::from_secs(5),
        };
        let rec = history.clone();
        sim.add_node(
            format!("client{c}"),
            (),
            move |env: SimEnv<PbMsg, ClientTimer>, _| Client::new(env, cfg.clone(), rec.clone()),
        );
    }
    // The nemesis, drawn from the seed: partitions between primary and backup, and pauses,
    // from 1 s to 5 s, then everything healed.
    let mut nemesis = Generator::new([PRIMARY, BACKUP], 5_000)
        .kinds([FaultKind::Halves, FaultKind::Pause])
        .every(800, 400);
    nemesis.start_ms = 1_000;
    let schedule = nemesis.generate(&mut sim.rng(Purpose::Nemesis)).unwrap();
    schedule.install(&mut sim).unwrap();
    sim.run_until(SimTime::from_secs(6)).unwrap();

    // 4. Judge the history with the linearizability checker.
    let h = history.take();
    let violation = match check(Model::Linearizable, &h, &[], &CheckOptions::default()) {
        Verdict::Valid { .. } => None,
        Verdict::Invalid { counterexample, .. } => Some(counterexample.to_string()),
        Verdict::Unknown { reason, .. } => Some(format!("undecided: {reason}")),
    };
    SeedOutcome::from_sim(&sim, violation)
}

// ---------------------------------------------------------------------------------------------
// 5. Many seeds, in parallel; a failure comes with the line that reruns it.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bug = args.iter().any(|a| a == "--bug");
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    let flag = if bug { " --bug" } else { "" };
    let runner = Runner::new("custom_protocol")
        .seeds(0..50)
        .reproduce_with(move |s| {
            format!("cargo run --release --example custom_protocol --{flag} --seed {s}")
        });
    let runner = match seed {
        Some(s) => runner.seed_list(vec![s]),
        None => runner,
    };
    println!(
        "primary-backup register{}, checked for linearizability:",
        if bug { " WITH THE BUG" } else { "" }
    );
    let report = runner.run(|seed, _| run(seed, bug));
    println!(
        "{} seeds, {} failed, {:.1}s",
        report.seeds_run,
        report.failures.len(),
        report.elapsed_s
    );
    match report.failures.first() {
        None if bug => println!("no seed failed: try more seeds"),
        None => println!("every history is linearizable. Now try `-- --bug`."),
        Some(f) => {
            let hash = f.trace_hash.map_or(String::new(), |h| h.to_string());
            println!("first failing seed: {} (trace hash {hash})", f.seed);
            // The checker's counterexample: the longest prefix it could explain and the
            // operation that cannot be placed after it (a read of an overwritten value).
            let lines: Vec<&str> = f.violation.lines().collect();
            println!("  {}", lines[0]);
            for line in &lines[lines.len().saturating_sub(4).max(1)..] {
                println!("  {line}");
            }
            println!("reproduce it exactly: {}", f.reproduce);
            println!("Notice: that line gives the same trace hash and counterexample every");
            println!("time: a run is a function of its seed.");
        }
    }
}
