//! Judging one experiment run: availability per side of the partition, latency, and a verdict
//! from every consistency checker.

use std::collections::BTreeMap;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::TraceHash;

use crate::check::availability::{availability, ClientGroup, Counts, Stats, Window};
use crate::check::causal::check_causal;
use crate::check::eventual::check_eventual;
use crate::check::{check, Budget, CheckOptions};
pub use crate::check::{Model, Verdict};
use crate::experiment::{Outcome, Side};

/// ok / total of one kind of operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    /// Operations that completed ok.
    pub ok: usize,
    /// Operations invoked.
    pub total: usize,
}

impl Ratio {
    fn of(c: &Counts) -> Ratio {
        Ratio {
            ok: c.ok,
            total: c.total(),
        }
    }

    /// ok / total (1 when nothing was invoked).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.ok as f64 / self.total as f64
        }
    }

    /// Adds another ratio's counts.
    pub fn add(&mut self, o: Ratio) {
        self.ok += o.ok;
        self.total += o.total;
    }
}

/// Availability of reads and writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadWrite {
    /// Reads.
    pub read: Ratio,
    /// Writes (and cas).
    pub write: Ratio,
}

impl ReadWrite {
    fn of(s: &Stats) -> ReadWrite {
        ReadWrite {
            read: Ratio::of(&s.reads),
            write: Ratio::of(&s.writes),
        }
    }

    /// Adds another's counts.
    pub fn add(&mut self, o: &ReadWrite) {
        self.read.add(o.read);
        self.write.add(o.write);
    }
}

/// Everything said about one run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Evaluation {
    /// The seed.
    pub seed: u64,
    /// The run's trace hash.
    pub trace_hash: TraceHash,
    /// Availability during the fault phase, per side (operations invoked in the window).
    pub during_faults: BTreeMap<Side, ReadWrite>,
    /// Availability over the whole run.
    pub overall: ReadWrite,
    /// Latencies of ok operations, in ms: (p50, p99, max).
    pub latency_ms: (f64, f64, f64),
    /// Every latency sample count behind `latency_ms`.
    pub latency_samples: usize,
    /// One verdict per model, from [`check`](crate::check::check).
    pub checks: BTreeMap<Model, Verdict>,
    /// Acknowledged writes a last-writer-wins merge dropped for a concurrent, real-time-earlier
    /// write (allowed by eventual consistency, but lost to the user).
    pub superseded_writes: usize,
    /// The run's error (actor panic), if it ended early.
    pub error: Option<String>,
}

impl Evaluation {
    /// The first problem with `model`: the run's error, or the checker's failure.
    pub fn violation(&self, model: Model) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("run error: {e}"));
        }
        match self.checks.get(&model) {
            Some(Verdict::Invalid { counterexample, .. }) => {
                Some(format!("{model}: {counterexample}"))
            }
            _ => None,
        }
    }
}

impl Evaluation {
    /// The first problem a protocol that promises `promised` is failed for: the run's error,
    /// or a violation of a checked model that `promised` implies.
    pub fn violation_of(&self, promised: Model) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("run error: {e}"));
        }
        self.checks
            .keys()
            .filter(|&&m| promised.implies(m))
            .find_map(|&m| self.violation(m))
    }
}

/// How much checking to do.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Models to check (others are left out of [`Evaluation::checks`]).
    pub models: Vec<Model>,
    /// Budget for each search-based checker (linearizable, sequential).
    pub budget: Budget,
    /// Threads for the linearizability checker's independent keys (1: keep seeds parallel
    /// instead).
    pub parallelism: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            models: Model::ALL.to_vec(),
            budget: Budget {
                time: Some(Duration::from_secs(10)),
                steps: None,
            },
            parallelism: 1,
        }
    }
}

fn dur_ms(d: Option<Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Evaluates one run of `exp`.
pub fn evaluate(out: &Outcome, opts: &EvalOptions) -> Evaluation {
    let side_group = |side: Side| ClientGroup {
        name: format!("{side:?}"),
        nodes: out
            .sides
            .iter()
            .filter(|(n, s)| **s == side && !out.replicas.contains(n))
            .map(|(n, _)| *n)
            .collect(),
    };
    let groups = [side_group(Side::Majority), side_group(Side::Minority)];
    let window = Window {
        name: "faults".into(),
        start: out.fault_window.0,
        end: out.fault_window.1,
    };
    let report = availability(&out.history, &groups, &[window]);
    let mut during_faults = BTreeMap::new();
    for (_, g, stats) in &report.window_groups {
        let side = if *g == groups[0].name {
            Side::Majority
        } else {
            Side::Minority
        };
        during_faults.insert(side, ReadWrite::of(stats));
    }
    let copts = CheckOptions {
        init: crate::op::Value::Nil,
        budget: opts.budget.clone(),
        parallelism: opts.parallelism,
        ..CheckOptions::default()
    };
    let mut checks = BTreeMap::new();
    let mut superseded = 0;
    // CC and CCv come from one causal analysis; eventual's report also gives the superseded
    // writes: each is computed once, with the verdict `check` would give.
    let mut causal = None;
    for &m in &opts.models {
        let v = match m {
            Model::Causal | Model::CausalPlus => causal
                .get_or_insert_with(|| check_causal(&out.history, &copts))
                .as_ref()
                .map(|r| r.verdict(m))
                .unwrap_or_else(|_| check(m, &out.history, &out.final_reads, &copts)),
            Model::Eventual => match check_eventual(&out.history, &out.final_reads, &copts) {
                Ok(r) => {
                    // Allowed by eventual consistency, so not part of the verdict; counted
                    // for the user.
                    superseded = r.superseded_concurrent.len();
                    r.verdict()
                }
                Err(_) => check(m, &out.history, &out.final_reads, &copts),
            },
            _ => check(m, &out.history, &out.final_reads, &copts),
        };
        checks.insert(m, v);
    }
    let lat = &report.overall.latency;
    Evaluation {
        seed: out.summary.seed,
        trace_hash: out.summary.trace_hash,
        during_faults,
        overall: ReadWrite::of(&report.overall),
        latency_ms: (dur_ms(lat.p50), dur_ms(lat.p99), dur_ms(lat.max)),
        latency_samples: report.overall.all.ok,
        checks,
        superseded_writes: superseded,
        error: out.error.clone(),
    }
}
