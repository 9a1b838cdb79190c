//! Sweep throughput: seeds per second of the default cap experiment, per protocol, with 1 and
//! 2 jobs (simulation only, and simulation plus the protocol's own consistency check).
//!
//! ```text
//! cargo run --release --example sweep_bench -- [--seeds 20]
//! ```

use actsim::harness::{Runner, SeedOutcome};
use models::causal::Causal;
use models::eventual::Eventual;
use models::experiment::Experiment;
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::sequential::Sequential;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args
        .iter()
        .position(|a| a == "--seeds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!(
        "{:<13} {:>5} {:>12} {:>12} {:>14}",
        "protocol", "jobs", "sim seeds/s", "+check s/s", "sim s / wall s"
    );
    bench(Eventual::default(), seeds);
    bench(Causal::default(), seeds);
    bench(Sequential::default(), seeds);
    bench(Linearizable::default(), seeds);
}

/// The default cap experiment of `p`, checked against its own model.
fn bench<P: Protocol>(p: P, seeds: u64) {
    let exp = Experiment::new(p);
    for jobs in [1, 2] {
        let sim_only = Runner::new("bench")
            .seeds(0..seeds)
            .jobs(jobs)
            .run(|seed, _| match exp.simulate(seed, None) {
                Ok(out) => SeedOutcome {
                    seed,
                    simulated_s: out.final_time.as_secs_f64(),
                    ..SeedOutcome::pass(seed)
                },
                Err(e) => SeedOutcome {
                    violation: Some(e.to_string()),
                    ..SeedOutcome::pass(seed)
                },
            });
        let checked = Runner::new("bench")
            .seeds(0..seeds)
            .jobs(jobs)
            .run(|seed, _| match exp.run(seed) {
                Ok(run) => SeedOutcome {
                    violation: run.violation(),
                    ..SeedOutcome::pass(seed)
                },
                Err(e) => SeedOutcome {
                    violation: Some(e.to_string()),
                    ..SeedOutcome::pass(seed)
                },
            });
        println!(
            "{:<13} {:>5} {:>12.1} {:>12.1} {:>14.0}",
            exp.protocol.name(),
            jobs,
            sim_only.seeds_per_s,
            checked.seeds_per_s,
            sim_only.simulated_per_wall_s
        );
    }
}
