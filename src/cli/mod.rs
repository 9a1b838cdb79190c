//! The `actsim` command-line subcommands.

pub mod cap;
pub mod check;
pub mod common;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sweep;
