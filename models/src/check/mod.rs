//! Consistency checkers for [`KvHistory`](crate::op::KvHistory) histories.
//!
//! The API the rest of actsim calls:
//!
//! | checker | function | result |
//! |---|---|---|
//! | linearizability (WGL, per-key, parallel) | [`check_linearizable`]`(&history, &opts)` | [`Verdict`] |
//! | sequential consistency | [`check_sequential`]`(&history, &opts)` | [`Verdict`] (witness order) |
//! | causal (CC and CCv bad patterns) | [`check_causal`]`(&history, &opts)` | [`CausalReport`] |
//! | eventual (convergence, thin air, lost writes) | [`check_eventual`]`(&history, &final_reads, &opts)` | [`EventualReport`] |
//! | session guarantees | [`check_sessions`]`(&history, &opts)` | [`SessionReport`] |
//! | availability | [`availability`]`(&history, &groups, &windows)` | [`AvailabilityReport`] |
//!
//! Lower level: [`wgl::search`] runs the Wing–Gong–Lowe search over any [`model::Model`].
//! All checkers return `Err(CheckError)` only for histories they cannot interpret (unpaired
//! events, operations the checker does not support, return values that do not fit).
//!
//! ```
//! use models::check::{check_linearizable, CheckOptions, Verdict};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::SimTime;
//! let mut h = History::new();
//! h.invoke(SimTime::from_millis(0), None, 0, Op::write(0, 1));
//! h.ok(SimTime::from_millis(1), None, 0, Ret::Ok);
//! h.invoke(SimTime::from_millis(2), None, 1, Op::read(0));
//! h.ok(SimTime::from_millis(3), None, 1, Ret::Value(Value::Nil)); // stale
//! let v = check_linearizable(&h, &CheckOptions::default()).unwrap();
//! assert!(v.is_invalid());
//! ```

// Checkers run after a simulation, never inside one: the wall clock is read for the budget
// deadline only, and independent partitions are checked on threads. The determinism rules of
// clippy.toml are for simulated code.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod availability;
pub mod causal;
mod consistency;
pub mod eventual;
pub mod hash;
pub mod linearizable;
pub mod model;
mod parallel;
pub mod sequential;
pub mod session;
pub mod wgl;

use std::fmt;
use std::time::Duration;

use sim_core::history::{HistoryError, Operation, Outcome};
use sim_core::{NodeId, SimTime};

use crate::op::{Op, Ret, Value};

pub use availability::{availability, AvailabilityReport, ClientGroup, Window};
pub use causal::{check_causal, Anomaly, BadPattern, CausalReport};
pub use consistency::Model;
pub use eventual::{check_eventual, EventualReport, FinalRead};
pub use linearizable::check_linearizable;
pub use sequential::check_sequential;
pub use session::{check_sessions, SessionReport, Violation};

/// A search budget: the first limit reached makes the verdict [`Verdict::Unknown`].
///
/// ```
/// use models::check::Budget;
/// use std::time::Duration;
/// let b = Budget { time: Some(Duration::from_secs(5)), steps: None };
/// assert!(b.time.is_some());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    /// Wall-clock time for the whole check.
    pub time: Option<Duration>,
    /// Model steps per independent partition (deterministic, unlike `time`).
    pub steps: Option<u64>,
}

/// Which events form one session (for causal and session checks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionBy {
    /// One session per process id.
    #[default]
    Process,
    /// One session per client node (events without a node fall back to their process).
    Node,
}

/// Options shared by the checkers.
///
/// ```
/// use models::check::CheckOptions;
/// use models::op::Value;
/// let o = CheckOptions { init: Value::Int(0), ..CheckOptions::default() };
/// assert!(o.partition);
/// ```
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The initial value of every key (nil by default; mutexes always start free).
    pub init: Value,
    /// When to give up.
    pub budget: Budget,
    /// Threads for independent partitions; 0 = all available cores.
    pub parallelism: usize,
    /// Check linearizability key by key (P-compositionality). Off = one search over all keys.
    pub partition: bool,
    /// How sessions are formed.
    pub sessions: SessionBy,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            init: Value::Nil,
            budget: Budget::default(),
            parallelism: 0,
            partition: true,
            sessions: SessionBy::Process,
        }
    }
}

/// A history the checkers cannot interpret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Events do not pair up.
    #[error("malformed history: {0}")]
    History(#[from] HistoryError),
    /// The checker does not support this kind of operation.
    #[error("operation {index} ({op}): not supported by the {checker} checker")]
    Unsupported {
        /// Operation index (invocation order).
        index: usize,
        /// The operation.
        op: Op,
        /// The checker.
        checker: &'static str,
    },
    /// The return value does not fit the operation.
    #[error("operation {index} ({op}) returned {ret}, which does not fit the operation")]
    BadReturn {
        /// Operation index.
        index: usize,
        /// The operation.
        op: Op,
        /// What it returned.
        ret: Ret,
    },
    /// The causal checker needs every value written at most once per key.
    #[error("value {value} is written to key {key} more than once (the causal checker needs unique writes)")]
    NotDifferentiated {
        /// The key.
        key: crate::op::Key,
        /// The value.
        value: Value,
    },
}

/// An operation of the history, as reported by the checkers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpRef {
    /// Index in `History::operations()` (invocation order).
    pub index: usize,
    /// The process.
    pub process: u64,
    /// The client node, if recorded.
    pub node: Option<NodeId>,
    /// The operation.
    pub op: Op,
    /// How it ended.
    pub outcome: Outcome<Ret>,
    /// Invocation time.
    pub invoke_time: SimTime,
    /// Completion time, if it completed.
    pub complete_time: Option<SimTime>,
    /// Index of the invoke event in the history (real-time order).
    pub invoke_event: usize,
    /// Index of the completion event, if any.
    pub complete_event: Option<usize>,
}

impl OpRef {
    /// The report form of operation `index`.
    pub fn new(index: usize, o: &Operation<Op, Ret>) -> Self {
        OpRef {
            index,
            process: o.process,
            node: o.node,
            op: o.op.clone(),
            outcome: o.outcome.clone(),
            invoke_time: o.invoke_time,
            complete_time: o.complete_time,
            invoke_event: o.invoke_index,
            complete_event: o.complete_index,
        }
    }
}

impl fmt::Display for OpRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} p{} {} -> ", self.index, self.process, self.op)?;
        match &self.outcome {
            Outcome::Ok(r) => write!(f, "{r}")?,
            Outcome::Fail => write!(f, "fail")?,
            Outcome::Info => write!(f, "info")?,
        }
        write!(f, " [{} .. ", self.invoke_time)?;
        match self.complete_time {
            Some(t) => write!(f, "{t}]")?,
            None => write!(f, "never]")?,
        }
        match self.complete_event {
            Some(c) => write!(f, " events {}..{}", self.invoke_event, c),
            None => write!(f, " event {}..", self.invoke_event),
        }
    }
}

/// Why a history is not linearizable (or not sequentially consistent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// Which independent part of the history failed (e.g. `key 3`).
    pub partition: String,
    /// The longest prefix of operations (in linearization order) the search could explain.
    pub prefix: Vec<OpRef>,
    /// The operations none of which can be placed next; the first is the one that had to be.
    pub stuck: Vec<OpRef>,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: longest explainable prefix has {} operations",
            self.partition,
            self.prefix.len()
        )?;
        let skip = self.prefix.len().saturating_sub(10);
        if skip > 0 {
            writeln!(f, "  ... {skip} earlier operations")?;
        }
        for o in &self.prefix[skip..] {
            writeln!(f, "  {o}")?;
        }
        writeln!(f, "then none of these can be placed:")?;
        for o in &self.stuck {
            writeln!(f, "  {o}")?;
        }
        Ok(())
    }
}

/// The answer of a linearizability or sequential-consistency check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Consistent. `witness` is a total order of operation indices when the checker gives one
    /// (sequential consistency, and linearizability of a single partition).
    Valid {
        /// Operation indices in a legal order (indeterminate ones that did not take effect omitted).
        witness: Option<Vec<usize>>,
    },
    /// Not consistent.
    Invalid(Box<Counterexample>),
    /// The budget ran out.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// True for [`Verdict::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid { .. })
    }
    /// True for [`Verdict::Invalid`].
    pub fn is_invalid(&self) -> bool {
        matches!(self, Verdict::Invalid(_))
    }
    /// True for [`Verdict::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Verdict::Unknown { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Valid { .. } => write!(f, "valid"),
            Verdict::Invalid(c) => write!(f, "invalid\n{c}"),
            Verdict::Unknown { reason } => write!(f, "unknown ({reason})"),
        }
    }
}
