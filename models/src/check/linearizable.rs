//! Linearizability of key-value histories: per-key decomposition, then WGL on each part.
//!
//! Linearizability is local (P-compositional): a history is linearizable iff the sub-history of
//! every object is. Objects are keys; a transaction over several keys joins them into one object
//! (union-find), so decomposition stays sound for multi-register histories. Parts are searched in
//! parallel; the first failing part (in key order) is reported, deterministically.
//!
//! ```
//! use models::check::{check, CheckOptions, Model};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::SimTime;
//! let t = SimTime::from_millis;
//! let mut h = History::new();
//! h.invoke(t(0), None, 0, Op::write(0, 1));
//! h.invoke(t(1), None, 1, Op::read(0));
//! h.ok(t(2), None, 1, Ret::Value(Value::Nil)); // concurrent with the write: fine
//! h.ok(t(3), None, 0, Ret::Ok);
//! assert!(check(Model::Linearizable, &h, &[], &CheckOptions::default()).is_valid());
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use sim_core::history::{Operation, Outcome};

use super::model::{compile, Compiled, Interner, MultiRegisterModel, RegisterModel};
use super::parallel;
use super::wgl::{Entry, Limits, SearchResult, Searcher, Stopped};
use super::{CheckError, CheckOptions, Counterexample, Model, OpRef, Undecided, Verdict};
use crate::op::{Key, KvHistory, Op, Ret};

/// One independent part of a history: some keys and the operations on them.
pub(crate) struct Part {
    /// The keys, sorted.
    pub keys: Vec<Key>,
    /// Indices into the operations.
    pub ops: Vec<usize>,
}

/// Operations that matter for a state-based check: failed ones are dropped (they did not
/// happen), and indeterminate read-only ones (they constrain nothing).
pub(crate) fn relevant(ops: &[Operation<Op, Ret>]) -> Vec<usize> {
    ops.iter()
        .enumerate()
        .filter(|(_, o)| match o.outcome {
            Outcome::Ok(_) => true,
            Outcome::Fail => false,
            Outcome::Info => !o.op.is_read_only(),
        })
        .map(|(i, _)| i)
        .collect()
}

/// Splits the operations `idx` into independent parts (connected components of keys).
pub(crate) fn partition(ops: &[Operation<Op, Ret>], idx: &[usize], split: bool) -> Vec<Part> {
    let mut key_ids: BTreeMap<&Key, usize> = BTreeMap::new();
    for &i in idx {
        for k in ops[i].op.keys() {
            let n = key_ids.len();
            key_ids.entry(k).or_insert(n);
        }
    }
    let nkeys = key_ids.len();
    let mut parent: Vec<usize> = (0..nkeys).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    if split {
        for &i in idx {
            let ks = ops[i].op.keys();
            if let Some(first) = ks.first() {
                let a = key_ids[first];
                for k in &ks[1..] {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, key_ids[k]));
                    parent[ra] = rb;
                }
            }
        }
    } else {
        for p in parent.iter_mut() {
            *p = 0;
        }
    }
    // Components ordered by their smallest key.
    let mut comp_of_root: BTreeMap<usize, usize> = BTreeMap::new();
    let mut parts: Vec<Part> = Vec::new();
    for (k, &kid) in &key_ids {
        let r = find(&mut parent, kid);
        let c = *comp_of_root.entry(r).or_insert_with(|| {
            parts.push(Part {
                keys: Vec::new(),
                ops: Vec::new(),
            });
            parts.len() - 1
        });
        parts[c].keys.push((*k).clone());
    }
    // BTreeMap iteration is in key order, so the first-seen component has the smallest key.
    let kidx: BTreeMap<&Key, usize> = key_ids.iter().map(|(k, &v)| (*k, v)).collect();
    for &i in idx {
        if let Some(k) = ops[i].op.keys().first() {
            let r = find(&mut parent, kidx[k]);
            parts[comp_of_root[&r]].ops.push(i);
        }
    }
    parts
}

/// Describes a part for reports.
pub(crate) fn describe(keys: &[Key], total_keys: usize, split: bool) -> String {
    if !split && total_keys > 1 {
        return "all keys".to_string();
    }
    match keys {
        [k] => format!("key {k}"),
        _ => format!(
            "keys [{}]",
            keys.iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The compiled model of one part.
enum PartModel {
    One(RegisterModel),
    Multi(MultiRegisterModel),
}

enum PartSearch<'a> {
    One(Searcher<'a, RegisterModel>),
    Multi(Searcher<'a, MultiRegisterModel>),
}

impl PartSearch<'_> {
    fn run(&mut self, limits: &Limits<'_>) -> SearchResult {
        match self {
            PartSearch::One(s) => s.run(limits),
            PartSearch::Multi(s) => s.run(limits),
        }
    }
    fn steps(&self) -> u64 {
        match self {
            PartSearch::One(s) => s.steps(),
            PartSearch::Multi(s) => s.steps(),
        }
    }
}

/// Steps a part gets in the first round; each later round gives four times more.
const FIRST_ROUND_STEPS: u64 = 20_000;

/// A first round whose parts have fewer operations than this in total runs on the calling
/// thread: starting threads would cost more than searching them. (Later rounds, which only
/// parts that needed more than a slice reach, always use threads.)
const INLINE_OPS: usize = 512;

/// Searches all parts in rounds of growing step slices, in parallel within a round.
///
/// A failing part is usually found within a few rounds even when other parts are expensive,
/// and because rounds are measured in steps (not time), which part is reported does not
/// depend on thread timing: after each round the lowest-numbered failed part wins.
fn run_rounds(
    compiled: &mut [(PartModel, Vec<Entry<Compiled, ()>>)],
    deadline: Option<Instant>,
    opts: &CheckOptions,
) -> Vec<SearchResult> {
    let n = compiled.len();
    let sizes: Vec<usize> = compiled.iter().map(|(_, e)| e.len()).collect();
    let searches: Vec<Mutex<PartSearch<'_>>> = compiled
        .iter_mut()
        .map(|(m, entries)| {
            Mutex::new(match m {
                PartModel::One(m) => PartSearch::One(Searcher::new(m, entries)),
                PartModel::Multi(m) => PartSearch::Multi(Searcher::new(m, entries)),
            })
        })
        .collect();
    let cap = opts.budget.steps.unwrap_or(u64::MAX);
    let mut results: Vec<Option<SearchResult>> = vec![None; n];
    let mut slice = FIRST_ROUND_STEPS;
    loop {
        let mut todo: Vec<usize> = (0..n).filter(|&i| results[i].is_none()).collect();
        if todo.is_empty() {
            break;
        }
        todo.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
        let first_failed = AtomicUsize::new(usize::MAX);
        let order: Vec<usize> = (0..todo.len()).collect();
        let small = slice == FIRST_ROUND_STEPS
            && todo.iter().map(|&i| sizes[i]).sum::<usize>() < INLINE_OPS;
        let threads = if small { 1 } else { opts.parallelism };
        let round = parallel::run(&order, threads, |k| {
            let i = todo[k];
            let cancel = || first_failed.load(Ordering::Relaxed) < i;
            let Ok(mut s) = searches[i].lock() else {
                return SearchResult::Unknown(Stopped::Cancelled);
            };
            let limits = Limits {
                deadline,
                max_steps: Some(s.steps().saturating_add(slice).min(cap)),
                cancel: Some(&cancel),
            };
            let r = s.run(&limits);
            if matches!(r, SearchResult::NotLinearizable { .. }) {
                first_failed.fetch_min(i, Ordering::Relaxed);
            }
            r
        });
        let mut stop = false;
        for (k, r) in round.into_iter().enumerate() {
            let i = todo[k];
            let exhausted = searches[i].lock().map_or(true, |s| s.steps() >= cap);
            match r {
                SearchResult::Unknown(Stopped::Steps) if !exhausted => {}
                SearchResult::Unknown(Stopped::Cancelled) => {}
                SearchResult::Unknown(Stopped::Deadline) => {
                    stop = true;
                    results[i] = Some(r);
                }
                r => {
                    stop |= matches!(r, SearchResult::NotLinearizable { .. });
                    results[i] = Some(r);
                }
            }
        }
        if stop {
            break;
        }
        slice = slice.saturating_mul(4);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(SearchResult::Unknown(Stopped::Cancelled)))
        .collect()
}

/// Checks that `history` is linearizable with respect to the key-value model.
///
/// Register reads/writes/cas, appends, mutexes and transactions are all supported; `opts.init` is
/// the initial value of every key.
pub(crate) fn check_linearizable(
    history: &KvHistory,
    opts: &CheckOptions,
) -> Result<Verdict, CheckError> {
    #[allow(clippy::disallowed_methods)] // the budget deadline is the one wall-clock read
    let deadline = opts.budget.time.map(|t| Instant::now() + t);
    let ops = history.operations()?;
    let idx = relevant(&ops);
    let parts = partition(&ops, &idx, opts.partition);
    let total_keys: usize = parts.iter().map(|p| p.keys.len()).sum();

    // Compile every part up front so that malformed returns are reported deterministically.
    let mut compiled: Vec<(PartModel, Vec<Entry<Compiled, ()>>)> = Vec::new();
    for p in &parts {
        let mut values = Interner::new();
        let init: Vec<u32> = p.keys.iter().map(|_| values.id(&opts.init)).collect();
        let mut entries = Vec::with_capacity(p.ops.len());
        for &i in &p.ops {
            let o = &ops[i];
            let ret = match &o.outcome {
                Outcome::Ok(r) => Some(r),
                _ => None,
            };
            let c =
                compile(&o.op, ret, &p.keys, &mut values).map_err(|_| CheckError::BadReturn {
                    index: i,
                    op: o.op.clone(),
                    ret: ret.cloned().unwrap_or(Ret::Ok),
                })?;
            entries.push(Entry {
                op: c,
                ret: ret.map(|_| ()),
                call: o.invoke_index,
                ret_at: ret.and(o.complete_index),
                id: i,
            });
        }
        let model = if init.len() == 1 {
            PartModel::One(RegisterModel {
                values,
                init: init[0],
            })
        } else {
            PartModel::Multi(MultiRegisterModel::new(values, init))
        };
        compiled.push((model, entries));
    }

    let results = run_rounds(&mut compiled, deadline, opts);
    let single = results.len() == 1;
    let mut witness = None;
    let mut unknown: Option<String> = None;
    for (i, r) in results.into_iter().enumerate() {
        match r {
            SearchResult::Linearizable(order) => {
                if single {
                    witness = Some(order);
                }
            }
            SearchResult::NotLinearizable { prefix, stuck } => {
                let refs = |v: &[usize]| v.iter().map(|&j| OpRef::new(j, &ops[j])).collect();
                return Ok(Verdict::invalid(
                    Model::Linearizable,
                    Counterexample::Linearization {
                        partition: describe(&parts[i].keys, total_keys, opts.partition),
                        prefix: refs(&prefix),
                        stuck: refs(&stuck),
                    },
                ));
            }
            SearchResult::Unknown(s) => {
                if unknown.is_none() && s != Stopped::Cancelled {
                    let what = match s {
                        Stopped::Deadline => "time budget exceeded",
                        _ => "step budget exceeded",
                    };
                    unknown = Some(format!(
                        "{what} on {}",
                        describe(&parts[i].keys, total_keys, opts.partition)
                    ));
                }
            }
        }
    }
    if let Some(reason) = unknown {
        return Ok(Verdict::Unknown {
            model: Model::Linearizable,
            reason: Undecided::Budget(reason),
        });
    }
    Ok(Verdict::Valid {
        model: Model::Linearizable,
        witness,
    })
}
