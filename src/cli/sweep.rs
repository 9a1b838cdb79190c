//! `actsim sweep`: many seeds of one protocol, the failing ones with how to reproduce them.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use models::protocol::Protocol;

use super::common::{
    bug_flag, default_jobs, eval_options, parse_protocol, progress, run_and_evaluate_with,
    ExperimentArgs, NemesisArg,
};
use crate::harness::{parse_seeds, RunOptions, Runner, SeedOutcome};

/// Arguments of `actsim sweep`.
#[derive(Clone, Debug, Args)]
pub struct SweepArgs {
    /// The protocol.
    #[arg(long, value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// Turn on the protocol's planted bug.
    #[arg(long)]
    pub bug: Option<String>,
    /// Seeds: a range `A..B` (B excluded) or one seed.
    #[arg(long, default_value = "0..100")]
    pub seeds: String,
    /// Parallel jobs (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Stop starting seeds after this long (e.g. 60s, 5m).
    #[arg(long, value_parser = parse_duration)]
    pub budget: Option<Duration>,
    /// Run only the i-th of n slices of the seeds (`i/n`, 0-based), to spread a sweep over machines.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Run every seed twice and fail it if the two trace hashes differ.
    #[arg(long)]
    pub check_determinism: bool,
    /// Swarm testing: each seed also draws which fault kinds and rates are on.
    #[arg(long)]
    pub swarm: bool,
    /// Faults to inject (default: random partitions, crashes and pauses).
    #[arg(long, value_enum, default_value_t = NemesisArg::Random)]
    pub nemesis: NemesisArg,
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

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("shard {s:?} is not i/n"))?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("bad shard index in {s:?}"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("bad shard count in {s:?}"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {s:?}: need 0 <= i < n"));
    }
    Ok((i, n))
}

/// Runs `actsim sweep`; exit code 1 if any seed failed.
pub fn run(args: &SweepArgs) -> i32 {
    let bug = match bug_flag(args.protocol, args.bug.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("actsim sweep: {e}");
            return 2;
        }
    };
    let seeds = match parse_seeds(&args.seeds) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("actsim sweep: --seeds: {e}");
            return 2;
        }
    };
    let nem_arg = if args.swarm {
        NemesisArg::Swarm
    } else {
        args.nemesis
    };
    let exp = args.exp.experiment(args.protocol, bug, nem_arg.nemesis());
    if let Err(e) = exp.validate() {
        eprintln!("actsim sweep: {e}");
        return 2;
    }
    let model = args.protocol.model();
    let mut eval = eval_options(args.budget_ms);
    eval.models = vec![model];
    let flags = format!(
        "{}{}{}",
        args.bug
            .as_ref()
            .map_or(String::new(), |b| format!(" --bug {b}")),
        if nem_arg == NemesisArg::Cap {
            String::new()
        } else {
            format!(" --nemesis {}", nem_arg.name())
        },
        args.exp.non_default_flags()
    );
    let protocol = args.protocol;
    let pb = progress(seeds.len() as u64, "sweep");
    let pbc = pb.clone();
    let mut runner = Runner::new(format!("sweep-{protocol}"))
        .seed_list(seeds)
        .jobs(args.jobs.unwrap_or_else(default_jobs))
        .check_determinism(args.check_determinism)
        .reproduce_with(move |seed| {
            format!("actsim run --protocol {protocol} --seed {seed}{flags}")
        })
        .on_progress(move |_, _, failed| {
            pbc.inc(1);
            pbc.set_message(format!("{failed} failed"));
        });
    if let Some((i, n)) = args.shard {
        runner = runner.shard(i, n);
    }
    if let Some(b) = args.budget {
        runner = runner.budget(b);
    }
    if let Some(d) = &args.trace_dir {
        runner = runner.trace_dir(d);
    }
    let report = runner.run(|seed, opts: &RunOptions| {
        match run_and_evaluate_with(&exp, seed, opts, None, &eval) {
            Ok((out, ev)) => SeedOutcome {
                seed,
                trace_hash: Some(ev.trace_hash),
                violation: ev.violation(model),
                simulated_s: out.final_time.as_secs_f64(),
                events: out.summary.counters.events,
                event_hashes: out.event_hashes,
            },
            Err(e) => SeedOutcome {
                seed,
                violation: Some(e),
                ..Default::default()
            },
        }
    });
    pb.finish_and_clear();
    if args.json {
        let doc = serde_json::json!({
            "protocol": args.protocol,
            "bug": args.bug,
            "seeds_run": report.seeds_run,
            "seeds_skipped": report.seeds_skipped,
            "failures": report.failures.iter().map(|f| serde_json::json!({
                "seed": f.seed,
                "trace_hash": f.trace_hash.map(|h| h.to_string()),
                "violation": f.violation,
                "reproduce": f.reproduce,
                "trace": f.trace,
            })).collect::<Vec<_>>(),
            "elapsed_s": report.elapsed_s,
            "seeds_per_s": report.seeds_per_s,
            "simulated_per_wall_s": report.simulated_per_wall_s,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{report}");
    }
    i32::from(!report.failures.is_empty())
}
