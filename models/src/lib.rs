//! actsim models: the consistency checkers, history parsers and the universal operation type.
//!
//! - [`op`]: `Op` / `Ret`, the operations of every actsim history;
//! - [`parse`]: readers for actsim JSON, Jepsen EDN and Porcupine logs;
//! - [`check`]: linearizability, sequential, causal, eventual, session and availability checkers.

pub mod check;
pub mod op;
pub mod parse;
