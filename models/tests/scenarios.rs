//! The application scenarios show, on a few seeds, what the issue expects: comments and feed
//! break on eventual only, password on everything but linearizable, dns never — and what the
//! strong protocols pay for it.
//!
//! Every check runs on the seed runner: `ACTSIM_SEED=N` reruns one seed, `ACTSIM_SEEDS=N` runs
//! every "never breaks" check over N seeds (default 2) and lets the "breaks for some seed"
//! checks search N seeds (default 40, stopping at the first that breaks).

use std::time::Duration;

use models::causal::Causal;
use models::eventual::Eventual;
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::runner::{Runner, SeedOutcome, Seeds};
use models::scenario::report::Staleness;
use models::scenario::{Scenario, ScenarioExperiment, ScenarioOutcome};
use models::sequential::Sequential;

/// The seed runner for test `name` of this file, with a reproduce line that reruns exactly
/// that test.
fn runner(name: &'static str, seeds: std::ops::Range<u64>) -> Runner {
    Runner::new(name)
        .seeds(seeds)
        .from_env()
        .reproduce_with(move |s| {
            format!("ACTSIM_SEED={s} cargo test -p models --test scenarios {name} -- --exact")
        })
}

fn run<P: Protocol>(s: Scenario, p: &P, seed: u64) -> ScenarioOutcome {
    let name = p.name();
    let out = ScenarioExperiment::new(s, p.clone())
        .run(seed, None)
        .unwrap_or_else(|e| panic!("{s} on {name}: {e}"));
    assert_eq!(out.outcome.error, None, "{s} on {name} seed {seed}");
    out
}

/// The runner's record of one scenario run.
fn seed_outcome(seed: u64, out: &ScenarioOutcome) -> SeedOutcome {
    SeedOutcome {
        seed,
        trace_hash: Some(out.summary.trace_hash),
        simulated_s: out.summary.end_time.as_secs_f64(),
        events: out.summary.counters.events,
        ..SeedOutcome::default()
    }
}

/// How many seeds the "breaks for some seed" checks search by default. Violations are rare
/// events of a run (comments breaks on eventual in about one seed in five: seeds 18, 20, 25...
/// of 0..40), so the search goes on, a few seeds at a time, until one breaks.
const SEARCH: u64 = 40;

/// Some seed among the runner's (by default the first [`SEARCH`]) violates; returns the first.
/// Seeds run a batch of one per core at a time, and the search stops at the first batch with
/// a violation.
fn breaks<P: Protocol>(test: &'static str, s: Scenario, p: P) -> u64 {
    let seeds: Vec<u64> = runner(test, 0..SEARCH).seed_list().iter().collect();
    let batch = std::thread::available_parallelism().map_or(1, |n| n.get());
    for chunk in seeds.chunks(batch) {
        // Each seed reports its first violation, if any.
        let report = runner(test, 0..SEARCH)
            .seed_set(Seeds::list(chunk.to_vec()))
            .run(|seed, _| {
                let out = run(s, &p, seed);
                let first = out.violations.first().cloned();
                seed_outcome(seed, &out).with(first)
            });
        report.assert_ok();
        if let Some(found) = report.outcomes.iter().find(|o| o.value.is_some()) {
            let v = found.value.as_ref().expect("a violation");
            // Every violation names the operations involved.
            assert!(!v.ops.is_empty(), "{v}");
            return found.seed;
        }
    }
    let name = p.name();
    panic!(
        "{s} never violated on {name} in {} seeds (reproduce: actsim scenario {s} --protocol {name})",
        seeds.len()
    );
}

fn never_breaks<P: Protocol>(test: &'static str, s: Scenario, p: P) {
    let name = p.name().to_string();
    runner(test, 0..2)
        .run(|seed, _| {
            let out = run(s, &p, seed);
            assert!(
                out.violations.is_empty(),
                "{s} on {name} seed {seed}: {}",
                out.violations[0]
            );
            seed_outcome(seed, &out)
        })
        .assert_ok();
}

#[test]
fn comments_break_on_eventual_only() {
    const TEST: &str = "comments_break_on_eventual_only";
    breaks(TEST, Scenario::Comments, Eventual::default());
    never_breaks(TEST, Scenario::Comments, Causal::default());
    never_breaks(TEST, Scenario::Comments, Sequential::default());
    never_breaks(TEST, Scenario::Comments, Linearizable::default());
}

#[test]
fn feed_breaks_on_eventual_only() {
    const TEST: &str = "feed_breaks_on_eventual_only";
    breaks(TEST, Scenario::Feed, Eventual::default());
    never_breaks(TEST, Scenario::Feed, Causal::default());
    never_breaks(TEST, Scenario::Feed, Sequential::default());
    never_breaks(TEST, Scenario::Feed, Linearizable::default());
}

#[test]
fn password_breaks_on_everything_but_linearizable() {
    const TEST: &str = "password_breaks_on_everything_but_linearizable";
    breaks(TEST, Scenario::Password, Eventual::default());
    breaks(TEST, Scenario::Password, Causal::default());
    breaks(TEST, Scenario::Password, Sequential::default());
    never_breaks(TEST, Scenario::Password, Linearizable::default());
}

/// What the dns test keeps of one protocol's run: its name, its worst and median staleness.
struct DnsRun {
    protocol: String,
    worst: Duration,
    median: Duration,
}

/// Runs dns on `p` for `seed` and checks what holds for one protocol: no violation, every
/// acknowledged update measured and spread, and minority updates all acknowledged (`available`,
/// eventual and causal) or all refused (sequential, linearizable).
fn dns_on<P: Protocol>(p: P, available: bool, seed: u64) -> DnsRun {
    let name = p.name().to_string();
    let out = run(Scenario::Dns, &p, seed);
    assert!(
        out.violations.is_empty(),
        "dns on {name}: {}",
        out.violations[0]
    );
    assert!(
        !out.staleness.is_empty(),
        "dns on {name}: no update measured"
    );
    // Every acknowledged update reached every replica before the end.
    assert!(out.staleness.iter().all(Option::is_some), "dns on {name}");
    let max = out.staleness.iter().flatten().max().copied();
    let minority = out.availability.minority;
    assert!(
        minority.writes > 0,
        "dns on {name}: no minority updates tried"
    );
    if available {
        assert_eq!(minority.writes_ok, minority.writes, "dns on {name}");
    } else {
        assert_eq!(
            minority.writes_ok, 0,
            "dns on {name}: minority updates succeeded"
        );
    }
    DnsRun {
        protocol: name,
        worst: max.unwrap_or_default(),
        median: Staleness::of(&out.staleness).p50.unwrap_or_default(),
    }
}

#[test]
fn dns_never_breaks_and_the_strong_protocols_lose_minority_updates() {
    runner(
        "dns_never_breaks_and_the_strong_protocols_lose_minority_updates",
        0..1,
    )
    .run(|seed, _| {
        let runs = [
            dns_on(Eventual::default(), true, seed),
            dns_on(Causal::default(), true, seed),
            dns_on(Sequential::default(), false, seed),
            dns_on(Linearizable::default(), false, seed),
        ];
        let median: Vec<Duration> = runs.iter().map(|r| r.median).collect();
        // Eventual acknowledges updates on both sides, each stale on the other side until the
        // heal; linearizable refuses the minority's, so fewer of its updates wait for the heal.
        assert!(median[0] > median[3], "median staleness {median:?}");
        // Updates acknowledged during the partition wait for the heal on every protocol.
        for r in &runs {
            assert!(
                r.worst > Duration::from_secs(5),
                "dns on {}: worst staleness {:?}",
                r.protocol,
                r.worst
            );
        }
        SeedOutcome::pass(seed)
    })
    .assert_ok();
}

#[test]
fn a_scenario_run_is_a_function_of_its_seed() {
    let a = run(Scenario::Feed, &Eventual::default(), 3);
    let b = run(Scenario::Feed, &Eventual::default(), 3);
    assert_eq!(a.summary.trace_hash, b.summary.trace_hash);
    assert_eq!(a.violations, b.violations);
}
