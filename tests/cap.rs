//! The consistency x availability experiment: what CAP and HAT predict, measured.
//!
//! Each protocol runs the default cap experiment (5 replicas, 10 clients, a 10 s majority /
//! minority partition, heal, quiet) on a few seeds; availability per side and the promised
//! consistency models are asserted. `ACTSIM_SEEDS=20 cargo test --release --test cap` runs more.

use models::cluster::{Experiment, Side};
use models::evaluate::{evaluate, EvalOptions, Evaluation, Model};
use models::protocol::Protocol;

fn seeds() -> u64 {
    std::env::var("ACTSIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

fn run(p: Protocol, seed: u64, models: Vec<Model>) -> Evaluation {
    let exp = Experiment {
        protocol: p,
        ..Experiment::default()
    };
    let out = exp.run(seed, None).expect("experiment runs");
    assert!(out.error.is_none(), "{p} seed {seed}: {:?}", out.error);
    evaluate(
        &exp,
        &out,
        &EvalOptions {
            models,
            ..EvalOptions::default()
        },
    )
}

fn avail(e: &Evaluation, side: Side) -> (f64, f64) {
    let rw = e.during_faults[&side];
    (rw.read.fraction(), rw.write.fraction())
}

fn assert_passes(p: Protocol, e: &Evaluation, models: &[Model]) {
    for m in models {
        assert!(
            e.checks.get(m).is_some_and(|v| v.is_valid()),
            "{p} seed {} must be {m}: {:?}",
            e.seed,
            e.checks.get(m)
        );
    }
}

#[test]
fn eventual_is_totally_available_and_converges() {
    for seed in 0..seeds() {
        let e = run(Protocol::Eventual, seed, vec![Model::Eventual]);
        for side in [Side::Majority, Side::Minority] {
            let (r, w) = avail(&e, side);
            assert!(
                r >= 0.99 && w >= 0.99,
                "seed {seed} {side:?}: reads {r}, writes {w}"
            );
        }
        assert_passes(Protocol::Eventual, &e, &[Model::Eventual]);
    }
}

#[test]
fn causal_is_sticky_available_and_causal() {
    for seed in 0..seeds() {
        let e = run(Protocol::Causal, seed, vec![Model::Causal, Model::Eventual]);
        for side in [Side::Majority, Side::Minority] {
            let (r, w) = avail(&e, side);
            assert!(
                r >= 0.99 && w >= 0.99,
                "seed {seed} {side:?}: reads {r}, writes {w}"
            );
        }
        assert_passes(Protocol::Causal, &e, &[Model::Causal, Model::Eventual]);
    }
}

#[test]
fn sequential_minority_reads_but_cannot_write() {
    for seed in 0..seeds() {
        let e = run(
            Protocol::Sequential,
            seed,
            vec![Model::Sequential, Model::Causal, Model::Eventual],
        );
        let (mr, mw) = avail(&e, Side::Majority);
        let (nr, nw) = avail(&e, Side::Minority);
        assert!(
            mr >= 0.95 && mw >= 0.95,
            "seed {seed} majority: reads {mr}, writes {mw}"
        );
        assert!(nr >= 0.99, "seed {seed} minority reads {nr}");
        assert!(nw <= 0.05, "seed {seed} minority writes {nw}");
        assert_passes(
            Protocol::Sequential,
            &e,
            &[Model::Sequential, Model::Causal, Model::Eventual],
        );
    }
}

#[test]
fn linearizable_is_unavailable_on_the_minority_and_passes_every_model() {
    for seed in 0..seeds() {
        let e = run(Protocol::Linearizable, seed, Model::ALL.to_vec());
        let (mr, mw) = avail(&e, Side::Majority);
        let (nr, nw) = avail(&e, Side::Minority);
        assert!(
            mr >= 0.9 && mw >= 0.9,
            "seed {seed} majority: reads {mr}, writes {mw}"
        );
        assert!(
            nr <= 0.05 && nw <= 0.05,
            "seed {seed} minority: reads {nr}, writes {nw}"
        );
        assert_passes(Protocol::Linearizable, &e, &Model::ALL);
    }
}

#[test]
fn weaker_protocols_fail_linearizability_somewhere() {
    // The point of the table: the stale reads of the available protocols are real.
    for p in [Protocol::Eventual, Protocol::Causal, Protocol::Sequential] {
        let failed = (0..4).any(|seed| {
            run(p, seed, vec![Model::Linearizable]).checks[&Model::Linearizable].is_invalid()
        });
        assert!(failed, "{p} never failed linearizability in 4 seeds");
    }
}
