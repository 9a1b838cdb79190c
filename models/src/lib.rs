//! actsim models: key-value protocols as actix actors, the experiment that runs any of them
//! under faults, and the checkers that judge their histories.
//!
//! Where to start: implement [`protocol::Protocol`] for your protocol (see its docs, and
//! `examples/custom_protocol.rs` in the actsim repository), then run it with
//! [`experiment::Experiment`] — one seed with `run`, many with `sweep`, a failure made small
//! with `shrink` and rerun from its file with `replay`.
//!
//! - [`protocol`]: the trait a protocol implements; [`kv`] its client request/reply messages
//!   ([`kv::KvMsg`]), [`client`] and [`workload`] the ready-made client side;
//! - [`eventual`], [`causal`], [`sequential`], [`linearizable`]: the four built-in protocols
//!   (implemented on the same trait), [`raft`] the replicated log under the last two;
//! - [`experiment`]: replicas, clients, phases, nemesis, final reads, one seed's run;
//!   [`sweep`], [`shrink`], [`runner`]: many seeds, minimal failing runs, the seed runner;
//! - [`evaluate`]: availability per side of the partition and one verdict per model;
//! - [`check`]: linearizability, sequential, causal, eventual, session and availability
//!   checkers; [`parse`]: readers for actsim JSON, Jepsen EDN and Porcupine logs;
//! - [`scenario`]: application scenarios (dns, comments, feed, password) with their invariants.

pub mod causal;
pub mod check;
pub mod client;
pub mod evaluate;
pub mod eventual;
pub mod experiment;
pub mod explore;
pub mod kv;
pub mod linearizable;
pub mod op;
pub mod parse;
pub mod protocol;
pub mod raft;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sequential;
mod serde_ms;
pub mod shrink;
pub mod strategy;
pub mod sweep;
pub mod workload;
