//! A last-writer-wins register store with anti-entropy, written against the public
//! [`Protocol`] trait, with the planted bug `lww-tie-local`.
//!
//! A replica serves every request at once from its local store. A write is stamped
//! `(ms, replica)`: `ms` is the replica's local clock in whole milliseconds, moved past the
//! stamp it holds for the key (so a write that follows what its replica has seen always wins,
//! even under clock skew), and the replica id breaks ties. The write is pushed to every peer;
//! every 50–100 ms a replica sends its whole store to one random peer. Every replica keeps, of
//! two versions, the one with the greater stamp, so all replicas converge after the heal:
//! eventual consistency.
//!
//! The bug (`Lww { tie_keeps_local: true }`): versions are compared by `ms` only and a tie
//! keeps the version already held. Two writes of one key accepted in the same millisecond by
//! two replicas each stay where they were accepted (and wherever they arrived first): the
//! replicas never converge, which the eventual checker reports.
//!
//! ```no_run
//! use bugbench::eventual::Lww;
//! use models::experiment::Experiment;
//! let run = Experiment::new(Lww::default()).run(1).unwrap();
//! assert!(run.violation().is_none());
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use actix::{Actor, Context, Handler, MessageResult};
use models::check::Model;
use models::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use models::op::{Key, Op, Ret, Value};
use models::protocol::{Membership, Protocol, ReplicaEnv};
use rand::Rng;
use sim_core::{Deliver, Durable, Env, NodeId, Timeout};

/// A version's stamp: (local clock in whole milliseconds, accepting replica).
///
/// ```
/// use sim_core::NodeId;
/// let (a, b): (bugbench::eventual::Stamp, bugbench::eventual::Stamp) = ((5, NodeId(0)), (5, NodeId(1)));
/// assert!(b > a); // the twin breaks the tie by replica
/// ```
pub type Stamp = (u64, NodeId);

/// Messages between LWW replicas: versions to merge (a push or an anti-entropy round).
///
/// ```
/// use bugbench::eventual::LwwMsg;
/// use models::op::Value;
/// use sim_core::NodeId;
/// let m = LwwMsg::Versions(vec![(0.into(), (5, NodeId(1)), Value::Int(7))]);
/// assert!(matches!(m, LwwMsg::Versions(v) if v.len() == 1));
/// ```
#[derive(Clone, Debug, Hash)]
pub enum LwwMsg {
    /// Merge these versions.
    Versions(Vec<(Key, Stamp, Value)>),
}

/// The anti-entropy timer: every 50–100 ms a replica sends its whole store to a random peer.
///
/// ```
/// use bugbench::eventual::AntiEntropy;
/// assert_eq!(format!("{:?}", AntiEntropy), "AntiEntropy");
/// ```
#[derive(Clone, Copy, Debug, Hash)]
pub struct AntiEntropy;

/// The LWW store; `tie_keeps_local: true` plants the bug `lww-tie-local`.
///
/// ```
/// use bugbench::eventual::Lww;
/// assert!(!Lww::default().tie_keeps_local);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Lww {
    /// Compare versions by time only; on a tie keep the version held (correct: false).
    pub tie_keeps_local: bool,
}

/// A replica's durable store: key -> (stamp, value); it survives crashes.
///
/// ```
/// use bugbench::eventual::Store;
/// assert!(Store::new().is_empty());
/// ```
pub type Store = BTreeMap<Key, (Stamp, Value)>;

/// An LWW replica. See the [module docs](self).
///
/// ```
/// use bugbench::eventual::{Lww, Replica};
/// use models::protocol::Protocol;
/// fn replica_type<P: Protocol<Replica = Replica>>(_: &P) {}
/// replica_type(&Lww::default());
/// ```
pub struct Replica {
    env: ReplicaEnv<Lww>,
    bug: bool,
    peers: Vec<NodeId>,
    store: Durable<Store>,
}

impl Replica {
    /// Keeps `(stamp, value)` for `key` if it wins over the version held.
    fn merge(&self, key: Key, stamp: Stamp, value: Value) {
        let mut store = self.store.borrow_mut();
        let wins = match store.get(&key) {
            None => true,
            // BUG: a tie on the clock keeps what this replica happens to hold.
            Some((held, _)) if self.bug => stamp.0 > held.0,
            Some((held, _)) => stamp > *held,
        };
        if wins {
            store.insert(key, (stamp, value));
        }
    }

    fn on_request(&mut self, client: NodeId, req: KvRequest) {
        let ret = match req.op {
            Op::Read { key } => {
                let v = self.store.borrow().get(&key).map(|(_, v)| v.clone());
                Ret::Value(v.unwrap_or(Value::Nil))
            }
            Op::Write { key, value } => {
                let ms = self.env.now().as_nanos() / 1_000_000;
                let held = self.store.borrow().get(&key).map_or(0, |((t, _), _)| *t);
                let stamp = (ms.max(held + 1), self.env.me());
                self.merge(key.clone(), stamp, value.clone());
                for &p in &self.peers {
                    let push = LwwMsg::Versions(vec![(key.clone(), stamp, value.clone())]);
                    self.env.send(p, KvMsg::Peer(push));
                }
                Ret::Ok
            }
            other => {
                let reason = format!("lww offers no {other}");
                let reply = KvReply::Fail { id: req.id, reason };
                return self.env.send(client, KvMsg::Reply(reply));
            }
        };
        let reply = KvReply::Ok {
            id: req.id,
            ret,
            session: 0,
        };
        self.env.send(client, KvMsg::Reply(reply));
    }

    fn schedule(&self) {
        let ms = self.env.rng().random_range(50..=100u64);
        self.env.set_timer(Duration::from_millis(ms), AntiEntropy);
    }
}

impl Actor for Replica {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.schedule();
    }
}

impl Handler<Deliver<KvMsg<LwwMsg>>> for Replica {
    type Result = ();
    fn handle(&mut self, d: Deliver<KvMsg<LwwMsg>>, _: &mut Context<Self>) {
        match d.msg {
            KvMsg::Request(req) => self.on_request(d.from, req),
            KvMsg::Peer(LwwMsg::Versions(vs)) => {
                for (k, s, v) in vs {
                    self.merge(k, s, v);
                }
            }
            KvMsg::Reply(_) => {}
        }
    }
}

impl Handler<Timeout<AntiEntropy>> for Replica {
    type Result = ();
    fn handle(&mut self, _: Timeout<AntiEntropy>, _: &mut Context<Self>) {
        if !self.peers.is_empty() {
            let peer = self.peers[self.env.rng().random_range(0..self.peers.len())];
            let all = self
                .store
                .borrow()
                .iter()
                .map(|(k, (s, v))| (k.clone(), *s, v.clone()))
                .collect();
            self.env.send(peer, KvMsg::Peer(LwwMsg::Versions(all)));
        }
        self.schedule();
    }
}

impl Handler<ReadLocal> for Replica {
    type Result = MessageResult<ReadLocal>;
    fn handle(&mut self, q: ReadLocal, _: &mut Context<Self>) -> Self::Result {
        let v = self.store.borrow().get(&q.key).map(|(_, v)| v.clone());
        MessageResult(v.unwrap_or(Value::Nil))
    }
}

impl Protocol for Lww {
    type Message = LwwMsg;
    type Timer = AntiEntropy;
    type Durable = Store;
    type Replica = Replica;

    fn name(&self) -> &str {
        "lww"
    }

    fn model(&self) -> Model {
        Model::Eventual
    }

    fn replica(&self, env: ReplicaEnv<Self>, store: Durable<Store>, m: &Membership) -> Replica {
        Replica {
            env,
            bug: self.tie_keeps_local,
            peers: m.peers().collect(),
            store,
        }
    }
}
