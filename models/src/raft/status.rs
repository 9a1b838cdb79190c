//! A replica's role and status, for tests and tools.

use sim_core::NodeId;

use super::*;

/// A replica's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleName {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asks for votes.
    Candidate,
    /// Orders and replicates writes.
    Leader,
}

/// A snapshot of a replica's Raft state, for tests and tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// Current term.
    pub term: Term,
    /// Current role.
    pub role: RoleName,
    /// The leader it believes in.
    pub leader: Option<NodeId>,
    /// Commit index.
    pub commit: Index,
    /// Applied index.
    pub applied: Index,
    /// Last log index.
    pub last_index: Index,
}

/// Asks a replica actor for its [`Status`] (harness use, via `Sim::ask`).
#[derive(Clone, Copy, Debug)]
pub struct Inspect;

impl actix::Message for Inspect {
    type Result = Status;
}
