//! Writing your own protocol with actsim, top to bottom: a primary–backup register.
//!
//! ```sh
//! cargo run --example custom_protocol -- sweep --seeds 0..50             # correct: every seed passes
//! cargo run --example custom_protocol -- sweep --bug ack-early           # planted bug: failing seeds
//! cargo run --example custom_protocol -- run --bug ack-early --seed 3    # rerun one seed exactly
//! cargo run --example custom_protocol -- shrink --bug ack-early --seed 3 # the smallest failing run
//! cargo run --example custom_protocol -- replay actsim-repro.json        # run the shrunk file
//! ```
//!
//! The protocol: node n0 is the primary, n1 the backup. The primary applies a write, sends it
//! to the backup, and answers the client only once the backup has acknowledged it; reads are
//! served by the primary. Clients may talk to either node: the backup forwards their requests
//! to the primary. That is linearizable.
//!
//! The planted bug (`--bug ack-early`): the primary answers a write before the backup has it,
//! and the backup serves reads itself. A client can then write, get "ok", read at the backup
//! and see the old value — a stale read, which the linearizability checker reports with the
//! seed, the line that reproduces it and the line that shrinks it.
//!
//! What to copy: (1) the protocol's own messages as one enum, carried in `KvMsg` next to the
//! client requests and replies that the ready-made client sends and records; (2) replicas
//! written against the `Env` trait only (no clocks, threads or global state: that is what makes
//! a run a function of its seed); (3) `impl Protocol`: how replica i is built, which model it
//! promises, how clients route; (4) the command line: `Cli` gives run / sweep / shrink /
//! replay / cap for it; (5) optionally, `env.cover(&state)` where your protocol reaches a state
//! worth exploring from (here: a replicated write arriving early or again), which the
//! coverage-guided search (`sweep --strategy coverage`) keeps and branches from.
//! `tests/own_protocol.rs` tests a protocol in ten lines with `Experiment::sweep`.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use actix::{Actor, Context, Handler, MessageResult};
use actsim::cli::Cli;
use models::check::Model;
use models::experiment::{Nemesis, Setup};
use models::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use models::op::{Key, Op, Ret, Value};
use models::protocol::{ClientRouting, Membership, Protocol, ReplicaEnv};
use sim_core::{Deliver, Durable, Env, NodeId, Timeout};
use sim_net::{FaultKind, LinkConfig};

const PRIMARY: NodeId = NodeId(0);
const BACKUP: NodeId = NodeId(1);

// ---------------------------------------------------------------------------------------------
// 1. Messages between the two nodes (it must be Clone + Debug + Hash: the kernel hashes each
//    delivered message into the trace hash). Client requests and replies travel as
//    `KvMsg::Request` / `KvMsg::Reply`, these as `KvMsg::Peer`.

#[derive(Clone, Debug, Hash)]
pub enum PbMsg {
    /// Backup -> primary: a client's request, to be answered directly to `client`.
    Forward { client: NodeId, req: KvRequest },
    /// Primary -> backup: the `seq`-th write.
    Replicate { seq: u64, key: Key, value: Value },
    /// Backup -> primary: every write up to `upto` applied.
    Ack { upto: u64 },
}

// ---------------------------------------------------------------------------------------------
// 2. The replica actor: an ordinary actix actor, generic over its `Env` (simulated here; the
//    same code runs live with `actsim::live`). Timers arrive as `Timeout<Tick>` messages.

#[derive(Clone, Copy, Debug, Hash)]
pub struct Tick; // the primary's retransmission timer

pub struct Node<E> {
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

impl<E: Env<Msg = KvMsg<PbMsg>, Timer = Tick>> Node<E> {
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
        self.env.send(client, KvMsg::Reply(r));
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
                self.env.send(BACKUP, KvMsg::Peer(msg));
                if self.bug {
                    // BUG: acknowledge before the backup has the write.
                    self.reply(client, req.id, Ret::Ok);
                    self.unacked.insert(seq, (key, value, client, 0));
                } else {
                    self.unacked.insert(seq, (key, value, client, req.id));
                }
            }
            other => {
                let reason = format!("this register offers no {other}");
                let fail = KvReply::Fail { id: req.id, reason };
                self.env.send(client, KvMsg::Reply(fail));
            }
        }
    }

    /// The backup applies replicated writes in sequence order and acknowledges them.
    fn replicate(&mut self, seq: u64, key: Key, value: Value) {
        // A state for coverage-guided search (`sweep --strategy coverage`): did this write
        // arrive in order, early (a gap before it) or again?
        let order = seq.cmp(&(self.applied + 1));
        self.env.cover(&("backup receives", order));
        self.early.insert(seq, (key, value));
        while let Some((k, v)) = self.early.remove(&(self.applied + 1)) {
            self.store.insert(k, v);
            self.applied += 1;
        }
        self.env
            .send(PRIMARY, KvMsg::Peer(PbMsg::Ack { upto: self.applied }));
    }
}

impl<E: Env<Msg = KvMsg<PbMsg>, Timer = Tick>> Actor for Node<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        if self.env.me() == PRIMARY {
            self.env.set_timer(Duration::from_millis(50), Tick);
        }
    }
}

impl<E: Env<Msg = KvMsg<PbMsg>, Timer = Tick>> Handler<Deliver<KvMsg<PbMsg>>> for Node<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<KvMsg<PbMsg>>, _: &mut Context<Self>) {
        let primary = self.env.me() == PRIMARY;
        match d.msg {
            KvMsg::Request(req) if primary => self.serve(d.from, req),
            KvMsg::Peer(PbMsg::Forward { client, req }) if primary => self.serve(client, req),
            KvMsg::Request(req) => match req.op {
                // BUG: the backup answers reads from its own, possibly lagging, copy.
                Op::Read { key } if self.bug => {
                    let v = self.store.get(&key).cloned().unwrap_or(Value::Nil);
                    self.reply(d.from, req.id, Ret::Value(v));
                }
                _ => self.env.send(
                    PRIMARY,
                    KvMsg::Peer(PbMsg::Forward {
                        client: d.from,
                        req,
                    }),
                ),
            },
            KvMsg::Peer(PbMsg::Replicate { seq, key, value }) => self.replicate(seq, key, value),
            KvMsg::Peer(PbMsg::Ack { upto }) => {
                // Everything up to `upto` is on both nodes: answer those clients now.
                let rest = self.unacked.split_off(&(upto + 1));
                for (_, (_, _, client, id)) in std::mem::replace(&mut self.unacked, rest) {
                    if id > 0 {
                        self.reply(client, id, Ret::Ok);
                    }
                }
            }
            KvMsg::Reply(_) | KvMsg::Peer(PbMsg::Forward { .. }) => {}
        }
    }
}

impl<E: Env<Msg = KvMsg<PbMsg>, Timer = Tick>> Handler<Timeout<Tick>> for Node<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<Tick>, _: &mut Context<Self>) {
        // Messages get lost: resend what the backup has not acknowledged yet.
        for (&seq, (key, value, _, _)) in self.unacked.iter().take(32) {
            let msg = PbMsg::Replicate {
                seq,
                key: key.clone(),
                value: value.clone(),
            };
            self.env.send(BACKUP, KvMsg::Peer(msg));
        }
        self.env.set_timer(Duration::from_millis(50), Tick);
    }
}

impl<E: Env<Msg = KvMsg<PbMsg>, Timer = Tick>> Handler<ReadLocal> for Node<E> {
    type Result = MessageResult<ReadLocal>;
    /// The final reads after the heal: this node's value of a key.
    fn handle(&mut self, q: ReadLocal, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.store.get(&q.key).cloned().unwrap_or(Value::Nil))
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The protocol: a small value (here: is the bug on?) that builds the replicas. (Public, with
//    its message, timer and replica types, only so that tests/hand_made.rs and the shrink
//    bench can include this file as a module.)

#[derive(Clone, Debug, Default)]
pub struct PrimaryBackup {
    /// The planted bug `ack-early` is on.
    pub bug: bool,
}

impl Protocol for PrimaryBackup {
    type Message = PbMsg;
    type Timer = Tick;
    type Durable = (); // nothing survives a crash
    type Replica = Node<ReplicaEnv<Self>>;

    fn name(&self) -> &str {
        "primary-backup"
    }

    fn model(&self) -> Model {
        Model::Linearizable
    }

    fn replica(&self, env: ReplicaEnv<Self>, _: Durable<()>, _: &Membership) -> Self::Replica {
        Node::new(env, self.bug)
    }

    fn routing(&self) -> ClientRouting {
        ClientRouting::Sticky // half the clients on each node; the backup forwards
    }

    fn check_replicas(&self, n: u32) -> Result<(), String> {
        (n == 2)
            .then_some(())
            .ok_or_else(|| "primary-backup runs on exactly 2 nodes".into())
    }

    /// Two nodes, four clients on two keys; 1–10 ms links with 2% loss; partitions between
    /// primary and backup and pauses from 1 s to 5 s, then the heal.
    fn setup(&self) -> Setup {
        let mut s = Setup {
            replicas: 2,
            clients: 4,
            healthy: Duration::from_secs(1),
            faulty: Duration::from_secs(4),
            quiet: Duration::from_secs(1),
            client_timeout: Duration::from_millis(500),
            link: LinkConfig {
                loss: 0.02,
                ..LinkConfig::default()
            },
            nemesis: Nemesis::random([FaultKind::Halves, FaultKind::Pause]),
            ..Setup::default()
        };
        s.workload.keys = 2;
        s
    }
}

// ---------------------------------------------------------------------------------------------
// 4. The command line: run, sweep, shrink, replay, cap and check for this protocol.

fn main() -> ExitCode {
    Cli::new()
        .command_line("cargo run --example custom_protocol --")
        .protocol("primary-backup", PrimaryBackup::default)
        .bug(
            "ack-early",
            "the primary acknowledges writes before the backup has them; the backup serves reads",
            || PrimaryBackup { bug: true },
        )
        .run()
}
