//! The consistency x availability experiment: what CAP and HAT predict, measured.
//!
//! Each protocol runs the default cap experiment (5 replicas, 10 clients, a 10 s majority /
//! minority partition, heal, quiet) on a few seeds; availability per side and the promised
//! consistency models are asserted: the cap table's verdicts and availabilities. The table
//! `actsim cap` prints is checked against the same bounds.
//!
//! ```sh
//! ACTSIM_SEEDS=20 cargo test --release --test cap   # more seeds
//! ACTSIM_SEED=1 cargo test --test cap               # exactly seed 1
//! ```

use actsim::harness::{Runner, SeedOutcome};
use models::causal::Causal;
use models::check::Model;
use models::evaluate::Evaluation;
use models::eventual::Eventual;
use models::experiment::{Experiment, Side};
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::sequential::Sequential;

/// Seeds per test by default (`ACTSIM_SEEDS` / `ACTSIM_SEED` override it).
const SEEDS: u64 = 2;

/// Runs the cap experiment of `p` for `seed`, checked against `models`.
fn run<P: Protocol>(
    p: &P,
    seed: u64,
    opts: &actsim::harness::RunOptions,
    models: &[Model],
) -> Evaluation {
    let exp = Experiment::new(p.clone()).checks(models.iter().copied());
    let out = exp
        .simulate_with(seed, |sim| opts.attach(sim).expect("trace file"))
        .expect("experiment runs");
    assert!(
        out.error.is_none(),
        "{} seed {seed}: {:?}",
        p.name(),
        out.error
    );
    exp.evaluate(&out)
}

/// Runs `test` on every seed of the test `name` (reproducible with `ACTSIM_SEED`).
fn sweep(name: &str, test: impl Fn(u64, &actsim::harness::RunOptions) -> Evaluation + Sync) {
    Runner::new(name)
        .seeds(0..SEEDS)
        .from_env()
        .reproduce_with({
            let name = name.to_string();
            move |seed| format!("ACTSIM_SEED={seed} cargo test --test cap {name} -- --exact")
        })
        .run(|seed, opts| {
            let e = test(seed, opts);
            SeedOutcome {
                seed,
                trace_hash: Some(e.trace_hash),
                value: (),
                ..Default::default()
            }
        })
        .assert_ok();
}

fn avail(e: &Evaluation, side: Side) -> (f64, f64) {
    let rw = e.during_faults[&side];
    (rw.read.fraction(), rw.write.fraction())
}

fn assert_passes(p: &str, e: &Evaluation, models: &[Model]) {
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
    sweep("eventual_is_totally_available_and_converges", |seed, o| {
        let e = run(&Eventual::default(), seed, o, &[Model::Eventual]);
        for side in [Side::Majority, Side::Minority] {
            let (r, w) = avail(&e, side);
            assert!(
                r >= 0.99 && w >= 0.99,
                "seed {seed} {side:?}: reads {r}, writes {w}"
            );
        }
        assert_passes("eventual", &e, &[Model::Eventual]);
        e
    });
}

#[test]
fn causal_is_sticky_available_and_causal() {
    sweep("causal_is_sticky_available_and_causal", |seed, o| {
        let models = [Model::Causal, Model::Eventual];
        let e = run(&Causal::default(), seed, o, &models);
        for side in [Side::Majority, Side::Minority] {
            let (r, w) = avail(&e, side);
            assert!(
                r >= 0.99 && w >= 0.99,
                "seed {seed} {side:?}: reads {r}, writes {w}"
            );
        }
        assert_passes("causal", &e, &models);
        e
    });
}

#[test]
fn sequential_minority_reads_but_cannot_write() {
    sweep("sequential_minority_reads_but_cannot_write", |seed, o| {
        let models = [Model::Sequential, Model::Causal, Model::Eventual];
        let e = run(&Sequential::default(), seed, o, &models);
        let (mr, mw) = avail(&e, Side::Majority);
        let (nr, nw) = avail(&e, Side::Minority);
        assert!(
            mr >= 0.95 && mw >= 0.95,
            "seed {seed} majority: reads {mr}, writes {mw}"
        );
        assert!(nr >= 0.99, "seed {seed} minority reads {nr}");
        assert!(nw <= 0.05, "seed {seed} minority writes {nw}");
        assert_passes("sequential", &e, &models);
        e
    });
}

#[test]
fn linearizable_is_unavailable_on_the_minority_and_passes_every_model() {
    sweep(
        "linearizable_is_unavailable_on_the_minority_and_passes_every_model",
        |seed, o| {
            let e = run(&Linearizable::default(), seed, o, &Model::ALL);
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
            assert_passes("linearizable", &e, &Model::ALL);
            e
        },
    );
}

/// Whether `p` fails linearizability on some seed of `0..4` (the seeds run as one runner sweep,
/// so `ACTSIM_SEED` / `ACTSIM_SEEDS` pick them too).
fn fails_linearizability_somewhere<P: Protocol>(p: P) {
    let name = format!(
        "weaker_protocols_fail_linearizability_somewhere/{}",
        p.name()
    );
    let report = Runner::new(name)
        .seeds(0..4)
        .from_env()
        .reproduce_with(|seed| {
            format!(
                "ACTSIM_SEED={seed} cargo test --test cap weaker_protocols_fail_linearizability_somewhere -- --exact"
            )
        })
        .run(|seed, o| {
            let e = run(&p, seed, o, &[Model::Linearizable]);
            let failed = e.checks[&Model::Linearizable].is_invalid();
            SeedOutcome {
                seed,
                trace_hash: Some(e.trace_hash),
                value: failed,
                ..Default::default()
            }
        });
    report.assert_ok();
    assert!(
        report.outcomes.iter().any(|o| o.value),
        "{} never failed linearizability in seeds {:?}",
        p.name(),
        report.outcomes.iter().map(|o| o.seed).collect::<Vec<_>>()
    );
}

#[test]
fn weaker_protocols_fail_linearizability_somewhere() {
    // The point of the table: the stale reads of the available protocols are real.
    fails_linearizability_somewhere(Eventual::default());
    fails_linearizability_somewhere(Causal::default());
    fails_linearizability_somewhere(Sequential::default());
}

/// The table `actsim cap` prints: every protocol's availability within the theory's bounds,
/// every model it promises (its own and the weaker ones) holding on every seed, and the
/// available protocols' stale reads failing linearizability.
#[test]
fn the_cli_cap_table_agrees_with_the_theory() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_actsim"))
        .args(["cap", "--seeds", &SEEDS.to_string(), "--json"])
        .output()
        .expect("run actsim cap");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "actsim cap: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let promises = [
        ("eventual", Model::Eventual),
        ("causal", Model::Causal),
        ("sequential", Model::Sequential),
        ("linearizable", Model::Linearizable),
    ];
    let rows = doc["protocols"].as_object().expect("protocols");
    assert_eq!(rows.len(), promises.len(), "{stdout}");
    for (name, promised) in promises {
        let row = &rows[name];
        assert_eq!(row["promised"], promised.to_string(), "{name}");
        assert_eq!(row["agrees"], true, "{name}: {}", row["disagreements"]);
        assert_eq!(row["errors"].as_array().map(Vec::len), Some(0), "{name}");
        for m in Model::ALL {
            // The table checks its five columns; sessions (implied by causal) is left out.
            let tally = &row["checks"][m.to_string()];
            if promised.implies(m) && m != Model::Sessions {
                assert_eq!(
                    (&tally["failed"], &tally["unknown"]),
                    (&0.into(), &0.into()),
                    "{name} promises {m}: {tally}"
                );
            }
        }
        if promised != Model::Linearizable {
            let failed = row["checks"]["linearizable"]["failed"].as_u64();
            assert!(
                failed.is_some_and(|n| n > 0),
                "{name} never failed linearizability"
            );
        }
    }
}
