//! Flags shared by the commands that run experiments.

use std::path::PathBuf;

use super::CliError;
use std::time::Duration;

use clap::Args;
use models::experiment::{Nemesis, Setup};

/// Which faults to inject (command-line form of [`Nemesis`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NemesisArg {
    /// Majority/minority partition for the fault phase (the cap experiment).
    Cap,
    /// Random partitions, crashes/restarts and pauses of replicas, then a heal.
    Random,
    /// The seed also picks which fault kinds and rates are on (swarm testing).
    Swarm,
    /// No faults.
    None,
}

/// The experiment's shape; defaults are the cap experiment's.
#[derive(Clone, Debug, Args)]
pub struct ExperimentArgs {
    /// Number of replicas.
    #[arg(long, default_value_t = 5)]
    pub replicas: u32,
    /// Number of clients (spread evenly over the replicas as their homes).
    #[arg(long, default_value_t = 10)]
    pub clients: u32,
    /// Replicas on the minority side of the cap partition (default: half, rounded down).
    #[arg(long)]
    pub minority: Option<u32>,
    /// Number of keys.
    #[arg(long, default_value_t = 4)]
    pub keys: u32,
    /// Fraction of reads.
    #[arg(long, default_value_t = 0.5)]
    pub read_fraction: f64,
    /// Fraction of compare-and-set operations (protocols that offer cas).
    #[arg(long, default_value_t = 0.0)]
    pub cas_fraction: f64,
    /// Healthy phase, ms.
    #[arg(long, default_value_t = 2_000)]
    pub healthy_ms: u64,
    /// Fault (partition) phase, ms.
    #[arg(long, default_value_t = 10_000)]
    pub faulty_ms: u64,
    /// Quiet phase after the heal, ms.
    #[arg(long, default_value_t = 5_000)]
    pub quiet_ms: u64,
    /// Client timeout, ms.
    #[arg(long, default_value_t = 1_000)]
    pub timeout_ms: u64,
    /// Link loss probability.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Link duplication probability.
    #[arg(long, default_value_t = 0.0)]
    pub duplicate: f64,
}

impl ExperimentArgs {
    /// The setup these flags describe, with `nemesis`.
    pub fn setup(&self, nemesis: Nemesis) -> Setup {
        let mut e = Setup {
            nemesis,
            ..Setup::default()
        };
        e.replicas = self.replicas;
        e.clients = self.clients;
        e.minority = self.minority;
        e.workload.keys = self.keys;
        e.workload.read_fraction = self.read_fraction;
        e.workload.cas_fraction = self.cas_fraction;
        e.healthy = Duration::from_millis(self.healthy_ms);
        e.faulty = Duration::from_millis(self.faulty_ms);
        e.quiet = Duration::from_millis(self.quiet_ms);
        e.client_timeout = Duration::from_millis(self.timeout_ms);
        e.link.loss = self.loss;
        e.link.duplicate = self.duplicate;
        e
    }

    /// The flags that differ from the defaults, as they would be typed (for reproduce lines).
    pub fn non_default_flags(&self) -> String {
        let d = <ExperimentArgs as clap::FromArgMatches>::from_arg_matches(
            &<ExperimentArgs as clap::Args>::augment_args(clap::Command::new("x"))
                .get_matches_from(["x"]),
        )
        .ok();
        let Some(d) = d else { return String::new() };
        let mut out = String::new();
        let mut flag = |name: &str, a: String, b: String| {
            if a != b {
                out.push_str(&format!(" --{name} {a}"));
            }
        };
        flag(
            "replicas",
            self.replicas.to_string(),
            d.replicas.to_string(),
        );
        flag("clients", self.clients.to_string(), d.clients.to_string());
        flag(
            "minority",
            self.minority.map_or(String::new(), |m| m.to_string()),
            String::new(),
        );
        flag("keys", self.keys.to_string(), d.keys.to_string());
        flag(
            "read-fraction",
            self.read_fraction.to_string(),
            d.read_fraction.to_string(),
        );
        flag(
            "cas-fraction",
            self.cas_fraction.to_string(),
            d.cas_fraction.to_string(),
        );
        flag(
            "healthy-ms",
            self.healthy_ms.to_string(),
            d.healthy_ms.to_string(),
        );
        flag(
            "faulty-ms",
            self.faulty_ms.to_string(),
            d.faulty_ms.to_string(),
        );
        flag(
            "quiet-ms",
            self.quiet_ms.to_string(),
            d.quiet_ms.to_string(),
        );
        flag(
            "timeout-ms",
            self.timeout_ms.to_string(),
            d.timeout_ms.to_string(),
        );
        flag("loss", self.loss.to_string(), d.loss.to_string());
        flag(
            "duplicate",
            self.duplicate.to_string(),
            d.duplicate.to_string(),
        );
        out
    }
}

impl NemesisArg {
    /// The nemesis it stands for.
    pub fn nemesis(self) -> Nemesis {
        match self {
            NemesisArg::Cap => Nemesis::CapPartition,
            NemesisArg::Random => Nemesis::standard(),
            NemesisArg::Swarm => Nemesis::Swarm,
            NemesisArg::None => Nemesis::None,
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            NemesisArg::Cap => "cap",
            NemesisArg::Random => "random",
            NemesisArg::Swarm => "swarm",
            NemesisArg::None => "none",
        }
    }
}

/// Opens a trace file for writing.
pub fn trace_writer(path: &Option<PathBuf>) -> Result<Option<Box<dyn std::io::Write>>, CliError> {
    match path {
        None => Ok(None),
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|e| CliError::File {
                path: p.display().to_string(),
                reason: format!("cannot create the trace file: {e}"),
            })?;
            Ok(Some(Box::new(std::io::BufWriter::new(f))))
        }
    }
}

/// Writes `text` to `path`, naming the file in the error.
pub fn write_file(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| CliError::File {
        path: path.display().to_string(),
        reason: format!("cannot write: {e}"),
    })
}

/// Checker options for a budget in milliseconds, checking `models`.
pub fn eval_options_for(budget_ms: u64, models: Vec<models::check::Model>) -> models::evaluate::EvalOptions {
    models::evaluate::EvalOptions {
        models,
        ..eval_options(budget_ms)
    }
}

/// Checker options for a budget in milliseconds.
pub fn eval_options(budget_ms: u64) -> models::evaluate::EvalOptions {
    models::evaluate::EvalOptions {
        budget: models::check::Budget {
            time: Some(Duration::from_millis(budget_ms)),
            steps: None,
        },
        ..Default::default()
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_prefix(what.to_string());
    pb
}

/// Default parallelism: every core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
