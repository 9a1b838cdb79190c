//! Eventual consistency: convergence after the last heal, no values from thin air, and no
//! acknowledged write lost under last-writer-wins by real time (Jepsen set-full style report).
//!
//! The harness reads every key on every replica after the heal and a quiet period
//! ([`FinalRead`]). The history is valid when, per key, all replicas agree, every value read (in
//! the history or finally) was written by some invoked, not failed, write (or is the initial
//! value), and no acknowledged write is lost: if the final value was written by w, an
//! acknowledged write w' that began after w completed should have won, so w' is lost (if the
//! final value is the initial one, every acknowledged write is lost). Stale reads (a read
//! returning w's value after some w' that began after w completed had been acknowledged) are
//! reported but allowed.
//!
//! ```
//! use models::check::{check, CheckOptions, FinalRead, Model};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::{NodeId, SimTime};
//! let t = SimTime::from_millis;
//! let mut h = History::new();
//! h.invoke(t(0), None, 0, Op::write(0, 1));
//! h.ok(t(1), None, 0, Ret::Ok);
//! let finals = vec![FinalRead { node: NodeId(0), key: 0.into(), value: Value::Int(1) },
//!                   FinalRead { node: NodeId(1), key: 0.into(), value: Value::Int(1) }];
//! assert!(check(Model::Eventual, &h, &finals, &CheckOptions::default()).is_valid());
//! ```

use std::collections::BTreeMap;

use sim_core::history::{Operation, Outcome};
use sim_core::NodeId;

use super::{CheckError, CheckOptions, Counterexample, EventualViolation, Model, OpRef, Verdict};
use crate::op::{Key, KvHistory, Op, Ret, Value};

/// A read of one key on one replica after the heal and quiet period.
///
/// ```
/// use models::check::FinalRead;
/// use models::op::Value;
/// use sim_core::NodeId;
/// let f = FinalRead { node: NodeId(2), key: 0.into(), value: Value::Nil };
/// assert_eq!(f.node, NodeId(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FinalRead {
    /// The replica.
    pub node: NodeId,
    /// The key.
    pub key: Key,
    /// What it holds (`Nil` if absent).
    pub value: Value,
}

/// Replicas that disagree on a key.
///
/// ```
/// use models::check::Divergence;
/// use models::op::Value;
/// use sim_core::NodeId;
/// let d = Divergence { key: 0.into(), values: vec![(NodeId(0), Value::Int(1)), (NodeId(1), Value::Nil)] };
/// assert_eq!(d.values.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Divergence {
    /// The key.
    pub key: Key,
    /// Each replica's final value.
    pub values: Vec<(NodeId, Value)>,
}

/// The result of [`check_eventual`].
///
/// ```
/// use models::check::eventual::check_eventual;
/// use models::check::CheckOptions;
/// let r = check_eventual(&models::op::KvHistory::new(), &[], &CheckOptions::default()).unwrap();
/// assert!(r.valid && r.verdict().is_valid());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventualReport {
    /// Converged, no thin-air values, no lost writes.
    pub valid: bool,
    /// Keys whose replicas disagree.
    pub divergent: Vec<Divergence>,
    /// Reads (in the history) of values never written.
    pub thin_air_reads: Vec<OpRef>,
    /// Final values never written: (replica, key, value).
    pub thin_air_finals: Vec<(NodeId, Key, Value)>,
    /// Acknowledged writes lost for certain: the final value comes from a write that happened
    /// before them (through session order and reads-from), or no write survived at all. A
    /// convergent merge rule must never do this.
    pub lost_writes: Vec<OpRef>,
    /// Acknowledged writes overwritten, in the final state, by a write that merely real-time
    /// preceded them (concurrent in causal terms, e.g. on two sides of a partition). Allowed by
    /// eventual consistency — a last-writer-wins register keeps one of concurrent writes — but
    /// shown, since users of LWW stores lose these (skewed clocks make more of them).
    pub superseded_concurrent: Vec<OpRef>,
    /// Reads that returned a value already superseded by an acknowledged later write (allowed).
    pub stale_reads: Vec<OpRef>,
    /// Acknowledged writes.
    pub acknowledged_writes: usize,
}

impl EventualReport {
    /// The verdict for [`Model::Eventual`]: invalid with what made the report invalid.
    pub fn verdict(&self) -> Verdict {
        if self.valid {
            return Verdict::Valid {
                model: Model::Eventual,
                witness: None,
            };
        }
        Verdict::invalid(
            Model::Eventual,
            Counterexample::Eventual(EventualViolation {
                divergent: self.divergent.clone(),
                thin_air_reads: self.thin_air_reads.clone(),
                thin_air_finals: self
                    .thin_air_finals
                    .iter()
                    .map(|(node, key, value)| FinalRead {
                        node: *node,
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                lost_writes: self.lost_writes.clone(),
            }),
        )
    }
}

/// Checks eventual consistency of a register history against the replicas' final reads: the
/// detailed report behind [`check`](super::check)`(Model::Eventual, ..)`.
pub fn check_eventual(
    history: &KvHistory,
    final_reads: &[FinalRead],
    opts: &CheckOptions,
) -> Result<EventualReport, CheckError> {
    let ops = history.operations()?;
    let mut writer: BTreeMap<(&Key, &Value), Vec<usize>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        match (&o.op, &o.outcome) {
            (Op::Write { key, value }, Outcome::Ok(_) | Outcome::Info) => {
                writer.entry((key, value)).or_default().push(i)
            }
            (Op::Write { .. } | Op::Read { .. }, _) => {}
            (op, _) => {
                return Err(CheckError::Unsupported {
                    index: i,
                    op: op.clone(),
                    checker: "eventual",
                })
            }
        }
    }
    let written = |k: &Key, v: &Value| *v == opts.init || writer.contains_key(&(k, v));
    let mut report = EventualReport {
        valid: true,
        divergent: Vec::new(),
        thin_air_reads: Vec::new(),
        thin_air_finals: Vec::new(),
        lost_writes: Vec::new(),
        superseded_concurrent: Vec::new(),
        stale_reads: Vec::new(),
        acknowledged_writes: 0,
    };
    // Acknowledged writes per key, for lost-write and stale-read detection.
    let mut acked: BTreeMap<&Key, Vec<usize>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        if let (Op::Write { key, .. }, Outcome::Ok(_)) = (&o.op, &o.outcome) {
            acked.entry(key).or_default().push(i);
            report.acknowledged_writes += 1;
        }
    }
    // w' supersedes w: w' acknowledged and began after w completed.
    let supersedes = |wp: usize, w: usize| ops[w].precedes(&ops[wp]);
    for (i, o) in ops.iter().enumerate() {
        if let (Op::Read { key }, Outcome::Ok(Ret::Value(v))) = (&o.op, &o.outcome) {
            if !written(key, v) {
                report.thin_air_reads.push(OpRef::new(i, o));
                continue;
            }
            // Stale: some acknowledged write w' completed before this read began, and w' began
            // after every write of the value read completed (or the value is the initial one).
            let sources = writer.get(&(key, v)).cloned().unwrap_or_default();
            let stale = acked.get(key).is_some_and(|ws| {
                ws.iter().any(|&wp| {
                    ops[wp].precedes(o) && sources.iter().all(|&w| w != wp && supersedes(wp, w))
                })
            });
            if stale {
                report.stale_reads.push(OpRef::new(i, o));
            }
        }
    }
    let mut finals: BTreeMap<&Key, Vec<(NodeId, &Value)>> = BTreeMap::new();
    for f in final_reads {
        finals.entry(&f.key).or_default().push((f.node, &f.value));
        if !written(&f.key, &f.value) {
            report
                .thin_air_finals
                .push((f.node, f.key.clone(), f.value.clone()));
        }
    }
    for (key, vals) in &finals {
        let first = vals[0].1;
        if vals.iter().any(|(_, v)| *v != first) {
            let mut values: Vec<(NodeId, Value)> =
                vals.iter().map(|(n, v)| (*n, (*v).clone())).collect();
            values.sort();
            report.divergent.push(Divergence {
                key: (*key).clone(),
                values,
            });
        }
    }
    // Lost writes, judged against each replica's final value (all equal when converged).
    let hb = HappensBefore::new(&ops, &writer);
    let mut lost: BTreeMap<usize, ()> = BTreeMap::new();
    let mut concurrent: BTreeMap<usize, ()> = BTreeMap::new();
    for (key, ws) in &acked {
        let fin: Vec<&Value> = match finals.get(key) {
            Some(v) => v.iter().map(|(_, v)| *v).collect(),
            None => continue, // no final read of this key: nothing to judge
        };
        for fv in fin {
            let sources = writer.get(&(*key, fv)).cloned().unwrap_or_default();
            if sources.is_empty() {
                // The final value is the initial one (or thin air): every acked write vanished.
                lost.extend(ws.iter().map(|&w| (w, ())));
                continue;
            }
            let after = hb.descendants(&sources);
            for &wp in ws {
                if sources.contains(&wp) {
                    continue;
                }
                if after[wp] {
                    lost.insert(wp, ());
                } else if sources.iter().all(|&w| supersedes(wp, w)) {
                    concurrent.insert(wp, ());
                }
            }
        }
    }
    for w in lost.keys() {
        concurrent.remove(w);
    }
    report.lost_writes = lost.keys().map(|&i| OpRef::new(i, &ops[i])).collect();
    report.superseded_concurrent = concurrent.keys().map(|&i| OpRef::new(i, &ops[i])).collect();
    report.valid = report.divergent.is_empty()
        && report.thin_air_reads.is_empty()
        && report.thin_air_finals.is_empty()
        && report.lost_writes.is_empty();
    Ok(report)
}

/// Happens-before between operations as a history shows it: session (process) order and
/// reads-from (a read depends on the writes of the value it returned).
struct HappensBefore {
    next: Vec<Vec<usize>>,
}

impl HappensBefore {
    fn new(ops: &[Operation<Op, Ret>], writer: &BTreeMap<(&Key, &Value), Vec<usize>>) -> Self {
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
        let mut last: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, o) in ops.iter().enumerate() {
            if o.outcome == Outcome::Fail {
                continue; // it did not happen
            }
            if let Some(&p) = last.get(&o.process) {
                next[p].push(i);
            }
            // An indeterminate operation is not before its process's later operations (it may
            // take effect after them).
            if o.outcome != Outcome::Info {
                last.insert(o.process, i);
            }
            if let (Op::Read { key }, Outcome::Ok(Ret::Value(v))) = (&o.op, &o.outcome) {
                for &w in writer.get(&(key, v)).map(Vec::as_slice).unwrap_or_default() {
                    next[w].push(i);
                }
            }
        }
        HappensBefore { next }
    }

    /// Operations that `from` happen before (excluding `from` itself unless reachable).
    fn descendants(&self, from: &[usize]) -> Vec<bool> {
        let mut seen = vec![false; self.next.len()];
        let mut stack: Vec<usize> = from
            .iter()
            .flat_map(|&f| self.next[f].iter().copied())
            .collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(self.next[i].iter().copied());
            }
        }
        seen
    }
}
