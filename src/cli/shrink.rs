//! `actsim shrink` and `actsim replay`: minimise a failing run to a small schedule file, and run
//! such a file.

use std::path::PathBuf;

use clap::Args;
use models::runner::RunOptions;
use models::shrink::Repro;

use super::common::{eval_options, eval_options_for, ExperimentArgs, NemesisArg};
use super::run::print_evaluation;
use super::{CliError, Ctx};

/// Arguments of `actsim shrink`.
#[derive(Clone, Debug, Args)]
pub struct ShrinkArgs {
    /// The protocol (optional when the binary has only one).
    #[arg(long)]
    pub protocol: Option<String>,
    /// The planted bug the failing run had on, if any.
    #[arg(long)]
    pub bug: Option<String>,
    /// The failing seed.
    #[arg(long, required_unless_present = "from")]
    pub seed: Option<u64>,
    /// Shrink the run of a replay file instead (its protocol, bug, seed and setup; e.g. one a
    /// coverage-guided sweep wrote).
    #[arg(long, conflicts_with_all = ["seed", "protocol", "bug", "nemesis"])]
    pub from: Option<PathBuf>,
    /// The faults the failing run had (as given to `run`/`sweep`).
    #[arg(long, value_enum)]
    pub nemesis: Option<NemesisArg>,
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
/// fail.
pub fn run(args: &ShrinkArgs, ctx: &Ctx) -> Result<u8, CliError> {
    let file = args.from.as_ref().map(|f| read_repro(f)).transpose()?;
    let (driver, bug, setup, seed) = match &file {
        Some(r) => (
            ctx.driver(Some(&r.protocol))?,
            r.bug.as_deref(),
            r.setup.clone(),
            r.seed,
        ),
        None => {
            let driver = ctx.driver(args.protocol.as_deref())?;
            let seed = args.seed.ok_or(CliError::Flag {
                flag: "seed",
                reason: "give --seed N or --from FILE".into(),
            })?;
            // The setup the seed ran in under `--strategy`, as `run` and `sweep` build it:
            // the shrink line of a strategy sweep shrinks that very run.
            let setup = args.exp.for_seed(
                &args
                    .exp
                    .apply(&driver.setup(), args.nemesis.map(NemesisArg::nemesis)),
                seed,
            );
            (driver, args.bug.as_deref(), setup, seed)
        }
    };
    driver.validate(bug, &setup)?;
    let eval = eval_options_for(args.budget_ms, vec![driver.model()]);
    let Some(s) = driver.shrink(bug, &setup, &eval, seed)? else {
        eprintln!(
            "{} shrink: seed {seed} does not violate {}: nothing to shrink",
            ctx.command(),
            driver.model()
        );
        return Ok(1);
    };
    s.repro.write(&args.out).map_err(|e| CliError::File {
        path: args.out.display().to_string(),
        reason: e.to_string(),
    })?;
    println!("shrunk seed {seed}:\n{}", s.story());
    println!(
        "written to {}; run it with: {} replay {}",
        args.out.display(),
        ctx.command(),
        args.out.display()
    );
    Ok(0)
}

/// Arguments of `actsim replay`.
#[derive(Clone, Debug, Args)]
pub struct ReplayArgs {
    /// A file written by `shrink` (or by a test's `ACTSIM_SHRINK=1`).
    pub file: PathBuf,
    /// Write every event to this file as JSON lines.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Write the HTML report of the run (timeline, faults, counterexample, messages) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Time budget of each search-based check, ms.
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
}

/// Runs `actsim replay`; exit 1 if the run violates the protocol's model.
pub fn replay(args: &ReplayArgs, ctx: &Ctx) -> Result<u8, CliError> {
    let repro = read_repro(&args.file)?;
    let driver = ctx.driver(Some(&repro.protocol))?;
    let (trace, mem) = super::report::trace_sink(&args.trace, args.report.is_some())?;
    let own = driver.model();
    let eval = eval_options(args.budget_ms);
    let (out, ev) = driver.run(
        repro.bug.as_deref(),
        &repro.setup,
        &eval,
        repro.seed,
        &RunOptions::default(),
        trace,
    )?;
    if let Some(path) = &args.report {
        let info = super::report::RunInfo {
            protocol: driver.name(),
            reproduce: format!("{} replay {}", ctx.command(), args.file.display()),
            shrink: None,
            trace: args.trace.as_deref(),
            config: vec![("replay file".into(), args.file.display().to_string())],
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
            "seed": repro.seed,
            "trace_hash": ev.trace_hash.to_string(),
            "protocol": repro.protocol,
            "bug": repro.bug,
            "faults": out.schedule.len(),
            "evaluation": ev,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!(
            "replay {}: {} {}seed {}",
            args.file.display(),
            repro.protocol,
            repro
                .bug
                .as_ref()
                .map_or(String::new(), |b| format!("--bug {b} ")),
            repro.seed,
        );
        println!("{}", repro.story());
        print_evaluation(
            &ev,
            own,
            repro.setup.nemesis == models::experiment::Nemesis::CapPartition,
        );
    }
    Ok(u8::from(ev.violation_of(own).is_some()))
}

/// Reads a replay file, naming the file and the place in it that is wrong.
fn read_repro(file: &std::path::Path) -> Result<Repro, CliError> {
    Repro::read(file).map_err(|e| CliError::File {
        path: file.display().to_string(),
        reason: match e {
            models::shrink::ReproError::Io { source, .. } => source.to_string(),
            models::shrink::ReproError::Json {
                line,
                column,
                message,
                ..
            } => format!("line {line}, column {column}: {message}"),
        },
    })
}
