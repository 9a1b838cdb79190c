//! The eventual protocol: last-writer-wins replicas repaired by anti-entropy.
//!
//! # Protocol
//!
//! * **Any replica serves any request at once.** A read returns the replica's local value; a
//!   write is accepted locally and acknowledged without waiting for anyone. No request is ever
//!   refused, so every replica a client can reach is available, on both sides of a partition.
//! * **Last writer wins.** A write is stamped with its replica's *local clock* and the replica's
//!   id ([`Stamp`]); of two versions of a key, the greater stamp wins everywhere.
//! * **Best-effort push.** A write is sent once to every peer ([`Message::Update`]); a lost or
//!   partitioned push is not retried.
//! * **Anti-entropy.** Every 50–100 ms (local time) a replica exchanges digests with one random
//!   peer ([`Message::Digest`], [`Message::DigestReply`]) and each side sends what the other
//!   lacks. Whatever was lost is repaired, so once partitions heal and writes stop, all replicas
//!   converge to the same value of every key.
//! * **Durability.** The store lives in `Durable` storage: a replica that crashes and restarts
//!   still has every write it acknowledged or merged.
//!
//! # Guarantees (and what it does not guarantee)
//!
//! Eventual consistency: convergence after the heal, and no value out of thin air. Nothing
//! more: a client may read a value, then an older one; may not read its own write; and, when
//! clocks are skewed, **acknowledged writes are lost**. A replica whose clock runs behind stamps
//! its writes earlier than writes another replica made *before* them, so they lose — even on
//! the replica that acknowledged them. This is last-writer-wins' well-known flaw (Cassandra,
//! Riak with LWW, DynamoDB global tables) and this model keeps it on purpose: run it under the
//! clock-skew nemesis to watch acknowledged writes vanish.
//!
//! # Planted bug
//!
//! `Eventual { bug: true, .. }` is **`no-anti-entropy`**: replicas never run anti-entropy, so a
//! push lost to a partition, a crash or a lossy link is never repaired, and replicas stay
//! diverged after the heal (the eventual checker reports non-convergence).
//!
//! ```
//! use models::eventual::{self, Eventual};
//! use models::kv::KvRequest;
//! use models::kv::KvMsg;
//! use models::protocol::{add_replica, local_value, ProtocolSim};
//! use models::op::{Op, Value};
//! use sim_core::{NodeId, SimTime};
//!
//! let mut sim: ProtocolSim<Eventual> = sim_core::Sim::new(7);
//! let replicas = [NodeId(0), NodeId(1), NodeId(2)];
//! for i in 0..replicas.len() {
//!     add_replica(&mut sim, &Eventual::default(), i, &replicas);
//! }
//! // A write accepted by n0 (the reply goes to n2, which ignores it)...
//! let req = KvRequest { id: 1, op: Op::write(0, 42), session: 0 };
//! sim.post(NodeId(2), NodeId(0), KvMsg::Request(req));
//! sim.run_until(SimTime::from_millis(500)).unwrap();
//! // ...reaches every replica.
//! for r in replicas {
//!     assert_eq!(local_value::<Eventual>(&mut sim, r, &0.into()).unwrap(), Value::Int(42));
//! }
//! ```

mod message;
mod replica;
mod store;

use std::time::Duration;

use sim_core::Durable;

use crate::check::Model;
use crate::protocol::{Membership, Protocol, ReplicaEnv};

pub use message::Message;
pub use replica::{Replica, Timer};
pub use store::{Digest, Stamp, Store, Versioned};

/// The eventual protocol offers no compare-and-set.
pub const CAS: bool = false;

/// How eventual replicas behave.
///
/// ```
/// use models::eventual::Eventual;
/// let cfg = Eventual { bug: true, ..Eventual::default() };
/// assert!(cfg.anti_entropy_min <= cfg.anti_entropy_max);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eventual {
    /// Shortest wait (local time) between two anti-entropy rounds of a replica.
    pub anti_entropy_min: Duration,
    /// Longest wait between two anti-entropy rounds (each wait is uniform in min..=max).
    pub anti_entropy_max: Duration,
    /// The planted bug `no-anti-entropy`: never run anti-entropy.
    pub bug: bool,
}

impl Default for Eventual {
    fn default() -> Self {
        Eventual {
            anti_entropy_min: Duration::from_millis(50),
            anti_entropy_max: Duration::from_millis(100),
            bug: false,
        }
    }
}

/// The replica actor as hosted by a simulation.
pub type SimReplica = Replica<ReplicaEnv<Eventual>>;

impl Protocol for Eventual {
    type Message = Message;
    type Timer = Timer;
    type Durable = Store;
    type Replica = SimReplica;

    fn name(&self) -> &str {
        "eventual"
    }

    fn model(&self) -> Model {
        Model::Eventual
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
