//! A Raft replicated log: the core shared by the sequential and linearizable protocols.
//!
//! One replicated log, two read policies: [`crate::sequential`] serves reads from any replica's
//! applied prefix (with a session wait), [`crate::linearizable`] serves them at the leader after a
//! read index confirmed by a majority. Writes take the same path in both: the leader appends them
//! to its log ([`Raft::propose`]) and replicates them; the replica that took the client's request
//! answers it when it applies the committed entry ([`Raft::answer_when_applied`]).
//!
//! # The protocol (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm")
//!
//! - **Terms and election.** Time is divided into terms, each with at most one leader. A follower
//!   that hears nothing from a leader for a randomized election timeout becomes a candidate: it
//!   increments its term, votes for itself and asks the others for votes. A replica grants one vote
//!   per term, and only to a candidate whose log is at least as up to date as its own
//!   (`(last term, last index)` compared lexicographically). A majority of votes makes a leader,
//!   which first appends a no-op entry of its own term.
//! - **Replication.** The leader sends `Append` (AppendEntries) messages carrying the entries after
//!   `prev_index`; a follower accepts them only if its entry at `prev_index` has `prev_term` (the
//!   consistency check), truncates any conflicting suffix and appends the rest. The leader keeps a
//!   `next` index per follower (advanced optimistically, backed up on a rejection with the
//!   follower's hint) and a `matched` index (known replicated).
//! - **Commit.** An entry is committed once a majority stores it *and* it is of the leader's
//!   current term (entries of earlier terms commit indirectly, under it). Committed entries are
//!   applied in order to the key-value [`Store`].
//! - **Durability.** Term, vote and log live in [`Durable`] [`Persistent`] state and survive a
//!   crash; everything else (commit and applied index, leader, per-follower indexes, the store)
//!   is volatile and rebuilt: a restarted replica re-applies its log as it learns the commit index.
//! - **Check quorum.** Optionally, a leader that has not heard from a majority for an election
//!   timeout steps down, so a leader cut off in a minority stops accepting requests.
//! - **Read index.** [`Raft::read_index`] starts a heartbeat round; once a majority acknowledged
//!   that round in the leader's term, and the leader applied up to the read index, a read at the
//!   leader is linearizable.
//!
//! Duplicate requests: a request id is applied at most once per client (the store skips an entry
//! whose id is not above the last id it applied for that client).

mod bugs;
mod core;
mod election;
mod log;
mod message;
mod replication;
mod status;
mod store;
mod timing;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sim_core::{Durable, Env, NodeId, SimTime};

use crate::kv::KvReply;

pub use bugs::RaftBugs;
pub use log::{Command, Entry, Index, Persistent, Term};
pub use message::Message;
pub use status::{Inspect, RoleName, Status};
pub use store::{is_logged, Store};
pub use timing::{Timer, Timing};

/// How long a replica keeps waiting to answer a request (clients give up after 1 s).
pub const WAIT_LIMIT: Duration = Duration::from_secs(2);

/// A linearizable read's ticket: serve it once [`Raft::read_ready`] says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadTicket {
    term: Term,
    index: Index,
    round: u64,
}

struct LeaderState {
    next: BTreeMap<NodeId, Index>,
    matched: BTreeMap<NodeId, Index>,
    acked_round: BTreeMap<NodeId, u64>,
    last_heard: BTreeMap<NodeId, SimTime>,
    /// Index of this term's no-op: reads must wait until it is applied.
    term_start: Index,
}

enum Role {
    Follower,
    Candidate {
        votes: BTreeSet<NodeId>,
        /// Vote messages counted (the `dup_votes` bug wins on this instead of `votes`).
        tally: usize,
    },
    Leader(LeaderState),
}

/// How the Raft core answers a client: `reply(env, client, answer)` sends the answer in the
/// protocol's message type.
pub type Reply<E> = fn(&E, NodeId, KvReply);

/// The Raft core: election, replication, commit and apply. Not an actor itself: a protocol
/// actor owns one, feeds it messages and timers, and adds its read policy.
pub struct Raft<E: Env> {
    env: E,
    wrap: fn(Message) -> E::Msg,
    reply: Reply<E>,
    peers: Vec<NodeId>,
    timing: Timing,
    check_quorum: bool,
    bugs: RaftBugs,
    durable: Durable<Persistent>,
    role: Role,
    leader: Option<NodeId>,
    commit: Index,
    applied: Index,
    store: Store,
    election_deadline: SimTime,
    round: u64,
    /// Client requests this replica answers when it applies them: `(client, id)` -> since when.
    waiting: BTreeMap<(NodeId, u64), SimTime>,
}
