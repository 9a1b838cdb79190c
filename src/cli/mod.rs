//! The `actsim` command-line subcommands.

pub mod check;
pub mod scenario;
