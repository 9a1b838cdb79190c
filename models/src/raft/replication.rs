//! Log replication, commit and apply.

use sim_core::{Env, NodeId};

use super::*;
use crate::kv::KvReply;

impl<E: Env<Timer = Timer>> Raft<E> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append(
        &mut self,
        from: NodeId,
        term: Term,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
        round: u64,
    ) {
        self.observe_term(term);
        let current = self.term();
        if term < current {
            // A stale leader: tell it the newer term. Round 0: this confirms no read.
            let reply = Message::AppendReply {
                term: current,
                success: false,
                index: 0,
                round: 0,
            };
            self.send(from, reply);
            return;
        }
        if self.is_leader() {
            // Two leaders in one term cannot happen (one vote per term); ignore defensively.
            return;
        }
        self.role = Role::Follower;
        self.leader = Some(from);
        self.reset_election_deadline();
        let (success, index) = self.accept_entries(prev_index, prev_term, entries);
        if success && commit > self.commit {
            // Coverage: the leader's commit index beyond what this follower knows matches.
            self.env.cover(&("raft: follower commit", commit > index));
            let bound = if self.bugs.commit_beyond_match {
                self.durable.borrow().last_index() // BUG: not `index`, the last matching entry
            } else {
                index
            };
            self.commit = commit.min(bound).max(self.commit);
            self.apply_committed();
        }
        let reply = Message::AppendReply {
            term: current,
            success,
            index,
            round,
        };
        self.send(from, reply);
    }

    /// The consistency check and the append: returns `(true, last index matching the leader)`
    /// or `(false, index the leader should try next)`.
    pub(super) fn accept_entries(
        &mut self,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
    ) -> (bool, Index) {
        let mut p = self.durable.borrow_mut();
        if prev_index > p.last_index() {
            self.env.cover(&"raft: append leaves a gap");
            return (false, p.last_index() + 1);
        }
        let have = p.term_at(prev_index);
        if have != prev_term {
            self.env
                .cover(&"raft: append conflicts at its previous entry");
            // Skip back over the whole conflicting term in one step.
            let mut i = prev_index;
            while i > 1 && p.term_at(i - 1) == have {
                i -= 1;
            }
            return (false, i.max(self.commit + 1).min(prev_index));
        }
        let last_new = prev_index + entries.len() as Index;
        for (k, e) in entries.into_iter().enumerate() {
            let index = prev_index + 1 + k as Index;
            match p.entry(index) {
                Some(old) if old.term == e.term => {}
                Some(_) => {
                    self.env.cover(&"raft: conflicting suffix truncated");
                    assert!(
                        index > self.commit,
                        "raft safety violated: truncating committed entry {index}"
                    );
                    p.log.truncate((index - 1) as usize);
                    p.log.push(e);
                }
                None => p.log.push(e),
            }
        }
        (true, last_new)
    }

    pub(super) fn on_append_reply(
        &mut self,
        from: NodeId,
        term: Term,
        success: bool,
        index: Index,
        round: u64,
    ) {
        self.observe_term(term);
        let now = self.env.now();
        let current = self.term();
        let Role::Leader(ls) = &mut self.role else {
            return;
        };
        if term != current {
            return;
        }
        ls.last_heard.insert(from, now);
        let acked = ls.acked_round.entry(from).or_insert(0);
        *acked = (*acked).max(round);
        let matched = ls.matched.get(&from).copied().unwrap_or(0);
        let next = ls.next.entry(from).or_insert(1);
        if success {
            ls.matched.insert(from, matched.max(index));
            *next = (*next).max(index + 1);
            self.advance_commit();
            if self.next_of(from) <= self.durable.borrow().last_index() {
                self.replicate(from);
            }
        } else {
            *next = index.max(matched + 1);
            self.replicate(from);
        }
    }

    // ----- replication and commit ------------------------------------------------------

    pub(super) fn append(&mut self, command: Command) -> Index {
        let mut p = self.durable.borrow_mut();
        let term = p.term;
        p.log.push(Entry { term, command });
        p.last_index()
    }

    pub(super) fn next_of(&self, peer: NodeId) -> Index {
        match &self.role {
            Role::Leader(ls) => ls.next.get(&peer).copied().unwrap_or(1),
            _ => 1,
        }
    }

    pub(super) fn replicate_all(&mut self) {
        for i in 0..self.peers.len() {
            self.replicate(self.peers[i]);
        }
    }

    /// Sends `peer` the entries from its `next` index (at most a batch), or a heartbeat.
    pub(super) fn replicate(&mut self, peer: NodeId) {
        let next = self.next_of(peer);
        let msg = {
            let p = self.durable.borrow();
            let prev_index = next.saturating_sub(1).min(p.last_index());
            let start = prev_index as usize;
            let end = (start + self.timing.max_batch).min(p.log.len());
            Message::Append {
                term: p.term,
                prev_index,
                prev_term: p.term_at(prev_index),
                entries: p.log[start..end].to_vec(),
                commit: self.commit,
                round: self.round,
            }
        };
        if let (
            Role::Leader(ls),
            Message::Append {
                prev_index,
                entries,
                ..
            },
        ) = (&mut self.role, &msg)
        {
            // Optimistic: assume they arrive; a rejection backs `next` up again.
            ls.next
                .insert(peer, prev_index + entries.len() as Index + 1);
        }
        self.send(peer, msg);
    }

    /// Commits the highest index of the current term stored on a majority, then applies.
    pub(super) fn advance_commit(&mut self) {
        let Role::Leader(ls) = &self.role else { return };
        let p = self.durable.borrow();
        let mut matched: Vec<Index> = ls.matched.values().copied().collect();
        matched.push(p.last_index());
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let n = matched[self.majority() - 1];
        if n > self.commit && p.term_at(n) == p.term {
            drop(p);
            self.commit = n;
            self.apply_committed();
        }
    }

    /// Applies committed entries in order; answers the clients waiting here.
    pub(super) fn apply_committed(&mut self) {
        while self.applied < self.commit {
            self.applied += 1;
            let index = self.applied;
            let command = match self.durable.borrow().entry(index) {
                Some(e) => e.command.clone(),
                None => break,
            };
            let ret = self.store.apply(&command);
            if let (Some(ret), Command::Client { client, id, .. }) = (ret, &command) {
                if self.waiting.remove(&(*client, *id)).is_some() {
                    let reply = KvReply::Ok {
                        id: *id,
                        ret,
                        session: index,
                    };
                    (self.reply)(&self.env, *client, reply);
                }
            }
        }
    }
}
