//! The `actsim` command line.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "actsim",
    version,
    about = "Deterministic simulation testing of distributed protocols written as actix actors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The consistency x availability table: every protocol under a partition, over many seeds.
    Cap(actsim::cli::cap::CapArgs),
    /// Run one simulation: availability, checker verdicts, trace hash.
    Run(actsim::cli::run::RunArgs),
    /// Run many seeds of one protocol and report the failing ones with how to reproduce them.
    Sweep(actsim::cli::sweep::SweepArgs),
    /// Minimise a failing run (faults, workload length) into a replayable file.
    Shrink(actsim::cli::shrink::ShrinkArgs),
    /// Run a file written by `shrink`.
    Replay(actsim::cli::shrink::ReplayArgs),
    /// Application scenarios (dns, comments, feed, password) on every protocol under a partition.
    Scenario(actsim::cli::scenario::ScenarioArgs),
    /// Check history files for a consistency model.
    Check(actsim::cli::check::CheckArgs),
    /// Write the HTML report of a run from its trace and history.
    Report(actsim::cli::report::ReportArgs),
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

fn main() {
    restore_sigpipe();
    sim_core::log::init();
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Cap(args) => actsim::cli::cap::run(args),
        Command::Run(args) => actsim::cli::run::run(args),
        Command::Sweep(args) => actsim::cli::sweep::run(args),
        Command::Shrink(args) => actsim::cli::shrink::run(args),
        Command::Replay(args) => actsim::cli::shrink::replay(args),
        Command::Scenario(args) => actsim::cli::scenario::run(args),
        Command::Check(args) => actsim::cli::check::run(args),
        Command::Report(args) => actsim::cli::report::run(args),
    };
    std::process::exit(code);
}
