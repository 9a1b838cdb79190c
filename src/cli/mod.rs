//! The `actsim` command-line subcommands.

pub mod check;
