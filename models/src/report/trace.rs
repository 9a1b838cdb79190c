//! Reading the kernel's JSON-lines trace (see `Sim::set_trace_writer`) back into events.

use std::io::BufRead;

use serde::Serialize;
use sim_core::{NodeId, SimTime};

/// One event of a JSON-lines trace.
///
/// ```
/// use models::report::parse_trace;
/// let line = r#"{"i":7,"t":1500,"time":"0.000001s","event":"deliver","node":1,"peer":0,"sent_t":900,"detail":"Ping"}"#;
/// let t = parse_trace(line.as_bytes()).unwrap();
/// assert_eq!(t.events[0].peer, Some(sim_core::NodeId(0)));
/// assert_eq!(t.events[0].sent.map(|s| s.as_nanos()), Some(900));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    /// The event's number in the run (`i`).
    pub index: u64,
    /// Virtual time (`t`, ns).
    pub time: SimTime,
    /// `deliver`, `drop`, `timer`, `crash`, `restart`, `pause`, `resume`, `clock`, `fault`, ...
    pub kind: String,
    /// The node it happened on (the receiver of a delivery or drop).
    pub node: Option<NodeId>,
    /// The sender of a delivery or drop.
    pub peer: Option<NodeId>,
    /// When a delivered message was sent (`sent_t`, ns; traces written before the field existed
    /// have none).
    pub sent: Option<SimTime>,
    /// The message (`Debug`), the drop cause, the fault, or empty.
    pub detail: String,
}

/// A parsed trace: its events in file order.
///
/// ```
/// use models::report::Trace;
/// let t = Trace::default();
/// assert!(t.events.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The events.
    pub events: Vec<TraceEvent>,
}

/// A trace file that cannot be read; every variant names the (1-based) line.
///
/// ```
/// use models::report::{parse_trace, TraceError};
/// let err = parse_trace("{\"i\":0}\n".as_bytes()).unwrap_err();
/// assert!(matches!(err, TraceError::Field { line: 1, field: "t", .. }));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Reading failed.
    #[error("trace line {line}: cannot read: {source}")]
    Io {
        /// The line being read.
        line: usize,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The line is not a JSON object.
    #[error("trace line {line}: not a JSON object: {message}")]
    Json {
        /// The line.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A field is missing or has the wrong type.
    #[error("trace line {line}: field `{field}`: {problem}")]
    Field {
        /// The line.
        line: usize,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

fn node_field(
    obj: &serde_json::Map<String, serde_json::Value>,
    line: usize,
    field: &'static str,
) -> Result<Option<NodeId>, TraceError> {
    match obj.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(|n| Some(NodeId(n)))
            .ok_or(TraceError::Field {
                line,
                field,
                problem: "not a node number",
            }),
    }
}

/// Parses a JSON-lines trace. Blank lines are skipped; a malformed line is an error naming it.
///
/// ```
/// use models::report::{parse_trace, TraceError};
/// let err = parse_trace("\n{oops\n".as_bytes()).unwrap_err();
/// assert!(matches!(err, TraceError::Json { line: 2, .. }));
/// ```
pub fn parse_trace(r: impl BufRead) -> Result<Trace, TraceError> {
    let mut events = Vec::new();
    for (n, text) in r.lines().enumerate() {
        let line = n + 1;
        let text = text.map_err(|source| TraceError::Io { line, source })?;
        if text.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| TraceError::Json {
            line,
            message: e.to_string(),
        })?;
        let Some(obj) = v.as_object() else {
            return Err(TraceError::Json {
                line,
                message: "expected an object".into(),
            });
        };
        let num = |field: &'static str| -> Result<Option<u64>, TraceError> {
            match obj.get(field) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => v.as_u64().map(Some).ok_or(TraceError::Field {
                    line,
                    field,
                    problem: "not a non-negative integer",
                }),
            }
        };
        let missing = |field| TraceError::Field {
            line,
            field,
            problem: "missing",
        };
        let index = num("i")?.ok_or_else(|| missing("i"))?;
        let time = SimTime::from_nanos(num("t")?.ok_or_else(|| missing("t"))?);
        let kind = obj
            .get("event")
            .ok_or_else(|| missing("event"))?
            .as_str()
            .ok_or(TraceError::Field {
                line,
                field: "event",
                problem: "not a string",
            })?
            .to_string();
        let detail = match obj.get("detail") {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(TraceError::Field {
                    line,
                    field: "detail",
                    problem: "not a string",
                })
            }
        };
        events.push(TraceEvent {
            index,
            time,
            kind,
            node: node_field(obj, line, "node")?,
            peer: node_field(obj, line, "peer")?,
            sent: num("sent_t")?.map(SimTime::from_nanos),
            detail,
        });
    }
    Ok(Trace { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_and_field() {
        let good = r#"{"i":0,"t":0,"event":"start","node":0,"peer":null,"detail":""}"#;
        let cases = [
            (format!("{good}\n[1]"), "trace line 2: not a JSON object"),
            (
                format!("{good}\n{}", good.replace("\"node\":0", "\"node\":-1")),
                "trace line 2: field `node`",
            ),
            (
                good.replace("\"event\":\"start\",", ""),
                "trace line 1: field `event`: missing",
            ),
            (
                good.replace("\"t\":0", "\"t\":\"x\""),
                "trace line 1: field `t`",
            ),
            (
                good.replace("\"detail\":\"\"", "\"detail\":3"),
                "field `detail`",
            ),
        ];
        for (text, want) in cases {
            let err = parse_trace(text.as_bytes()).unwrap_err().to_string();
            assert!(
                err.starts_with(want) || err.contains(want),
                "{err} vs {want}"
            );
        }
        let t = parse_trace(good.as_bytes()).unwrap();
        assert_eq!(t.events.len(), 1);
        assert_eq!(t.events[0].node, Some(NodeId(0)));
        assert_eq!(t.events[0].sent, None);
    }
}
