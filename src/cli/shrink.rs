//! `actsim shrink` and `actsim replay`: minimise a failing run to a small schedule file, and run
//! such a file.

use std::path::PathBuf;

use clap::Args;
use models::protocol::Protocol;

use super::common::{
    bug_flag, eval_options, parse_protocol, run_and_evaluate, trace_writer, ExperimentArgs,
    NemesisArg,
};
use super::run::print_evaluation;
use crate::shrink::{shrink, Repro};

/// Arguments of `actsim shrink`.
#[derive(Clone, Debug, Args)]
pub struct ShrinkArgs {
    /// The protocol.
    #[arg(long, value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// The planted bug the failing run had on, if any.
    #[arg(long)]
    pub bug: Option<String>,
    /// The failing seed.
    #[arg(long)]
    pub seed: u64,
    /// The faults the failing run had (as given to `run`/`sweep`).
    #[arg(long, value_enum, default_value_t = NemesisArg::Random)]
    pub nemesis: NemesisArg,
    /// Where to write the shrunk run (JSON; run it with `actsim replay FILE`).
    #[arg(long, default_value = "actsim-repro.json")]
    pub out: PathBuf,
    /// Time budget of each search-based check, ms.
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
    #[command(flatten)]
    pub exp: ExperimentArgs,
}

/// Runs `actsim shrink`; exit 0 when a smaller failing run was written, 1 if the seed does not
/// fail, 2 on bad input.
pub fn run(args: &ShrinkArgs) -> i32 {
    let bug = match bug_flag(args.protocol, args.bug.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("actsim shrink: {e}");
            return 2;
        }
    };
    let exp = args
        .exp
        .experiment(args.protocol, bug, args.nemesis.nemesis());
    let model = args.protocol.model();
    let mut eval = eval_options(args.budget_ms);
    eval.models = vec![model];
    let (out, ev) = match run_and_evaluate(&exp, args.seed, None, &eval) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("actsim shrink: {e}");
            return 2;
        }
    };
    if ev.violation(model).is_none() {
        eprintln!(
            "actsim shrink: seed {} does not violate {model}: nothing to shrink",
            args.seed
        );
        return 1;
    }
    let fails = |e: &models::cluster::Experiment, seed: u64| {
        run_and_evaluate(e, seed, None, &eval)
            .ok()
            .and_then(|(_, ev)| ev.violation(model))
    };
    let Some(s) = shrink(&exp, args.seed, out.schedule, fails) else {
        eprintln!("actsim shrink: the failure does not reproduce with its schedule made explicit");
        return 1;
    };
    let json = match serde_json::to_string_pretty(&s.repro) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("actsim shrink: {e}");
            return 2;
        }
    };
    if let Err(e) = std::fs::write(&args.out, json) {
        eprintln!("actsim shrink: cannot write {}: {e}", args.out.display());
        return 2;
    }
    println!(
        "shrunk seed {} in {} runs: faults {} -> {}, fault phase {:.1}s -> {:.1}s",
        args.seed,
        s.runs,
        s.faults_before,
        s.faults_after,
        s.faulty_before.as_secs_f64(),
        s.faulty_after.as_secs_f64()
    );
    println!(
        "still fails: {}",
        s.repro
            .violation
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
    );
    println!(
        "written to {}; run it with: actsim replay {}",
        args.out.display(),
        args.out.display()
    );
    0
}

/// Arguments of `actsim replay`.
#[derive(Clone, Debug, Args)]
pub struct ReplayArgs {
    /// A file written by `actsim shrink`.
    pub file: PathBuf,
    /// Write every event to this file as JSON lines.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Time budget of each search-based check, ms.
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
}

/// Runs `actsim replay`; exit 1 if the run violates the protocol's model, 2 on bad input.
pub fn replay(args: &ReplayArgs) -> i32 {
    let repro: Repro = match std::fs::read_to_string(&args.file)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            serde_json::from_str(&s)
                .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))
        }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("actsim replay: {}: {e}", args.file.display());
            return 2;
        }
    };
    let trace = match trace_writer(&args.trace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("actsim replay: {e}");
            return 2;
        }
    };
    let exp = &repro.experiment;
    let (out, ev) = match run_and_evaluate(exp, repro.seed, trace, &eval_options(args.budget_ms)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("actsim replay: {}: {e}", args.file.display());
            return 2;
        }
    };
    if args.json {
        let doc = serde_json::json!({
            "seed": repro.seed,
            "trace_hash": ev.trace_hash.to_string(),
            "protocol": exp.protocol,
            "faults": out.schedule.len(),
            "evaluation": ev,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!(
            "replay {}: {} {}seed {}, {} faults",
            args.file.display(),
            exp.protocol,
            if exp.bug {
                format!("--bug {} ", exp.protocol.bug_name())
            } else {
                String::new()
            },
            repro.seed,
            out.schedule.len()
        );
        print_evaluation(
            &ev,
            exp.protocol,
            exp.nemesis == models::cluster::Nemesis::CapPartition,
        );
    }
    i32::from(ev.violation(exp.protocol.model()).is_some())
}
