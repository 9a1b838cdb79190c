//! Running a simulation test over many seeds: in parallel, with a budget, a determinism
//! self-check, traces of failing seeds, and the line that reproduces each failure.
//!
//! ```no_run
//! use actsim::harness::{Runner, SeedOutcome};
//!
//! let report = Runner::new("my_protocol_survives_partitions")
//!     .seeds(0..100)
//!     .from_env() // ACTSIM_SEED, ACTSIM_SEEDS, ACTSIM_JOBS, ACTSIM_CHECK_DETERMINISM, ACTSIM_TRACE
//!     .run(|seed, _opts| {
//!         // build a Sim from `seed`, run it, check the history...
//!         SeedOutcome::pass(seed)
//!     });
//! report.assert_ok();
//! ```
//!
//! Each seed runs on its own thread-local simulation: nothing is shared between seeds, so the
//! result of a seed does not depend on what ran before it or beside it.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sim_core::{Sim, TraceHash};

/// What the runner asks of one seed's run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Write the trace (JSON lines) to this file.
    pub trace: Option<PathBuf>,
    /// Keep every event's hash (for locating a determinism mismatch).
    pub keep_event_hashes: bool,
}

impl RunOptions {
    /// Applies the options to a simulation (call right after creating it).
    pub fn attach<M: sim_core::Payload>(&self, sim: &mut Sim<M>) -> std::io::Result<()> {
        if let Some(path) = &self.trace {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            sim.set_trace_writer(std::io::BufWriter::new(std::fs::File::create(path)?));
        }
        if self.keep_event_hashes {
            sim.keep_event_hashes();
        }
        Ok(())
    }
}

/// What one seed's run reported.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SeedOutcome {
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
}

impl SeedOutcome {
    /// A passing seed with nothing else to report.
    pub fn pass(seed: u64) -> Self {
        SeedOutcome {
            seed,
            ..Default::default()
        }
    }

    /// The outcome of a finished simulation, failing with `violation` if given.
    pub fn from_sim<M: sim_core::Payload>(sim: &Sim<M>, violation: Option<String>) -> Self {
        SeedOutcome {
            seed: sim.seed(),
            trace_hash: Some(sim.trace_hash()),
            violation,
            simulated_s: sim.now().as_secs_f64(),
            events: sim.counters().events,
            event_hashes: sim.event_hashes().map(<[u64]>::to_vec),
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
    /// Where its trace was written, if it was.
    pub trace: Option<PathBuf>,
}

/// The result of a run over many seeds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Seeds run to completion.
    pub seeds_run: usize,
    /// Seeds skipped because the budget ran out.
    pub seeds_skipped: usize,
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
    pub outcomes: Vec<SeedOutcome>,
}

impl Report {
    /// Panics with every failure and its reproduction line if any seed failed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.failures.is_empty() {
            panic!("{self}");
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} seeds run ({} skipped by the budget), {} failed, {:.1} seeds/s, {:.0} simulated s per wall s",
            self.seeds_run,
            self.seeds_skipped,
            self.failures.len(),
            self.seeds_per_s,
            self.simulated_per_wall_s
        )?;
        for fl in &self.failures {
            writeln!(f, "seed {} failed: {}", fl.seed, fl.violation)?;
            if let Some(h) = fl.trace_hash {
                writeln!(f, "  trace hash: {h}")?;
            }
            writeln!(f, "  reproduce:  {}", fl.reproduce)?;
            if let Some(t) = &fl.trace {
                writeln!(f, "  trace:      {}", t.display())?;
            }
        }
        Ok(())
    }
}

/// Progress callback: (seeds done, seeds total, failures so far).
type ProgressFn = dyn Fn(usize, usize, usize) + Sync;

/// Runs a seeded test over many seeds. See the module docs.
pub struct Runner {
    name: String,
    seeds: Vec<u64>,
    jobs: usize,
    budget: Option<Duration>,
    check_determinism: bool,
    trace_dir: Option<PathBuf>,
    reproduce: Box<dyn Fn(u64) -> String + Sync>,
    progress: Option<Box<ProgressFn>>,
}

/// Reads a `u64`-ish environment variable; a set but malformed value is an error, not a default.
fn env_var<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a valid value")),
        Err(_) => Ok(None),
    }
}

/// Parses a seed range `A..B` (B excluded) or a single seed `S`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    if let Some((a, b)) = s.split_once("..") {
        let a: u64 = a
            .trim()
            .parse()
            .map_err(|_| format!("bad seed range start in {s:?}"))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| format!("bad seed range end in {s:?}"))?;
        if b < a {
            return Err(format!("seed range {s:?} is inverted"));
        }
        Ok((a..b).collect())
    } else {
        Ok(vec![s
            .trim()
            .parse()
            .map_err(|_| format!("bad seed {s:?}"))?])
    }
}

impl Runner {
    /// A runner for the test called `name` (used in reproduction lines and trace file names):
    /// seeds `0..10`, one job per core.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let test = name.clone();
        Runner {
            name,
            seeds: (0..10).collect(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            budget: None,
            check_determinism: false,
            trace_dir: None,
            reproduce: Box::new(move |seed| {
                format!("ACTSIM_SEED={seed} cargo test {test} -- --exact")
            }),
            progress: None,
        }
    }

    /// Runs these seeds.
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = seeds.collect();
        self
    }

    /// Runs exactly this list of seeds.
    pub fn seed_list(mut self, seeds: Vec<u64>) -> Self {
        self.seeds = seeds;
        self
    }

    /// Keeps only the `i`-th of `n` slices of the seeds (for spreading a sweep over machines).
    pub fn shard(mut self, i: usize, n: usize) -> Self {
        let n = n.max(1);
        self.seeds = self
            .seeds
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i % n)
            .map(|(_, s)| s)
            .collect();
        self
    }

    /// Number of seeds run in parallel.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
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

    /// How to print the command that reproduces a seed.
    pub fn reproduce_with(mut self, f: impl Fn(u64) -> String + Sync + 'static) -> Self {
        self.reproduce = Box::new(f);
        self
    }

    /// Called after each seed with (done, total, failures so far).
    pub fn on_progress(mut self, f: impl Fn(usize, usize, usize) + Sync + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Applies `ACTSIM_SEED` (exactly this seed), `ACTSIM_SEEDS` (how many, from 0, or a
    /// range `A..B`), `ACTSIM_JOBS`, `ACTSIM_CHECK_DETERMINISM=1` and `ACTSIM_TRACE=dir`.
    /// Panics with a clear message if one is set to something unparsable.
    pub fn from_env(self) -> Self {
        match self.try_from_env() {
            Ok(r) => r,
            Err(e) => panic!("actsim: {e}"),
        }
    }

    /// [`Runner::from_env`] that reports a malformed variable as an error.
    pub fn try_from_env(mut self) -> Result<Self, String> {
        if let Ok(s) = std::env::var("ACTSIM_SEEDS") {
            self.seeds = if s.contains("..") {
                parse_seeds(&s)?
            } else {
                (0..env_var::<u64>("ACTSIM_SEEDS")?.unwrap_or(0)).collect()
            };
        }
        if let Some(seed) = env_var::<u64>("ACTSIM_SEED")? {
            self.seeds = vec![seed];
        }
        if let Some(j) = env_var::<usize>("ACTSIM_JOBS")? {
            self.jobs = j.max(1);
        }
        if let Ok(v) = std::env::var("ACTSIM_CHECK_DETERMINISM") {
            self.check_determinism = matches!(v.trim(), "1" | "true" | "yes");
        }
        if let Ok(dir) = std::env::var("ACTSIM_TRACE") {
            self.trace_dir = Some(dir.into());
        }
        Ok(self)
    }

    /// Runs `test(seed, options)` for every seed and collects the report. A panic inside `test`
    /// fails that seed (with the panic message) and the sweep goes on.
    pub fn run<F>(&self, test: F) -> Report
    where
        F: Fn(u64, &RunOptions) -> SeedOutcome + Sync,
    {
        let start = Instant::now();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let out_of_budget = AtomicBool::new(false);
        let results: Mutex<Vec<(SeedOutcome, Option<PathBuf>)>> = Mutex::new(Vec::new());
        let total = self.seeds.len();
        let worker = || loop {
            if let Some(b) = self.budget {
                if start.elapsed() >= b {
                    out_of_budget.store(true, Ordering::Relaxed);
                    return;
                }
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&seed) = self.seeds.get(i) else {
                return;
            };
            let (outcome, trace) = self.run_one(&test, seed);
            if outcome.violation.is_some() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut r) = results.lock() {
                r.push((outcome, trace));
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = &self.progress {
                p(d, total, failed.load(Ordering::Relaxed));
            }
        };
        std::thread::scope(|s| {
            for _ in 0..self.jobs.min(total.max(1)) {
                s.spawn(worker);
            }
        });
        let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        results.sort_by_key(|(o, _)| o.seed);
        let elapsed = start.elapsed().as_secs_f64().max(1e-9);
        let simulated: f64 = results.iter().map(|(o, _)| o.simulated_s).sum();
        let failures = results
            .iter()
            .filter_map(|(o, trace)| {
                o.violation.as_ref().map(|v| Failure {
                    seed: o.seed,
                    trace_hash: o.trace_hash,
                    violation: v.clone(),
                    reproduce: (self.reproduce)(o.seed),
                    trace: trace.clone(),
                })
            })
            .collect();
        let seeds_run = results.len();
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
            events: results.iter().map(|(o, _)| o.events).sum(),
            outcomes: results.into_iter().map(|(o, _)| o).collect(),
        }
    }

    fn run_one<F>(&self, test: &F, seed: u64) -> (SeedOutcome, Option<PathBuf>)
    where
        F: Fn(u64, &RunOptions) -> SeedOutcome + Sync,
    {
        let mut outcome = guarded(test, seed, &RunOptions::default());
        if self.check_determinism && outcome.violation.is_none() {
            let again = guarded(test, seed, &RunOptions::default());
            if again.trace_hash != outcome.trace_hash {
                outcome.violation = Some(self.explain_divergence(test, seed, &outcome, &again));
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

    fn explain_divergence<F>(&self, test: &F, seed: u64, a: &SeedOutcome, b: &SeedOutcome) -> String
    where
        F: Fn(u64, &RunOptions) -> SeedOutcome + Sync,
    {
        let opts = RunOptions {
            trace: None,
            keep_event_hashes: true,
        };
        let (x, y) = (guarded(test, seed, &opts), guarded(test, seed, &opts));
        let first = match (&x.event_hashes, &y.event_hashes) {
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
        match first {
            Some(i) => format!(
                "nondeterminism: two runs of seed {seed} gave trace hashes {} and {}; they first diverge at event #{i} (write both traces with ACTSIM_TRACE and compare line {})",
                fmt_hash(a.trace_hash),
                fmt_hash(b.trace_hash),
                i + 1
            ),
            None => format!(
                "nondeterminism: two runs of seed {seed} gave trace hashes {} and {}",
                fmt_hash(a.trace_hash),
                fmt_hash(b.trace_hash)
            ),
        }
    }
}

/// Runs one seed, turning a panic of the test itself into a violation.
fn guarded<F>(test: &F, seed: u64, opts: &RunOptions) -> SeedOutcome
where
    F: Fn(u64, &RunOptions) -> SeedOutcome + Sync,
{
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(seed, opts))) {
        Ok(o) => o,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            SeedOutcome {
                seed,
                violation: Some(format!("panicked: {msg}")),
                ..Default::default()
            }
        }
    }
}
