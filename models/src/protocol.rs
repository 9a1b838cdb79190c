//! The [`Protocol`] trait: what a replicated key-value protocol tells actsim so that an
//! [`Experiment`](crate::experiment::Experiment) can run it, check it and shrink its failures.
//!
//! The four built-in protocols ([`Eventual`](crate::eventual::Eventual),
//! [`Causal`](crate::causal::Causal), [`Sequential`](crate::sequential::Sequential),
//! [`Linearizable`](crate::linearizable::Linearizable)) implement it exactly as a user's
//! protocol does.
//!
//! A protocol's replicas are actix actors that speak [`KvMsg`]: client requests and replies
//! (the ready-made [`Client`](crate::client::Client) sends and records them) plus the
//! protocol's own replica-to-replica messages, [`Protocol::Message`].
//!
//! ```
//! use actix::{Actor, Context, Handler, MessageResult};
//! use models::check::Model;
//! use models::kv::{KvMsg, KvReply, ReadLocal};
//! use models::op::{Op, Ret, Value};
//! use models::protocol::{Membership, Protocol, ReplicaEnv};
//! use sim_core::{Deliver, Durable, Env, Timeout};
//!
//! /// One replica that serves everything itself: trivially linearizable.
//! #[derive(Clone, Default)]
//! struct Single;
//!
//! struct Node { env: ReplicaEnv<Single>, value: Value }
//! impl Actor for Node { type Context = Context<Self>; }
//! impl Handler<Deliver<KvMsg<()>>> for Node {
//!     type Result = ();
//!     fn handle(&mut self, d: Deliver<KvMsg<()>>, _: &mut Context<Self>) {
//!         if let KvMsg::Request(req) = d.msg {
//!             let ret = match req.op {
//!                 Op::Read { .. } => Ret::Value(self.value.clone()),
//!                 Op::Write { value, .. } => { self.value = value; Ret::Ok }
//!                 _ => return,
//!             };
//!             self.env.send(d.from, KvMsg::Reply(KvReply::Ok { id: req.id, ret, session: 0 }));
//!         }
//!     }
//! }
//! impl Handler<Timeout<()>> for Node {
//!     type Result = ();
//!     fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {}
//! }
//! impl Handler<ReadLocal> for Node {
//!     type Result = MessageResult<ReadLocal>;
//!     fn handle(&mut self, _: ReadLocal, _: &mut Context<Self>) -> Self::Result {
//!         MessageResult(self.value.clone())
//!     }
//! }
//!
//! impl Protocol for Single {
//!     type Message = ();
//!     type Timer = ();
//!     type Durable = ();
//!     type Replica = Node;
//!     fn name(&self) -> &str { "single" }
//!     fn model(&self) -> Model { Model::Linearizable }
//!     fn replica(&self, env: ReplicaEnv<Self>, _: Durable<()>, _: &Membership) -> Node {
//!         Node { env, value: Value::Nil }
//!     }
//!     fn check_replicas(&self, n: u32) -> Result<(), String> {
//!         if n == 1 { Ok(()) } else { Err("single is one replica".into()) }
//!     }
//! }
//! # let _ = Single.name();
//! ```

use std::fmt;

use actix::{Actor, Context, Handler};
use sim_core::{Deliver, Durable, NodeId, Payload, Sim, SimEnv, SimError, Timeout};

use crate::check::Model;
use crate::experiment::Setup;
use crate::kv::{KvMsg, ReadLocal};
use crate::op::{Key, Value};

/// The environment a replica of protocol `P` runs in under simulation.
pub type ReplicaEnv<P> = SimEnv<KvMsg<<P as Protocol>::Message>, <P as Protocol>::Timer>;

/// The simulation of protocol `P`: every node exchanges `KvMsg<P::Message>`.
pub type ProtocolSim<P> = Sim<KvMsg<<P as Protocol>::Message>>;

/// Where a replica stands in its cluster: its index and every replica's id (itself included).
///
/// ```
/// use models::protocol::Membership;
/// use sim_core::NodeId;
/// let m = Membership { index: 1, replicas: vec![NodeId(0), NodeId(1), NodeId(2)] };
/// assert_eq!(m.me(), NodeId(1));
/// assert_eq!(m.peers().collect::<Vec<_>>(), [NodeId(0), NodeId(2)]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// This replica's index in `replicas`.
    pub index: usize,
    /// Every replica, in order (replica `i` is node `NodeId(i)`).
    pub replicas: Vec<NodeId>,
}

impl Membership {
    /// This replica's node id.
    pub fn me(&self) -> NodeId {
        self.replicas[self.index]
    }

    /// Every other replica.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.me();
        self.replicas.iter().copied().filter(move |&r| r != me)
    }

    /// How many replicas make a majority.
    pub fn majority(&self) -> usize {
        self.replicas.len() / 2 + 1
    }
}

/// How clients pick the replica they send to.
///
/// ```
/// use models::protocol::ClientRouting;
/// assert_eq!(ClientRouting::default(), ClientRouting::Sticky);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClientRouting {
    /// Each client always talks to its home replica (totally or sticky available protocols).
    #[default]
    Sticky,
    /// Clients start at their home replica, follow `NotLeader` redirects and try the other
    /// replicas in turn when one does not answer (leader-based protocols).
    FollowLeader,
}

/// A replicated key-value protocol, as actsim runs it. See the [module docs](self).
///
/// Implement it for a small value that configures your protocol (knobs, a planted bug); the
/// value is cloned into every replica's factory, and the factory runs again on every restart
/// with the replica's [`Durable`] state.
pub trait Protocol: Clone + Send + Sync + 'static {
    /// The replicas' own messages (everything that is not a client request or reply).
    type Message: Payload;
    /// The tag of a replica's timers.
    type Timer: Payload;
    /// State that survives a crash (`()` for none). Each replica starts from the default.
    type Durable: Default + 'static;
    /// The replica actor. It answers [`ReadLocal`] with its local value of a key: the final
    /// reads of every key on every replica after the heal (the eventual checker's input).
    type Replica: Actor<Context = Context<Self::Replica>>
        + Handler<Deliver<KvMsg<Self::Message>>>
        + Handler<Timeout<Self::Timer>>
        + Handler<ReadLocal>;

    /// The protocol's name, for reports and reproduce lines.
    fn name(&self) -> &str;

    /// The consistency model the protocol promises: what a run of it is failed against.
    fn model(&self) -> Model;

    /// Builds replica `membership.index`; called again, with the same durable state, when the
    /// replica restarts after a crash.
    fn replica(
        &self,
        env: ReplicaEnv<Self>,
        durable: Durable<Self::Durable>,
        membership: &Membership,
    ) -> Self::Replica;

    /// How clients route their requests.
    fn routing(&self) -> ClientRouting {
        ClientRouting::Sticky
    }

    /// Whether the protocol offers compare-and-set (the workload draws cas only if it does).
    fn offers_cas(&self) -> bool {
        false
    }

    /// The setup an experiment of this protocol starts from (default: the cap experiment,
    /// [`Setup::default`]); a protocol with a fixed number of replicas says so here.
    fn setup(&self) -> Setup {
        Setup::default()
    }

    /// Whether the protocol runs with `replicas` replicas; the error says why not.
    fn check_replicas(&self, replicas: u32) -> Result<(), String> {
        if replicas == 0 {
            Err("at least one replica is needed".into())
        } else {
            Ok(())
        }
    }
}

/// Adds replica `index` of `replicas` to `sim` (replicas are added first, in order, so replica
/// `i` is node `NodeId(i)`).
pub fn add_replica<P: Protocol>(
    sim: &mut ProtocolSim<P>,
    protocol: &P,
    index: usize,
    replicas: &[NodeId],
) -> NodeId {
    let membership = Membership {
        index,
        replicas: replicas.to_vec(),
    };
    let p = protocol.clone();
    let id = sim.add_node(
        format!("n{index}"),
        P::Durable::default(),
        move |env: ReplicaEnv<P>, durable| p.replica(env, durable, &membership),
    );
    debug_assert_eq!(replicas.get(index), Some(&id), "replicas are added first");
    id
}

/// Replica `node`'s local value of `key` (its [`ReadLocal`] answer).
pub fn local_value<P: Protocol>(
    sim: &mut ProtocolSim<P>,
    node: NodeId,
    key: &Key,
) -> Result<Value, SimError> {
    sim.ask::<P::Replica, ReadLocal>(node, ReadLocal { key: key.clone() })
}

/// A protocol name the command line does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {name:?} (expected one of: {known})")]
pub struct UnknownProtocol {
    /// The name given.
    pub name: String,
    /// The names that exist, comma-separated.
    pub known: String,
}

/// A planted bug of a protocol: its name (as on the command line) and what it does.
///
/// ```
/// use models::protocol::Bug;
/// let b = Bug { name: "stale-read", description: "reads skip the leadership check" };
/// assert_eq!(b.to_string(), "stale-read");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bug {
    /// The bug's name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
