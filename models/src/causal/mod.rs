//! The causal protocol (to be written).

/// Replica-to-replica messages of the causal protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {}
