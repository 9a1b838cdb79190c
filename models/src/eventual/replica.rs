//! The eventual replica actor.

use std::collections::BTreeSet;
use std::time::Duration;

use actix::{Actor, Context, Handler, MessageResult};
use rand::Rng;
use sim_core::{Deliver, Durable, Env, NodeId, Timeout};

use super::message::Message;
use super::store::{Store, Versioned};
use super::Eventual;
use crate::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use crate::op::{Key, Op, Ret, Value};

/// The eventual replica's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Start an anti-entropy round with a random peer.
    AntiEntropy,
}

/// An eventual replica: serves every read and write locally, pushes writes to its peers and
/// repairs differences by anti-entropy. See the [module docs](super).
pub struct Replica<E> {
    env: E,
    cfg: Eventual,
    /// Every other replica.
    peers: Vec<NodeId>,
    /// The key-value map; survives crashes.
    store: Durable<Store>,
    /// Client requests this incarnation has served: a request the network duplicated is
    /// served once (a second run of a write would bring its value back after later writes).
    served: BTreeSet<(NodeId, u64)>,
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Replica<E> {
    /// A replica among `replicas` (which may include itself) over `store`.
    pub fn new(env: E, replicas: &[NodeId], cfg: Eventual, store: Durable<Store>) -> Self {
        let me = env.me();
        Replica {
            peers: replicas.iter().copied().filter(|&r| r != me).collect(),
            env,
            cfg,
            store,
            served: BTreeSet::new(),
        }
    }

    fn on_request(&mut self, client: NodeId, req: KvRequest) {
        if !self.served.insert((client, req.id)) {
            return; // a duplicate: the client has (or will have) the first copy's reply
        }
        let reply = match req.op {
            Op::Read { key } => KvReply::Ok {
                id: req.id,
                ret: Ret::Value(self.store.borrow().get(&key)),
                session: 0,
            },
            Op::Write { key, value } => {
                self.write(key, value);
                KvReply::Ok {
                    id: req.id,
                    ret: Ret::Ok,
                    session: 0,
                }
            }
            op => KvReply::Fail {
                id: req.id,
                reason: format!("eventual: unsupported operation {op}"),
            },
        };
        self.env.send(client, KvMsg::Reply(reply));
    }

    /// Accepts a write: stamps it with the local clock, keeps it if it beats the local version
    /// (with a lagging clock it may not: the acknowledged write is lost at once), and pushes it
    /// to every peer, once.
    fn write(&mut self, key: Key, value: Value) {
        let (now, me) = (self.env.now(), self.env.me());
        let mut store = self.store.borrow_mut();
        let stamp = store.next_stamp(now, me);
        if !store.merge(key.clone(), value.clone(), stamp) {
            tracing::debug!(%key, %value, "acknowledged write lost at once: a later stamp is held");
        }
        drop(store);
        let entries = vec![(key, Versioned { value, stamp })];
        for &peer in &self.peers {
            self.send(
                peer,
                Message::Update {
                    entries: entries.clone(),
                },
            );
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Message) {
        match msg {
            Message::Update { entries } => self.merge(entries),
            Message::Digest { stamps } => {
                let store = self.store.borrow();
                let (newer, want) = (store.newer_than(&stamps), store.older_than(&stamps));
                drop(store);
                if !newer.is_empty() || !want.is_empty() {
                    self.send(from, Message::DigestReply { newer, want });
                }
            }
            Message::DigestReply { newer, want } => {
                self.merge(newer);
                let entries = self.store.borrow().versions(&want);
                if !entries.is_empty() {
                    self.send(from, Message::Update { entries });
                }
            }
        }
    }

    fn merge(&mut self, entries: Vec<(Key, Versioned)>) {
        let mut store = self.store.borrow_mut();
        for (key, v) in entries {
            store.merge(key, v.value, v.stamp);
        }
    }

    fn anti_entropy(&mut self) {
        if !self.peers.is_empty() {
            let peer = self.peers[self.env.rng().random_range(0..self.peers.len())];
            let stamps = self.store.borrow().digest();
            self.send(peer, Message::Digest { stamps });
        }
        self.schedule_anti_entropy();
    }

    fn schedule_anti_entropy(&mut self) {
        let (lo, hi) = (self.cfg.anti_entropy_min, self.cfg.anti_entropy_max);
        let after = Duration::from_nanos(
            self.env
                .rng()
                .random_range(lo.as_nanos() as u64..=hi.max(lo).as_nanos() as u64),
        );
        self.env.set_timer(after, Timer::AntiEntropy);
    }

    fn send(&self, to: NodeId, msg: Message) {
        self.env.send(to, KvMsg::Peer(msg));
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Actor for Replica<E> {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        // The planted bug `no-anti-entropy`: nothing ever repairs a lost push.
        if !self.cfg.bug {
            self.schedule_anti_entropy();
        }
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<Deliver<KvMsg<Message>>> for Replica<E> {
    type Result = ();

    fn handle(&mut self, d: Deliver<KvMsg<Message>>, _: &mut Context<Self>) {
        match d.msg {
            KvMsg::Request(req) => self.on_request(d.from, req),
            KvMsg::Peer(m) => self.on_message(d.from, m),
            _ => {}
        }
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<Timeout<Timer>> for Replica<E> {
    type Result = ();

    fn handle(&mut self, t: Timeout<Timer>, _: &mut Context<Self>) {
        match t.tag {
            Timer::AntiEntropy => self.anti_entropy(),
        }
    }
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Handler<ReadLocal> for Replica<E> {
    type Result = MessageResult<ReadLocal>;

    fn handle(&mut self, q: ReadLocal, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.store.borrow().get(&q.key))
    }
}
