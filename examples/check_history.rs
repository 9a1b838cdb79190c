//! Checking a history file from code.
//!
//! ```text
//! cargo run --example check_history -- porcupine-etcd ../shared/testdata/porcupine/jepsen/etcd_002.log
//! ```
//!
//! Parse the file into a `History<Op, Ret>`, pick options (the initial value comes from the
//! format: "" for Porcupine kv logs, nil otherwise), and run the checkers you need.

use std::path::Path;
use std::time::Duration;

use actsim::models::check::{check, Budget, CheckOptions, Model, Verdict};
use actsim::models::parse::{parse_file, Format};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (format, file) = match args.as_slice() {
        [_, f, p] => (f.parse::<Format>(), p),
        _ => {
            eprintln!("usage: check_history <json|edn|porcupine-etcd|porcupine-kv> FILE");
            std::process::exit(2);
        }
    };
    let format = format.unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    // Malformed input is an error naming the file, line and what was expected.
    let parsed = parse_file(format, Path::new(file)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let opts = CheckOptions {
        init: parsed.init.clone(),
        // Give up (Verdict::Unknown) rather than search for ever.
        budget: Budget {
            time: Some(Duration::from_secs(10)),
            steps: None,
        },
        ..CheckOptions::default()
    };
    for model in [Model::Linearizable, Model::Sequential] {
        match check(model, &parsed.history, &[], &opts) {
            Verdict::Valid { .. } => println!("{model}: valid"),
            Verdict::Invalid { counterexample, .. } => {
                println!("{model}: invalid\n{counterexample}")
            }
            Verdict::Unknown { reason, .. } => println!("{model}: unknown ({reason})"),
        }
    }
}
