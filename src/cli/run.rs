//! `actsim run`: one simulation, its availability, checker verdicts and trace hash.

use std::path::PathBuf;

use clap::Args;
use models::cluster::Nemesis;
use models::evaluate::{Check, Evaluation};
use models::protocol::Protocol;

use super::common::{
    bug_flag, eval_options, parse_protocol, run_and_evaluate, ExperimentArgs, NemesisArg,
};

/// Arguments of `actsim run`.
#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// The protocol.
    #[arg(long, value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// The seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Turn on the protocol's planted bug (stale-read, no-session, no-deps, no-anti-entropy).
    #[arg(long)]
    pub bug: Option<String>,
    /// Faults to inject.
    #[arg(long, value_enum, default_value_t = NemesisArg::Cap)]
    pub nemesis: NemesisArg,
    /// Replay this fault schedule (JSON) instead of `--nemesis`.
    #[arg(long)]
    pub schedule: Option<PathBuf>,
    /// Write every event to this file as JSON lines.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Write the history (actsim JSON, readable by `actsim check`) to this file.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Write the HTML report of the run (timeline, faults, counterexample, messages) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Time budget of each search-based check, ms.
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
    #[command(flatten)]
    pub exp: ExperimentArgs,
}

/// Prints an evaluation as text. `by_side`: the faults were the majority/minority partition,
/// so availability per side means something (otherwise the whole run's is printed).
pub fn print_evaluation(ev: &Evaluation, protocol: Protocol, by_side: bool) {
    println!("seed {}  trace_hash {}", ev.seed, ev.trace_hash);
    let line = |what: &str, rw: &models::evaluate::ReadWrite| {
        println!(
            "  {what:<30} reads {}/{} ok ({:.2}), writes {}/{} ok ({:.2})",
            rw.read.ok,
            rw.read.total,
            rw.read.fraction(),
            rw.write.ok,
            rw.write.total,
            rw.write.fraction()
        );
    };
    if by_side {
        for (side, rw) in &ev.during_faults {
            line(
                &format!(
                    "during the partition, {}",
                    format!("{side:?}").to_lowercase()
                ),
                rw,
            );
        }
    } else {
        line("whole run", &ev.overall);
    }
    println!(
        "  latency ms p50 {:.1}  p99 {:.1}  max {:.1}",
        ev.latency_ms.0, ev.latency_ms.1, ev.latency_ms.2
    );
    let own = protocol.model();
    for (m, c) in &ev.checks {
        let mark = if *m == own { " (promised)" } else { "" };
        match c {
            Check::Pass => println!("  {m:<13} valid{mark}"),
            Check::Unknown(why) => println!("  {m:<13} unknown{mark}: {why}"),
            Check::Fail(why) => {
                println!("  {m:<13} INVALID{mark}");
                for l in why.lines() {
                    println!("      {l}");
                }
            }
        }
    }
    if ev.superseded_writes > 0 {
        println!(
            "  {} acknowledged writes superseded by concurrent writes",
            ev.superseded_writes
        );
    }
    if let Some(e) = &ev.error {
        println!("  run error: {e}");
    }
}

/// Runs `actsim run`; exit code 0 if the protocol kept its promised model, 1 if not, 2 on bad
/// input.
pub fn run(args: &RunArgs) -> i32 {
    let bug = match bug_flag(args.protocol, args.bug.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("actsim run: {e}");
            return 2;
        }
    };
    let nem = match &args.schedule {
        None => args.nemesis.nemesis(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|s| sim_net::Schedule::from_json(&s).map_err(|e| e.to_string()))
        {
            Ok(s) => Nemesis::Schedule(s),
            Err(e) => {
                eprintln!("actsim run: schedule {}: {e}", path.display());
                return 2;
            }
        },
    };
    let exp = args.exp.experiment(args.protocol, bug, nem);
    let (trace, mem) = match super::report::trace_sink(&args.trace, args.report.is_some()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("actsim run: {e}");
            return 2;
        }
    };
    let (out, ev) = match run_and_evaluate(&exp, args.seed, trace, &eval_options(args.budget_ms)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("actsim run: {e}");
            return 2;
        }
    };
    if let Some(path) = &args.history {
        let text = serde_json::to_string_pretty(&out.history).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("actsim run: cannot write history {}: {e}", path.display());
            return 2;
        }
    }
    if let Some(path) = &args.report {
        if let Err(e) = super::report::write_run_report(args, path, &out, &ev, mem) {
            eprintln!("actsim run: report: {e}");
            return 2;
        }
    }
    if args.json {
        let doc = serde_json::json!({
            "seed": ev.seed,
            "trace_hash": ev.trace_hash.to_string(),
            "protocol": args.protocol,
            "bug": args.bug,
            "evaluation": ev,
            "counters": out.summary.counters,
            "end_time_s": out.summary.end_time.as_secs_f64(),
            "schedule": out.schedule,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!(
            "actsim run --protocol {}{} --seed {}: {} operations, {} events, {} faults",
            args.protocol,
            args.bug
                .as_ref()
                .map_or(String::new(), |b| format!(" --bug {b}")),
            args.seed,
            out.history.len() / 2,
            out.summary.counters.events,
            out.schedule.len()
        );
        print_evaluation(
            &ev,
            args.protocol,
            args.schedule.is_none() && args.nemesis == NemesisArg::Cap,
        );
        if let Some(t) = &args.trace {
            println!("  trace written to {}", t.display());
        }
        if let Some(r) = &args.report {
            println!("  report written to {}", r.display());
        }
    }
    i32::from(ev.violation(args.protocol.model()).is_some())
}
