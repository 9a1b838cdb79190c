//! An experiment over many seeds: [`Experiment::sweep`].
//!
//! ```no_run
//! use models::experiment::{Experiment, Nemesis};
//! use models::runner::Runner;
//! use models::sequential::Sequential;
//!
//! Experiment::new(Sequential::default())
//!     .replicas(3)
//!     .clients(6)
//!     .nemesis(Nemesis::standard())
//!     .sweep(Runner::new("sequential_survives_faults").seeds(0..20).from_env())
//!     .assert_ok(); // each failure: seed, reproduce line, shrink command
//! ```
//!
//! Environment (through [`Runner::from_env`]): `ACTSIM_SEED=N` runs one seed,
//! `ACTSIM_SHRINK=1` also shrinks the first failing seed and writes its replay file,
//! `ACTSIM_REPLAY=file` runs a replay file instead of seeds, `ACTSIM_TRACE=dir` writes the
//! traces of failing seeds.

use std::path::{Path, PathBuf};

use crate::evaluate::Evaluation;
use crate::experiment::Experiment;
use crate::explore::Explore;
use crate::protocol::Protocol;
use crate::runner::{Failure, Report, Runner, SeedOutcome, Seeds};
use crate::shrink::Repro;
use crate::strategy::Strategy;

impl<P: Protocol> Experiment<P> {
    /// Runs and checks every seed of `runner`. A seed fails when the run ends in an error (an
    /// actor panic) or violates a checked model the protocol promises. Each failure comes with
    /// its reproduce line and its shrink command (`ACTSIM_SHRINK=1` before the reproduce line
    /// unless the runner sets its own). With `ACTSIM_SHRINK=1` the first failure is shrunk and
    /// its replay file written (into the trace directory, or `target/actsim`); with
    /// `ACTSIM_REPLAY=file` the file's seed and setup run instead of the seeds.
    pub fn sweep(&self, runner: Runner) -> Report<Evaluation> {
        let (exp, runner) = match runner.replay_file().cloned() {
            None => (self.clone(), runner),
            Some(file) => match Repro::read(&file) {
                Ok(repro) => {
                    eprintln!(
                        "actsim: replaying {} (seed {}){}",
                        file.display(),
                        repro.seed,
                        if repro.protocol != self.protocol.name() {
                            format!(
                                " — written for protocol {:?}, run on {:?}",
                                repro.protocol,
                                self.protocol.name()
                            )
                        } else {
                            String::new()
                        }
                    );
                    let seed = repro.seed;
                    (
                        self.clone().setup(repro.setup),
                        runner.seed_set(Seeds::list(vec![seed])),
                    )
                }
                Err(e) => panic!("actsim: ACTSIM_REPLAY: {e}"),
            },
        };
        let exp = match (runner.replay_file(), runner.strategy_asked()) {
            // A replay file's setup is already its seed's: no strategy redraws it.
            (Some(_), _) => Experiment {
                strategy: None,
                ..exp
            },
            (None, Some(st)) => exp.strategy(st),
            (None, None) => exp,
        };
        if exp.strategy == Some(Strategy::Coverage) {
            return exp.sweep_explore(&runner);
        }
        let promised = exp.protocol.model();
        let mut report = runner.run(|seed, opts| {
            let outcome = match exp.simulate_with(seed, |sim| {
                if let Err(e) = opts.attach(sim) {
                    eprintln!("actsim: cannot write the trace of seed {seed}: {e}");
                }
            }) {
                Ok(o) => o,
                Err(e) => {
                    return SeedOutcome {
                        seed,
                        violation: Some(format!("experiment error: {e}")),
                        ..SeedOutcome::default()
                    }
                }
            };
            let evaluation = exp.evaluate(&outcome);
            if let Some(trace) = &opts.trace {
                // A failing seed rerun for its trace gets its HTML report beside it.
                let html = report_path(trace);
                let reproduce = runner.reproduce_line(seed);
                let shrink = format!("ACTSIM_SHRINK=1 {reproduce}");
                if let Err(e) =
                    write_report(&html, &exp, &outcome, &evaluation, trace, reproduce, shrink)
                {
                    eprintln!("actsim: cannot write the report {}: {e}", html.display());
                }
            }
            SeedOutcome {
                seed,
                trace_hash: Some(outcome.summary.trace_hash),
                violation: evaluation.violation_of(promised),
                simulated_s: outcome.summary.end_time.as_secs_f64(),
                events: outcome.summary.counters.events,
                event_hashes: outcome.event_hashes,
                value: evaluation,
            }
        });
        for f in &mut report.failures {
            f.shrink
                .get_or_insert_with(|| format!("ACTSIM_SHRINK=1 {}", f.reproduce));
        }
        if runner.shrinks() {
            if let Some(first) = report.failures.first().map(|f| f.seed) {
                exp.shrink_and_save(&runner, first);
            }
        }
        report
    }

    /// The coverage-guided sweep: the runner's seeds are the search's fresh seeds and its
    /// budget of runs. Each failing run is written as a replay file (into the trace directory,
    /// or `target/actsim`), and its reproduce line replays that file.
    fn sweep_explore(&self, runner: &Runner) -> Report<Evaluation> {
        let seeds = runner.seed_list();
        let search = Explore {
            start: seeds.get(0).unwrap_or(0),
            runs: seeds.len(),
            stop_at_first: false,
            jobs: runner.job_count(),
        };
        let mut report = Report::default();
        let found = match self.explore(&search) {
            Ok(x) => x,
            Err(e) => {
                report.failures.push(Failure {
                    seed: search.start,
                    trace_hash: None,
                    violation: format!("experiment error: {e}"),
                    reproduce: runner.reproduce_line(search.start),
                    shrink: None,
                    trace: None,
                });
                return report;
            }
        };
        let dir = save_dir(runner);
        let name = runner.name().replace(['/', ':', ' '], "_");
        for f in &found.failures {
            let stem = format!("{name}-coverage{}-run{}", search.start, f.run);
            let path = dir.join(format!("{stem}.repro.json"));
            let mut trace = None;
            if let Err(e) = f.repro.write(&path) {
                eprintln!("actsim: cannot write the replay file: {e}");
            }
            let reproduce = format!(
                "ACTSIM_REPLAY={} {}",
                path.display(),
                runner.reproduce_line(f.repro.seed)
            );
            if let Some(tdir) = runner.trace_dir_path() {
                let t = tdir.join(format!("{stem}.trace.jsonl"));
                match self.trace_replay(&f.repro, &t, &reproduce) {
                    Ok(()) => trace = Some(t),
                    Err(e) => eprintln!("actsim: cannot write the trace of run {}: {e}", f.run),
                }
            }
            report.failures.push(Failure {
                seed: f.repro.seed,
                trace_hash: None,
                violation: format!("{} (run {} of the search: {})", f.violation, f.run, f.how),
                shrink: Some(format!("ACTSIM_SHRINK=1 {reproduce}")),
                reproduce,
                trace,
            });
        }
        report.seeds_run = found.runs;
        report.elapsed_s = found.elapsed_s.max(1e-9);
        report.seeds_per_s = found.runs as f64 / report.elapsed_s;
        report.simulated_per_wall_s = found.simulated_s / report.elapsed_s;
        report
    }

    /// Reruns a replay file with its trace written to `trace` and its HTML report beside it.
    fn trace_replay(&self, repro: &Repro, trace: &Path, reproduce: &str) -> Result<(), String> {
        let exp = Experiment {
            strategy: None,
            ..self.clone().setup(repro.setup.clone())
        };
        if let Some(d) = trace.parent() {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        let file = std::fs::File::create(trace).map_err(|e| format!("{}: {e}", trace.display()))?;
        let outcome = exp
            .simulate(repro.seed, Some(Box::new(std::io::BufWriter::new(file))))
            .map_err(|e| e.to_string())?;
        let evaluation = exp.evaluate(&outcome);
        let shrink = format!("ACTSIM_SHRINK=1 {reproduce}");
        write_report(
            &report_path(trace),
            &exp,
            &outcome,
            &evaluation,
            trace,
            reproduce.to_string(),
            shrink,
        )
    }

    fn shrink_and_save(&self, runner: &Runner, seed: u64) {
        let dir = save_dir(runner);
        let path = dir.join(format!(
            "{}-seed{seed}.repro.json",
            runner.name().replace(['/', ':', ' '], "_")
        ));
        match self.shrink(seed) {
            Ok(Some(s)) => {
                let written = s.repro.write(&path);
                eprintln!("actsim: shrunk seed {seed}:\n{}", s.story());
                match written {
                    Ok(()) => eprintln!(
                        "actsim: replay it with ACTSIM_REPLAY={} {}",
                        path.display(),
                        runner.reproduce_line(seed)
                    ),
                    Err(e) => eprintln!("actsim: cannot write the replay file: {e}"),
                }
            }
            Ok(None) => eprintln!("actsim: seed {seed} did not fail again: nothing to shrink"),
            Err(e) => eprintln!("actsim: cannot shrink seed {seed}: {e}"),
        }
    }
}

/// Where replay files go: the trace directory, or `target/actsim`.
fn save_dir(runner: &Runner) -> PathBuf {
    runner.trace_dir_path().cloned().unwrap_or_else(|| {
        PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
            .join("actsim")
    })
}

/// `dir/name-seedN.trace.jsonl` -> `dir/name-seedN.report.html`.
fn report_path(trace: &Path) -> PathBuf {
    let name = trace
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let stem = name.strip_suffix(".trace.jsonl").unwrap_or(&name);
    trace.with_file_name(format!("{stem}.report.html"))
}

fn write_report<P: Protocol>(
    html: &Path,
    exp: &Experiment<P>,
    outcome: &crate::experiment::Outcome,
    evaluation: &Evaluation,
    trace: &Path,
    reproduce: String,
    shrink: String,
) -> Result<(), String> {
    let file = std::fs::File::open(trace).map_err(|e| format!("{}: {e}", trace.display()))?;
    let parsed = crate::report::parse_trace(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: {e}", trace.display()))?;
    let mut r = crate::report::run_report(
        &reproduce,
        exp.protocol.name(),
        outcome,
        evaluation,
        Some(parsed),
    );
    r.reproduce = Some(reproduce);
    if evaluation.violation_of(exp.protocol.model()).is_some() {
        r.shrink = Some(shrink);
    }
    if exp.setup.nemesis != crate::experiment::Nemesis::CapPartition {
        r.sides.clear();
    }
    let out = std::fs::File::create(html).map_err(|e| format!("{}: {e}", html.display()))?;
    r.write_html(std::io::BufWriter::new(out))
        .map_err(|e| e.to_string())
}
