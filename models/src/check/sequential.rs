//! Sequential consistency: a legal total order that respects each process's order (but not
//! real time), over the whole history (sequential consistency is not local, so no per-key split).
//!
//! Read/write histories whose written values are unique per key (actsim's workloads) go to
//! `sequential/rw.rs`: unread indeterminate writes are dropped, a saturated must-precede order proves most
//! invalid histories by a cycle in polynomial time, and a depth-first search in which reads of a
//! key's current value run without branching and no write may bury a value still to be read
//! finds a witness or exhausts the states (see `rw.rs` for the soundness argument of each rule).
//!
//! Any other history (cas, append, mutex, transactions, repeated values or writes of the initial
//! value) gets the general search: depth-first over "next operation of some process", memoized
//! on (set of consumed operations, model state). Processes are tried in order of their next
//! operation's invocation time. Indeterminate operations may take effect or be skipped; one that
//! takes effect comes after its process's earlier operations, but not necessarily before its
//! later ones (see the [module documentation](super) on `info`).
//!
//! Speed on the consistency x availability experiment (`cargo run --release -p models --example
//! sc_bench`: default `Experiment`, 10 clients, 4 keys, 10 s partition, seeds 0..3, 10 s budget,
//! one thread; ranges over three runs on the shared 2-core machine), before -> after:
//!
//! | protocol | ops | before | after |
//! |---|---|---|---|
//! | eventual | 5,690-5,730 | Unknown after 13-14 s (budget 10 s) | valid, INVALID, valid in 19-200 ms |
//! | causal | 5,690-5,718 | Unknown after 14-15 s | valid, INVALID, valid in 9-206 ms |
//! | sequential | 3,727-3,805 | Unknown after 12-15 s | valid (all 3) in 9-52 ms |
//! | linearizable | 2,216-2,413 | Unknown after 11-12 s | valid (all 3) in 6-26 ms |
//!
//! Every valid verdict there carries a witness that `sc_bench` replays independently.
//!
//! ```
//! use models::check::{check, CheckOptions, Model};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::SimTime;
//! let t = SimTime::from_millis;
//! // p0 writes 1; afterwards p1 reads nil: stale, so not linearizable, but sequential.
//! let mut h = History::new();
//! h.invoke(t(0), None, 0, Op::write(0, 1));
//! h.ok(t(1), None, 0, Ret::Ok);
//! h.invoke(t(2), None, 1, Op::read(0));
//! h.ok(t(3), None, 1, Ret::Value(Value::Nil));
//! let opts = CheckOptions::default();
//! assert!(check(Model::Linearizable, &h, &[], &opts).is_invalid());
//! let v = check(Model::Sequential, &h, &[], &opts);
//! assert_eq!(v.witness(), Some(&[1, 0][..]));
//! ```

use std::collections::BTreeMap;
#[allow(clippy::disallowed_types)] // the budget deadline is the one wall-clock type
use std::time::Instant;

use sim_core::hash::stable_hash;
use sim_core::history::{Operation, Outcome};

use super::hash::{fx_hash, FxBuild};
use super::linearizable::relevant;
use super::model::{compile, Compiled, Interner, Model as _, MultiRegisterModel};
use super::wgl::{stop_reason, Limits, Stopped};
use super::{CheckError, CheckOptions, Counterexample, Model, OpRef, Undecided, Verdict};
use crate::op::{Key, KvHistory, Op, Ret};

mod rw;

/// Memo of explored (hash, positions per process, model state).
type Seen = std::collections::HashSet<(u64, Vec<u32>, Box<[u32]>), FxBuild>;

struct Frame {
    /// Candidate processes in the order to try them.
    cands: Vec<u32>,
    /// Next candidate to try (index into `cands`), and whether its skip was tried.
    next: usize,
    skip_tried: bool,
}

/// Checks sequential consistency; `Valid` carries a witness order of operation indices.
pub(crate) fn check_sequential(
    history: &KvHistory,
    opts: &CheckOptions,
) -> Result<Verdict, CheckError> {
    #[allow(clippy::disallowed_methods, clippy::disallowed_types)] // the one wall-clock read
    let deadline = opts.budget.time.map(|t| Instant::now() + t);
    let ops = history.operations()?;
    let idx = relevant(&ops);
    if let Some(rw) = rw::RwHistory::new(&ops, &idx, &opts.init) {
        return Ok(rw.check(&ops, deadline, opts.budget.steps));
    }
    generic(&ops, &idx, deadline, opts)
}

/// The general search (any operation kind, repeated values): see the module documentation.
#[allow(clippy::disallowed_types)] // `deadline` is the budget's wall-clock deadline
fn generic(
    ops: &[Operation<Op, Ret>],
    idx: &[usize],
    deadline: Option<Instant>,
    opts: &CheckOptions,
) -> Result<Verdict, CheckError> {
    let idx = idx.to_vec();
    let mut keys: Vec<Key> = idx
        .iter()
        .flat_map(|&i| ops[i].op.keys().into_iter().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    let mut values = Interner::new();
    let init: Vec<u32> = keys.iter().map(|_| values.id(&opts.init)).collect();
    // Per-process queues of (op index, compiled, determinate?).
    let mut queues: BTreeMap<u64, Vec<(usize, Compiled, bool)>> = BTreeMap::new();
    let mut forks: Vec<(u64, usize, (usize, Compiled, bool))> = Vec::new();
    for &i in &idx {
        let o = &ops[i];
        let ret = match &o.outcome {
            Outcome::Ok(r) => Some(r),
            _ => None,
        };
        let c = compile(&o.op, ret, &keys, &mut values).map_err(|_| CheckError::BadReturn {
            index: i,
            op: o.op.clone(),
            ret: ret.cloned().unwrap_or(Ret::Ok),
        })?;
        let q = queues.entry(o.process).or_default();
        if ret.is_some() {
            q.push((i, c, true));
        } else {
            // Indeterminate: after the process's operations so far, but not before its later
            // ones (it may take effect after them): a queue of its own, gated.
            forks.push((o.process, q.len(), (i, c, false)));
        }
    }
    let procs: Vec<u64> = queues.keys().copied().collect();
    let mut queues: Vec<Vec<(usize, Compiled, bool)>> = queues.into_values().collect();
    // gate[q] = (queue, n): queue q may start once that queue's first n operations are consumed.
    let mut gate: Vec<Option<(usize, usize)>> = vec![None; queues.len()];
    for (proc_, need, entry) in forks {
        let parent = procs.partition_point(|&x| x < proc_);
        queues.push(vec![entry]);
        gate.push(Some((parent, need)));
    }
    let queues = queues;
    let p = queues.len();
    let total: usize = queues.iter().map(Vec::len).sum();
    let mut model = MultiRegisterModel::new(values, init);

    let mut pos = vec![0usize; p];
    let words = idx.len().div_ceil(64).max(1);
    // Consumed set = positions; hash it by Zobrist over (process, position).
    let zob = |proc_: usize, at: usize| stable_hash(&(((proc_ as u64) << 32) | at as u64));
    let mut zhash = 0u64;
    let mut seen: Seen = Seen::default();
    let _ = words;
    let mut state = model.init();
    // Stack of (frame, state before, applied op or skipped, process).
    let mut frames: Vec<Frame> = Vec::new();
    let mut path: Vec<(u32, Box<[u32]>, Option<usize>)> = Vec::new();
    let mut best: Vec<usize> = Vec::new();
    let mut best_pos: Vec<usize> = pos.clone();
    let limits = Limits {
        deadline,
        max_steps: opts.budget.steps,
        cancel: None,
    };
    let mut steps = 0u64;
    let make_frame = |pos: &[usize]| -> Frame {
        let mut cands: Vec<u32> = (0..p)
            .filter(|&q| pos[q] < queues[q].len())
            .filter(|&q| gate[q].is_none_or(|(parent, need)| pos[parent] >= need))
            .map(|q| q as u32)
            .collect();
        cands.sort_by_key(|&q| ops[queues[q as usize][pos[q as usize]].0].invoke_index);
        Frame {
            cands,
            next: 0,
            skip_tried: false,
        }
    };
    let mut consumed = 0usize;
    frames.push(make_frame(&pos));
    loop {
        if consumed == total {
            let witness: Vec<usize> = path.iter().filter_map(|(_, _, applied)| *applied).collect();
            return Ok(Verdict::Valid {
                model: Model::Sequential,
                witness: Some(witness),
            });
        }
        steps += 1;
        if steps % 1024 == 0 {
            if let Some(s) = stop_reason(&limits, steps) {
                let what = if s == Stopped::Deadline {
                    "time"
                } else {
                    "step"
                };
                return Ok(Verdict::Unknown {
                    model: Model::Sequential,
                    reason: Undecided::Budget(format!("{what} budget exceeded")),
                });
            }
        }
        let Some(frame) = frames.last_mut() else {
            break;
        };
        // Pick the next move of this frame: apply the candidate's op, or skip it if indeterminate.
        let mut mv: Option<(usize, bool)> = None; // (process, apply?)
        while frame.next < frame.cands.len() {
            let q = frame.cands[frame.next] as usize;
            let (_, _, determinate) = &queues[q][pos[q]];
            if !frame.skip_tried && frame.next < frame.cands.len() {
                // First try applying.
                frame.skip_tried = true;
                mv = Some((q, true));
                break;
            }
            frame.next += 1;
            frame.skip_tried = false;
            if !determinate {
                mv = Some((q, false));
                break;
            }
        }
        let Some((q, apply)) = mv else {
            // Exhausted: backtrack.
            frames.pop();
            let Some((pq, s, _)) = path.pop() else {
                break;
            };
            let pq = pq as usize;
            pos[pq] -= 1;
            zhash ^= zob(pq, pos[pq]);
            consumed -= 1;
            state = s;
            continue;
        };
        let (opi, c, _) = &queues[q][pos[q]];
        let ns = if apply {
            model.step(&state, c, None)
        } else {
            Some(state.clone())
        };
        let Some(ns) = ns else { continue };
        let h = zhash ^ zob(q, pos[q]);
        let key = h ^ fx_hash(&ns);
        let mut posv: Vec<u32> = pos.iter().map(|&x| x as u32).collect();
        posv[q] += 1;
        if !seen.insert((key, posv, ns.clone())) {
            continue;
        }
        zhash = h;
        pos[q] += 1;
        consumed += 1;
        path.push((
            q as u32,
            std::mem::replace(&mut state, ns),
            apply.then_some(*opi),
        ));
        if path.len() > best.len() {
            best = path.iter().filter_map(|(_, _, a)| *a).collect();
            best_pos.clone_from(&pos);
        }
        frames.push(make_frame(&pos));
    }
    let stuck: Vec<OpRef> = (0..p)
        .filter(|&q| best_pos[q] < queues[q].len())
        .map(|q| {
            let i = queues[q][best_pos[q]].0;
            OpRef::new(i, &ops[i])
        })
        .collect();
    Ok(Verdict::invalid(
        Model::Sequential,
        Counterexample::Linearization {
            partition: "whole history (sequential consistency)".to_string(),
            prefix: best.iter().map(|&i| OpRef::new(i, &ops[i])).collect(),
            stuck,
        },
    ))
}
