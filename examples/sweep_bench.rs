//! Sweep throughput: seeds per second of the default cap experiment, per protocol, with 1 and
//! 2 jobs (simulation only, and simulation plus the protocol's own consistency check).
//!
//! ```text
//! cargo run --release --example sweep_bench -- [--seeds 20]
//! ```

use actsim::harness::{Runner, SeedOutcome};
use models::cluster::Experiment;
use models::evaluate::{evaluate, EvalOptions};
use models::protocol::Protocol;

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
    for p in Protocol::ALL {
        let exp = Experiment {
            protocol: p,
            ..Experiment::default()
        };
        let eval = EvalOptions {
            models: vec![p.model()],
            ..EvalOptions::default()
        };
        for jobs in [1, 2] {
            let sim_only = Runner::new("bench")
                .seeds(0..seeds)
                .jobs(jobs)
                .run(|seed, _| match exp.run(seed, None) {
                    Ok(out) => SeedOutcome {
                        seed,
                        simulated_s: out.final_time.as_secs_f64(),
                        ..Default::default()
                    },
                    Err(e) => SeedOutcome {
                        seed,
                        violation: Some(e.to_string()),
                        ..Default::default()
                    },
                });
            let checked = Runner::new("bench")
                .seeds(0..seeds)
                .jobs(jobs)
                .run(|seed, _| match exp.run(seed, None) {
                    Ok(out) => {
                        let ev = evaluate(&exp, &out, &eval);
                        SeedOutcome {
                            seed,
                            violation: ev.violation(p.model()),
                            ..Default::default()
                        }
                    }
                    Err(e) => SeedOutcome {
                        seed,
                        violation: Some(e.to_string()),
                        ..Default::default()
                    },
                });
            println!(
                "{:<13} {:>5} {:>12.1} {:>12.1} {:>14.0}",
                p.name(),
                jobs,
                sim_only.seeds_per_s,
                checked.seeds_per_s,
                sim_only.simulated_per_wall_s
            );
        }
    }
}
