//! The replicated log: terms, indexes, entries and the durable state.

use sim_core::NodeId;

use crate::op::Op;

/// A Raft term.
pub type Term = u64;
/// A 1-based log index (0 = before the first entry).
pub type Index = u64;

/// What a log entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Appended by a new leader so that entries of earlier terms commit under its term.
    Noop,
    /// A client's write or cas.
    Client {
        /// The client node (the reply goes there).
        client: NodeId,
        /// The request id.
        id: u64,
        /// The operation.
        op: Op,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The term of the leader that appended it.
    pub term: Term,
    /// What to apply.
    pub command: Command,
}

/// The state a replica keeps across crashes: current term, vote, and the log.
///
/// ```
/// use models::raft::Persistent;
/// let p = Persistent::default();
/// assert_eq!((p.last_index(), p.term_at(0)), (0, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persistent {
    /// The latest term this replica has seen.
    pub term: Term,
    /// The candidate it voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
    /// The log; `log[0]` has index 1.
    pub log: Vec<Entry>,
}

impl Persistent {
    /// The index of the last entry (0 if the log is empty).
    pub fn last_index(&self) -> Index {
        self.log.len() as Index
    }

    /// The term of the entry at `index` (0 for index 0 or past the end).
    pub fn term_at(&self, index: Index) -> Term {
        self.entry(index).map_or(0, |e| e.term)
    }

    /// The entry at `index`, if present.
    pub fn entry(&self, index: Index) -> Option<&Entry> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        self.log.get(i)
    }

    pub(super) fn last_term(&self) -> Term {
        self.term_at(self.last_index())
    }
}
