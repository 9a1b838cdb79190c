//! The built-in protocols by name, with their planted bugs: the one table the `actsim` binary
//! knows them by.

use models::causal::Causal;
use models::eventual::Eventual;
use models::linearizable::Linearizable;
use models::sequential::Sequential;

use super::Cli;

/// The command line of the four built-in protocols (what the `actsim` binary runs).
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     actsim::cli::builtins().run()
/// }
/// ```
pub fn builtins() -> Cli {
    Cli::new()
        .command_line("actsim")
        .protocol("eventual", Eventual::default)
        .bug(
            "no-anti-entropy",
            "no repair after loss: replicas stay diverged after the heal",
            || Eventual {
                bug: true,
                ..Eventual::default()
            },
        )
        .protocol("causal", Causal::default)
        .bug(
            "no-deps",
            "a remote write is applied without waiting for its dependencies",
            || Causal {
                bug: true,
                ..Causal::default()
            },
        )
        .protocol("sequential", Sequential::default)
        .bug(
            "no-session",
            "a replica serves a read before applying the client's own last write",
            || Sequential {
                bug: true,
                ..Sequential::default()
            },
        )
        .protocol("linearizable", Linearizable::default)
        .bug(
            "stale-read",
            "the leader serves reads without confirming it is still leader",
            || Linearizable {
                bug: true,
                ..Linearizable::default()
            },
        )
}
