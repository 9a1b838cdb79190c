//! `actsim sweep`: many seeds of one protocol, the failing ones with how to reproduce them.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use models::runner::{RunOptions, Runner, SeedOutcome, Seeds};

use super::common::{
    default_jobs, eval_options_for, nemesis_flag, progress, ExperimentArgs, NemesisArg,
};
use super::{CliError, Ctx};

/// Arguments of `actsim sweep`.
#[derive(Clone, Debug, Args)]
pub struct SweepArgs {
    /// The protocol (optional when the binary has only one).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Turn on the protocol's planted bug.
    #[arg(long)]
    pub bug: Option<String>,
    /// Seeds: a range `A..B` (B excluded; `0..18446744073709551615` with --budget is fine) or
    /// one seed [default: ACTSIM_SEEDS, ACTSIM_SEED, else 0..100].
    #[arg(long)]
    pub seeds: Option<String>,
    /// Parallel jobs (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Stop starting seeds after this long (e.g. 60s, 5m).
    #[arg(long, value_parser = parse_duration)]
    pub budget: Option<Duration>,
    /// Run only the i-th of n slices of the seeds (`i/n`, 0-based), to spread a sweep over machines.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u64, u64)>,
    /// Run every seed twice and fail it if the two trace hashes differ.
    #[arg(long)]
    pub check_determinism: bool,
    /// Swarm testing: each seed also draws which fault kinds and rates are on.
    #[arg(long)]
    pub swarm: bool,
    /// Faults to inject [default: the protocol's own; the cap partition for the built-ins].
    #[arg(long, value_enum)]
    pub nemesis: Option<NemesisArg>,
    /// Write the traces of failing seeds into this directory.
    #[arg(long)]
    pub trace_dir: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Time budget of each search-based check, ms.
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
    #[command(flatten)]
    pub exp: ExperimentArgs,
}

/// Parses `60s`, `5m`, `1h`, `250ms` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration {s:?}: {e}"))
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("shard {s:?} is not i/n"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("bad shard index in {s:?}"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("bad shard count in {s:?}"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {s:?}: need 0 <= i < n"));
    }
    Ok((i, n))
}

/// Runs `actsim sweep`; exit code 1 if any seed failed.
pub fn run(args: &SweepArgs, ctx: &Ctx) -> Result<u8, CliError> {
    let driver = ctx.driver(args.protocol.as_deref())?;
    let bug = args.bug.as_deref();
    // ACTSIM_* variables apply where no flag says otherwise.
    let env = Runner::new("env")
        .seeds(0..100)
        .try_from_env()
        .map_err(|e| CliError::Flag {
            flag: "seeds",
            reason: e.to_string(),
        })?;
    let mut seeds = match &args.seeds {
        Some(s) => Seeds::parse("seeds", s, false).map_err(|e| CliError::Flag {
            flag: "seeds",
            reason: e.to_string(),
        })?,
        None => env.seed_list().clone(),
    };
    if let Some((i, n)) = args.shard {
        seeds = seeds.shard(i, n).map_err(|e| CliError::Flag {
            flag: "shard",
            reason: e.to_string(),
        })?;
    }
    let nem_arg = if args.swarm {
        Some(NemesisArg::Swarm)
    } else {
        args.nemesis
    };
    let setup = args
        .exp
        .apply(&driver.setup(), nem_arg.map(NemesisArg::nemesis));
    driver.validate(bug, &setup)?;
    let model = driver.model();
    let eval = eval_options_for(args.budget_ms, vec![model]);
    let flags = format!(
        "{}{}{}{}",
        ctx.protocol_flag(driver.name()),
        bug.map_or(String::new(), |b| format!(" --bug {b}")),
        nemesis_flag(nem_arg),
        args.exp.non_default_flags()
    );
    if args.exp.strategy == Some(models::strategy::Strategy::Coverage) {
        return explore(args, ctx, driver, &setup, &eval, &seeds);
    }
    let pb = progress(seeds.len(), "sweep");
    let pbc = pb.clone();
    let (cmd, f1, f2) = (ctx.command().to_string(), flags.clone(), flags.clone());
    let cmd2 = cmd.clone();
    let (c3, f3, c4, f4) = (cmd.clone(), flags.clone(), cmd.clone(), flags.clone());
    let runner_lines = (
        move |seed: u64| format!("{c3} run --seed {seed}{f3}"),
        move |seed: u64| format!("{c4} shrink --seed {seed}{f4}"),
    );
    let mut runner = Runner::new(format!("sweep-{}", driver.name()))
        .seed_set(seeds)
        .jobs(
            args.jobs
                .unwrap_or_else(|| env.job_count().unwrap_or_else(default_jobs)),
        )
        .check_determinism(args.check_determinism || env.checks_determinism())
        .reproduce_with(move |seed| format!("{cmd} run --seed {seed}{f1}"))
        .shrink_with(move |seed| format!("{cmd2} shrink --seed {seed}{f2}"))
        .on_progress(move |_, _, failed| {
            pbc.inc(1);
            pbc.set_message(format!("{failed} failed"));
        });
    if let Some(b) = args.budget {
        runner = runner.budget(b);
    }
    if let Some(d) = args.trace_dir.as_ref().or(env.trace_dir_path()) {
        runner = runner.trace_dir(d);
    }
    let report = runner.run(|seed, opts: &RunOptions| {
        let setup = args.exp.for_seed(&setup, seed);
        match driver.run(bug, &setup, &eval, seed, opts, None) {
            Ok((out, ev)) if opts.trace.is_some() => {
                // A failing seed rerun for its trace: its HTML report goes beside the trace.
                let trace = opts.trace.as_deref().unwrap_or(std::path::Path::new(""));
                let html = trace.with_extension("html");
                let info = super::report::RunInfo {
                    protocol: driver.name(),
                    reproduce: runner_lines.0(seed),
                    shrink: Some(runner_lines.1(seed)),
                    trace: Some(trace),
                    config: Vec::new(),
                };
                if let Err(e) = super::report::write_run_report(info, &html, &out, &ev, None) {
                    eprintln!("cannot write the report {}: {e}", html.display());
                }
                SeedOutcome::pass(seed)
            }
            Ok((out, ev)) => SeedOutcome {
                seed,
                trace_hash: Some(ev.trace_hash),
                violation: ev.violation_of(model),
                simulated_s: out.final_time.as_secs_f64(),
                events: out.summary.counters.events,
                event_hashes: out.event_hashes,
                value: (),
            },
            Err(e) => SeedOutcome {
                seed,
                violation: Some(e.to_string()),
                ..Default::default()
            },
        }
    });
    pb.finish_and_clear();
    if args.json {
        let doc = serde_json::json!({
            "protocol": driver.name(),
            "bug": args.bug,
            "seeds_run": report.seeds_run,
            "seeds_skipped": report.seeds_skipped,
            "failures": report.failures.iter().map(|f| serde_json::json!({
                "seed": f.seed,
                "trace_hash": f.trace_hash.map(|h| h.to_string()),
                "violation": f.violation,
                "reproduce": f.reproduce,
                "shrink": f.shrink,
                "trace": f.trace,
            })).collect::<Vec<_>>(),
            "elapsed_s": report.elapsed_s,
            "seeds_per_s": report.seeds_per_s,
            "simulated_per_wall_s": report.simulated_per_wall_s,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!("{report}");
    }
    Ok(u8::from(!report.failures.is_empty()))
}

/// `actsim sweep --strategy coverage`: a coverage-guided search whose fresh seeds are the
/// sweep's seeds and whose budget is their number. Each failing run is written as a replay
/// file (into `--trace-dir`, or `target/actsim`) that `replay` reruns exactly.
fn explore(
    args: &SweepArgs,
    ctx: &Ctx,
    driver: &dyn super::registry::Driver,
    setup: &models::experiment::Setup,
    eval: &models::evaluate::EvalOptions,
    seeds: &Seeds,
) -> Result<u8, CliError> {
    let search = models::explore::Explore {
        start: seeds.get(0).unwrap_or(0),
        runs: seeds.len(),
        stop_at_first: false,
        jobs: args.jobs,
    };
    // The search draws each run's setup from the flags' one (`Strategy::setup`).
    let found = driver.explore(args.bug.as_deref(), setup, eval, &search)?;
    let dir = args
        .trace_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target").join("actsim"));
    let mut report: models::runner::Report = models::runner::Report {
        seeds_run: found.runs,
        elapsed_s: found.elapsed_s.max(1e-9),
        seeds_per_s: found.runs as f64 / found.elapsed_s.max(1e-9),
        simulated_per_wall_s: found.simulated_s / found.elapsed_s.max(1e-9),
        ..Default::default()
    };
    for f in &found.failures {
        let path = dir.join(format!(
            "sweep-{}-coverage{}-run{}.repro.json",
            driver.name(),
            search.start,
            f.run
        ));
        f.repro.write(&path).map_err(|e| CliError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let cmd = ctx.command();
        report.failures.push(models::runner::Failure {
            seed: f.repro.seed,
            trace_hash: None,
            violation: format!("{} (run {} of the search: {})", f.violation, f.run, f.how),
            reproduce: format!("{cmd} replay {}", path.display()),
            shrink: Some(format!("{cmd} shrink --from {}", path.display())),
            trace: None,
        });
    }
    println!(
        "coverage-guided search: {} runs ({} fresh seeds from {}), {} coverage points, corpus {}",
        found.runs, found.fresh, search.start, found.points, found.corpus
    );
    println!("{report}");
    Ok(u8::from(!report.failures.is_empty()))
}
