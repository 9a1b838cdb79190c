//! Running a seeded test over many seeds: in parallel, with a budget, a determinism
//! self-check, traces of failing seeds, and the line that reproduces each failure.
//!
//! ```
//! use models::runner::{Runner, SeedOutcome};
//!
//! let report = Runner::new("my_protocol_survives_partitions")
//!     .seeds(0..20)
//!     .from_env() // ACTSIM_SEED, ACTSIM_SEEDS, ACTSIM_JOBS, ACTSIM_CHECK_DETERMINISM, ACTSIM_TRACE
//!     .run(|seed, _opts| {
//!         // build a Sim from `seed`, run it, check the history...
//!         SeedOutcome::pass(seed).with(seed * 2)
//!     });
//! report.assert_ok();
//! assert!(report.outcomes.iter().all(|o| o.value == o.seed * 2));
//! ```
//!
//! Seeds are a lazy range: `0..u64::MAX` allocates nothing (stop it with a budget), and a
//! shard filters positions arithmetically. Each seed runs on its own thread-local simulation:
//! nothing is shared between seeds, so the result of a seed does not depend on what ran before
//! it or beside it.

// The runner runs outside any simulation: it reads the wall clock for its budget and runs seeds
// on threads. The determinism rules of clippy.toml are for simulated code.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sim_core::{Payload, Sim, TraceHash};

/// What the runner asks of one seed's run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Write the trace (JSON lines) to this file.
    pub trace: Option<PathBuf>,
    /// Keep every event's hash (for locating a determinism mismatch).
    pub keep_event_hashes: bool,
}

impl RunOptions {
    /// Applies the options to a simulation (call right after creating it). A trace file that
    /// cannot be created is reported in the returned error and the run goes on untraced.
    pub fn attach<M: Payload>(&self, sim: &mut Sim<M>) -> std::io::Result<()> {
        if self.keep_event_hashes {
            sim.keep_event_hashes();
        }
        if let Some(path) = &self.trace {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            sim.set_trace_writer(std::io::BufWriter::new(std::fs::File::create(path)?));
        }
        Ok(())
    }
}

/// What one seed's run reported, with the test's own result `value`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SeedOutcome<T = ()> {
    /// The seed.
    pub seed: u64,
    /// Its trace hash (None if the test does not report one).
    pub trace_hash: Option<TraceHash>,
    /// The violation found, if any (checker counterexample, invariant, panic).
    pub violation: Option<String>,
    /// Simulated time covered, in seconds.
    pub simulated_s: f64,
    /// Events executed.
    pub events: u64,
    /// Per-event hashes, when asked for.
    #[serde(skip)]
    pub event_hashes: Option<Vec<u64>>,
    /// What the test returned for this seed (`()` if nothing).
    pub value: T,
}

impl SeedOutcome<()> {
    /// A passing seed with nothing else to report.
    pub fn pass(seed: u64) -> Self {
        SeedOutcome {
            seed,
            ..Default::default()
        }
    }

    /// The outcome of a finished simulation, failing with `violation` if given.
    pub fn from_sim<M: Payload>(sim: &Sim<M>, violation: Option<String>) -> Self {
        SeedOutcome {
            seed: sim.seed(),
            trace_hash: Some(sim.trace_hash()),
            violation,
            simulated_s: sim.now().as_secs_f64(),
            events: sim.counters().events,
            event_hashes: sim.event_hashes().map(<[u64]>::to_vec),
            value: (),
        }
    }
}

impl<T> SeedOutcome<T> {
    /// The same outcome carrying `value`.
    pub fn with<U>(self, value: U) -> SeedOutcome<U> {
        SeedOutcome {
            seed: self.seed,
            trace_hash: self.trace_hash,
            violation: self.violation,
            simulated_s: self.simulated_s,
            events: self.events,
            event_hashes: self.event_hashes,
            value,
        }
    }
}

/// A failing seed, with how to reproduce it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// Its trace hash.
    pub trace_hash: Option<TraceHash>,
    /// What went wrong.
    pub violation: String,
    /// The command line that reruns exactly this seed.
    pub reproduce: String,
    /// The command line that shrinks this seed's failure, if the test can be shrunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink: Option<String>,
    /// Where its trace was written, if it was.
    pub trace: Option<PathBuf>,
}

/// The result of a run over many seeds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report<T = ()> {
    /// Seeds run to completion.
    pub seeds_run: u64,
    /// Seeds skipped because the budget ran out.
    pub seeds_skipped: u64,
    /// Failing seeds, in seed order.
    pub failures: Vec<Failure>,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
    /// Seeds per wall-clock second.
    pub seeds_per_s: f64,
    /// Simulated seconds per wall-clock second (all jobs together).
    pub simulated_per_wall_s: f64,
    /// Events executed in all seeds.
    pub events: u64,
    /// Every seed's outcome, in seed order.
    pub outcomes: Vec<SeedOutcome<T>>,
}

impl<T> Report<T> {
    /// Panics with every failure and its reproduction line if any seed failed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.failures.is_empty() {
            panic!("{self}");
        }
    }

    /// True when no seed failed.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How many failures [`Report`]'s `Display` lists in full before folding the rest.
pub const LISTED_FAILURES: usize = 10;

impl<T> fmt::Display for Report<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for fl in self.failures.iter().take(LISTED_FAILURES) {
            let lines: Vec<&str> = fl.violation.lines().collect();
            writeln!(
                f,
                "seed {} failed: {}",
                fl.seed,
                lines.first().unwrap_or(&"")
            )?;
            // Long counterexamples end with what matters (the operation that cannot be
            // placed): keep the end.
            let rest = &lines[1.min(lines.len())..];
            let skip = rest.len().saturating_sub(14);
            if skip > 0 {
                writeln!(f, "    ... {skip} lines")?;
            }
            for line in &rest[skip..] {
                writeln!(f, "    {line}")?;
            }
            if let Some(h) = fl.trace_hash {
                writeln!(f, "  trace hash: {h}")?;
            }
            writeln!(f, "  reproduce:  {}", fl.reproduce)?;
            if let Some(s) = &fl.shrink {
                writeln!(f, "  shrink:     {s}")?;
            }
            if let Some(t) = &fl.trace {
                writeln!(f, "  trace:      {}", t.display())?;
            }
        }
        if self.failures.len() > LISTED_FAILURES {
            let rest: Vec<String> = self.failures[LISTED_FAILURES..]
                .iter()
                .take(40)
                .map(|fl| fl.seed.to_string())
                .collect();
            let more = self.failures.len() - LISTED_FAILURES - rest.len();
            writeln!(
                f,
                "... and {} more failing seeds: {}{}",
                self.failures.len() - LISTED_FAILURES,
                rest.join(" "),
                if more > 0 {
                    format!(" (+{more})")
                } else {
                    String::new()
                }
            )?;
        }
        write!(
            f,
            "{} seeds run{}, {} failed ({:.1} seeds/s, {:.0} simulated s per wall s)",
            self.seeds_run,
            if self.seeds_skipped > 0 {
                format!(" ({} skipped by the budget)", self.seeds_skipped)
            } else {
                String::new()
            },
            self.failures.len(),
            self.seeds_per_s,
            self.simulated_per_wall_s
        )?;
        if let Some(first) = self.failures.first() {
            write!(
                f,
                "\nfirst failing seed: {}\n  reproduce: {}",
                first.seed, first.reproduce
            )?;
            if let Some(s) = &first.shrink {
                write!(f, "\n  shrink:    {s}")?;
            }
        }
        Ok(())
    }
}

/// A set of seeds: a lazy range or an explicit list, optionally one shard of it.
///
/// ```
/// use models::runner::Seeds;
/// let all = Seeds::range(0..u64::MAX); // allocates nothing
/// assert_eq!(all.len(), u64::MAX);
/// let shard = Seeds::range(0..10).shard(1, 3).unwrap();
/// assert_eq!(shard.iter().collect::<Vec<_>>(), [1, 4, 7]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeds {
    set: SeedSet,
    shard: u64,
    shards: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SeedSet {
    Range(Range<u64>),
    List(Vec<u64>),
}

/// A seed specification that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeedsError {
    /// Not a seed or a range `A..B`.
    #[error("{field}: {value:?} is not a seed or a range A..B of seeds ({reason})")]
    Malformed {
        /// Where it came from (a flag or a variable).
        field: String,
        /// The text given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A shard out of range.
    #[error(
        "shard {index} of {count}: the index must be below the count, and the count at least 1"
    )]
    Shard {
        /// The shard asked for.
        index: u64,
        /// The number of shards.
        count: u64,
    },
}

impl Seeds {
    /// Seeds `range` (end excluded).
    pub fn range(range: Range<u64>) -> Self {
        Seeds {
            set: SeedSet::Range(range),
            shard: 0,
            shards: 1,
        }
    }

    /// Exactly these seeds, in this order.
    pub fn list(seeds: Vec<u64>) -> Self {
        Seeds {
            set: SeedSet::List(seeds),
            shard: 0,
            shards: 1,
        }
    }

    /// Parses `A..B` (B excluded), `N` (one seed) or, with `count`, `N` as the first N seeds;
    /// `field` names the flag or variable in errors.
    pub fn parse(field: &str, s: &str, count: bool) -> Result<Self, SeedsError> {
        let bad = |reason: &str| SeedsError::Malformed {
            field: field.to_string(),
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let num = |t: &str, what: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| bad(&format!("{what} is not a number from 0 to {}", u64::MAX)))
        };
        if let Some((a, b)) = s.split_once("..") {
            let (a, b) = (num(a, "the start")?, num(b, "the end")?);
            if b < a {
                return Err(bad("the end is below the start"));
            }
            Ok(Seeds::range(a..b))
        } else if count {
            Ok(Seeds::range(0..num(s, "the count")?))
        } else {
            Ok(Seeds::list(vec![num(s, "the seed")?]))
        }
    }

    /// Keeps only positions `index`, `index + count`, ... of these seeds (for spreading a
    /// sweep over machines).
    pub fn shard(mut self, index: u64, count: u64) -> Result<Self, SeedsError> {
        if count == 0 || index >= count {
            return Err(SeedsError::Shard { index, count });
        }
        // Shards compose: shard i of n of a shard j of m is positions j + m*(i + n*k).
        self.shard += self.shards.saturating_mul(index);
        self.shards = self.shards.saturating_mul(count);
        Ok(self)
    }

    fn base_len(&self) -> u64 {
        match &self.set {
            SeedSet::Range(r) => r.end - r.start,
            SeedSet::List(l) => l.len() as u64,
        }
    }

    /// How many seeds.
    pub fn len(&self) -> u64 {
        let n = self.base_len();
        if self.shard >= n {
            0
        } else {
            (n - self.shard - 1) / self.shards + 1
        }
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th seed.
    pub fn get(&self, k: u64) -> Option<u64> {
        if k >= self.len() {
            return None;
        }
        let pos = self.shard + k * self.shards; // < base_len: no overflow
        match &self.set {
            SeedSet::Range(r) => Some(r.start + pos),
            SeedSet::List(l) => l.get(usize::try_from(pos).ok()?).copied(),
        }
    }

    /// The seeds in order, lazily.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map_while(|k| self.get(k))
    }
}

impl fmt::Display for Seeds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.set {
            SeedSet::Range(r) => write!(f, "{}..{}", r.start, r.end)?,
            SeedSet::List(l) if l.len() == 1 => write!(f, "{}", l[0])?,
            SeedSet::List(l) => write!(f, "{} listed seeds", l.len())?,
        }
        if self.shards > 1 {
            write!(f, " (shard {} of {})", self.shard, self.shards)?;
        }
        Ok(())
    }
}

/// Progress callback: (seeds done, seeds total, failures so far).
type ProgressFn = dyn Fn(u64, u64, u64) + Sync;

/// Reads an environment variable; a set but malformed value is an error, not a default.
fn env_var<T: std::str::FromStr>(name: &str) -> Result<Option<T>, SeedsError> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| SeedsError::Malformed {
                field: name.into(),
                value: v.clone(),
                reason: "not a valid number".into(),
            }),
        Err(_) => Ok(None),
    }
}

/// Runs a seeded test over many seeds. See the module docs.
pub struct Runner {
    name: String,
    seeds: Seeds,
    jobs: usize,
    jobs_set: bool,
    budget: Option<Duration>,
    check_determinism: bool,
    trace_dir: Option<PathBuf>,
    shrink: bool,
    replay: Option<PathBuf>,
    strategy: Option<crate::strategy::Strategy>,
    reproduce: Box<dyn Fn(u64) -> String + Sync>,
    shrink_line: Option<Box<dyn Fn(u64) -> String + Sync>>,
    progress: Option<Box<ProgressFn>>,
}

impl Runner {
    /// A runner for the test called `name` (used in reproduce lines and trace file names):
    /// seeds `0..10`, one job per core. Failures reproduce with
    /// `ACTSIM_SEED=<seed> cargo test <name> -- --exact`.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let test = name.clone();
        Runner {
            name,
            seeds: Seeds::range(0..10),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            jobs_set: false,
            budget: None,
            check_determinism: false,
            trace_dir: None,
            shrink: false,
            replay: None,
            strategy: None,
            reproduce: Box::new(move |seed| {
                format!("ACTSIM_SEED={seed} cargo test {test} -- --exact")
            }),
            shrink_line: None,
            progress: None,
        }
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs these seeds (a lazy range: `0..u64::MAX` is fine with a budget).
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = Seeds::range(seeds);
        self
    }

    /// Runs exactly these seeds.
    pub fn seed_set(mut self, seeds: Seeds) -> Self {
        self.seeds = seeds;
        self
    }

    /// The seeds this runner runs.
    pub fn seed_list(&self) -> &Seeds {
        &self.seeds
    }

    /// Number of seeds run in parallel.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self.jobs_set = true;
        self
    }

    /// The number of parallel jobs, if set other than by default (`jobs`, `ACTSIM_JOBS`).
    pub fn job_count(&self) -> Option<usize> {
        self.jobs_set.then_some(self.jobs)
    }

    /// True if every seed runs twice to compare trace hashes.
    pub fn checks_determinism(&self) -> bool {
        self.check_determinism
    }

    /// Stops starting new seeds after this much wall-clock time.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Runs every seed twice and fails the seed if the trace hashes differ.
    pub fn check_determinism(mut self, on: bool) -> Self {
        self.check_determinism = on;
        self
    }

    /// Writes the trace of every failing seed into this directory (the seed is rerun).
    pub fn trace_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.trace_dir = Some(dir.into());
        self
    }

    /// Where failing seeds' traces (and shrunk replay files) go, if anywhere.
    pub fn trace_dir_path(&self) -> Option<&PathBuf> {
        self.trace_dir.as_ref()
    }

    /// Asks an experiment's sweep to shrink its first failure (`ACTSIM_SHRINK=1`).
    pub fn shrink(mut self, on: bool) -> Self {
        self.shrink = on;
        self
    }

    /// True if the sweep should shrink its first failure.
    pub fn shrinks(&self) -> bool {
        self.shrink
    }

    /// Asks an experiment's sweep to run this replay file instead of seeds (`ACTSIM_REPLAY`).
    pub fn replay(mut self, file: impl Into<PathBuf>) -> Self {
        self.replay = Some(file.into());
        self
    }

    /// Asks an experiment's sweep to explore with this strategy (`ACTSIM_STRATEGY`).
    pub fn strategy(mut self, s: crate::strategy::Strategy) -> Self {
        self.strategy = Some(s);
        self
    }

    /// The strategy asked for, if any.
    pub fn strategy_asked(&self) -> Option<crate::strategy::Strategy> {
        self.strategy
    }

    /// The replay file to run instead of seeds, if any.
    pub fn replay_file(&self) -> Option<&PathBuf> {
        self.replay.as_ref()
    }

    /// How to print the command that reproduces a seed.
    pub fn reproduce_with(mut self, f: impl Fn(u64) -> String + Sync + 'static) -> Self {
        self.reproduce = Box::new(f);
        self
    }

    /// The command that reproduces `seed`.
    pub fn reproduce_line(&self, seed: u64) -> String {
        (self.reproduce)(seed)
    }

    /// How to print the command that shrinks a failing seed (experiments' sweeps set it to
    /// `ACTSIM_SHRINK=1` + the reproduce line unless it is set).
    pub fn shrink_with(mut self, f: impl Fn(u64) -> String + Sync + 'static) -> Self {
        self.shrink_line = Some(Box::new(f));
        self
    }

    /// True if a shrink line is set.
    pub fn has_shrink_line(&self) -> bool {
        self.shrink_line.is_some()
    }

    /// Called after each seed with (done, total, failures so far).
    pub fn on_progress(mut self, f: impl Fn(u64, u64, u64) + Sync + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Applies `ACTSIM_SEED` (exactly this seed), `ACTSIM_SEEDS` (how many, from 0, or a
    /// range `A..B`), `ACTSIM_JOBS`, `ACTSIM_CHECK_DETERMINISM=1`, `ACTSIM_TRACE=dir`,
    /// `ACTSIM_SHRINK=1`, `ACTSIM_REPLAY=file` and `ACTSIM_STRATEGY=name`. Panics with a clear message if one is set
    /// to something unparsable.
    pub fn from_env(self) -> Self {
        match self.try_from_env() {
            Ok(r) => r,
            Err(e) => panic!("actsim: {e}"),
        }
    }

    /// [`Runner::from_env`] that reports a malformed variable as an error.
    pub fn try_from_env(mut self) -> Result<Self, SeedsError> {
        if let Ok(s) = std::env::var("ACTSIM_SEEDS") {
            self.seeds = Seeds::parse("ACTSIM_SEEDS", &s, true)?;
        }
        if let Ok(s) = std::env::var("ACTSIM_SEED") {
            self.seeds = Seeds::parse("ACTSIM_SEED", &s, false)?;
        }
        if let Some(j) = env_var::<usize>("ACTSIM_JOBS")? {
            self = self.jobs(j);
        }
        let flag = |name: &str| {
            std::env::var(name)
                .map(|v| matches!(v.trim(), "1" | "true" | "yes"))
                .ok()
        };
        if let Some(on) = flag("ACTSIM_CHECK_DETERMINISM") {
            self.check_determinism = on;
        }
        if let Some(on) = flag("ACTSIM_SHRINK") {
            self.shrink = on;
        }
        if let Ok(dir) = std::env::var("ACTSIM_TRACE") {
            self.trace_dir = Some(dir.into());
        }
        if let Ok(s) = std::env::var("ACTSIM_STRATEGY") {
            self.strategy = Some(s.trim().parse().map_err(
                |e: crate::strategy::UnknownStrategy| SeedsError::Malformed {
                    field: "ACTSIM_STRATEGY".into(),
                    value: s.clone(),
                    reason: e.to_string(),
                },
            )?);
        }
        if let Ok(file) = std::env::var("ACTSIM_REPLAY") {
            self.replay = Some(file.into());
        }
        Ok(self)
    }

    /// Runs `test(seed, options)` for every seed and collects the report. A panic inside `test`
    /// fails that seed (with the panic message) and the sweep goes on.
    pub fn run<T, F>(&self, test: F) -> Report<T>
    where
        T: Send + Default,
        F: Fn(u64, &RunOptions) -> SeedOutcome<T> + Sync,
    {
        let start = Instant::now();
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let failed = AtomicU64::new(0);
        let out_of_budget = AtomicBool::new(false);
        let total = self.seeds.len();
        let worker = || {
            let mut mine = Vec::new();
            loop {
                if let Some(b) = self.budget {
                    if start.elapsed() >= b {
                        out_of_budget.store(true, Ordering::Relaxed);
                        return mine;
                    }
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(seed) = self.seeds.get(k) else {
                    return mine;
                };
                let (outcome, trace) = self.run_one(&test, seed);
                if outcome.violation.is_some() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                mine.push((k, outcome, trace));
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(p) = &self.progress {
                    p(d, total, failed.load(Ordering::Relaxed));
                }
            }
        };
        let jobs = u64::try_from(self.jobs).unwrap_or(1).min(total.max(1));
        let mut results: Vec<(u64, SeedOutcome<T>, Option<PathBuf>)> = if jobs <= 1 {
            worker()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..jobs).map(|_| s.spawn(worker)).collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            })
        };
        results.sort_by_key(|(k, _, _)| *k);
        let elapsed = start.elapsed().as_secs_f64().max(1e-9);
        let simulated: f64 = results.iter().map(|(_, o, _)| o.simulated_s).sum();
        let failures = results
            .iter()
            .filter_map(|(_, o, trace)| {
                o.violation.as_ref().map(|v| Failure {
                    seed: o.seed,
                    trace_hash: o.trace_hash,
                    violation: v.clone(),
                    reproduce: (self.reproduce)(o.seed),
                    shrink: self.shrink_line.as_ref().map(|f| f(o.seed)),
                    trace: trace.clone(),
                })
            })
            .collect();
        let seeds_run = results.len() as u64;
        Report {
            seeds_run,
            seeds_skipped: if out_of_budget.load(Ordering::Relaxed) {
                total - seeds_run
            } else {
                0
            },
            failures,
            elapsed_s: elapsed,
            seeds_per_s: seeds_run as f64 / elapsed,
            simulated_per_wall_s: simulated / elapsed,
            events: results.iter().map(|(_, o, _)| o.events).sum(),
            outcomes: results.into_iter().map(|(_, o, _)| o).collect(),
        }
    }

    fn run_one<T: Default, F>(&self, test: &F, seed: u64) -> (SeedOutcome<T>, Option<PathBuf>)
    where
        F: Fn(u64, &RunOptions) -> SeedOutcome<T> + Sync,
    {
        let mut outcome = guarded(test, seed, &RunOptions::default());
        if self.check_determinism && outcome.violation.is_none() {
            let again = guarded(test, seed, &RunOptions::default());
            if again.violation.is_none() && again.trace_hash != outcome.trace_hash {
                outcome.violation =
                    Some(self.explain_divergence(test, seed, outcome.trace_hash, again.trace_hash));
            }
        }
        let mut trace = None;
        if let (Some(dir), Some(_)) = (&self.trace_dir, &outcome.violation) {
            let path = dir.join(format!(
                "{}-seed{seed}.trace.jsonl",
                self.name.replace(['/', ':', ' '], "_")
            ));
            let opts = RunOptions {
                trace: Some(path.clone()),
                keep_event_hashes: false,
            };
            let _ = guarded(test, seed, &opts);
            trace = Some(path);
        }
        (outcome, trace)
    }

    fn explain_divergence<T: Default, F>(
        &self,
        test: &F,
        seed: u64,
        a: Option<TraceHash>,
        b: Option<TraceHash>,
    ) -> String
    where
        F: Fn(u64, &RunOptions) -> SeedOutcome<T> + Sync,
    {
        let opts = RunOptions {
            trace: None,
            keep_event_hashes: true,
        };
        let hashes = |o: SeedOutcome<T>| o.event_hashes;
        let (x, y) = (
            hashes(guarded(test, seed, &opts)),
            hashes(guarded(test, seed, &opts)),
        );
        let first = match (&x, &y) {
            (Some(x), Some(y)) => {
                x.iter()
                    .zip(y)
                    .position(|(p, q)| p != q)
                    .or(if x.len() != y.len() {
                        Some(x.len().min(y.len()))
                    } else {
                        None
                    })
            }
            _ => None,
        };
        let fmt_hash = |h: Option<TraceHash>| h.map_or("none".to_string(), |h| h.to_string());
        let (a, b) = (fmt_hash(a), fmt_hash(b));
        match first {
            Some(i) => format!(
                "nondeterminism: two runs of seed {seed} gave trace hashes {a} and {b}; they first diverge at event #{i} (write both traces with ACTSIM_TRACE and compare line {})",
                i + 1
            ),
            None => format!("nondeterminism: two runs of seed {seed} gave trace hashes {a} and {b}"),
        }
    }
}

/// Runs one seed, turning a panic of the test itself into a violation.
fn guarded<T: Default, F>(test: &F, seed: u64, opts: &RunOptions) -> SeedOutcome<T>
where
    F: Fn(u64, &RunOptions) -> SeedOutcome<T> + Sync,
{
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(seed, opts))).unwrap_or_else(
        |p| {
            let message = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            SeedOutcome {
                seed,
                violation: Some(format!("panicked: {message}")),
                ..Default::default()
            }
        },
    )
}
