//! Jepsen-style EDN events (`{:process P :type :invoke|:ok|:fail|:info :f F :value V}`) to a
//! [`KvHistory`].
//!
//! Rules (Jepsen / Knossos semantics):
//! - a non-integer `:process` (e.g. `:nemesis`) is not a client: its events are skipped;
//! - an invoke is paired with the next completion of the same process;
//! - the `:ok` value replaces the invoke's (reads are invoked with nil);
//! - `:fail` = did not happen; `:info` or no completion = indeterminate;
//! - `:f` is `:read`/`:get`, `:write`/`:put`, `:cas` (`[old new]`), `:append`, `:acquire`,
//!   `:release`, `:txn` (`[[:read k v] [:write k v] ...]`); an optional `:key` names the register;
//! - with [`EventRules::nil_read_unknown`] (Knossos' register models), an `:ok` read of nil is
//!   unconstrained: it is recorded as indeterminate.
//!
//! ```
//! use models::parse::edn::read_all;
//! use models::parse::jepsen::{events_to_history, EventRules};
//! let forms = read_all("[{:process 0 :type :invoke :f :write :value 1}
//!                        {:process 0 :type :ok :f :write :value 1}]").unwrap();
//! let h = events_to_history(&forms, &EventRules::default()).unwrap();
//! assert_eq!(h.len(), 2);
//! ```

use std::collections::BTreeMap;

use sim_core::history::{EventKind, History};
use sim_core::SimTime;

use super::edn::{Edn, EdnKind};
use crate::op::{Key, KvHistory, Op, Ret, TxnOp, Value};

/// How ambiguous event details are interpreted.
#[derive(Clone, Debug, Default)]
pub struct EventRules {
    /// An `:ok` read (or txn micro-read) of nil is unconstrained (Knossos); otherwise nil = absent.
    pub nil_read_unknown: bool,
}

/// A conversion error: the line and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}, found {found}")]
pub struct EventError {
    /// 1-based line of the offending form.
    pub line: usize,
    /// What was expected.
    pub expected: String,
    /// What was found.
    pub found: String,
}

fn err<T>(e: &Edn, expected: &str) -> Result<T, EventError> {
    let mut found = e.kind.to_string();
    if found.len() > 60 {
        let cut = (0..=60)
            .rev()
            .find(|i| found.is_char_boundary(*i))
            .unwrap_or(0);
        found.truncate(cut);
        found.push_str("...");
    }
    Err(EventError {
        line: e.line,
        expected: expected.to_string(),
        found,
    })
}

/// The events of an EDN document: the elements of a single top-level vector/list, or every
/// top-level form (one map per line, as in Porcupine's kv logs).
pub fn event_forms(forms: &[Edn]) -> &[Edn] {
    match forms {
        [one] => one.as_seq().unwrap_or(forms),
        _ => forms,
    }
}

/// Converts EDN event maps to a history. `forms` are the top-level forms of the document.
pub fn events_to_history(forms: &[Edn], rules: &EventRules) -> Result<KvHistory, EventError> {
    let mut h: KvHistory = History::new();
    // process -> index of its outstanding invoke event in `h`.
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, ev) in event_forms(forms).iter().enumerate() {
        if !matches!(ev.kind, EdnKind::Map(_)) {
            return err(ev, "an event map {:process .. :type .. :f .. :value ..}");
        }
        let Some(pv) = ev.get("process") else {
            return err(ev, "a :process field");
        };
        let process = match pv.kind {
            EdnKind::Int(p) if p >= 0 => p as u64,
            EdnKind::Int(_) => return err(pv, "a non-negative process number"),
            _ => continue, // :nemesis and other non-client processes
        };
        let ty = field(ev, "type")?;
        let Some(ty) = ty.as_keyword() else {
            return err(ty, ":invoke, :ok, :fail or :info");
        };
        let time = match ev.get("time").map(|t| &t.kind) {
            Some(EdnKind::Int(t)) if *t >= 0 => SimTime::from_nanos(*t as u64),
            _ => SimTime::from_nanos(i as u64),
        };
        let f = field(ev, "f")?;
        let fname = match f.as_keyword() {
            Some(k) => k,
            None => return err(f, "a keyword :f"),
        };
        let value = ev.get("value");
        match ty {
            "invoke" => {
                if let Some(&o) = open.get(&process) {
                    let found = format!("a second invoke (event {o} is still open)");
                    return Err(EventError {
                        line: ev.line,
                        expected: format!("a completion for process {process}"),
                        found,
                    });
                }
                let op = parse_op(ev, fname, value)?;
                open.insert(process, h.events.len());
                h.invoke(time, None, process, op);
            }
            "ok" | "fail" | "info" => {
                let Some(inv) = open.remove(&process) else {
                    return err(
                        ev,
                        &format!("an :invoke of process {process} before this completion"),
                    );
                };
                let EventKind::Invoke { op } = &mut h.events[inv].kind else {
                    return err(ev, "an invoke event"); // unreachable: `open` holds invokes
                };
                if !same_f(op, fname) {
                    return err(f, &format!("the :f of the invocation ({op})"));
                }
                match ty {
                    "ok" => {
                        let kind = complete_ok(ev, op, value, rules)?;
                        h.push(time, None, process, kind);
                    }
                    "fail" => h.fail(time, None, process, error_of(ev)),
                    _ => h.info(time, None, process, error_of(ev)),
                }
            }
            _ => return err(field(ev, "type")?, ":invoke, :ok, :fail or :info"),
        }
    }
    Ok(h)
}

fn field<'a>(ev: &'a Edn, name: &str) -> Result<&'a Edn, EventError> {
    match ev.get(name) {
        Some(v) => Ok(v),
        None => err(ev, &format!("a :{name} field")),
    }
}

fn error_of(ev: &Edn) -> Option<String> {
    ev.get("error").map(|e| e.kind.to_string())
}

fn same_f(op: &Op, f: &str) -> bool {
    match op {
        Op::Read { .. } => matches!(f, "read" | "get"),
        Op::Write { .. } => matches!(f, "write" | "put"),
        Op::Cas { .. } => f == "cas",
        Op::Append { .. } => f == "append",
        Op::Acquire { .. } => f == "acquire",
        Op::Release { .. } => f == "release",
        Op::Txn { .. } => f == "txn",
    }
}

/// A register value: nil, an integer or a string.
pub fn value_of(e: &Edn) -> Result<Value, EventError> {
    match &e.kind {
        EdnKind::Nil => Ok(Value::Nil),
        EdnKind::Int(i) => Ok(Value::Int(*i)),
        EdnKind::Str(s) => Ok(Value::Str(s.clone())),
        _ => err(e, "a value: nil, an integer or a string"),
    }
}

fn key_of(e: &Edn) -> Result<Key, EventError> {
    match &e.kind {
        EdnKind::Int(i) => Ok(Key::Int(*i)),
        EdnKind::Str(s) => Ok(Key::Str(s.clone())),
        EdnKind::Keyword(k) => Ok(Key::Str(format!(":{k}"))),
        _ => err(e, "a key: an integer, string or keyword"),
    }
}

fn parse_op(ev: &Edn, f: &str, value: Option<&Edn>) -> Result<Op, EventError> {
    let key = match ev.get("key") {
        Some(k) => key_of(k)?,
        None => Key::default(),
    };
    let val = |what: &str| -> Result<Value, EventError> {
        match value {
            Some(v) => value_of(v),
            None => err(ev, &format!("a :value field ({what})")),
        }
    };
    Ok(match f {
        "read" | "get" => Op::Read { key },
        "write" | "put" => Op::Write {
            key,
            value: val("the value written")?,
        },
        "append" => Op::Append {
            key,
            value: val("the suffix appended")?,
        },
        "cas" => {
            let Some(v) = value else {
                return err(ev, "a :value [old new] for :cas");
            };
            let (old, new) = pair(v)?;
            Op::Cas { key, old, new }
        }
        "acquire" => Op::Acquire { key },
        "release" => Op::Release { key },
        "txn" => {
            let Some(v) = value else {
                return err(ev, "a :value [[:read k v] [:write k v] ...] for :txn");
            };
            let mut ops = txn_ops(v, false)?;
            for o in &mut ops {
                if let TxnOp::Read { value, .. } = o {
                    *value = None;
                }
            }
            Op::Txn { ops }
        }
        _ => {
            let fe = field(ev, "f")?;
            return err(
                fe,
                ":read, :get, :write, :put, :cas, :append, :acquire, :release or :txn",
            );
        }
    })
}

fn pair(v: &Edn) -> Result<(Value, Value), EventError> {
    match v.as_seq() {
        Some([a, b]) => Ok((value_of(a)?, value_of(b)?)),
        _ => err(v, "[old new]"),
    }
}

fn txn_ops(v: &Edn, nil_read_unknown: bool) -> Result<Vec<TxnOp>, EventError> {
    let Some(items) = v.as_seq() else {
        return err(
            v,
            "a vector of micro-operations [[:read k v] [:write k v] ...]",
        );
    };
    items
        .iter()
        .map(|m| match m.as_seq() {
            Some([f, k, x]) => match f.as_keyword() {
                Some("read" | "r") => {
                    let value = value_of(x)?;
                    let value = if nil_read_unknown && value.is_nil() {
                        None
                    } else {
                        Some(value)
                    };
                    Ok(TxnOp::Read {
                        key: key_of(k)?,
                        value,
                    })
                }
                Some("write" | "w") => Ok(TxnOp::Write {
                    key: key_of(k)?,
                    value: value_of(x)?,
                }),
                _ => err(f, ":read or :write"),
            },
            _ => err(m, "a micro-operation [:read k v] or [:write k v]"),
        })
        .collect()
}

fn complete_ok(
    ev: &Edn,
    op: &mut Op,
    value: Option<&Edn>,
    rules: &EventRules,
) -> Result<EventKind<Op, Ret>, EventError> {
    let given =
        |v: Option<&Edn>| -> Result<Option<Value>, EventError> { v.map(value_of).transpose() };
    Ok(match op {
        Op::Read { .. } => {
            let v = given(value)?.unwrap_or(Value::Nil);
            if rules.nil_read_unknown && v.is_nil() {
                EventKind::Info {
                    error: Some("nil read (unconstrained)".into()),
                }
            } else {
                EventKind::Ok {
                    value: Ret::Value(v),
                }
            }
        }
        Op::Write { value: w, .. } | Op::Append { value: w, .. } => {
            if let Some(v) = given(value)? {
                if !v.is_nil() {
                    *w = v;
                }
            }
            EventKind::Ok { value: Ret::Ok }
        }
        Op::Cas { old, new, .. } => {
            if let Some(v) = value.filter(|v| !matches!(v.kind, EdnKind::Nil)) {
                (*old, *new) = pair(v)?;
            }
            EventKind::Ok { value: Ret::Ok }
        }
        Op::Acquire { .. } | Op::Release { .. } => EventKind::Ok { value: Ret::Ok },
        Op::Txn { ops } => {
            let Some(v) = value else {
                return err(ev, "a :value with the transaction's results");
            };
            let done = txn_ops(v, rules.nil_read_unknown)?;
            if done.len() != ops.len() {
                return err(v, &format!("{} micro-operations, as invoked", ops.len()));
            }
            *ops = done
                .iter()
                .map(|o| match o {
                    TxnOp::Read { key, .. } => TxnOp::Read {
                        key: key.clone(),
                        value: None,
                    },
                    w => w.clone(),
                })
                .collect();
            EventKind::Ok {
                value: Ret::Txn(done),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::edn::read_all;
    use sim_core::history::Outcome;

    fn conv(s: &str, nil_unknown: bool) -> Result<KvHistory, EventError> {
        let forms = read_all(s).unwrap();
        events_to_history(
            &forms,
            &EventRules {
                nil_read_unknown: nil_unknown,
            },
        )
    }

    #[test]
    fn pairs_ok_values_and_skips_nemesis() {
        let h = conv(
            "[{:process 0 :type :invoke :f :read :value nil}
              {:process :nemesis :type :info :f :start :value nil}
              {:process 1 :type :invoke :f :txn :value [[:read 1 nil] [:write 2 5]]}
              {:process 0 :type :ok :f :read :value 3}
              {:process 1 :type :ok :f :txn :value [[:read 1 4] [:write 2 5]]}]",
            true,
        )
        .unwrap();
        let ops = h.operations().unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].outcome, Outcome::Ok(Ret::Value(Value::Int(3))));
        match &ops[1].outcome {
            Outcome::Ok(Ret::Txn(t)) => assert_eq!(t[0].to_string(), "r(1)=4"),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn nil_reads_are_unknown_only_when_asked() {
        let s = "{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read :value nil}";
        let a = conv(s, true).unwrap().operations().unwrap();
        assert_eq!(a[0].outcome, Outcome::Info);
        let b = conv(s, false).unwrap().operations().unwrap();
        assert_eq!(b[0].outcome, Outcome::Ok(Ret::Value(Value::Nil)));
    }

    #[test]
    fn malformed_events_name_the_line() {
        let e = conv(
            "[{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :read}]",
            false,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        let e = conv("[{:process 0 :type :invoke :f :cas :value 1}]", false).unwrap_err();
        assert!(e.expected.contains("[old new]"), "{e}");
        let e = conv("\n[{:process 0 :type :ok :f :read :value 1}]", false).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.expected.contains(":invoke"), "{e}");
        let e = conv("[{:process 0 :type :invoke :f :frob}]", false).unwrap_err();
        assert!(e.expected.contains(":read"), "{e}");
        let e = conv(
            "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :invoke :f :read}]",
            false,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(conv("[1 2]", false).is_err());
    }
}
