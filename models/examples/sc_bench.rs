//! Sequential-consistency checker speed on the consistency x availability experiment's histories.
//!
//! Run with `cargo run --release -p models --example sc_bench`. For each protocol and seeds 0..3
//! it runs the default [`Experiment`] (10 clients, 4 keys, a 10 s partition) and prints the
//! verdict of `check_sequential` (10 s budget, one thread) and the time it took.

use models::check::*;
use models::cluster::Experiment;
use models::protocol::Protocol;

fn main() {
    for p in Protocol::ALL {
        for seed in 0..3 {
            let e = Experiment {
                protocol: p,
                ..Experiment::default()
            };
            let o = e.run(seed, None).unwrap();
            #[allow(clippy::disallowed_methods)] // measuring the checker's wall-clock time
            let t = std::time::Instant::now();
            let v = check_sequential(
                &o.history,
                &CheckOptions {
                    budget: Budget {
                        time: Some(std::time::Duration::from_secs(10)),
                        steps: None,
                    },
                    parallelism: 1,
                    ..Default::default()
                },
            )
            .unwrap();
            println!(
                "{p} seed {seed}: {} ops -> {} in {:?}",
                o.history.len() / 2,
                match &v {
                    Verdict::Valid { .. } => "valid".into(),
                    Verdict::Invalid(_) => "INVALID".to_string(),
                    Verdict::Unknown { reason } => format!("unknown ({reason})"),
                },
                t.elapsed()
            );
        }
    }
}
