//! Consistency checkers for [`KvHistory`] histories.
//!
//! One entry point, one answer: [`check`]`(model, &history, &final_reads, &opts)` returns a
//! [`Verdict`] tagged with its [`Model`]: valid (with a witness order when the checker finds
//! one), invalid with a structured [`Counterexample`] (whose [`Counterexample::blamed`] lists
//! the operation indices to highlight), or unknown with an [`Undecided`] reason.
//!
//! | model | how | counterexample |
//! |---|---|---|
//! | [`Model::Linearizable`] | WGL per key, independent keys in parallel ([`linearizable`]) | [`Counterexample::Linearization`] |
//! | [`Model::Sequential`] | saturation and search over process orders ([`sequential`]) | `Linearization`, [`Counterexample::OrderCycle`], [`Counterexample::ThinAir`] |
//! | [`Model::CausalPlus`] | CCv bad patterns ([`causal`]) | [`Counterexample::Causal`] |
//! | [`Model::Causal`] | CC bad patterns ([`causal`]) | [`Counterexample::Causal`] |
//! | [`Model::Sessions`] | session guarantees ([`session`]) | [`Counterexample::Sessions`] |
//! | [`Model::Eventual`] | convergence of `final_reads`, thin air, lost writes ([`eventual`]) | [`Counterexample::Eventual`] |
//!
//! Histories a checker cannot interpret (events that do not pair, an operation kind the
//! checker does not support, a return value that does not fit, or — for checkers that need
//! them — written values that are not unique) are never an error of [`check`]: the verdict is
//! [`Verdict::Unknown`] with [`Undecided::Uncheckable`] naming the problem, and a running
//! out of budget is [`Undecided::Budget`]. Either way the checker did not say valid.
//! [`availability`] is a measurement, not a consistency model, and keeps its own report; the
//! modules' detailed reports ([`causal::check_causal`], [`eventual::check_eventual`],
//! [`session::check_sessions`]) are the diagnostics behind their verdicts.
//!
//! Lower level: [`wgl::search`] runs the Wing–Gong–Lowe search over any [`model::Model`].
//!
//! # `ok`, `fail` and `info`: one semantics for every checker and format
//!
//! Jepsen's. Every parser maps its formats onto these three outcomes (an invocation that never
//! completes is `info`).
//!
//! - An `ok` operation happened, between its invocation and its completion, and returned what
//!   the history says.
//! - A `fail` operation did not happen. Every checker drops it; it orders nothing, and a value
//!   only a failed write wrote is a value nobody wrote.
//! - An `info` operation is indeterminate: it may take effect at any one point after its
//!   invocation, or never. Its completion is +infinity, so:
//!   - real time (linearizability): it precedes no operation; operations that completed before
//!     its invocation precede it;
//!   - program / session order (sequential, causal+, causal, sessions, eventual's lost-write
//!     order): it comes after the earlier operations of its process, but it is *not* before the
//!     process's later operations. A real Jepsen client, and actsim's own, continues under a
//!     new process id after an `info`; a parsed history whose process goes on under the same
//!     id is judged as if the `info` operation had been handed to a process of its own that
//!     forked after the process's earlier operations. This is the sound choice: ordering the
//!     `info` operation before the later operations would call histories invalid in which the
//!     timed-out request simply arrived late;
//!   - an `info` read constrains nothing (its result is unknown) and is dropped; an `info`
//!     write or cas counts only if some choice of "took effect here / never" explains the
//!     history (the checkers that need unique values use "its value was read" to decide).
//!
//! So the history "p1 write(0, 1) -> info at 10 ms; p1 read(0) -> nil [20, 30]; p2 read(0)
//! -> 1 [40, 50]" is valid for every model. `models/tests/checkers_vs_bruteforce.rs` checks
//! these semantics against brute-force checkers written from the definitions.
//!
//! A checker never says valid for a history it cannot judge exactly: the causal and session
//! checkers need each value written at most once per key and never the initial value (the
//! value a read returns must name the one write it read from), and say
//! [`Undecided::Uncheckable`] otherwise; the sequential checker's fast path has the same
//! precondition and hands other histories to its general search.
//!
//! ```
//! use models::check::{check, CheckOptions, Model};
//! use models::op::{KvHistory, Op, Ret, Value};
//! use sim_core::SimTime;
//! let t = SimTime::from_millis;
//! let mut h = KvHistory::new();
//! h.invoke(t(0), None, 1, Op::write(0, 1));
//! h.info(t(10), None, 1, None);
//! h.invoke(t(20), None, 1, Op::read(0));
//! h.ok(t(30), None, 1, Ret::Value(Value::Nil));
//! h.invoke(t(40), None, 2, Op::read(0));
//! h.ok(t(50), None, 2, Ret::Value(Value::Int(1)));
//! for m in Model::ALL {
//!     assert!(check(m, &h, &[], &CheckOptions::default()).is_valid(), "{m}");
//! }
//! ```
//!
//! ```
//! use models::check::{check, CheckOptions, Model, Verdict};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::SimTime;
//! let mut h = History::new();
//! h.invoke(SimTime::from_millis(0), None, 0, Op::write(0, 1));
//! h.ok(SimTime::from_millis(1), None, 0, Ret::Ok);
//! h.invoke(SimTime::from_millis(2), None, 1, Op::read(0));
//! h.ok(SimTime::from_millis(3), None, 1, Ret::Value(Value::Nil)); // stale
//! let v = check(Model::Linearizable, &h, &[], &CheckOptions::default());
//! assert!(v.is_invalid());
//! assert_eq!(v.model(), Model::Linearizable);
//! assert_eq!(v.blamed(), vec![1]); // the stale read
//! assert!(check(Model::Sequential, &h, &[], &CheckOptions::default()).is_valid());
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

use serde::{Deserialize, Serialize};
use sim_core::history::{HistoryError, Operation, Outcome};
use sim_core::{NodeId, SimTime};

use crate::op::{KvHistory, Op, Ret, Value};

pub use availability::{availability, AvailabilityReport, ClientGroup, Window};
pub use causal::{Anomaly, BadPattern};
pub use consistency::{Model, ParseModelError};
pub use eventual::{Divergence, FinalRead};
pub use session::Guarantee;

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
    /// The checker needs every value written at most once per key, and never the initial
    /// value (so that a read names the one write it read from).
    #[error("value {value} is written to key {key} more than once, or is its initial value (the {checker} checker needs unique writes)")]
    NotDifferentiated {
        /// The key.
        key: crate::op::Key,
        /// The value.
        value: Value,
        /// The checker.
        checker: &'static str,
    },
}

/// An operation of the history, as reported by the checkers.
///
/// ```
/// use models::check::OpRef;
/// use models::op::{KvHistory, Op, Ret};
/// use sim_core::SimTime;
/// let mut h = KvHistory::new();
/// h.invoke(SimTime::ZERO, None, 3, Op::write(0, 1));
/// h.ok(SimTime::from_millis(1), None, 3, Ret::Ok);
/// let r = OpRef::new(0, &h.operations().unwrap()[0]);
/// assert_eq!((r.index, r.process), (0, 3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// Why a history violates a model: the evidence, in a form a report can highlight.
///
/// [`Counterexample::blamed`] lists the operation indices (into `History::operations()`) the
/// checker blames, the most important first; `Display` gives the human-readable text.
///
/// ```
/// use models::check::{check, CheckOptions, Counterexample, Model};
/// use models::op::{KvHistory, Op, Ret, Value};
/// use sim_core::SimTime;
/// let t = SimTime::from_millis;
/// let mut h = KvHistory::new();
/// h.invoke(t(0), None, 0, Op::read(0));
/// h.ok(t(1), None, 0, Ret::Value(Value::Int(7))); // nobody writes 7
/// let v = check(Model::Causal, &h, &[], &CheckOptions::default());
/// let c = v.counterexample().unwrap();
/// assert!(matches!(c, Counterexample::Causal { .. }));
/// assert_eq!(c.blamed(), vec![0]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Counterexample {
    /// No legal order exists (linearizability, sequential consistency): the search explained
    /// `prefix` and then could place none of `stuck`.
    Linearization {
        /// Which independent part of the history failed (e.g. `key 3`).
        partition: String,
        /// The longest prefix of operations (in linearization order) the search could explain.
        prefix: Vec<OpRef>,
        /// The operations none of which can be placed next; the first is the one that had to be.
        stuck: Vec<OpRef>,
    },
    /// Operations each of which every legal order must put before the next, in a cycle
    /// (process order, reads-from, and the orders those force; sequential consistency).
    OrderCycle {
        /// The cycle, in order.
        ops: Vec<OpRef>,
    },
    /// Reads of values that no operation wrote (and that are not the initial value).
    ThinAir {
        /// The reads.
        reads: Vec<OpRef>,
    },
    /// Bad patterns of causal consistency (CC) or causal convergence (CCv).
    Causal {
        /// The first occurrence of each pattern the model forbids, in [`BadPattern`] order.
        anomalies: Vec<Anomaly>,
    },
    /// Violations of the session guarantees.
    Sessions {
        /// The first violation of each violated guarantee.
        violations: Vec<SessionViolation>,
    },
    /// Eventual consistency: divergence, thin-air values or lost writes.
    Eventual(EventualViolation),
}

/// The first violation of one session guarantee (see [`session`]).
///
/// ```
/// use models::check::{check, CheckOptions, Counterexample, Guarantee, Model};
/// use models::op::{KvHistory, Op, Ret, Value};
/// use sim_core::SimTime;
/// let t = SimTime::from_millis;
/// let mut h = KvHistory::new();
/// h.invoke(t(0), None, 0, Op::write(0, 1));
/// h.ok(t(1), None, 0, Ret::Ok);
/// h.invoke(t(2), None, 0, Op::read(0));
/// h.ok(t(3), None, 0, Ret::Value(Value::Nil)); // its own write is gone
/// let v = check(Model::Sessions, &h, &[], &CheckOptions::default());
/// let Some(Counterexample::Sessions { violations }) = v.counterexample() else { panic!("{v}") };
/// assert_eq!(violations[0].guarantee, Guarantee::ReadYourWrites);
/// assert_eq!((violations[0].first.index, violations[0].second.index), (0, 1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionViolation {
    /// Which guarantee.
    pub guarantee: Guarantee,
    /// The operation that made the later read's result required (a write or a read).
    pub first: OpRef,
    /// The read that returned an older value.
    pub second: OpRef,
    /// How many violations of this guarantee were found in total.
    pub count: usize,
}

/// What the eventual-consistency check found (see [`eventual`]).
///
/// ```
/// use models::check::EventualViolation;
/// let v = EventualViolation::default();
/// assert!(v.divergent.is_empty() && v.lost_writes.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventualViolation {
    /// Keys whose replicas disagree after the heal.
    pub divergent: Vec<Divergence>,
    /// Reads (in the history) of values never written.
    pub thin_air_reads: Vec<OpRef>,
    /// Final values never written.
    pub thin_air_finals: Vec<FinalRead>,
    /// Acknowledged writes lost for certain.
    pub lost_writes: Vec<OpRef>,
}

impl Counterexample {
    /// The operation indices the checker blames, most important first, without repeats:
    /// the operation that had to be placed next (then the other stuck ones), the cycle, the
    /// thin-air reads, the operations of each bad pattern, the violating reads and what they
    /// violated, the thin-air reads and lost writes. Divergent keys blame no operation (the
    /// final reads are not operations of the history).
    pub fn blamed(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut add = |o: &OpRef| {
            if !out.contains(&o.index) {
                out.push(o.index);
            }
        };
        match self {
            Counterexample::Linearization { stuck, .. } => stuck.iter().for_each(&mut add),
            Counterexample::OrderCycle { ops } => ops.iter().for_each(&mut add),
            Counterexample::ThinAir { reads } => reads.iter().for_each(&mut add),
            Counterexample::Causal { anomalies } => {
                anomalies.iter().flat_map(|a| &a.ops).for_each(&mut add)
            }
            Counterexample::Sessions { violations } => {
                for v in violations {
                    add(&v.second);
                    add(&v.first);
                }
            }
            Counterexample::Eventual(e) => {
                e.thin_air_reads.iter().for_each(&mut add);
                e.lost_writes.iter().for_each(&mut add);
            }
        }
        out
    }
}

fn list(f: &mut fmt::Formatter<'_>, ops: &[OpRef]) -> fmt::Result {
    for o in ops {
        writeln!(f, "  {o}")?;
    }
    Ok(())
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Counterexample::Linearization {
                partition,
                prefix,
                stuck,
            } => {
                writeln!(
                    f,
                    "{partition}: longest explainable prefix has {} operations",
                    prefix.len()
                )?;
                let skip = prefix.len().saturating_sub(10);
                if skip > 0 {
                    writeln!(f, "  ... {skip} earlier operations")?;
                }
                list(f, &prefix[skip..])?;
                writeln!(f, "then none of these can be placed:")?;
                list(f, stuck)
            }
            Counterexample::OrderCycle { ops } => {
                writeln!(
                    f,
                    "whole history (sequential consistency): these operations must each come \
                     before the next (process order, reads-from, or an order those force), in a \
                     cycle"
                )?;
                list(f, ops)
            }
            Counterexample::ThinAir { reads } => {
                writeln!(f, "reads of values nobody wrote:")?;
                list(f, reads)
            }
            Counterexample::Causal { anomalies } => {
                for a in anomalies {
                    write!(f, "{a}")?;
                }
                Ok(())
            }
            Counterexample::Sessions { violations } => {
                for v in violations {
                    writeln!(
                        f,
                        "{}: {} then {} ({} in total)",
                        v.guarantee, v.first, v.second, v.count
                    )?;
                }
                Ok(())
            }
            Counterexample::Eventual(e) => {
                let mut parts = Vec::new();
                if let Some(d) = e.divergent.first() {
                    let vals: Vec<String> =
                        d.values.iter().map(|(n, v)| format!("{n}={v}")).collect();
                    parts.push(format!(
                        "{} keys diverged after the heal (key {}: {})",
                        e.divergent.len(),
                        d.key,
                        vals.join(", ")
                    ));
                }
                if let Some(r) = e.thin_air_reads.first() {
                    parts.push(format!(
                        "{} reads of values never written (first: {r})",
                        e.thin_air_reads.len()
                    ));
                }
                if !e.thin_air_finals.is_empty() {
                    parts.push(format!(
                        "{} final values never written",
                        e.thin_air_finals.len()
                    ));
                }
                if let Some(w) = e.lost_writes.first() {
                    parts.push(format!(
                        "{} acknowledged writes lost (first: {w})",
                        e.lost_writes.len()
                    ));
                }
                writeln!(f, "{}", parts.join("; "))
            }
        }
    }
}

/// Why a checker gave no answer.
///
/// ```
/// use models::check::Undecided;
/// let u = Undecided::Budget("step budget exceeded".into());
/// assert_eq!(u.to_string(), "step budget exceeded");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", content = "detail", rename_all = "snake_case")]
pub enum Undecided {
    /// The time or step budget ran out.
    Budget(String),
    /// The checker cannot interpret this history (a [`CheckError`], as text).
    Uncheckable(String),
}

impl fmt::Display for Undecided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undecided::Budget(s) | Undecided::Uncheckable(s) => f.write_str(s),
        }
    }
}

/// The answer of every consistency checker, tagged with the model it judged.
///
/// ```
/// use models::check::{check, CheckOptions, Model, Verdict};
/// use models::op::{KvHistory, Op, Ret};
/// use sim_core::SimTime;
/// let mut h = KvHistory::new();
/// h.invoke(SimTime::ZERO, None, 0, Op::write(0, 1));
/// h.ok(SimTime::from_millis(1), None, 0, Ret::Ok);
/// match check(Model::Sequential, &h, &[], &CheckOptions::default()) {
///     Verdict::Valid { model, witness } => {
///         assert_eq!(model, Model::Sequential);
///         assert_eq!(witness, Some(vec![0]));
///     }
///     v => panic!("{v}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Consistent. `witness` is a total order of operation indices when the checker gives one
    /// (sequential consistency, and linearizability of a single partition).
    Valid {
        /// The model judged.
        model: Model,
        /// Operation indices in a legal order (indeterminate ones that did not take effect omitted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        witness: Option<Vec<usize>>,
    },
    /// Not consistent.
    Invalid {
        /// The model judged.
        model: Model,
        /// The evidence.
        counterexample: Box<Counterexample>,
    },
    /// No answer: the budget ran out, or the checker cannot interpret the history.
    Unknown {
        /// The model judged.
        model: Model,
        /// Why.
        reason: Undecided,
    },
}

impl Verdict {
    /// An invalid verdict.
    pub fn invalid(model: Model, c: Counterexample) -> Verdict {
        Verdict::Invalid {
            model,
            counterexample: Box::new(c),
        }
    }
    /// The model judged.
    pub fn model(&self) -> Model {
        match self {
            Verdict::Valid { model, .. }
            | Verdict::Invalid { model, .. }
            | Verdict::Unknown { model, .. } => *model,
        }
    }
    /// True for [`Verdict::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid { .. })
    }
    /// True for [`Verdict::Invalid`].
    pub fn is_invalid(&self) -> bool {
        matches!(self, Verdict::Invalid { .. })
    }
    /// True for [`Verdict::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Verdict::Unknown { .. })
    }
    /// True when the checker could not interpret the history ([`Undecided::Uncheckable`]).
    pub fn is_uncheckable(&self) -> bool {
        matches!(
            self,
            Verdict::Unknown {
                reason: Undecided::Uncheckable(_),
                ..
            }
        )
    }
    /// The witness order of a valid verdict, if the checker gave one.
    pub fn witness(&self) -> Option<&[usize]> {
        match self {
            Verdict::Valid { witness, .. } => witness.as_deref(),
            _ => None,
        }
    }
    /// The counterexample of an invalid verdict.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match self {
            Verdict::Invalid { counterexample, .. } => Some(counterexample),
            _ => None,
        }
    }
    /// The blamed operation indices of an invalid verdict (empty otherwise).
    pub fn blamed(&self) -> Vec<usize> {
        self.counterexample()
            .map(Counterexample::blamed)
            .unwrap_or_default()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Valid { .. } => write!(f, "valid"),
            Verdict::Invalid { counterexample, .. } => write!(f, "invalid\n{counterexample}"),
            Verdict::Unknown { reason, .. } => write!(f, "unknown ({reason})"),
        }
    }
}

/// Judges `history` against `model`: the one entry point of the checkers.
///
/// `final_reads` (every key read on every replica after the heal and a quiet period) is used by
/// [`Model::Eventual`] only; pass `&[]` when there are none (then convergence and lost writes
/// are not judged). A history the checker cannot interpret gives
/// [`Verdict::Unknown`] with [`Undecided::Uncheckable`] (see the module documentation).
///
/// ```
/// use models::check::{check, CheckOptions, Model};
/// use models::op::KvHistory;
/// let empty = KvHistory::new();
/// for m in Model::ALL {
///     assert!(check(m, &empty, &[], &CheckOptions::default()).is_valid(), "{m}");
/// }
/// ```
pub fn check(
    model: Model,
    history: &KvHistory,
    final_reads: &[FinalRead],
    opts: &CheckOptions,
) -> Verdict {
    let r = match model {
        Model::Linearizable => linearizable::check_linearizable(history, opts),
        Model::Sequential => sequential::check_sequential(history, opts),
        Model::CausalPlus | Model::Causal => {
            causal::check_causal(history, opts).map(|r| r.verdict(model))
        }
        Model::Sessions => session::check_sessions(history, opts).map(|r| r.verdict()),
        Model::Eventual => {
            eventual::check_eventual(history, final_reads, opts).map(|r| r.verdict())
        }
    };
    r.unwrap_or_else(|e| Verdict::Unknown {
        model,
        reason: Undecided::Uncheckable(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_round_trip_through_json() {
        let t = SimTime::from_millis;
        let mut h = KvHistory::new();
        h.invoke(t(0), None, 0, Op::write(0, 1));
        h.ok(t(1), None, 0, Ret::Ok);
        h.invoke(t(2), None, 1, Op::read(0));
        h.ok(t(3), None, 1, Ret::Value(Value::Nil));
        let finals = [FinalRead {
            node: NodeId(0),
            key: 0.into(),
            value: Value::Int(9),
        }];
        let mut invalid = 0;
        for m in Model::ALL {
            let v = check(m, &h, &finals, &CheckOptions::default());
            assert_eq!(v.model(), m);
            invalid += usize::from(v.is_invalid());
            let json = serde_json::to_string(&v).unwrap();
            let back: Verdict = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v, "{json}");
        }
        // Stale for linearizability, thin-air final for eventual, and read-your-writes is
        // not violated (another process), so: linearizable and eventual.
        assert_eq!(invalid, 2);
        let unknown = Verdict::Unknown {
            model: Model::Causal,
            reason: Undecided::Uncheckable("x".into()),
        };
        let json = serde_json::to_string(&unknown).unwrap();
        assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), unknown);
        assert!(unknown.is_uncheckable());
    }
}
