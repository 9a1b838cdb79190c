//! actsim kernel: virtual time, seeded randomness, and actix actors hosted without a runtime.

pub mod history;
mod id;
mod time;

pub use id::NodeId;
pub use time::SimTime;
