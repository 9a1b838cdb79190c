//! `actsim report TRACE HISTORY`, and the glue that turns today's checker and experiment
//! results into the report library's plain input ([`crate::report::RunReport`]).
//!
//! Everything that knows `models::check::Verdict`, `Counterexample`, `CausalReport` or
//! `Outcome` lives here, not in [`crate::report`], so that those types can change without
//! touching the viewer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use models::check::{check, Budget, CheckOptions, Model};
use models::evaluate::Evaluation;
use models::op::KvHistory;
use sim_core::{NodeId, SimTime};
use sim_net::{Fault, PartitionSpec, Schedule};

use models::report::{
    fault_bands, model_verdict, parse_trace, run_report, ModelVerdict, RunReport, Trace,
    TraceError, VerdictStatus,
};

/// Arguments of `actsim report`.
///
/// ```
/// use clap::Parser;
/// #[derive(Parser)]
/// struct Cli { #[command(flatten)] r: actsim::cli::report::ReportArgs }
/// let c = Cli::parse_from(["actsim", "t.jsonl", "h.json", "--out", "r.html"]);
/// assert_eq!(c.r.out.to_str(), Some("r.html"));
/// ```
#[derive(Clone, Debug, Args)]
pub struct ReportArgs {
    /// The JSON-lines trace (`actsim run --trace FILE`).
    pub trace: PathBuf,
    /// The history (`actsim run --history FILE`).
    pub history: PathBuf,
    /// Where to write the page.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
    /// The protocol's name, for the header.
    #[arg(long, default_value = "unknown")]
    pub protocol: String,
    /// The seed, for the header.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The command that reproduces the run, for the header.
    #[arg(long)]
    pub reproduce: Option<String>,
    /// Time budget of each search-based check, ms.
    #[arg(long, default_value_t = 10_000)]
    pub budget_ms: u64,
}

/// Runs the checkers that need only the history (linearizable, sequential, causal+, causal)
/// and returns their verdicts in report form (every key starts nil). Eventual consistency
/// needs the final reads, which a history file does not have, so it is not checked here.
pub fn check_history(history: &KvHistory, budget: Duration) -> Vec<ModelVerdict> {
    let opts = CheckOptions {
        budget: Budget {
            time: Some(budget),
            steps: None,
        },
        ..CheckOptions::default()
    };
    [
        Model::Linearizable,
        Model::Sequential,
        Model::CausalPlus,
        Model::Causal,
    ]
    .into_iter()
    .map(|m| model_verdict(&check(m, history, &[], &opts)))
    .collect()
}

/// Rebuilds the fault schedule from a trace's fault events (network faults are recorded with
/// their JSON; crashes, restarts, pauses, resumes and clock changes by the kernel).
pub fn schedule_from_trace(trace: &Trace) -> Schedule {
    let mut s = Schedule::new();
    for e in &trace.events {
        let at = e.time.as_nanos() / 1_000_000;
        let fault = match (e.kind.as_str(), e.node) {
            ("fault", _) => serde_json::from_str::<Fault>(&e.detail).ok(),
            ("crash", Some(node)) => Some(Fault::Crash { node }),
            ("restart", Some(node)) => Some(Fault::Restart { node }),
            ("pause", Some(node)) => Some(Fault::Pause { node }),
            ("resume", Some(node)) => Some(Fault::Resume { node }),
            ("clock", Some(node)) => {
                let num = |field: &str| -> i64 {
                    e.detail
                        .split(field)
                        .nth(1)
                        .and_then(|rest| {
                            let digits: String = rest
                                .trim_start()
                                .chars()
                                .take_while(|c| c.is_ascii_digit() || *c == '-')
                                .collect();
                            digits.parse().ok()
                        })
                        .unwrap_or(0)
                };
                Some(Fault::Clock {
                    node,
                    offset_ms: num("offset_ns:") as f64 / 1e6,
                    drift_ppm: i32::try_from(num("drift_ppm:")).unwrap_or(0),
                })
            }
            _ => None,
        };
        if let Some(f) = fault {
            s.push(at, f);
        }
    }
    s
}

/// Sides from the first two-group split partition of a schedule: the larger group is the
/// majority (the cap experiment's groups list every replica and client).
pub fn sides_from_schedule(s: &Schedule) -> BTreeMap<NodeId, String> {
    let mut sides = BTreeMap::new();
    for e in &s.entries {
        if let Fault::Partition(PartitionSpec::Split { groups }) = &e.fault {
            if groups.len() == 2 {
                let (maj, min) = if groups[0].len() >= groups[1].len() {
                    (&groups[0], &groups[1])
                } else {
                    (&groups[1], &groups[0])
                };
                for n in maj {
                    sides.insert(*n, "majority".to_string());
                }
                for n in min {
                    sides.insert(*n, "minority".to_string());
                }
                break;
            }
        }
    }
    sides
}

/// Reads a trace file.
pub fn read_trace(path: &Path) -> Result<Trace, String> {
    let f = std::fs::File::open(path)
        .map_err(|e| format!("cannot open trace {}: {e}", path.display()))?;
    parse_trace(std::io::BufReader::new(f))
        .map_err(|e: TraceError| format!("{}: {e}", path.display()))
}

/// Runs `actsim report`; exit code 0 when the page was written.
pub fn run(args: &ReportArgs) -> Result<u8, super::CliError> {
    let summary = report(args).map_err(super::CliError::Input)?;
    println!("{summary}");
    Ok(0)
}

fn report(args: &ReportArgs) -> Result<String, String> {
    let text = std::fs::read_to_string(&args.history)
        .map_err(|e| format!("cannot read history {}: {e}", args.history.display()))?;
    let history: KvHistory = serde_json::from_str(&text)
        .map_err(|e| format!("history {}: {e}", args.history.display()))?;
    let trace = read_trace(&args.trace)?;
    let schedule = schedule_from_trace(&trace);
    let end = trace.events.last().map_or(SimTime::ZERO, |e| e.time);
    let mut r = RunReport::new(&args.protocol, args.seed, history);
    r.faults = fault_bands(&schedule, end);
    r.sides = sides_from_schedule(&schedule);
    r.verdicts = check_history(&r.history, Duration::from_millis(args.budget_ms));
    r.reproduce = args.reproduce.clone();
    r.config = vec![
        ("trace".into(), args.trace.display().to_string()),
        ("history".into(), args.history.display().to_string()),
        ("trace events".into(), trace.events.len().to_string()),
    ];
    r.trace = Some(trace);
    write_report(&r, &args.out)?;
    let bad: Vec<_> = r
        .verdicts
        .iter()
        .filter(|v| v.status == VerdictStatus::Invalid)
        .map(|v| v.model.as_str())
        .collect();
    Ok(format!(
        "report written to {} ({} operations; invalid: {})",
        args.out.display(),
        r.history.len() / 2,
        if bad.is_empty() {
            "none".to_string()
        } else {
            bad.join(", ")
        }
    ))
}

/// Writes a report to a file.
pub fn write_report(r: &RunReport, path: &Path) -> Result<(), String> {
    let f = std::fs::File::create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    r.write_html(std::io::BufWriter::new(f))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A trace kept in memory for `run --report` without `--trace`.
///
/// ```
/// use std::io::Write;
/// use actsim::cli::report::MemoryTrace;
/// let mut m = MemoryTrace::default();
/// writeln!(m, "{}", r#"{"i":0,"t":0,"event":"start","node":0,"detail":""}"#).unwrap();
/// assert_eq!(m.parse().unwrap().events.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct MemoryTrace(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl MemoryTrace {
    /// Parses what was written so far.
    pub fn parse(&self) -> Result<Trace, TraceError> {
        parse_trace(&self.0.borrow()[..])
    }
}

impl std::io::Write for MemoryTrace {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A trace writer and, when it writes to memory, the memory.
///
/// ```
/// use actsim::cli::report::trace_sink;
/// let (writer, mem) = trace_sink(&None, true).unwrap();
/// assert!(writer.is_some() && mem.is_some());
/// ```
pub type TraceSink = (Option<Box<dyn std::io::Write>>, Option<MemoryTrace>);

/// The trace writer of `actsim run`: the `--trace` file if given, else (for `--report`) memory.
pub fn trace_sink(path: &Option<PathBuf>, report: bool) -> Result<TraceSink, super::CliError> {
    if path.is_some() || !report {
        return Ok((super::common::trace_writer(path)?, None));
    }
    let mem = MemoryTrace::default();
    Ok((Some(Box::new(mem.clone())), Some(mem)))
}

/// What `actsim run --report` (and `replay --report`) knows of a run beyond its outcome.
pub struct RunInfo<'a> {
    /// The protocol's name.
    pub protocol: &'a str,
    /// The command line that reruns it.
    pub reproduce: String,
    /// The command that shrinks it, if it failed.
    pub shrink: Option<String>,
    /// The trace file written, if any (read back when the trace was not kept in memory).
    pub trace: Option<&'a Path>,
    /// Extra configuration lines for the header (nemesis, bug, ...).
    pub config: Vec<(String, String)>,
}

/// Writes the report of a run (`--report FILE`): the trace is read back from memory or from
/// the trace file.
pub fn write_run_report(
    info: RunInfo<'_>,
    path: &Path,
    out: &models::experiment::Outcome,
    ev: &Evaluation,
    mem: Option<MemoryTrace>,
) -> Result<(), String> {
    let trace = match (info.trace, mem) {
        (_, Some(m)) => Some(m.parse().map_err(|e| format!("trace: {e}"))?),
        (Some(p), None) => Some(read_trace(p)?),
        (None, None) => None,
    };
    let mut r = run_report(&info.reproduce, info.protocol, out, ev, trace);
    r.reproduce = Some(info.reproduce.clone());
    r.shrink = info.shrink;
    if out.schedule.entries.len() != 2
        || !matches!(out.schedule.entries[0].fault, sim_net::Fault::Partition(_))
    {
        // Sides mean something only for the majority/minority partition.
        r.sides.clear();
    }
    for (i, c) in info.config.into_iter().enumerate() {
        r.config.insert(i, c);
    }
    write_report(&r, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TraceEvent;

    #[test]
    fn the_schedule_comes_back_from_the_trace() {
        let ev = |t_ms: u64, kind: &str, node: Option<u32>, detail: &str| TraceEvent {
            index: 0,
            time: SimTime::from_millis(t_ms),
            kind: kind.into(),
            node: node.map(NodeId),
            peer: None,
            sent: None,
            detail: detail.into(),
        };
        let trace = Trace {
            events: vec![
                ev(
                    2_000,
                    "fault",
                    None,
                    r#"{"fault":"partition","shape":"split","groups":[[0,1,2],[3,4]]}"#,
                ),
                ev(2_500, "crash", Some(1), ""),
                ev(
                    2_600,
                    "clock",
                    Some(2),
                    "ClockModel { offset_ns: -250000000, drift_ppm: 500 }",
                ),
                ev(3_000, "restart", Some(1), ""),
                ev(4_000, "fault", None, r#"{"fault":"heal"}"#),
            ],
        };
        let s = schedule_from_trace(&trace);
        assert_eq!(s.len(), 5);
        assert_eq!(
            s.entries[2].fault,
            Fault::Clock {
                node: NodeId(2),
                offset_ms: -250.0,
                drift_ppm: 500
            }
        );
        let sides = sides_from_schedule(&s);
        assert_eq!(sides[&NodeId(0)], "majority");
        assert_eq!(sides[&NodeId(4)], "minority");
        let bands = fault_bands(&s, SimTime::from_millis(5_000));
        assert_eq!(bands.len(), 3);
    }
}
