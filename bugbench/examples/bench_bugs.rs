//! The bug benchmark's table: for every bug of `bugbench::catalog()` and every strategy of
//! `models::strategy` (per-seed strategies, the portfolio, and the coverage-guided search), the
//! fraction of runs that fail, the mean runs and seconds to the first failure from independent
//! starting points, and the false alarms of the correct twin.
//!
//! ```sh
//! cargo run --release -p bugbench --example bench_bugs     # random, portfolio, coverage: N = 200, 10 starts, cap 500
//! cargo run --release -p bugbench --example bench_bugs -- --strategy all --seeds 50 --cap 200
//! cargo run --release -p bugbench --example bench_bugs -- --bug raft-read-before-noop --strategy coverage
//! cargo run --release -p bugbench --example bench_bugs -- --twins-only --seeds 10000 --strategy portfolio
//! ```
//!
//! Starting point `k` runs seeds `k * 1_000_000`, `k * 1_000_000 + 1`, ... one at a time until
//! one fails or `--cap` runs pass (the coverage search starts its fresh seeds there and counts
//! its runs, branches included); a start that finds nothing counts as `cap` runs (the mean is
//! then a lower bound, marked `>`). Seconds are wall-clock seconds of that one-thread search.
//! The fractions: seeds `0..N` under a per-seed strategy, or the N runs of a search from 0.

// The benchmark measures wall-clock time around simulations; it is not simulated code.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::Instant;

use bugbench::{catalog, BugCase};
use models::explore::Explore;
use models::runner::Runner;
use models::strategy::Strategy;

struct Args {
    seeds: u64,
    starts: u64,
    cap: u64,
    bugs: Vec<String>,
    strategies: Vec<Strategy>,
    twins_only: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        seeds: 200,
        starts: 10,
        cap: 500,
        bugs: Vec::new(),
        strategies: Vec::new(),
        twins_only: false,
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
            "--strategy" => match value()?.as_str() {
                "all" => a.strategies.extend(Strategy::ALL),
                name => a
                    .strategies
                    .push(name.parse().map_err(|e| format!("--strategy: {e}"))?),
            },
            "--twins-only" => a.twins_only = true,
            other => return Err(format!("unknown flag {other:?} (see the file's docs)")),
        }
    }
    if a.strategies.is_empty() {
        a.strategies = vec![Strategy::Random, Strategy::Portfolio, Strategy::Coverage];
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
    /// The first failure's first line.
    example: Option<String>,
    /// The twin's first false alarm, if any.
    twin_example: Option<String>,
}

/// Failing runs of `subject` among `n`: seeds `0..n` under a per-seed strategy, or the `n`
/// runs of a coverage search from 0; with the failures' first lines.
fn failing(
    subject: &dyn bugbench::Subject,
    case: &BugCase,
    st: Strategy,
    n: u64,
    name: String,
) -> Vec<(String, String)> {
    if st == Strategy::Coverage {
        match subject.explore(&case.setup, &Explore::new(0, n)) {
            Ok(x) => x
                .failures
                .into_iter()
                .map(|f| (format!("run {} ({})", f.run, f.how), f.violation))
                .collect(),
            Err(e) => vec![("search".into(), format!("experiment error: {e}"))],
        }
    } else {
        let runner = Runner::new(name).seeds(0..n).strategy(st);
        subject
            .sweep(&case.setup, runner)
            .failures
            .into_iter()
            .map(|f| (format!("seed {}", f.seed), f.violation))
            .collect()
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Runs from starting point `k` to the first failure (`None`: none in `cap`).
fn first_failure(case: &BugCase, st: Strategy, k: u64, cap: u64) -> Option<u64> {
    let base = k * 1_000_000;
    if st == Strategy::Coverage {
        let search = Explore {
            jobs: Some(1),
            ..Explore::new(base, cap).stop_at_first()
        };
        return match case.buggy.explore(&case.setup, &search) {
            Ok(x) => x.failures.first().map(|f| f.run),
            Err(e) => {
                eprintln!("{}: coverage from {base}: {e}", case.name);
                None
            }
        };
    }
    for i in 0..cap {
        let seed = base + i;
        match case.buggy.run(&st.setup(&case.setup, seed), seed) {
            Ok(Some(_)) => return Some(i + 1),
            Ok(None) => {}
            Err(e) => {
                eprintln!("{}: seed {seed}: {e}", case.name);
                return None;
            }
        }
    }
    None
}

fn measure(case: &BugCase, st: Strategy, a: &Args) -> Row {
    let name = format!("bench/{}/{st}", case.name);
    let buggy = failing(&*case.buggy, case, st, a.seeds, name.clone());
    let twin = failing(&*case.twin, case, st, a.seeds, format!("{name}/twin"));
    let mut row = Row {
        failing: buggy.len() as u64,
        by_invariant: buggy
            .iter()
            .filter(|(_, v)| !v.starts_with(case.model.name()))
            .count() as u64,
        twin_failing: twin.len() as u64,
        twin_example: twin
            .first()
            .map(|(at, v)| format!("{at}: {}", first_line(v))),
        seeds: a.seeds,
        runs_to_first: Vec::new(),
        secs_to_first: Vec::new(),
        censored: 0,
        example: buggy
            .first()
            .map(|(at, v)| format!("{at}: {}", first_line(v))),
    };
    for k in 0..a.starts {
        let start = Instant::now();
        let found = first_failure(case, st, k, a.cap);
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
    if cases.is_empty() {
        eprintln!("bench_bugs: no bug matches (see `bugbench::catalog()`)");
        return ExitCode::from(2);
    }
    let total = Instant::now();
    if a.twins_only {
        return twins_only(&cases, &a, total);
    }
    println!(
        "bug benchmark: {} runs per cell, {} starting points (k * 1_000_000), cap {} runs",
        a.seeds, a.starts, a.cap
    );
    println!();
    println!(
        "| {:<24} | {:<10} | {:>13} | {:>9} | {:>18} | {:>10} | {:>11} |",
        "bug", "strategy", "failing", "invariant", "runs to first", "s to first", "twin alarms"
    );
    println!(
        "|{:-<26}|{:-<12}|{:->15}|{:->11}|{:->20}|{:->12}|{:->13}|",
        "", "", "", "", "", "", ""
    );
    let mut examples = Vec::new();
    let mut means: Vec<(Strategy, Vec<f64>)> =
        a.strategies.iter().map(|&s| (s, Vec::new())).collect();
    for case in &cases {
        for (st, m) in &mut means {
            let r = measure(case, *st, &a);
            let n = r.runs_to_first.len().max(1) as f64;
            let mean_runs = r.runs_to_first.iter().sum::<u64>() as f64 / n;
            let mean_secs = r.secs_to_first.iter().sum::<f64>() / n;
            m.push(mean_runs);
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
                "| {:<24} | {:<10} | {:>13} | {:>9} | {:>18} | {:>10} | {:>11} |",
                case.name,
                st.name(),
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
            if let Some(v) = r.example {
                examples.push(format!("{} / {st}: {v}", case.name));
            }
            if let Some(v) = r.twin_example {
                examples.push(format!(
                    "{} / {st}: FALSE ALARM of the twin: {v}",
                    case.name
                ));
            }
        }
    }
    println!();
    println!(
        "mean runs to first failure, averaged over the bugs (censored starts count as the cap):"
    );
    for (st, m) in &means {
        let worst = m.iter().copied().fold(0.0, f64::max);
        println!(
            "  {:<10} mean {:>6.1}, worst bug {:>6.1}",
            st.name(),
            m.iter().sum::<f64>() / m.len().max(1) as f64,
            worst
        );
    }
    println!();
    println!("first failure of each cell:");
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

/// Only the correct twins: false alarms in `--seeds` runs per strategy.
fn twins_only(cases: &[BugCase], a: &Args, total: Instant) -> ExitCode {
    println!(
        "correct twins: false alarms in {} runs per strategy",
        a.seeds
    );
    let mut alarms = 0;
    for case in cases {
        for &st in &a.strategies {
            let start = Instant::now();
            let name = format!("bench/{}/{st}/twin", case.name);
            let f = failing(&*case.twin, case, st, a.seeds, name);
            alarms += f.len();
            println!(
                "  {:<24} {:<10} {}/{} false alarms ({:.0} s){}",
                case.name,
                st.name(),
                f.len(),
                a.seeds,
                start.elapsed().as_secs_f64(),
                f.first().map_or(String::new(), |(at, v)| format!(
                    ": {at}: {}",
                    first_line(v)
                ))
            );
        }
    }
    println!("total {:.0} s", total.elapsed().as_secs_f64());
    if alarms == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
