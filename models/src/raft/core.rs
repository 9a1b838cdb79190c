//! The core's life cycle and its doors: construction, accessors, client proposals, read index, timers and message dispatch.

use std::collections::BTreeMap;

use rand::Rng;
use sim_core::{Durable, Env, NodeId, SimTime};

use super::*;
use crate::op::Op;

impl<E: Env<Timer = Timer>> Raft<E> {
    /// A replica among `replicas` (which includes `env.me()`), starting from `durable` state.
    /// `wrap` puts a Raft message into the simulation's message type; `reply` answers a client
    /// whose command this replica applied.
    pub fn new(
        env: E,
        durable: Durable<Persistent>,
        replicas: &[NodeId],
        timing: Timing,
        check_quorum: bool,
        wrap: fn(Message) -> E::Msg,
        reply: Reply<E>,
    ) -> Self {
        let me = env.me();
        Raft {
            peers: replicas.iter().copied().filter(|&r| r != me).collect(),
            env,
            wrap,
            reply,
            timing,
            check_quorum,
            bugs: RaftBugs::default(),
            durable,
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            store: Store::default(),
            election_deadline: SimTime::ZERO,
            round: 0,
            waiting: BTreeMap::new(),
        }
    }

    /// Plants `bugs` (see [`RaftBugs`]; none by default).
    pub fn with_bugs(mut self, bugs: RaftBugs) -> Self {
        self.bugs = bugs;
        self
    }

    /// The planted bugs.
    pub fn bugs(&self) -> RaftBugs {
        self.bugs
    }

    /// Arms the timers; call from the actor's `started`.
    pub fn start(&mut self) {
        self.reset_election_deadline();
        self.env
            .set_timer(self.election_deadline - self.env.now(), Timer::Election);
        self.env.set_timer(self.timing.heartbeat, Timer::Heartbeat);
    }

    /// The environment.
    pub fn env(&self) -> &E {
        &self.env
    }

    /// True if this replica is the leader of its current term.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// The leader this replica believes in, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The applied index: the store reflects exactly the log prefix up to it.
    pub fn applied(&self) -> Index {
        self.applied
    }

    /// The key-value state machine.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store reads see: the applied store, or, with the `uncommitted_reads` bug, the
    /// store with the whole log applied (the uncommitted suffix included).
    pub fn read_view(&self) -> std::borrow::Cow<'_, Store> {
        if !self.bugs.uncommitted_reads {
            return std::borrow::Cow::Borrowed(&self.store);
        }
        let mut view = self.store.clone();
        let p = self.durable.borrow();
        for index in self.applied + 1..=p.last_index() {
            if let Some(e) = p.entry(index) {
                view.apply(&e.command);
            }
        }
        std::borrow::Cow::Owned(view)
    }

    /// A snapshot of the Raft state.
    pub fn status(&self) -> Status {
        let p = self.durable.borrow();
        Status {
            term: p.term,
            role: match self.role {
                Role::Follower => RoleName::Follower,
                Role::Candidate { .. } => RoleName::Candidate,
                Role::Leader(_) => RoleName::Leader,
            },
            leader: self.leader,
            commit: self.commit,
            applied: self.applied,
            last_index: p.last_index(),
        }
    }

    pub(super) fn term(&self) -> Term {
        self.durable.borrow().term
    }

    pub(super) fn majority(&self) -> usize {
        let cluster = self.peers.len() + 1;
        cluster / 2 + 1
    }

    pub(super) fn send(&self, to: NodeId, m: Message) {
        self.env.send(to, (self.wrap)(m));
    }

    /// The election deadline: now plus this replica's election timeout for its current term.
    /// The timeout is drawn from a stream keyed by the term ([`Env::rng_for`]), not from the
    /// node's sequential stream: a replica resets it on every `Append`, so a sequential draw
    /// would move with the number of messages (one client operation fewer would shift every
    /// later election). Keyed by the term, each election attempt (a new term) still draws a
    /// fresh timeout, different on every replica, which is what splits candidates apart.
    pub(super) fn reset_election_deadline(&mut self) {
        let (lo, hi) = (self.timing.election_min, self.timing.election_max);
        let timeout = if hi > lo {
            let term = self.term();
            self.env
                .rng_for(("raft election timeout", term))
                .random_range(lo..hi)
        } else {
            lo
        };
        self.election_deadline = self.env.now() + timeout;
    }

    // ----- client requests -------------------------------------------------------------

    /// Appends a client's write or cas (leader only) and starts replicating it. Returns the
    /// entry's index, or `None` if not leader. See [`Raft::answer_when_applied`].
    pub fn propose(&mut self, client: NodeId, id: u64, op: Op) -> Option<Index> {
        if !self.is_leader() {
            return None;
        }
        let index = self.append(Command::Client { client, id, op });
        self.replicate_all();
        self.advance_commit();
        Some(index)
    }

    /// Makes this replica answer request `id` of `client` when it applies it (with the result
    /// and the entry's index as session). Forgotten after [`WAIT_LIMIT`]: the client gave up.
    pub fn answer_when_applied(&mut self, client: NodeId, id: u64) {
        let now = self.env.now();
        self.waiting.insert((client, id), now);
    }

    /// Starts a linearizable read at the leader: the read index is the commit index (at least
    /// this term's no-op), confirmed by a fresh heartbeat round. `None` if not leader.
    pub fn read_index(&mut self) -> Option<ReadTicket> {
        let Role::Leader(ls) = &self.role else {
            return None;
        };
        // Coverage: a read arriving before this term's first entry is committed.
        self.env
            .cover(&("raft: read index", self.commit >= ls.term_start));
        let index = if self.bugs.read_before_noop {
            self.commit // BUG: may lag what the previous leader acknowledged
        } else {
            self.commit.max(ls.term_start)
        };
        self.round += 1;
        let ticket = ReadTicket {
            term: self.term(),
            index,
            round: self.round,
        };
        self.replicate_all();
        Some(ticket)
    }

    /// Whether a read with this ticket may be served now: still leader in the same term, a
    /// majority acknowledged the ticket's round, and the read index is applied.
    pub fn read_ready(&self, t: &ReadTicket) -> bool {
        let Role::Leader(ls) = &self.role else {
            return false;
        };
        if self.term() != t.term || self.applied < t.index {
            return false;
        }
        let mut rounds: Vec<u64> = self
            .peers
            .iter()
            .map(|p| ls.acked_round.get(p).copied().unwrap_or(0))
            .collect();
        rounds.push(self.round);
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        rounds[self.majority() - 1] >= t.round
    }

    /// Whether a ticket can never become ready (leadership lost or term changed).
    pub fn read_lost(&self, t: &ReadTicket) -> bool {
        !self.is_leader() || self.term() != t.term
    }

    // ----- timers ----------------------------------------------------------------------

    /// Handles one of the core's timers.
    pub fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Election => {
                let now = self.env.now();
                if self.is_leader() {
                    self.election_deadline = now + self.timing.election_max;
                } else if now >= self.election_deadline {
                    self.start_election();
                }
                let wait = self.election_deadline - now;
                self.env.set_timer(wait, Timer::Election);
            }
            Timer::Heartbeat => {
                let now = self.env.now();
                self.waiting
                    .retain(|_, &mut since| now - since < WAIT_LIMIT);
                if self.is_leader() {
                    self.check_quorum();
                }
                if self.is_leader() {
                    self.replicate_all();
                }
                self.env.set_timer(self.timing.heartbeat, Timer::Heartbeat);
            }
        }
    }

    /// Handles a message from another replica.
    pub fn on_message(&mut self, from: NodeId, m: Message) {
        match m {
            Message::RequestVote {
                term,
                last_index,
                last_term,
            } => self.on_request_vote(from, term, last_index, last_term),
            Message::Vote { term, granted } => self.on_vote(from, term, granted),
            Message::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
                round,
            } => self.on_append(from, term, prev_index, prev_term, entries, commit, round),
            Message::AppendReply {
                term,
                success,
                index,
                round,
            } => self.on_append_reply(from, term, success, index, round),
        }
    }
}
