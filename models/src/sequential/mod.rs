//! The sequential protocol: ZooKeeper-style ordered writes, local reads, session order.
//!
//! - **Writes** (put and cas) are totally ordered by an elected leader in one replicated log (the
//!   [`crate::raft`] core: a crashed or partitioned leader is replaced). A follower forwards a
//!   client's write to the leader it knows; once the entry is committed on a majority, the
//!   replica the client talks to answers it *when it has applied it itself* (as a ZooKeeper
//!   server does), so a client's session never runs ahead of its own replica. A replica that
//!   knows no leader answers `Fail` at once (it forwarded nothing, so the write did not happen).
//!   cas is decided in the leader's log order, like every write.
//! - **Reads** are served by whichever replica the client talks to, from its local applied
//!   prefix of the log: no communication, so reads stay available on a minority (stale).
//! - **Sessions.** Every `Ok` reply carries a session token: the log index that applied the write,
//!   or the applied index at which the read was served. A client sends the highest token it has
//!   seen, and a replica serves a read only once it has applied at least that far (it waits).
//!   So a client that moves to another replica still reads its own writes and never reads
//!   backwards.
//!
//! Guarantee: sequential consistency. All replicas apply the one log in order; every client
//! operation is placed at a log position at or after the client's previous one (writes at the
//! index that applied them, which is beyond every committed index the client has seen; reads at
//! their serving index), so the log order, with reads slotted in, is a total order that respects
//! every client's program order. Not linearizable: a read on a lagging replica misses writes
//! other clients completed earlier. Under a partition, reads on the minority side keep working
//! (stale) while its writes fail: a leader cut off from a majority steps down (check quorum).
//!
//! Planted bug (`Sequential::bug`, "no-session"): replicas ignore the client's session. The leader
//! acknowledges a forwarded write as soon as it applies it (the client's own replica may not
//! have it yet), and reads are served without waiting for the session index, so a client often
//! reads at its lagging replica a state that misses its own last write.
//!
//! Deeper planted bugs of the Raft core (`Sequential::bugs`, all off by default) are
//! [`RaftBugs`]; the `bugbench` crate benchmarks them.

use std::collections::BTreeMap;

use actix::{Actor, Context, Handler, MessageResult};
use sim_core::{Deliver, Durable, Env, NodeId, SimError, SimTime, Timeout};

use crate::check::Model;
use crate::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use crate::op::{Key, Op, Ret};
use crate::protocol::{ClientRouting, Membership, Protocol, ProtocolSim, ReplicaEnv};
use crate::raft::{
    self, is_logged, Inspect, Persistent, Raft, RaftBugs, Status, Timing, WAIT_LIMIT,
};

pub use crate::raft::Timer;

/// The sequential protocol offers compare-and-set (decided in log order by the leader).
pub const CAS: bool = true;

/// Replica-to-replica messages of the sequential protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// The replicated log.
    Raft(raft::Message),
    /// A follower passes a client's write to the leader (the follower answers the client once it
    /// has applied the write).
    Forward {
        /// The client that sent the request.
        client: NodeId,
        /// The request.
        request: KvRequest,
    },
}

/// Settings of a sequential replica.
///
/// ```
/// use models::sequential::Sequential;
/// let cfg = Sequential { bug: true, ..Sequential::default() };
/// assert!(cfg.bug);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sequential {
    /// Election, heartbeat and batching knobs of the replicated log.
    pub timing: Timing,
    /// Plant the "no-session" bug: serve reads without waiting for the client's session.
    pub bug: bool,
    /// Planted bugs of the Raft core (none by default; see [`RaftBugs`] and `bugbench`).
    pub bugs: RaftBugs,
}

/// A read waiting until the replica has applied the client's session index.
struct PendingRead {
    client: NodeId,
    id: u64,
    key: Key,
    session: u64,
    since: SimTime,
}

/// A sequential replica. See the module docs.
pub struct Replica<E: Env> {
    raft: Raft<E>,
    bug: bool,
    /// Highest request id seen per client: a duplicate or older request is ignored.
    seen: BTreeMap<NodeId, u64>,
    reads: Vec<PendingRead>,
}

fn wrap(m: raft::Message) -> KvMsg<Message> {
    KvMsg::Peer(Message::Raft(m))
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Replica<E> {
    /// A replica among `replicas`, from its durable state.
    pub fn new(
        env: E,
        durable: Durable<Persistent>,
        replicas: &[NodeId],
        cfg: &Sequential,
    ) -> Self {
        // Check quorum: a leader cut off in a minority steps down, so writes there fail fast.
        let raft = Raft::new(
            env,
            durable,
            replicas,
            cfg.timing.clone(),
            true,
            wrap,
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
        match &req.op {
            Op::Read { key } => {
                let read = PendingRead {
                    client,
                    id: req.id,
                    key: key.clone(),
                    session: if self.bug { 0 } else { req.session },
                    since: self.raft.env().now(),
                };
                self.reads.push(read);
                self.serve_reads();
            }
            op if is_logged(op) => self.submit_write(client, req),
            _ => self.reply(client, unsupported(req.id)),
        }
    }

    /// Leader: append. Follower: forward to the leader. Nobody to ask: fail. This replica
    /// answers when it applies the write (with the bug, the leader answers instead).
    fn submit_write(&mut self, client: NodeId, req: KvRequest) {
        if self.raft.is_leader() {
            self.raft.propose(client, req.id, req.op);
            self.raft.answer_when_applied(client, req.id);
        } else if let Some(leader) = self.raft.leader() {
            if !self.bug {
                self.raft.answer_when_applied(client, req.id);
            }
            let fwd = Message::Forward {
                client,
                request: req,
            };
            self.raft.env().send(leader, KvMsg::Peer(fwd));
        } else {
            let reason = "no leader".to_string();
            self.reply(client, KvReply::Fail { id: req.id, reason });
        }
    }

    fn on_forward(&mut self, client: NodeId, req: KvRequest) {
        if !self.fresh(client, req.id) {
            return;
        }
        if self.raft.is_leader() && is_logged(&req.op) {
            self.raft.propose(client, req.id, req.op);
            if self.bug {
                self.raft.answer_when_applied(client, req.id);
            }
        } else {
            // Not appended here, and the follower forwarded it nowhere else: it did not happen.
            let reason = "not leader".to_string();
            self.reply(client, KvReply::Fail { id: req.id, reason });
        }
    }

    /// Serves every waiting read whose session this replica has applied; drops stale ones.
    fn serve_reads(&mut self) {
        let applied = self.raft.applied();
        let now = self.raft.env().now();
        let reads = std::mem::take(&mut self.reads);
        for r in reads {
            if r.session <= applied {
                let value = self.raft.read_view().get(&r.key);
                let reply = KvReply::Ok {
                    id: r.id,
                    ret: Ret::Value(value),
                    session: applied,
                };
                self.reply(r.client, reply);
            } else if now - r.since < WAIT_LIMIT {
                self.reads.push(r);
            }
        }
    }
}

fn unsupported(id: u64) -> KvReply {
    KvReply::Fail {
        id,
        reason: "unsupported operation".into(),
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
            KvMsg::Peer(Message::Raft(m)) => self.raft.on_message(d.from, m),
            KvMsg::Peer(Message::Forward { client, request }) => self.on_forward(client, request),
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
pub type SimReplica = Replica<ReplicaEnv<Sequential>>;

impl Protocol for Sequential {
    type Message = Message;
    type Timer = Timer;
    type Durable = Persistent;
    type Replica = SimReplica;

    fn name(&self) -> &str {
        "sequential"
    }

    fn model(&self) -> Model {
        Model::Sequential
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
        ClientRouting::Sticky
    }

    fn offers_cas(&self) -> bool {
        CAS
    }
}

/// A replica's Raft status (term, role, commit and applied index).
pub fn status(sim: &mut ProtocolSim<Sequential>, node: NodeId) -> Result<Status, SimError> {
    sim.ask::<SimReplica, Inspect>(node, Inspect)
}
