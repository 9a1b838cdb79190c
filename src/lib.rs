//! actsim: deterministic simulation testing of distributed protocols written as actix actors.
//!
//! This crate re-exports the kernel ([`sim_core`]), the network model ([`sim_net`]) and the
//! protocols and checkers ([`models`]), and adds what runs outside a simulation: live mode.

pub mod harness;
pub mod live;
pub mod report;
pub mod shrink;

pub use models;
pub use sim_core;
pub use sim_net;

pub mod cli;
