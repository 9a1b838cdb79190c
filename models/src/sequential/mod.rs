//! The sequential protocol (to be written).

/// Replica-to-replica messages of the sequential protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {}
