//! actsim kernel: virtual time, seeded randomness, and actix actors hosted without a runtime.
//!
//! See `docs/architecture.md` in the actsim repository. In short: one thread runs one [`Sim`];
//! everything that happens is an event in one queue ordered by (virtual time, insertion
//! sequence); actors are real actix actors driven by polling their `ContextFut`; protocol code
//! talks to the world only through its [`Env`].
//!
//! Where to start: write your replicas against [`Env`] (send, timers, the local clock, the
//! node's random stream) and handle [`Deliver`] and [`Timeout`]; `models::protocol::Protocol`
//! and `models::experiment::Experiment` build the `Sim` for you. Build a [`Sim`] by hand with
//! [`Sim::add_node`] for anything else (its docs have a complete example).

mod clock;
pub mod coverage;
mod env;
pub mod error;
pub mod hash;
pub mod history;
mod host;
mod id;
pub mod log;
pub mod network;
pub mod queue;
pub mod rng;
mod sim;
mod time;
mod timers;
mod trace;

pub use clock::ClockModel;
pub use env::{Deliver, Durable, Env, Payload, SimEnv, Timeout, TimerId};
pub use error::SimError;
pub use id::NodeId;
pub use sim::{Control, NodeStatus, RunSummary, Sim};
pub use time::SimTime;
pub use trace::{Counters, TraceHash};
