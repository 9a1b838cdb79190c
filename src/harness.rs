//! The seed runner for tests: [`models::runner`], re-exported where users of the `actsim`
//! crate look for it. See [`Runner`] and, for a protocol's experiment,
//! [`Experiment::sweep`](models::experiment::Experiment::sweep).

pub use models::runner::*;
