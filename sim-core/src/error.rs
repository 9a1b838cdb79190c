//! Errors a simulation reports.

use crate::{NodeId, SimTime};

/// Why a simulation could not go on, or a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// An actor panicked; the run ends (the process does not).
    #[error(
        "seed {seed}: node {node} ({name}) panicked at {time} while handling {event}: {message}"
    )]
    ActorPanic {
        /// The run's seed.
        seed: u64,
        /// The node whose actor panicked.
        node: NodeId,
        /// The node's name.
        name: String,
        /// Virtual time of the event.
        time: SimTime,
        /// The event being handled.
        event: String,
        /// The panic message.
        message: String,
    },
    /// A control request named a node that does not exist.
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    /// A configuration value is invalid.
    #[error("invalid configuration: {field}: {reason}")]
    InvalidConfig {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request does not fit the node's state (e.g. asking a crashed node).
    #[error("node {node}: {reason}")]
    NodeState {
        /// The node.
        node: NodeId,
        /// What is wrong.
        reason: String,
    },
    /// The run executed more events than its limit (a livelock guard).
    #[error("seed {seed}: event limit of {limit} reached at {time}")]
    EventLimit {
        /// The run's seed.
        seed: u64,
        /// The limit.
        limit: u64,
        /// Virtual time when it was reached.
        time: SimTime,
    },
    /// Writing the trace file failed.
    /// Virtual time stopped: this many events ran at one instant (a loop of zero-delay timers
    /// or messages), so the run could never end.
    #[error("seed {seed}: livelock: {events} events at {time} without virtual time advancing (a loop of zero-delay timers or messages)")]
    Livelock {
        /// The run's seed.
        seed: u64,
        /// The instant time stopped at.
        time: SimTime,
        /// Events run at it.
        events: u64,
    },
    #[error("trace file: {0}")]
    Trace(String),
}

impl SimError {
    /// A configuration error naming `field`.
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
