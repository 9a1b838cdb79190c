//! Shrinking a failing run: delta-debug its fault schedule and its workload length while it
//! still fails the same way, so what remains is the smallest story that still shows the bug.
//!
//! The experiment's structure (the heal at the end of the fault phase, the quiet phase, the
//! final reads) is not part of the schedule, so shrinking cannot remove it: a shrunk run
//! fails for the reason the original did, never because it was left unhealed.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_net::Schedule;

use std::collections::{BTreeMap, BTreeSet};

use crate::check::Model;
use crate::experiment::{Experiment, ExperimentError, Explicit, Nemesis, PinnedOp, Run, Setup};
use crate::protocol::Protocol;

/// A reproducible run: a protocol's name, a seed and a setup whose faults are an explicit
/// schedule. Written by shrinking, run by `actsim replay` or `ACTSIM_REPLAY=file cargo test`.
///
/// ```
/// use models::experiment::Setup;
/// use models::shrink::Repro;
/// let r = Repro { protocol: "eventual".into(), bug: None, seed: 3, setup: Setup::default(), violation: None };
/// let back: Repro = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
/// assert_eq!(back.seed, 3);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Repro {
    /// The protocol's name.
    pub protocol: String,
    /// The planted bug that was on, if any (command-line protocols only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bug: Option<String>,
    /// The seed (workload, network and protocol randomness).
    pub seed: u64,
    /// The setup, with `nemesis` = the schedule to replay.
    pub setup: Setup,
    /// What failed, when it was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<String>,
}

/// A replay file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a replay file.
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl Repro {
    /// Reads a replay file.
    pub fn read(path: &Path) -> Result<Repro, ReproError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReproError::Io {
            path: name.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| ReproError::Json {
            path: name,
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// Writes the replay file (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), ReproError> {
        let io = |source| ReproError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| io(e.into()))?;
        std::fs::write(path, json + "\n").map_err(io)
    }

    /// The story of what the file pins down: faults and message anomalies with their
    /// virtual times, the client operations left out, and the phases.
    pub fn story(&self) -> String {
        let s = &self.setup;
        let faults = match &s.nemesis {
            Nemesis::Schedule(sched) => sched.entries.as_slice(),
            _ => &[],
        };
        let messages = s
            .explicit
            .as_ref()
            .map_or(&[][..], |x| x.messages.as_slice());
        let ops = s.explicit.as_ref().and_then(|x| x.ops.as_ref());
        let mut out = format!(
            "{} faults, {} message anomalies, {}; {:.1} s healthy, {:.1} s of faults, heal, {:.1} s quiet, final reads",
            faults.len(),
            messages.len(),
            ops.map_or("the workload's client operations".to_string(), |o| format!("{} client operations", o.len())),
            s.healthy.as_secs_f64(),
            s.faulty.as_secs_f64(),
            s.quiet.as_secs_f64()
        );
        for e in faults {
            out.push_str(&format!(
                "\n  {:>9.3} s  fault: {}",
                e.at_ms as f64 / 1e3,
                e.fault
            ));
        }
        for m in messages {
            out.push_str(&format!(
                "\n  {:>9.3} s  message {} -> {} (#{} of its kind) {}",
                m.at_ms / 1e3,
                m.id.from,
                m.id.to,
                m.id.occurrence,
                match m.fate {
                    sim_net::Fate::Dropped => "dropped".to_string(),
                    sim_net::Fate::Duplicated => "duplicated".to_string(),
                    sim_net::Fate::Delayed { ms } => format!("delayed to {ms:.1} ms"),
                }
            ));
        }
        out
    }
}

/// The result of shrinking.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing run found, as a replay file.
    pub repro: Repro,
    /// What it is: counts before and after.
    pub before: Size,
    /// See `before`.
    pub after: Size,
    /// The client operations of the shrunk run, as a readable list (time, client, operation,
    /// outcome; the ones the checker blames marked).
    pub operations: Vec<String>,
    /// Runs tried.
    pub runs: usize,
}

impl Shrunk {
    /// What is left, told for a person: the sizes before and after, the faults and message
    /// anomalies with their times, and the client operations (the blamed ones marked).
    pub fn story(&self) -> String {
        let mut out = format!(
            "before: {}\nafter:  {} ({} runs)\n{}",
            self.before,
            self.after,
            self.runs,
            self.repro.story()
        );
        out.push_str(&format!("\n{} client operations:", self.operations.len()));
        let skip = self.operations.len().saturating_sub(40);
        if skip > 0 {
            out.push_str(&format!("\n  ... {skip} earlier operations"));
        }
        for o in &self.operations[skip..] {
            out.push_str(&format!("\n  {o}"));
        }
        if let Some(v) = &self.repro.violation {
            out.push_str(&format!(
                "\nstill fails: {}",
                v.lines().next().unwrap_or("")
            ));
        }
        out
    }
}

/// The size of a failing run: what shrinking makes small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    /// Fault schedule entries.
    pub faults: usize,
    /// Message anomalies (drops, duplicates, delays).
    pub messages: usize,
    /// Client operations invoked.
    pub operations: usize,
    /// Clients that invoked any operation.
    pub clients: usize,
    /// The fault phase, ms.
    pub faulty_ms: u64,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} faults, {} client operations from {} clients, {} message anomalies, {:.1} s fault phase",
            self.faults,
            self.operations,
            self.clients,
            self.messages,
            self.faulty_ms as f64 / 1e3
        )
    }
}

/// How much shrinking may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShrinkBudget {
    /// At most this many runs (deterministic, unlike a time limit).
    pub runs: usize,
}

impl Default for ShrinkBudget {
    fn default() -> Self {
        ShrinkBudget { runs: 3000 }
    }
}

/// What "the same failure" means: the model violated and the kind of its counterexample
/// (or a run error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureKind {
    /// The violated model (`None`: the run ended in an error).
    pub model: Option<Model>,
    /// The counterexample's kind (e.g. `linearization`), or the error's first words.
    pub kind: String,
}

impl FailureKind {
    /// The failure of a run, if it fails (its first violated model the protocol promises).
    pub fn of(run: &Run) -> Option<FailureKind> {
        if let Some(e) = &run.evaluation.error {
            let kind = e.split(':').next().unwrap_or("").to_string();
            return Some(FailureKind { model: None, kind });
        }
        let model = first_violated(run)?;
        Some(FailureKind {
            model: Some(model),
            kind: violation_kind(&run.evaluation, model),
        })
    }
}

/// One shrinking candidate: the schedule, anomalies, client operations and fault phase.
#[derive(Clone, Debug)]
struct Candidate {
    faults: Vec<sim_net::Entry>,
    messages: Vec<sim_net::Anomaly>,
    ops: Vec<PinnedOp>,
    faulty: Duration,
}

impl Candidate {
    fn setup(&self, base: &Setup) -> Setup {
        Setup {
            nemesis: Nemesis::Schedule(Schedule {
                entries: self.faults.clone(),
            }),
            faulty: self.faulty,
            explicit: Some(Explicit {
                messages: self.messages.clone(),
                ops: Some(self.ops.clone()),
            }),
            ..base.clone()
        }
    }
}

/// The operations a run's clients invoked, pinned at their invocation times, in invocation
/// order. `pinned`: the operations the run was asked to run (their indices); `None`: the
/// workload's own, numbered from 0 per client.
fn invoked(run: &Run, setup: &Setup, pinned: Option<&[PinnedOp]>) -> Vec<PinnedOp> {
    let mut indices: BTreeMap<u32, std::collections::VecDeque<u64>> = BTreeMap::new();
    if let Some(p) = pinned {
        let mut sorted = p.to_vec();
        sorted.sort_unstable_by_key(|o| (o.client, o.n));
        for o in sorted {
            indices.entry(o.client).or_default().push_back(o.n);
        }
    }
    let mut next: BTreeMap<u32, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for o in run.outcome.history.operations().unwrap_or_default() {
        let Some(node) = o.node else { continue };
        let Some(c) = node.0.checked_sub(setup.replicas) else {
            continue;
        };
        let n = match pinned {
            Some(_) => match indices.get_mut(&c).and_then(|q| q.pop_front()) {
                Some(n) => n,
                None => continue,
            },
            None => {
                let n = next.entry(c).or_insert(0);
                *n += 1;
                *n - 1
            }
        };
        out.push(PinnedOp {
            client: c,
            n,
            at_ns: o.invoke_time.as_nanos(),
        });
    }
    out
}

/// The key each pinned operation of a run touched (operations of one key).
fn invoked_keys(
    run: &Run,
    setup: &Setup,
    pinned: &[PinnedOp],
) -> BTreeMap<PinnedOp, crate::op::Key> {
    let ops = run.outcome.history.operations().unwrap_or_default();
    let client_ops = ops.iter().filter(|o| {
        o.node
            .and_then(|n| n.0.checked_sub(setup.replicas))
            .is_some()
    });
    invoked(run, setup, Some(pinned))
        .into_iter()
        .zip(client_ops)
        .filter_map(|(p, o)| o.op.keys().first().map(|k| (p, (*k).clone())))
        .collect()
}

fn size(run: &Run, c: &Candidate, setup: &Setup) -> Size {
    let ops = invoked(run, setup, Some(&c.ops));
    let clients: BTreeSet<u32> = ops.iter().map(|o| o.client).collect();
    Size {
        faults: c.faults.len(),
        messages: c.messages.len(),
        operations: ops.len(),
        clients: clients.len(),
        faulty_ms: c.faulty.as_millis() as u64,
    }
}

/// ddmin over `items`: removes chunks of decreasing size while `fails` says the rest still
/// fails. Stops early when `fails` returns `None` (out of budget).
fn ddmin<T: Clone>(items: &mut Vec<T>, mut fails: impl FnMut(&[T]) -> Option<bool>) {
    let mut chunk = items.len().div_ceil(2).max(1);
    while !items.is_empty() {
        let mut removed_any = false;
        let mut start = 0;
        while start < items.len() {
            let end = (start + chunk).min(items.len());
            let mut candidate = items.clone();
            candidate.drain(start..end);
            match fails(&candidate) {
                None => return,
                Some(true) => {
                    *items = candidate;
                    removed_any = true;
                }
                Some(false) => start = end,
            }
        }
        if !removed_any {
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        chunk = chunk.min(items.len().max(1));
    }
}

impl<P: Protocol> Experiment<P> {
    /// The replay file of `seed`: its schedule and message anomalies made explicit, so the
    /// file replays the seed exactly (the same trace hash).
    pub fn explicit(&self, seed: u64) -> Result<Repro, ExperimentError> {
        let exp = self.materialize(seed);
        let run = exp.run(seed)?;
        Ok(exp.explicit_of(seed, &run))
    }

    fn explicit_of(&self, seed: u64, run: &Run) -> Repro {
        let mut setup = self.setup.clone();
        setup.nemesis = Nemesis::Schedule(run.outcome.schedule.clone());
        let mut x = setup.explicit.clone().unwrap_or_default();
        x.messages = run.outcome.anomalies.clone();
        setup.explicit = Some(x);
        Repro {
            protocol: self.protocol.name().to_string(),
            bug: None,
            seed,
            setup,
            violation: run.violation(),
        }
    }

    /// Shrinks the failure of `seed` with the default budget. `Ok(None)` if the seed does not
    /// fail.
    pub fn shrink(&self, seed: u64) -> Result<Option<Shrunk>, ExperimentError> {
        self.shrink_within(seed, ShrinkBudget::default())
    }

    /// Shrinks the failure of `seed`: passes over the fault schedule, the clients, the client
    /// operations, the message anomalies and the fault phase's length, each keeping only
    /// candidates that fail the same way ([`FailureKind`]: the same model, the same kind of
    /// counterexample). The experiment's structure (heal, quiet phase, final reads) is not a
    /// candidate, so a shrunk run never fails for lack of a heal.
    pub fn shrink_within(
        &self,
        seed: u64,
        budget: ShrinkBudget,
    ) -> Result<Option<Shrunk>, ExperimentError> {
        if self.strategy.is_some() {
            return self.materialize(seed).shrink_within(seed, budget);
        }
        let first = self.run(seed)?;
        let Some(kind) = FailureKind::of(&first) else {
            return Ok(None);
        };
        let exp = match kind.model {
            Some(m) => self.clone().checks([m]),
            None => self.clone(),
        };
        let base = exp.setup.clone();
        let mut best = Candidate {
            faults: first.outcome.schedule.entries.clone(),
            messages: first.outcome.anomalies.clone(),
            ops: invoked(
                &first,
                &base,
                base.explicit.as_ref().and_then(|x| x.ops.as_deref()),
            ),
            faulty: base.faulty,
        };
        let runs = std::cell::Cell::new(0usize);
        let mut last_run = first.clone();
        let attempt = |c: &Candidate, last: &mut Run| -> Option<bool> {
            if runs.get() >= budget.runs {
                return None;
            }
            runs.set(runs.get() + 1);
            let run = exp.clone().setup(c.setup(&base)).run(seed).ok()?;
            let same = FailureKind::of(&run).as_ref() == Some(&kind);
            if same {
                *last = run;
            }
            Some(same)
        };
        // The explicit form of the seed must fail the same way (it is the same run).
        if attempt(&best, &mut last_run) != Some(true) {
            return Ok(None);
        }
        let before = size(&last_run, &best, &base);
        for _round in 0..3 {
            let start = (
                best.faults.len(),
                best.messages.len(),
                best.ops.len(),
                best.faulty,
            );
            // Everything invoked after the failure can go: keep the shortest prefix of
            // operations (in invocation order) that still fails.
            let mut ops = best.ops.clone();
            ops.sort_by_key(|o| o.at_ns);
            let (mut lo, mut hi) = (0usize, ops.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                let c = Candidate {
                    ops: ops[..mid].to_vec(),
                    ..best.clone()
                };
                match attempt(&c, &mut last_run) {
                    Some(true) => hi = mid,
                    Some(false) => lo = mid + 1,
                    None => break,
                }
            }
            best.ops = ops[..hi.max(lo).min(ops.len())].to_vec();
            // Faults.
            let mut faults = best.faults.clone();
            ddmin(&mut faults, |f| {
                let c = Candidate {
                    faults: f.to_vec(),
                    ..best.clone()
                };
                attempt(&c, &mut last_run)
            });
            best.faults = faults;
            // Message anomalies.
            let mut messages = best.messages.clone();
            ddmin(&mut messages, |m| {
                let c = Candidate {
                    messages: m.to_vec(),
                    ..best.clone()
                };
                attempt(&c, &mut last_run)
            });
            best.messages = messages;
            // Whole clients, then single operations.
            let clients: BTreeSet<u32> = best.ops.iter().map(|o| o.client).collect();
            for c in clients.into_iter().rev() {
                let cand = Candidate {
                    ops: best.ops.iter().copied().filter(|o| o.client != c).collect(),
                    ..best.clone()
                };
                if attempt(&cand, &mut last_run) == Some(true) {
                    best = cand;
                }
            }
            // Every operation on one key at a time (a violation is usually about one key).
            let keyed: BTreeMap<PinnedOp, crate::op::Key> =
                invoked_keys(&last_run, &base, &best.ops);
            let keys: BTreeSet<crate::op::Key> = keyed.values().cloned().collect();
            for k in keys {
                let cand = Candidate {
                    ops: best
                        .ops
                        .iter()
                        .copied()
                        .filter(|o| keyed.get(o) != Some(&k))
                        .collect(),
                    ..best.clone()
                };
                if attempt(&cand, &mut last_run) == Some(true) {
                    best = cand;
                }
            }
            let mut ops = best.ops.clone();
            ddmin(&mut ops, |o| {
                let c = Candidate {
                    ops: o.to_vec(),
                    ..best.clone()
                };
                attempt(&c, &mut last_run)
            });
            best.ops = ops;
            // The fault phase, never before the last remaining fault.
            let healthy = base.healthy.as_millis() as u64;
            let floor = best
                .faults
                .iter()
                .map(|e| Duration::from_millis((e.at_ms + 1).saturating_sub(healthy)))
                .max()
                .unwrap_or_default();
            let mut step = best.faulty / 2;
            while step >= Duration::from_millis(50) {
                let shorter = Duration::from_millis(
                    best.faulty.saturating_sub(step).max(floor).as_millis() as u64,
                );
                if shorter < best.faulty {
                    let c = Candidate {
                        faulty: shorter,
                        ..best.clone()
                    };
                    match attempt(&c, &mut last_run) {
                        Some(true) => {
                            best = c;
                            continue;
                        }
                        None => break,
                        Some(false) => {}
                    }
                }
                step /= 2;
            }
            let end = (
                best.faults.len(),
                best.messages.len(),
                best.ops.len(),
                best.faulty,
            );
            if end == start || runs.get() >= budget.runs {
                break;
            }
        }
        // The final run, for its size, story and verdict.
        let last = exp.clone().setup(best.setup(&base)).run(seed)?;
        let after = size(&last, &best, &base);
        let blamed = blamed_ops(&last.evaluation);
        let operations = last
            .outcome
            .history
            .operations()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mark = if blamed.contains(&i) {
                    "  <- blamed"
                } else {
                    ""
                };
                format!("#{i} {}{mark}", crate::scenario::describe(o))
            })
            .collect();
        let mut repro = Repro {
            protocol: self.protocol.name().to_string(),
            bug: None,
            seed,
            setup: best.setup(&base),
            violation: last.violation(),
        };
        repro.setup.explicit.get_or_insert_with(Explicit::default);
        Ok(Some(Shrunk {
            repro,
            before,
            after,
            operations,
            runs: runs.get(),
        }))
    }

    /// Runs a replay file's seed and setup with this experiment's protocol and checks.
    pub fn replay(&self, repro: &Repro) -> Result<Run, ExperimentError> {
        let mut e = self.clone().setup(repro.setup.clone());
        e.strategy = None; // the file's setup is already the seed's
        e.run(repro.seed)
    }
}

/// The first checked model a run's protocol is failed for (its own or a weaker one).
pub fn first_violated(run: &Run) -> Option<Model> {
    let ev = &run.evaluation;
    ev.checks
        .keys()
        .copied()
        .filter(|&m| run.promised.implies(m))
        .find(|&m| ev.violation(m).is_some())
}

/// The kind of `model`'s counterexample in `ev` (for eventual: which of its violations).
fn violation_kind(ev: &crate::evaluate::Evaluation, model: Model) -> String {
    use crate::check::Counterexample as C;
    let Some(c) = ev.checks.get(&model).and_then(|v| v.counterexample()) else {
        return String::new();
    };
    match c {
        C::Linearization { .. } => "linearization".into(),
        C::OrderCycle { .. } => "order cycle".into(),
        C::ThinAir { .. } => "thin air".into(),
        C::Causal { .. } => "causal".into(),
        C::Sessions { .. } => "sessions".into(),
        C::Eventual(e) => {
            let mut kinds = Vec::new();
            if !e.divergent.is_empty() {
                kinds.push("divergent");
            }
            if !e.thin_air_reads.is_empty() || !e.thin_air_finals.is_empty() {
                kinds.push("thin air");
            }
            if !e.lost_writes.is_empty() {
                kinds.push("lost writes");
            }
            format!("eventual: {}", kinds.join(", "))
        }
    }
}

/// The operations the checkers blame in `ev`.
fn blamed_ops(ev: &crate::evaluate::Evaluation) -> BTreeSet<usize> {
    ev.checks.values().flat_map(|v| v.blamed()).collect()
}
