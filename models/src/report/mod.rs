//! The HTML report of one run: a self-contained page (inline CSS, JS and data; works offline)
//! with the verdicts, a timeline of every operation beside the faults, the counterexample, a
//! space-time diagram of the messages around the failure, and availability and latency over
//! time per side of the partition.
//!
//! The report takes its own plain input, [`RunReport`], so it does not depend on how checkers
//! or experiments report: fill in what you know and call [`RunReport::write_html`]. From a run:
//!
//! ```no_run
//! use models::report::{fault_bands, parse_trace, RunReport};
//! # fn demo(out: models::experiment::Outcome) -> Result<(), Box<dyn std::error::Error>> {
//! let mut r = RunReport::new("linearizable", out.summary.seed, out.history.clone());
//! r.faults = fault_bands(&out.schedule, out.final_time);
//! r.sides = out.sides.iter().map(|(n, s)| (*n, format!("{s:?}").to_lowercase())).collect();
//! r.trace = Some(parse_trace(std::io::BufReader::new(std::fs::File::open("run.jsonl")?))?);
//! r.reproduce = Some("actsim run --protocol linearizable --seed 0".into());
//! // r.verdicts.push(ModelVerdict { .. }) for each checker's answer
//! r.write_html(std::fs::File::create("run.html")?)?;
//! # Ok(()) }
//! ```

mod faults;
mod from_run;
mod trace;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use crate::op::KvHistory;
use serde::Serialize;
use sim_core::hash::StableState;
use sim_core::history::{HistoryError, Outcome};
use sim_core::{NodeId, SimTime};

pub use faults::{fault_bands, FaultBand, FaultKind};
pub use from_run::{model_verdict, run_report};
pub use trace::{parse_trace, Trace, TraceError, TraceEvent};

const VIEWER_JS: &str = include_str!("viewer.js");
const VIEWER_CSS: &str = include_str!("viewer.css");

/// Longest message text kept per trace event (the rest is cut, with an ellipsis).
const DETAIL_MAX: usize = 200;

/// A checker's answer, in the report's own terms.
///
/// ```
/// use models::report::VerdictStatus;
/// assert_eq!(VerdictStatus::Invalid.name(), "invalid");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictStatus {
    /// The history satisfies the model.
    Valid,
    /// It does not.
    Invalid,
    /// The checker could not tell (budget, unsupported history).
    Unknown,
}

impl VerdictStatus {
    /// The name the page shows.
    pub fn name(self) -> &'static str {
        match self {
            VerdictStatus::Valid => "valid",
            VerdictStatus::Invalid => "invalid",
            VerdictStatus::Unknown => "unknown",
        }
    }
}

/// One model's verdict. Operation numbers are indices in `History::operations()` (the
/// checkers' `OpRef::index`).
///
/// ```
/// use models::report::{ModelVerdict, VerdictStatus};
/// let v = ModelVerdict {
///     model: "linearizable".into(),
///     status: VerdictStatus::Invalid,
///     summary: "key 2: longest linearizable prefix has 3 operations".into(),
///     blamed_ops: vec![7],
///     prefix_ops: vec![0, 2, 5],
///     key: Some("2".into()),
/// };
/// assert_eq!(v.blamed_ops[0], 7);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelVerdict {
    /// The model's name (`linearizable`, `sequential`, `causal`, ...).
    pub model: String,
    /// Valid, invalid or unknown.
    pub status: VerdictStatus,
    /// One paragraph for people.
    pub summary: String,
    /// The operations to blame: for linearizability the ones that cannot be placed after the
    /// prefix (the first is the one that had to be); for a cycle or bad pattern its operations,
    /// in order.
    pub blamed_ops: Vec<usize>,
    /// The longest explainable prefix, in linearization order (may be empty).
    pub prefix_ops: Vec<usize>,
    /// The key the counterexample is about, when the check was per key.
    pub key: Option<String>,
}

/// Everything a report shows about one run.
///
/// ```
/// use models::report::RunReport;
/// use models::op::{Op, Ret};
/// use sim_core::{history::History, SimTime};
/// let mut h = History::new();
/// h.invoke(SimTime::ZERO, None, 0, Op::write(0, 1));
/// h.ok(SimTime::from_millis(3), None, 0, Ret::Ok);
/// let html = RunReport::new("demo", 7, h).to_html().unwrap();
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(!html.contains("<script src")); // self-contained
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// The page's title (defaults to protocol and seed).
    pub title: String,
    /// The protocol (or system) under test.
    pub protocol: String,
    /// The seed.
    pub seed: u64,
    /// Configuration shown in the header, as name / value pairs.
    pub config: Vec<(String, String)>,
    /// One verdict per model checked.
    pub verdicts: Vec<ModelVerdict>,
    /// The command line that reproduces the run.
    pub reproduce: Option<String>,
    /// The command line that shrinks it.
    pub shrink: Option<String>,
    /// What the clients saw.
    pub history: KvHistory,
    /// The faults, as bands (see [`fault_bands`]).
    pub faults: Vec<FaultBand>,
    /// The side of the partition of each node (`majority`, `minority`, ...); availability and
    /// latency are plotted per side of the client nodes.
    pub sides: BTreeMap<NodeId, String>,
    /// The run's events (messages, drops, node faults), for the space-time diagram.
    pub trace: Option<Trace>,
    /// When the run ended (default: the last history, trace or fault time).
    pub end: Option<SimTime>,
}

/// A report that cannot be written.
///
/// ```
/// use models::report::{ReportError, RunReport};
/// use models::op::{Op, Ret};
/// use sim_core::{history::History, SimTime};
/// let mut h = History::new();
/// h.ok(SimTime::ZERO, None, 0, Ret::Ok); // a completion without an invocation
/// assert!(matches!(RunReport::new("x", 0, h).to_html(), Err(ReportError::History(_))));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The history's events do not pair up into operations.
    #[error("history: {0}")]
    History(#[from] HistoryError),
    /// A verdict names an operation the history does not have.
    #[error("verdicts[{verdict}]: operation {op} is not in the history ({ops} operations)")]
    UnknownOp {
        /// Which verdict.
        verdict: usize,
        /// The operation index.
        op: usize,
        /// How many operations the history has.
        ops: usize,
    },
    /// Writing failed.
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
}

fn us(t: SimTime) -> f64 {
    (t.as_nanos() / 1_000) as f64
}

fn cut(s: &str) -> String {
    if s.len() <= DETAIL_MAX {
        return s.to_string();
    }
    let mut end = DETAIL_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The trace events the page draws, column by column (a 100k-event trace stays a few arrays).
#[derive(Serialize, Default)]
struct Events {
    /// Time, µs.
    t: Vec<f64>,
    /// Kind code (see `KINDS`).
    k: Vec<u8>,
    /// Node (-1: none).
    n: Vec<i64>,
    /// Peer (-1: none).
    p: Vec<i64>,
    /// Sent time of a delivery, µs (-1: unknown).
    s: Vec<f64>,
    /// Index into `details`.
    d: Vec<u32>,
    /// Interned detail strings.
    details: Vec<String>,
}

/// A delivered message: sender, receiver, send time, text.
type MessageKey<'a> = (Option<NodeId>, Option<NodeId>, SimTime, &'a str);

/// Trace kinds the page draws, by code; others (timers, polls, control events) are left out.
const KINDS: [&str; 9] = [
    "deliver",
    "drop",
    "crash",
    "restart",
    "pause",
    "resume",
    "clock",
    "fault",
    "duplicate",
];

impl Events {
    fn of(trace: &Trace) -> Events {
        let mut e = Events::default();
        // Lookups only, never iterated, and a fixed hasher: the page is the same for the same
        // run. (The report is built after a simulation, not inside one.)
        let mut interned: HashMap<String, u32, StableState> = HashMap::default();
        let mut seen: HashSet<MessageKey<'_>, StableState> = HashSet::default();
        let node = |n: Option<NodeId>| n.map_or(-1, |n| i64::from(n.0));
        for ev in &trace.events {
            let Some(mut code) = KINDS.iter().position(|k| *k == ev.kind) else {
                continue;
            };
            if ev.kind == "deliver" {
                if let Some(sent) = ev.sent {
                    // A second delivery of the same message (same link, send time and text) is
                    // a duplicate made by the network.
                    if !seen.insert((ev.peer, ev.node, sent, ev.detail.as_str())) {
                        code = KINDS.len() - 1;
                    }
                }
            }
            let text = cut(&ev.detail);
            let next = e.details.len() as u32;
            let d = *interned.entry(text.clone()).or_insert_with(|| {
                e.details.push(text);
                next
            });
            e.t.push(us(ev.time));
            e.k.push(code as u8);
            e.n.push(node(ev.node));
            e.p.push(node(ev.peer));
            e.s.push(ev.sent.map_or(-1.0, us));
            e.d.push(d);
        }
        e
    }
}

#[derive(Serialize)]
struct Band<'a> {
    s: f64,
    e: f64,
    kind: FaultKind,
    label: &'a str,
    nodes: Vec<u32>,
    groups: Vec<Vec<u32>>,
}

impl RunReport {
    /// A report of `history` with nothing else filled in yet.
    ///
    /// ```
    /// use models::report::RunReport;
    /// let r = RunReport::new("sequential", 3, Default::default());
    /// assert_eq!(r.title, "sequential, seed 3");
    /// ```
    pub fn new(protocol: &str, seed: u64, history: KvHistory) -> RunReport {
        RunReport {
            title: format!("{protocol}, seed {seed}"),
            protocol: protocol.to_string(),
            seed,
            history,
            ..RunReport::default()
        }
    }

    /// The page's data as JSON (what the viewer reads).
    fn data(&self) -> Result<serde_json::Value, ReportError> {
        let ops = self.history.operations()?;
        for (vi, v) in self.verdicts.iter().enumerate() {
            if let Some(&op) = v
                .blamed_ops
                .iter()
                .chain(&v.prefix_ops)
                .find(|&&i| i >= ops.len())
            {
                return Err(ReportError::UnknownOp {
                    verdict: vi,
                    op,
                    ops: ops.len(),
                });
            }
        }
        let mut end = self.end.unwrap_or(SimTime::ZERO);
        let op_rows: Vec<serde_json::Value> = ops
            .iter()
            .map(|o| {
                end = end.max(o.complete_time.unwrap_or(o.invoke_time));
                let (outcome, ret) = match &o.outcome {
                    Outcome::Ok(r) => ("ok", r.to_string()),
                    Outcome::Fail => ("fail", String::new()),
                    Outcome::Info => ("info", String::new()),
                };
                let key =
                    o.op.keys()
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(",");
                serde_json::json!([
                    o.process,
                    o.node.map_or(-1, |n| i64::from(n.0)),
                    key,
                    o.op.to_string(),
                    outcome,
                    ret,
                    us(o.invoke_time),
                    o.complete_time.map_or(-1.0, us),
                ])
            })
            .collect();
        let events = self.trace.as_ref().map(Events::of);
        if let Some(t) = &self.trace {
            if let Some(last) = t.events.last() {
                end = end.max(last.time);
            }
        }
        if self.end.is_none() {
            for b in &self.faults {
                end = end.max(b.end);
            }
        }
        let bands: Vec<Band<'_>> = self
            .faults
            .iter()
            .map(|b| Band {
                s: us(b.start),
                e: us(b.end),
                kind: b.kind,
                label: &b.label,
                nodes: b.nodes.iter().map(|n| n.0).collect(),
                groups: b
                    .groups
                    .iter()
                    .map(|g| g.iter().map(|n| n.0).collect())
                    .collect(),
            })
            .collect();
        let sides: BTreeMap<String, &str> = self
            .sides
            .iter()
            .map(|(n, s)| (n.0.to_string(), s.as_str()))
            .collect();
        Ok(serde_json::json!({
            "title": self.title,
            "protocol": self.protocol,
            "seed": self.seed,
            "config": self.config,
            "verdicts": self.verdicts,
            "reproduce": self.reproduce,
            "shrink": self.shrink,
            "ops": op_rows,
            "faults": bands,
            "sides": sides,
            "events": events,
            "kinds": KINDS,
            "end": us(end),
        }))
    }

    /// Writes the page to `w`.
    pub fn write_html(&self, mut w: impl Write) -> Result<(), ReportError> {
        let data = self.data()?;
        // Inside <script>, "</" could end the element early; "<\/" is the same JSON string.
        let json = data.to_string().replace("</", "<\\/");
        let title = html_escape(&self.title);
        write!(
            w,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>actsim report: {title}</title>\n<style>\n{VIEWER_CSS}\n</style></head>\n\
             <body>\n<div id=\"errors\"></div>\n<div id=\"app\">Loading the report…</div>\n\
             <script>window.__actsimErrors=[];window.onerror=function(m,s,l,c,e){{\
             window.__actsimErrors.push(String(m)+' (line '+l+')');\
             var el=document.getElementById('errors');\
             if(el){{el.textContent+= 'error: '+m+' (line '+l+')\\n';el.style.display='block';}}}};</script>\n\
             <script type=\"application/json\" id=\"data\">{json}</script>\n\
             <script>\n{VIEWER_JS}\n</script>\n</body></html>\n"
        )?;
        w.flush()?;
        Ok(())
    }

    /// The page as a string.
    pub fn to_html(&self) -> Result<String, ReportError> {
        let mut buf = Vec::new();
        self.write_html(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{Op, Ret, Value};

    fn tiny() -> KvHistory {
        let mut h = KvHistory::new();
        h.invoke(SimTime::ZERO, Some(NodeId(5)), 0, Op::write(0, 1));
        h.ok(SimTime::from_millis(2), Some(NodeId(5)), 0, Ret::Ok);
        h.invoke(SimTime::from_millis(3), Some(NodeId(6)), 1, Op::read(0));
        h.ok(
            SimTime::from_millis(4),
            Some(NodeId(6)),
            1,
            Ret::Value(Value::Nil),
        );
        h
    }

    #[test]
    fn data_is_embedded_and_cannot_close_the_script() {
        let mut r = RunReport::new("p", 1, tiny());
        r.config.push(("note".into(), "</script><b>".into()));
        let html = r.to_html().unwrap();
        assert_eq!(html.matches("</script>").count(), 3);
        assert!(html.contains("<\\/script><b>"));
        assert!(html.contains(VIEWER_JS.lines().next().unwrap()));
    }

    #[test]
    fn a_verdict_naming_a_missing_op_is_an_error() {
        let mut r = RunReport::new("p", 1, tiny());
        r.verdicts.push(ModelVerdict {
            model: "linearizable".into(),
            status: VerdictStatus::Invalid,
            summary: String::new(),
            blamed_ops: vec![2],
            prefix_ops: vec![],
            key: None,
        });
        let err = r.to_html().unwrap_err().to_string();
        assert_eq!(
            err,
            "verdicts[0]: operation 2 is not in the history (2 operations)"
        );
    }

    #[test]
    fn duplicates_are_marked_and_timers_left_out() {
        let ev = |kind: &str, t: u64, sent: Option<u64>| TraceEvent {
            index: t,
            time: SimTime::from_nanos(t),
            kind: kind.into(),
            node: Some(NodeId(1)),
            peer: Some(NodeId(0)),
            sent: sent.map(SimTime::from_nanos),
            detail: "Ping".into(),
        };
        let t = Trace {
            events: vec![
                ev("deliver", 5_000, Some(1_000)),
                ev("timer", 6_000, None),
                ev("deliver", 7_000, Some(1_000)),
                ev("deliver", 8_000, Some(2_000)),
            ],
        };
        let e = Events::of(&t);
        let names: Vec<_> = e.k.iter().map(|&k| KINDS[k as usize]).collect();
        assert_eq!(names, ["deliver", "duplicate", "deliver"]);
        assert_eq!(e.details, ["Ping"]);
        assert_eq!(e.s, [1.0, 1.0, 2.0]);
    }
}
