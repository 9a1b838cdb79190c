//! `actsim check`: run a consistency checker on history files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use models::check::{check, Budget, CheckOptions, Model, Undecided, Verdict};
use models::op::Value;
use models::parse::{parse_file, Format};
use serde_json::json;

/// Check histories for a consistency model.
///
/// Formats: `json` (actsim's History<Op, Ret>), `edn` (Jepsen: a vector of
/// {:process :type :f :value} maps; the data type is inferred per operation from :f —
/// :read/:write/:cas register, :txn multi-register, :acquire/:release mutex, :get/:put/:append
/// with :key; an :ok read of nil is unconstrained, as in Knossos), `porcupine-etcd`,
/// `porcupine-kv` (keys start as "").
///
/// Exit code: 0 when every file is valid, 1 when any is invalid or unknown, 2 on an input error
/// (a file that does not parse, or a history the checker cannot interpret).
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// Consistency model: linearizable, sequential, causal+ (or ccv: causal convergence),
    /// causal (CC), sessions, eventual (thin-air reads only: final replica reads come from the
    /// simulation harness). The same checker `actsim run` uses for the same name.
    #[arg(long, default_value = "linearizable")]
    pub model: Model,
    /// History format: json, edn, porcupine-etcd, porcupine-kv.
    #[arg(long, default_value = "json")]
    pub format: Format,
    /// Initial value of every key: nil, an integer, or a string (default: nil; "" for porcupine-kv).
    #[arg(long)]
    pub init: Option<String>,
    /// Give up after this many milliseconds per file (verdict unknown).
    #[arg(long)]
    pub budget_ms: Option<u64>,
    /// Give up after this many model steps per independent part (deterministic).
    #[arg(long)]
    pub budget_steps: Option<u64>,
    /// Check linearizability over the whole history instead of key by key.
    #[arg(long)]
    pub no_partition: bool,
    /// Threads for independent parts (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// History files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

fn parse_init(s: &str) -> Value {
    if s == "nil" {
        Value::Nil
    } else if let Ok(i) = s.parse::<i64>() {
        Value::Int(i)
    } else {
        let t = s
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(s);
        Value::Str(t.to_string())
    }
}

enum Outcome {
    Valid,
    Invalid(String, serde_json::Value),
    Unknown(String),
}

/// Runs the subcommand; returns the process exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let mut code = 0;
    for file in &args.files {
        let name = file.display().to_string();
        #[allow(clippy::disallowed_methods)] // reporting elapsed time, outside any simulation
        let start = Instant::now();
        let parsed = match parse_file(args.format, file) {
            Ok(p) => p,
            Err(e) => {
                report_error(args, &name, &e.to_string());
                code = 2;
                continue;
            }
        };
        let opts = CheckOptions {
            init: args.init.as_deref().map_or(parsed.init.clone(), parse_init),
            budget: Budget {
                time: args.budget_ms.map(Duration::from_millis),
                steps: args.budget_steps,
            },
            parallelism: args.threads,
            partition: !args.no_partition,
            ..CheckOptions::default()
        };
        let h = &parsed.history;
        let ops = h.operations().map(|o| o.len()).unwrap_or(0);
        let verdict = check(args.model, h, &[], &opts);
        let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
        let outcome = match verdict_outcome(&verdict) {
            Some(o) => o,
            None => {
                report_error(args, &name, &verdict.to_string());
                code = 2;
                continue;
            }
        };
        let (valid, detail) = match &outcome {
            Outcome::Valid => (json!(true), serde_json::Value::Null),
            Outcome::Invalid(_, d) => (json!(false), d.clone()),
            Outcome::Unknown(r) => (json!("unknown"), json!({"reason": r})),
        };
        if !matches!(outcome, Outcome::Valid) && code == 0 {
            code = 1;
        }
        if args.json {
            let mut obj = json!({"file": name, "model": args.model.name(), "valid": valid, "ops": ops, "elapsed_ms": elapsed_ms});
            if let (Some(o), serde_json::Value::Object(d)) = (obj.as_object_mut(), detail) {
                o.extend(d);
            }
            println!("{obj}");
        } else {
            match &outcome {
                Outcome::Valid => println!("{name}: valid ({ops} ops, {elapsed_ms:.1} ms)"),
                Outcome::Invalid(text, _) => {
                    println!("{name}: invalid ({ops} ops, {elapsed_ms:.1} ms)\n{text}")
                }
                Outcome::Unknown(r) => {
                    println!("{name}: unknown: {r} ({ops} ops, {elapsed_ms:.1} ms)")
                }
            }
        }
    }
    code
}

/// The text and JSON detail of a verdict; `None` if the checker could not interpret the
/// history (an input error).
fn verdict_outcome(v: &Verdict) -> Option<Outcome> {
    Some(match v {
        Verdict::Valid { .. } => Outcome::Valid,
        Verdict::Unknown {
            reason: Undecided::Uncheckable(_),
            ..
        } => return None,
        Verdict::Unknown { reason, .. } => Outcome::Unknown(reason.to_string()),
        Verdict::Invalid { counterexample, .. } => {
            let detail = json!({
                "counterexample": counterexample,
                "blamed": counterexample.blamed(),
            });
            Outcome::Invalid(counterexample.to_string(), detail)
        }
    })
}

fn report_error(args: &CheckArgs, file: &str, msg: &str) {
    if args.json {
        println!(
            "{}",
            json!({"file": file, "model": args.model.name(), "error": msg})
        );
    } else {
        eprintln!("error: {msg}");
    }
}
