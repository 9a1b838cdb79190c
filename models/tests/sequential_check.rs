//! Property test: `check(Model::Sequential, ..)` agrees with an exhaustive search over all
//! process-order interleavings on random small multi-key read/write histories (ok, failed and indeterminate
//! operations), and every witness it gives replays. Most cases have unique written values (the
//! fast path); some repeat values or write nil (the general search).

use std::cell::Cell;
use std::collections::BTreeMap;

use models::check::{check, CheckOptions, Counterexample, Model, Verdict};
use models::op::{Key, KvHistory, Op, Ret, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sim_core::history::{Operation, Outcome};
use sim_core::SimTime;

#[derive(Clone, Debug)]
struct GenOp {
    proc_: u8,
    write: bool,
    key: u8,
    /// For reads: which written value (or nil) to return.
    pick: u8,
    /// 0 ok, 1 info, 2 fail (rarer outcomes drawn below).
    outcome: u8,
}

fn gen_op() -> impl Strategy<Value = GenOp> {
    (0u8..3, any::<bool>(), 0u8..2, 0u8..8, 0u8..8).prop_map(|(proc_, write, key, pick, o)| GenOp {
        proc_,
        write,
        key,
        pick,
        outcome: match o {
            0 => 1,
            1 => 2,
            _ => 0,
        },
    })
}

/// Builds the history: operations run one at a time in the generated order. With `dup`, written
/// values come from a tiny range (repeats, and nil), which the fast path must refuse.
fn build(ops: &[GenOp], dup: bool) -> KvHistory {
    let mut written: BTreeMap<u8, Vec<Value>> = BTreeMap::new();
    let vals: Vec<Value> = ops
        .iter()
        .enumerate()
        .map(|(i, o)| {
            if dup {
                match o.pick % 3 {
                    0 => Value::Nil,
                    x => Value::Int(i64::from(x)),
                }
            } else {
                Value::Int(i as i64 + 1)
            }
        })
        .collect();
    for (o, v) in ops.iter().zip(&vals) {
        if o.write {
            written.entry(o.key).or_default().push(v.clone());
        }
    }
    let mut h = KvHistory::new();
    let mut t = 0u64;
    for (o, v) in ops.iter().zip(&vals) {
        let p = u64::from(o.proc_);
        let time = SimTime::from_millis(t);
        t += 1;
        if o.write {
            h.invoke(time, None, p, Op::write(i64::from(o.key), v.clone()));
        } else {
            h.invoke(time, None, p, Op::read(i64::from(o.key)));
        }
        let time = SimTime::from_millis(t);
        t += 1;
        match o.outcome {
            1 => h.info(time, None, p, None),
            2 => h.fail(time, None, p, None),
            _ if o.write => h.ok(time, None, p, Ret::Ok),
            _ => {
                let ws = written.get(&o.key).map_or(&[][..], Vec::as_slice);
                let k = usize::from(o.pick) % (ws.len() + 2);
                // Mostly a written value, sometimes nil, rarely one nobody wrote.
                let r = if k < ws.len() {
                    ws[k].clone()
                } else if k == ws.len() || o.pick != 7 {
                    Value::Nil
                } else {
                    Value::Int(999)
                };
                h.ok(time, None, p, Ret::Value(r))
            }
        }
    }
    h
}

/// Exhaustive: every order of the operations that respects program order; failed and
/// indeterminate reads do nothing; an indeterminate write may take effect or not, and if it
/// does, anywhere after its process's earlier ok operations (it is not before the process's
/// later ones: the documented semantics of `info` in `models::check`).
fn brute(h: &KvHistory) -> bool {
    let ops = h.operations().unwrap();
    // Program order: j before i if same process, j invoked first, and j completed ok.
    let must_precede = |j: usize, i: usize| {
        j < i && ops[j].process == ops[i].process && matches!(ops[j].outcome, Outcome::Ok(_))
    };
    fn go(
        ops: &[Operation<Op, Ret>],
        must_precede: &dyn Fn(usize, usize) -> bool,
        done: &mut Vec<bool>,
        state: &mut BTreeMap<Key, Value>,
    ) -> bool {
        if (0..ops.len()).all(|i| done[i] || !matches!(ops[i].outcome, Outcome::Ok(_))) {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] || (0..i).any(|j| !done[j] && must_precede(j, i)) {
                continue;
            }
            let o = &ops[i];
            let mut options: Vec<Option<(Key, Value)>> = Vec::new(); // None = no effect
            match (&o.op, &o.outcome) {
                (_, Outcome::Fail) | (Op::Read { .. }, Outcome::Info) => continue,
                (Op::Read { key }, Outcome::Ok(Ret::Value(v))) => {
                    if state.get(key).unwrap_or(&Value::Nil) == v {
                        options.push(None);
                    }
                }
                (Op::Write { key, value }, _) => {
                    // (Leaving an indeterminate write out is leaving it not done.)
                    options.push(Some((key.clone(), value.clone())))
                }
                _ => unreachable!(),
            }
            for opt in options {
                done[i] = true;
                let old = opt
                    .as_ref()
                    .map(|(k, v)| (k.clone(), state.insert(k.clone(), v.clone())));
                let ok = go(ops, must_precede, done, state);
                if let Some((k, prev)) = old {
                    match prev {
                        Some(v) => state.insert(k, v),
                        None => state.remove(&k),
                    };
                }
                done[i] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    let mut done = vec![false; ops.len()];
    go(&ops, &must_precede, &mut done, &mut BTreeMap::new())
}

/// Replays a witness: every ok operation exactly once, no failed one, process order, legal.
fn replay(h: &KvHistory, w: &[usize]) -> Result<(), String> {
    let ops = h.operations().unwrap();
    let mut used = vec![false; ops.len()];
    let mut state: BTreeMap<&Key, &Value> = BTreeMap::new();
    for &i in w {
        let o = ops.get(i).ok_or("index out of range")?;
        if std::mem::replace(&mut used[i], true) {
            return Err(format!("op {i} twice"));
        }
        // Every earlier ok operation of the process comes first (an indeterminate one need not).
        if (0..i).any(|j| {
            ops[j].process == o.process && matches!(ops[j].outcome, Outcome::Ok(_)) && !used[j]
        }) {
            return Err(format!("op {i} breaks process order"));
        }
        match (&o.op, &o.outcome) {
            (_, Outcome::Fail) => return Err(format!("failed op {i}")),
            (Op::Read { key }, Outcome::Ok(Ret::Value(v)))
                if *state.get(key).copied().unwrap_or(&Value::Nil) != *v =>
            {
                return Err(format!("op {i} reads {v}"));
            }
            (Op::Write { key, value }, _) => {
                state.insert(key, value);
            }
            _ => {}
        }
    }
    match (0..ops.len()).find(|&i| matches!(ops[i].outcome, Outcome::Ok(_)) && !used[i]) {
        Some(i) => Err(format!("ok op {i} missing")),
        None => Ok(()),
    }
}

#[test]
fn sequential_matches_exhaustive_search() {
    let valid = Cell::new(0u32);
    let invalid = Cell::new(0u32);
    let fallback = Cell::new(0u32);
    let by_cycle = Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases: 6000,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (proptest::collection::vec(gen_op(), 1..10), 0u8..5);
    runner
        .run(&strategy, |(ops, d)| {
            let dup = d == 0;
            let h = build(&ops, dup);
            let expected = brute(&h);
            let v = check(Model::Sequential, &h, &[], &CheckOptions::default());
            match &v {
                Verdict::Valid { witness, .. } => {
                    let w = witness.as_ref().expect("a witness");
                    prop_assert!(expected, "valid but brute force says no: {:?}", h);
                    prop_assert_eq!(replay(&h, w), Ok(()), "history {:?}", h);
                    valid.set(valid.get() + 1);
                }
                Verdict::Invalid {
                    counterexample: c, ..
                } => {
                    prop_assert!(
                        !expected,
                        "invalid but brute force found an order: {:?}\n{}",
                        h,
                        c
                    );
                    invalid.set(invalid.get() + 1);
                    if matches!(**c, Counterexample::OrderCycle { .. }) {
                        by_cycle.set(by_cycle.get() + 1);
                    }
                }
                Verdict::Unknown { reason, .. } => prop_assert!(false, "unknown: {}", reason),
            }
            if dup {
                fallback.set(fallback.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    let (v, i) = (valid.get(), invalid.get());
    let (c, f) = (by_cycle.get(), fallback.get());
    eprintln!("{v} valid, {i} invalid ({c} by a must-precede cycle), {f} with repeated values");
    assert!(v >= 1000 && i >= 1000, "{v} valid, {i} invalid");
    // Both ways to invalid, and both searches, are exercised.
    assert!(c >= 100 && i - c >= 100, "{c} of {i} invalid by a cycle");
    assert!(f >= 500, "{f} with repeated values");
}
