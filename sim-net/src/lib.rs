//! actsim's network model and fault injection.
//!
//! - [`FaultyNetwork`] implements the kernel's `Network` trait: per directed link a latency
//!   distribution ([`Latency`]), loss, duplication and FIFO or reordering delivery
//!   ([`LinkConfig`], overridable per link with [`LinkRule`]s); partitions ([`Partition`],
//!   drawn in the shapes of [`PartitionSpec`]) that drop what crosses them; clogging that holds
//!   messages and releases them later; per-message [`filter`]s that drop, hold or delay a
//!   chosen message; reachability queries now and, through the recorded [`Timeline`], after a
//!   run.
//! - Each message's fate (loss, duplication, latency) is drawn from a stream keyed by its
//!   identity ([`fate::MessageId`]: link, content fingerprint, occurrence), and what happened
//!   beyond normal latency is recorded as [`Anomaly`] entries; a replay takes its anomalies
//!   from a list instead ([`FaultyNetwork::replay_anomalies`]), so removing one changes only
//!   that message.
//! - The [`nemesis`] turns faults into schedules in virtual time: scripted, generated
//!   Jepsen-style, or swarm-drawn; schedules are JSON and replay exactly.
//!
//! ```
//! use sim_net::{FaultyNetwork, NetConfig, LinkConfig, Fault, PartitionSpec, Schedule};
//! use sim_core::{Sim, NodeId};
//!
//! let config = NetConfig::new(3).with_default(LinkConfig { loss: 0.01, ..LinkConfig::default() });
//! let mut sim: Sim<String> = Sim::with_network(42, FaultyNetwork::new(config).unwrap());
//! // ... add three nodes with sim.add_node(...) ...
//! let schedule = Schedule::new()
//!     .at(1_000, Fault::Partition(PartitionSpec::Isolate { node: NodeId(0) }))
//!     .at(5_000, Fault::Heal);
//! // schedule.install(&mut sim)?; sim.run_until(...)?;
//! # let _ = schedule;
//! ```
//!
//! Determinism: nothing here reads the wall clock, spawns a thread or uses an unseeded RNG;
//! every draw comes from the kernel's network stream (the key of the message fates) or the
//! nemesis stream given in.
//!
//! Where to start: most users get a network through `models::experiment::Setup::link` and a
//! nemesis through `Setup::nemesis`; use this crate directly to build a `Sim` by hand.

pub mod error;
pub mod fate;
pub mod filter;
mod latency;
mod link;
pub mod nemesis;
mod net;
mod partition;
mod timeline;

pub use error::NetError;
pub use fate::{Anomaly, Fate, MessageId};
pub use filter::{FilterFn, FilterId, Verdict};
pub use latency::Latency;
pub use link::{LinkConfig, LinkPatch, LinkRule, Links, NetConfig};
pub use nemesis::{Entry, Fault, FaultKind, Generator, Schedule, Swarm};
pub use net::{with_net, FaultyNetwork};
pub use partition::{Partition, PartitionSpec};
pub use timeline::Timeline;
