//! Planted Raft bugs for benchmarks (the `bugbench` crate): each off by default.

/// Planted bugs of the Raft core, each a real class of Raft implementation bug. All are off by
/// default; a correct replica never sets any. `bugbench` turns them on one at a time to measure
/// how deep each bug is under a testing strategy.
///
/// ```
/// use models::raft::RaftBugs;
/// let b = RaftBugs { dup_votes: true, ..RaftBugs::default() };
/// assert!(b.any() && !RaftBugs::default().any());
/// assert!(RaftBugs { commit_beyond_match: true, ..RaftBugs::default() }.any());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RaftBugs {
    /// A candidate counts `Vote` messages instead of distinct voters: a duplicated vote counts
    /// twice, so a candidate can win without a majority.
    pub dup_votes: bool,
    /// A leader that sees a higher term adopts it but does not step down: it keeps leading in
    /// a term it did not win, next to the term's real leader.
    pub leader_keeps_role: bool,
    /// A new leader serves read-index reads at its commit index before its term's no-op is
    /// committed; its commit index may lag writes the previous leader acknowledged (Raft
    /// dissertation §6.4).
    pub read_before_noop: bool,
    /// A follower takes the leader's commit index as is, not bounded by the last entry it
    /// knows matches the leader's log, and so applies a stale suffix of a deposed leader
    /// (the `min` of AppendEntries' rule 5 forgotten).
    pub commit_beyond_match: bool,
    /// Reads at a replica (sequential: any replica) see its whole log, the uncommitted suffix
    /// included, not just the committed and applied prefix.
    pub uncommitted_reads: bool,
}

impl RaftBugs {
    /// True if any bug is planted.
    pub fn any(&self) -> bool {
        // Destructured, so a new bug cannot be left out.
        let RaftBugs {
            dup_votes,
            leader_keeps_role,
            read_before_noop,
            commit_beyond_match,
            uncommitted_reads,
        } = *self;
        dup_votes
            || leader_keeps_role
            || read_before_noop
            || commit_beyond_match
            || uncommitted_reads
    }
}
