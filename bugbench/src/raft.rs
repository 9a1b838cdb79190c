//! The Raft bugs: knobs of the built-in Raft core ([`RaftBugs`]) under the linearizable
//! protocol (read-index reads at the leader) or the sequential one (local reads).

use models::check::Model;
use models::linearizable::Linearizable;
use models::raft::RaftBugs;
use models::sequential::Sequential;

use crate::{standard, BugCase, Target};

fn lin(bugs: RaftBugs) -> Box<Target<Linearizable>> {
    Box::new(Target(Linearizable {
        bugs,
        ..Linearizable::default()
    }))
}

fn seq(bugs: RaftBugs) -> Box<Target<Sequential>> {
    Box::new(Target(Sequential {
        bugs,
        ..Sequential::default()
    }))
}

/// The Raft core's State Machine Safety assertion: a follower asked to truncate an entry it
/// knows committed panics with this message, ending the run before the checkers see it.
///
/// ```
/// let c = bugbench::BugCase::named("raft-dup-votes").unwrap();
/// assert_eq!(c.invariant, Some(bugbench::raft::RAFT_SAFETY));
/// ```
pub const RAFT_SAFETY: &str = "raft safety violated";

/// The Raft family's cases.
///
/// ```
/// assert!(bugbench::raft::cases().iter().all(|c| c.family == "raft"));
/// ```
pub fn cases() -> Vec<BugCase> {
    let none = RaftBugs::default();
    vec![
        BugCase {
            name: "raft-dup-votes",
            family: "raft",
            class: "election: duplicated vote counted twice",
            description: "a candidate counts vote messages, not distinct voters; a duplicated \
                          vote makes it leader without a majority, next to the term's real leader",
            model: Model::Linearizable,
            invariant: Some(RAFT_SAFETY),
            setup: models::experiment::Setup {
                link: sim_net::LinkConfig {
                    duplicate: 0.02,
                    ..standard(5).link
                },
                ..standard(5)
            },
            buggy: lin(RaftBugs {
                dup_votes: true,
                ..none
            }),
            twin: lin(none),
        },
        BugCase {
            name: "raft-leader-keeps-role",
            family: "raft",
            class: "higher term adopted without stepping down",
            description: "a leader that sees a higher term adopts it but keeps leading, next to \
                          the new term's elected leader: two leaders in one term",
            model: Model::Linearizable,
            invariant: Some(RAFT_SAFETY),
            // The standard nemesis finds it on no seed of 200; single-node isolation
            // (`--strategy isolation`, TaxDC, NEAT) on most. Benchmarked where it is hard,
            // so the table shows what a strategy adds.
            setup: standard(3),
            buggy: lin(RaftBugs {
                leader_keeps_role: true,
                ..none
            }),
            twin: lin(none),
        },
        BugCase {
            name: "raft-read-before-noop",
            family: "raft",
            class: "read index taken before the new leader commits in its term (Raft §6.4)",
            description: "a new leader serves read-index reads at its commit index before its \
                          term's no-op commits; that index can miss writes the old leader \
                          acknowledged",
            model: Model::Linearizable,
            invariant: Some(RAFT_SAFETY),
            setup: standard(5),
            buggy: lin(RaftBugs {
                read_before_noop: true,
                ..none
            }),
            twin: lin(none),
        },
        BugCase {
            name: "seq-commit-beyond-match",
            family: "raft",
            class: "follower commit index not bounded by the last matching entry",
            description:
                "a follower takes the leader's commit index as is (AppendEntries' \
                          min(leaderCommit, last new entry) forgotten) and applies a deposed \
                          leader's stale suffix; its local reads return writes that never committed",
            model: Model::Sequential,
            invariant: Some(RAFT_SAFETY),
            setup: standard(5),
            buggy: seq(RaftBugs {
                commit_beyond_match: true,
                ..none
            }),
            twin: seq(none),
        },
        BugCase {
            name: "seq-uncommitted-reads",
            family: "raft",
            class: "follower serves reads from an uncommitted log prefix",
            description: "a sequential replica answers reads from its whole log, the uncommitted \
                          suffix included; a deposed leader's suffix is read, then truncated",
            model: Model::Sequential,
            invariant: Some(RAFT_SAFETY),
            setup: standard(5),
            buggy: seq(RaftBugs {
                uncommitted_reads: true,
                ..none
            }),
            twin: seq(none),
        },
    ]
}
