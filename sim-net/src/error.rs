//! Configuration and control errors; every variant names the offending field.

use sim_core::{NodeId, SimError, SimTime};

/// Why a network configuration, partition or fault schedule was rejected.
///
/// Every variant names the field at fault (e.g. `links[2].loss`, `entries[4].node`), so a
/// hand-edited schedule points at the line to fix.
///
/// ```
/// use sim_net::{LinkConfig, NetError};
/// let bad = LinkConfig { loss: 1.5, ..LinkConfig::default() };
/// let err = bad.validate("default").unwrap_err();
/// assert_eq!(err.field(), "default.loss");
/// assert!(err.to_string().contains("default.loss"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetError {
    /// A probability outside `[0, 1]` (or NaN).
    #[error("{field}: probability {value} is outside [0, 1]")]
    Probability {
        /// The field.
        field: String,
        /// The rejected value.
        value: f64,
    },
    /// A latency that is negative, not finite, or a range whose bounds are inverted.
    #[error("{field}: {reason}")]
    Latency {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A node id that is not part of the simulation.
    #[error("{field}: unknown node {node} (the network has {nodes} nodes)")]
    UnknownNode {
        /// The field.
        field: String,
        /// The unknown node.
        node: NodeId,
        /// How many nodes the network knows.
        nodes: usize,
    },
    /// A time or duration longer than the virtual clock holds (u64 nanoseconds).
    #[error("{field}: {value} ms exceeds the limit of {max_ms} ms (the u64 nanosecond clock, about 584 years)")]
    TimeOverflow {
        /// The field.
        field: String,
        /// The rejected value, in milliseconds, as written.
        value: String,
        /// The largest accepted value ([`SimTime::MAX_MILLIS`](sim_core::SimTime::MAX_MILLIS)).
        max_ms: u64,
    },
    /// Any other invalid value.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The simulation's network is not a [`FaultyNetwork`](crate::FaultyNetwork) of this
    /// message type.
    #[error("the simulation's network is not a sim_net::FaultyNetwork")]
    NotFaulty,
    /// The kernel refused a node fault.
    #[error(transparent)]
    Sim(#[from] SimError),
}

impl NetError {
    /// The field the error is about (empty for [`NetError::NotFaulty`] and kernel errors).
    pub fn field(&self) -> &str {
        match self {
            NetError::Probability { field, .. }
            | NetError::Latency { field, .. }
            | NetError::UnknownNode { field, .. }
            | NetError::TimeOverflow { field, .. }
            | NetError::Invalid { field, .. } => field,
            NetError::NotFaulty | NetError::Sim(_) => "",
        }
    }

    /// Checks that `ms` milliseconds fit the virtual clock.
    pub(crate) fn check_millis(field: impl Into<String>, ms: u64) -> Result<SimTime, NetError> {
        SimTime::checked_from_millis(ms).ok_or_else(|| NetError::TimeOverflow {
            field: field.into(),
            value: ms.to_string(),
            max_ms: SimTime::MAX_MILLIS,
        })
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        NetError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Checks that `value` is a probability.
pub(crate) fn check_probability(field: &str, value: f64) -> Result<(), NetError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(NetError::Probability {
            field: field.to_string(),
            value,
        })
    }
}

/// Checks that `node` exists in a network of `nodes` nodes.
pub(crate) fn check_node(field: &str, node: NodeId, nodes: usize) -> Result<(), NetError> {
    if node.index() < nodes {
        Ok(())
    } else {
        Err(NetError::UnknownNode {
            field: field.to_string(),
            node,
            nodes,
        })
    }
}
