//! actsim models: the four consistency protocols as actix actors, their clients and workloads,
//! and the checkers.

pub mod causal;
pub mod client;
pub mod eventual;
pub mod kv;
pub mod linearizable;
pub mod msg;
pub mod op;
pub mod raft;
pub mod sequential;
pub mod workload;
