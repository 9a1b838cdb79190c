//! Sequential consistency of read/write register histories with unique written values.
//!
//! Preconditions (checked by [`RwHistory::new`]; otherwise the general search runs): every
//! relevant operation is a single-key `read` that returned a value or a `write`, and every value is
//! written at most once per key (counting `ok` and indeterminate writes) and never equals the
//! initial value. Then the value a read returns names the one write it reads from (or the initial
//! value), which makes the following rules sound. `W` is any legal witness order (a total order of
//! the operations that took effect, respecting each process's order, every read returning the
//! value of the last earlier write to its key, or the initial value if there is none).
//!
//! 1. *Indeterminate writes*: one whose value nobody reads is dropped. Removing a write nobody
//!    reads from a legal order leaves it legal (no read had it as its last earlier write: that
//!    read would return its unique value). One whose value is read must take effect (the read
//!    needs its unique writer), so it is treated as determinate, except for process order: it
//!    comes after its process's earlier operations but not before its later ones (it may take
//!    effect after them), so it gets a one-node chain of its own with the process's previous
//!    operation as its one `<`-predecessor. A read of a value nobody wrote
//!    (and not the initial value) can never be explained: invalid.
//! 2. *Saturation* (a polynomial necessary condition, which subsumes the causal checker's CC and
//!    CCv bad patterns): a relation `<` that every witness contains is grown to a fixpoint from
//!    process order and reads-from (the writer of v precedes every read of v), by two rules, for
//!    a read r of the write w1 on key k and another write w2 to k:
//!    - if `w2 < r` then `w2 < w1` (w1 must be r's last earlier write to k);
//!    - if `w1 < w2` then `r < w2` (otherwise w1 < w2 < r and r would not return w1's value);
//!
//!    A read of the initial value precedes every write to its key. If `<` has a cycle, no
//!    witness exists: invalid, and the cycle is the evidence. Else the search below only runs an
//!    operation after all its `<`-predecessors, which removes no witness.
//! 3. *Forced reads*: in a search state whose prefix is legal, a read that is its process's next
//!    operation, whose `<`-predecessors have run, and that returns the current value of its key
//!    is run at once, without branching. If any witness extends the prefix, then in it no write to
//!    the key comes between the prefix and that read (the value, once overwritten, never returns:
//!    it is unique and never the initial value), so moving the read to the front changes no
//!    state seen by any other operation and keeps process order and `<`: a witness again.
//! 4. *Dead values*: a write to k may run only when no read of k's current value is left (after
//!    it, that value could never be read again). So no state has a read that can no longer be
//!    satisfied.
//! 5. The remaining choice, which enabled write runs next, is a depth-first search with
//!    backtracking: first writes whose value the next operation of some process waits for, then
//!    in invocation order. States at branch points are memoized on (positions, current values) —
//!    the exact key, no hash-only comparison — so no state is explored twice. The budget (time,
//!    steps) turns an unfinished search into `Unknown`.

use std::collections::{BTreeMap, HashMap, HashSet};
#[allow(clippy::disallowed_types)] // the budget deadline is the one wall-clock type
use std::time::Instant;

use sim_core::history::{Operation, Outcome};

use super::super::hash::FxBuild;
use super::super::wgl::{stop_reason, Limits, Stopped};
use super::super::{Counterexample, Model, OpRef, Undecided, Verdict};
use crate::op::{Key, Op, Ret, Value};

/// Above this many (operations x processes), saturation is skipped (it needs a vector clock per
/// operation); the search alone is still exact.
const MAX_CLOCK_CELLS: usize = 64 << 20;

#[derive(Clone, Copy, Debug)]
struct Node {
    /// Operation index in the history.
    op: usize,
    /// Process (dense index) and position in it.
    proc_: u32,
    pos: u32,
    key: u32,
    /// Value id: `key` for the initial value of `key`, `nkeys + j` for the j-th write.
    val: u32,
    write: bool,
}

/// A read/write history with unique values, compiled for the search.
pub(crate) struct RwHistory {
    nodes: Vec<Node>,
    /// Per process (and per kept indeterminate write), its nodes in process order.
    procs: Vec<Vec<u32>>,
    nkeys: usize,
    /// Number of value ids (`nkeys` + writes).
    nvals: usize,
    /// The writer node of each value id (`u32::MAX` for initial values).
    writers: Vec<u32>,
    /// A read of a value nobody wrote, if any.
    thin_air: Option<usize>,
    /// (indeterminate write, the last earlier operation of its process): the write has a chain
    /// of its own, which must start after that operation.
    fork_preds: Vec<(u32, u32)>,
}

enum Saturated {
    /// Extra predecessors (beyond process order) of every node.
    Order(Vec<Vec<u32>>),
    /// A cycle of nodes, each required before the next.
    Cycle(Vec<u32>),
    /// The budget ran out.
    Stopped(Stopped),
}

impl RwHistory {
    /// Compiles `idx` (the relevant operations), or `None` if the preconditions do not hold.
    pub(crate) fn new(
        ops: &[Operation<Op, Ret>],
        idx: &[usize],
        init: &Value,
    ) -> Option<RwHistory> {
        enum Kind<'a> {
            Read(&'a Key, &'a Value),
            Write(&'a Key, &'a Value, bool),
        }
        let mut kinds = Vec::with_capacity(idx.len());
        let mut keys: BTreeMap<&Key, u32> = BTreeMap::new();
        for &i in idx {
            let o = &ops[i];
            let k = match (&o.op, &o.outcome) {
                (Op::Read { key }, Outcome::Ok(Ret::Value(v))) => Kind::Read(key, v),
                (Op::Write { key, value }, Outcome::Ok(Ret::Ok)) => Kind::Write(key, value, true),
                (Op::Write { key, value }, Outcome::Info) => Kind::Write(key, value, false),
                _ => return None,
            };
            let (Kind::Read(key, _) | Kind::Write(key, _, _)) = k;
            keys.entry(key).or_insert(0);
            kinds.push(k);
        }
        for (n, v) in keys.values_mut().enumerate() {
            *v = n as u32;
        }
        let nkeys = keys.len();
        // Value ids of writes; uniqueness.
        let mut wval: HashMap<(u32, &Value), u32, FxBuild> = HashMap::default();
        for k in &kinds {
            if let Kind::Write(key, v, _) = k {
                if *v == init {
                    return None;
                }
                let id = (nkeys + wval.len()) as u32;
                if wval.insert((keys[key], v), id).is_some() {
                    return None;
                }
            }
        }
        let nvals = nkeys + wval.len();
        let mut read_vals = vec![false; nvals];
        let mut thin_air = None;
        for (n, k) in kinds.iter().enumerate() {
            if let Kind::Read(key, v) = k {
                let kk = keys[key];
                if *v == init {
                    continue;
                }
                match wval.get(&(kk, v)) {
                    Some(&id) => read_vals[id as usize] = true,
                    None => {
                        thin_air.get_or_insert(idx[n]);
                    }
                }
            }
        }
        let mut nodes = Vec::with_capacity(kinds.len());
        let mut proc_ids: BTreeMap<u64, u32> = BTreeMap::new();
        let mut procs: Vec<Vec<u32>> = Vec::new();
        let mut fork_preds: Vec<(u32, u32)> = Vec::new();
        for (n, k) in kinds.iter().enumerate() {
            let (key, val, write) = match *k {
                Kind::Read(key, v) => {
                    let kk = keys[key];
                    let val = if v == init {
                        kk
                    } else {
                        match wval.get(&(kk, v)) {
                            Some(&id) => id,
                            None => continue, // thin air: reported before any search
                        }
                    };
                    (kk, val, false)
                }
                Kind::Write(key, v, determinate) => {
                    let id = wval[&(keys[key], v)];
                    if !determinate && !read_vals[id as usize] {
                        continue; // rule 1: an unread indeterminate write is dropped
                    }
                    (keys[key], id, true)
                }
            };
            let next = procs.len() as u32;
            let chain = *proc_ids.entry(ops[idx[n]].process).or_insert(next);
            if chain == next {
                procs.push(Vec::new());
            }
            let p = if matches!(k, Kind::Write(_, _, false)) {
                // An indeterminate write is not before its process's later operations (it may
                // take effect after them): it gets a chain of its own, after the process's
                // operations so far.
                if let Some(&last) = procs[chain as usize].last() {
                    fork_preds.push((nodes.len() as u32, last));
                }
                procs.push(Vec::new());
                procs.len() as u32 - 1
            } else {
                chain
            };
            let pos = procs[p as usize].len() as u32;
            procs[p as usize].push(nodes.len() as u32);
            nodes.push(Node {
                op: idx[n],
                proc_: p,
                pos,
                key,
                val,
                write,
            });
        }
        let mut writers = vec![u32::MAX; nvals];
        for (v, nd) in nodes.iter().enumerate() {
            if nd.write {
                writers[nd.val as usize] = v as u32;
            }
        }
        Some(RwHistory {
            fork_preds,
            writers,
            nodes,
            procs,
            nkeys,
            nvals,
            thin_air,
        })
    }

    /// Decides sequential consistency.
    #[allow(clippy::disallowed_types)] // `deadline` is the budget's wall-clock deadline
    pub(crate) fn check(
        &self,
        ops: &[Operation<Op, Ret>],
        deadline: Option<Instant>,
        max_steps: Option<u64>,
    ) -> Verdict {
        let limits = Limits {
            deadline,
            max_steps,
            cancel: None,
        };
        let refs = |vs: &mut dyn Iterator<Item = usize>| -> Vec<OpRef> {
            vs.map(|i| OpRef::new(i, &ops[i])).collect()
        };
        if let Some(i) = self.thin_air {
            return Verdict::invalid(
                Model::Sequential,
                Counterexample::ThinAir {
                    reads: refs(&mut std::iter::once(i)),
                },
            );
        }
        let extra = match self.saturate(&limits) {
            Saturated::Order(e) => e,
            Saturated::Cycle(c) => {
                return Verdict::invalid(
                    Model::Sequential,
                    Counterexample::OrderCycle {
                        ops: refs(&mut c.iter().map(|&v| self.nodes[v as usize].op)),
                    },
                );
            }
            Saturated::Stopped(s) => return unknown(s),
        };
        self.search(&extra, &limits, &refs)
    }

    /// Rule 2: the order every witness contains, or a cycle.
    fn saturate(&self, limits: &Limits<'_>) -> Saturated {
        let n = self.nodes.len();
        let np = self.procs.len();
        let mut extra: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(v, p) in &self.fork_preds {
            extra[v as usize].push(p);
        }
        if n.saturating_mul(np) > MAX_CLOCK_CELLS {
            // Too big for clocks: reads-from only (still sound, just weaker).
            for (v, nd) in self.nodes.iter().enumerate() {
                if !nd.write && nd.val as usize >= self.nkeys {
                    extra[v].push(self.writer(nd.val));
                }
            }
            return Saturated::Order(extra);
        }
        // Writes per (process, key), in process order.
        let mut writes: HashMap<(u32, u32), Vec<u32>, FxBuild> = HashMap::default();
        for (v, nd) in self.nodes.iter().enumerate() {
            if nd.write {
                writes.entry((nd.proc_, nd.key)).or_default().push(v as u32);
            }
        }
        // Reads-from, and initial-value reads before every write to their key.
        for (v, nd) in self.nodes.iter().enumerate() {
            if nd.write {
                continue;
            }
            if (nd.val as usize) < self.nkeys {
                for s in 0..np as u32 {
                    if let Some(ws) = writes.get(&(s, nd.key)) {
                        extra[ws[0] as usize].push(v as u32);
                    }
                }
            } else {
                extra[v].push(self.writer(nd.val));
            }
        }
        let mut vc: Vec<u32> = vec![0; n * np];
        let mut steps = 0u64;
        loop {
            steps += 1;
            if let Some(s) = stop_reason(limits, steps) {
                return Saturated::Stopped(s);
            }
            let order = match self.topo(&extra) {
                Ok(o) => o,
                Err(c) => return Saturated::Cycle(c),
            };
            // vc[v * np + s] = number of operations of process s that are <= v. Predecessors
            // come earlier in `order`, so their clocks are final when v's is computed.
            let mut acc: Vec<u32> = vec![0; np];
            for &v in &order {
                let v = v as usize;
                let nd = self.nodes[v];
                acc.iter_mut().for_each(|x| *x = 0);
                let po = (nd.pos > 0).then(|| self.procs[nd.proc_ as usize][nd.pos as usize - 1]);
                for p in po.into_iter().chain(extra[v].iter().copied()) {
                    let row = &vc[p as usize * np..(p as usize + 1) * np];
                    for (a, &x) in acc.iter_mut().zip(row) {
                        *a = (*a).max(x);
                    }
                }
                acc[nd.proc_ as usize] = nd.pos + 1;
                vc[v * np..(v + 1) * np].copy_from_slice(&acc);
            }
            let le = |a: usize, b: usize| -> bool {
                let na = &self.nodes[a];
                vc[b * np + na.proc_ as usize] > na.pos
            };
            let mut added = 0usize;
            let mut new_edges: Vec<(u32, u32)> = Vec::new();
            for (r, nd) in self.nodes.iter().enumerate() {
                if nd.write || (nd.val as usize) < self.nkeys {
                    continue;
                }
                let w1 = self.writer(nd.val) as usize;
                for s in 0..np as u32 {
                    let Some(ws) = writes.get(&(s, nd.key)) else {
                        continue;
                    };
                    // Last write of s to the key that is <= r.
                    let limit = vc[r * np + s as usize];
                    let j = ws.partition_point(|&w| self.nodes[w as usize].pos < limit);
                    if j > 0 {
                        let w2 = ws[j - 1] as usize;
                        if w2 != w1 && !le(w2, w1) {
                            new_edges.push((w2 as u32, w1 as u32));
                        }
                    }
                    // First write of s to the key, other than w1, that is >= w1.
                    let j = ws.partition_point(|&w| !le(w1, w as usize));
                    let mut j = j;
                    if j < ws.len() && ws[j] as usize == w1 {
                        j += 1;
                    }
                    if j < ws.len() {
                        let w2 = ws[j] as usize;
                        if !le(r, w2) {
                            new_edges.push((r as u32, w2 as u32));
                        }
                    }
                }
            }
            for (a, b) in new_edges {
                extra[b as usize].push(a);
                added += 1;
            }
            if added == 0 {
                return Saturated::Order(extra);
            }
        }
    }

    /// A topological order of process order plus `extra`, or a cycle (each node before the next).
    fn topo(&self, extra: &[Vec<u32>]) -> Result<Vec<u32>, Vec<u32>> {
        let n = self.nodes.len();
        let preds = |v: usize| {
            let nd = self.nodes[v];
            (nd.pos > 0)
                .then(|| self.procs[nd.proc_ as usize][nd.pos as usize - 1])
                .into_iter()
                .chain(extra[v].iter().copied())
        };
        let mut succs: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut indeg = vec![0usize; n];
        for (v, d) in indeg.iter_mut().enumerate() {
            for p in preds(v) {
                *d += 1;
                succs[p as usize].push(v as u32);
            }
        }
        let mut ready: Vec<u32> = (0..n as u32).filter(|&v| indeg[v as usize] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(v) = ready.pop() {
            order.push(v);
            for &s in &succs[v as usize] {
                indeg[s as usize] -= 1;
                if indeg[s as usize] == 0 {
                    ready.push(s);
                }
            }
        }
        if order.len() == n {
            return Ok(order);
        }
        // Every node left has a predecessor left: walk back until a node repeats.
        let mut on = vec![usize::MAX; n];
        let mut v = (0..n).find(|&v| indeg[v] > 0).unwrap_or(0);
        let mut walk: Vec<u32> = Vec::new();
        loop {
            if on[v] != usize::MAX {
                let mut cyc = walk[on[v]..].to_vec();
                cyc.reverse();
                return Err(cyc);
            }
            on[v] = walk.len();
            walk.push(v as u32);
            match preds(v).find(|&p| indeg[p as usize] > 0) {
                Some(p) => v = p as usize,
                None => return Err(walk),
            }
        }
    }

    /// Rules 3-5: depth-first search for a witness.
    fn search(
        &self,
        extra: &[Vec<u32>],
        limits: &Limits<'_>,
        refs: &dyn Fn(&mut dyn Iterator<Item = usize>) -> Vec<OpRef>,
    ) -> Verdict {
        let np = self.procs.len();
        let nk = self.nkeys;
        // Search state.
        let mut at = vec![0u32; np];
        let mut cur: Vec<u32> = (0..nk as u32).collect();
        let mut pending = vec![0u32; self.nvals];
        for nd in &self.nodes {
            if !nd.write {
                pending[nd.val as usize] += 1;
            }
        }
        // Executed nodes with the value their key had before (for undo).
        let mut trail: Vec<(u32, u32)> = Vec::with_capacity(self.nodes.len());
        struct Frame {
            cands: Vec<u32>,
            next: usize,
            mark: usize,
        }
        let mut frames: Vec<Frame> = Vec::new();
        let mut seen: HashSet<Box<[u32]>, FxBuild> = HashSet::default();
        let mut best: Vec<u32> = Vec::new();
        let mut best_at: Vec<u32> = at.clone();
        let mut steps = 0u64;
        let done = |at: &[u32], v: u32| -> bool {
            let nd = &self.nodes[v as usize];
            at[nd.proc_ as usize] > nd.pos
        };
        let enabled = |at: &[u32], v: u32| extra[v as usize].iter().all(|&p| done(at, p));
        let mut key: Vec<u32> = Vec::with_capacity(np + nk);
        loop {
            // A new state: run forced reads (rule 3).
            loop {
                let mut progress = false;
                for p in 0..np {
                    while let Some(&v) = self.procs[p].get(at[p] as usize) {
                        let nd = &self.nodes[v as usize];
                        if nd.write || cur[nd.key as usize] != nd.val || !enabled(&at, v) {
                            break;
                        }
                        at[p] += 1;
                        pending[nd.val as usize] -= 1;
                        trail.push((v, nd.val));
                        progress = true;
                    }
                }
                if !progress {
                    break;
                }
            }
            if trail.len() == self.nodes.len() {
                return Verdict::Valid {
                    model: Model::Sequential,
                    witness: Some(
                        trail
                            .iter()
                            .map(|&(v, _)| self.nodes[v as usize].op)
                            .collect(),
                    ),
                };
            }
            steps += 1;
            if steps % 64 == 0 {
                if let Some(s) = stop_reason(limits, steps) {
                    return unknown(s);
                }
            }
            // Branch point: memoize, then list the enabled writes (rules 4, 5).
            key.clear();
            key.extend_from_slice(&at);
            key.extend_from_slice(&cur);
            let mut cands: Vec<u32> = Vec::new();
            if seen.insert(key.clone().into_boxed_slice()) {
                let mut awaited = vec![false; 0];
                for p in 0..np {
                    let Some(&v) = self.procs[p].get(at[p] as usize) else {
                        continue;
                    };
                    let nd = &self.nodes[v as usize];
                    if nd.write {
                        if pending[cur[nd.key as usize] as usize] == 0 && enabled(&at, v) {
                            cands.push(v);
                        }
                    } else if nd.val as usize >= nk {
                        if awaited.is_empty() {
                            awaited = vec![false; self.nvals];
                        }
                        awaited[nd.val as usize] = true;
                    }
                }
                cands.sort_by_key(|&v| {
                    let nd = &self.nodes[v as usize];
                    (!awaited.get(nd.val as usize).copied().unwrap_or(false), v)
                });
                // Pop order: the first candidate last.
                cands.reverse();
            }
            if !cands.is_empty() {
                frames.push(Frame {
                    cands,
                    next: 0,
                    mark: trail.len(),
                });
            } else if trail.len() > best.len() {
                best = trail.iter().map(|&(v, _)| v).collect();
                best_at.clone_from(&at);
            }
            // Take the next untried move, backtracking as needed.
            loop {
                let Some(f) = frames.last_mut() else {
                    let stuck = (0..np).filter_map(|p| self.procs[p].get(best_at[p] as usize));
                    return Verdict::invalid(
                        Model::Sequential,
                        Counterexample::Linearization {
                            partition: "whole history (sequential consistency)".to_string(),
                            prefix: refs(&mut best.iter().map(|&v| self.nodes[v as usize].op)),
                            stuck: refs(&mut stuck.map(|&v| self.nodes[v as usize].op)),
                        },
                    );
                };
                while trail.len() > f.mark {
                    let Some((v, before)) = trail.pop() else {
                        break;
                    };
                    let nd = &self.nodes[v as usize];
                    at[nd.proc_ as usize] -= 1;
                    if nd.write {
                        cur[nd.key as usize] = before;
                    } else {
                        pending[nd.val as usize] += 1;
                    }
                }
                let Some(v) = f.cands.pop() else {
                    frames.pop();
                    continue;
                };
                f.next += 1;
                let nd = &self.nodes[v as usize];
                at[nd.proc_ as usize] += 1;
                trail.push((v, cur[nd.key as usize]));
                cur[nd.key as usize] = nd.val;
                break;
            }
        }
    }

    /// The node that writes value id `val` (not an initial value).
    fn writer(&self, val: u32) -> u32 {
        self.writers[val as usize]
    }
}

fn unknown(s: Stopped) -> Verdict {
    let what = if s == Stopped::Deadline {
        "time"
    } else {
        "step"
    };
    Verdict::Unknown {
        model: Model::Sequential,
        reason: Undecided::Budget(format!("{what} budget exceeded")),
    }
}
