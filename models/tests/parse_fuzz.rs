//! Fuzz-style robustness of every input parser: actsim JSON, Jepsen EDN, Porcupine etcd and kv
//! logs, and sim-net's schedule JSON. Random bytes, every truncation of valid inputs, random
//! byte edits, nesting 100,000 deep, and huge or odd numbers: each must give `Ok` or an error,
//! never a panic or a stack overflow (the test would abort). Whatever parses is then judged by
//! every checker under a step budget, which must not panic either.
//!
//! `ACTSIM_FUZZ_CASES=N` runs N random inputs per format (default 2000); `ACTSIM_SEED=S` runs
//! the one random input with seed S (printed with every failure, as the panic message names
//! the input's seed).

use models::check::{check, Budget, CheckOptions, Model};
use models::parse::{parse_str, Format};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sim_net::Schedule;

const JSON: &str = r#"[{"process":0,"time":0,"type":"invoke","op":{"f":"write","key":1,"value":3}},
 {"process":1,"time":1,"type":"invoke","op":{"f":"read","key":1}},
 {"process":0,"time":2,"type":"ok","value":"ok"},
 {"process":1,"time":3,"type":"ok","value":{"value":3}},
 {"process":2,"time":4,"type":"invoke","op":{"f":"cas","key":1,"old":3,"new":4}},
 {"process":2,"time":5,"type":"info","error":"timeout"}]"#;

const EDN: &str = r#"[{:process 0 :type :invoke :f :write :value 1 :time 10}
 {:process 0 :type :ok :f :write :value 1 :time 20}
 {:process 1 :type :invoke :f :cas :value [1 2]}
 {:process 1 :type :fail :f :cas :value [1 2] :error :timeout}
 {:process 2 :type :invoke :f :txn :value [[:r 1 nil] [:w 2 3]]}
 {:process 2 :type :ok :f :txn :value [[:r 1 1] [:w 2 3]]}
 {:process 3 :type :invoke :f :read :value nil} ; a comment
 #_{:discarded true}
 {:process 3 :type :info :f :read :value nil}
 {:process 4, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
 {:process 4, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
 {:process 5 :type :invoke :f :acquire} {:process 5 :type :ok :f :acquire}]"#;

const ETCD: &str = "INFO  jepsen.util - 4\t:invoke\t:read\tnil
INFO  jepsen.util - 4\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:write\t1
INFO  jepsen.util - 2\t:invoke\t:cas\t[2 4]
INFO  jepsen.util - 1\t:ok\t:write\t1
INFO  jepsen.util - 2\t:fail\t:cas\t[2 4]
INFO  jepsen.util - 3\t:invoke\t:read\tnil
INFO  jepsen.util - 3\t:info\t:read\t:timed-out
";

const KV: &str = r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "0", :value nil}
{:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 y"}
{:process 2, :type :invoke, :f :put, :key "1", :value "z"}
{:process 2, :type :info, :f :put, :key "1", :value "z"}
"#;

const SCHEDULE: &str = r#"{"entries": [
 {"at_ms": 1000, "fault": "partition", "shape": "split", "groups": [[0, 1], [2, 3, 4]]},
 {"at_ms": 1500, "fault": "crash", "node": 2},
 {"at_ms": 2000, "fault": "clock", "node": 1, "offset_ms": -250.0, "drift_ppm": 500},
 {"at_ms": 2500, "fault": "set_links", "links": {"from": [3]}, "patch": {"loss": 0.3, "latency": {"dist": "uniform", "min_ms": 1.0, "max_ms": 10.0}}},
 {"at_ms": 3000, "fault": "heal_all", "nodes": [0, 1, 2, 3, 4]}]}"#;

/// Every input kind with its valid sample.
fn targets() -> Vec<(&'static str, &'static str, Option<Format>)> {
    vec![
        ("json", JSON, Some(Format::Json)),
        ("edn", EDN, Some(Format::Edn)),
        ("porcupine-etcd", ETCD, Some(Format::PorcupineEtcd)),
        ("porcupine-kv", KV, Some(Format::PorcupineKv)),
        ("schedule", SCHEDULE, None),
    ]
}

/// Parses `text` as `what`; whatever parses is checked by every model on a small budget.
/// Returns whether it parsed.
fn feed(format: Option<Format>, text: &str) -> bool {
    let Some(format) = format else {
        return match Schedule::from_json(text) {
            Ok(s) => {
                let _ = s.validate(5); // either answer; no panic
                true
            }
            Err(_) => false,
        };
    };
    let Ok(p) = parse_str(format, "fuzz", text) else {
        return false;
    };
    let opts = CheckOptions {
        init: p.init.clone(),
        budget: Budget {
            time: None,
            steps: Some(2_000),
        },
        parallelism: 1,
        ..CheckOptions::default()
    };
    for m in Model::ALL {
        let v = check(m, &p.history, &[], &opts);
        assert_eq!(v.model(), m);
    }
    true
}

fn cases() -> Vec<u64> {
    if let Some(s) = std::env::var("ACTSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![s];
    }
    let n = std::env::var("ACTSIM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000u64);
    (0..n).collect()
}

/// Runs `f`, naming the input on a panic.
fn named(what: &str, detail: &dyn std::fmt::Display, f: impl FnOnce() -> bool) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(b) => b,
        Err(_) => panic!("{what}: panicked on input {detail}"),
    }
}

#[test]
fn valid_samples_parse() {
    for (what, text, format) in targets() {
        assert!(feed(format, text), "{what}: the sample must parse");
    }
}

#[test]
fn every_truncation_is_handled() {
    for (what, text, format) in targets() {
        let mut parsed = 0;
        for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let cut = &text[..end];
            parsed += usize::from(named(what, &format!("truncated at {end}"), || {
                feed(format, cut)
            }));
        }
        // The empty prefix and the whole text at least (an empty history is valid for the
        // line formats; JSON and EDN need their closing bracket).
        assert!(parsed >= 1, "{what}: no truncation parsed");
    }
}

#[test]
fn random_bytes_and_edits_are_handled() {
    let alphabet: &[u8] = b"[]{}()#_:;\"\\ \t\n,-+.0123456789eE:nilrwxyz";
    for (what, text, format) in targets() {
        for &seed in &cases() {
            let mut rng = Pcg64::seed_from_u64(seed);
            // Half random text over the format's own alphabet, half edits of the sample.
            let bytes: Vec<u8> = if seed % 2 == 0 {
                let n = rng.random_range(0..200);
                (0..n)
                    .map(|_| {
                        if rng.random_bool(0.9) {
                            alphabet[rng.random_range(0..alphabet.len())]
                        } else {
                            rng.random()
                        }
                    })
                    .collect()
            } else {
                let mut b = text.as_bytes().to_vec();
                for _ in 0..rng.random_range(1..6) {
                    let i = rng.random_range(0..=b.len());
                    match rng.random_range(0..3) {
                        0 if i < b.len() => {
                            b.remove(i);
                        }
                        1 if i < b.len() => b[i] = alphabet[rng.random_range(0..alphabet.len())],
                        _ => b.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
                    }
                }
                b
            };
            let s = String::from_utf8_lossy(&bytes);
            named(what, &format!("of seed {seed}: {s:?}"), || feed(format, &s));
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let n = 100_000;
    for (what, _, format) in targets() {
        for (open, close) in [("[", "]"), ("{", "}"), ("(", ")"), ("#{", "}"), ("#_", "")] {
            let deep = format!("{}{}", open.repeat(n), close.repeat(n));
            named(what, &format!("{n} x {open}"), || feed(format, &deep));
            let unclosed = open.repeat(n);
            named(what, &format!("{n} x {open} unclosed"), || {
                feed(format, &unclosed)
            });
        }
        // Nested inside a valid-looking event.
        let inside = format!(
            "[{{:process 0 :type :invoke :f :write :value {}1{}}}]",
            "[".repeat(n),
            "]".repeat(n)
        );
        named(what, &"deep value", || feed(format, &inside));
    }
}

#[test]
fn huge_and_odd_numbers_are_handled() {
    let numbers = [
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999999999999999999",
        "1e400",
        "-1e400",
        "1.5",
        "-0",
        "NaN",
        "0x10",
        "1N",
        "1M",
    ];
    for n in numbers {
        let inputs: Vec<(Option<Format>, String)> = vec![
            (
                Some(Format::Json),
                format!(r#"[{{"process":{n},"time":{n},"type":"invoke","op":{{"f":"write","key":{n},"value":{n}}}}}]"#),
            ),
            (
                Some(Format::Edn),
                format!("[{{:process {n} :type :invoke :f :write :value {n} :time {n}}} {{:process {n} :type :ok :f :write :value {n} :time {n}}}]"),
            ),
            (
                Some(Format::Edn),
                format!("[{{:process 0 :type :invoke :f :cas :value [{n} {n}]}} {{:process 0 :type :ok :f :cas :value [{n} {n}]}}]"),
            ),
            (
                Some(Format::PorcupineEtcd),
                format!("INFO  jepsen.util - {n}\t:invoke\t:write\t{n}\nINFO  jepsen.util - {n}\t:ok\t:write\t{n}\n"),
            ),
            (
                Some(Format::PorcupineKv),
                format!("{{:process {n}, :type :invoke, :f :put, :key \"{n}\", :value \"{n}\"}}\n"),
            ),
            (None, format!(r#"{{"entries": [{{"at_ms": {n}, "fault": "heal"}}]}}"#)),
            (
                None,
                format!(r#"{{"entries": [{{"at_ms": 1, "fault": "clock", "node": 0, "offset_ms": {n}, "drift_ppm": {n}}}]}}"#),
            ),
            (
                None,
                format!(r#"{{"entries": [{{"at_ms": 1, "fault": "set_links", "patch": {{"loss": {n}, "latency": {{"dist": "constant", "ms": {n}}}}}}}]}}"#),
            ),
        ];
        for (format, text) in inputs {
            named("numbers", &text, || feed(format, &text));
        }
    }
    // A huge at_ms is an error naming the field, never a wrapped time.
    let e =
        Schedule::from_json(r#"{"entries": [{"at_ms": 18446744073709551615, "fault": "heal"}]}"#)
            .unwrap_err();
    assert_eq!(e.field(), "entries[0].at_ms");
}
