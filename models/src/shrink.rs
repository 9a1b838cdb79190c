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
    invoked_at(run, setup, pinned)
        .into_iter()
        .map(|(_, p, _)| p)
        .collect()
}

/// [`invoked`], each with its index in the run's history (what the checkers blame) and the
/// key it touched.
fn invoked_at(
    run: &Run,
    setup: &Setup,
    pinned: Option<&[PinnedOp]>,
) -> Vec<(usize, PinnedOp, Option<crate::op::Key>)> {
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
    for (i, o) in run
        .outcome
        .history
        .operations()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
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
        let pin = PinnedOp {
            client: c,
            n,
            at_ns: o.invoke_time.as_nanos(),
        };
        out.push((i, pin, o.op.keys().first().map(|k| (*k).clone())));
    }
    out
}

/// The key each pinned operation of a run touched (operations of one key).
fn invoked_keys(
    run: &Run,
    setup: &Setup,
    pinned: &[PinnedOp],
) -> BTreeMap<PinnedOp, crate::op::Key> {
    invoked_at(run, setup, Some(pinned))
        .into_iter()
        .filter_map(|(_, p, k)| k.map(|k| (p, k)))
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

/// The most candidates one size of [`smallest_failing_subset`] may cost.
const SUBSETS_PER_SIZE: u64 = 50;

/// Subsets that [`smallest_failing_subset`] adds to the anchor: at most this many items.
const SUBSET_MAX: usize = 3;

/// The first failing candidate `anchor` + `k` items of `pool`, for `k` = 0, 1, 2, 3 (the
/// smallest first), each size taking the subsets of the longest prefix of `pool` that has at
/// most [`SUBSETS_PER_SIZE`] of them, in lexicographic order of positions (so `pool` is best
/// ordered by relevance). Only candidates smaller than `anchor` + `pool` are tried; `None` if
/// none fails or the budget ran out.
fn smallest_failing_subset<T: Clone>(
    anchor: &[T],
    pool: &[T],
    mut fails: impl FnMut(&[T]) -> Option<Option<Vec<T>>>,
) -> Option<Vec<T>> {
    let binomial = |m: usize, k: usize| -> u64 {
        (0..k).fold(1u64, |c, i| {
            c.saturating_mul((m - i) as u64) / (i as u64 + 1)
        })
    };
    for k in 0..=SUBSET_MAX.min(pool.len().saturating_sub(1)) {
        if k == 0 && anchor.is_empty() {
            continue;
        }
        let m = (k..=pool.len())
            .take_while(|&m| binomial(m, k) <= SUBSETS_PER_SIZE)
            .last()
            .unwrap_or(0);
        if m < k {
            break;
        }
        let mut pick: Vec<usize> = (0..k).collect();
        loop {
            let mut candidate: Vec<T> = anchor.to_vec();
            candidate.extend(pick.iter().map(|&i| pool[i].clone()));
            match fails(&candidate) {
                None => return None,
                Some(Some(found)) => return Some(found),
                Some(None) => {}
            }
            // The next k-subset of pool[..m] in lexicographic order.
            let Some(i) = (0..k).rev().find(|&i| pick[i] < m - k + i) else {
                break;
            };
            pick[i] += 1;
            for j in i + 1..k {
                pick[j] = pick[j - 1] + 1;
            }
        }
    }
    None
}

/// `ops` with each client's operations after its first pinned at that first one's time, so
/// they run back to back (a pinned operation starts at its time or when the one before it
/// completes, whichever is later).
fn back_to_back(ops: &[PinnedOp]) -> Vec<PinnedOp> {
    let mut first: BTreeMap<u32, u64> = BTreeMap::new();
    for o in ops {
        let t = first.entry(o.client).or_insert(o.at_ns);
        *t = (*t).min(o.at_ns);
    }
    ops.iter()
        .map(|o| PinnedOp {
            at_ns: first[&o.client],
            ..*o
        })
        .collect()
}

/// ddmin over one part of `best` (its faults, anomalies or operations), the rest kept.
fn ddmin_part<T: Clone>(
    best: &mut Candidate,
    part: fn(&mut Candidate) -> &mut Vec<T>,
    mut fails: impl FnMut(&Candidate) -> Option<bool>,
) {
    let mut items = part(best).clone();
    ddmin(&mut items, |xs| {
        let mut c = best.clone();
        *part(&mut c) = xs.to_vec();
        fails(&c)
    });
    *part(best) = items;
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

    /// Shrinks the failure of `seed`, each pass keeping only candidates that fail the same
    /// way ([`FailureKind`]: the same model, the same kind of counterexample): the shortest
    /// failing prefix of the operations, the shortest window of operations before the last,
    /// ddmin over the message anomalies and then the faults, only the blamed keys' or
    /// clients' operations, whole clients, whole keys, a few operations (any, then the
    /// blamed ones with a few others, smallest sets first), ddmin over the operations, and
    /// the fault phase's length; repeated while it shrinks. An anomaly whose message's
    /// content changed follows it (see the code). The experiment's structure (heal, quiet
    /// phase, final reads) is not a candidate, so a shrunk run never fails for lack of a heal.
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
        // Anomalies follow their messages. An anomaly is matched by its message's identity,
        // content included; removing an operation or a fault can change that content (a
        // write's stamp or dependencies, a log index) while the message is still sent, on the
        // same link, at about the same time. A candidate that does not fail and left an
        // anomaly unmatched is tried once more with each such anomaly moved to the message
        // sent on its link nearest its time (within 20 ms) that has none; if that fails the
        // same way, the move is kept for every later candidate.
        let moved: std::cell::RefCell<BTreeMap<sim_net::MessageId, sim_net::Anomaly>> =
            Default::default();
        let follow = |msgs: &[sim_net::Anomaly]| -> Vec<sim_net::Anomaly> {
            let moved = moved.borrow();
            msgs.iter()
                .map(|a| {
                    let mut a = *a;
                    for _ in 0..=moved.len() {
                        match moved.get(&a.id) {
                            Some(b) => a = *b,
                            None => break,
                        }
                    }
                    a
                })
                .collect()
        };
        let last_ok: std::cell::RefCell<Option<Candidate>> = Default::default();
        let attempt = |c: &Candidate, last: &mut Run| -> Option<bool> {
            if runs.get() >= budget.runs {
                return None;
            }
            runs.set(runs.get() + 1);
            let mut c = c.clone();
            c.messages = follow(&c.messages);
            let run = exp.clone().setup(c.setup(&base)).run(seed).ok()?;
            if FailureKind::of(&run).as_ref() == Some(&kind) {
                *last = run;
                *last_ok.borrow_mut() = Some(c);
                return Some(true);
            }
            let applied: BTreeSet<sim_net::MessageId> =
                run.outcome.anomalies.iter().map(|a| a.id).collect();
            let mut taken: BTreeSet<sim_net::MessageId> = applied.clone();
            taken.extend(c.messages.iter().map(|a| a.id));
            let mut moves = Vec::new();
            for a in c.messages.iter().filter(|a| !applied.contains(&a.id)) {
                let nearest = run
                    .outcome
                    .replay_sends
                    .iter()
                    .filter(|(id, at)| {
                        (id.from, id.to) == (a.id.from, a.id.to)
                            && !taken.contains(id)
                            && (at - a.at_ms).abs() <= 20.0
                    })
                    .min_by(|x, y| (x.1 - a.at_ms).abs().total_cmp(&(y.1 - a.at_ms).abs()));
                if let Some(&(id, at_ms)) = nearest {
                    taken.insert(id);
                    moves.push((a.id, sim_net::Anomaly { id, at_ms, ..*a }));
                }
            }
            if moves.is_empty() || runs.get() >= budget.runs {
                return Some(false);
            }
            runs.set(runs.get() + 1);
            let mut again = c.clone();
            for m in &mut again.messages {
                if let Some((_, b)) = moves.iter().find(|(from, _)| *from == m.id) {
                    *m = *b;
                }
            }
            let run = exp.clone().setup(again.setup(&base)).run(seed).ok()?;
            if FailureKind::of(&run).as_ref() != Some(&kind) {
                return Some(false);
            }
            moved.borrow_mut().extend(moves);
            *last = run;
            *last_ok.borrow_mut() = Some(again);
            Some(true)
        };
        // The blamed operations with a few others, smallest first. ddmin leaves a set from
        // which no single removal still fails, but removing an operation changes the content
        // of later messages (request ids, log entries), so latencies and the protocol's timing
        // move: a much smaller set may still fail where no one removal does. The others are
        // tried by relevance: operations on a blamed key first, then the rest, each group
        // nearest in time to the first blamed operation first.
        let anchored_subsets = |best: Candidate, last: &mut Run| -> Candidate {
            // At most a quarter of the budget, so that a small budget still reaches the
            // other passes.
            let stop = runs.get().saturating_add(budget.runs / 4);
            let blamed = blamed_ops(&last.evaluation);
            let at = invoked_at(last, &base, Some(&best.ops));
            let anchor: Vec<PinnedOp> = at
                .iter()
                .filter(|(i, _, _)| blamed.contains(i))
                .map(|(_, p, _)| *p)
                .collect();
            let keys: BTreeSet<crate::op::Key> = at
                .iter()
                .filter(|(i, _, _)| blamed.contains(i))
                .filter_map(|(_, _, k)| k.clone())
                .collect();
            let on_key: BTreeSet<PinnedOp> = at
                .iter()
                .filter(|(_, _, k)| k.as_ref().is_some_and(|k| keys.contains(k)))
                .map(|(_, p, _)| *p)
                .collect();
            let focus = anchor
                .iter()
                .map(|o| o.at_ns)
                .min()
                .or_else(|| best.ops.iter().map(|o| o.at_ns).max())
                .unwrap_or(0);
            let mut pool: Vec<PinnedOp> = best
                .ops
                .iter()
                .copied()
                .filter(|o| !anchor.contains(o))
                .collect();
            pool.sort_by_key(|o| (!on_key.contains(o), o.at_ns.abs_diff(focus), *o));
            let mut all: Vec<PinnedOp> = best.ops.clone();
            all.sort_by_key(|o| (!on_key.contains(o), o.at_ns.abs_diff(focus), *o));
            // Any few operations first (what is left may not hold the smallest failing set),
            // then the blamed ones with a few others.
            for (anchor, pool) in [(&[][..], &all), (&anchor[..], &pool)] {
                let found = smallest_failing_subset(anchor, pool, |o| {
                    if runs.get() >= stop {
                        return None;
                    }
                    let c = Candidate {
                        ops: o.to_vec(),
                        ..best.clone()
                    };
                    if !attempt(&c, last)? {
                        // The same operations back to back: each client's operations after
                        // its first are invoked as soon as the one before completes. Without
                        // the operations in between, the moment a race needs may be right
                        // after the previous operation, no longer at its own time.
                        let tight = back_to_back(&c.ops);
                        if tight == c.ops {
                            return Some(None);
                        }
                        let c = Candidate { ops: tight, ..c };
                        return Some(attempt(&c, last)?.then_some(c.ops));
                    }
                    Some(Some(c.ops))
                });
                if let Some(ops) = found {
                    return Candidate { ops, ..best };
                }
            }
            best
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
            // Everything long before the failure can often go too: keep only the operations
            // invoked in a window that ends with the last one, shortest window first (0.1 s,
            // doubling). What a failure needs is usually the last moments before it.
            let mut ops = best.ops.clone();
            ops.sort_by_key(|o| o.at_ns);
            if let (Some(first), Some(last)) = (ops.first(), ops.last()) {
                let (first, last) = (first.at_ns, last.at_ns);
                let mut window = 100_000_000u64;
                while window < last - first {
                    let from = last - window;
                    let c = Candidate {
                        ops: ops.iter().copied().filter(|o| o.at_ns >= from).collect(),
                        ..best.clone()
                    };
                    match attempt(&c, &mut last_run) {
                        Some(true) => {
                            best = c;
                            break;
                        }
                        Some(false) => window *= 2,
                        None => break,
                    }
                }
            }
            // Message anomalies before faults: an anomaly is matched by its message's
            // content, which the later passes change (a write's stamp, a log index), while a
            // fault is matched by time and node. Where either can cause the failure, the
            // fault survives the passes that follow.
            ddmin_part(
                &mut best,
                |c| &mut c.messages,
                |c| attempt(c, &mut last_run),
            );
            // Faults.
            ddmin_part(&mut best, |c| &mut c.faults, |c| attempt(c, &mut last_run));
            // Only what the checker blames: the operations on the keys it blames, then the
            // operations of the clients it blames (one run each).
            let blamed = blamed_ops(&last_run.evaluation);
            let at = invoked_at(&last_run, &base, Some(&best.ops));
            let blamed_keys: BTreeSet<crate::op::Key> = at
                .iter()
                .filter(|(i, _, _)| blamed.contains(i))
                .filter_map(|(_, _, k)| k.clone())
                .collect();
            let blamed_clients: BTreeSet<u32> = at
                .iter()
                .filter(|(i, _, _)| blamed.contains(i))
                .map(|(_, p, _)| p.client)
                .collect();
            let on_keys: BTreeSet<PinnedOp> = at
                .iter()
                .filter(|(_, _, k)| k.as_ref().is_some_and(|k| blamed_keys.contains(k)))
                .map(|(_, p, _)| *p)
                .collect();
            for keep in [
                Box::new(|o: &PinnedOp| on_keys.contains(o)) as Box<dyn Fn(&PinnedOp) -> bool>,
                Box::new(|o: &PinnedOp| blamed_clients.contains(&o.client)),
            ] {
                if blamed.is_empty() {
                    break;
                }
                let ops: Vec<PinnedOp> = best.ops.iter().copied().filter(|o| keep(o)).collect();
                if ops.is_empty() || ops.len() == best.ops.len() {
                    continue;
                }
                let cand = Candidate {
                    ops,
                    ..best.clone()
                };
                if attempt(&cand, &mut last_run) == Some(true) {
                    best = cand;
                }
            }
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
            best = anchored_subsets(best, &mut last_run);
            let ops_before_ddmin = best.ops.len();
            ddmin_part(&mut best, |c| &mut c.ops, |c| attempt(c, &mut last_run));
            if ops_before_ddmin != best.ops.len() {
                best = anchored_subsets(best, &mut last_run);
            }
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
        // The final run, for its size, story and verdict: the last candidate that failed,
        // with its anomalies where they followed their messages (it is `best`).
        let best = match last_ok.borrow().clone() {
            Some(c) if (&c.faults, &c.ops, c.faulty) == (&best.faults, &best.ops, best.faulty) => c,
            _ => Candidate {
                messages: follow(&best.messages),
                ..best
            },
        };
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
