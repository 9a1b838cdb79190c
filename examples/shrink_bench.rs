//! How small shrinking makes each planted bug's failing run, and what it costs.
//!
//! ```sh
//! cargo run --release --example shrink_bench            # every planted bug, first failing seed
//! cargo run --release --example shrink_bench -- --seeds 0..50 --runs 3000
//! cargo run --release --example shrink_bench -- --every # every failing seed of --seeds
//! ```
//!
//! For each built-in protocol's planted bug, under random partitions, crashes and pauses with 1%
//! message loss, and for the custom example's `ack-early` (examples/custom_protocol.rs) in its
//! own setup (its two nodes keep nothing across a crash, so its nemesis partitions and pauses):
//! the first failing seed (with `--every`: each failing seed), then faults / client operations
//! / message anomalies before and after shrinking, the runs tried and the wall-clock seconds.
//! Every shrunk run is checked to fail the same way and its correct twin to pass it. The
//! smallest failing runs made by hand, which the shrunk ones are held to within twice of, are
//! `tests/hand_made.rs`.

use std::time::Instant;

use models::causal::Causal;
use models::eventual::Eventual;
use models::experiment::{Experiment, Nemesis};
use models::linearizable::Linearizable;
use models::protocol::Protocol;
use models::runner::Seeds;
use models::sequential::Sequential;
use models::shrink::ShrinkBudget;

#[path = "custom_protocol.rs"]
#[allow(dead_code)]
mod custom_protocol;

/// The built-ins' bench setup: the protocol's own, the standard nemesis, 1% loss.
fn standard<P: Protocol>(p: P) -> Experiment<P> {
    let mut e = Experiment::new(p).nemesis(Nemesis::standard());
    e.setup.link.loss = 0.01;
    e
}

fn bench<P: Protocol>(
    bug: &str,
    (exp, twin): (Experiment<P>, Experiment<P>),
    seeds: &Seeds,
    budget: ShrinkBudget,
    every: bool,
) {
    let name = format!("{} --bug {bug}", exp.protocol.name());
    let failing = seeds
        .iter()
        .filter(|&s| exp.run(s).is_ok_and(|r| r.violation().is_some()));
    let mut any = false;
    for seed in failing {
        any = true;
        shrink_one(&name, &exp, &twin, seed, budget);
        if !every {
            break;
        }
    }
    if !any {
        println!("{name:<34} no failing seed in {seeds}");
    }
}

fn shrink_one<P: Protocol>(
    name: &str,
    exp: &Experiment<P>,
    twin: &Experiment<P>,
    seed: u64,
    budget: ShrinkBudget,
) {
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
    let mut every = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--every" {
            every = true;
            continue;
        }
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
            _ => bad("unknown flag or missing value (flags: --seeds A..B, --runs N, --every)"),
        }
    }
    println!(
        "shrinking {} failing seed of each planted bug (budget {} runs)",
        if every { "every" } else { "the first" },
        budget.runs
    );
    let pair = |bug: Eventual| (standard(bug), standard(Eventual::default()));
    let eventual = pair(Eventual {
        bug: true,
        ..Eventual::default()
    });
    bench("no-anti-entropy", eventual, &seeds, budget, every);
    let causal = (
        standard(Causal {
            bug: true,
            ..Causal::default()
        }),
        standard(Causal::default()),
    );
    bench("no-deps", causal, &seeds, budget, every);
    let sequential = (
        standard(Sequential {
            bug: true,
            ..Sequential::default()
        }),
        standard(Sequential::default()),
    );
    bench("no-session", sequential, &seeds, budget, every);
    let linearizable = (
        standard(Linearizable {
            bug: true,
            ..Linearizable::default()
        }),
        standard(Linearizable::default()),
    );
    bench("stale-read", linearizable, &seeds, budget, every);
    let custom = (
        Experiment::new(custom_protocol::PrimaryBackup { bug: true }),
        Experiment::new(custom_protocol::PrimaryBackup::default()),
    );
    bench("ack-early", custom, &seeds, budget, every);
}
