//! The four protocols judged by the real checkers, over seeds:
//!
//! - without bugs, under the standard nemesis (random partitions, crashes/restarts, pauses,
//!   then heal and quiet), each history passes its own model's checker and every weaker one;
//! - with its planted bug, each protocol fails its own checker on some seed of a sweep, and
//!   rerunning that seed gives the same trace hash and the same violation;
//! - the planted bugs named here are the CLI's; the CLI finds the stale-read bug and its
//!   reproduce line reruns the failing seed exactly;
//! - every protocol, with and without its bug, is deterministic (same seed, same trace hash,
//!   in one process and across two processes);
//! - a failing stale-read seed shrinks to a few faults and still fails on replay.
//!
//! Every seeded test runs its seeds through the seed runner, so `ACTSIM_SEED=N` reruns exactly
//! seed N of it. The default run is a few seeds per test. The long sweeps:
//!
//! ```sh
//! # 100 seeds per protocol for the checker and determinism tests (and the full CLI sweep):
//! ACTSIM_SEEDS=100 cargo test --release --test protocols
//! # the same, as the ignored tests:
//! cargo test --release --test protocols -- --ignored
//! # the planted-bug searches stop at the first failing seed, trying up to ACTSIM_BUG_SEEDS
//! # (default 200); reproduce one seed of a test:
//! ACTSIM_SEED=7 cargo test --test protocols linearizable_passes -- --nocapture
//! ```

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use actsim::harness::{Report, RunOptions, Runner, SeedOutcome};
use actsim::shrink::Repro;
use models::causal::Causal;
use models::check::Model;
use models::evaluate::{Evaluation, Verdict};
use models::eventual::Eventual;
use models::experiment::{Experiment, Nemesis};
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::sequential::Sequential;
use sim_core::TraceHash;
use sim_net::FaultKind;

// ---------------------------------------------------------------------------------------------
// The built-in protocols, with their planted bugs.

/// How long the fault phase lasts in the checker sweeps.
const FAULTY: Duration = Duration::from_secs(6);

/// A built-in protocol as these tests use it: its planted bug (named as on the command line)
/// and the experiment that exposes the bug best.
trait Builtin: Protocol + Default {
    /// The planted bug's name (`actsim bugs`).
    const BUG: &'static str;
    /// The protocol with its planted bug on.
    fn buggy() -> Self;
    /// The experiment that exposes the planted bug best.
    fn bug_experiment() -> Experiment<Self>;
}

impl Builtin for Eventual {
    const BUG: &'static str = "no-anti-entropy";
    fn buggy() -> Self {
        Eventual {
            bug: true,
            ..Eventual::default()
        }
    }
    // No repair after loss: lost pushes are never resent, so replicas stay diverged.
    fn bug_experiment() -> Experiment<Self> {
        let mut e = experiment(Self::buggy(), Nemesis::CapPartition, FAULTY);
        e.setup.link.loss = 0.05;
        e
    }
}

impl Builtin for Causal {
    const BUG: &'static str = "no-deps";
    fn buggy() -> Self {
        Causal {
            bug: true,
            ..Causal::default()
        }
    }
    // A remote write applied before its dependencies: needs pushes lost or overtaken, so loss
    // on every link.
    fn bug_experiment() -> Experiment<Self> {
        let mut e = experiment(Self::buggy(), Nemesis::standard(), FAULTY);
        e.setup.link.loss = 0.05;
        e
    }
}

impl Builtin for Sequential {
    const BUG: &'static str = "no-session";
    fn buggy() -> Self {
        Sequential {
            bug: true,
            ..Sequential::default()
        }
    }
    // Reads before the session's own write is applied: sticky clients on followers that lag;
    // pauses and partitions make them lag.
    fn bug_experiment() -> Experiment<Self> {
        experiment(Self::buggy(), Nemesis::standard(), FAULTY)
    }
}

impl Builtin for Linearizable {
    const BUG: &'static str = "stale-read";
    fn buggy() -> Self {
        Linearizable {
            bug: true,
            ..Linearizable::default()
        }
    }
    // A deposed leader answering reads: the leader must be cut off from the majority for longer
    // than an election while writes go on in the majority — random partitions (halves /
    // isolation) of the replicas. Clients reach every replica, so a stale read needs one client
    // to have moved to the new leader and written while another still reads at the old one:
    // frequent partitions (one every 1.5 s) expose it; long ones (2.5 s every 3 s) did not in
    // 200 seeds.
    fn bug_experiment() -> Experiment<Self> {
        experiment(
            Self::buggy(),
            Nemesis::random([FaultKind::Halves, FaultKind::Isolate]),
            FAULTY,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Experiments and verdicts.

/// The standard experiment for `protocol`: 5 replicas, 10 clients, 2 s healthy, `faulty` of
/// faults, heal, 3 s quiet, then final reads.
fn experiment<P: Protocol>(protocol: P, nemesis: Nemesis, faulty: Duration) -> Experiment<P> {
    let e = Experiment::new(protocol).nemesis(nemesis);
    let healthy = e.setup.healthy;
    e.phases(healthy, faulty, Duration::from_secs(3))
}

/// The model `protocol` promises and every weaker one.
fn promised_and_weaker(protocol: &impl Protocol) -> Vec<Model> {
    Model::ALL
        .into_iter()
        .filter(|&m| protocol.model().implies(m) || m == Model::Eventual)
        .collect()
}

/// `exp` checked against these models with a generous time budget (an `Unknown` fails the
/// test, so the budget must be large enough never to be the reason for one).
fn checked<P: Protocol>(exp: Experiment<P>, models: Vec<Model>) -> Experiment<P> {
    exp.checks(models).budget(Duration::from_secs(60))
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

/// Runs one seed of `exp` (with the runner's options) and judges it by [`problems`].
fn judge<P: Protocol>(exp: &Experiment<P>, seed: u64, opts: &RunOptions) -> SeedOutcome {
    let mut attached = Ok(());
    let out = match exp.simulate_with(seed, |sim| attached = opts.attach(sim)) {
        Ok(out) => out,
        Err(e) => {
            return SeedOutcome {
                seed,
                violation: Some(e.to_string()),
                ..Default::default()
            }
        }
    };
    if let Err(e) = attached {
        eprintln!("seed {seed}: cannot write the trace: {e}");
    }
    let ev = exp.evaluate(&out);
    SeedOutcome {
        seed,
        trace_hash: Some(out.summary.trace_hash),
        violation: problems(&ev),
        simulated_s: out.final_time.as_secs_f64(),
        events: out.summary.counters.events,
        event_hashes: out.event_hashes,
        value: (),
    }
}

/// Whether the long sweeps were asked for (`ACTSIM_SEEDS` set).
fn long_run() -> bool {
    std::env::var_os("ACTSIM_SEEDS").is_some()
}

/// A runner for `test` (the exact name of the test function that reproduces its seeds).
fn runner(test: &str, seeds: u64) -> Runner {
    runner_of(test, test, seeds)
}

/// A runner called `name` (in trace file names: unique per runner of a test) whose failures
/// reproduce with the test `test`.
fn runner_of(test: &str, name: &str, seeds: u64) -> Runner {
    let test = test.to_string();
    Runner::new(name)
        .seeds(0..seeds)
        .from_env()
        .reproduce_with(move |seed| {
            format!("ACTSIM_SEED={seed} cargo test --test protocols {test} -- --exact")
        })
}

fn print_report<T>(what: &str, r: &Report<T>) {
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

/// `P` without its bug over `seeds` seeds; failures reproduce with `P`'s own test.
fn bug_free_passes<P: Builtin>(seeds: u64) -> Report {
    let p = P::default();
    let models = promised_and_weaker(&p);
    let exp = checked(experiment(p, Nemesis::standard(), FAULTY), models);
    let name = format!(
        "{}_passes_its_checkers_under_the_standard_nemesis",
        exp.protocol.name()
    );
    let report = runner(&name, seeds).run(|seed, opts| judge(&exp, seed, opts));
    print_report(exp.protocol.name(), &report);
    report
}

#[test]
fn eventual_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes::<Eventual>(3).assert_ok();
}

#[test]
fn causal_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes::<Causal>(3).assert_ok();
}

#[test]
fn sequential_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes::<Sequential>(3).assert_ok();
}

#[test]
fn linearizable_passes_its_checkers_under_the_standard_nemesis() {
    bug_free_passes::<Linearizable>(3).assert_ok();
}

/// The 100-seed sweep of every protocol (run in release; see the module docs).
#[test]
#[ignore = "long: 100 seeds per protocol; run with --release -- --ignored"]
fn every_protocol_passes_its_checkers_over_100_seeds() {
    let reports = [
        ("eventual", bug_free_passes::<Eventual>(100)),
        ("causal", bug_free_passes::<Causal>(100)),
        ("sequential", bug_free_passes::<Sequential>(100)),
        ("linearizable", bug_free_passes::<Linearizable>(100)),
    ];
    for (p, r) in reports {
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

/// Up to how many seeds a bug sweep tries (`ACTSIM_BUG_SEEDS`, default 200).
fn bug_seeds() -> u64 {
    std::env::var("ACTSIM_BUG_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

/// What one seed of a bug search saw.
#[derive(Clone, Debug, Default)]
enum Seen {
    /// Not run: an earlier seed already failed.
    #[default]
    Skipped,
    /// The protocol's model held.
    Held,
    /// Its check ran out of budget.
    Undecided,
    /// Its model was violated: the trace hash and the violation.
    Violated(TraceHash, String),
}

/// The first seed of `0..ACTSIM_BUG_SEEDS` (or exactly `ACTSIM_SEED`) on which `exp` violates
/// its protocol's model, its trace hash and violation, and how many earlier seeds were
/// undecided. Seeds after a failing one are skipped, so the search costs what a loop that
/// stops at the first failure would. Panics if no seed fails.
fn first_failing_seed<P: Protocol>(
    test: &str,
    exp: &Experiment<P>,
) -> (u64, TraceHash, String, usize) {
    let model = exp.protocol.model();
    let mut r = runner(test, bug_seeds());
    if std::env::var_os("ACTSIM_SEED").is_none() {
        // The search's length is ACTSIM_BUG_SEEDS, not ACTSIM_SEEDS.
        r = r.seeds(0..bug_seeds());
    }
    let first = AtomicU64::new(u64::MAX);
    // Seeds that ran: a seed's second run (the determinism self-check, a trace) is never
    // skipped when its first was not, and a skipped seed stays skipped.
    let ran = Mutex::new(BTreeSet::new());
    let report = r.run(|seed, _| {
        let ran_before = ran.lock().unwrap().contains(&seed);
        if !ran_before && seed > first.load(Ordering::Relaxed) {
            return SeedOutcome::pass(seed).with(Seen::Skipped);
        }
        ran.lock().unwrap().insert(seed);
        let run = exp.run(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let hash = run.outcome.summary.trace_hash;
        let seen = match run.evaluation.violation(model) {
            Some(v) => {
                first.fetch_min(seed, Ordering::Relaxed);
                Seen::Violated(hash, v)
            }
            None if matches!(
                run.evaluation.checks.get(&model),
                Some(Verdict::Unknown { .. })
            ) =>
            {
                Seen::Undecided
            }
            None => Seen::Held,
        };
        SeedOutcome {
            seed,
            trace_hash: Some(hash),
            value: seen,
            ..Default::default()
        }
    });
    report.assert_ok();
    let found = report.outcomes.iter().find_map(|o| match &o.value {
        Seen::Violated(h, v) => Some((o.seed, *h, v.clone())),
        _ => None,
    });
    let Some((seed, hash, violation)) = found else {
        panic!(
            "{test}: {}: no violation of {model} in seeds {}",
            exp.protocol.name(),
            r.seed_list()
        )
    };
    let undecided = report
        .outcomes
        .iter()
        .filter(|o| o.seed < seed && matches!(o.value, Seen::Undecided))
        .count();
    (seed, hash, violation, undecided)
}

/// Sweeps seeds until `P`'s checker finds its planted bug; then reruns that seed and asserts
/// the same trace hash and the same violation. Returns the seed.
fn planted_bug_is_found_and_reproduced<P: Builtin>(test: &str) -> u64 {
    let exp = P::bug_experiment();
    let model = exp.protocol.model();
    // Here we look for a definite violation: a seed whose check runs out of budget (Unknown)
    // is not counted as found and the sweep moves on.
    let exp = exp.checks([model]).budget(Duration::from_secs(5));
    let (seed, hash, violation, undecided) = first_failing_seed(test, &exp);
    eprintln!(
        "{} --bug {}: first failing seed {seed} ({undecided} earlier seeds undecided) (trace hash {hash}): {}",
        exp.protocol.name(),
        P::BUG,
        violation.lines().next().unwrap_or("")
    );
    let again = exp.run(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert_eq!(
        again.outcome.summary.trace_hash, hash,
        "seed {seed}: the rerun took another path"
    );
    assert_eq!(
        again.evaluation.violation(model).as_deref(),
        Some(violation.as_str()),
        "seed {seed}: the rerun found something else"
    );
    seed
}

#[test]
fn planted_stale_read_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced::<Linearizable>(
        "planted_stale_read_is_found_and_reproduced",
    );
}

#[test]
fn planted_no_session_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced::<Sequential>("planted_no_session_is_found_and_reproduced");
}

#[test]
fn planted_no_deps_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced::<Causal>("planted_no_deps_is_found_and_reproduced");
}

#[test]
fn planted_no_anti_entropy_is_found_and_reproduced() {
    planted_bug_is_found_and_reproduced::<Eventual>(
        "planted_no_anti_entropy_is_found_and_reproduced",
    );
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

/// This file's table of planted bugs is the CLI's (`actsim bugs`).
#[test]
fn the_planted_bugs_here_are_the_clis() {
    let out = Command::new(env!("CARGO_BIN_EXE_actsim"))
        .arg("bugs")
        .output()
        .expect("run actsim bugs");
    assert!(out.status.success(), "actsim bugs: {:?}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    // `name (promises model)` lines, each followed by its `  --bug name  description` lines.
    let mut listed: Vec<(String, String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(bug) = line.trim_start().strip_prefix("--bug ") {
            let bug = bug.split_whitespace().next().unwrap_or("").to_string();
            listed
                .last_mut()
                .expect("a protocol line first")
                .2
                .push(bug);
        } else if let Some((name, model)) = line.split_once(" (promises ") {
            listed.push((name.into(), model.trim_end_matches(')').into(), Vec::new()));
        }
    }
    fn row<P: Builtin>() -> (String, String, Vec<String>) {
        let p = P::default();
        (p.name().into(), p.model().to_string(), vec![P::BUG.into()])
    }
    let expected = vec![
        row::<Eventual>(),
        row::<Causal>(),
        row::<Sequential>(),
        row::<Linearizable>(),
    ];
    assert_eq!(listed, expected, "actsim bugs:\n{text}");
}

/// `actsim sweep --json` of the linearizable protocol with its stale-read bug, with `faults`
/// (`--nemesis X` or `--strategy X`) over `seeds`.
fn stale_read_sweep(faults: &[&str], seeds: &str) -> (i32, serde_json::Value) {
    let mut args = vec![
        "sweep",
        "--protocol",
        "linearizable",
        "--bug",
        Linearizable::BUG,
    ];
    args.extend_from_slice(faults);
    args.extend(["--seeds", seeds, "--json"]);
    actsim(&args)
}

#[test]
fn cli_sweep_finds_stale_reads_and_its_reproduce_line_reruns_the_seed() {
    let seeds = if long_run() { "0..300" } else { "0..40" };
    let (code, doc) = stale_read_sweep(&["--nemesis", "random"], seeds);
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
    // `actsim run --seed S --protocol linearizable --bug stale-read --nemesis random`.
    let mut words: Vec<&str> = reproduce.split_whitespace().collect();
    assert_eq!(words.remove(0), "actsim", "{reproduce}");
    assert!(reproduce.contains("--nemesis random"), "{reproduce}");
    words.push("--json");
    let (code, run) = actsim(&words);
    assert_eq!(code, 1, "the reproduce line must fail again");
    assert_eq!(run["seed"], first["seed"]);
    assert_eq!(run["trace_hash"], first["trace_hash"], "{reproduce}");
}

/// The shrink line of a strategy sweep shrinks the run the sweep saw: the seed's setup under
/// the strategy (here link-swarm's per-link latencies), not the protocol's default setup.
#[test]
fn cli_shrink_line_of_a_strategy_sweep_shrinks_that_run() {
    let (code, doc) = stale_read_sweep(&["--strategy", "link-swarm"], "0..40");
    assert_eq!(code, 1, "a sweep with failures exits 1");
    let first = &doc["failures"].as_array().expect("failures")[0];
    let shrink = first["shrink"].as_str().expect("shrink line");
    assert!(shrink.contains("--strategy link-swarm"), "{shrink}");
    let dir = std::env::temp_dir().join(format!("actsim-shrink-line-{}", std::process::id()));
    let out = dir.join("repro.json");
    let mut words: Vec<String> = shrink
        .split_whitespace()
        .skip(1)
        .map(String::from)
        .collect();
    words.extend(["--out".to_string(), out.display().to_string()]);
    let status = Command::new(env!("CARGO_BIN_EXE_actsim"))
        .args(&words)
        .output()
        .expect("run actsim shrink");
    assert_eq!(status.status.code(), Some(0), "{shrink}: {status:?}");
    let repro: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("repro written"))
            .expect("repro is JSON");
    let rules = repro["setup"]["link_rules"].as_array().map_or(0, Vec::len);
    assert!(
        rules > 0,
        "{shrink}: the shrunk run lost link-swarm's link rules"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_processes_give_the_same_trace_hash() {
    for (protocol, bug) in [
        ("sequential", None),
        ("linearizable", Some(Linearizable::BUG)),
    ] {
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

/// `protocol` (`label` in messages) is deterministic over `seeds` seeds: every seed runs twice
/// with the same trace hash, and different seeds take different paths. Failures reproduce with
/// the test `test`.
fn deterministic_one<P: Protocol>(test: &str, label: &str, protocol: P, seeds: u64) {
    let mut exp = experiment(protocol, Nemesis::standard(), FAULTY);
    exp.setup.link.loss = 0.02;
    exp.setup.link.duplicate = 0.02;
    // Only the trace hash matters here: no checker.
    let exp = exp.checks([]);
    let name = format!("{test}-{}", label.replace(" --bug ", "-"));
    let report = runner_of(test, &name, seeds)
        .check_determinism(true)
        .run(|seed, opts| {
            let mut o = judge(&exp, seed, opts);
            // Keep only nondeterminism (and run errors) as failures.
            if o.violation
                .as_deref()
                .is_some_and(|v| !v.contains("run error"))
            {
                o.violation = None;
            }
            o
        });
    print_report(&format!("determinism {label}"), &report);
    report.assert_ok();
    let hashes: BTreeSet<String> = report
        .outcomes
        .iter()
        .map(|o| o.trace_hash.map(|h| h.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(
        hashes.len(),
        report.outcomes.len(),
        "{label}: different seeds gave the same trace"
    );
}

fn deterministic<P: Builtin>(test: &str, seeds: u64) {
    let name = P::default().name().to_string();
    deterministic_one(test, &name, P::default(), seeds);
    deterministic_one(test, &format!("{name} --bug {}", P::BUG), P::buggy(), seeds);
}

fn every_protocol_deterministic(test: &str, seeds: u64) {
    deterministic::<Eventual>(test, seeds);
    deterministic::<Causal>(test, seeds);
    deterministic::<Sequential>(test, seeds);
    deterministic::<Linearizable>(test, seeds);
}

#[test]
fn every_protocol_is_deterministic_with_and_without_its_bug() {
    every_protocol_deterministic(
        "every_protocol_is_deterministic_with_and_without_its_bug",
        2,
    );
}

#[test]
#[ignore = "long: 100 seeds x 4 protocols x 2, each run twice; run with --release -- --ignored"]
fn every_protocol_is_deterministic_over_100_seeds() {
    every_protocol_deterministic("every_protocol_is_deterministic_over_100_seeds", 100);
}

// ---------------------------------------------------------------------------------------------
// 5. Shrinking a stale read.

#[test]
fn a_stale_read_shrinks_to_a_few_faults_and_still_fails_on_replay() {
    let test = "a_stale_read_shrinks_to_a_few_faults_and_still_fails_on_replay";
    let exp = checked(Linearizable::bug_experiment(), vec![Model::Linearizable]);
    // The first failing seed and its schedule.
    let (seed, _, _, _) = first_failing_seed(test, &exp);
    let before = exp.run(seed).expect("runs").outcome.schedule.len();
    // A small budget keeps the debug test short; `examples/shrink_bench` shrinks fully.
    let s = exp
        .shrink_within(seed, models::shrink::ShrinkBudget { runs: 300 })
        .expect("the experiment runs")
        .expect("the seed fails again");
    eprintln!("seed {seed}: {}", s.story());
    assert_eq!(s.before.faults, before);
    assert!(
        s.after.faults < before,
        "nothing removed from {before} faults"
    );
    assert!(s.after.faults <= 4, "{} faults left", s.after.faults);
    assert!(s.after.faulty_ms <= s.before.faulty_ms);

    // The saved repro, replayed directly and by the CLI, fails (exit 1) with the same trace
    // hash. The shrinker knows the protocol, not which of the CLI's bugs it is: say so.
    let mut repro = s.repro.clone();
    assert_eq!(repro.protocol, "linearizable");
    repro.bug = Some(Linearizable::BUG.to_string());
    let path = std::env::temp_dir().join(format!(
        "actsim-protocols-repro-{}-{seed}.json",
        std::process::id()
    ));
    repro.write(&path).expect("write the replay file");
    let read = Repro::read(&path).expect("read the replay file");
    let direct = exp.replay(&read).expect("the replay runs");
    assert!(direct.violation().is_some(), "the shrunk run passes");
    let (code, replay) = actsim(&["replay", path.to_str().unwrap(), "--json"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1, "replay of the shrunk run must fail: {replay}");
    assert_eq!(
        replay["trace_hash"].as_str(),
        Some(direct.outcome.summary.trace_hash.to_string().as_str())
    );
}
