//! Property test: the WGL linearizability checker agrees with a brute-force search over all
//! orders on random small single-register histories (reads, writes, cas; ok and indeterminate).

use models::check::{check, CheckOptions, Model};
use models::op::{KvHistory, Op, Ret, Value};
use proptest::prelude::*;
use sim_core::SimTime;

#[derive(Clone, Debug)]
struct GenOp {
    kind: u8, // 0 read, 1 write, 2 cas
    a: i64,
    b: i64,
    cas_ok: bool,
    info: bool,
    start: u64,
    len: u64,
}

fn gen_op() -> impl Strategy<Value = GenOp> {
    (
        0u8..3,
        0i64..3,
        0i64..3,
        any::<bool>(),
        0u8..5,
        0u64..20,
        1u64..8,
    )
        .prop_map(|(kind, a, b, cas_ok, info, start, len)| GenOp {
            kind,
            a,
            b,
            cas_ok,
            info: info == 0 && kind != 0,
            start,
            len,
        })
}

fn val(x: i64) -> Value {
    if x == 0 {
        Value::Nil
    } else {
        Value::Int(x)
    }
}

/// One process per operation; events sorted by time (invokes before completions on ties).
fn build(ops: &[GenOp]) -> KvHistory {
    let mut evs: Vec<(u64, u8, usize)> = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        evs.push((o.start * 2 + 1, 0, i));
        if !o.info {
            evs.push(((o.start + o.len) * 2, 1, i));
        }
    }
    evs.sort();
    let mut h = KvHistory::new();
    for (t, kind, i) in evs {
        let o = &ops[i];
        let time = SimTime::from_nanos(t);
        if kind == 0 {
            let op = match o.kind {
                0 => Op::read(0),
                1 => Op::write(0, val(o.a)),
                _ => Op::cas(0, val(o.a), val(o.b)),
            };
            h.invoke(time, None, i as u64, op);
        } else {
            let ret = match o.kind {
                0 => Ret::Value(val(o.a)),
                1 => Ret::Ok,
                _ if o.cas_ok => Ret::Ok,
                _ => Ret::CasFailed,
            };
            h.ok(time, None, i as u64, ret);
        }
    }
    h
}

/// Brute force: try every order consistent with real time; indeterminate ops may be left out.
fn brute(h: &KvHistory) -> bool {
    let ops = h.operations().unwrap();
    fn go(
        ops: &[sim_core::history::Operation<Op, Ret>],
        done: &mut Vec<bool>,
        state: &Value,
    ) -> bool {
        let pending_required = ops
            .iter()
            .enumerate()
            .any(|(i, o)| !done[i] && o.complete_index.is_some());
        if !pending_required {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] {
                continue;
            }
            // i may go next only if no other remaining op completed before i was invoked.
            let blocked = ops
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && !done[j] && o.precedes(&ops[i]));
            if blocked {
                continue;
            }
            let o = &ops[i];
            let next = match (&o.op, &o.outcome) {
                (Op::Read { .. }, sim_core::history::Outcome::Ok(Ret::Value(v))) => {
                    (v == state).then(|| state.clone())
                }
                (Op::Write { value, .. }, _) => Some(value.clone()),
                (Op::Cas { old, new, .. }, sim_core::history::Outcome::Ok(Ret::Ok)) => {
                    (old == state).then(|| new.clone())
                }
                (Op::Cas { old, .. }, sim_core::history::Outcome::Ok(Ret::CasFailed)) => {
                    (old != state).then(|| state.clone())
                }
                (Op::Cas { old, new, .. }, _) => Some(if old == state {
                    new.clone()
                } else {
                    state.clone()
                }),
                _ => None,
            };
            if let Some(s) = next {
                done[i] = true;
                if go(ops, done, &s) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    let mut done = vec![false; ops.len()];
    go(&ops, &mut done, &Value::Nil)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn wgl_matches_brute_force(ops in proptest::collection::vec(gen_op(), 1..8)) {
        let h = build(&ops);
        let expected = brute(&h);
        let v = check(Model::Linearizable, &h, &[], &CheckOptions::default());
        prop_assert!(!v.is_unknown());
        prop_assert_eq!(v.is_valid(), expected, "history: {:?}\nverdict: {}", h, v);
        // Linearizable histories are sequentially consistent, with a witness.
        if expected {
            let s = check(Model::Sequential, &h, &[], &CheckOptions::default());
            prop_assert!(s.is_valid(), "{}", s);
        }
    }
}
