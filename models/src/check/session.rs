//! Session guarantees (diagnostics): read-your-writes, monotonic reads, monotonic writes,
//! writes-follow-reads, each with the first violating pair of operations.
//!
//! Only definite violations are reported, for register histories with unique written values
//! that differ from the initial value (else [`CheckError::NotDifferentiated`]). An
//! indeterminate write comes after its session's earlier operations but not before its later
//! ones (it may take effect after them), so it obliges nothing and is older than nothing.
//! a value u is *older* than a write w if u is the initial value, or u was written by the same
//! session as w earlier in that session's order. (Writes of different sessions may be
//! concurrent, so without a known arbitration order their order is not judged.)
//! - RYW: a session reads key x and gets a value older than its own last write to x;
//! - MR: a session reads x and gets a value older than what an earlier read of x returned;
//! - MW: a session q reads write w2 of session s, then reads x and gets a value older than the
//!   last write w1 to x that s made before w2;
//! - WFR: a session q reads write w1 of session s, then reads x and gets a value older than
//!   what s had read from x before writing w1.
//!
//! ```
//! use models::check::session::check_sessions;
//! use models::check::{check, CheckOptions, Model};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::SimTime;
//! let t = SimTime::from_millis;
//! let mut h = History::new();
//! h.invoke(t(0), None, 0, Op::write(0, 1));
//! h.ok(t(1), None, 0, Ret::Ok);
//! h.invoke(t(2), None, 0, Op::read(0));
//! h.ok(t(3), None, 0, Ret::Value(Value::Nil));
//! let r = check_sessions(&h, &CheckOptions::default()).unwrap();
//! assert!(r.read_your_writes.is_some());
//! assert!(r.monotonic_reads.is_none());
//! assert!(check(Model::Sessions, &h, &[], &CheckOptions::default()).is_invalid());
//! ```

use std::collections::BTreeMap;
use std::fmt;

use sim_core::history::Outcome;

use super::causal::session_of;
use serde::{Deserialize, Serialize};

use super::{CheckError, CheckOptions, Counterexample, Model, OpRef, SessionViolation, Verdict};
use crate::op::{Key, KvHistory, Op, Ret, Value};

/// A session guarantee.
///
/// ```
/// use models::check::Guarantee;
/// assert_eq!(Guarantee::MonotonicReads.to_string(), "monotonic-reads");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guarantee {
    /// A session sees its own writes.
    ReadYourWrites,
    /// A session's reads of a key never go back in time.
    MonotonicReads,
    /// A session that sees a write sees the writes its writer made before it.
    MonotonicWrites,
    /// A session that sees a write sees what its writer had read before it.
    WritesFollowReads,
}

impl fmt::Display for Guarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Guarantee::ReadYourWrites => "read-your-writes",
            Guarantee::MonotonicReads => "monotonic-reads",
            Guarantee::MonotonicWrites => "monotonic-writes",
            Guarantee::WritesFollowReads => "writes-follow-reads",
        })
    }
}

/// The first violation of a guarantee: the earlier operation that created the obligation and
/// the read that broke it.
///
/// ```
/// use models::check::session::check_sessions;
/// use models::check::CheckOptions;
/// let r = check_sessions(&models::op::KvHistory::new(), &CheckOptions::default()).unwrap();
/// assert!(r.read_your_writes.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The operation that made the later read's result required (a write or a read).
    pub first: OpRef,
    /// The read that returned an older value.
    pub second: OpRef,
    /// How many violations of this guarantee were found in total.
    pub count: usize,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} then {} ({} in total)",
            self.first, self.second, self.count
        )
    }
}

/// The result of [`check_sessions`].
///
/// ```
/// use models::check::session::SessionReport;
/// assert!(SessionReport::default().ok());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionReport {
    /// Read-your-writes.
    pub read_your_writes: Option<Violation>,
    /// Monotonic reads.
    pub monotonic_reads: Option<Violation>,
    /// Monotonic writes.
    pub monotonic_writes: Option<Violation>,
    /// Writes-follow-reads.
    pub writes_follow_reads: Option<Violation>,
}

impl SessionReport {
    /// True if no guarantee is violated.
    pub fn ok(&self) -> bool {
        self.read_your_writes.is_none()
            && self.monotonic_reads.is_none()
            && self.monotonic_writes.is_none()
            && self.writes_follow_reads.is_none()
    }

    /// The verdict for [`Model::Sessions`]: invalid with the first violation of each guarantee.
    pub fn verdict(&self) -> Verdict {
        let violations: Vec<SessionViolation> = [
            (Guarantee::ReadYourWrites, &self.read_your_writes),
            (Guarantee::MonotonicReads, &self.monotonic_reads),
            (Guarantee::MonotonicWrites, &self.monotonic_writes),
            (Guarantee::WritesFollowReads, &self.writes_follow_reads),
        ]
        .into_iter()
        .filter_map(|(guarantee, v)| {
            v.as_ref().map(|v| SessionViolation {
                guarantee,
                first: v.first.clone(),
                second: v.second.clone(),
                count: v.count,
            })
        })
        .collect();
        if violations.is_empty() {
            Verdict::Valid {
                model: Model::Sessions,
                witness: None,
            }
        } else {
            Verdict::invalid(Model::Sessions, Counterexample::Sessions { violations })
        }
    }
}

struct W {
    sess: usize,
    pos: usize,
}

/// Checks the four session guarantees on a register history: the detailed report behind
/// [`check`](super::check)`(Model::Sessions, ..)`.
pub fn check_sessions(
    history: &KvHistory,
    opts: &CheckOptions,
) -> Result<SessionReport, CheckError> {
    let ops = history.operations()?;
    let mut sess_ids: BTreeMap<(u8, u64), usize> = BTreeMap::new();
    let mut sessions: Vec<Vec<usize>> = Vec::new();
    let mut written: std::collections::BTreeSet<(&Key, &Value)> = Default::default();
    for (i, o) in ops.iter().enumerate() {
        match (&o.op, &o.outcome) {
            (_, Outcome::Fail) | (Op::Read { .. }, Outcome::Info) => continue,
            (Op::Read { .. } | Op::Write { .. }, _) => {}
            (op, _) => {
                return Err(CheckError::Unsupported {
                    index: i,
                    op: op.clone(),
                    checker: "sessions",
                })
            }
        }
        if let Op::Write { key, value } = &o.op {
            if *value == opts.init || !written.insert((key, value)) {
                return Err(CheckError::NotDifferentiated {
                    key: key.clone(),
                    value: value.clone(),
                    checker: "sessions",
                });
            }
        }
        let next = sess_ids.len();
        let s = *sess_ids.entry(session_of(o, opts.sessions)).or_insert(next);
        if s == sessions.len() {
            sessions.push(Vec::new());
        }
        sessions[s].push(i);
    }
    let mut where_: BTreeMap<usize, W> = BTreeMap::new();
    let mut writer: BTreeMap<(&Key, &Value), usize> = BTreeMap::new();
    // Per (session, key): writes and reads in session order as (pos, op index).
    let mut writes: BTreeMap<(usize, &Key), Vec<(usize, usize)>> = BTreeMap::new();
    let mut reads: BTreeMap<(usize, &Key), Vec<(usize, usize)>> = BTreeMap::new();
    for (s, list) in sessions.iter().enumerate() {
        for (pos, &i) in list.iter().enumerate() {
            where_.insert(i, W { sess: s, pos });
            match &ops[i].op {
                Op::Write { key, value } => {
                    writer.entry((key, value)).or_insert(i);
                    // An indeterminate write may take effect after its session's later
                    // operations: it obliges them to nothing.
                    if matches!(ops[i].outcome, Outcome::Ok(_)) {
                        writes.entry((s, key)).or_default().push((pos, i));
                    }
                }
                Op::Read { key } => reads.entry((s, key)).or_default().push((pos, i)),
                _ => {}
            }
        }
    }
    let read_value = |i: usize| -> Option<&Value> {
        match &ops[i].outcome {
            Outcome::Ok(Ret::Value(v)) => Some(v),
            _ => None,
        }
    };
    // Is the value `u` read at key `k` older than write `w`?
    let older = |k: &Key, u: &Value, w: usize| -> bool {
        match writer.get(&(k, u)) {
            None => *u == opts.init,
            Some(&wu) => {
                // (An indeterminate write is not before its session's later operations.)
                let (a, b) = (&where_[&wu], &where_[&w]);
                a.sess == b.sess && a.pos < b.pos && matches!(ops[wu].outcome, Outcome::Ok(_))
            }
        }
    };
    let last_before =
        |m: &BTreeMap<(usize, &Key), Vec<(usize, usize)>>, s: usize, k: &Key, pos: usize| {
            let v = m.get(&(s, k))?;
            let n = v.partition_point(|&(p, _)| p < pos);
            (n > 0).then(|| v[n - 1].1)
        };
    let mut report = SessionReport::default();
    let note = |slot: &mut Option<Violation>, first: usize, second: usize| match slot {
        Some(v) => v.count += 1,
        None => {
            *slot = Some(Violation {
                first: OpRef::new(first, &ops[first]),
                second: OpRef::new(second, &ops[second]),
                count: 1,
            })
        }
    };
    for (q, list) in sessions.iter().enumerate() {
        // Sessions observed by q: s -> (highest position observed, via which read) for MW/WFR.
        let mut seen: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for (pos, &i) in list.iter().enumerate() {
            let Op::Read { key } = &ops[i].op else {
                continue;
            };
            let Some(u) = read_value(i) else { continue };
            // RYW: own last write to key.
            if let Some(w) = last_before(&writes, q, key, pos) {
                if older(key, u, w) {
                    note(&mut report.read_your_writes, w, i);
                }
            }
            // MR: every earlier read of the key in this session.
            if let Some(rs) = reads.get(&(q, key)) {
                for &(p, r) in rs.iter().take_while(|(p, _)| *p < pos) {
                    let _ = p;
                    if let Some(prev) = read_value(r) {
                        let newer_than_u = match writer.get(&(key, prev)) {
                            Some(&wp) => older(key, u, wp) && u != prev,
                            None => false,
                        };
                        if newer_than_u {
                            note(&mut report.monotonic_reads, r, i);
                            break;
                        }
                    }
                }
            }
            // MW and WFR: obligations from sessions observed earlier.
            for (&s, &(p, via)) in &seen {
                if let Some(w1) = last_before(&writes, s, key, p) {
                    if older(key, u, w1) {
                        note(&mut report.monotonic_writes, via, i);
                    }
                }
                if let Some(r0) = last_before(&reads, s, key, p) {
                    if let Some(v0) = read_value(r0) {
                        if let Some(&w0) = writer.get(&(key, v0)) {
                            if older(key, u, w0) {
                                note(&mut report.writes_follow_reads, via, i);
                            }
                        }
                    }
                }
            }
            // Record what this read observed.
            if let Some(&w) = writer.get(&(key, u)) {
                let ww = &where_[&w];
                if ww.sess != q {
                    let e = seen.entry(ww.sess).or_insert((0, i));
                    if ww.pos >= e.0 {
                        *e = (ww.pos, i);
                    }
                }
            }
        }
    }
    Ok(report)
}
