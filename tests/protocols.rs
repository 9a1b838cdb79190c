//! The four protocols judged by the real checkers, over seeds:
//!
//! - without bugs, under the standard nemesis (random partitions, crashes/restarts, pauses,
//!   then heal and quiet), each history passes its own model's checker and every weaker one;
//! - with its planted bug, each protocol fails its own checker on some seed of a sweep, and
//!   rerunning that seed gives the same trace hash and the same violation;
//! - the CLI finds the stale-read bug and its reproduce line reruns the failing seed exactly;
//! - every protocol, with and without its bug, is deterministic (same seed, same trace hash,
//!   in one process and across two processes);
//! - a failing stale-read seed shrinks to a few faults and still fails on replay.
//!
//! The default run is a few seeds per test. The long sweeps:
//!
//! ```sh
//! # 100 seeds per protocol for the checker and determinism tests (and the full CLI sweep):
//! ACTSIM_SEEDS=100 cargo test --release --test protocols
//! # the same, as the ignored tests:
//! cargo test --release --test protocols -- --ignored
//! # reproduce one seed of a test:
//! ACTSIM_SEED=7 cargo test --test protocols linearizable_passes -- --nocapture
//! ```

use std::process::Command;
use std::time::Duration;

use actsim::cli::common::run_and_evaluate_with;
use actsim::harness::{Report, RunOptions, Runner, SeedOutcome};
use actsim::shrink::{shrink, Repro};
use models::check::Budget;
use models::cluster::{Experiment, Nemesis};
use models::evaluate::{EvalOptions, Evaluation, Model, Verdict};
use models::protocol::Protocol;
use sim_net::FaultKind;

// ---------------------------------------------------------------------------------------------
// Experiments and verdicts.

/// The standard experiment for `protocol`: 5 replicas, 10 clients, 2 s healthy, `faulty` of
/// faults, heal, 3 s quiet, then final reads.
fn experiment(protocol: Protocol, bug: bool, nemesis: Nemesis, faulty: Duration) -> Experiment {
    Experiment {
        protocol,
        bug,
        nemesis,
        faulty,
        quiet: Duration::from_secs(3),
        ..Experiment::default()
    }
}

/// The model `protocol` promises, every weaker one, and eventual consistency (which no other
/// model implies, see `Model::implies`, but every protocol promises convergence after the heal).
fn promised_and_weaker(protocol: Protocol) -> Vec<Model> {
    Model::ALL
        .into_iter()
        .filter(|&m| protocol.model().implies(m) || m == Model::Eventual)
        .collect()
}

/// Checker options: these models, a generous time budget (an `Unknown` fails the test, so the
/// budget must be large enough never to be the reason for one).
fn eval_options(models: Vec<Model>) -> EvalOptions {
    EvalOptions {
        models,
        budget: Budget {
            time: Some(Duration::from_secs(60)),
            steps: None,
        },
        parallelism: 1,
    }
}

/// Everything wrong with an evaluation: a run error, a failed check, or a check that could not
/// decide (`Unknown` is not a pass).
fn problems(ev: &Evaluation) -> Option<String> {
    let mut out = Vec::new();
    if let Some(e) = &ev.error {
        out.push(format!("run error: {e}"));
    }
    for (m, c) in &ev.checks {
        match c {
            Verdict::Valid { .. } => {}
            Verdict::Invalid { counterexample, .. } => {
                out.push(format!("{m}: INVALID: {counterexample}"))
            }
            Verdict::Unknown { reason, .. } => out.push(format!("{m}: UNKNOWN: {reason}")),
        }
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

/// Runs one seed of `exp` and judges it with `eval`.
fn judge(exp: &Experiment, seed: u64, opts: &RunOptions, eval: &EvalOptions) -> SeedOutcome {
    match run_and_evaluate_with(exp, seed, opts, None, eval) {
        Ok((out, ev)) => SeedOutcome {
            seed,
            trace_hash: Some(ev.trace_hash),
            violation: problems(&ev),
            simulated_s: out.final_time.as_secs_f64(),
            events: out.summary.counters.events,
            event_hashes: out.event_hashes,
        },
        Err(e) => SeedOutcome {
            seed,
            violation: Some(e),
            ..Default::default()
        },
    }
}

/// Whether the long sweeps were asked for (`ACTSIM_SEEDS` set).
fn long_run() -> bool {
    std::env::var_os("ACTSIM_SEEDS").is_some()
}

fn print_report(what: &str, r: &Report) {
    eprintln!(
        "{what}: {} seeds in {:.1}s, {} failed, {} events",
        r.seeds_run,
        r.elapsed_s,
        r.failures.len(),
        r.events
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Bug-free protocols pass their own checker and every weaker one under the standard nemesis.

/// How long the fault phase lasts in the checker sweeps.
const FAULTY: Duration = Duration::from_secs(6);

fn bug_free_passes(protocol: Protocol, seeds: u64) -> Report {
    let exp = experiment(protocol, false, Nemesis::standard(), FAULTY);
    let eval = eval_options(promised_and_weaker(protocol));
    let name = format!("{protocol}_passes_its_checkers_under_the_standard_nemesis");
    let report = Runner::new(name.clone())
        .seeds(0..seeds)
        .from_env()
        .reproduce_with(move |seed| {
            format!("ACTSIM_SEED={seed} cargo test --test protocols {name}")
        })
        .run(|seed, opts| judge(&exp, seed, opts, &eval));
    print_report(protocol.name(), &report);
    report
}

#[test]
fn eventual_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes(Protocol::Eventual, 3).assert_ok();
}

#[test]
fn causal_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes(Protocol::Causal, 3).assert_ok();
}

#[test]
fn sequential_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes(Protocol::Sequential, 3).assert_ok();
}

#[test]
fn linearizable_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes(Protocol::Linearizable, 3).assert_ok();
}

/// The 100-seed sweep of every protocol (run in release; see the module docs).
#[test]
#[ignore = "long: 100 seeds per protocol; run with --release -- --ignored"]
fn every_protocol_passes_its_checkers_over_100_seeds() {
    for p in Protocol::ALL {
        let r = bug_free_passes(p, 100);
        assert!(
            r.seeds_run >= 100 || long_run(),
            "{p}: only {} seeds",
            r.seeds_run
        );
        r.assert_ok();
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Planted bugs: found by a sweep, reproduced by their seed.

/// The experiment that exposes each planted bug best.
fn bug_experiment(protocol: Protocol) -> Experiment {
    match protocol {
        // A deposed leader answering reads: the leader must be cut off from the majority for
        // longer than an election while writes go on in the majority — long random
        // partitions (halves / isolation) of the replicas.
        Protocol::Linearizable => experiment(
            protocol,
            true,
            Nemesis::Random {
                kinds: vec![FaultKind::Halves, FaultKind::Isolate],
                interval_ms: 3_000,
                duration_ms: 2_500,
            },
            FAULTY,
        ),
        // Reads before the session's own write is applied: sticky clients on followers that
        // lag; pauses and partitions make them lag.
        Protocol::Sequential => experiment(protocol, true, Nemesis::standard(), FAULTY),
        // A remote write applied before its dependencies: needs pushes lost or overtaken, so
        // loss on every link.
        Protocol::Causal => {
            let mut e = experiment(protocol, true, Nemesis::standard(), FAULTY);
            e.link.loss = 0.05;
            e
        }
        // No repair after loss: lost pushes are never resent, so replicas stay diverged.
        Protocol::Eventual => {
            let mut e = experiment(protocol, true, Nemesis::CapPartition, FAULTY);
            e.link.loss = 0.05;
            e
        }
    }
}

/// Up to how many seeds a bug sweep tries (`ACTSIM_BUG_SEEDS`, default 200).
fn bug_seeds() -> u64 {
    std::env::var("ACTSIM_BUG_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

/// Sweeps seeds until `protocol`'s checker finds its planted bug; then reruns that seed and
/// asserts the same trace hash and the same violation. Returns the seed.
fn planted_bug_is_found_and_reproduced(protocol: Protocol) -> u64 {
    let exp = bug_experiment(protocol);
    let model = protocol.model();
    // Here we look for a definite violation: a seed whose check runs out of budget (Unknown)
    // is not counted as found and the sweep moves on.
    let mut eval = eval_options(vec![model]);
    eval.budget.time = Some(Duration::from_secs(5));
    let unknown = std::cell::Cell::new(0);
    let run = |seed| {
        let (_, ev) = run_and_evaluate_with(&exp, seed, &RunOptions::default(), None, &eval)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        if ev.checks.get(&model).is_some_and(Verdict::is_unknown) {
            unknown.set(unknown.get() + 1);
        }
        (ev.trace_hash, ev.violation(model))
    };
    let max = bug_seeds();
    let found = (0..max).find_map(|seed| {
        let (hash, v) = run(seed);
        v.map(|v| (seed, hash, v))
    });
    let Some((seed, hash, violation)) = found else {
        panic!(
            "{protocol} --bug {}: no violation of {model} in {max} seeds",
            protocol.bug_name()
        )
    };
    eprintln!(
        "{protocol} --bug {}: first failing seed {seed} ({} earlier seeds undecided) (trace hash {hash}): {}",
        protocol.bug_name(),
        unknown.get(),
        violation.lines().next().unwrap_or("")
    );
    let (hash2, violation2) = run(seed);
    assert_eq!(hash2, hash, "seed {seed}: the rerun took another path");
    assert_eq!(
        violation2.as_deref(),
        Some(violation.as_str()),
        "seed {seed}: the rerun found something else"
    );
    seed
}

#[test]
fn planted_stale_read_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced(Protocol::Linearizable);
}

#[test]
fn planted_no_session_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced(Protocol::Sequential);
}

#[test]
fn planted_no_deps_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced(Protocol::Causal);
}

#[test]
fn planted_no_anti_entropy_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced(Protocol::Eventual);
}

// ---------------------------------------------------------------------------------------------
// 3. The CLI: sweep finds the bug, its reproduce line reruns the seed; two processes agree.

fn actsim(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_actsim"))
        .args(args)
        .output()
        .expect("run actsim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "actsim {args:?}: not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn cli_sweep_finds_stale_reads_and_its_reproduce_line_reruns_the_seed() {
    let seeds = if long_run() { "0..300" } else { "0..40" };
    let (code, doc) = actsim(&[
        "sweep",
        "--protocol",
        "linearizable",
        "--bug",
        "stale-read",
        "--seeds",
        seeds,
        "--json",
    ]);
    let failures = doc["failures"].as_array().expect("failures");
    eprintln!(
        "actsim sweep --seeds {seeds}: {} of {} seeds failed",
        failures.len(),
        doc["seeds_run"]
    );
    assert_eq!(code, 1, "a sweep with failures exits 1");
    assert!(!failures.is_empty(), "no stale read in seeds {seeds}");
    let first = &failures[0];
    let reproduce = first["reproduce"].as_str().expect("reproduce line");
    eprintln!("first failure: seed {}: {reproduce}", first["seed"]);
    // `actsim run --protocol linearizable --seed S --bug stale-read --nemesis random`.
    let mut words: Vec<&str> = reproduce.split_whitespace().collect();
    assert_eq!(words.remove(0), "actsim", "{reproduce}");
    words.push("--json");
    let (code, run) = actsim(&words);
    assert_eq!(code, 1, "the reproduce line must fail again");
    assert_eq!(run["seed"], first["seed"]);
    assert_eq!(run["trace_hash"], first["trace_hash"], "{reproduce}");
}

#[test]
fn two_processes_give_the_same_trace_hash() {
    for (protocol, bug) in [("sequential", None), ("linearizable", Some("stale-read"))] {
        let mut args = vec!["run", "--protocol", protocol, "--seed", "5", "--json"];
        args.extend(["--faulty-ms", "4000", "--nemesis", "random"]);
        if let Some(b) = bug {
            args.extend(["--bug", b]);
        }
        let (_, a) = actsim(&args);
        let (_, b) = actsim(&args);
        assert!(a["trace_hash"].is_string(), "{a}");
        assert_eq!(
            a["trace_hash"], b["trace_hash"],
            "{protocol}: two processes differ"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Determinism self-check: every protocol, with and without its bug.

fn deterministic(seeds: u64) {
    for protocol in Protocol::ALL {
        for bug in [false, true] {
            let mut exp = experiment(protocol, bug, Nemesis::standard(), FAULTY);
            exp.link.loss = 0.02;
            exp.link.duplicate = 0.02;
            // Only the trace hash matters here: no checker.
            let eval = eval_options(Vec::new());
            let report = Runner::new(format!("deterministic-{protocol}-bug{bug}"))
                .seeds(0..seeds)
                .from_env()
                .check_determinism(true)
                .run(|seed, opts| {
                    let mut o = judge(&exp, seed, opts, &eval);
                    // Keep only nondeterminism (and run errors) as failures.
                    if o.violation
                        .as_deref()
                        .is_some_and(|v| !v.contains("run error"))
                    {
                        o.violation = None;
                    }
                    o
                });
            print_report(&format!("determinism {protocol} bug={bug}"), &report);
            report.assert_ok();
            let hashes: std::collections::BTreeSet<String> = report
                .outcomes
                .iter()
                .map(|o| o.trace_hash.map(|h| h.to_string()).unwrap_or_default())
                .collect();
            assert_eq!(
                hashes.len(),
                report.outcomes.len(),
                "{protocol}: different seeds gave the same trace"
            );
        }
    }
}

#[test]
fn every_protocol_is_deterministic_with_and_without_its_bug() {
    deterministic(2);
}

#[test]
#[ignore = "long: 100 seeds x 4 protocols x 2, each run twice; run with --release -- --ignored"]
fn every_protocol_is_deterministic_over_100_seeds() {
    deterministic(100);
}

// ---------------------------------------------------------------------------------------------
// 5. Shrinking a stale read.

#[test]
fn a_stale_read_shrinks_to_a_few_faults_and_still_fails_on_replay() {
    let exp = bug_experiment(Protocol::Linearizable);
    let model = Model::Linearizable;
    let eval = eval_options(vec![model]);
    let fails = |e: &Experiment, seed: u64| {
        run_and_evaluate_with(e, seed, &RunOptions::default(), None, &eval)
            .ok()
            .and_then(|(_, ev)| ev.violation(model))
    };
    // The first failing seed and its schedule.
    let (seed, out) = (0..bug_seeds())
        .find_map(|seed| {
            let (out, ev) =
                run_and_evaluate_with(&exp, seed, &RunOptions::default(), None, &eval).ok()?;
            ev.violation(model).map(|_| (seed, out))
        })
        .expect("a failing seed");
    let before = out.schedule.len();
    let s = shrink(&exp, seed, out.schedule, fails).expect("fails with its schedule explicit");
    eprintln!(
        "seed {seed}: shrunk in {} runs: faults {} -> {}, fault phase {:?} -> {:?}",
        s.runs, s.faults_before, s.faults_after, s.faulty_before, s.faulty_after
    );
    assert_eq!(s.faults_before, before);
    assert!(
        s.faults_after < before,
        "nothing removed from {before} faults"
    );
    assert!(s.faults_after <= 4, "{} faults left", s.faults_after);
    assert!(s.faulty_after <= s.faulty_before);

    // The saved repro, replayed by the CLI, fails (exit 1) with the same trace hash.
    let json = serde_json::to_string_pretty(&s.repro).unwrap();
    let path = std::env::temp_dir().join(format!("actsim-protocols-repro-{}.json", seed));
    std::fs::write(&path, &json).unwrap();
    let repro: Repro = serde_json::from_str(&json).unwrap();
    let direct = judge(&repro.experiment, repro.seed, &RunOptions::default(), &eval);
    assert!(direct.violation.is_some(), "the shrunk run passes");
    let (code, replay) = actsim(&["replay", path.to_str().unwrap(), "--json"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1, "replay of the shrunk run must fail: {replay}");
    assert_eq!(
        replay["trace_hash"].as_str(),
        direct.trace_hash.map(|h| h.to_string()).as_deref()
    );
}
