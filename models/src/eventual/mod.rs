//! The eventual protocol (to be written).

/// Replica-to-replica messages of the eventual protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {}
