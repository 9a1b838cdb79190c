//! The causal protocol: causal+ consistency in the style of COPS, with vector-clock
//! dependencies.
//!
//! # Protocol
//!
//! * **Sticky clients, local service.** A client always talks to the same replica, which
//!   serves its reads and writes at once from local state. No request is ever refused.
//! * **Writes carry their causal past.** A replica numbers its own writes 1, 2, 3, ...,
//!   stamps each with a Lamport timestamp and, as its dependencies, the version vector of
//!   everything applied locally when it was accepted ([`Write`]). A client only ever sees its
//!   replica's state, so its session's causal past is always included.
//! * **Visible only after its dependencies.** A replica buffers a remote write until every
//!   write it depends on (including its origin's earlier writes) is applied there, then applies
//!   it. Effects never become visible before their causes.
//! * **Convergent conflict handling (the "+").** Of the applied writes of a key, the one with the
//!   greatest `(lamport, origin)` is visible. A causally later write has a greater Lamport
//!   timestamp, so it always wins over its causes; concurrent writes are ordered the same way
//!   on every replica.
//! * **Repair.** A fresh write is pushed once to every peer ([`Message::Push`]); messages can be
//!   lost, duplicated and reordered. Every 50–100 ms a replica sends its version vector to a
//!   random peer ([`Message::Digest`]), which answers with the writes it lacks, of any origin, in
//!   Lamport order ([`Message::Missing`]). Duplicates are ignored.
//! * **Durability.** The applied writes, the visible values and the Lamport clock live in
//!   `Durable` storage ([`Store`]): a restarted replica keeps every acknowledged write, still
//!   serves it to peers, and never reuses a sequence number. Only the buffer of writes waiting
//!   for their dependencies is volatile; anti-entropy fetches them again.
//!
//! # Guarantees
//!
//! Causal+ consistency: every session observes a state that includes the causal past of
//! everything it has read or written, and all replicas converge to the same values once
//! partitions heal. It stays available on both sides of a partition. It does not give
//! sequential consistency or linearizability: two clients on different replicas may see
//! concurrent writes in different orders for a while, and a read may miss a write that
//! completed elsewhere. Every write is kept forever (no garbage collection of the log).
//!
//! # Planted bug
//!
//! `Causal { bug: true, .. }` is **`no-deps`**: a remote write becomes visible the moment it
//! arrives, without waiting for its dependencies (they are still tracked, so replicas still
//! converge). When a push is lost or overtaken, a reader sees an effect before its cause: it
//! reads `y = 2`, written after `x = 1`, and then reads the older `x`.
//!
//! ```
//! use models::causal::{self, Causal};
//! use models::kv::KvRequest;
//! use models::kv::KvMsg;
//! use models::protocol::{add_replica, local_value, ProtocolSim};
//! use models::op::{Op, Value};
//! use sim_core::{NodeId, SimTime};
//!
//! let mut sim: ProtocolSim<Causal> = sim_core::Sim::new(7);
//! let replicas = [NodeId(0), NodeId(1), NodeId(2)];
//! for i in 0..replicas.len() {
//!     add_replica(&mut sim, &Causal::default(), i, &replicas);
//! }
//! let req = KvRequest { id: 1, op: Op::write(0, 42), session: 0 };
//! sim.post(NodeId(2), NodeId(0), KvMsg::Request(req));
//! sim.run_until(SimTime::from_millis(500)).unwrap();
//! for r in replicas {
//!     assert_eq!(local_value::<Causal>(&mut sim, r, &0.into()).unwrap(), Value::Int(42));
//! }
//! ```

mod message;
mod replica;
mod store;
mod vclock;

use std::time::Duration;

use sim_core::Durable;

use crate::check::Model;
use crate::protocol::{Membership, Protocol, ReplicaEnv};

pub use message::{Message, Write};
pub use replica::{Replica, Timer};
pub use store::Store;
pub use vclock::VClock;

/// The causal protocol offers no compare-and-set.
pub const CAS: bool = false;

/// How causal replicas behave.
///
/// ```
/// use models::causal::Causal;
/// let cfg = Causal { bug: true, ..Causal::default() };
/// assert!(cfg.sync_batch > 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Causal {
    /// Shortest wait (local time) between two anti-entropy rounds of a replica.
    pub anti_entropy_min: Duration,
    /// Longest wait between two anti-entropy rounds (each wait is uniform in min..=max).
    pub anti_entropy_max: Duration,
    /// At most this many writes per anti-entropy answer (the rest follow in later rounds).
    pub sync_batch: usize,
    /// The planted bug `no-deps`: make remote writes visible on arrival, ignoring dependencies.
    pub bug: bool,
    /// The planted bug `direct-deps-only` (used by `bugbench`): a remote write is applied once
    /// its direct dependency (its origin's previous write) is, without checking what it
    /// depends on from other replicas.
    pub direct_deps_only: bool,
}

impl Default for Causal {
    fn default() -> Self {
        Causal {
            anti_entropy_min: Duration::from_millis(50),
            anti_entropy_max: Duration::from_millis(100),
            sync_batch: 256,
            bug: false,
            direct_deps_only: false,
        }
    }
}

/// The replica actor as hosted by a simulation.
pub type SimReplica = Replica<ReplicaEnv<Causal>>;

impl Protocol for Causal {
    type Message = Message;
    type Timer = Timer;
    type Durable = Store;
    type Replica = SimReplica;

    fn name(&self) -> &str {
        "causal"
    }

    fn model(&self) -> Model {
        Model::Causal
    }

    fn replica(
        &self,
        env: ReplicaEnv<Self>,
        store: Durable<Store>,
        membership: &Membership,
    ) -> SimReplica {
        Replica::new(env, &membership.replicas, self.clone(), store)
    }
}
