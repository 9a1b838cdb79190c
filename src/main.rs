//! The `actsim` command line: the built-in protocols (see `actsim::cli`).

fn main() -> std::process::ExitCode {
    actsim::cli::builtins().run()
}
