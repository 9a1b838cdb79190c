//! actsim: deterministic simulation testing of distributed protocols written as actix actors.
//!
//! Where to start:
//! - write your protocol's replicas as actix actors over an [`Env`](sim_core::Env) and
//!   implement [`Protocol`](models::protocol::Protocol) for it (see `examples/custom_protocol.rs`);
//! - test it with [`Experiment`](models::experiment::Experiment): a run per seed, checked
//!   against consistency models, swept over seeds with [`harness::Runner`], shrunk and replayed;
//! - give it a command line with [`cli::Cli`].
//!
//! This crate re-exports the kernel ([`sim_core`]), the network model ([`sim_net`]) and the
//! protocols, experiment and checkers ([`models`]), and adds the command line and live mode
//! ([`live`]: the same actors on a real actix runtime).

pub mod cli;
pub mod harness;
pub mod live;

pub use models;
pub use models::report;
pub use models::shrink;
pub use sim_core;
pub use sim_net;
