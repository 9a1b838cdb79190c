//! Terms and leader election: votes, check quorum, becoming leader.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Env, NodeId};

use super::*;

impl<E: Env<Timer = Timer>> Raft<E> {
    pub(super) fn check_quorum(&mut self) {
        if !self.check_quorum {
            return;
        }
        let Role::Leader(ls) = &self.role else { return };
        let now = self.env.now();
        let window = self.timing.election_max;
        let alive = self
            .peers
            .iter()
            .filter(|p| ls.last_heard.get(p).is_some_and(|&t| now - t < window))
            .count();
        if alive + 1 < self.majority() {
            self.env.cover(&"raft: leader lost its quorum");
            tracing::debug!(
                term = self.term(),
                "lost contact with a majority: step down"
            );
            self.role = Role::Follower;
            self.leader = None;
            self.reset_election_deadline();
        }
    }

    pub(super) fn start_election(&mut self) {
        let me = self.env.me();
        let (term, last_index, last_term) = {
            let mut p = self.durable.borrow_mut();
            p.term += 1;
            p.voted_for = Some(me);
            (p.term, p.last_index(), p.last_term())
        };
        tracing::debug!(term, "election timeout: stand for election");
        let was = match self.role {
            Role::Follower => "follower",
            Role::Candidate { .. } => "candidate",
            Role::Leader(_) => "leader",
        };
        self.env
            .cover(&("raft: stand for election", was, self.leader.is_some()));
        self.role = Role::Candidate {
            votes: BTreeSet::from([me]),
            tally: 1,
        };
        self.leader = None;
        self.reset_election_deadline();
        for &p in &self.peers {
            self.send(
                p,
                Message::RequestVote {
                    term,
                    last_index,
                    last_term,
                },
            );
        }
        self.maybe_win();
    }

    // ----- messages --------------------------------------------------------------------

    /// Adopts a newer term: forget the vote, become a follower.
    pub(super) fn observe_term(&mut self, term: Term) {
        let mut p = self.durable.borrow_mut();
        if term > p.term {
            let jump = (term - p.term).min(3);
            p.term = term;
            p.voted_for = None;
            drop(p);
            let role = match self.role {
                Role::Follower => "follower",
                Role::Candidate { .. } => "candidate",
                Role::Leader(_) => "leader",
            };
            self.env.cover(&("raft: newer term", role, jump));
            if self.bugs.leader_keeps_role && self.is_leader() {
                // BUG: the term is adopted, the leadership is kept.
                tracing::debug!(term, "newer term: keep leading (planted bug)");
                return;
            }
            if !matches!(self.role, Role::Follower) {
                tracing::debug!(term, "newer term: step down");
            }
            self.role = Role::Follower;
            self.leader = None;
        }
    }

    pub(super) fn on_request_vote(
        &mut self,
        from: NodeId,
        term: Term,
        last_index: Index,
        last_term: Term,
    ) {
        self.observe_term(term);
        let granted = {
            let mut p = self.durable.borrow_mut();
            let up_to_date = (last_term, last_index) >= (p.last_term(), p.last_index());
            let free = p.voted_for.is_none() || p.voted_for == Some(from);
            let granted = term == p.term && up_to_date && free;
            self.env
                .cover(&("raft: vote asked", term == p.term, up_to_date, free));
            if granted {
                p.voted_for = Some(from);
            }
            granted
        };
        if granted {
            self.reset_election_deadline();
        }
        let term = self.term();
        self.send(from, Message::Vote { term, granted });
    }

    pub(super) fn on_vote(&mut self, from: NodeId, term: Term, granted: bool) {
        self.observe_term(term);
        if term != self.term() || !granted {
            return;
        }
        if let Role::Candidate { votes, tally } = &mut self.role {
            votes.insert(from);
            *tally += 1;
            self.maybe_win();
        }
    }

    pub(super) fn maybe_win(&mut self) {
        let dup = self.bugs.dup_votes;
        let won = matches!(&self.role, Role::Candidate { votes, tally }
            if (if dup { *tally } else { votes.len() }) >= self.majority());
        if won {
            self.become_leader();
        }
    }

    pub(super) fn become_leader(&mut self) {
        let me = self.env.me();
        let now = self.env.now();
        tracing::debug!(term = self.term(), "won the election: leader");
        let term_start = self.durable.borrow().last_index() + 1;
        // Coverage: a new leader with entries of earlier terms it cannot know are committed.
        self.env
            .cover(&("raft: leader elected", term_start - 1 > self.commit));
        self.role = Role::Leader(LeaderState {
            next: self.peers.iter().map(|&p| (p, term_start)).collect(),
            matched: self.peers.iter().map(|&p| (p, 0)).collect(),
            acked_round: BTreeMap::new(),
            last_heard: self.peers.iter().map(|&p| (p, now)).collect(),
            term_start,
        });
        self.leader = Some(me);
        self.append(Command::Noop);
        self.replicate_all();
        self.advance_commit();
    }
}
