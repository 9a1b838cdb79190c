//! How small shrinking makes each planted bug's failing run, and what it costs.
//!
//! ```sh
//! cargo run --release --example shrink_bench            # every planted bug, first failing seed
//! cargo run --release --example shrink_bench -- --seeds 0..50 --runs 3000
//! ```
//!
//! For each built-in protocol's planted bug, under random partitions, crashes and pauses with 1%
//! message loss (the custom protocol's bug: `cargo run --release --example custom_protocol --
//! shrink --bug ack-early --seed N`):
//! the first failing seed, then faults / client operations / message anomalies before and after
//! shrinking, the runs tried and the wall-clock seconds. Every shrunk run is checked to fail the
//! same way and its correct twin to pass it.

use std::time::Instant;

use models::causal::Causal;
use models::eventual::Eventual;
use models::experiment::{Experiment, Nemesis};
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::runner::Seeds;
use models::sequential::Sequential;
use models::shrink::ShrinkBudget;

fn bench<P: Protocol>(bug: &str, buggy: P, twin: P, seeds: &Seeds, budget: ShrinkBudget) {
    let setup = |p: P| {
        let mut e = Experiment::new(p).nemesis(Nemesis::standard());
        e.setup.link.loss = 0.01;
        e
    };
    let (exp, twin) = (setup(buggy), setup(twin));
    let name = format!("{} --bug {bug}", exp.protocol.name());
    let Some(seed) = seeds
        .iter()
        .find(|&s| exp.run(s).is_ok_and(|r| r.violation().is_some()))
    else {
        println!("{name:<34} no failing seed in {seeds}");
        return;
    };
    let start = Instant::now();
    let shrunk = match exp.shrink_within(seed, budget) {
        Ok(Some(s)) => s,
        Ok(None) => return println!("{name:<34} seed {seed}: did not fail again"),
        Err(e) => return println!("{name:<34} seed {seed}: {e}"),
    };
    let secs = start.elapsed().as_secs_f64();
    let still = exp
        .replay(&shrunk.repro)
        .is_ok_and(|r| r.violation().is_some());
    let twin_ok = twin
        .replay(&shrunk.repro)
        .is_ok_and(|r| r.violation().is_none());
    let (b, a) = (shrunk.before, shrunk.after);
    println!(
        "{name:<34} seed {seed:>3}  faults {:>2} -> {:<2} ops {:>4} -> {:<3} clients {:>2} -> {:<2} anomalies {:>3} -> {:<3} {:>4} runs {:>6.1} s  {}{}",
        b.faults,
        a.faults,
        b.operations,
        a.operations,
        b.clients,
        a.clients,
        b.messages,
        a.messages,
        shrunk.runs,
        secs,
        if still { "still fails" } else { "DOES NOT FAIL" },
        if twin_ok { ", twin passes" } else { ", TWIN FAILS" }
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds = Seeds::range(0..30);
    let mut budget = ShrinkBudget::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it.next();
        let bad = |what: &str| -> ! {
            eprintln!("shrink_bench: {a}: {what}");
            std::process::exit(2)
        };
        match (a.as_str(), value) {
            ("--seeds", Some(v)) => {
                seeds = Seeds::parse("--seeds", v, false).unwrap_or_else(|e| bad(&e.to_string()))
            }
            ("--runs", Some(v)) => {
                budget.runs = v.parse().unwrap_or_else(|_| bad("not a number of runs"))
            }
            _ => bad("unknown flag or missing value (flags: --seeds A..B, --runs N)"),
        }
    }
    println!(
        "shrinking the first failing seed of each planted bug (budget {} runs)",
        budget.runs
    );
    bench(
        "no-anti-entropy",
        Eventual {
            bug: true,
            ..Eventual::default()
        },
        Eventual::default(),
        &seeds,
        budget,
    );
    bench(
        "no-deps",
        Causal {
            bug: true,
            ..Causal::default()
        },
        Causal::default(),
        &seeds,
        budget,
    );
    bench(
        "no-session",
        Sequential {
            bug: true,
            ..Sequential::default()
        },
        Sequential::default(),
        &seeds,
        budget,
    );
    bench(
        "stale-read",
        Linearizable {
            bug: true,
            ..Linearizable::default()
        },
        Linearizable::default(),
        &seeds,
        budget,
    );
}
