//! Checker speed on Porcupine's test histories.
//!
//! Run with `cargo run --release --example check_bench`. Prints the total time for the 102 etcd
//! histories, kv c50-ok and c50-bad (checked key by key), and kv c10-ok and c10-bad checked as one
//! history without per-key decomposition. Times include parsing, as Porcupine's do; the parse
//! and check phases are also shown apart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actsim::models::check::{check, CheckOptions, Model, Verdict};
use actsim::models::parse::{parse_file, Format};

fn data_dir() -> PathBuf {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/testdata/porcupine"
    ));
    if !dir.join("verdicts.tsv").is_file() {
        eprintln!("test data not found at {}", dir.display());
        std::process::exit(2);
    }
    dir.to_path_buf()
}

/// Parses and checks one file; also returns the parse time.
fn run(path: &Path, format: Format, partition: bool) -> (Verdict, Duration) {
    let t = Instant::now();
    let parsed = parse_file(format, path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let parse = t.elapsed();
    let opts = CheckOptions {
        init: parsed.init,
        partition,
        ..CheckOptions::default()
    };
    let v = check(Model::Linearizable, &parsed.history, &[], &opts);
    if v.is_uncheckable() {
        eprintln!("{}: {v}", path.display());
        std::process::exit(2)
    }
    (v, parse)
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Valid { .. } => "valid",
        Verdict::Invalid { .. } => "invalid",
        Verdict::Unknown { .. } => "unknown",
    }
}

fn main() {
    let dir = data_dir();
    let mut etcd: Vec<PathBuf> = std::fs::read_dir(dir.join("jepsen"))
        .expect("read jepsen dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    etcd.sort();

    let start = Instant::now();
    let mut slowest = (0.0f64, String::new());
    let (mut valid, mut invalid, mut unknown) = (0, 0, 0);
    let mut parse_total = Duration::ZERO;
    for p in &etcd {
        let t = Instant::now();
        let (v, parse) = run(p, Format::PorcupineEtcd, true);
        parse_total += parse;
        match v {
            Verdict::Valid { .. } => valid += 1,
            Verdict::Invalid { .. } => invalid += 1,
            Verdict::Unknown { .. } => unknown += 1,
        }
        let s = t.elapsed().as_secs_f64();
        if s > slowest.0 {
            slowest = (
                s,
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let total = start.elapsed().as_secs_f64();
    println!(
        "etcd: {} histories in {total:.3} s ({valid} valid, {invalid} invalid, {unknown} unknown; slowest {} {:.3} s; parse {:.3} s + check {:.3} s)  [Porcupine 0.61 s]",
        etcd.len(),
        slowest.1,
        slowest.0,
        parse_total.as_secs_f64(),
        total - parse_total.as_secs_f64(),
    );

    for (name, partition, reference) in [
        ("c50-ok", true, "0.24 s"),
        ("c50-bad", true, "0.06 s"),
        ("c10-ok", false, "1.9 s"),
        ("c10-bad", false, "2.3 s"),
    ] {
        let t = Instant::now();
        let (v, parse) = run(
            &dir.join(format!("kv/{name}.txt")),
            Format::PorcupineKv,
            partition,
        );
        let total = t.elapsed().as_secs_f64();
        println!(
            "kv {name}{}: {} in {total:.3} s (parse {:.3} s + check {:.3} s)  [Porcupine {reference}]",
            if partition {
                ""
            } else {
                " (whole history, no per-key split)"
            },
            verdict_word(&v),
            parse.as_secs_f64(),
            total - parse.as_secs_f64(),
        );
    }
}
