//! `actsim run`: one simulation, its availability, checker verdicts and trace hash.

use std::path::PathBuf;

use clap::Args;
use models::check::Model;
use models::evaluate::{Evaluation, Verdict};
use models::experiment::Nemesis;
use models::runner::RunOptions;

use super::common::{eval_options_for, nemesis_flag, write_file, ExperimentArgs, NemesisArg};
use super::{CliError, Ctx};

/// Arguments of `actsim run`.
#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// The protocol (optional when the binary has only one).
    #[arg(long)]
    pub protocol: Option<String>,
    /// The seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Turn on one of the protocol's planted bugs (`bugs` lists them).
    #[arg(long)]
    pub bug: Option<String>,
    /// Faults to inject [default: the protocol's own; the cap partition for the built-ins].
    #[arg(long, value_enum)]
    pub nemesis: Option<NemesisArg>,
    /// Check these models too (repeatable; default: the protocol's own model).
    #[arg(long = "check", value_parser = parse_model)]
    pub checks: Vec<Model>,
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
pub fn print_evaluation(ev: &Evaluation, own: Model, by_side: bool) {
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
    for (m, c) in &ev.checks {
        let mark = if *m == own { " (promised)" } else { "" };
        match c {
            Verdict::Valid { .. } => println!("  {m:<13} valid{mark}"),
            Verdict::Unknown { reason, .. } => println!("  {m:<13} unknown{mark}: {reason}"),
            Verdict::Invalid { counterexample, .. } => {
                println!("  {m:<13} INVALID{mark}");
                for l in counterexample.to_string().lines() {
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

/// Parses a model name (`--check`).
pub fn parse_model(s: &str) -> Result<Model, String> {
    Model::ALL
        .into_iter()
        .find(|m| m.name() == s)
        .ok_or_else(|| {
            let names: Vec<&str> = Model::ALL.iter().map(|m| m.name()).collect();
            format!(
                "unknown model {s:?} (expected one of: {})",
                names.join(", ")
            )
        })
}

/// Reads a schedule file (`--schedule`).
pub fn read_schedule(path: &std::path::Path) -> Result<sim_net::Schedule, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|s| sim_net::Schedule::from_json(&s).map_err(|e| e.to_string()))
        .map_err(|reason| CliError::File {
            path: path.display().to_string(),
            reason,
        })
}

/// Runs `actsim run`; exit code 0 if the protocol kept its promised model, 1 if not.
pub fn run(args: &RunArgs, ctx: &Ctx) -> Result<u8, CliError> {
    let driver = ctx.driver(args.protocol.as_deref())?;
    let nem = match &args.schedule {
        None => args.nemesis.map(NemesisArg::nemesis),
        Some(path) => Some(Nemesis::Schedule(read_schedule(path)?)),
    };
    let setup = args
        .exp
        .for_seed(&args.exp.apply(&driver.setup(), nem), args.seed);
    let own = driver.model();
    let mut models = vec![own];
    models.extend(args.checks.iter().copied().filter(|m| *m != own));
    let (trace, mem) = super::report::trace_sink(&args.trace, args.report.is_some())?;
    let eval = eval_options_for(args.budget_ms, models);
    let bug = args.bug.as_deref();
    let (out, ev) = driver.run(bug, &setup, &eval, args.seed, &RunOptions::default(), trace)?;
    if let Some(path) = &args.history {
        let text = serde_json::to_string_pretty(&out.history).unwrap_or_default();
        write_file(path, &text)?;
    }
    // The same flags rerun (`run`) or shrink (`shrink`) exactly this run.
    let command = |sub: &str| {
        format!(
            "{} {sub}{}{} --seed {}{}{}",
            ctx.command(),
            ctx.protocol_flag(driver.name()),
            bug.map_or(String::new(), |b| format!(" --bug {b}")),
            args.seed,
            args.nemesis_flag(),
            args.exp.non_default_flags()
        )
    };
    let line = command("run");
    let shrink = ev.violation_of(own).is_some().then(|| command("shrink"));
    if let Some(path) = &args.report {
        let mut config = vec![(
            "nemesis".to_string(),
            nemesis_name(&setup.nemesis).to_string(),
        )];
        if let Some(b) = bug {
            config.push(("bug".into(), b.to_string()));
        }
        let info = super::report::RunInfo {
            protocol: driver.name(),
            reproduce: line.clone(),
            shrink: shrink.clone(),
            trace: args.trace.as_deref(),
            config,
        };
        super::report::write_run_report(info, path, &out, &ev, mem).map_err(|reason| {
            CliError::File {
                path: path.display().to_string(),
                reason,
            }
        })?;
    }
    if args.json {
        let doc = serde_json::json!({
            "seed": ev.seed,
            "trace_hash": ev.trace_hash.to_string(),
            "protocol": driver.name(),
            "bug": args.bug,
            "reproduce": line,
            "evaluation": ev,
            "counters": out.summary.counters,
            "end_time_s": out.summary.end_time.as_secs_f64(),
            "schedule": out.schedule,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!(
            "{line}: {} operations, {} events, {} faults",
            out.history.len() / 2,
            out.summary.counters.events,
            out.schedule.len()
        );
        print_evaluation(&ev, own, setup.nemesis == Nemesis::CapPartition);
        if let Some(t) = &args.trace {
            println!("  trace written to {}", t.display());
        }
        if let Some(r) = &args.report {
            println!("  report written to {}", r.display());
        }
        if let Some(sh) = &shrink {
            println!("  shrink it: {sh}");
        }
    }
    Ok(u8::from(ev.violation_of(own).is_some()))
}

/// The nemesis's name for a report header.
pub fn nemesis_name(n: &Nemesis) -> &'static str {
    match n {
        Nemesis::CapPartition => "cap partition",
        Nemesis::None => "none",
        Nemesis::Random { .. } => "random",
        Nemesis::Swarm => "swarm",
        Nemesis::Schedule(_) => "schedule",
    }
}

impl RunArgs {
    /// `--nemesis X` when it is not the default.
    fn nemesis_flag(&self) -> String {
        if let Some(path) = &self.schedule {
            format!(" --schedule {}", path.display())
        } else {
            nemesis_flag(self.nemesis)
        }
    }
}
