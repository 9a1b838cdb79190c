//! The key-value service's client protocol, shared by the four replica protocols.
//!
//! A client sends a [`KvRequest`] to a replica and gets one [`KvReply`]. Replies other than
//! `Ok` mean the operation definitely did not take effect (so a client may retry it safely);
//! a request without a reply before the client's timeout is indeterminate.

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::op::{Key, Op, Ret, Value};

/// A client's request.
///
/// ```
/// use models::kv::KvRequest;
/// use models::op::Op;
/// let r = KvRequest { id: 1, op: Op::read(0), session: 0 };
/// assert_eq!(r.id, 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvRequest {
    /// Unique per client: the reply carries it back.
    pub id: u64,
    /// The operation.
    pub op: Op,
    /// Session token: the highest `session` this client has seen in a reply (0 = none).
    /// Protocols with session guarantees (sequential) use it as "do not serve me a state older
    /// than this"; others ignore it.
    pub session: u64,
}

/// A replica's answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvReply {
    /// The operation took effect (or the read observed this value).
    Ok {
        /// The request's id.
        id: u64,
        /// What it returned.
        ret: Ret,
        /// The session token after this operation (e.g. the log index that applied it).
        session: u64,
    },
    /// The operation definitely did not take effect (e.g. no quorum, rejected).
    Fail {
        /// The request's id.
        id: u64,
        /// Why.
        reason: String,
    },
    /// This replica cannot serve the request; try the leader (when known). Not applied.
    NotLeader {
        /// The request's id.
        id: u64,
        /// The leader this replica believes in, if any.
        leader: Option<NodeId>,
    },
}

impl KvReply {
    /// The id of the request this answers.
    pub fn id(&self) -> u64 {
        match self {
            KvReply::Ok { id, .. } | KvReply::Fail { id, .. } | KvReply::NotLeader { id, .. } => {
                *id
            }
        }
    }
}

/// Every message of a simulation of a key-value protocol: client requests and replies, and
/// the protocol's own replica-to-replica messages `P`.
///
/// ```
/// use models::kv::{KvMsg, KvRequest};
/// use models::op::Op;
/// let m: KvMsg<u8> = KvMsg::Request(KvRequest { id: 1, op: Op::read(0), session: 0 });
/// assert!(matches!(m, KvMsg::Request(_)));
/// let peer: KvMsg<u8> = KvMsg::Peer(7);
/// assert_eq!(peer, KvMsg::Peer(7));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvMsg<P> {
    /// Client → replica.
    Request(KvRequest),
    /// Replica → client.
    Reply(KvReply),
    /// Replica → replica: the protocol's own message.
    Peer(P),
}

impl<P> KvMsg<P> {
    /// The message's kind, for coverage ([`sim_core::coverage`]): a request by its operation,
    /// a reply by its outcome, a protocol message by its variant.
    ///
    /// ```
    /// use models::kv::KvMsg;
    /// #[derive(Clone, Debug, Hash)]
    /// enum Peer { Ping(u32), Pong(u32) }
    /// let kind = |m: KvMsg<Peer>| m.kind();
    /// assert_eq!(kind(KvMsg::Peer(Peer::Ping(1))), kind(KvMsg::Peer(Peer::Ping(2))));
    /// assert_ne!(kind(KvMsg::Peer(Peer::Ping(1))), kind(KvMsg::Peer(Peer::Pong(1))));
    /// ```
    pub fn kind(&self) -> u64 {
        use sim_core::hash::stable_hash;
        match self {
            KvMsg::Request(r) => stable_hash(&(0u8, std::mem::discriminant(&r.op))),
            KvMsg::Reply(r) => stable_hash(&(1u8, std::mem::discriminant(r))),
            KvMsg::Peer(p) => stable_hash(&(2u8, std::mem::discriminant(p))),
        }
    }
}

/// Asks a replica actor for its local value of `key` (harness use only: the final reads of the
/// consistency x availability experiment; not a network message). Sent with `Sim::ask`.
#[derive(Clone, Debug)]
pub struct ReadLocal {
    /// The key.
    pub key: Key,
}

impl actix::Message for ReadLocal {
    type Result = Value;
}
