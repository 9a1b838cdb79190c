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

/// The experiment's shape. A flag left out keeps the protocol's own setup (for the built-ins,
/// the cap experiment's: 5 replicas, 10 clients, 4 keys, 50% reads, 2 s / 10 s / 5 s phases,
/// 1 s client timeout, no loss).
#[derive(Clone, Debug, Default, Args)]
pub struct ExperimentArgs {
    /// Number of replicas.
    #[arg(long)]
    pub replicas: Option<u32>,
    /// Number of clients (spread evenly over the replicas as their homes).
    #[arg(long)]
    pub clients: Option<u32>,
    /// Replicas on the minority side of the cap partition (default: half, rounded down).
    #[arg(long)]
    pub minority: Option<u32>,
    /// Number of keys.
    #[arg(long)]
    pub keys: Option<u32>,
    /// Fraction of reads.
    #[arg(long)]
    pub read_fraction: Option<f64>,
    /// Fraction of compare-and-set operations (protocols that offer cas).
    #[arg(long)]
    pub cas_fraction: Option<f64>,
    /// Healthy phase, ms.
    #[arg(long)]
    pub healthy_ms: Option<u64>,
    /// Fault phase, ms.
    #[arg(long)]
    pub faulty_ms: Option<u64>,
    /// Quiet phase after the heal, ms.
    #[arg(long)]
    pub quiet_ms: Option<u64>,
    /// Client timeout, ms.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Link loss probability.
    #[arg(long)]
    pub loss: Option<f64>,
    /// Link duplication probability.
    #[arg(long)]
    pub duplicate: Option<f64>,
    /// Exploration strategy: random, swarm, delays, link-swarm, isolation, buggify, partial,
    /// portfolio (each seed's setup drawn from the seed) or coverage (a search); see
    /// models::strategy.
    #[arg(long)]
    pub strategy: Option<models::strategy::Strategy>,
}

impl ExperimentArgs {
    /// `base` (the protocol's own setup) with the flags given, and `nemesis` if given.
    pub fn apply(&self, base: &Setup, nemesis: Option<Nemesis>) -> Setup {
        let mut e = base.clone();
        if let Some(n) = nemesis {
            e.nemesis = n;
        }
        let ms = Duration::from_millis;
        if let Some(v) = self.replicas {
            e.replicas = v;
        }
        if let Some(v) = self.clients {
            e.clients = v;
        }
        if let Some(v) = self.minority {
            e.minority = Some(v);
        }
        if let Some(v) = self.keys {
            e.workload.keys = v;
        }
        if let Some(v) = self.read_fraction {
            e.workload.read_fraction = v;
        }
        if let Some(v) = self.cas_fraction {
            e.workload.cas_fraction = v;
        }
        if let Some(v) = self.healthy_ms {
            e.healthy = ms(v);
        }
        if let Some(v) = self.faulty_ms {
            e.faulty = ms(v);
        }
        if let Some(v) = self.quiet_ms {
            e.quiet = ms(v);
        }
        if let Some(v) = self.timeout_ms {
            e.client_timeout = ms(v);
        }
        if let Some(v) = self.loss {
            e.link.loss = v;
        }
        if let Some(v) = self.duplicate {
            e.link.duplicate = v;
        }
        e
    }

    /// The setup seed `seed` runs in: `setup` under `--strategy`, if given.
    pub fn for_seed(&self, setup: &Setup, seed: u64) -> Setup {
        match self.strategy {
            Some(st) => st.setup(setup, seed),
            None => setup.clone(),
        }
    }

    /// The flags given, as they would be typed (for reproduce lines).
    pub fn non_default_flags(&self) -> String {
        let mut out = String::new();
        let mut flag = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push_str(&format!(" --{name} {v}"));
            }
        };
        let s = |v: Option<u64>| v.map(|x| x.to_string());
        flag("replicas", self.replicas.map(|x| x.to_string()));
        flag("clients", self.clients.map(|x| x.to_string()));
        flag("minority", self.minority.map(|x| x.to_string()));
        flag("keys", self.keys.map(|x| x.to_string()));
        flag("read-fraction", self.read_fraction.map(|x| x.to_string()));
        flag("cas-fraction", self.cas_fraction.map(|x| x.to_string()));
        flag("healthy-ms", s(self.healthy_ms));
        flag("faulty-ms", s(self.faulty_ms));
        flag("quiet-ms", s(self.quiet_ms));
        flag("timeout-ms", s(self.timeout_ms));
        flag("loss", self.loss.map(|x| x.to_string()));
        flag("duplicate", self.duplicate.map(|x| x.to_string()));
        flag("strategy", self.strategy.map(|x| x.to_string()));
        out
    }
}

/// ` --nemesis X` for a flag that was given (for reproduce lines).
pub fn nemesis_flag(n: Option<NemesisArg>) -> String {
    n.map_or(String::new(), |n| format!(" --nemesis {}", n.name()))
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
pub fn eval_options_for(
    budget_ms: u64,
    models: Vec<models::check::Model>,
) -> models::evaluate::EvalOptions {
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
