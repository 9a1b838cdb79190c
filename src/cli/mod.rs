//! The `actsim` command line, for the built-in protocols or for your own.
//!
//! A binary of your own gets `run`, `sweep`, `shrink`, `replay`, `cap`, `scenario` and `check`
//! for its protocol in one expression:
//!
//! ```no_run
//! use std::process::ExitCode;
//! use models::linearizable::Linearizable;
//!
//! fn main() -> ExitCode {
//!     actsim::cli::Cli::new()
//!         .command_line("cargo run --release --example my_protocol --")
//!         .protocol("my-raft", Linearizable::default)
//!         .bug("stale-read", "reads skip the leadership check", || Linearizable {
//!             bug: true,
//!             ..Linearizable::default()
//!         })
//!         .run()
//! }
//! ```
//!
//! Exit codes: 0 when every run kept its promise, 1 when one did not (a failing seed, an invalid
//! history), 2 on bad input (a flag, a file, an impossible configuration), with a message
//! naming the problem.

mod builtins;
pub mod cap;
pub mod check;
pub mod common;
mod registry;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sweep;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use models::protocol::{Bug, Protocol};

use registry::{Driver, Registered};

pub use builtins::builtins;

/// A command-line error: printed as `<binary> <command>: <message>`, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag's value cannot be used.
    #[error("--{flag}: {reason}")]
    Flag {
        /// The flag, without its dashes.
        flag: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A file cannot be read, written or understood.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The experiment cannot run as configured.
    #[error(transparent)]
    Experiment(#[from] models::experiment::ExperimentError),
    /// An input file that cannot be used (the message names it and the problem).
    #[error("{0}")]
    Input(String),
    /// The command line itself was built wrongly (e.g. a bug registered before its protocol).
    #[error("{0}")]
    Setup(String),
}

/// What every command needs: the registered protocols and how to print a command line.
pub struct Ctx {
    drivers: Vec<Box<dyn Driver>>,
    command: String,
}

impl Ctx {
    /// The protocol named `name`, or the only one registered when `name` is `None`.
    pub(crate) fn driver(&self, name: Option<&str>) -> Result<&dyn Driver, CliError> {
        let names = || {
            self.drivers
                .iter()
                .map(|d| d.name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(n) => self
                .drivers
                .iter()
                .find(|d| d.name() == n)
                .map(|d| d.as_ref())
                .ok_or_else(|| CliError::Flag {
                    flag: "protocol",
                    reason: format!("unknown protocol {n:?} (expected one of: {})", names()),
                }),
            None if self.drivers.len() == 1 => Ok(self.drivers[0].as_ref()),
            None => Err(CliError::Flag {
                flag: "protocol",
                reason: format!("is required (one of: {})", names()),
            }),
        }
    }

    /// Every registered protocol, or those named.
    pub(crate) fn drivers(&self, names: &[String]) -> Result<Vec<&dyn Driver>, CliError> {
        if names.is_empty() {
            return Ok(self.drivers.iter().map(|d| d.as_ref()).collect());
        }
        let mut out: Vec<&dyn Driver> = Vec::new();
        for n in names {
            let d = self.driver(Some(n))?;
            if !out.iter().any(|o| o.name() == d.name()) {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// The command that starts this binary (e.g. `actsim`), for reproduce lines.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// `--protocol NAME`, left out when the binary has only one protocol.
    pub(crate) fn protocol_flag(&self, name: &str) -> String {
        if self.drivers.len() == 1 {
            String::new()
        } else {
            format!(" --protocol {name}")
        }
    }
}

/// A command line for a set of protocols. See the [module docs](self).
pub struct Cli {
    ctx: Ctx,
    errors: Vec<String>,
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

impl Cli {
    /// A command line with no protocols yet; reproduce lines start with this program's name.
    pub fn new() -> Self {
        let command = std::env::args_os()
            .next()
            .map(std::path::PathBuf::from)
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "actsim".into());
        Cli {
            ctx: Ctx {
                drivers: Vec::new(),
                command,
            },
            errors: Vec::new(),
        }
    }

    /// How reproduce lines start (e.g. `cargo run --release --example my_protocol --`).
    pub fn command_line(mut self, prefix: impl Into<String>) -> Self {
        self.ctx.command = prefix.into();
        self
    }

    /// Registers a protocol under `name`, built by `make` for every run.
    pub fn protocol<P: Protocol>(
        mut self,
        name: impl Into<String>,
        make: impl Fn() -> P + Send + Sync + 'static,
    ) -> Self {
        let name = name.into();
        if self.ctx.drivers.iter().any(|d| d.name() == name) {
            self.errors
                .push(format!("protocol {name:?} is registered twice"));
        }
        self.ctx.drivers.push(Box::new(Registered::new(name, make)));
        self
    }

    /// Registers a planted bug of the protocol registered last: `--bug NAME` runs `make`'s
    /// protocol instead.
    pub fn bug<P: Protocol>(
        mut self,
        name: &'static str,
        description: &'static str,
        make: impl Fn() -> P + Send + Sync + 'static,
    ) -> Self {
        let bug = Bug { name, description };
        match self.ctx.drivers.last_mut() {
            None => self
                .errors
                .push(format!("bug {name:?} is registered before any protocol")),
            Some(d) => {
                if let Err(e) = d.add_bug(bug, Registered::<P>::bug_factory(make)) {
                    self.errors.push(e);
                }
            }
        }
        self
    }

    /// Parses this process's arguments, runs the command and returns its exit code.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// [`Cli::run`] on these arguments (the first is the program name).
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        restore_sigpipe();
        sim_core::log::init();
        let args = match Args::try_parse_from(args) {
            Ok(a) => a,
            Err(e) => {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
        };
        let name = args.command.name();
        if let Some(e) = self.errors.first() {
            eprintln!("{} {name}: {e}", self.ctx.command);
            return ExitCode::from(2);
        }
        match self.dispatch(&args.command) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("{} {name}: {e}", self.ctx.command);
                ExitCode::from(2)
            }
        }
    }

    fn dispatch(&self, command: &Command) -> Result<u8, CliError> {
        let ctx = &self.ctx;
        match command {
            Command::Cap(a) => cap::run(a, ctx),
            Command::Run(a) => run::run(a, ctx),
            Command::Sweep(a) => sweep::run(a, ctx),
            Command::Shrink(a) => shrink::run(a, ctx),
            Command::Replay(a) => shrink::replay(a, ctx),
            Command::Scenario(a) => scenario::run(a, ctx),
            Command::Check(a) => Ok(u8::try_from(check::run(a)).unwrap_or(2)),
            Command::Report(a) => report::run(a),
            Command::Bugs => {
                for d in &ctx.drivers {
                    println!("{} (promises {})", d.name(), d.model());
                    for b in d.bugs() {
                        println!("  --bug {:<18} {}", b.name, b.description);
                    }
                }
                Ok(0)
            }
        }
    }
}

#[derive(Parser)]
#[command(
    version,
    about = "Deterministic simulation testing of distributed protocols written as actix actors"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The consistency x availability table: every protocol under a partition, over many seeds.
    Cap(cap::CapArgs),
    /// Run one simulation: availability, checker verdicts, trace hash.
    Run(run::RunArgs),
    /// Run many seeds of one protocol and report the failing ones with how to reproduce them.
    Sweep(sweep::SweepArgs),
    /// Minimise a failing run (faults, fault-phase length) into a replayable file.
    Shrink(shrink::ShrinkArgs),
    /// Run a file written by `shrink`.
    Replay(shrink::ReplayArgs),
    /// Application scenarios (dns, comments, feed, password) on every protocol under a partition.
    Scenario(scenario::ScenarioArgs),
    /// Check history files for a consistency model.
    Check(check::CheckArgs),
    /// Write the HTML report of a run from its trace and history.
    Report(report::ReportArgs),
    /// List the protocols and their planted bugs.
    Bugs,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Cap(_) => "cap",
            Command::Run(_) => "run",
            Command::Sweep(_) => "sweep",
            Command::Shrink(_) => "shrink",
            Command::Replay(_) => "replay",
            Command::Scenario(_) => "scenario",
            Command::Check(_) => "check",
            Command::Report(_) => "report",
            Command::Bugs => "bugs",
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`actsim check ... | head`) would panic;
/// a command-line tool should end quietly instead, as with the default action.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to its default at start-up, before any thread runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
