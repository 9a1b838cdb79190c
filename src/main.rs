//! The `actsim` command line.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "actsim",
    version,
    about = "Deterministic simulation testing of distributed protocols"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check history files for a consistency model.
    Check(actsim::cli::check::CheckArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Check(args) => actsim::cli::check::run(args),
    };
    std::process::exit(code);
}
