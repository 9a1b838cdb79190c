//! Porcupine's test logs: Jepsen etcd runs (`porcupine-etcd`) and key-value logs (`porcupine-kv`).
//!
//! etcd: only lines `INFO  jepsen.util - <process> :<type> :<f> <value>` with a numeric process are
//! events, in real-time order; other lines are ignored. `:fail :cas [A B]` is an observation
//! (the value was not A), recorded as `Ok(Ret::CasFailed)`; `:info` is indeterminate.
//!
//! kv: one EDN map per line, `:f :get|:put|:append` with a string `:key`; keys start as `""`.
//!
//! ```
//! use models::parse::porcupine::parse_etcd;
//! use models::op::{Op, Ret};
//! let h = parse_etcd("INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2]\nINFO  jepsen.util - 3\t:fail\t:cas\t[1 2]\n").unwrap();
//! let ops = h.operations().unwrap();
//! assert_eq!(ops[0].op, Op::cas(0, 1, 2));
//! assert_eq!(ops[0].outcome, sim_core::history::Outcome::Ok(Ret::CasFailed));
//! ```

use std::collections::BTreeMap;

use sim_core::history::History;
use sim_core::SimTime;

use super::edn::read_all;
use super::jepsen::{events_to_history, EventRules};
use super::LineError;
use crate::op::{Key, KvHistory, Op, Ret, Value};

const MARKER: &str = "jepsen.util - ";

/// Parses a Porcupine/Jepsen etcd log (a CAS register, key 0, initially nil).
pub fn parse_etcd(text: &str) -> Result<KvHistory, LineError> {
    let mut h: KvHistory = History::new();
    let mut open: BTreeMap<u64, Op> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let Some(at) = raw.find(MARKER) else { continue };
        let rest = &raw[at + MARKER.len()..];
        let mut fields = rest.split_whitespace();
        let Some(Ok(process)) = fields.next().map(str::parse::<u64>) else {
            continue; // not a client event (e.g. :nemesis)
        };
        let bad = |expected: &str| LineError::new(line, expected, raw.trim());
        let ty = fields
            .next()
            .ok_or_else(|| bad(":invoke, :ok, :fail or :info"))?;
        let f = fields.next().ok_or_else(|| bad(":read, :write or :cas"))?;
        let value: Vec<&str> = fields.collect();
        let value = value.join(" ");
        let time = SimTime::from_nanos(h.events.len() as u64);
        let parse_int = |s: &str| -> Result<i64, LineError> {
            s.parse::<i64>().map_err(|_| bad("an integer value"))
        };
        let parse_val = |s: &str| -> Result<Value, LineError> {
            if s == "nil" {
                Ok(Value::Nil)
            } else {
                parse_int(s).map(Value::Int)
            }
        };
        let parse_pair = |s: &str| -> Result<(Value, Value), LineError> {
            let inner = s
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or_else(|| bad("[A B]"))?;
            let parts: Vec<&str> = inner.split_whitespace().collect();
            match parts.as_slice() {
                [a, b] => Ok((parse_val(a)?, parse_val(b)?)),
                _ => Err(bad("[A B]")),
            }
        };
        match ty {
            ":invoke" => {
                if open.contains_key(&process) {
                    return Err(bad("a completion before the process invokes again"));
                }
                let op = match f {
                    ":read" => Op::Read {
                        key: Key::default(),
                    },
                    ":write" => Op::Write {
                        key: Key::default(),
                        value: parse_val(&value)?,
                    },
                    ":cas" => {
                        let (old, new) = parse_pair(&value)?;
                        Op::Cas {
                            key: Key::default(),
                            old,
                            new,
                        }
                    }
                    _ => return Err(bad(":read, :write or :cas")),
                };
                open.insert(process, op.clone());
                h.invoke(time, None, process, op);
            }
            ":ok" | ":fail" | ":info" => {
                let Some(op) = open.remove(&process) else {
                    return Err(bad("an :invoke of this process before its completion"));
                };
                let f_matches = matches!(
                    (&op, f),
                    (Op::Read { .. }, ":read")
                        | (Op::Write { .. }, ":write")
                        | (Op::Cas { .. }, ":cas")
                );
                if !f_matches {
                    return Err(bad(&format!("the :f of the invocation ({op})")));
                }
                match (ty, &op) {
                    (":ok", Op::Read { .. }) => {
                        h.ok(time, None, process, Ret::Value(parse_val(&value)?))
                    }
                    (":ok", _) => h.ok(time, None, process, Ret::Ok),
                    (":fail", Op::Cas { .. }) => h.ok(time, None, process, Ret::CasFailed),
                    (":fail", _) => h.fail(time, None, process, Some(value)),
                    _ => h.info(time, None, process, Some(value)),
                }
            }
            _ => return Err(bad(":invoke, :ok, :fail or :info")),
        }
    }
    Ok(h)
}

/// Parses a Porcupine kv log (EDN maps, one per line; string keys, initially `""`).
pub fn parse_kv(text: &str) -> Result<KvHistory, LineError> {
    let forms = read_all(text).map_err(|e| LineError::new(e.line, &e.expected, &e.found))?;
    events_to_history(&forms, &EventRules::default())
        .map_err(|e| LineError::new(e.line, &e.expected, &e.found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::history::Outcome;

    #[test]
    fn etcd_lines_with_tabs_or_spaces() {
        let h = parse_etcd(
            "noise line\nINFO  jepsen.util - 1   :invoke :write  3\nINFO  jepsen.util - 1\t:info\t:write\t:timed-out\n\
             INFO  jepsen.util - 2\t:invoke\t:read\tnil\nINFO  jepsen.util - 2\t:ok\t:read\tnil\n",
        )
        .unwrap();
        let ops = h.operations().unwrap();
        assert_eq!(ops[0].op, Op::write(0, 3));
        assert_eq!(ops[0].outcome, Outcome::Info);
        assert_eq!(ops[1].outcome, Outcome::Ok(Ret::Value(Value::Nil)));
    }

    #[test]
    fn etcd_errors_name_the_line() {
        let e = parse_etcd("x\nINFO  jepsen.util - 1\t:invoke\t:cas\t[1]\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.expected.contains("[A B]"));
        let e = parse_etcd("INFO  jepsen.util - 1\t:ok\t:read\t1\n").unwrap_err();
        assert!(e.expected.contains(":invoke"));
        assert!(parse_etcd("").unwrap().is_empty());
    }
}
