//! The nemesis: faults in virtual time.
//!
//! A [`Schedule`] is a list of `(time, Fault)` entries, written by hand
//! ([`Schedule::at`]), drawn by a Jepsen-style [`Generator`] ("every X s, for Y s, one random
//! fault of these kinds"), or by a [`Swarm`] that also draws which kinds and rates are enabled
//! (TigerBeetle's swarm testing). Schedules are JSON: a generated one can be saved, edited and
//! replayed exactly, without the seed that drew it.

mod fault;
mod generate;
mod schedule;
mod swarm;

pub use fault::Fault;
pub use generate::{FaultKind, Generator};
pub use schedule::{Entry, Schedule};
pub use swarm::Swarm;
