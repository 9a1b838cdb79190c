//! `dns`: an updated record reaches every resolver eventually; stale answers meanwhile are
//! acceptable (taught as eventual).
//!
//! There is one record per replica, `record(k)`, owned by the first client homed on replica `k`
//! (so records are updated on both sides of the partition). The owner updates it every
//! 300–600 ms to the next version (`Value::Int(version)`); every client resolves random records
//! every few milliseconds.
//!
//! The invariant is eventual: once the partition has healed and the updates have stopped, every
//! replica answers every record with (at least) its newest acknowledged version — checked on
//! the final reads. What the application pays meanwhile is the **staleness window** of each
//! acknowledged update: the time from its acknowledgement until every replica answers it (or a
//! newer version). A [`Sampler`] reads every replica's records every few milliseconds (a
//! harness control event, not network traffic) to measure it, to the sampling interval.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use rand::Rng;
use sim_core::history::Outcome as OpOutcome;
use sim_core::{NodeId, SimTime};

use super::{by_time, describe, Violation};
use crate::client::{Ctx, Script};
use crate::experiment::{Outcome, Setup};
use crate::op::{Key, KvHistory, Op, Ret, Value};
use crate::protocol::{local_value, Protocol, ProtocolSim};

/// Number of records: one per replica.
pub fn records(e: &Setup) -> u32 {
    e.replicas
}

/// The record client `c` owns, if any: the first client homed on each replica owns one.
pub fn owned_record(c: u32, e: &Setup) -> Option<u32> {
    let home = e.home(c).0;
    let first = c == 0 || e.home(c - 1).0 != home;
    (first && c < e.clients && home < records(e)).then_some(home)
}

/// A resolver, and for the record it owns an updater (a [`Script`]).
#[derive(Clone, Debug)]
pub struct Resolver {
    records: u32,
    owns: Option<u32>,
    version: i64,
    next_update: SimTime,
}

impl Resolver {
    /// Client `c` of experiment `e`.
    pub fn new(c: u32, e: &Setup) -> Self {
        Resolver {
            records: records(e).max(1),
            owns: owned_record(c, e),
            version: 0,
            next_update: SimTime::ZERO,
        }
    }
}

impl Script for Resolver {
    fn next_op(&mut self, ctx: &mut Ctx) -> Op {
        if let Some(k) = self.owns {
            if ctx.now >= self.next_update {
                self.next_update = ctx.now + Duration::from_millis(ctx.rng.random_range(300..=600));
                self.version += 1;
                return Op::write(k, self.version);
            }
        }
        Op::read(ctx.rng.random_range(0..self.records))
    }

    fn completed(&mut self, _: &Op, _: &OpOutcome<Ret>, ctx: &mut Ctx) -> Duration {
        Duration::from_millis(ctx.rng.random_range(5..=30))
    }
}

/// Every replica's version of every record at one instant (`None`: the replica was down).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// When.
    pub time: SimTime,
    /// `versions[replica][record]`.
    pub versions: Vec<Vec<Option<i64>>>,
}

struct SamplerState {
    replicas: Vec<NodeId>,
    records: u32,
    every: Duration,
    until: SimTime,
    samples: RefCell<Vec<Sample>>,
}

/// Samples every replica's records periodically during a run.
pub struct Sampler {
    state: Rc<SamplerState>,
}

impl Sampler {
    /// Schedules sampling every `every` from now until the final reads of `e`.
    pub fn install<P: Protocol>(sim: &mut ProtocolSim<P>, e: &Setup, every: Duration) -> Sampler {
        let state = Rc::new(SamplerState {
            replicas: e.replica_ids(),
            records: records(e),
            every,
            until: e.fault_end() + e.quiet,
            samples: RefCell::new(Vec::new()),
        });
        let s = Rc::clone(&state);
        sim.schedule(sim.now(), "dns-sample", move |sim| tick::<P>(sim, s));
        Sampler { state }
    }

    /// The samples taken.
    pub fn take(&self) -> Vec<Sample> {
        std::mem::take(&mut *self.state.samples.borrow_mut())
    }
}

fn tick<P: Protocol>(sim: &mut ProtocolSim<P>, s: Rc<SamplerState>) {
    let mut versions = Vec::with_capacity(s.replicas.len());
    for &r in &s.replicas {
        let mut row = Vec::with_capacity(s.records as usize);
        for k in 0..s.records {
            let v = local_value::<P>(sim, r, &Key::Int(i64::from(k))).ok();
            row.push(v.as_ref().and_then(version));
        }
        versions.push(row);
    }
    let now = sim.now();
    s.samples.borrow_mut().push(Sample {
        time: now,
        versions,
    });
    let next = now + s.every;
    if next <= s.until {
        sim.schedule(next, "dns-sample", move |sim| tick::<P>(sim, s));
    }
}

/// The version a record value stands for (`nil` = 0).
fn version(v: &Value) -> Option<i64> {
    match v {
        Value::Nil => Some(0),
        Value::Int(i) => Some(*i),
        Value::Str(_) => None,
    }
}

/// For every acknowledged update, in history order: the time from its acknowledgement until
/// the first sample in which every replica that was up answered it or a newer version; `None`
/// if that never happened.
pub fn staleness(history: &KvHistory, samples: &[Sample]) -> Vec<Option<Duration>> {
    let mut out = Vec::new();
    for o in history.operations().unwrap_or_default() {
        let (
            Op::Write {
                key: Key::Int(k),
                value,
            },
            OpOutcome::Ok(_),
            Some(acked),
        ) = (&o.op, &o.outcome, o.complete_time)
        else {
            continue;
        };
        let (Ok(k), Some(v)) = (usize::try_from(*k), version(value)) else {
            continue;
        };
        let start = samples.partition_point(|s| s.time < acked);
        let reached = samples[start..].iter().find(|s| {
            let mut up = s
                .versions
                .iter()
                .filter_map(|row| row.get(k).copied().flatten());
            let first = up.next();
            first.is_some_and(|x| x >= v) && up.all(|x| x >= v)
        });
        out.push(reached.map(|s| s.time.saturating_since(acked)));
    }
    out
}

/// Records that, after the heal and the quiet phase, some replica does not answer with their
/// newest acknowledged version.
pub fn check(outcome: &Outcome, e: &Setup) -> Vec<Violation> {
    let ops = outcome.history.operations().unwrap_or_default();
    let mut newest: BTreeMap<i64, usize> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        if let (
            Op::Write {
                key: Key::Int(k),
                value,
            },
            OpOutcome::Ok(_),
        ) = (&o.op, &o.outcome)
        {
            let better = newest.get(k).is_none_or(|&j| match &ops[j].op {
                Op::Write { value: old, .. } => version(value) > version(old),
                _ => true,
            });
            if better {
                newest.insert(*k, i);
            }
        }
    }
    let mut out = Vec::new();
    for k in 0..i64::from(records(e)) {
        let Some(&w) = newest.get(&k) else { continue };
        let Op::Write { value, .. } = &ops[w].op else {
            continue;
        };
        let want = version(value).unwrap_or(0);
        for fr in outcome.final_reads.iter().filter(|f| f.key == Key::Int(k)) {
            let got = version(&fr.value).unwrap_or(0);
            if got < want {
                out.push(Violation {
                    time: outcome.final_time,
                    what: format!(
                        "after the heal, {} still answers record {k} with version {got}, not the acknowledged version {want}",
                        fr.node
                    ),
                    ops: vec![format!("update acked: {}", describe(&ops[w]))],
                });
            }
        }
    }
    by_time(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_runs_from_the_ack_to_the_first_sample_where_all_replicas_have_it() {
        let t = SimTime::from_millis;
        let mut h = KvHistory::new();
        h.invoke(t(0), Some(NodeId(5)), 0, Op::write(0, 1));
        h.ok(t(5), Some(NodeId(5)), 0, Ret::Ok);
        h.invoke(t(6), Some(NodeId(5)), 0, Op::write(0, 2));
        h.ok(t(7), Some(NodeId(5)), 0, Ret::Ok);
        let s = |ms, a: Option<i64>, b: Option<i64>| Sample {
            time: t(ms),
            versions: vec![vec![a], vec![b]],
        };
        let samples = vec![
            s(0, Some(0), Some(0)),
            s(10, Some(1), Some(0)),
            s(20, Some(1), None), // the lagging replica is down: it does not count
            s(30, Some(2), Some(1)),
        ];
        let st = staleness(&h, &samples);
        assert_eq!(st, vec![Some(Duration::from_millis(15)), None]);
    }
}
