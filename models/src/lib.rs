//! actsim models: the four consistency protocols as actix actors, their clients and workloads,
//! and the checkers that judge their histories.
//!
//! - [`op`]: `Op` / `Ret`, the operations of every actsim history;
//! - [`eventual`], [`causal`], [`sequential`], [`linearizable`]: the replica protocols, behind
//!   one interface in [`protocol`]; [`kv`] and [`msg`] their shared request/reply protocol,
//!   [`client`] and [`workload`] the client side;
//! - [`cluster`]: one experiment run (replicas, clients, nemesis, heal, final reads);
//! - [`scenario`]: application scenarios (dns, comments, feed, password) with their invariants;
//! - [`parse`]: readers for actsim JSON, Jepsen EDN and Porcupine logs;
//! - [`check`]: linearizability, sequential, causal, eventual, session and availability checkers.

pub mod causal;
pub mod check;
pub mod client;
pub mod evaluate;
pub mod eventual;
pub mod experiment;
pub mod kv;
pub mod linearizable;
pub mod op;
pub mod parse;
pub mod protocol;
pub mod raft;
pub mod runner;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod sequential;
mod serde_ms;
pub mod workload;
