//! Reproduces the verdicts of Porcupine's test suite (`shared/testdata/porcupine/verdicts.tsv`).
//!
//! The slow runs (kv c50 and kv c10 without per-key partitioning) are `#[ignore]`d in debug
//! builds; run them with `cargo test --release --test porcupine_verdicts -- --include-ignored`.

use std::path::{Path, PathBuf};

use actsim::models::check::{check as check_model, CheckOptions, Model, Verdict};
use actsim::models::parse::{parse_file, Format};

fn data_dir() -> PathBuf {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/testdata/porcupine"
    ));
    assert!(
        dir.join("verdicts.tsv").is_file(),
        "test data not found at {} (the repository must be checked out next to shared/)",
        dir.display()
    );
    dir.to_path_buf()
}

/// (path, expected) from verdicts.tsv; rows without a verdict (`(none)`: the empty etcd_095)
/// are left out and tested separately.
fn verdicts() -> Vec<(String, bool)> {
    let dir = data_dir();
    let text = std::fs::read_to_string(dir.join("verdicts.tsv")).expect("read verdicts.tsv");
    let rows: Vec<(String, bool)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let path = f.next().expect("path column").to_string();
            let expected = match f.next() {
                Some("true") => true,
                Some("false") => false,
                Some("(none)") => return None,
                other => panic!("bad expected column {other:?} in {l:?}"),
            };
            Some((path, expected))
        })
        .collect();
    assert_eq!(rows.len(), 108, "verdicts.tsv should list 108 files");
    rows
}

fn check(path: &str, partition: bool) -> Verdict {
    let dir = data_dir();
    let format = if path.starts_with("kv/") {
        Format::PorcupineKv
    } else {
        Format::PorcupineEtcd
    };
    let parsed = parse_file(format, &dir.join(path)).unwrap_or_else(|e| panic!("{e}"));
    let opts = CheckOptions {
        init: parsed.init,
        partition,
        ..CheckOptions::default()
    };
    check_model(Model::Linearizable, &parsed.history, &[], &opts)
}

fn assert_verdict(path: &str, partition: bool) {
    let expected = verdicts()
        .into_iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("{path} not in verdicts.tsv"))
        .1;
    let v = check(path, partition);
    assert!(!v.is_unknown(), "{path}: {v}");
    assert_eq!(
        v.is_valid(),
        expected,
        "{path} (partition={partition}): {v}"
    );
}

#[test]
fn all_etcd_verdicts() {
    let mut n = 0;
    let mut failures = Vec::new();
    for (path, expected) in verdicts() {
        if !path.starts_with("jepsen/") {
            continue;
        }
        let v = check(&path, true);
        if v.is_unknown() || v.is_valid() != expected {
            failures.push(format!("{path}: expected {expected}, got {v}"));
        }
        n += 1;
    }
    assert_eq!(n, 102);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn etcd_095_is_empty_and_valid() {
    let dir = data_dir();
    let parsed = parse_file(Format::PorcupineEtcd, &dir.join("jepsen/etcd_095.log")).unwrap();
    assert!(parsed.history.is_empty());
    assert!(check_model(
        Model::Linearizable,
        &parsed.history,
        &[],
        &CheckOptions::default()
    )
    .is_valid());
}

#[test]
fn kv_c01_ok() {
    assert_verdict("kv/c01-ok.txt", true);
    assert_verdict("kv/c01-ok.txt", false);
}

#[test]
fn kv_c01_bad() {
    assert_verdict("kv/c01-bad.txt", true);
    assert_verdict("kv/c01-bad.txt", false);
}

#[test]
fn kv_c10_ok() {
    assert_verdict("kv/c10-ok.txt", true);
}

#[test]
fn kv_c10_bad() {
    assert_verdict("kv/c10-bad.txt", true);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds")]
fn kv_c50_ok() {
    assert_verdict("kv/c50-ok.txt", true);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds")]
fn kv_c50_bad() {
    assert_verdict("kv/c50-bad.txt", true);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds")]
fn kv_c10_ok_unpartitioned() {
    assert_verdict("kv/c10-ok.txt", false);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds")]
fn kv_c10_bad_unpartitioned() {
    assert_verdict("kv/c10-bad.txt", false);
}

#[test]
fn every_listed_file_exists() {
    let dir = data_dir();
    for (path, _) in verdicts() {
        assert!(dir.join(&path).is_file(), "{path} missing");
    }
}
