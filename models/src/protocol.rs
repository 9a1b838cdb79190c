//! The four built-in protocols, named, with their planted bugs, behind one interface.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sim_core::{NodeId, Sim, SimError};

use crate::msg::Msg;
use crate::op::{Key, Value};

/// A built-in replica protocol.
///
/// ```
/// use models::protocol::Protocol;
/// let p: Protocol = "linearizable".parse().unwrap();
/// assert_eq!(p.bug_name(), "stale-read");
/// assert!(p.offers_cas());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Last-writer-wins replicas with anti-entropy: totally available.
    Eventual,
    /// Causal+ (COPS-like) replicas with sticky clients: sticky available.
    Causal,
    /// ZooKeeper-like: ordered writes through a leader, local reads with session order.
    Sequential,
    /// Raft: every operation through an elected leader and a majority.
    Linearizable,
}

impl Protocol {
    /// All four, weakest first.
    pub const ALL: [Protocol; 4] = [
        Protocol::Eventual,
        Protocol::Causal,
        Protocol::Sequential,
        Protocol::Linearizable,
    ];

    /// The protocol's name (as on the command line).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Eventual => "eventual",
            Protocol::Causal => "causal",
            Protocol::Sequential => "sequential",
            Protocol::Linearizable => "linearizable",
        }
    }

    /// The name of the protocol's planted bug.
    pub fn bug_name(self) -> &'static str {
        match self {
            Protocol::Eventual => "no-anti-entropy",
            Protocol::Causal => "no-deps",
            Protocol::Sequential => "no-session",
            Protocol::Linearizable => "stale-read",
        }
    }

    /// What the planted bug does.
    pub fn bug_description(self) -> &'static str {
        match self {
            Protocol::Eventual => "no repair after loss: replicas stay diverged after the heal",
            Protocol::Causal => "a remote write is applied without waiting for its dependencies",
            Protocol::Sequential => {
                "a replica serves a read before applying the client's own last write"
            }
            Protocol::Linearizable => {
                "the leader serves reads without confirming it is still leader"
            }
        }
    }

    /// The consistency model the protocol promises.
    pub fn model(self) -> crate::check::Model {
        use crate::check::Model;
        match self {
            Protocol::Eventual => Model::Eventual,
            Protocol::Causal => Model::Causal,
            Protocol::Sequential => Model::Sequential,
            Protocol::Linearizable => Model::Linearizable,
        }
    }

    /// Whether the protocol offers compare-and-set.
    pub fn offers_cas(self) -> bool {
        match self {
            Protocol::Eventual => crate::eventual::CAS,
            Protocol::Causal => crate::causal::CAS,
            Protocol::Sequential => crate::sequential::CAS,
            Protocol::Linearizable => crate::linearizable::CAS,
        }
    }

    /// Whether clients stay on their home replica (true) or follow the leader. Sequential
    /// clients are sticky like ZooKeeper sessions: their replica serves reads locally and
    /// forwards writes to the leader.
    pub fn sticky_clients(self) -> bool {
        !matches!(self, Protocol::Linearizable)
    }

    /// Adds replica `replicas[index]` to `sim`.
    pub fn add_replica(
        self,
        sim: &mut Sim<Msg>,
        index: usize,
        replicas: &[NodeId],
        bug: bool,
    ) -> NodeId {
        match self {
            Protocol::Eventual => {
                let cfg = crate::eventual::Config {
                    bug,
                    ..Default::default()
                };
                crate::eventual::add_replica(sim, index, replicas, &cfg)
            }
            Protocol::Causal => {
                let cfg = crate::causal::Config {
                    bug,
                    ..Default::default()
                };
                crate::causal::add_replica(sim, index, replicas, &cfg)
            }
            Protocol::Sequential => {
                let cfg = crate::sequential::Config {
                    bug,
                    ..Default::default()
                };
                crate::sequential::add_replica(sim, index, replicas, &cfg)
            }
            Protocol::Linearizable => {
                let cfg = crate::linearizable::Config {
                    bug,
                    ..Default::default()
                };
                crate::linearizable::add_replica(sim, index, replicas, &cfg)
            }
        }
    }

    /// A replica's local value of `key` (for final reads).
    pub fn local_value(
        self,
        sim: &mut Sim<Msg>,
        node: NodeId,
        key: &Key,
    ) -> Result<Value, SimError> {
        match self {
            Protocol::Eventual => crate::eventual::local_value(sim, node, key),
            Protocol::Causal => crate::causal::local_value(sim, node, key),
            Protocol::Sequential => crate::sequential::local_value(sim, node, key),
            Protocol::Linearizable => crate::linearizable::local_value(sim, node, key),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A protocol name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {0:?} (expected eventual, causal, sequential or linearizable)")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownProtocol(s.to_string()))
    }
}

/// Resolves a bug name for a protocol: `Ok(true)` if `bug` is that protocol's planted bug.
pub fn parse_bug(protocol: Protocol, bug: &str) -> Result<bool, String> {
    if bug == protocol.bug_name() {
        Ok(true)
    } else {
        Err(format!(
            "protocol {protocol} has no bug {bug:?} (its planted bug is {:?})",
            protocol.bug_name()
        ))
    }
}
