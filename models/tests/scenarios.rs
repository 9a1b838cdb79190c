//! The application scenarios show, on a few seeds, what the issue expects: comments and feed
//! break on eventual only, password on everything but linearizable, dns never — and what the
//! strong protocols pay for it.
//!
//! `ACTSIM_SCENARIO_SEEDS=N` runs every "never breaks" check over N seeds (default 2) and lets
//! the "breaks for some seed" checks search N seeds (default 4).

use std::time::Duration;

use models::protocol::Protocol;
use models::scenario::report::Staleness;
use models::scenario::{Scenario, ScenarioExperiment, ScenarioOutcome};

fn seeds(default: u64) -> u64 {
    std::env::var("ACTSIM_SCENARIO_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn run(s: Scenario, p: Protocol, seed: u64) -> ScenarioOutcome {
    let out = ScenarioExperiment::new(s, p)
        .run(seed, None)
        .unwrap_or_else(|e| panic!("{s} on {p}: {e}"));
    assert_eq!(out.outcome.error, None, "{s} on {p} seed {seed}");
    out
}

/// Some seed among the first `seeds(4)` violates; returns it.
fn breaks(s: Scenario, p: Protocol) -> u64 {
    for seed in 0..seeds(4) {
        let out = run(s, p, seed);
        if let Some(v) = out.violations.first() {
            // Every violation names the operations involved.
            assert!(!v.ops.is_empty(), "{v}");
            return seed;
        }
    }
    panic!("{s} never violated on {p} (reproduce: actsim scenario {s} --protocol {p})");
}

fn never_breaks(s: Scenario, p: Protocol) {
    for seed in 0..seeds(2) {
        let out = run(s, p, seed);
        assert!(
            out.violations.is_empty(),
            "{s} on {p} seed {seed}: {}",
            out.violations[0]
        );
    }
}

#[test]
fn comments_break_on_eventual_only() {
    breaks(Scenario::Comments, Protocol::Eventual);
    for p in [
        Protocol::Causal,
        Protocol::Sequential,
        Protocol::Linearizable,
    ] {
        never_breaks(Scenario::Comments, p);
    }
}

#[test]
fn feed_breaks_on_eventual_only() {
    breaks(Scenario::Feed, Protocol::Eventual);
    for p in [
        Protocol::Causal,
        Protocol::Sequential,
        Protocol::Linearizable,
    ] {
        never_breaks(Scenario::Feed, p);
    }
}

#[test]
fn password_breaks_on_everything_but_linearizable() {
    for p in [Protocol::Eventual, Protocol::Causal, Protocol::Sequential] {
        breaks(Scenario::Password, p);
    }
    never_breaks(Scenario::Password, Protocol::Linearizable);
}

#[test]
fn dns_never_breaks_and_the_strong_protocols_lose_minority_updates() {
    let mut worst = Vec::new();
    let mut median = Vec::new();
    for p in Protocol::ALL {
        let out = run(Scenario::Dns, p, 0);
        assert!(
            out.violations.is_empty(),
            "dns on {p}: {}",
            out.violations[0]
        );
        assert!(!out.staleness.is_empty(), "dns on {p}: no update measured");
        // Every acknowledged update reached every replica before the end.
        assert!(out.staleness.iter().all(Option::is_some), "dns on {p}");
        let max = out.staleness.iter().flatten().max().copied();
        worst.push((p, max.unwrap_or_default()));
        median.push(Staleness::of(&out.staleness).p50.unwrap_or_default());
        let minority = out.availability.minority;
        assert!(minority.writes > 0, "dns on {p}: no minority updates tried");
        if matches!(p, Protocol::Eventual | Protocol::Causal) {
            assert_eq!(minority.writes_ok, minority.writes, "dns on {p}");
        } else {
            assert_eq!(
                minority.writes_ok, 0,
                "dns on {p}: minority updates succeeded"
            );
        }
    }
    // Eventual acknowledges updates on both sides, each stale on the other side until the
    // heal; linearizable refuses the minority's, so fewer of its updates wait for the heal.
    assert!(median[0] > median[3], "median staleness {median:?}");
    // Updates acknowledged during the partition wait for the heal on every protocol.
    for (p, max) in worst {
        assert!(
            max > Duration::from_secs(5),
            "dns on {p}: worst staleness {max:?}"
        );
    }
}

#[test]
fn a_scenario_run_is_a_function_of_its_seed() {
    let a = run(Scenario::Feed, Protocol::Eventual, 3);
    let b = run(Scenario::Feed, Protocol::Eventual, 3);
    assert_eq!(a.summary.trace_hash, b.summary.trace_hash);
    assert_eq!(a.violations, b.violations);
}
