//! The message type of every simulation of the built-in protocols.

use crate::kv::{KvReply, KvRequest};

/// Everything nodes send each other: client requests and replies, and each protocol's own
/// replica-to-replica messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Client → replica.
    Request(KvRequest),
    /// Replica → client.
    Reply(KvReply),
    /// Between replicas of the eventual protocol.
    Eventual(crate::eventual::Message),
    /// Between replicas of the causal protocol.
    Causal(crate::causal::Message),
    /// Between replicas of the sequential protocol.
    Sequential(crate::sequential::Message),
    /// Between replicas of the linearizable (Raft) protocol.
    Linearizable(crate::linearizable::Message),
}
