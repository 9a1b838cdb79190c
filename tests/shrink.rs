//! Shrinking keeps the story, for the built-in protocols: a seed's replay file is the same run
//! (its trace hash), and a shrunk failing run fails its correct twin never (shrinking never
//! invents a failure). Long sweeps: `cargo test --release --test shrink -- --ignored`.

use std::time::Duration;

use actsim::harness::{Runner, SeedOutcome};
use models::causal::Causal;
use models::eventual::Eventual;
use models::experiment::{Experiment, Nemesis};
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::sequential::Sequential;
use models::shrink::ShrinkBudget;

fn small<P: Protocol>(p: P) -> Experiment<P> {
    let mut e = Experiment::new(p)
        .phases(
            Duration::from_secs(1),
            Duration::from_secs(6),
            Duration::from_secs(2),
        )
        .nemesis(Nemesis::standard());
    e.setup.link.loss = 0.02;
    e.setup.link.duplicate = 0.01;
    e
}

/// Runs `seed` free and from its replay file: the same trace hash, the same verdict.
fn replay_is_exact<P: Protocol>(exp: &Experiment<P>, seed: u64) -> SeedOutcome {
    let free = exp.run(seed).expect("runs");
    let file = exp.explicit(seed).expect("runs");
    let x = file.setup.explicit.as_ref().expect("explicit");
    assert!(!x.messages.is_empty(), "2% loss makes anomalies");
    let replayed = exp.replay(&file).expect("replays");
    assert_eq!(
        replayed.outcome.summary.trace_hash, free.outcome.summary.trace_hash,
        "seed {seed}: the replay file is the same run"
    );
    assert_eq!(replayed.violation(), free.violation());
    SeedOutcome::pass(seed)
}

#[test]
fn a_seeds_replay_file_reproduces_its_trace_hash() {
    Runner::new("a_seeds_replay_file_reproduces_its_trace_hash")
        .seeds(0..2)
        .from_env()
        .run(|seed, _| {
            replay_is_exact(&small(Eventual::default()), seed);
            replay_is_exact(&small(Causal::default()), seed);
            replay_is_exact(&small(Sequential::default()), seed);
            replay_is_exact(&small(Linearizable::default()), seed)
        })
        .assert_ok();
}

/// Shrinks the first failing seed of `buggy` in `seeds` and checks the result.
fn shrink_never_invents<P: Protocol>(buggy: P, twin: P, seeds: std::ops::Range<u64>, runs: usize) {
    let (buggy, twin) = (small(buggy), small(twin));
    let name = buggy.protocol.name().to_string();
    let seed = seeds
        .clone()
        .find(|&s| buggy.run(s).is_ok_and(|r| r.violation().is_some()))
        .unwrap_or_else(|| panic!("{name}: the planted bug fails some seed of {seeds:?}"));
    let s = buggy
        .shrink_within(seed, ShrinkBudget { runs })
        .expect("runs")
        .expect("fails again");
    assert!(s.after.faults <= s.before.faults && s.after.operations < s.before.operations);
    let again = buggy.replay(&s.repro).expect("replays");
    assert!(
        again.violation().is_some(),
        "{name}: the shrunk run still fails"
    );
    let ok = twin.replay(&s.repro).expect("replays");
    assert!(
        ok.violation().is_none(),
        "{name} seed {seed}: the correct twin fails the shrunk run: {:?}",
        ok.violation()
    );
}

#[test]
fn a_shrunk_stale_read_does_not_fail_the_correct_raft() {
    let bug = Linearizable {
        bug: true,
        ..Linearizable::default()
    };
    shrink_never_invents(bug, Linearizable::default(), 0..20, 120);
}

#[test]
#[ignore = "long: every planted bug, full shrink budget (run with --release)"]
fn no_shrunk_planted_bug_fails_its_correct_twin() {
    shrink_never_invents(
        Eventual {
            bug: true,
            ..Eventual::default()
        },
        Eventual::default(),
        0..30,
        600,
    );
    shrink_never_invents(
        Causal {
            bug: true,
            ..Causal::default()
        },
        Causal::default(),
        0..30,
        600,
    );
    shrink_never_invents(
        Sequential {
            bug: true,
            ..Sequential::default()
        },
        Sequential::default(),
        0..30,
        600,
    );
    shrink_never_invents(
        Linearizable {
            bug: true,
            ..Linearizable::default()
        },
        Linearizable::default(),
        0..30,
        600,
    );
}

/// Replay files edited by hand or cut short: a clear error or a valid setup, never a panic.
#[test]
fn a_damaged_replay_file_is_an_error_never_a_panic() {
    let exp = small(Eventual::default());
    let file = exp.explicit(0).expect("runs");
    let text = serde_json::to_string(&file).expect("json");
    let bytes = text.as_bytes();
    let mut cases: Vec<String> = (0..bytes.len())
        .step_by(7)
        .map(|n| String::from_utf8_lossy(&bytes[..n]).into_owned())
        .collect();
    for (from, to) in [
        ("\"faulty_ms\":6000", "\"faulty_ms\":18446744073709551615"),
        ("\"faulty_ms\":6000", "\"faulty_ms\":-1"),
        ("\"replicas\":5", "\"replicas\":0"),
        ("\"clients\":10", "\"clients\":4294967295"),
        ("\"loss\":0.02", "\"loss\":7"),
        ("\"at_ms\":", "\"at_ms\":1e300,\"x\":"),
        (
            "\"fate\":\"dropped\"",
            "\"fate\":{\"delayed\":{\"ms\":1e308}}",
        ),
        ("\"seed\":0", "\"seed\":-5"),
    ] {
        cases.push(text.replacen(from, to, 1));
    }
    let mut errors = 0;
    for case in &cases {
        match serde_json::from_str::<models::shrink::Repro>(case) {
            Err(_) => errors += 1,
            Ok(r) => {
                if exp.clone().setup(r.setup).validate().is_err() {
                    errors += 1;
                }
            }
        }
    }
    assert!(
        errors >= cases.len() - 2,
        "{errors} of {} rejected",
        cases.len()
    );
}
