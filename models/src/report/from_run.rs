//! The report of a run from what actsim's experiment and checkers say of it.

use crate::check::{Counterexample, Verdict};
use crate::evaluate::Evaluation;
use crate::experiment::Outcome;

use super::{fault_bands, ModelVerdict, RunReport, Trace, VerdictStatus};

/// The report form of a verdict: the blamed operations and, for a linearization, the longest
/// explainable prefix and the key.
pub fn model_verdict(v: &Verdict) -> ModelVerdict {
    let model = v.model().to_string();
    match v {
        Verdict::Valid { .. } => plain(&model, VerdictStatus::Valid, String::new()),
        Verdict::Unknown { reason, .. } => {
            plain(&model, VerdictStatus::Unknown, reason.to_string())
        }
        Verdict::Invalid { counterexample, .. } => {
            let (prefix_ops, key) = match &**counterexample {
                Counterexample::Linearization {
                    partition, prefix, ..
                } => (
                    prefix.iter().map(|o| o.index).collect(),
                    partition.strip_prefix("key ").map(|_| partition.clone()),
                ),
                _ => (Vec::new(), None),
            };
            ModelVerdict {
                model,
                status: VerdictStatus::Invalid,
                summary: counterexample.to_string(),
                blamed_ops: v.blamed(),
                prefix_ops,
                key,
            }
        }
    }
}

fn plain(model: &str, status: VerdictStatus, summary: String) -> ModelVerdict {
    ModelVerdict {
        model: model.to_string(),
        status,
        summary,
        blamed_ops: Vec::new(),
        prefix_ops: Vec::new(),
        key: None,
    }
}

/// The report of an `actsim run`: the outcome, the evaluation's verdicts (with the
/// counterexamples of linearizable, sequential and causal from the history) and the trace.
pub fn run_report(
    title: &str,
    protocol: &str,
    out: &Outcome,
    ev: &Evaluation,
    trace: Option<Trace>,
) -> RunReport {
    let mut r = RunReport::new(protocol, out.summary.seed, out.history.clone());
    r.title = title.to_string();
    r.faults = fault_bands(&out.schedule, out.final_time);
    r.sides = out
        .sides
        .iter()
        .map(|(n, s)| (*n, format!("{s:?}").to_lowercase()))
        .collect();
    r.trace = trace;
    r.end = Some(out.final_time);
    r.config = vec![
        ("trace hash".into(), ev.trace_hash.to_string()),
        (
            "fault window".into(),
            format!("{} – {}", out.fault_window.0, out.fault_window.1),
        ),
        ("replicas".into(), out.replicas.len().to_string()),
        ("events".into(), out.summary.counters.events.to_string()),
        (
            "latency p50 / p99 ms".into(),
            format!("{:.1} / {:.1}", ev.latency_ms.0, ev.latency_ms.1),
        ),
    ];
    r.verdicts = ev.checks.values().map(model_verdict).collect();
    r
}
