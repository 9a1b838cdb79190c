//! `actsim scenario`: the application scenarios (dns, comments, feed, password) on the four
//! protocols under partitions — which protocol an application needs, and what it costs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use models::protocol::Protocol;
use models::scenario::report::{table, Row};
use models::scenario::{Scenario, ScenarioExperiment, ScenarioOutcome};

use super::common::NemesisArg;

use crate::harness::Runner;

/// Run application scenarios on the protocols under the cap partition (or another nemesis).
///
/// Prints a table: scenario x protocol -> seeds with a violation of the application's invariant
/// / seeds run (with the first such seed and the command that reproduces it), availability of
/// the scenario's reads and writes on each side of the partition, and for dns the staleness
/// window (time from an acknowledged update until every replica answers it).
///
/// Exit code: 0 when every run completed (violations are results, not errors), 1 when a run
/// ended in an error, 2 on bad arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ScenarioArgs {
    /// The scenario: dns, comments, feed, password, or all.
    #[arg(value_parser = ["dns", "comments", "feed", "password", "all"])]
    pub scenario: String,
    /// Protocol to run on (repeat for several; default: all four).
    #[arg(long = "protocol", value_name = "PROTOCOL")]
    pub protocols: Vec<String>,
    /// Number of seeds.
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Run only this seed and print every violation it has.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Faults to inject.
    #[arg(long, value_enum, default_value = "cap")]
    pub nemesis: NemesisArg,
    /// With --seed: write the run's trace (JSON lines) to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// A bad argument.
#[derive(Debug, thiserror::Error)]
enum ArgError {
    #[error("{0}")]
    Protocol(#[from] models::protocol::UnknownProtocol),
    #[error("{0}")]
    Scenario(#[from] models::scenario::UnknownScenario),
    #[error("--trace needs --seed (it traces one run)")]
    TraceWithoutSeed,
}

struct Plan {
    scenarios: Vec<Scenario>,
    protocols: Vec<Protocol>,
    seeds: Vec<u64>,
}

fn plan(args: &ScenarioArgs) -> Result<Plan, ArgError> {
    let scenarios = if args.scenario == "all" {
        Scenario::ALL.to_vec()
    } else {
        vec![args.scenario.parse()?]
    };
    let mut protocols = Vec::new();
    for p in &args.protocols {
        let p: Protocol = p.parse()?;
        if !protocols.contains(&p) {
            protocols.push(p);
        }
    }
    if protocols.is_empty() {
        protocols = Protocol::ALL.to_vec();
    }
    if args.trace.is_some() && args.seed.is_none() {
        return Err(ArgError::TraceWithoutSeed);
    }
    let seeds = match args.seed {
        Some(s) => vec![s],
        None => (args.first_seed..args.first_seed.saturating_add(args.seeds)).collect(),
    };
    Ok(Plan {
        scenarios,
        protocols,
        seeds,
    })
}

/// The experiment of one scenario on one protocol with these arguments.
pub fn experiment(args: &ScenarioArgs, s: Scenario, p: Protocol) -> ScenarioExperiment {
    let mut e = ScenarioExperiment::new(s, p);
    e.experiment.nemesis = args.nemesis.nemesis();
    e
}

/// The command line that reruns one seed of one row.
pub fn reproduce(args: &ScenarioArgs, s: Scenario, p: Protocol, seed: u64) -> String {
    let mut line = format!("actsim scenario {s} --protocol {p} --seed {seed}");
    if args.nemesis != NemesisArg::Cap {
        line.push_str(&format!(" --nemesis {}", args.nemesis.name()));
    }
    line
}

/// Runs the command; returns the exit code.
pub fn run(args: &ScenarioArgs) -> i32 {
    let plan = match plan(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("actsim scenario: {e}");
            return 2;
        }
    };
    if let Some(seed) = args.seed {
        return run_one_seed(args, &plan, seed);
    }
    let mut jobs: Vec<(Scenario, Protocol, u64)> = Vec::new();
    for &s in &plan.scenarios {
        for &p in &plan.protocols {
            jobs.extend(plan.seeds.iter().map(|&seed| (s, p, seed)));
        }
    }
    let results: Mutex<BTreeMap<usize, Result<ScenarioOutcome, String>>> =
        Mutex::new(BTreeMap::new());
    let mut runner = Runner::new("scenario").seed_list((0..jobs.len() as u64).collect());
    if args.jobs > 0 {
        runner = runner.jobs(args.jobs);
    }
    let pb = super::common::progress(jobs.len() as u64, "scenario");
    let pbc = pb.clone();
    runner = runner.on_progress(move |_, _, _| pbc.inc(1));
    let report = runner.run(|i, _| {
        let (s, p, seed) = jobs[i as usize];
        let r = experiment(args, s, p)
            .run(seed, None)
            .map(|mut o| {
                o.outcome.history = Default::default(); // keep memory flat over many runs
                o
            })
            .map_err(|e| e.to_string());
        if let Ok(mut m) = results.lock() {
            m.insert(i as usize, r);
        }
        crate::harness::SeedOutcome::pass(i)
    });
    pb.finish_and_clear();
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    // A panic inside a run is reported by the runner instead of a result.
    for f in &report.failures {
        results
            .entry(f.seed as usize)
            .or_insert_with(|| Err(f.violation.clone()));
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = false;
    for (i, &(s, p, seed)) in jobs.iter().enumerate() {
        if rows
            .last()
            .is_none_or(|r| r.scenario != s || r.protocol != p)
        {
            rows.push(Row::new(s, p));
        }
        let Some(row) = rows.last_mut() else { continue };
        match results.remove(&i) {
            Some(Ok(o)) => {
                failed |= o.outcome.error.is_some();
                row.add(seed, &o);
            }
            Some(Err(e)) => {
                failed = true;
                row.errors.push((seed, e));
            }
            None => {
                failed = true;
                row.errors.push((seed, "did not run".into()));
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "seeds": plan.seeds, "nemesis": args.nemesis.name(), "rows": rows })
        );
    } else {
        print!(
            "{}",
            table(&rows, |r, seed| reproduce(
                args, r.scenario, r.protocol, seed
            ))
        );
    }
    i32::from(failed)
}

/// How many violations `--seed` prints per run (all are in the JSON).
const SHOW: usize = 10;

fn run_one_seed(args: &ScenarioArgs, plan: &Plan, seed: u64) -> i32 {
    let single = plan.scenarios.len() * plan.protocols.len() == 1;
    if args.trace.is_some() && !single {
        eprintln!("actsim scenario: --trace needs one scenario and one --protocol");
        return 2;
    }
    let mut rows = Vec::new();
    let mut outcomes = Vec::new();
    let mut failed = false;
    for &s in &plan.scenarios {
        for &p in &plan.protocols {
            let trace: Option<Box<dyn std::io::Write>> = match &args.trace {
                None => None,
                Some(path) => match std::fs::File::create(path) {
                    Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
                    Err(e) => {
                        eprintln!("actsim scenario: cannot create {}: {e}", path.display());
                        return 2;
                    }
                },
            };
            let mut row = Row::new(s, p);
            match experiment(args, s, p).run(seed, trace) {
                Ok(mut o) => {
                    failed |= o.outcome.error.is_some();
                    row.add(seed, &o);
                    o.outcome.history = Default::default();
                    outcomes.push(o);
                }
                Err(e) => {
                    failed = true;
                    row.errors.push((seed, e.to_string()));
                }
            }
            rows.push(row);
        }
    }
    if args.json {
        let runs: Vec<_> = outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "scenario": o.scenario, "protocol": o.protocol, "seed": seed,
                    "trace_hash": o.summary.trace_hash.to_string(),
                    "violations": o.violations, "availability": o.availability,
                    "error": o.outcome.error,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "seed": seed, "rows": rows, "runs": runs })
        );
        return i32::from(failed);
    }
    print!(
        "{}",
        table(&rows, |r, seed| reproduce(
            args, r.scenario, r.protocol, seed
        ))
    );
    for o in &outcomes {
        println!(
            "\n{} on {}, seed {seed}: trace hash {}, {} violations",
            o.scenario,
            o.protocol,
            o.summary.trace_hash,
            o.violations.len()
        );
        for v in o.violations.iter().take(SHOW) {
            println!("  {v}");
        }
        if o.violations.len() > SHOW {
            println!(
                "  ... and {} more (--json lists all)",
                o.violations.len() - SHOW
            );
        }
    }
    if let Some(t) = &args.trace {
        println!("\ntrace written to {}", t.display());
    }
    i32::from(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ScenarioArgs,
    }

    fn parse(argv: &[&str]) -> ScenarioArgs {
        Cli::try_parse_from(std::iter::once("scenario").chain(argv.iter().copied()))
            .map(|c| c.args)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn protocols_default_to_all_and_repeat() {
        let p = plan(&parse(&["all"])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.scenarios.len(), 4);
        assert_eq!(p.protocols, Protocol::ALL.to_vec());
        assert_eq!(p.seeds, (0..10).collect::<Vec<_>>());
        let a = parse(&[
            "feed",
            "--protocol",
            "causal",
            "--protocol",
            "eventual",
            "--seeds",
            "3",
        ]);
        let p = plan(&a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.protocols, vec![Protocol::Causal, Protocol::Eventual]);
        assert_eq!(p.seeds, vec![0, 1, 2]);
    }

    #[test]
    fn bad_protocol_and_stray_trace_are_rejected() {
        assert!(plan(&parse(&["dns", "--protocol", "strong"])).is_err());
        assert!(plan(&parse(&["dns", "--trace", "x.jsonl"])).is_err());
        assert_eq!(run(&parse(&["dns", "--protocol", "strong"])), 2);
    }

    #[test]
    fn one_seed_of_password_on_linearizable_runs_clean() {
        let a = parse(&[
            "password",
            "--protocol",
            "linearizable",
            "--seed",
            "1",
            "--json",
        ]);
        assert_eq!(run(&a), 0);
        assert_eq!(
            reproduce(&a, Scenario::Password, Protocol::Linearizable, 1),
            "actsim scenario password --protocol linearizable --seed 1"
        );
    }
}
