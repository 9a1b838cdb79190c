//! `actsim scenario`: the application scenarios (dns, comments, feed, password) on the four
//! protocols under partitions — which protocol an application needs, and what it costs.

use std::path::PathBuf;

use models::runner::{Runner, SeedOutcome, Seeds};
use models::scenario::report::{table, Row};
use models::scenario::{Scenario, ScenarioOutcome};

use super::common::NemesisArg;
use super::registry::Driver;
use super::{CliError, Ctx};

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
    /// Protocol to run on (repeat for several; default: all).
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

struct Plan<'a> {
    scenarios: Vec<Scenario>,
    protocols: Vec<&'a dyn Driver>,
    seeds: Vec<u64>,
}

fn plan<'a>(args: &ScenarioArgs, ctx: &'a Ctx) -> Result<Plan<'a>, CliError> {
    let scenarios = if args.scenario == "all" {
        Scenario::ALL.to_vec()
    } else {
        vec![args
            .scenario
            .parse()
            .map_err(|e: models::scenario::UnknownScenario| CliError::Flag {
                flag: "scenario",
                reason: e.to_string(),
            })?]
    };
    let protocols = ctx.drivers(&args.protocols)?;
    if args.trace.is_some() && args.seed.is_none() {
        return Err(CliError::Flag {
            flag: "trace",
            reason: "needs --seed (it traces one run)".into(),
        });
    }
    if args.seeds > 1_000_000 {
        return Err(CliError::Flag {
            flag: "seeds",
            reason: format!("{} is more than 1000000 seeds", args.seeds),
        });
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

/// The command line that reruns one seed of one row.
pub fn reproduce(ctx: &Ctx, args: &ScenarioArgs, s: Scenario, p: &str, seed: u64) -> String {
    let mut line = format!(
        "{} scenario {s}{} --seed {seed}",
        ctx.command(),
        ctx.protocol_flag(p)
    );
    if args.nemesis != NemesisArg::Cap {
        line.push_str(&format!(" --nemesis {}", args.nemesis.name()));
    }
    line
}

/// Runs the command; exit code 1 if a run ended in an error.
pub fn run(args: &ScenarioArgs, ctx: &Ctx) -> Result<u8, CliError> {
    let plan = plan(args, ctx)?;
    if let Some(seed) = args.seed {
        return run_one_seed(args, ctx, &plan, seed);
    }
    let mut jobs: Vec<(Scenario, &dyn Driver, u64)> = Vec::new();
    for &s in &plan.scenarios {
        for &p in &plan.protocols {
            jobs.extend(plan.seeds.iter().map(|&seed| (s, p, seed)));
        }
    }
    let nemesis = args.nemesis.nemesis();
    let mut runner = Runner::new("scenario").seed_set(Seeds::range(0..jobs.len() as u64));
    if args.jobs > 0 {
        runner = runner.jobs(args.jobs);
    }
    let pb = super::common::progress(jobs.len() as u64, "scenario");
    let pbc = pb.clone();
    runner = runner.on_progress(move |_, _, _| pbc.inc(1));
    let report = runner.run(|i, _| {
        let (s, p, seed) = jobs[i as usize];
        let r: Result<ScenarioOutcome, String> = p
            .scenario(s, &nemesis, seed, None)
            .map(|mut o| {
                o.outcome.history = Default::default(); // keep memory flat over many runs
                o
            })
            .map_err(|e| e.to_string());
        SeedOutcome::pass(i).with(Some(r))
    });
    pb.finish_and_clear();
    let mut results: Vec<Option<Result<ScenarioOutcome, String>>> =
        report.outcomes.into_iter().map(|o| o.value).collect();
    // A panic inside a run is reported by the runner instead of a result.
    for f in &report.failures {
        if let Some(slot) = results.get_mut(f.seed as usize) {
            *slot = Some(Err(f.violation.clone()));
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = false;
    for (i, &(s, p, seed)) in jobs.iter().enumerate() {
        if rows
            .last()
            .is_none_or(|r| r.scenario != s || r.protocol != p.name())
        {
            rows.push(Row::new(s, p.name()));
        }
        let Some(row) = rows.last_mut() else { continue };
        match results.get_mut(i).and_then(Option::take) {
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
                ctx,
                args,
                r.scenario,
                &r.protocol,
                seed
            ))
        );
    }
    Ok(u8::from(failed))
}

/// How many violations `--seed` prints per run (all are in the JSON).
const SHOW: usize = 10;

fn run_one_seed(args: &ScenarioArgs, ctx: &Ctx, plan: &Plan, seed: u64) -> Result<u8, CliError> {
    let single = plan.scenarios.len() * plan.protocols.len() == 1;
    if args.trace.is_some() && !single {
        return Err(CliError::Flag {
            flag: "trace",
            reason: "needs one scenario and one --protocol".into(),
        });
    }
    let nemesis = args.nemesis.nemesis();
    let mut rows = Vec::new();
    let mut outcomes = Vec::new();
    let mut failed = false;
    for &s in &plan.scenarios {
        for &p in &plan.protocols {
            let trace = super::common::trace_writer(&args.trace)?;
            let mut row = Row::new(s, p.name());
            match p.scenario(s, &nemesis, seed, trace) {
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
        return Ok(u8::from(failed));
    }
    print!(
        "{}",
        table(&rows, |r, seed| reproduce(
            ctx,
            args,
            r.scenario,
            &r.protocol,
            seed
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
    Ok(u8::from(failed))
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

    fn names(p: &Plan) -> Vec<String> {
        p.protocols.iter().map(|d| d.name().to_string()).collect()
    }

    #[test]
    fn protocols_default_to_all_and_repeat() {
        let ctx = crate::cli::builtins().ctx;
        let p = plan(&parse(&["all"]), &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.scenarios.len(), 4);
        assert_eq!(
            names(&p),
            ["eventual", "causal", "sequential", "linearizable"]
        );
        assert_eq!(p.seeds, (0..10).collect::<Vec<_>>());
        let a = parse(&[
            "feed",
            "--protocol",
            "causal",
            "--protocol",
            "eventual",
            "--protocol",
            "causal",
            "--seeds",
            "3",
        ]);
        let p = plan(&a, &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&p), ["causal", "eventual"]);
        assert_eq!(p.seeds, vec![0, 1, 2]);
    }

    #[test]
    fn bad_protocol_and_stray_trace_are_rejected() {
        let ctx = crate::cli::builtins().ctx;
        assert!(plan(&parse(&["dns", "--protocol", "strong"]), &ctx).is_err());
        assert!(plan(&parse(&["dns", "--trace", "x.jsonl"]), &ctx).is_err());
        assert!(run(&parse(&["dns", "--protocol", "strong"]), &ctx).is_err());
    }

    #[test]
    fn one_seed_of_password_on_linearizable_runs_clean() {
        let ctx = crate::cli::builtins().ctx;
        let a = parse(&[
            "password",
            "--protocol",
            "linearizable",
            "--seed",
            "1",
            "--json",
        ]);
        assert_eq!(run(&a, &ctx).ok(), Some(0));
        assert_eq!(
            reproduce(&ctx, &a, Scenario::Password, "linearizable", 1),
            "actsim scenario password --protocol linearizable --seed 1"
        );
    }
}
