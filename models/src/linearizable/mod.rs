//! The linearizable protocol: a Raft replicated log with read-index reads at the leader.
//!
//! - **Leader election** with terms and randomized election timeouts, **log replication** with
//!   the AppendEntries consistency check and conflict truncation, **commit** on a majority of the
//!   leader's current term, and **durable** term, vote and log: all in the [`crate::raft`] core.
//! - **Only the leader serves clients.** A follower or candidate answers `NotLeader{leader}` so the
//!   client redirects (it did nothing, so the client may retry safely).
//! - **Writes and cas** are appended to the leader's log and answered once committed and applied,
//!   with cas decided in log order.
//! - **Reads** use a read index: the leader notes its commit index (at least its term's no-op),
//!   starts a heartbeat round, and answers once a majority has acknowledged that round in its
//!   term (so no newer leader existed when the read arrived) and it has applied up to the index.
//!
//! Guarantee: linearizability. Every write takes effect at its commit, inside its request's
//! lifetime; every read returns the state at an index that includes every write committed before
//! the read arrived. A leader cut off in a minority can neither commit nor confirm a read, so
//! the minority side is unavailable (CP); a leader that has not heard from a majority for an
//! election timeout steps down (check quorum) so clients stop waiting on it.
//!
//! Planted bug (`Linearizable::bug`, "stale-read"): the leader answers reads from its local state at
//! once, without confirming it is still the leader, and never steps down for lack of heartbeat
//! replies. A leader partitioned into a minority keeps serving reads while the majority elects a
//! new leader and accepts writes: its readers see stale values.
//!
//! Deeper planted bugs of the Raft core (`Linearizable::bugs`, all off by default) are
//! [`RaftBugs`]; the `bugbench` crate benchmarks them.

use std::collections::BTreeMap;

use actix::{Actor, Context, Handler, MessageResult};
use sim_core::{Deliver, Durable, Env, NodeId, SimError, SimTime, Timeout};

use crate::check::Model;
use crate::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use crate::op::{Key, Op, Ret};
use crate::protocol::{ClientRouting, Membership, Protocol, ProtocolSim, ReplicaEnv};
use crate::raft::{
    is_logged, Inspect, Persistent, Raft, RaftBugs, ReadTicket, Status, Timing, WAIT_LIMIT,
};

pub use crate::raft::{Message, Timer};

/// The linearizable protocol offers compare-and-set.
pub const CAS: bool = true;

/// Settings of a linearizable replica.
///
/// ```
/// use models::linearizable::Linearizable;
/// let cfg = Linearizable::default();
/// assert!(!cfg.bug);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Linearizable {
    /// Election, heartbeat and batching knobs of the replicated log.
    pub timing: Timing,
    /// Plant the "stale-read" bug: the leader reads locally without confirming leadership.
    pub bug: bool,
    /// Planted bugs of the Raft core (none by default; see [`RaftBugs`] and `bugbench`).
    pub bugs: RaftBugs,
}

/// A read waiting for its read index to be confirmed and applied.
struct PendingRead {
    client: NodeId,
    id: u64,
    key: Key,
    ticket: ReadTicket,
    since: SimTime,
}

/// A linearizable replica. See the module docs.
pub struct Replica<E: Env> {
    raft: Raft<E>,
    bug: bool,
    /// Highest request id seen per client: a duplicate or older request is ignored.
    seen: BTreeMap<NodeId, u64>,
    reads: Vec<PendingRead>,
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Replica<E> {
    /// A replica among `replicas`, from its durable state.
    pub fn new(
        env: E,
        durable: Durable<Persistent>,
        replicas: &[NodeId],
        cfg: &Linearizable,
    ) -> Self {
        // The bug also disables check quorum, so a deposed leader keeps believing it leads.
        let check_quorum = !cfg.bug;
        let raft = Raft::new(
            env,
            durable,
            replicas,
            cfg.timing.clone(),
            check_quorum,
            KvMsg::Peer,
            |env, to, r| env.send(to, KvMsg::Reply(r)),
        )
        .with_bugs(cfg.bugs);
        Replica {
            raft,
            bug: cfg.bug,
            seen: BTreeMap::new(),
            reads: Vec::new(),
        }
    }

    fn reply(&self, to: NodeId, reply: KvReply) {
        self.raft.env().send(to, KvMsg::Reply(reply));
    }

    /// True the first time this replica sees request `id` of `client`.
    fn fresh(&mut self, client: NodeId, id: u64) -> bool {
        let seen = self.seen.entry(client).or_insert(0);
        let fresh = id > *seen;
        *seen = (*seen).max(id);
        fresh
    }

    fn on_request(&mut self, client: NodeId, req: KvRequest) {
        if !self.fresh(client, req.id) {
            return;
        }
        if !self.raft.is_leader() {
            let leader = self.raft.leader();
            return self.reply(client, KvReply::NotLeader { id: req.id, leader });
        }
        match req.op {
            Op::Read { key } if self.bug => {
                let value = self.raft.store().get(&key);
                let session = self.raft.applied();
                let ret = Ret::Value(value);
                self.reply(
                    client,
                    KvReply::Ok {
                        id: req.id,
                        ret,
                        session,
                    },
                );
            }
            Op::Read { key } => {
                if let Some(ticket) = self.raft.read_index() {
                    let since = self.raft.env().now();
                    let (id, key) = (req.id, key);
                    self.reads.push(PendingRead {
                        client,
                        id,
                        key,
                        ticket,
                        since,
                    });
                }
            }
            op if is_logged(&op) => {
                self.raft.propose(client, req.id, op);
                self.raft.answer_when_applied(client, req.id);
            }
            _ => {
                let reason = "unsupported operation".to_string();
                self.reply(client, KvReply::Fail { id: req.id, reason });
            }
        }
    }

    /// Answers the reads whose read index is confirmed and applied; redirects those whose
    /// leadership was lost; drops the ones that waited too long.
    fn serve_reads(&mut self) {
        let now = self.raft.env().now();
        let reads = std::mem::take(&mut self.reads);
        for r in reads {
            if self.raft.read_ready(&r.ticket) {
                let ret = Ret::Value(self.raft.read_view().get(&r.key));
                let session = self.raft.applied();
                self.reply(
                    r.client,
                    KvReply::Ok {
                        id: r.id,
                        ret,
                        session,
                    },
                );
            } else if self.raft.read_lost(&r.ticket) {
                let leader = self.raft.leader();
                self.reply(r.client, KvReply::NotLeader { id: r.id, leader });
            } else if now - r.since < WAIT_LIMIT {
                self.reads.push(r);
            }
        }
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Actor for Replica<E> {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.raft.start();
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<Deliver<KvMsg<Message>>> for Replica<E> {
    type Result = ();

    fn handle(&mut self, d: Deliver<KvMsg<Message>>, _: &mut Context<Self>) {
        match d.msg {
            KvMsg::Request(req) => self.on_request(d.from, req),
            KvMsg::Peer(m) => self.raft.on_message(d.from, m),
            _ => {}
        }
        if !self.reads.is_empty() {
            self.serve_reads();
        }
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<Timeout<Timer>> for Replica<E> {
    type Result = ();

    fn handle(&mut self, t: Timeout<Timer>, _: &mut Context<Self>) {
        self.raft.on_timer(t.tag);
        if !self.reads.is_empty() {
            self.serve_reads();
        }
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<ReadLocal> for Replica<E> {
    type Result = MessageResult<ReadLocal>;

    fn handle(&mut self, q: ReadLocal, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.raft.store().get(&q.key))
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<Inspect> for Replica<E> {
    type Result = MessageResult<Inspect>;

    fn handle(&mut self, _: Inspect, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.raft.status())
    }
}

/// The replica actor as hosted in a simulation.
pub type SimReplica = Replica<ReplicaEnv<Linearizable>>;

impl Protocol for Linearizable {
    type Message = Message;
    type Timer = Timer;
    type Durable = Persistent;
    type Replica = SimReplica;

    fn name(&self) -> &str {
        "linearizable"
    }

    fn model(&self) -> Model {
        Model::Linearizable
    }

    fn replica(
        &self,
        env: ReplicaEnv<Self>,
        durable: Durable<Persistent>,
        membership: &Membership,
    ) -> SimReplica {
        Replica::new(env, durable, &membership.replicas, self)
    }

    fn routing(&self) -> ClientRouting {
        ClientRouting::FollowLeader
    }

    fn offers_cas(&self) -> bool {
        CAS
    }
}

/// A replica's Raft status (term, role, commit and applied index).
pub fn status(sim: &mut ProtocolSim<Linearizable>, node: NodeId) -> Result<Status, SimError> {
    sim.ask::<SimReplica, Inspect>(node, Inspect)
}
