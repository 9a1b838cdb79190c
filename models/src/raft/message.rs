//! What Raft replicas tell each other.

use super::*;

/// Messages between Raft replicas.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// A candidate asks for a vote (RequestVote).
    RequestVote {
        /// The candidate's term.
        term: Term,
        /// Index of the candidate's last log entry.
        last_index: Index,
        /// Term of the candidate's last log entry.
        last_term: Term,
    },
    /// The answer to `RequestVote`.
    Vote {
        /// The voter's current term.
        term: Term,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// The leader replicates entries and its commit index (AppendEntries; also the heartbeat).
    Append {
        /// The leader's term.
        term: Term,
        /// Index of the entry just before `entries`.
        prev_index: Index,
        /// Term of that entry.
        prev_term: Term,
        /// The entries to store (empty for a heartbeat).
        entries: Vec<Entry>,
        /// The leader's commit index.
        commit: Index,
        /// The leader's heartbeat round (echoed back; confirms read indexes).
        round: u64,
    },
    /// The answer to `Append`.
    AppendReply {
        /// The follower's current term.
        term: Term,
        /// Whether the consistency check passed.
        success: bool,
        /// On success: the last index now known to match the leader. On failure: the index the
        /// leader should try next.
        index: Index,
        /// The round of the `Append` answered.
        round: u64,
    },
}
