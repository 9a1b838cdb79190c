//! A multi-writer ABD quorum register (Attiya, Bar-Noy, Dolev), written against the public
//! [`Protocol`] trait, with the planted bug `abd-no-write-back`.
//!
//! The replica a client talks to coordinates its operation. A write asks every replica for its
//! highest timestamp, waits for a majority, then stores `(highest + 1, client)` and answers once
//! a majority acknowledged. A read asks a majority for their newest `(timestamp, value)`,
//! **writes it back** to a majority, then returns it: that is what makes the register
//! linearizable, because a later read's majority intersects the write-back's.
//!
//! The bug `abd-no-write-back` (`Abd { write_back: false, .. }`): the read returns the newest value of its majority
//! without the write-back. A read that sees a write still in flight (stored on a minority only)
//! returns its value; a later read whose majority misses that minority returns the older value:
//! a new-old inversion, which the linearizability checker reports.
//!
//! The bug `abd-write-no-query` (`Abd { write_query: false, .. }`): a write skips the query
//! phase and stamps itself one above the coordinator's own copy, which is correct only for a
//! single writer. A coordinator that missed a completed write (a partition, a lost store)
//! stamps a newer write below it: replicas keep the older value, the write is acknowledged
//! and lost, and a later read returns the value it overwrote.
//!
//! ```no_run
//! use bugbench::quorum::Abd;
//! use models::experiment::Experiment;
//! let run = Experiment::new(Abd::default()).run(1).unwrap();
//! assert!(run.violation().is_none());
//! ```

use std::collections::{BTreeMap, BTreeSet};

use actix::{Actor, Context, Handler, MessageResult};
use models::check::Model;
use models::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use models::op::{Key, Op, Ret, Value};
use models::protocol::{Membership, Protocol, ReplicaEnv};
use sim_core::{Deliver, Durable, Env, NodeId, Timeout};

/// A timestamp: (counter, writing client); clients break ties, so timestamps are unique.
///
/// ```
/// let (older, newer): (bugbench::quorum::Ts, bugbench::quorum::Ts) = ((3, 9), (4, 1));
/// assert!(newer > older);
/// ```
pub type Ts = (u64, u64);

/// Messages between ABD replicas.
///
/// ```
/// use bugbench::quorum::AbdMsg;
/// let q = AbdMsg::Query { op: 1, key: 0.into() };
/// assert!(format!("{q:?}").starts_with("Query"));
/// ```
#[derive(Clone, Debug, Hash)]
pub enum AbdMsg {
    /// Coordinator -> replica: what is your newest version of `key`?
    Query {
        /// The coordinator's operation number.
        op: u64,
        /// The key.
        key: Key,
    },
    /// Replica -> coordinator: its newest version.
    QueryReply {
        /// The operation.
        op: u64,
        /// The version's timestamp.
        ts: Ts,
        /// Its value.
        value: Value,
    },
    /// Coordinator -> replica: keep this version if it is newer than yours.
    Store {
        /// The operation.
        op: u64,
        /// The key.
        key: Key,
        /// The version's timestamp.
        ts: Ts,
        /// Its value.
        value: Value,
    },
    /// Replica -> coordinator: stored (or held something newer).
    StoreAck {
        /// The operation.
        op: u64,
    },
}

/// The ABD register; `write_back: false` plants the bug `abd-no-write-back`,
/// `write_query: false` the bug `abd-write-no-query`.
///
/// ```
/// use bugbench::quorum::Abd;
/// assert!(Abd::default().write_back && Abd::default().write_query);
/// ```
#[derive(Clone, Debug)]
pub struct Abd {
    /// Reads write the value they return back to a majority (correct: true).
    pub write_back: bool,
    /// Writes first ask a majority for the highest timestamp (correct: true). Without it the
    /// coordinator stamps the write above its own copy only, as a single-writer register may.
    pub write_query: bool,
}

impl Default for Abd {
    fn default() -> Self {
        Abd {
            write_back: true,
            write_query: true,
        }
    }
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

/// An ABD replica. See the [module docs](self).
///
/// ```
/// use bugbench::quorum::{Abd, Replica};
/// use models::protocol::Protocol;
/// fn replica_type<P: Protocol<Replica = Replica>>(_: &P) {}
/// replica_type(&Abd::default());
/// ```
pub struct Replica {
    env: ReplicaEnv<Abd>,
    write_back: bool,
    write_query: bool,
    members: Membership,
    /// The stored register values: durable, since a replica that forgot an acknowledged store
    /// after a crash would break the quorum intersection (and linearizability) on its own.
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
        self.data
            .borrow()
            .get(key)
            .cloned()
            .unwrap_or(((0, 0), Value::Nil))
    }

    fn on_request(&mut self, client: NodeId, req: KvRequest) {
        if !self.started.insert((client, req.id)) {
            return; // a duplicate of a request already started
        }
        let (key, write) = match req.op {
            Op::Read { key } => (key, None),
            Op::Write { key, value } => (key, Some(value)),
            other => {
                let reason = format!("abd offers no {other}");
                let reply = KvReply::Fail { id: req.id, reason };
                return self.env.send(client, KvMsg::Reply(reply));
            }
        };
        let op = self.next_op;
        self.next_op += 1;
        if let (Some(value), false) = (&write, self.write_query) {
            // BUG: the timestamp is above this replica's copy, not above a majority's.
            let ts = (
                self.local(&key).0 .0 + 1,
                writer(client, self.members.index, op),
            );
            let value = value.clone();
            let storing = Some((ts, value.clone(), BTreeSet::new()));
            let p = Pending {
                client,
                req: req.id,
                key: key.clone(),
                write,
                replies: BTreeMap::new(),
                storing,
            };
            self.pending.insert(op, p);
            return self.everyone(AbdMsg::Store { op, key, ts, value });
        }
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

    fn answer(&mut self, op: u64, value: Value) {
        let Some(p) = self.pending.remove(&op) else {
            return;
        };
        let ret = if p.write.is_some() {
            Ret::Ok
        } else {
            Ret::Value(value)
        };
        let reply = KvReply::Ok {
            id: p.req,
            ret,
            session: 0,
        };
        self.env.send(p.client, KvMsg::Reply(reply));
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
                    Some(v) => ((ts.0 + 1, writer(p.client, self.members.index, op)), v),
                    None if !self.write_back => {
                        // BUG: the newest value of one majority, not written back.
                        return self.answer(op, value);
                    }
                    None => (ts, value),
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
                if acks.len() >= majority {
                    let value = value.clone();
                    self.answer(op, value);
                }
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
        data: Durable<BTreeMap<Key, (Ts, Value)>>,
        m: &Membership,
    ) -> Replica {
        // Operation ids start at a random point of this incarnation: replies to operations a
        // crashed incarnation coordinated must not match the new ones.
        let next_op = rand::Rng::random::<u64>(&mut *env.rng()) >> 1;
        Replica {
            env,
            write_back: self.write_back,
            write_query: self.write_query,
            members: m.clone(),
            data,
            pending: BTreeMap::new(),
            next_op,
            started: BTreeSet::new(),
        }
    }
}

/// A tie-breaker unique to one write: its client, its coordinator and the coordinator's
/// operation id.
fn writer(client: sim_core::NodeId, coordinator: usize, op: u64) -> u64 {
    sim_core::hash::stable_hash(&(client.0, coordinator, op))
}
