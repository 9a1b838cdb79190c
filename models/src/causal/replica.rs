//! The causal replica actor.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use actix::{Actor, Context, Handler, MessageResult};
use rand::Rng;
use sim_core::{Deliver, Durable, Env, NodeId, Timeout};

use super::message::{Message, Write};
use super::store::Store;
use super::Causal;
use crate::kv::{KvMsg, KvReply, KvRequest, ReadLocal};
use crate::op::{Op, Ret};

/// The causal replica's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Start an anti-entropy round with a random peer.
    AntiEntropy,
}

/// A causal replica: serves its sticky clients locally, replicates writes with their
/// dependencies, and makes a remote write visible only once its dependencies are. See the
/// [module docs](super).
pub struct Replica<E> {
    env: E,
    cfg: Causal,
    /// Every other replica.
    peers: Vec<NodeId>,
    /// Applied writes and visible values; survives crashes.
    store: Durable<Store>,
    /// Received writes waiting for their dependencies, in Lamport order. Volatile: after a
    /// restart, anti-entropy fetches them again.
    pending: BTreeMap<(u64, NodeId), Write>,
    /// Client requests this incarnation has served: a request the network duplicated is
    /// served once (a second run of a write would bring its value back after later writes).
    served: BTreeSet<(NodeId, u64)>,
}

impl<E: Env<Msg = KvMsg<Message>, Timer = Timer>> Replica<E> {
    /// A replica among `replicas` (which may include itself) over `store`.
    pub fn new(env: E, replicas: &[NodeId], cfg: Causal, store: Durable<Store>) -> Self {
        let me = env.me();
        Replica {
            peers: replicas.iter().copied().filter(|&r| r != me).collect(),
            env,
            cfg,
            store,
            pending: BTreeMap::new(),
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
                let w = self
                    .store
                    .borrow_mut()
                    .write_local(self.env.me(), key, value);
                for &peer in &self.peers {
                    self.send(peer, Message::Push(w.clone()));
                }
                KvReply::Ok {
                    id: req.id,
                    ret: Ret::Ok,
                    session: 0,
                }
            }
            op => KvReply::Fail {
                id: req.id,
                reason: format!("causal: unsupported operation {op}"),
            },
        };
        self.env.send(client, KvMsg::Reply(reply));
    }

    fn on_message(&mut self, from: NodeId, msg: Message) {
        match msg {
            Message::Push(w) => self.receive(vec![w]),
            Message::Digest { have } => {
                let writes = self.store.borrow().missing(&have, self.cfg.sync_batch);
                if !writes.is_empty() {
                    self.send(from, Message::Missing { writes });
                }
            }
            Message::Missing { writes } => self.receive(writes),
        }
    }

    /// Buffers received writes (ignoring duplicates), then applies every buffered write whose
    /// dependencies are satisfied.
    fn receive(&mut self, writes: Vec<Write>) {
        for w in writes {
            if self.store.borrow().has(&w) {
                continue;
            }
            {
                // Coverage: how a write arrives (its origin's next? every dependency met?).
                let s = self.store.borrow();
                let waiting = self.pending.len().min(4);
                self.env.cover(&(
                    "causal: arrives",
                    s.is_next_of_origin(&w),
                    s.is_ready(&w),
                    waiting,
                ));
            }
            if self.cfg.bug {
                // The planted bug `no-deps`: visible on arrival, dependencies or not.
                self.store.borrow_mut().reveal(&w);
            }
            self.pending.insert(w.order(), w);
        }
        self.apply_ready();
    }

    /// One pass in Lamport order applies every buffered write that can be: a write's
    /// dependencies have smaller timestamps, so they come (and are applied) before it.
    fn apply_ready(&mut self) {
        let mut store = self.store.borrow_mut();
        let direct = self.cfg.direct_deps_only;
        self.pending.retain(|_, w| {
            if direct && store.is_next_of_origin(w) {
                // The planted bug `direct-deps-only`: other origins' writes are not awaited.
                store.apply_direct(w.clone());
                false
            } else if !direct && store.is_ready(w) {
                store.apply(w.clone());
                false
            } else {
                !store.has(w)
            }
        });
        if let Some(((lamport, origin), _)) = self.pending.first_key_value() {
            tracing::trace!(waiting = self.pending.len(), %origin, lamport, "writes wait for dependencies");
        }
    }

    fn anti_entropy(&mut self) {
        if !self.peers.is_empty() {
            let peer = self.peers[self.env.rng().random_range(0..self.peers.len())];
            let have = self.store.borrow().applied();
            self.send(peer, Message::Digest { have });
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
        self.schedule_anti_entropy();
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
