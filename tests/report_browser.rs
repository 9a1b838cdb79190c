//! The HTML report in a real browser: reports of failing runs are written by the CLI
//! (`actsim run --report`, `actsim report TRACE HISTORY`), loaded in headless Chromium, and the
//! DOM after the viewer ran is checked: one bar per operation, the checker's blamed operation
//! highlighted, fault bands, no script errors. Screenshots go to `target/tmp/report_browser/`.
//!
//! Needs `chromium` (Debian package; `.ci/run` installs it). Without it the test fails unless
//! `ACTSIM_SKIP_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use models::check::{check, CheckOptions, Counterexample, Model};
use models::op::KvHistory;

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser");
    std::fs::create_dir_all(&d).expect("create the output directory");
    d
}

/// The browser, or `None` when skipping is allowed.
fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    if let Ok(p) = std::env::var("ACTSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for c in candidates {
        if let Ok(o) = Command::new("which").arg(c).output() {
            if o.status.success() {
                let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
                if !p.is_empty() {
                    return Some(PathBuf::from(p));
                }
            }
        }
    }
    if std::env::var("ACTSIM_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("report_browser: no chromium found; skipped because ACTSIM_SKIP_BROWSER=1");
        return None;
    }
    panic!(
        "report_browser: no chromium found (looked for {candidates:?} and $ACTSIM_CHROMIUM). \
         Install it (`apt-get install -y chromium`) or set ACTSIM_SKIP_BROWSER=1 to skip."
    );
}

fn browser(chrome: &Path, html: &Path, extra: &[String]) -> String {
    let profile = out_dir().join(format!(
        "profile-{}",
        html.file_stem().unwrap_or_default().to_string_lossy()
    ));
    let out = Command::new(chrome)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        html.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dump_dom(chrome: &Path, html: &Path) -> String {
    browser(chrome, html, &["--dump-dom".to_string()])
}

fn screenshot(chrome: &Path, html: &Path, png: &Path) {
    browser(
        chrome,
        html,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,1000".to_string(),
        ],
    );
    let len = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
    assert!(len > 10_000, "screenshot {} is empty", png.display());
}

/// The first seed below 60 whose `actsim run ARGS --seed S --json` makes `pick` true.
fn first_seed(args: &[&str], pick: impl Fn(&serde_json::Value) -> bool) -> String {
    for seed in 0..60u64 {
        let seed = seed.to_string();
        let mut a = args.to_vec();
        a.extend(["--seed", &seed, "--json"]);
        let doc: serde_json::Value = serde_json::from_str(&actsim(&a)).expect("run --json");
        if pick(&doc) {
            return seed;
        }
    }
    panic!("no seed below 60 of {args:?} shows what this test needs");
}

/// Whether `model`'s verdict in a `run --json` document is invalid.
fn invalid(doc: &serde_json::Value, model: &str) -> bool {
    doc["evaluation"]["checks"][model]["verdict"] == "invalid"
}

/// Whether a `run --json` document's schedule has a fault of this kind.
fn has_fault(doc: &serde_json::Value, kind: &str) -> bool {
    doc["schedule"]["entries"]
        .as_array()
        .is_some_and(|e| e.iter().any(|f| f["fault"] == kind))
}

fn actsim(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_actsim"))
        .args(args)
        .output()
        .expect("run actsim");
    let code = out.status.code();
    // `run` exits 1 when the protocol broke its model: that is what these runs are for.
    assert!(
        matches!(code, Some(0 | 1)),
        "actsim {args:?} exited {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The part of the DOM between two element ids.
fn section<'a>(dom: &'a str, from: &str, to: &str) -> &'a str {
    let a = dom
        .find(&format!("id=\"{from}\""))
        .unwrap_or_else(|| panic!("no #{from} in the page"));
    // The viewer's own source follows the page's elements: never search into it.
    let end = dom[a..].find("<script").map_or(dom.len(), |b| a + b);
    let b = dom[a..end]
        .find(&format!("id=\"{to}\""))
        .map_or(end, |b| a + b);
    &dom[a..b]
}

/// The `data-i` of every `<rect>` whose class list contains `class`.
fn rects_with_class(html: &str, class: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for tag in html.split("<rect").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let Some(c) = attr(tag, "class") else {
            continue;
        };
        if c.split_whitespace().any(|w| w == class) {
            if let Some(i) = attr(tag, "data-i").and_then(|i| i.parse().ok()) {
                found.push(i);
            }
        }
    }
    found
}

fn count_rects_with_class(html: &str, class: &str) -> usize {
    html.split("<rect")
        .skip(1)
        .filter(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            attr(tag, "class").is_some_and(|c| c.split_whitespace().any(|w| w == class))
        })
        .count()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let a = tag.find(&key)? + key.len();
    let b = tag[a..].find('"')? + a;
    Some(&tag[a..b])
}

fn errors_of(dom: &str) -> String {
    let s = section(dom, "errors", "app");
    let start = s.find('>').map_or(0, |i| i + 1);
    let end = s.find("</div>").unwrap_or(s.len());
    s[start..end].trim().to_string()
}

/// What the checker itself blames in a history: the first operation it cannot place.
fn checker_blames(history: &Path) -> usize {
    let text = std::fs::read_to_string(history).expect("read the history");
    let h: KvHistory = serde_json::from_str(&text).expect("parse the history");
    let v = check(Model::Linearizable, &h, &[], &CheckOptions::default());
    match v.counterexample() {
        Some(Counterexample::Linearization { stuck, .. }) => stuck[0].index,
        _ => panic!("expected a linearizability violation, got {v}"),
    }
}

fn operations(history: &Path) -> usize {
    let text = std::fs::read_to_string(history).expect("read the history");
    let h: KvHistory = serde_json::from_str(&text).expect("parse the history");
    h.operations().expect("pair the history").len()
}

/// Everything a report of a failing linearizability run must show.
fn check_report(chrome: &Path, html: &Path, history: &Path, fault_kinds: &[&str]) {
    let dom = dump_dom(chrome, html);
    assert_eq!(errors_of(&dom), "", "script errors in {}", html.display());
    assert!(
        dom.contains("data-ready=\"1\""),
        "the viewer did not finish on {}",
        html.display()
    );
    let timeline = section(&dom, "timeline-svg", "counterexample");
    assert_eq!(
        count_rects_with_class(timeline, "op"),
        operations(history),
        "one bar per operation"
    );
    let blamed = checker_blames(history);
    assert_eq!(
        rects_with_class(timeline, "blamed"),
        [blamed],
        "the timeline highlights the checker's op"
    );
    let cex = section(&dom, "counterexample", "messages");
    assert_eq!(rects_with_class(cex, "cex-blamed"), [blamed]);
    assert!(
        !rects_with_class(cex, "cex-prefix").is_empty(),
        "the prefix is drawn"
    );
    for kind in fault_kinds {
        let bands = timeline
            .split("<rect")
            .filter(|t| t.starts_with(&format!(" class=\"fault-band {kind}\"")))
            .count();
        assert!(bands > 0, "no {kind} band in {}", html.display());
    }
    let messages = section(&dom, "messages-svg", "plots");
    assert!(
        messages.matches("class=\"msg").count() > 0,
        "the message diagram draws messages"
    );
    let blamed_bar = rects_with_class(messages, "blamed");
    assert_eq!(
        blamed_bar,
        [blamed],
        "the message window is around the blamed op"
    );
    let plots = section(&dom, "plots-svg", "tooltip");
    assert!(
        !plots.contains("function"),
        "the plots section ends before the scripts"
    );
    assert!(plots.contains("plot-availability") && plots.contains("<polyline"));
}

#[test]
fn reports_of_failing_runs_in_chromium() {
    let Some(chrome) = chromium() else { return };
    let dir = out_dir();
    let p = |name: &str| dir.join(name);
    let s = |p: &PathBuf| p.display().to_string();

    // The cap partition: a stale read on the minority.
    let (html, hist, trace) = (p("stale-read-s0.html"), p("s0.json"), p("s0.jsonl"));
    let stale = ["run", "--protocol", "linearizable", "--bug", "stale-read"];
    let seed = first_seed(&stale, |d| invalid(d, "linearizable"));
    let text = actsim(&[
        "run",
        "--protocol",
        "linearizable",
        "--bug",
        "stale-read",
        "--seed",
        &seed,
        "--history",
        &s(&hist),
        "--trace",
        &s(&trace),
        "--report",
        &s(&html),
    ]);
    assert!(text.contains("linearizable INVALID"), "{text}");
    check_report(&chrome, &html, &hist, &["partition"]);
    screenshot(&chrome, &html, &p("stale-read-s0.png"));

    // The same run from its files, with `actsim report`.
    let html2 = p("stale-read-s0-from-files.html");
    let text = actsim(&["report", &s(&trace), &s(&hist), "--out", &s(&html2)]);
    assert!(text.contains("invalid: linearizable"), "{text}");
    check_report(&chrome, &html2, &hist, &["partition"]);

    // Random faults: partitions and crashes.
    let (html3, hist3) = (p("stale-read-s28.html"), p("s28.json"));
    let random = [&stale[..], &["--nemesis", "random"]].concat();
    let seed = first_seed(&random, |d| {
        invalid(d, "linearizable") && has_fault(d, "partition") && has_fault(d, "crash")
    });
    actsim(&[
        "run",
        "--protocol",
        "linearizable",
        "--bug",
        "stale-read",
        "--seed",
        &seed,
        "--nemesis",
        "random",
        "--history",
        &s(&hist3),
        "--report",
        &s(&html3),
    ]);
    check_report(&chrome, &html3, &hist3, &["partition", "crash"]);
    screenshot(&chrome, &html3, &p("stale-read-s28.png"));
}

/// A sequential-consistency cycle: the eventual protocol under the cap partition, seed 1.
#[test]
fn a_sequential_cycle_in_chromium() {
    let Some(chrome) = chromium() else { return };
    let dir = out_dir();
    let (html, hist) = (dir.join("eventual-s1.html"), dir.join("eventual-s1.json"));
    let s = |p: &PathBuf| p.display().to_string();
    let seed = first_seed(
        &["run", "--protocol", "eventual", "--check", "sequential"],
        |d| {
            invalid(d, "sequential")
                && d["evaluation"]["checks"]["sequential"]["counterexample"]["kind"]
                    == "order_cycle"
        },
    );
    actsim(&[
        "run",
        "--protocol",
        "eventual",
        "--check",
        "sequential",
        "--seed",
        &seed,
        "--history",
        &s(&hist),
        "--report",
        &s(&html),
    ]);
    let text = std::fs::read_to_string(&hist).expect("read the history");
    let h: KvHistory = serde_json::from_str(&text).expect("parse the history");
    let v = check(Model::Sequential, &h, &[], &CheckOptions::default());
    let cycle = match v.counterexample() {
        Some(Counterexample::OrderCycle { ops }) => ops.iter().map(|o| o.index).collect::<Vec<_>>(),
        _ => panic!("expected a sequential-consistency cycle, got {v}"),
    };
    let dom = dump_dom(&chrome, &html);
    assert_eq!(errors_of(&dom), "");
    let cex = section(&dom, "counterexample", "messages");
    let seq = &cex[cex
        .find("data-model=\"sequential\"")
        .expect("a sequential counterexample")..];
    assert_eq!(rects_with_class(seq, "cex-blamed"), [cycle[0]]);
    let mut named = rects_with_class(seq, "cex-blamed");
    named.extend(rects_with_class(seq, "cex-stuck"));
    named.sort_unstable();
    let mut want = cycle.clone();
    want.sort_unstable();
    assert_eq!(named, want, "every operation of the cycle is marked");
    // Both failing verdicts' first operations are marked on the timeline.
    let timeline = section(&dom, "timeline-svg", "counterexample");
    assert!(rects_with_class(timeline, "blamed").contains(&cycle[0]));
}

/// The error detector the test relies on works: a page whose script throws shows it in
/// `#errors`.
#[test]
fn a_script_error_shows_in_the_page() {
    let Some(chrome) = chromium() else { return };
    let dir = out_dir();
    let mut h = KvHistory::new();
    h.invoke(sim_core::SimTime::ZERO, None, 0, models::op::Op::read(0));
    let html = actsim::report::RunReport::new("broken", 0, h)
        .to_html()
        .expect("report")
        .replace("</body>", "<script>noSuchFunction();</script></body>");
    let path = dir.join("broken.html");
    std::fs::write(&path, html).expect("write");
    let dom = dump_dom(&chrome, &path);
    assert!(
        errors_of(&dom).contains("noSuchFunction"),
        "#errors: {:?}",
        errors_of(&dom)
    );
}

/// `actsim report` names the line of a malformed trace and exits 2; it never panics.
#[test]
fn a_malformed_trace_is_an_error_naming_the_line() {
    let dir = out_dir();
    let hist = dir.join("tiny.json");
    let mut h = KvHistory::new();
    h.invoke(sim_core::SimTime::ZERO, None, 0, models::op::Op::read(0));
    std::fs::write(&hist, serde_json::to_string(&h).expect("json")).expect("write");
    let good = r#"{"i":0,"t":0,"event":"start","node":0,"peer":null,"detail":""}"#;
    let cases = [
        (
            format!("{good}\n{{\"i\":1,\"t\""),
            "trace line 2: not a JSON object",
        ),
        (
            format!("{good}\n{good}\n{}", good.replace("\"t\":0", "\"t\":-5")),
            "trace line 3: field `t`",
        ),
        (
            format!("{good}\n\n{{}}"),
            "trace line 3: field `i`: missing",
        ),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        let trace = dir.join(format!("bad{k}.jsonl"));
        std::fs::write(&trace, text).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_actsim"))
            .args([
                "report",
                &trace.display().to_string(),
                &hist.display().to_string(),
            ])
            .arg("--out")
            .arg(dir.join("bad.html"))
            .output()
            .expect("run actsim");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
}
