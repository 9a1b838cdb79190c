//! The bug benchmark's table: for every bug of `bugbench::catalog()` and every strategy of
//! `bugbench::strategies()`, the fraction of seeds that fail, the mean runs and seconds to the
//! first failure from independent starting points, and the false alarms of the correct twin.
//!
//! ```sh
//! cargo run --release -p bugbench --example bench_bugs                       # N = 200, 10 starts, cap 500
//! cargo run --release -p bugbench --example bench_bugs -- --seeds 50 --starts 10 --cap 200
//! cargo run --release -p bugbench --example bench_bugs -- --bug raft-stale-votes --strategy swarm
//! ```
//!
//! Starting point `k` runs seeds `k * 1_000_000`, `k * 1_000_000 + 1`, ... one at a time until
//! one fails or `--cap` runs pass; a start that finds nothing counts as `cap` runs (the mean is
//! then a lower bound, marked `>`). Seconds are wall-clock seconds of that one-at-a-time search.

// The benchmark measures wall-clock time around simulations; it is not simulated code.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::Instant;

use bugbench::{catalog, strategies, BugCase, Strategy};
use models::runner::Runner;

struct Args {
    seeds: u64,
    starts: u64,
    cap: u64,
    bugs: Vec<String>,
    strategies: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        seeds: 200,
        starts: 10,
        cap: 500,
        bugs: Vec::new(),
        strategies: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--seeds" => a.seeds = num(value()?)?,
            "--starts" => a.starts = num(value()?)?,
            "--cap" => a.cap = num(value()?)?.max(1),
            "--bug" => a.bugs.push(value()?),
            "--strategy" => a.strategies.push(value()?),
            other => return Err(format!("unknown flag {other:?} (see the file's docs)")),
        }
    }
    Ok(a)
}

/// One table row: a bug under a strategy.
struct Row {
    failing: u64,
    /// Failures caught by the bug's documented invariant rather than by its model's checker.
    by_invariant: u64,
    twin_failing: u64,
    seeds: u64,
    runs_to_first: Vec<u64>,
    secs_to_first: Vec<f64>,
    censored: u64,
    example: Option<(u64, String)>,
}

fn measure(case: &BugCase, strategy: &Strategy, a: &Args) -> Row {
    let setup = (strategy.apply)(&case.setup);
    let name = format!("bench/{}/{}", case.name, strategy.name);
    let buggy = case
        .buggy
        .sweep(&setup, Runner::new(name.clone()).seeds(0..a.seeds));
    let twin = case.twin.sweep(
        &setup,
        Runner::new(format!("{name}/twin")).seeds(0..a.seeds),
    );
    let mut row = Row {
        failing: buggy.failures.len() as u64,
        by_invariant: buggy
            .failures
            .iter()
            .filter(|f| !f.violation.starts_with(case.model.name()))
            .count() as u64,
        twin_failing: twin.failures.len() as u64,
        seeds: a.seeds,
        runs_to_first: Vec::new(),
        secs_to_first: Vec::new(),
        censored: 0,
        example: buggy.failures.first().map(|f| {
            let first = f.violation.lines().next().unwrap_or("").to_string();
            (f.seed, first)
        }),
    };
    for k in 0..a.starts {
        let start = Instant::now();
        let base = k * 1_000_000;
        let mut found = None;
        for i in 0..a.cap {
            match case.buggy.run(&setup, base + i) {
                Ok(Some(_)) => {
                    found = Some(i + 1);
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    eprintln!("{}: seed {}: {e}", case.name, base + i);
                    break;
                }
            }
        }
        row.secs_to_first.push(start.elapsed().as_secs_f64());
        row.runs_to_first.push(found.unwrap_or(a.cap));
        if found.is_none() {
            row.censored += 1;
        }
    }
    row
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_bugs: {e}");
            return ExitCode::from(2);
        }
    };
    // Actor panics are run errors the report counts; their default messages are noise here.
    std::panic::set_hook(Box::new(|_| {}));
    let cases: Vec<BugCase> = catalog()
        .into_iter()
        .filter(|c| a.bugs.is_empty() || a.bugs.iter().any(|b| b == c.name))
        .collect();
    let strats: Vec<Strategy> = strategies()
        .into_iter()
        .filter(|s| a.strategies.is_empty() || a.strategies.iter().any(|n| n == s.name))
        .collect();
    if cases.is_empty() || strats.is_empty() {
        eprintln!("bench_bugs: no bug or no strategy matches");
        return ExitCode::from(2);
    }
    println!(
        "bug benchmark: {} seeds per cell (0..{}), {} starting points (k * 1_000_000), cap {} runs",
        a.seeds, a.seeds, a.starts, a.cap
    );
    for s in &strats {
        println!("  strategy {:<7} {}", s.name, s.description);
    }
    println!();
    println!(
        "| {:<24} | {:<8} | {:>13} | {:>9} | {:>17} | {:>10} | {:>11} |",
        "bug", "strategy", "failing", "invariant", "runs to first", "s to first", "twin alarms"
    );
    println!(
        "|{:-<26}|{:-<10}|{:->15}|{:->11}|{:->19}|{:->12}|{:->13}|",
        "", "", "", "", "", "", ""
    );
    let mut examples = Vec::new();
    let total = Instant::now();
    for case in &cases {
        for s in &strats {
            let r = measure(case, s, &a);
            let n = r.runs_to_first.len().max(1) as f64;
            let mean_runs = r.runs_to_first.iter().sum::<u64>() as f64 / n;
            let mean_secs = r.secs_to_first.iter().sum::<f64>() / n;
            let bound = if r.censored > 0 { ">" } else { "" };
            let (runs, secs) = if r.runs_to_first.is_empty() {
                ("-".to_string(), "-".to_string())
            } else {
                (
                    format!(
                        "{bound}{mean_runs:.1} ({}/{} found)",
                        r.runs_to_first.len() as u64 - r.censored,
                        r.runs_to_first.len()
                    ),
                    format!("{bound}{mean_secs:.2}"),
                )
            };
            println!(
                "| {:<24} | {:<8} | {:>13} | {:>9} | {:>17} | {:>10} | {:>11} |",
                case.name,
                s.name,
                format!(
                    "{}/{} {:.1}%",
                    r.failing,
                    r.seeds,
                    100.0 * r.failing as f64 / r.seeds.max(1) as f64
                ),
                r.by_invariant,
                runs,
                secs,
                format!("{}/{}", r.twin_failing, r.seeds),
            );
            if let Some((seed, v)) = r.example {
                examples.push(format!("{} / {}: seed {seed}: {v}", case.name, s.name));
            }
        }
    }
    println!();
    println!("first failing seed of each cell:");
    for e in examples {
        println!("  {e}");
    }
    println!(
        "total {:.0} s; {} jobs for the fraction sweeps, 1 for the searches",
        total.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    ExitCode::SUCCESS
}
