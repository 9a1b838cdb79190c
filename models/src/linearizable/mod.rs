//! The linearizable protocol (to be written).

/// Replica-to-replica messages of the linearizable protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {}
