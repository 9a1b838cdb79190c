//! Differential test: the real checkers (through `check::check`) against brute-force checkers
//! written from the definitions, on small random histories.
//!
//! Histories: 2–4 processes, 1–2 keys, 3–8 operations (reads, writes, sometimes cas), ok,
//! failed and indeterminate (`info`, or never completed) outcomes, processes that go on after an
//! `info` operation, and sometimes a tiny value range (values written twice, writes of nil, the
//! initial value). Semantics of the brute force (the documented ones of `models::check`):
//!
//! - a failed operation did not happen; an indeterminate read constrains nothing;
//! - an indeterminate write or cas may take effect at any point after its invocation, or never;
//!   its completion is +infinity: it precedes nothing in real time, and it is not
//!   program-order-before the later operations of its process (program order: a before b iff
//!   same process, a invoked first, and a completed ok);
//! - linearizability: some subset of the indeterminate operations and all ok ones in a legal
//!   order extending real-time order;
//! - sequential consistency: the same with program order instead of real time;
//! - CC and CCv (Bouajjani, Enea, Guerraoui, Hamza, "On verifying causal consistency", POPL'17):
//!   CC: some causal order co ⊇ po such that for every operation o, some linearization of o's
//!   causal past (writes and o, other reads' outputs ignored) extending co makes o legal;
//!   CCv: some co ⊇ po and one total arbitration order arb ⊇ co such that every read returns the
//!   arb-last write to its key in its causal past (the initial value if there is none). Rather
//!   than all partial orders, the brute force tries every reads-from choice rf (a write of the
//!   value read, or the initial value) and co = (po ∪ rf)+: any co that works contains such a
//!   po ∪ rf (the write a read's linearization ends with), and shrinking co keeps both
//!   conditions true (a read's causal past only shrinks, and the restricted orders still work).
//!
//! Implications are checked too: causal valid ⇒ sessions valid. A checker may answer unknown
//! only for an uncheckable history (never over budget here), and never for linearizability and
//! sequential consistency. `ACTSIM_DIFF_CASES=N` runs N cases (default 5000),
//! `ACTSIM_SEED=S` runs the one case with seed S (printed with every disagreement).

use std::collections::BTreeSet;

use models::check::{check, CheckOptions, Model, Verdict};
use models::op::{KvHistory, Op, Ret, Value};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sim_core::history::Outcome;
use sim_core::SimTime;

// ---------------------------------------------------------------------------------------------
// Generation.

/// A random history.
fn generate(seed: u64) -> KvHistory {
    let mut rng = Pcg64::seed_from_u64(seed);
    let nproc = rng.random_range(2..=4usize);
    let nkeys = rng.random_range(1..=2i64);
    let nops = rng.random_range(3..=8usize);
    let dup = rng.random_bool(0.3);
    let with_cas = rng.random_bool(0.2);
    let mut h = KvHistory::new();
    let mut pending: Vec<Option<Op>> = vec![None; nproc];
    let mut crashed = vec![false; nproc];
    let mut written: Vec<Vec<Value>> = vec![Vec::new(); nkeys as usize];
    let mut next_val = 1i64;
    let mut invoked = 0;
    let mut t = 0u64;
    loop {
        let free: Vec<usize> = (0..nproc)
            .filter(|&p| pending[p].is_none() && !crashed[p] && invoked < nops)
            .collect();
        let busy: Vec<usize> = (0..nproc).filter(|&p| pending[p].is_some()).collect();
        if free.is_empty() && busy.is_empty() {
            break;
        }
        t += 1;
        let time = SimTime::from_millis(t);
        if !free.is_empty() && (busy.is_empty() || rng.random_bool(0.5)) {
            let p = free[rng.random_range(0..free.len())];
            let key = rng.random_range(0..nkeys);
            let kind = rng.random_range(0..100);
            let op = if kind < 45 {
                Op::read(key)
            } else if kind < 85 || !with_cas {
                let v = fresh(&mut rng, dup, &mut next_val);
                written[key as usize].push(v.clone());
                Op::write(key, v)
            } else {
                let old = pick(&mut rng, &written[key as usize]);
                let new = fresh(&mut rng, dup, &mut next_val);
                written[key as usize].push(new.clone());
                Op::cas(key, old, new)
            };
            h.invoke(time, None, p as u64, op.clone());
            pending[p] = Some(op);
            invoked += 1;
        } else {
            let p = busy[rng.random_range(0..busy.len())];
            let Some(op) = pending[p].take() else {
                continue;
            };
            let r = rng.random_range(0..100);
            if r < 65 {
                let ret = match &op {
                    Op::Read { key } => {
                        let k = match key {
                            models::op::Key::Int(k) => *k as usize,
                            _ => 0,
                        };
                        if rng.random_range(0..20) == 0 {
                            Ret::Value(Value::Int(99)) // thin air
                        } else {
                            Ret::Value(pick(&mut rng, &written[k]))
                        }
                    }
                    Op::Cas { .. } if rng.random_bool(0.5) => Ret::CasFailed,
                    _ => Ret::Ok,
                };
                h.ok(time, None, p as u64, ret);
            } else if r < 82 {
                h.info(time, None, p as u64, Some("timeout".into()));
                // Half the time the process goes on after the indeterminate operation.
                crashed[p] = rng.random_bool(0.5);
            } else if r < 94 {
                h.fail(time, None, p as u64, None);
            } else {
                crashed[p] = true; // never completes
            }
        }
    }
    h
}

/// A value to write: unique, or from {nil, 1, 2} with `dup`.
fn fresh(rng: &mut Pcg64, dup: bool, next: &mut i64) -> Value {
    if dup {
        match rng.random_range(0..3) {
            0 => Value::Nil,
            x => Value::Int(x),
        }
    } else {
        *next += 1;
        Value::Int(*next - 1)
    }
}

/// Nil or one of the values written so far.
fn pick(rng: &mut Pcg64, written: &[Value]) -> Value {
    let i = rng.random_range(0..=written.len());
    written.get(i).cloned().unwrap_or(Value::Nil)
}

// ---------------------------------------------------------------------------------------------
// The brute-force checkers.

#[derive(Clone, Debug)]
enum Kind {
    Read(usize, Value),
    Write(usize, Value),
    /// key, old, new, observed outcome (None: indeterminate).
    Cas(usize, Value, Value, Option<bool>),
}

/// An operation that may have happened.
#[derive(Clone, Debug)]
struct BOp {
    proc_: u64,
    kind: Kind,
    /// Completed ok (else indeterminate).
    ok: bool,
    invoke: usize,
    /// Completion event of an ok operation (+infinity for indeterminate ones).
    complete: Option<usize>,
}

fn key_index(op: &Op) -> usize {
    match op.keys().first() {
        Some(models::op::Key::Int(k)) => *k as usize,
        _ => 0,
    }
}

/// Failed operations and indeterminate reads dropped.
fn normalize(h: &KvHistory) -> Vec<BOp> {
    let mut out = Vec::new();
    for o in h.operations().expect("well-formed") {
        let ok = match &o.outcome {
            Outcome::Fail => continue,
            Outcome::Ok(_) => true,
            Outcome::Info => false,
        };
        let k = key_index(&o.op);
        let kind = match (&o.op, &o.outcome) {
            (Op::Read { .. }, Outcome::Ok(Ret::Value(v))) => Kind::Read(k, v.clone()),
            (Op::Read { .. }, _) => continue,
            (Op::Write { value, .. }, _) => Kind::Write(k, value.clone()),
            (Op::Cas { old, new, .. }, r) => Kind::Cas(
                k,
                old.clone(),
                new.clone(),
                match r {
                    Outcome::Ok(Ret::Ok) => Some(true),
                    Outcome::Ok(_) => Some(false),
                    _ => None,
                },
            ),
            _ => unreachable!("the generator makes reads, writes and cas"),
        };
        out.push(BOp {
            proc_: o.process,
            kind,
            ok,
            invoke: o.invoke_index,
            complete: if ok { o.complete_index } else { None },
        });
    }
    out
}

/// The state after `o`, if legal.
fn step(state: &[Value], o: &BOp) -> Option<Vec<Value>> {
    let mut s = state.to_vec();
    match &o.kind {
        Kind::Read(k, v) => (s[*k] == *v).then_some(s),
        Kind::Write(k, v) => {
            s[*k] = v.clone();
            Some(s)
        }
        Kind::Cas(k, old, new, r) => {
            let eq = s[*k] == *old;
            match r {
                Some(true) if !eq => None,
                Some(false) if eq => None,
                _ => {
                    if eq {
                        s[*k] = new.clone();
                    }
                    Some(s)
                }
            }
        }
    }
}

/// Program order: same process, `a` invoked first and completed ok.
fn po(a: &BOp, b: &BOp) -> bool {
    a.proc_ == b.proc_ && a.invoke < b.invoke && a.ok
}

/// Real-time order: `a` completed (ok) before `b` was invoked.
fn rt(a: &BOp, b: &BOp) -> bool {
    a.complete.is_some_and(|c| c < b.invoke)
}

/// A legal order of all ok operations and some indeterminate ones, where an operation may run
/// once every remaining operation `before` it has run. Indeterminate operations that never run
/// did not take effect.
fn exists_order(ops: &[BOp], before: fn(&BOp, &BOp) -> bool) -> bool {
    fn go(
        ops: &[BOp],
        before: fn(&BOp, &BOp) -> bool,
        done: &mut Vec<bool>,
        state: &[Value],
    ) -> bool {
        if ops.iter().zip(done.iter()).all(|(o, d)| *d || !o.ok) {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] {
                continue;
            }
            // Waiting for a remaining operation that must come first. (An indeterminate one
            // that must come first can still be left out, since only ok ones block: an
            // indeterminate operation is never `before` anything in either order.)
            if (0..ops.len()).any(|j| j != i && !done[j] && before(&ops[j], &ops[i])) {
                continue;
            }
            if let Some(s) = step(state, &ops[i]) {
                done[i] = true;
                if go(ops, before, done, &s) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    let mut done = vec![false; ops.len()];
    go(
        ops,
        before,
        &mut done,
        &[Value::Nil, Value::Nil, Value::Nil],
    )
}

fn brute_linearizable(ops: &[BOp]) -> bool {
    exists_order(ops, rt)
}

fn brute_sequential(ops: &[BOp]) -> bool {
    exists_order(ops, po)
}

/// CC (`arbitrated = false`) or CCv (`true`) of a read/write history, from the definitions.
fn brute_causal(all: &[BOp], arbitrated: bool) -> bool {
    let info: Vec<usize> = (0..all.len()).filter(|&i| !all[i].ok).collect();
    // Every subset of the indeterminate writes takes effect.
    for mask in 0u32..(1 << info.len()) {
        let ops: Vec<BOp> = all
            .iter()
            .enumerate()
            .filter(|(i, o)| {
                o.ok || info
                    .iter()
                    .position(|j| j == i)
                    .is_some_and(|b| mask & (1 << b) != 0)
            })
            .map(|(_, o)| o.clone())
            .collect();
        if causal_with(&ops, arbitrated) {
            return true;
        }
    }
    false
}

fn causal_with(ops: &[BOp], arbitrated: bool) -> bool {
    let n = ops.len();
    let reads: Vec<usize> = (0..n)
        .filter(|&i| matches!(ops[i].kind, Kind::Read(..)))
        .collect();
    // Reads-from candidates: a write of the value read (None = the initial value).
    let mut cands: Vec<Vec<Option<usize>>> = Vec::new();
    for &r in &reads {
        let Kind::Read(k, v) = &ops[r].kind else {
            unreachable!()
        };
        let mut c: Vec<Option<usize>> = (0..n)
            .filter(|&w| matches!(&ops[w].kind, Kind::Write(k2, v2) if k2 == k && v2 == v))
            .map(Some)
            .collect();
        if v.is_nil() {
            c.push(None);
        }
        if c.is_empty() {
            return false;
        }
        cands.push(c);
    }
    let mut choice = vec![0usize; reads.len()];
    loop {
        // co = (po ∪ rf)+ as bitsets: before[b] has a if a co b.
        let mut before = vec![0u64; n];
        for a in 0..n {
            for b in 0..n {
                if po(&ops[a], &ops[b]) {
                    before[b] |= 1 << a;
                }
            }
        }
        for (ri, &r) in reads.iter().enumerate() {
            if let Some(w) = cands[ri][choice[ri]] {
                before[r] |= 1 << w;
            }
        }
        for m in 0..n {
            for b in 0..n {
                if before[b] & (1 << m) != 0 {
                    before[b] |= before[m];
                }
            }
        }
        let acyclic = (0..n).all(|a| before[a] & (1 << a) == 0);
        if acyclic && judged(ops, &reads, &before, arbitrated) {
            return true;
        }
        // Next reads-from choice.
        let mut i = 0;
        loop {
            if i == reads.len() {
                return false;
            }
            choice[i] += 1;
            if choice[i] < cands[i].len() {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

/// Every linear extension of `before` over the nodes of `set`, until `f` returns true.
fn extensions(
    set: u64,
    before: &[u64],
    order: &mut Vec<usize>,
    f: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    let placed: u64 = order.iter().fold(0, |m, &x| m | (1 << x));
    if placed == set {
        return f(order);
    }
    for x in 0..before.len() {
        if set & (1 << x) == 0 || placed & (1 << x) != 0 {
            continue;
        }
        if before[x] & set & !placed != 0 {
            continue;
        }
        order.push(x);
        if extensions(set, before, order, f) {
            return true;
        }
        order.pop();
    }
    false
}

/// The value of the last write to `k` in `order` (nil if none).
fn last_value(ops: &[BOp], order: &[usize], k: usize) -> Value {
    order
        .iter()
        .rev()
        .find_map(|&w| match &ops[w].kind {
            Kind::Write(k2, v) if *k2 == k => Some(v.clone()),
            _ => None,
        })
        .unwrap_or(Value::Nil)
}

fn judged(ops: &[BOp], reads: &[usize], before: &[u64], arbitrated: bool) -> bool {
    let writes: u64 = (0..ops.len())
        .filter(|&i| matches!(ops[i].kind, Kind::Write(..)))
        .fold(0, |m, i| m | (1 << i));
    let legal = |r: usize, order: &[usize]| {
        let Kind::Read(k, v) = &ops[r].kind else {
            unreachable!()
        };
        let past: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&w| before[r] & (1 << w) != 0)
            .collect();
        last_value(ops, &past, *k) == *v
    };
    if arbitrated {
        // One arbitration order of all writes explains every read.
        let mut order = Vec::new();
        extensions(writes, before, &mut order, &mut |arb| {
            reads.iter().all(|&r| legal(r, arb))
        })
    } else {
        // Each read on its own: some linearization of its causal past's writes.
        reads.iter().all(|&r| {
            let mut order = Vec::new();
            extensions(writes & before[r], before, &mut order, &mut |lin| {
                legal(r, lin)
            })
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The test.

fn cases() -> Vec<u64> {
    if let Some(s) = std::env::var("ACTSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![s];
    }
    let n: u64 = std::env::var("ACTSIM_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    (0..n).collect()
}

/// The real checker's answer: Some(valid?), or None for an uncheckable history.
fn real(m: Model, h: &KvHistory) -> Result<Option<bool>, String> {
    match check(m, h, &[], &CheckOptions::default()) {
        Verdict::Valid { .. } => Ok(Some(true)),
        Verdict::Invalid { .. } => Ok(Some(false)),
        v if v.is_uncheckable() => Ok(None),
        v => Err(format!("{m}: {v}")),
    }
}

#[test]
fn checkers_agree_with_brute_force() {
    let mut disagreements: Vec<String> = Vec::new();
    // Per model: (valid, invalid, uncheckable) verdicts of the real checker.
    let models = [
        Model::Linearizable,
        Model::Sequential,
        Model::CausalPlus,
        Model::Causal,
    ];
    let mut tally = [(0usize, 0usize, 0usize); 4];
    let cases = cases();
    for &seed in &cases {
        let h = generate(seed);
        let ops = normalize(&h);
        // (A failed cas did not happen: the causal checkers may judge the rest.)
        let has_cas = ops.iter().any(|o| matches!(o.kind, Kind::Cas(..)));
        let unique = {
            let mut seen = BTreeSet::new();
            ops.iter().all(|o| match &o.kind {
                Kind::Write(k, v) | Kind::Cas(k, _, v, _) => {
                    !v.is_nil() && seen.insert((*k, v.clone()))
                }
                Kind::Read(..) => true,
            })
        };
        let mut verdicts = Vec::new();
        for (mi, &m) in models.iter().enumerate() {
            let expected = match m {
                Model::Linearizable => brute_linearizable(&ops),
                Model::Sequential => brute_sequential(&ops),
                Model::CausalPlus if !has_cas => brute_causal(&ops, true),
                Model::Causal if !has_cas => brute_causal(&ops, false),
                _ => {
                    // The causal checkers do not support cas: they must say so.
                    if real(m, &h) != Ok(None) {
                        disagreements.push(format!("seed {seed}: {m} judged a cas history\n{h:?}"));
                    }
                    tally[mi].2 += 1;
                    verdicts.push(None);
                    continue;
                }
            };
            let got = match real(m, &h) {
                Ok(g) => g,
                Err(e) => {
                    disagreements.push(format!("seed {seed}: {e}\n{h:?}"));
                    continue;
                }
            };
            match got {
                Some(true) => tally[mi].0 += 1,
                Some(false) => tally[mi].1 += 1,
                None => tally[mi].2 += 1,
            }
            let uncheckable_ok = matches!(m, Model::Causal | Model::CausalPlus) && !unique;
            if got != Some(expected) && !(got.is_none() && uncheckable_ok) {
                disagreements.push(format!(
                    "seed {seed}: {m}: checker says {got:?}, brute force {expected}\n{}",
                    show(&h)
                ));
            }
            verdicts.push(got);
        }
        // Causal (CC) valid => the session guarantees hold.
        if real(Model::Causal, &h) == Ok(Some(true)) {
            if let Ok(Some(false)) = real(Model::Sessions, &h) {
                disagreements.push(format!(
                    "seed {seed}: causal but sessions invalid\n{}",
                    show(&h)
                ));
            }
        }
    }
    eprintln!(
        "{} cases; (valid, invalid, uncheckable) per model: {}",
        cases.len(),
        models
            .iter()
            .zip(tally)
            .map(|(m, t)| format!("{m} {t:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements ({} lin, {} seq, {} causal+, {} causal, {} sessions):\n{}",
        disagreements.len(),
        count(&disagreements, "linearizable:"),
        count(&disagreements, "sequential:"),
        count(&disagreements, "causal+:"),
        count(&disagreements, "causal:"),
        count(&disagreements, "sessions"),
        disagreements
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    if cases.len() >= 1000 {
        // The generator makes both verdicts for every model (else the test proves little).
        for (m, (v, i, _)) in models.iter().zip(tally) {
            assert!(
                v > cases.len() / 20 && i > cases.len() / 20,
                "{m}: {v} valid, {i} invalid"
            );
        }
    }
}

fn count(d: &[String], what: &str) -> usize {
    d.iter().filter(|s| s.contains(what)).count()
}

/// The history, one event per line.
fn show(h: &KvHistory) -> String {
    h.events
        .iter()
        .enumerate()
        .map(|(i, e)| format!("  {i}: p{} {:?}", e.process, e.kind))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The example of issue 17: p1's write times out, p1 goes on and reads nil, then p2 reads 1.
#[test]
fn a_process_may_go_on_after_an_info_write() {
    let t = SimTime::from_millis;
    let mut h = KvHistory::new();
    h.invoke(t(0), None, 1, Op::write(0, 1));
    h.info(t(10), None, 1, None);
    h.invoke(t(20), None, 1, Op::read(0));
    h.ok(t(30), None, 1, Ret::Value(Value::Nil));
    h.invoke(t(40), None, 2, Op::read(0));
    h.ok(t(50), None, 2, Ret::Value(Value::Int(1)));
    let ops = normalize(&h);
    for m in [
        Model::Linearizable,
        Model::Sequential,
        Model::CausalPlus,
        Model::Causal,
        Model::Sessions,
    ] {
        let v = check(m, &h, &[], &CheckOptions::default());
        assert!(v.is_valid(), "{m}: {v}");
    }
    assert!(brute_linearizable(&ops) && brute_sequential(&ops));
    assert!(brute_causal(&ops, true) && brute_causal(&ops, false));
}

/// The brute force itself tells the classic anomalies apart (so that agreeing with it means
/// something): store buffering is causal+ but not sequential; a stale read is sequential but
/// not linearizable; two readers seeing concurrent writes in opposite orders is CC, not CCv.
#[test]
fn the_brute_force_knows_the_classic_anomalies() {
    let t = SimTime::from_millis;
    let seq = |steps: &[(u64, Op, Ret)]| {
        let mut h = KvHistory::new();
        for (i, (p, op, r)) in steps.iter().enumerate() {
            h.invoke(t(2 * i as u64), None, *p, op.clone());
            h.ok(t(2 * i as u64 + 1), None, *p, r.clone());
        }
        normalize(&h)
    };
    let v = |x: i64| Ret::Value(Value::Int(x));
    let nil = Ret::Value(Value::Nil);
    let sb = seq(&[
        (0, Op::write(0, 1), Ret::Ok),
        (1, Op::write(1, 2), Ret::Ok),
        (0, Op::read(1), nil.clone()),
        (1, Op::read(0), nil.clone()),
    ]);
    assert!(!brute_sequential(&sb) && brute_causal(&sb, true));
    let stale = seq(&[(0, Op::write(0, 1), Ret::Ok), (1, Op::read(0), nil)]);
    assert!(!brute_linearizable(&stale) && brute_sequential(&stale));
    let cf = seq(&[
        (0, Op::write(0, 1), Ret::Ok),
        (1, Op::write(0, 2), Ret::Ok),
        (2, Op::read(0), v(1)),
        (2, Op::read(0), v(2)),
        (3, Op::read(0), v(2)),
        (3, Op::read(0), v(1)),
    ]);
    assert!(brute_causal(&cf, false) && !brute_causal(&cf, true));
}
