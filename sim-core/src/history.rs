//! Operation histories: what clients invoked and what they saw, in real-time order.
//!
//! A [`History`] is a list of [`Event`]s in the order they happened (Jepsen's model): an
//! `invoke` starts an operation of a process, and the next `ok`, `fail` or `info` of the same
//! process completes it. `fail` means the operation definitely did not take effect; `info` (or no
//! completion at all) means it is indeterminate: it may have taken effect at any point after its
//! invocation, or never. Checkers read histories; they are serde-serializable (a JSON array of
//! events).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::{NodeId, SimTime};

/// A client process. Jepsen-style: a client that times out continues under a fresh process id,
/// so that every process has at most one operation outstanding.
pub type ProcessId = u64;

/// One history event.
///
/// ```
/// use sim_core::history::{Event, EventKind};
/// use sim_core::SimTime;
/// let e: Event<&str, i32> = Event { process: 1, time: SimTime::ZERO, node: None, kind: EventKind::Ok { value: 5 } };
/// assert!(e.kind.is_completion());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event<O, R> {
    /// The process that invoked or completed the operation.
    pub process: ProcessId,
    /// Virtual (true, unskewed) time of the event.
    pub time: SimTime,
    /// The client node that recorded it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeId>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind<O, R>,
}

/// What a history event says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventKind<O, R> {
    /// The process starts an operation.
    Invoke {
        /// The operation.
        op: O,
    },
    /// The operation completed with this return value.
    Ok {
        /// The return value.
        value: R,
    },
    /// The operation definitely did not take effect.
    Fail {
        /// Why, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The outcome is unknown (timeout, crash): it may or may not take effect.
    Info {
        /// Why, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

impl<O, R> EventKind<O, R> {
    /// True for `ok`, `fail` and `info`.
    pub fn is_completion(&self) -> bool {
        !matches!(self, EventKind::Invoke { .. })
    }
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome<R> {
    /// It took effect and returned this value.
    Ok(R),
    /// It definitely did not take effect.
    Fail,
    /// Unknown: timed out, crashed, or never completed.
    Info,
}

/// An invocation paired with its completion (see [`History::operations`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<O, R> {
    /// The process that ran it.
    pub process: ProcessId,
    /// The client node, when known.
    pub node: Option<NodeId>,
    /// The operation as invoked.
    pub op: O,
    /// How it ended.
    pub outcome: Outcome<R>,
    /// Index of the invoke event in the history (real-time order).
    pub invoke_index: usize,
    /// Index of the completion event, or `None` if it never completed.
    pub complete_index: Option<usize>,
    /// Virtual time of the invocation.
    pub invoke_time: SimTime,
    /// Virtual time of the completion, if any.
    pub complete_time: Option<SimTime>,
}

impl<O, R> Operation<O, R> {
    /// True if `self` completed before `other` was invoked (real-time precedence).
    pub fn precedes(&self, other: &Operation<O, R>) -> bool {
        matches!(self.complete_index, Some(c) if c < other.invoke_index)
    }
}

/// A malformed history (events that cannot be paired).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// A process invoked a second operation while its first was still outstanding.
    #[error("event {index}: process {process} invokes while its operation from event {outstanding} is outstanding")]
    DoubleInvoke {
        /// Index of the offending event.
        index: usize,
        /// The process.
        process: ProcessId,
        /// Index of the outstanding invoke.
        outstanding: usize,
    },
    /// A completion arrived for a process with no outstanding operation.
    #[error("event {index}: process {process} completes an operation it never invoked")]
    CompletionWithoutInvoke {
        /// Index of the offending event.
        index: usize,
        /// The process.
        process: ProcessId,
    },
}

/// A history: events in real-time order.
///
/// ```
/// use sim_core::history::{History, Outcome};
/// use sim_core::SimTime;
/// let mut h: History<&str, i32> = History::new();
/// h.invoke(SimTime::ZERO, None, 0, "read");
/// h.ok(SimTime::from_millis(1), None, 0, 7);
/// let ops = h.operations().unwrap();
/// assert_eq!(ops[0].outcome, Outcome::Ok(7));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct History<O, R> {
    /// The events, in the order they happened.
    pub events: Vec<Event<O, R>>,
}

impl<O, R> Default for History<O, R> {
    fn default() -> Self {
        History { events: Vec::new() }
    }
}

impl<O, R> History<O, R> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an event.
    pub fn push(
        &mut self,
        time: SimTime,
        node: Option<NodeId>,
        process: ProcessId,
        kind: EventKind<O, R>,
    ) {
        self.events.push(Event {
            process,
            time,
            node,
            kind,
        });
    }

    /// Records the start of an operation.
    pub fn invoke(&mut self, time: SimTime, node: Option<NodeId>, process: ProcessId, op: O) {
        self.push(time, node, process, EventKind::Invoke { op });
    }

    /// Records a successful completion.
    pub fn ok(&mut self, time: SimTime, node: Option<NodeId>, process: ProcessId, value: R) {
        self.push(time, node, process, EventKind::Ok { value });
    }

    /// Records a definite failure.
    pub fn fail(
        &mut self,
        time: SimTime,
        node: Option<NodeId>,
        process: ProcessId,
        error: Option<String>,
    ) {
        self.push(time, node, process, EventKind::Fail { error });
    }

    /// Records an indeterminate completion.
    pub fn info(
        &mut self,
        time: SimTime,
        node: Option<NodeId>,
        process: ProcessId,
        error: Option<String>,
    ) {
        self.push(time, node, process, EventKind::Info { error });
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True if there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Pairs every invocation with the next completion of the same process. Operations that never
    /// complete are returned with [`Outcome::Info`] and no completion. The result is in invocation
    /// order.
    pub fn operations(&self) -> Result<Vec<Operation<O, R>>, HistoryError>
    where
        O: Clone,
        R: Clone,
    {
        let mut ops: Vec<Operation<O, R>> = Vec::new();
        let mut open: BTreeMap<ProcessId, usize> = BTreeMap::new();
        for (index, e) in self.events.iter().enumerate() {
            match &e.kind {
                EventKind::Invoke { op } => {
                    if let Some(&o) = open.get(&e.process) {
                        return Err(HistoryError::DoubleInvoke {
                            index,
                            process: e.process,
                            outstanding: ops[o].invoke_index,
                        });
                    }
                    open.insert(e.process, ops.len());
                    ops.push(Operation {
                        process: e.process,
                        node: e.node,
                        op: op.clone(),
                        outcome: Outcome::Info,
                        invoke_index: index,
                        complete_index: None,
                        invoke_time: e.time,
                        complete_time: None,
                    });
                }
                kind => {
                    let Some(o) = open.remove(&e.process) else {
                        return Err(HistoryError::CompletionWithoutInvoke {
                            index,
                            process: e.process,
                        });
                    };
                    let op = &mut ops[o];
                    op.complete_index = Some(index);
                    op.complete_time = Some(e.time);
                    op.outcome = match kind {
                        EventKind::Ok { value } => Outcome::Ok(value.clone()),
                        EventKind::Fail { .. } => Outcome::Fail,
                        _ => Outcome::Info,
                    };
                }
            }
        }
        Ok(ops)
    }
}

/// A shared, cloneable handle to a history being recorded by several clients of one simulation.
///
/// ```
/// use sim_core::history::Recorder;
/// use sim_core::SimTime;
/// let rec: Recorder<&str, i32> = Recorder::new();
/// rec.invoke(SimTime::ZERO, None, 0, "read");
/// assert_eq!(rec.snapshot().len(), 1);
/// ```
#[derive(Debug)]
pub struct Recorder<O, R> {
    inner: Rc<RefCell<History<O, R>>>,
}

impl<O, R> Clone for Recorder<O, R> {
    fn clone(&self) -> Self {
        Recorder {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<O, R> Default for Recorder<O, R> {
    fn default() -> Self {
        Recorder {
            inner: Rc::new(RefCell::new(History::new())),
        }
    }
}

impl<O, R> Recorder<O, R> {
    /// A recorder with an empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the start of an operation.
    pub fn invoke(&self, time: SimTime, node: Option<NodeId>, process: ProcessId, op: O) {
        self.inner.borrow_mut().invoke(time, node, process, op);
    }

    /// Records a successful completion.
    pub fn ok(&self, time: SimTime, node: Option<NodeId>, process: ProcessId, value: R) {
        self.inner.borrow_mut().ok(time, node, process, value);
    }

    /// Records a definite failure.
    pub fn fail(
        &self,
        time: SimTime,
        node: Option<NodeId>,
        process: ProcessId,
        error: Option<String>,
    ) {
        self.inner.borrow_mut().fail(time, node, process, error);
    }

    /// Records an indeterminate completion.
    pub fn info(
        &self,
        time: SimTime,
        node: Option<NodeId>,
        process: ProcessId,
        error: Option<String>,
    ) {
        self.inner.borrow_mut().info(time, node, process, error);
    }

    /// A copy of the history so far.
    pub fn snapshot(&self) -> History<O, R>
    where
        O: Clone,
        R: Clone,
    {
        self.inner.borrow().clone()
    }

    /// Takes the history out, leaving an empty one.
    pub fn take(&self) -> History<O, R> {
        std::mem::take(&mut *self.inner.borrow_mut())
    }
}
