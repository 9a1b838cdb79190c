//! Causal consistency (CC) and causal convergence (CCv) of register histories with unique
//! written values, by the bad patterns of Bouajjani, Enea, Guerraoui and Hamza, "On verifying
//! causal consistency" (POPL 2017). Polynomial time.
//!
//! Sessions are processes (or client nodes, see [`SessionBy`](super::SessionBy)); po is session
//! order, rf maps a read to the unique write of its value, and the causal order CO = (po ∪ rf)+,
//! represented by one vector clock per operation. Patterns:
//! - `ThinAirRead`: a read of a value (other than the initial one) nobody wrote;
//! - `CyclicCO`: CO has a cycle;
//! - `WriteCOInitRead`: a read of the initial value after (in CO) a write to the same key;
//! - `WriteCORead`: a read r of the value of w1 while another write w2 to the key has
//!   w1 <CO w2 <CO r;
//! - `CyclicCF` (CCv only): with w2 CF w1 when a read of w1 has w2 <CO r, CF ∪ CO has a cycle.
//!
//! CC holds iff none of the first four occur; CCv iff none of the five occur. Failed operations
//! are dropped, indeterminate reads are dropped, and indeterminate writes count only if read.
//!
//! ```
//! use models::check::causal::check_causal;
//! use models::check::{check, BadPattern, CheckOptions, Model};
//! use models::op::{Op, Ret, Value};
//! use sim_core::history::History;
//! use sim_core::SimTime;
//! let t = SimTime::from_millis;
//! let mut h = History::new();
//! h.invoke(t(0), None, 0, Op::read(0));
//! h.ok(t(1), None, 0, Ret::Value(Value::Int(7))); // nobody writes 7
//! let r = check_causal(&h, &CheckOptions::default()).unwrap();
//! assert!(!r.cc);
//! assert_eq!(r.anomalies[0].pattern, BadPattern::ThinAirRead);
//! assert!(check(Model::Causal, &h, &[], &CheckOptions::default()).is_invalid());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sim_core::history::{Operation, Outcome};

use serde::{Deserialize, Serialize};

use super::{CheckError, CheckOptions, Counterexample, Model, OpRef, SessionBy, Verdict};
use crate::op::{Key, KvHistory, Op, Ret, Value};

/// A bad pattern of causal consistency.
///
/// ```
/// use models::check::BadPattern;
/// assert!(!BadPattern::CyclicCF.violates_cc());
/// assert!(BadPattern::CyclicCO.violates_cc());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BadPattern {
    /// A read of a value nobody wrote.
    ThinAirRead,
    /// The causal order is cyclic.
    CyclicCO,
    /// A read of the initial value causally after a write to the key.
    WriteCOInitRead,
    /// A read of w1's value with w1 <CO w2 <CO read for another write w2 to the key.
    WriteCORead,
    /// Conflict order and causal order form a cycle (violates CCv only).
    CyclicCF,
}

impl BadPattern {
    /// True if the pattern violates CC (all of them violate CCv).
    pub fn violates_cc(self) -> bool {
        self != BadPattern::CyclicCF
    }
}

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One occurrence of a bad pattern.
///
/// ```
/// use models::check::{Anomaly, BadPattern};
/// let a = Anomaly { pattern: BadPattern::CyclicCO, ops: vec![] };
/// assert!(a.to_string().starts_with("CyclicCO"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Which pattern.
    pub pattern: BadPattern,
    /// The operations involved (for cycles: the cycle in order).
    pub ops: Vec<OpRef>,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}:", self.pattern)?;
        for o in &self.ops {
            writeln!(f, "  {o}")?;
        }
        Ok(())
    }
}

/// The result of [`check_causal`]: the first occurrence of each pattern found.
///
/// ```
/// use models::check::causal::check_causal;
/// use models::check::{CheckOptions, Model};
/// let r = check_causal(&models::op::KvHistory::new(), &CheckOptions::default()).unwrap();
/// assert!(r.cc && r.ccv && r.verdict(Model::CausalPlus).is_valid());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CausalReport {
    /// Causally consistent (CC).
    pub cc: bool,
    /// Causally convergent (CCv, causal+).
    pub ccv: bool,
    /// The first occurrence of each bad pattern, in [`BadPattern`] order.
    pub anomalies: Vec<Anomaly>,
}

impl CausalReport {
    /// The anomaly of a pattern, if it occurred.
    pub fn find(&self, p: BadPattern) -> Option<&Anomaly> {
        self.anomalies.iter().find(|a| a.pattern == p)
    }

    /// The verdict for [`Model::Causal`] (CC) or, for any other model, [`Model::CausalPlus`]
    /// (CCv): invalid with the anomalies that model forbids.
    pub fn verdict(&self, model: Model) -> Verdict {
        let (model, ok) = match model {
            Model::Causal => (Model::Causal, self.cc),
            _ => (Model::CausalPlus, self.ccv),
        };
        if ok {
            return Verdict::Valid {
                model,
                witness: None,
            };
        }
        let anomalies = self
            .anomalies
            .iter()
            .filter(|a| model == Model::CausalPlus || a.pattern.violates_cc())
            .cloned()
            .collect();
        Verdict::invalid(model, Counterexample::Causal { anomalies })
    }
}

/// The session of an operation.
pub(crate) fn session_of(o: &Operation<Op, Ret>, by: SessionBy) -> (u8, u64) {
    match (by, o.node) {
        (SessionBy::Node, Some(n)) => (0, u64::from(n.0)),
        _ => (1, o.process),
    }
}

struct Graph {
    /// Predecessors of each node (po, rf and, for CCv, CF).
    preds: Vec<Vec<u32>>,
}

impl Graph {
    /// A topological order, or a cycle.
    fn topo(&self) -> Result<Vec<u32>, Vec<u32>> {
        let n = self.preds.len();
        let mut succs: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut indeg = vec![0usize; n];
        for (v, ps) in self.preds.iter().enumerate() {
            indeg[v] = ps.len();
            for &p in ps {
                succs[p as usize].push(v as u32);
            }
        }
        let mut ready: Vec<u32> = (0..n as u32)
            .filter(|&v| indeg[v as usize] == 0)
            .rev()
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(v) = ready.pop() {
            order.push(v);
            for &s in &succs[v as usize] {
                indeg[s as usize] -= 1;
                if indeg[s as usize] == 0 {
                    ready.push(s);
                }
            }
        }
        if order.len() == n {
            return Ok(order);
        }
        // Every remaining node has a remaining predecessor: walk back until a node repeats.
        let mut on = vec![usize::MAX; n];
        let Some(mut v) = (0..n).find(|&v| indeg[v] > 0) else {
            return Err(Vec::new());
        };
        let mut walk: Vec<u32> = Vec::new();
        loop {
            if on[v] != usize::MAX {
                let mut cyc: Vec<u32> = walk[on[v]..].to_vec();
                cyc.reverse();
                return Err(cyc);
            }
            on[v] = walk.len();
            walk.push(v as u32);
            match self.preds[v].iter().find(|&&p| indeg[p as usize] > 0) {
                Some(&p) => v = p as usize,
                None => return Err(walk),
            }
        }
    }
}

/// Checks CC and CCv: the detailed report behind [`check`](super::check)`(Model::Causal | Model::CausalPlus, ..)`.
/// Supports reads and writes only; written values must be unique per key and differ from the
/// initial value (else [`CheckError::NotDifferentiated`]).
#[allow(clippy::needless_range_loop)] // node ids index several parallel tables
pub fn check_causal(history: &KvHistory, opts: &CheckOptions) -> Result<CausalReport, CheckError> {
    let ops = history.operations()?;
    // Unique writes, and which are read.
    let mut writer: BTreeMap<(&Key, &Value), usize> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        match (&o.op, &o.outcome) {
            (_, Outcome::Fail) => {}
            (Op::Write { key, value }, _) => {
                // A write of the initial value would make a read of it ambiguous (the initial
                // value, or that write?): as much a repeat as writing a value twice.
                if *value == opts.init || writer.insert((key, value), i).is_some() {
                    return Err(CheckError::NotDifferentiated {
                        key: key.clone(),
                        value: value.clone(),
                        checker: "causal",
                    });
                }
            }
            (Op::Read { .. }, _) => {}
            (op, _) => {
                return Err(CheckError::Unsupported {
                    index: i,
                    op: op.clone(),
                    checker: "causal",
                })
            }
        }
    }
    let mut read_values: BTreeSet<(&Key, &Value)> = BTreeSet::new();
    for o in &ops {
        if let (Op::Read { key }, Outcome::Ok(Ret::Value(v))) = (&o.op, &o.outcome) {
            read_values.insert((key, v));
        }
    }
    // The operations that take part, in invocation order.
    let included: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| match (&o.op, &o.outcome) {
            (_, Outcome::Fail) => false,
            (Op::Read { .. }, Outcome::Ok(_)) => true,
            (Op::Write { .. }, Outcome::Ok(_)) => true,
            (Op::Write { key, value }, Outcome::Info) => read_values.contains(&(key, value)),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let n = included.len();
    let mut node_of = vec![u32::MAX; ops.len()];
    for (v, &i) in included.iter().enumerate() {
        node_of[i] = v as u32;
    }
    // Sessions and positions.
    let mut sess_ids: BTreeMap<(u8, u64), usize> = BTreeMap::new();
    let mut sess = vec![0usize; n];
    let mut pos = vec![0u32; n];
    let mut sess_len: Vec<u32> = Vec::new();
    let mut last_in_sess: Vec<u32> = Vec::new();
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (v, &i) in included.iter().enumerate() {
        let key = session_of(&ops[i], opts.sessions);
        let next = sess_len.len();
        let s0 = *sess_ids.entry(key).or_insert(next);
        if s0 == sess_len.len() {
            sess_len.push(0);
            last_in_sess.push(u32::MAX);
        }
        // An indeterminate write comes after its session's earlier operations but not before
        // its later ones (it may take effect after them): a session of its own.
        let info = matches!(ops[i].outcome, Outcome::Info);
        let s = if info {
            sess_len.push(0);
            last_in_sess.push(u32::MAX);
            sess_len.len() - 1
        } else {
            s0
        };
        sess[v] = s;
        pos[v] = sess_len[s];
        sess_len[s] += 1;
        if last_in_sess[s0] != u32::MAX {
            preds[v].push(last_in_sess[s0]);
        }
        if !info {
            last_in_sess[s0] = v as u32;
        }
    }
    let nsess = sess_len.len();
    let refs = |vs: &[u32]| -> Vec<OpRef> {
        vs.iter()
            .map(|&v| {
                let i = included[v as usize];
                OpRef::new(i, &ops[i])
            })
            .collect()
    };
    let mut anomalies: Vec<Anomaly> = Vec::new();
    let found = |p: BadPattern, vs: &[u32], anomalies: &mut Vec<Anomaly>| {
        if !anomalies.iter().any(|a| a.pattern == p) {
            anomalies.push(Anomaly {
                pattern: p,
                ops: refs(vs),
            });
        }
    };
    // rf edges and thin-air reads. rf[v] = the write node read by v.
    let mut rf: Vec<Option<u32>> = vec![None; n];
    for (v, &i) in included.iter().enumerate() {
        if let (Op::Read { key }, Outcome::Ok(Ret::Value(val))) = (&ops[i].op, &ops[i].outcome) {
            match writer.get(&(key, val)) {
                Some(&w) if node_of[w] != u32::MAX => {
                    rf[v] = Some(node_of[w]);
                    preds[v].push(node_of[w]);
                }
                _ if *val == opts.init => {}
                _ => found(BadPattern::ThinAirRead, &[v as u32], &mut anomalies),
            }
        }
    }
    let co = Graph { preds };
    let order = match co.topo() {
        Ok(o) => o,
        Err(cycle) => {
            found(BadPattern::CyclicCO, &cycle, &mut anomalies);
            anomalies.sort_by_key(|a| a.pattern);
            return Ok(CausalReport {
                cc: false,
                ccv: false,
                anomalies,
            });
        }
    };
    // Vector clocks: vc[v][s] = how many ops of session s are CO-before-or-equal v.
    let mut vc: Vec<u32> = vec![0; n * nsess];
    for &v in &order {
        let v = v as usize;
        for &p in &co.preds[v] {
            let p = p as usize;
            for s in 0..nsess {
                let x = vc[p * nsess + s];
                if x > vc[v * nsess + s] {
                    vc[v * nsess + s] = x;
                }
            }
        }
        vc[v * nsess + sess[v]] = pos[v] + 1;
    }
    let co_before = |a: usize, b: usize| a != b && vc[b * nsess + sess[a]] > pos[a];
    // Writes per (session, key), in session order.
    let key_of = |v: usize| -> &Key {
        match &ops[included[v]].op {
            Op::Read { key } | Op::Write { key, .. } => key,
            _ => unreachable_key(),
        }
    };
    let is_write = |v: usize| matches!(ops[included[v]].op, Op::Write { .. });
    let mut writes: BTreeMap<(usize, &Key), Vec<u32>> = BTreeMap::new();
    for v in 0..n {
        if is_write(v) {
            writes
                .entry((sess[v], key_of(v)))
                .or_default()
                .push(v as u32);
        }
    }
    // The last write to `key` in session s that is CO-before-or-equal the node with clock of v.
    let last_write_before = |s: usize, key: &Key, v: usize| -> Option<usize> {
        let ws = writes.get(&(s, key))?;
        let limit = vc[v * nsess + s];
        let k = ws.partition_point(|&w| pos[w as usize] < limit);
        (k > 0).then(|| ws[k - 1] as usize)
    };
    let mut cf_preds: Vec<Vec<u32>> = co.preds.clone();
    for v in 0..n {
        if is_write(v) {
            continue;
        }
        let key = key_of(v);
        match rf[v] {
            None => {
                for s in 0..nsess {
                    if let Some(w) = last_write_before(s, key, v) {
                        found(
                            BadPattern::WriteCOInitRead,
                            &[w as u32, v as u32],
                            &mut anomalies,
                        );
                        break;
                    }
                }
            }
            Some(w1) => {
                let w1 = w1 as usize;
                for s in 0..nsess {
                    let Some(w2) = last_write_before(s, key, v) else {
                        continue;
                    };
                    if w2 == w1 {
                        continue;
                    }
                    if co_before(w1, w2) {
                        found(
                            BadPattern::WriteCORead,
                            &[w1 as u32, w2 as u32, v as u32],
                            &mut anomalies,
                        );
                    }
                    // w2 CF w1: w2 must be arbitrated before w1.
                    cf_preds[w1].push(w2 as u32);
                }
            }
        }
    }
    if let Err(cycle) = (Graph { preds: cf_preds }).topo() {
        found(BadPattern::CyclicCF, &cycle, &mut anomalies);
    }
    anomalies.sort_by_key(|a| a.pattern);
    let cc = anomalies.iter().all(|a| a.pattern == BadPattern::CyclicCF);
    Ok(CausalReport {
        cc,
        ccv: anomalies.is_empty(),
        anomalies,
    })
}

fn unreachable_key() -> &'static Key {
    // Only reads and writes are included (checked above); keep a harmless fallback.
    static K: Key = Key::Int(0);
    &K
}
