//! Wing–Gong–Lowe linearizability search over any [`Model`], with Porcupine's optimizations.
//!
//! Call and return events of the operations form a doubly linked list in real-time order. The
//! search repeatedly linearizes ("lifts") a pending call whose model step succeeds, and backtracks
//! ("unlifts") when it reaches a return whose call was not linearized. A memo table of
//! (set of linearized operations, model state) prunes configurations already explored; sets are
//! bitsets identified by an incrementally maintained Zobrist hash. Indeterminate operations
//! (`ret_at: None`) have no return event: they may take effect at any point after their call, or
//! never, so the search succeeds as soon as every determinate operation is linearized.
//!
//! ```
//! use models::check::model::Model;
//! use models::check::wgl::{search, Entry, Limits, SearchResult};
//!
//! /// A register of integers; an operation is (is_write, value).
//! struct Reg;
//! impl Model for Reg {
//!     type Op = (bool, i64);
//!     type Ret = ();
//!     type State = i64;
//!     fn init(&mut self) -> i64 { 0 }
//!     fn step(&mut self, s: &i64, op: &(bool, i64), _: Option<&()>) -> Option<i64> {
//!         if op.0 { Some(op.1) } else if *s == op.1 { Some(*s) } else { None }
//!     }
//! }
//! // write 1 [0,3]; read 1 [1,2]: the write must take effect before the read.
//! let ops = vec![
//!     Entry { op: (true, 1), ret: Some(()), call: 0, ret_at: Some(3), id: 0 },
//!     Entry { op: (false, 1), ret: Some(()), call: 1, ret_at: Some(2), id: 1 },
//! ];
//! match search(&mut Reg, &ops, &Limits::default()) {
//!     SearchResult::Linearizable(order) => assert_eq!(order, vec![0, 1]),
//!     r => panic!("{r:?}"),
//! }
//! ```

use std::time::Instant;

use sim_core::hash::stable_hash;

use super::hash::fx_hash;

use super::model::Model;

/// One operation to linearize.
#[derive(Clone, Debug)]
pub struct Entry<O, R> {
    /// The operation (its input).
    pub op: O,
    /// What it returned, or `None` if indeterminate.
    pub ret: Option<R>,
    /// Position of the call in real-time order (distinct from all other positions).
    pub call: usize,
    /// Position of the return, or `None` if the operation may be pending forever.
    pub ret_at: Option<usize>,
    /// The caller's identifier of this operation (reported in results).
    pub id: usize,
}

/// When to give up.
#[derive(Default)]
pub struct Limits<'a> {
    /// Stop at this instant.
    pub deadline: Option<Instant>,
    /// Stop after this many model steps.
    pub max_steps: Option<u64>,
    /// Polled now and then: stop when it returns true.
    pub cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
}

/// Why a search stopped without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The deadline passed.
    Deadline,
    /// The step budget ran out.
    Steps,
    /// The caller cancelled.
    Cancelled,
}

/// The answer of [`search`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchResult {
    /// A linearization: operation ids in order (indeterminate operations that never took effect
    /// are absent).
    Linearizable(Vec<usize>),
    /// No linearization exists.
    NotLinearizable {
        /// The longest linearizable prefix the search found (operation ids in order).
        prefix: Vec<usize>,
        /// The operations that could be linearized next after that prefix (by real time), none of
        /// which the model accepts; the first is the one that had to complete.
        stuck: Vec<usize>,
    },
    /// The search stopped early.
    Unknown(Stopped),
}

const NIL: u32 = u32::MAX;

/// Memo table of (bitset, state) pairs: open addressing on their combined 64-bit hash.
///
/// A slot holds a 32-bit tag of the hash (whose low bits choose the slot, so the table can grow
/// without storing hashes) and the entry's index; bitsets and states are compared (exactly: the
/// hash only selects candidates) only when the tags match. Bitsets live in one flat vector, `words` words per entry, so an entry
/// costs no allocation of its own.
struct Cache<S> {
    /// (tag, entry index + 1); index 0 marks an empty slot. The length is
    /// a power of two, at least twice the number of entries.
    slots: Vec<(u32, u32)>,
    words: usize,
    bits: Vec<u64>,
    states: Vec<S>,
}

impl<S: Eq + Clone> Cache<S> {
    /// An empty table for `n` operations (small searches start with a small table).
    fn new(n: usize, words: usize) -> Self {
        Cache {
            slots: vec![(0, 0); (4 * n).next_power_of_two().clamp(16, 1 << 12)],
            words,
            bits: Vec::new(),
            states: Vec::new(),
        }
    }

    /// Inserts (bits, state) unless present; true if inserted.
    #[inline]
    fn insert(&mut self, h: u64, bits: &[u64], state: &S) -> bool {
        let mask = self.slots.len() - 1;
        let tag = (h ^ (h >> 32)) as u32;
        let mut i = tag as usize & mask;
        loop {
            let (t, idx) = self.slots[i];
            if idx == 0 {
                break;
            }
            if t == tag {
                let e = idx as usize - 1;
                let mine = &self.bits[e * self.words..(e + 1) * self.words];
                // Short bitsets: an inline loop beats a call to memcmp.
                let same = if self.words <= 4 {
                    mine.iter().zip(bits).all(|(a, b)| a == b)
                } else {
                    mine == bits
                };
                if same && self.states[e] == *state {
                    return false;
                }
            }
            i = (i + 1) & mask;
        }
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.slots[i] = (tag, self.states.len() as u32);
        if 2 * self.states.len() > self.slots.len() {
            self.grow();
        }
        true
    }

    /// Doubles the table (keeps the load at most 1/2).
    #[cold]
    fn grow(&mut self) {
        let len = 2 * self.slots.len();
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); len]);
        let mask = self.slots.len() - 1;
        for (tag, idx) in old {
            if idx != 0 {
                let mut i = tag as usize & mask;
                while self.slots[i].1 != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = (tag, idx);
            }
        }
    }
}

/// Searches for a linearization of `ops` under `model`.
pub fn search<M: Model>(
    model: &mut M,
    ops: &[Entry<M::Op, M::Ret>],
    limits: &Limits<'_>,
) -> SearchResult {
    Searcher::new(model, ops).run(limits)
}

/// A resumable search: [`Searcher::run`] may stop on a step budget and be called again to go on
/// where it stopped (the driver of several partitions uses this to give them steps in rounds).
pub struct Searcher<'a, M: Model> {
    model: &'a mut M,
    ops: &'a [Entry<M::Op, M::Ret>],
    next: Vec<u32>,
    prev: Vec<u32>,
    node_op: Vec<u32>,
    node_is_call: Vec<bool>,
    ret_node: Vec<u32>,
    required: usize,
    lin: Vec<u64>,
    zob: Vec<u64>,
    zhash: u64,
    cache: Cache<M::State>,
    state: M::State,
    stack: Vec<(u32, M::State)>,
    best: Vec<u32>,
    cur: u32,
    steps: u64,
    done: Option<SearchResult>,
}

impl<'a, M: Model> Searcher<'a, M> {
    /// Prepares a search.
    pub fn new(model: &'a mut M, ops: &'a [Entry<M::Op, M::Ret>]) -> Self {
        let n = ops.len();
        // Nodes: 0 is the head sentinel; then events sorted by position (calls first on ties).
        let mut events: Vec<(usize, bool, u32)> = Vec::with_capacity(2 * n);
        for (i, e) in ops.iter().enumerate() {
            events.push((e.call, false, i as u32));
            if let Some(r) = e.ret_at {
                events.push((r.max(e.call), true, i as u32));
            }
        }
        events.sort_unstable();
        let len = events.len() + 1;
        let mut next = vec![NIL; len];
        let mut prev = vec![NIL; len];
        let mut node_op = vec![NIL; len];
        let mut node_is_call = vec![false; len];
        let mut ret_node = vec![NIL; n];
        for (k, &(_, is_ret, op)) in events.iter().enumerate() {
            let node = k + 1;
            node_op[node] = op;
            node_is_call[node] = !is_ret;
            if is_ret {
                ret_node[op as usize] = node as u32;
            }
            prev[node] = k as u32;
            next[k] = node as u32;
        }
        let words = n.div_ceil(64).max(1);
        let state = model.init();
        let cur = next[0];
        Searcher {
            required: ops.iter().filter(|e| e.ret_at.is_some()).count(),
            model,
            ops,
            next,
            prev,
            node_op,
            node_is_call,
            ret_node,
            lin: vec![0u64; words],
            zob: (0..n as u64).map(|i| stable_hash(&i)).collect(),
            zhash: 0,
            cache: Cache::new(n, words),
            state,
            stack: Vec::new(),
            best: Vec::new(),
            cur,
            steps: 0,
            done: None,
        }
    }

    /// Model steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs until an answer or a limit; after `Unknown`, calling again resumes.
    pub fn run(&mut self, limits: &Limits<'_>) -> SearchResult {
        if let Some(r) = &self.done {
            return r.clone();
        }
        let r = self.run_inner(limits);
        if !matches!(r, SearchResult::Unknown(_)) {
            self.done = Some(r.clone());
        }
        r
    }

    fn run_inner(&mut self, limits: &Limits<'_>) -> SearchResult {
        let ops = self.ops;
        let mut since_check: u32 = 0;
        loop {
            if self.required == 0 {
                return SearchResult::Linearizable(
                    self.stack
                        .iter()
                        .map(|(node, _)| ops[self.node_op[*node as usize] as usize].id)
                        .collect(),
                );
            }
            since_check += 1;
            if since_check >= 1024 {
                since_check = 0;
                if let Some(stop) = stop_reason(limits, self.steps) {
                    return SearchResult::Unknown(stop);
                }
            }
            let cur = self.cur;
            if cur != NIL && self.node_is_call[cur as usize] {
                let op = self.node_op[cur as usize] as usize;
                let e = &ops[op];
                self.steps += 1;
                if let Some(ns) = self.model.step(&self.state, &e.op, e.ret.as_ref()) {
                    self.lin[op / 64] |= 1u64 << (op % 64);
                    let h = self.zhash ^ self.zob[op];
                    let key = h ^ fx_hash(&ns);
                    if self.cache.insert(key, &self.lin, &ns) {
                        self.zhash = h;
                        if e.ret_at.is_some() {
                            self.required -= 1;
                        }
                        let old = std::mem::replace(&mut self.state, ns);
                        self.stack.push((cur, old));
                        self.lift(cur);
                        if self.stack.len() > self.best.len() {
                            self.best.clear();
                            let node_op = &self.node_op;
                            self.best
                                .extend(self.stack.iter().map(|(nd, _)| node_op[*nd as usize]));
                        }
                        self.cur = self.next[0];
                        continue;
                    }
                    self.lin[op / 64] &= !(1u64 << (op % 64));
                }
                self.cur = self.next[cur as usize];
            } else {
                // A return whose call is not linearized (or, with only indeterminate calls
                // left, the end of the list): backtrack.
                let Some((node, s)) = self.stack.pop() else {
                    return not_linearizable(ops, &self.best);
                };
                let op = self.node_op[node as usize] as usize;
                self.state = s;
                self.lin[op / 64] &= !(1u64 << (op % 64));
                self.zhash ^= self.zob[op];
                if ops[op].ret_at.is_some() {
                    self.required += 1;
                }
                self.unlift(node);
                self.cur = self.next[node as usize];
            }
        }
    }

    #[inline]
    fn lift(&mut self, call: u32) {
        remove(call, &mut self.next, &mut self.prev);
        let r = self.ret_node[self.node_op[call as usize] as usize];
        if r != NIL {
            remove(r, &mut self.next, &mut self.prev);
        }
    }

    #[inline]
    fn unlift(&mut self, call: u32) {
        let r = self.ret_node[self.node_op[call as usize] as usize];
        if r != NIL {
            reinsert(r, &mut self.next, &mut self.prev);
        }
        reinsert(call, &mut self.next, &mut self.prev);
    }
}

/// Checks the budget (wall clock read only for the deadline).
pub(crate) fn stop_reason(limits: &Limits<'_>, steps: u64) -> Option<Stopped> {
    if limits.max_steps.is_some_and(|m| steps >= m) {
        return Some(Stopped::Steps);
    }
    if let Some(c) = limits.cancel {
        if c() {
            return Some(Stopped::Cancelled);
        }
    }
    #[allow(clippy::disallowed_methods)] // the budget deadline is the one wall-clock read
    if limits.deadline.is_some_and(|d| Instant::now() >= d) {
        return Some(Stopped::Deadline);
    }
    None
}

#[inline]
fn remove(x: u32, next: &mut [u32], prev: &mut [u32]) {
    let (p, nx) = (prev[x as usize], next[x as usize]);
    next[p as usize] = nx;
    if nx != NIL {
        prev[nx as usize] = p;
    }
}

#[inline]
fn reinsert(x: u32, next: &mut [u32], prev: &mut [u32]) {
    let (p, nx) = (prev[x as usize], next[x as usize]);
    next[p as usize] = x;
    if nx != NIL {
        prev[nx as usize] = x;
    }
}

/// Builds the counterexample from the deepest prefix found.
fn not_linearizable<O, R>(ops: &[Entry<O, R>], best: &[u32]) -> SearchResult {
    let mut done = vec![false; ops.len()];
    for &o in best {
        done[o as usize] = true;
    }
    // The first determinate operation to complete among those not linearized bounds what
    // could have been linearized next.
    let deadline = ops
        .iter()
        .enumerate()
        .filter(|(i, _)| !done[*i])
        .filter_map(|(_, e)| e.ret_at)
        .min()
        .unwrap_or(usize::MAX);
    let mut stuck: Vec<&Entry<O, R>> = ops
        .iter()
        .enumerate()
        .filter(|(i, e)| !done[*i] && e.call < deadline)
        .map(|(_, e)| e)
        .collect();
    // The operation that had to complete first goes first, then by call.
    stuck.sort_by_key(|e| (e.ret_at != Some(deadline), e.call));
    SearchResult::NotLinearizable {
        prefix: best.iter().map(|&o| ops[o as usize].id).collect(),
        stuck: stuck.iter().map(|e| e.id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Integer register: (kind, a, b): 0 = read a, 1 = write a, 2 = cas a->b.
    #[derive(Clone)]
    struct Reg;
    impl Model for Reg {
        type Op = (u8, i64, i64);
        type Ret = bool; // cas result
        type State = i64;
        fn init(&mut self) -> i64 {
            0
        }
        fn step(&mut self, s: &i64, op: &Self::Op, ret: Option<&bool>) -> Option<i64> {
            match op.0 {
                0 => (*s == op.1).then_some(*s),
                1 => Some(op.1),
                _ => match ret {
                    Some(true) => (*s == op.1).then_some(op.2),
                    Some(false) => (*s != op.1).then_some(*s),
                    None => Some(if *s == op.1 { op.2 } else { *s }),
                },
            }
        }
    }

    fn e(
        op: (u8, i64, i64),
        call: usize,
        ret_at: Option<usize>,
        id: usize,
    ) -> Entry<(u8, i64, i64), bool> {
        Entry {
            op,
            ret: ret_at.map(|_| true),
            call,
            ret_at,
            id,
        }
    }

    #[test]
    fn memo_compares_exactly_and_survives_growth() {
        // Every entry has the same hash: only the exact comparison tells them apart.
        let mut c: Cache<u32> = Cache::new(1, 2);
        for i in 0..600u64 {
            assert!(c.insert(7, &[i, !i], &(i as u32 % 3)));
        }
        for i in 0..600u64 {
            assert!(!c.insert(7, &[i, !i], &(i as u32 % 3)));
            // Same bitset, other state; same state, other bitset.
            assert!(c.insert(7, &[i, !i], &(1000 + i as u32)));
            assert!(c.insert(7, &[i, i], &(i as u32 % 3)));
        }
        // Distinct hashes, through several doublings of the table.
        let mut c: Cache<u32> = Cache::new(1, 1);
        for i in 0..100_000u64 {
            assert!(c.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), &[i], &0));
        }
        for i in (0..100_000u64).step_by(7) {
            assert!(!c.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), &[i], &0));
        }
    }

    #[test]
    fn stale_read_after_write_is_not_linearizable() {
        // write 1 completes, then a read returns 0.
        let ops = vec![e((1, 1, 0), 0, Some(1), 0), e((0, 0, 0), 2, Some(3), 1)];
        match search(&mut Reg, &ops, &Limits::default()) {
            SearchResult::NotLinearizable { prefix, stuck } => {
                assert_eq!(prefix, vec![0]);
                assert_eq!(stuck, vec![1]);
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn concurrent_ops_may_reorder() {
        // read 1 overlaps write 1; read 0 overlaps too.
        let ops = vec![
            e((1, 1, 0), 0, Some(5), 0),
            e((0, 1, 0), 1, Some(2), 1),
            e((0, 0, 0), 3, Some(4), 2),
        ];
        // read 0 after read 1 (real time) but write already visible: not linearizable.
        assert!(matches!(
            search(&mut Reg, &ops, &Limits::default()),
            SearchResult::NotLinearizable { .. }
        ));
        let ops = vec![
            e((1, 1, 0), 0, Some(5), 0),
            e((0, 0, 0), 1, Some(2), 1),
            e((0, 1, 0), 3, Some(4), 2),
        ];
        assert_eq!(
            search(&mut Reg, &ops, &Limits::default()),
            SearchResult::Linearizable(vec![1, 0, 2])
        );
    }

    #[test]
    fn indeterminate_ops_may_apply_or_not() {
        // write 1 never returns; a later read sees 1: must apply.
        let ops = vec![e((1, 1, 0), 0, None, 0), e((0, 1, 0), 1, Some(2), 1)];
        assert_eq!(
            search(&mut Reg, &ops, &Limits::default()),
            SearchResult::Linearizable(vec![0, 1])
        );
        // ... or a later read sees 0: must not apply (before the read).
        let ops = vec![e((1, 1, 0), 0, None, 0), e((0, 0, 0), 1, Some(2), 1)];
        assert_eq!(
            search(&mut Reg, &ops, &Limits::default()),
            SearchResult::Linearizable(vec![1])
        );
        // An indeterminate write invoked after the read completed cannot explain it.
        let ops = vec![e((0, 1, 0), 0, Some(1), 0), e((1, 1, 0), 2, None, 1)];
        assert!(matches!(
            search(&mut Reg, &ops, &Limits::default()),
            SearchResult::NotLinearizable { .. }
        ));
    }

    #[test]
    fn step_budget_gives_unknown() {
        // Many concurrent writes and an impossible read: exponential without a budget cut.
        let mut ops: Vec<_> = (0..30)
            .map(|i| e((1, i, 0), i as usize, Some(100 + i as usize), i as usize))
            .collect();
        ops.push(e((0, 99, 0), 50, Some(60), 30));
        let limits = Limits {
            max_steps: Some(5000),
            ..Limits::default()
        };
        assert_eq!(
            search(&mut Reg, &ops, &limits),
            SearchResult::Unknown(Stopped::Steps)
        );
    }
}
