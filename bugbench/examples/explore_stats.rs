//! How a coverage-guided search grows on one bug: coverage points and corpus per batch, and
//! the failures it finds.
//!
//! ```sh
//! cargo run --release -p bugbench --example explore_stats -- raft-read-before-noop 400 [twin]
//! ```

use bugbench::BugCase;
use models::explore::Explore;

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(case) = args.first().and_then(|n| BugCase::named(n)) else {
        eprintln!("explore_stats: name a bug of bugbench::catalog()");
        std::process::exit(2);
    };
    let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(400);
    let subject = if args.get(2).is_some_and(|a| a == "twin") {
        &case.twin
    } else {
        &case.buggy
    };
    match subject.explore(&case.setup, &Explore::new(0, runs)) {
        Ok(x) => {
            println!(
                "{}: {} runs ({} fresh), {} points, corpus {}, {} failing, {:.1} s",
                case.name,
                x.runs,
                x.fresh,
                x.points,
                x.corpus,
                x.failures.len(),
                x.elapsed_s
            );
            let step = (x.growth.len() / 20).max(1);
            let curve: Vec<String> = x
                .growth
                .iter()
                .step_by(step)
                .map(|p| p.to_string())
                .collect();
            println!("points after every {} batches: {}", step, curve.join(" "));
            let mut by: std::collections::BTreeMap<String, u64> = Default::default();
            for f in &x.failures {
                let kind = if f.how.starts_with("fresh") {
                    "fresh"
                } else if f.how.contains("faults from") {
                    "branch: other faults"
                } else if f.how.contains("delayed") {
                    "branch: delayed send"
                } else {
                    "branch: node fault"
                };
                *by.entry(kind.to_string()).or_default() += 1;
            }
            println!("failures by how the run was made: {by:?}");
            for f in x.failures.iter().take(10) {
                println!(
                    "  run {:>4}: {} — {}",
                    f.run,
                    f.how,
                    f.violation.lines().next().unwrap_or("")
                );
            }
        }
        Err(e) => {
            eprintln!("explore_stats: {e}");
            std::process::exit(2);
        }
    }
}
