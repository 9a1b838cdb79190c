//! `actsim cap`: the consistency x availability table, measured under a partition.

use std::collections::BTreeMap;
use std::time::Instant;

use clap::Args;
use models::check::Model;
use models::evaluate::{Evaluation, ReadWrite, Verdict};
use models::experiment::{Nemesis, Setup, Side};
use models::runner::{RunOptions, Runner, SeedOutcome};
use serde::Serialize;

use super::common::{default_jobs, eval_options_for, progress, ExperimentArgs};
use super::{CliError, Ctx};

/// Arguments of `actsim cap`.
#[derive(Clone, Debug, Args)]
pub struct CapArgs {
    /// Seeds per protocol (seeds 0..N).
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// Parallel jobs (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Protocols to run (repeatable; default: all).
    #[arg(long = "protocol")]
    pub protocols: Vec<String>,
    /// Time budget of each search-based check, ms (a check over budget is "unknown").
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
    #[command(flatten)]
    pub exp: ExperimentArgs,
}

/// Per-model tally over seeds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    /// Seeds where the model held.
    pub passed: usize,
    /// Seeds where it did not.
    pub failed: usize,
    /// Seeds the checker could not decide.
    pub unknown: usize,
    /// The first failing seed.
    pub first_failing_seed: Option<u64>,
    /// What failed on that seed (first line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_violation: Option<String>,
    /// The command that reproduces the first failing seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
struct Frac {
    read: f64,
    write: f64,
}

#[derive(Clone, Debug, Serialize)]
struct Row {
    protocol: String,
    promised: Model,
    seeds: usize,
    availability: BTreeMap<&'static str, Frac>,
    latency_ms: BTreeMap<&'static str, f64>,
    checks: BTreeMap<Model, Tally>,
    theory: &'static str,
    agrees: bool,
    disagreements: Vec<String>,
    superseded_writes: usize,
    errors: Vec<String>,
}

/// What theory predicts for a protocol promising `m`: (description, [min, max] ok-fraction
/// for majority read, majority write, minority read, minority write).
fn prediction(m: Model) -> (&'static str, [(f64, f64); 4]) {
    match m {
        Model::Eventual => (
            "totally available (HAT): reads and writes on both sides",
            [(0.99, 1.0); 4],
        ),
        Model::CausalPlus | Model::Causal | Model::Sessions => (
            "sticky available: reads and writes on both sides",
            [(0.99, 1.0); 4],
        ),
        Model::Sequential => (
            "minority serves stale reads, cannot write",
            [(0.95, 1.0), (0.95, 1.0), (0.99, 1.0), (0.0, 0.05)],
        ),
        Model::Linearizable => (
            "unavailable on the minority (CP)",
            [(0.9, 1.0), (0.9, 1.0), (0.0, 0.05), (0.0, 0.05)],
        ),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn row(
    p: &str,
    promised: Model,
    evals: &[Evaluation],
    reproduce: &dyn Fn(&str, u64) -> String,
) -> Row {
    let mut sides: BTreeMap<Side, ReadWrite> = BTreeMap::new();
    for e in evals {
        for (s, rw) in &e.during_faults {
            sides.entry(*s).or_default().add(rw);
        }
    }
    let frac = |s: Side| {
        let rw = sides.get(&s).copied().unwrap_or_default();
        Frac {
            read: rw.read.fraction(),
            write: rw.write.fraction(),
        }
    };
    let (maj, min) = (frac(Side::Majority), frac(Side::Minority));
    let (theory, bounds) = prediction(promised);
    let measured = [
        ("majority read", maj.read),
        ("majority write", maj.write),
        ("minority read", min.read),
        ("minority write", min.write),
    ];
    let disagreements: Vec<String> = measured
        .iter()
        .zip(bounds)
        .filter(|((_, v), (lo, hi))| v < lo || v > hi)
        .map(|((name, v), (lo, hi))| format!("{name} {v:.2} outside [{lo:.2}, {hi:.2}]"))
        .collect();
    let mut checks: BTreeMap<Model, Tally> = BTreeMap::new();
    for e in evals {
        for (m, c) in &e.checks {
            let t = checks.entry(*m).or_default();
            match c {
                Verdict::Valid { .. } => t.passed += 1,
                Verdict::Unknown { .. } => t.unknown += 1,
                Verdict::Invalid { counterexample, .. } => {
                    let why = counterexample.to_string();
                    t.failed += 1;
                    if t.first_failing_seed.is_none_or(|s| e.seed < s) {
                        t.first_failing_seed = Some(e.seed);
                        t.first_violation = why.lines().next().map(str::to_string);
                        let check = if *m == promised {
                            String::new()
                        } else {
                            format!(" --check {m}")
                        };
                        t.reproduce = Some(format!("{}{check}", reproduce(p, e.seed)));
                    }
                }
            }
        }
    }
    let mut availability = BTreeMap::new();
    availability.insert("majority", maj);
    availability.insert("minority", min);
    let mut latency_ms = BTreeMap::new();
    latency_ms.insert(
        "p50",
        median(evals.iter().map(|e| e.latency_ms.0).collect()),
    );
    latency_ms.insert(
        "p99",
        median(evals.iter().map(|e| e.latency_ms.1).collect()),
    );
    Row {
        protocol: p.to_string(),
        promised,
        seeds: evals.len(),
        availability,
        latency_ms,
        checks,
        theory,
        agrees: disagreements.is_empty(),
        disagreements,
        superseded_writes: evals.iter().map(|e| e.superseded_writes).sum(),
        errors: evals
            .iter()
            .filter_map(|e| e.error.as_ref().map(|x| format!("seed {}: {x}", e.seed)))
            .collect(),
    }
}

/// The table's model columns, strongest first (sessions is in `--json`).
const COLUMNS: [Model; 5] = [
    Model::Linearizable,
    Model::Sequential,
    Model::CausalPlus,
    Model::Causal,
    Model::Eventual,
];

fn cell(t: Option<&Tally>) -> String {
    match t {
        None => "-".into(),
        Some(t) if t.failed == 0 && t.unknown == 0 => format!("pass {}", t.passed),
        Some(t) if t.failed == 0 && t.passed == 0 => format!("unknown {}", t.unknown),
        Some(t) if t.failed == 0 => format!("pass {} ?{}", t.passed, t.unknown),
        Some(t) => format!(
            "FAIL {}/{} s{}",
            t.failed,
            t.passed + t.failed + t.unknown,
            t.first_failing_seed.unwrap_or(0)
        ),
    }
}

/// Runs `actsim cap`; exit code 1 if a run ended in an error.
pub fn run(args: &CapArgs, ctx: &Ctx) -> Result<u8, CliError> {
    if args.exp.strategy.is_some() {
        return Err(CliError::Flag {
            flag: "strategy",
            reason:
                "the cap table runs the cap partition; strategies are for run, sweep and shrink"
                    .into(),
        });
    }
    let drivers = ctx.drivers(&args.protocols)?;
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    // The table's models (sessions, the slowest to check and implied by causal, is left out).
    let eval = eval_options_for(args.budget_ms, COLUMNS.to_vec());
    let flags = args.exp.non_default_flags();
    let cmd = ctx.command().to_string();
    let reproduce =
        |p: &str, seed: u64| format!("{cmd} run{} --seed {seed}{flags}", ctx.protocol_flag(p));
    let setups: Vec<Setup> = drivers
        .iter()
        .map(|d| args.exp.apply(&d.setup(), Some(Nemesis::CapPartition)))
        .collect();
    for (d, setup) in drivers.iter().zip(&setups) {
        d.validate(None, setup)?;
    }
    let start = Instant::now();
    let pb = progress(args.seeds.saturating_mul(drivers.len() as u64), "cap");
    let mut rows = Vec::new();
    let mut simulated = 0.0;
    for (d, setup) in drivers.iter().zip(&setups) {
        pb.set_message(d.name().to_string());
        let pbc = pb.clone();
        let report = Runner::new("cap")
            .seeds(0..args.seeds)
            .jobs(jobs)
            .on_progress(move |_, _, _| pbc.inc(1))
            .run(
                |seed, _| match d.run(None, setup, &eval, seed, &RunOptions::default(), None) {
                    Ok((out, ev)) => SeedOutcome {
                        seed,
                        trace_hash: Some(ev.trace_hash),
                        simulated_s: out.final_time.as_secs_f64(),
                        events: out.summary.counters.events,
                        value: Some(ev),
                        ..Default::default()
                    },
                    Err(e) => SeedOutcome {
                        seed,
                        violation: Some(e.to_string()),
                        ..Default::default()
                    },
                },
            );
        simulated += report.outcomes.iter().map(|o| o.simulated_s).sum::<f64>();
        let evals: Vec<Evaluation> = report
            .outcomes
            .iter()
            .filter_map(|o| o.value.clone())
            .collect();
        let mut r = row(d.name(), d.model(), &evals, &reproduce);
        r.errors.extend(
            report
                .failures
                .iter()
                .map(|f| format!("seed {}: {}", f.seed, f.violation)),
        );
        rows.push(r);
    }
    pb.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let setup = setups.first().cloned().unwrap_or_default();
    if args.json {
        let doc = serde_json::json!({
            "seeds": args.seeds,
            "replicas": setup.replicas,
            "clients": setup.clients,
            "elapsed_s": elapsed,
            "simulated_s": simulated,
            "simulated_per_wall_s": simulated / elapsed.max(1e-9),
            "protocols": rows.iter().map(|r| (r.protocol.clone(), r)).collect::<BTreeMap<_, _>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print_table(args, &setup, &rows, elapsed, simulated);
    }
    Ok(u8::from(rows.iter().any(|r| !r.errors.is_empty())))
}

fn print_table(args: &CapArgs, exp: &Setup, rows: &[Row], elapsed: f64, simulated: f64) {
    let sides = exp.sides();
    let names = |side| {
        sides
            .iter()
            .filter(|(n, s)| **s == side && n.0 < exp.replicas)
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "actsim cap: {} replicas, {} clients, {} keys, {:.0}% reads; partition {{{}}} | {{{}}} from {:.1}s to {:.1}s, heal, {:.1}s quiet; {} seeds per protocol\n",
        exp.replicas,
        exp.clients,
        exp.workload.keys,
        exp.workload.read_fraction * 100.0,
        names(Side::Majority),
        names(Side::Minority),
        exp.healthy.as_secs_f64(),
        exp.fault_end().as_secs_f64(),
        exp.quiet.as_secs_f64(),
        args.seeds
    );
    let mut head = format!(
        "{:<13} {:>16} {:>16} {:>14}  ",
        "", "majority", "minority", "latency ms"
    );
    let mut sub = format!(
        "{:<13} {:>16} {:>16} {:>14}  ",
        "protocol", "read / write", "read / write", "p50 / p99"
    );
    for m in COLUMNS {
        head.push_str(&format!(" {:<15}", m.name()));
        sub.push_str(&format!(" {:<15}", ""));
    }
    println!("{}\n{}", head.trim_end(), sub.trim_end());
    for r in rows {
        let a = |s: &str| {
            r.availability
                .get(s)
                .map_or("-".into(), |f| format!("{:.2} / {:.2}", f.read, f.write))
        };
        let mut line = format!(
            "{:<13} {:>16} {:>16} {:>14}  ",
            r.protocol,
            a("majority"),
            a("minority"),
            format!("{:.1} / {:.1}", r.latency_ms["p50"], r.latency_ms["p99"]),
        );
        for m in COLUMNS {
            line.push_str(&format!(" {:<15}", cell(r.checks.get(&m))));
        }
        println!("{}", line.trim_end());
    }
    println!("\nReading against the theory (CAP; Bailis et al., Highly Available Transactions):");
    for r in rows {
        let verdict = if r.agrees {
            "as measured".to_string()
        } else {
            format!("DISAGREES: {}", r.disagreements.join("; "))
        };
        println!("  {:<13} {} — {}", r.protocol, r.theory, verdict);
        let own = r.promised;
        for (m, t) in &r.checks {
            // Only a model the protocol promises (its own or one it implies) failing is a
            // surprise: a stronger one failing is the point of the table.
            if t.failed > 0 && own.implies(*m) {
                println!(
                    "    {m} FAILED on {} seeds, unexpected for a {} protocol",
                    t.failed, r.protocol
                );
            }
        }
        if r.superseded_writes > 0 {
            println!(
                "    {} acknowledged writes were superseded by a concurrent, real-time-earlier write (allowed by {own}; lost to the user)",
                r.superseded_writes
            );
        }
        for e in &r.errors {
            println!("    run error: {e}");
        }
    }
    let fails: Vec<(&Row, &Model, &Tally)> = rows
        .iter()
        .flat_map(|r| {
            r.checks
                .iter()
                .filter(|(_, t)| t.failed > 0)
                .map(move |(m, t)| (r, m, t))
        })
        .collect();
    if !fails.is_empty() {
        println!("\nFirst failing seed of each check (a weaker protocol failing a stronger model is the point):");
        for (r, m, t) in fails {
            println!(
                "  {:<13} {:<13} seed {}: {}\n      reproduce: {}",
                r.protocol,
                m.name(),
                t.first_failing_seed.unwrap_or(0),
                t.first_violation.as_deref().unwrap_or(""),
                t.reproduce.as_deref().unwrap_or("")
            );
        }
    }
    let unknown: usize = rows
        .iter()
        .flat_map(|r| r.checks.values())
        .map(|t| t.unknown)
        .sum();
    if unknown > 0 {
        println!(
            "\n{unknown} checks ran out of their {} ms budget (raise --budget-ms).",
            args.budget_ms
        );
    }
    println!(
        "\n{} runs in {:.1}s wall, {:.0} simulated seconds ({:.0}x real time)",
        rows.iter().map(|r| r.seeds).sum::<usize>(),
        elapsed,
        simulated,
        simulated / elapsed.max(1e-9)
    );
}
