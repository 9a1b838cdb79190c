//! What causal replicas tell each other: writes with their dependencies, and anti-entropy.

use sim_core::NodeId;

use super::vclock::VClock;
use crate::op::{Key, Value};

/// One write, as replicated: who made it, where it sits in its origin's order, its place in
/// the conflict order, and what it depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Write {
    /// The replica that accepted it from a client.
    pub origin: NodeId,
    /// Its number among `origin`'s writes: 1, 2, 3, ... (never reused, even across restarts).
    pub seq: u64,
    /// Lamport timestamp: greater than that of every write it depends on. Conflicting writes of
    /// a key are ordered by `(lamport, origin)`; the greatest wins on every replica.
    pub lamport: u64,
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
    /// Its causal past: every write applied at `origin` when it was accepted (in particular the
    /// origin's own `seq - 1` earlier writes). A replica makes it visible only after all of them.
    pub deps: VClock,
}

impl Write {
    /// Its position in the conflict (last-writer-wins) order.
    pub fn order(&self) -> (u64, NodeId) {
        (self.lamport, self.origin)
    }
}

/// Replica-to-replica messages of the causal protocol.
///
/// A fresh write is pushed once to every peer ([`Message::Push`]). Anti-entropy repairs what
/// was lost: a replica periodically tells a random peer what it has applied
/// ([`Message::Digest`]) and the peer answers with the writes it lacks ([`Message::Missing`]).
///
/// ```text
/// A ── Digest { have: A's version vector } ──▶ B
/// A ◀─ Missing { writes A lacks, causal order } ── B
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// A write just accepted by its origin.
    Push(Write),
    /// Anti-entropy request: the writes the sender has applied, per origin.
    Digest {
        /// The sender's version vector.
        have: VClock,
    },
    /// Anti-entropy answer: writes the digest's sender lacks, in causal (Lamport) order.
    Missing {
        /// The writes.
        writes: Vec<Write>,
    },
}
