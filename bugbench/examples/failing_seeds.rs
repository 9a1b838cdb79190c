//! Lists the failing seeds of every bug (and of its twin) in its own setup under a strategy
//! (default: the portfolio, as the tests run them): where the tests' fixed seed windows come
//! from.
//!
//! ```sh
//! cargo run --release -p bugbench --example failing_seeds -- 200
//! cargo run --release -p bugbench --example failing_seeds -- 200 random
//! ```

use bugbench::catalog;
use models::runner::Runner;
use models::strategy::Strategy;

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let strategy: Strategy = match std::env::args().nth(2).map(|s| s.parse()) {
        None => Strategy::Portfolio,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("failing_seeds: {e}");
            std::process::exit(2);
        }
    };
    println!("seeds 0..{n} under {strategy}");
    for c in catalog() {
        let buggy = c
            .buggy
            .sweep(&c.setup, Runner::new(c.name).seeds(0..n).strategy(strategy));
        let twin = c
            .twin
            .sweep(&c.setup, Runner::new(c.name).seeds(0..n).strategy(strategy));
        let seeds: Vec<String> = buggy
            .failures
            .iter()
            .map(|f| {
                let how = if f.violation.starts_with(c.model.name()) {
                    ""
                } else {
                    "*"
                };
                format!("{}{how}", f.seed)
            })
            .collect();
        println!(
            "{:<24} {}/{n} fail: {}  | twin fails {}",
            c.name,
            buggy.failures.len(),
            seeds.join(" "),
            twin.failures.len()
        );
    }
    println!("(* = caught by the documented invariant, not the checker)");
}
