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

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::Rng;
use sim_core::{Durable, Env, NodeId, SimTime};

use crate::kv::KvReply;
use crate::op::{Key, Op, Ret, Value};

/// How long a replica keeps waiting to answer a request (clients give up after 1 s).
pub const WAIT_LIMIT: Duration = Duration::from_secs(2);

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

    fn last_term(&self) -> Term {
        self.term_at(self.last_index())
    }
}

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

/// The timers of a Raft replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Check whether the election timeout has passed.
    Election,
    /// A leader's heartbeat (and check-quorum) tick.
    Heartbeat,
}

/// Timing knobs (local-clock durations).
///
/// ```
/// use models::raft::Timing;
/// let t = Timing::default();
/// assert!(t.heartbeat < t.election_min && t.election_min < t.election_max);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Smallest election timeout: a follower waits a random duration in
    /// `[election_min, election_max)` without hearing from a leader before standing for election.
    pub election_min: Duration,
    /// Largest election timeout (also the check-quorum window).
    pub election_max: Duration,
    /// Interval between a leader's heartbeats (well below `election_min`).
    pub heartbeat: Duration,
    /// Most entries sent in one `Append`.
    pub max_batch: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_min: Duration::from_millis(150),
            election_max: Duration::from_millis(300),
            heartbeat: Duration::from_millis(50),
            max_batch: 64,
        }
    }
}

/// The key-value state machine the log is applied to.
///
/// ```
/// use models::raft::{Command, Store};
/// use models::op::{Op, Ret, Value};
/// use sim_core::NodeId;
/// let mut s = Store::default();
/// let w = Command::Client { client: NodeId(9), id: 1, op: Op::write(0, 5) };
/// assert_eq!(s.apply(&w), Some(Ret::Ok));
/// assert_eq!(s.apply(&w), None); // the same request id again: skipped
/// assert_eq!(s.get(&0.into()), Value::Int(5));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    data: BTreeMap<Key, Value>,
    last_id: BTreeMap<NodeId, u64>,
}

impl Store {
    /// The value of `key` (`Nil` if absent).
    pub fn get(&self, key: &Key) -> Value {
        self.data.get(key).cloned().unwrap_or_default()
    }

    /// Applies a command; returns what the client is told, or `None` for a no-op or a request
    /// id already applied (at most once per id).
    pub fn apply(&mut self, command: &Command) -> Option<Ret> {
        let Command::Client { client, id, op } = command else {
            return None;
        };
        let last = self.last_id.entry(*client).or_insert(0);
        if *id <= *last {
            return None;
        }
        *last = *id;
        Some(match op {
            Op::Write { key, value } => {
                self.data.insert(key.clone(), value.clone());
                Ret::Ok
            }
            Op::Cas { key, old, new } => {
                if self.get(key) == *old {
                    self.data.insert(key.clone(), new.clone());
                    Ret::Ok
                } else {
                    Ret::CasFailed
                }
            }
            Op::Read { key } => Ret::Value(self.get(key)),
            // Protocols only log writes and cas (see `is_logged`).
            _ => Ret::Ok,
        })
    }
}

/// Whether an operation goes through the log (writes and cas).
pub fn is_logged(op: &Op) -> bool {
    matches!(op, Op::Write { .. } | Op::Cas { .. })
}

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
    Candidate { votes: BTreeSet<NodeId> },
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

    fn term(&self) -> Term {
        self.durable.borrow().term
    }

    fn majority(&self) -> usize {
        let cluster = self.peers.len() + 1;
        cluster / 2 + 1
    }

    fn send(&self, to: NodeId, m: Message) {
        self.env.send(to, (self.wrap)(m));
    }

    fn reset_election_deadline(&mut self) {
        let (lo, hi) = (self.timing.election_min, self.timing.election_max);
        let timeout = if hi > lo {
            self.env.rng().random_range(lo..hi)
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
        let index = self.commit.max(ls.term_start);
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

    fn check_quorum(&mut self) {
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
            tracing::debug!(
                term = self.term(),
                "lost contact with a majority: step down"
            );
            self.role = Role::Follower;
            self.leader = None;
            self.reset_election_deadline();
        }
    }

    fn start_election(&mut self) {
        let me = self.env.me();
        let (term, last_index, last_term) = {
            let mut p = self.durable.borrow_mut();
            p.term += 1;
            p.voted_for = Some(me);
            (p.term, p.last_index(), p.last_term())
        };
        tracing::debug!(term, "election timeout: stand for election");
        self.role = Role::Candidate {
            votes: BTreeSet::from([me]),
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

    /// Adopts a newer term: forget the vote, become a follower.
    fn observe_term(&mut self, term: Term) {
        let mut p = self.durable.borrow_mut();
        if term > p.term {
            p.term = term;
            p.voted_for = None;
            drop(p);
            if !matches!(self.role, Role::Follower) {
                tracing::debug!(term, "newer term: step down");
            }
            self.role = Role::Follower;
            self.leader = None;
        }
    }

    fn on_request_vote(&mut self, from: NodeId, term: Term, last_index: Index, last_term: Term) {
        self.observe_term(term);
        let granted = {
            let mut p = self.durable.borrow_mut();
            let up_to_date = (last_term, last_index) >= (p.last_term(), p.last_index());
            let free = p.voted_for.is_none() || p.voted_for == Some(from);
            let granted = term == p.term && up_to_date && free;
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

    fn on_vote(&mut self, from: NodeId, term: Term, granted: bool) {
        self.observe_term(term);
        if term != self.term() || !granted {
            return;
        }
        if let Role::Candidate { votes } = &mut self.role {
            votes.insert(from);
            self.maybe_win();
        }
    }

    fn maybe_win(&mut self) {
        let won = matches!(&self.role, Role::Candidate { votes } if votes.len() >= self.majority());
        if won {
            self.become_leader();
        }
    }

    fn become_leader(&mut self) {
        let me = self.env.me();
        let now = self.env.now();
        tracing::debug!(term = self.term(), "won the election: leader");
        let term_start = self.durable.borrow().last_index() + 1;
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

    #[allow(clippy::too_many_arguments)]
    fn on_append(
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
            self.commit = commit.min(index).max(self.commit);
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
    fn accept_entries(
        &mut self,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
    ) -> (bool, Index) {
        let mut p = self.durable.borrow_mut();
        if prev_index > p.last_index() {
            return (false, p.last_index() + 1);
        }
        let have = p.term_at(prev_index);
        if have != prev_term {
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

    fn on_append_reply(
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

    fn append(&mut self, command: Command) -> Index {
        let mut p = self.durable.borrow_mut();
        let term = p.term;
        p.log.push(Entry { term, command });
        p.last_index()
    }

    fn next_of(&self, peer: NodeId) -> Index {
        match &self.role {
            Role::Leader(ls) => ls.next.get(&peer).copied().unwrap_or(1),
            _ => 1,
        }
    }

    fn replicate_all(&mut self) {
        for i in 0..self.peers.len() {
            self.replicate(self.peers[i]);
        }
    }

    /// Sends `peer` the entries from its `next` index (at most a batch), or a heartbeat.
    fn replicate(&mut self, peer: NodeId) {
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
    fn advance_commit(&mut self) {
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
    fn apply_committed(&mut self) {
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
