//! Lists the failing seeds of every bug (and of its twin) in its own setup: where the tests'
//! fixed seed windows come from.
//!
//! ```sh
//! cargo run --release -p bugbench --example failing_seeds -- 200
//! ```

use bugbench::catalog;
use models::runner::Runner;

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    for c in catalog() {
        let buggy = c.buggy.sweep(&c.setup, Runner::new(c.name).seeds(0..n));
        let twin = c.twin.sweep(&c.setup, Runner::new(c.name).seeds(0..n));
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
