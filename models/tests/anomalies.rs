//! One small hand-built history per anomaly, for the sequential, causal and session checkers.

use models::check::causal::check_causal;
use models::check::eventual::{check_eventual, FinalRead};
use models::check::session::check_sessions;
use models::check::{check, BadPattern, CheckOptions, Model, Verdict};
use models::op::{KvHistory, Op, Ret, Value};
use sim_core::{NodeId, SimTime};

/// Builds histories of sequential operations per process: `op(p, op, ret)` runs one op at
/// a fresh time slot (no overlap unless `overlap` is used).
struct B {
    h: KvHistory,
    t: u64,
}

impl B {
    fn new() -> Self {
        B {
            h: KvHistory::new(),
            t: 0,
        }
    }
    fn op(&mut self, p: u64, op: Op, ret: Ret) -> &mut Self {
        self.h.invoke(SimTime::from_millis(self.t), None, p, op);
        self.h.ok(SimTime::from_millis(self.t + 1), None, p, ret);
        self.t += 2;
        self
    }
    fn w(&mut self, p: u64, k: i64, v: i64) -> &mut Self {
        self.op(p, Op::write(k, v), Ret::Ok)
    }
    fn r(&mut self, p: u64, k: i64, v: Option<i64>) -> &mut Self {
        self.op(p, Op::read(k), Ret::Value(Value::from(v)))
    }
}

fn opts() -> CheckOptions {
    CheckOptions::default()
}

#[test]
fn sequential_but_not_linearizable() {
    let mut b = B::new();
    b.w(0, 0, 1).r(1, 0, None);
    assert!(check(Model::Linearizable, &b.h, &[], &opts()).is_invalid());
    match check(Model::Sequential, &b.h, &[], &opts()) {
        Verdict::Valid { witness, .. } => assert_eq!(witness, Some(vec![1, 0])),
        v => panic!("{v}"),
    }
}

#[test]
fn causal_but_not_sequential() {
    // Store buffering: each process writes its key, then reads the other's as nil.
    let mut b = B::new();
    b.w(0, 0, 1).w(1, 1, 1).r(0, 1, None).r(1, 0, None);
    let c = check_causal(&b.h, &opts()).unwrap();
    assert!(c.cc && c.ccv, "{:?}", c.anomalies);
    assert!(check(Model::Sequential, &b.h, &[], &opts()).is_invalid());
}

#[test]
fn sequential_is_not_local() {
    // Each key alone is sequentially consistent; together they are not (same as above, but
    // the point is that the checker must not split by key).
    let mut b = B::new();
    b.w(0, 0, 1).w(1, 1, 1).r(0, 1, None).r(1, 0, None);
    for k in [0i64, 1] {
        let mut only = KvHistory::new();
        let ops = b.h.operations().unwrap();
        for o in ops.iter().filter(|o| o.op.keys()[0] == &k.into()) {
            only.invoke(o.invoke_time, None, o.process, o.op.clone());
            if let sim_core::history::Outcome::Ok(r) = &o.outcome {
                only.ok(
                    o.complete_time.unwrap_or(o.invoke_time),
                    None,
                    o.process,
                    r.clone(),
                );
            }
        }
        assert!(check(Model::Sequential, &only, &[], &opts()).is_valid());
    }
    assert!(check(Model::Sequential, &b.h, &[], &opts()).is_invalid());
}

#[test]
fn thin_air_read() {
    let mut b = B::new();
    b.w(0, 0, 1).r(1, 0, Some(2));
    let c = check_causal(&b.h, &opts()).unwrap();
    assert!(!c.cc);
    let a = c.find(BadPattern::ThinAirRead).expect("ThinAirRead");
    assert_eq!(a.ops[0].index, 1);
}

#[test]
fn cyclic_co() {
    let mut b = B::new();
    b.r(0, 0, Some(1)).w(0, 1, 1).r(1, 1, Some(1)).w(1, 0, 1);
    let c = check_causal(&b.h, &opts()).unwrap();
    assert!(!c.cc && !c.ccv);
    let a = c.find(BadPattern::CyclicCO).expect("CyclicCO");
    let mut idx: Vec<usize> = a.ops.iter().map(|o| o.index).collect();
    idx.sort();
    assert_eq!(idx, vec![0, 1, 2, 3]);
}

#[test]
fn write_co_init_read() {
    // p0 writes x then y; p1 sees y but then x's initial value.
    let mut b = B::new();
    b.w(0, 0, 1).w(0, 1, 1).r(1, 1, Some(1)).r(1, 0, None);
    let c = check_causal(&b.h, &opts()).unwrap();
    assert!(!c.cc);
    let a = c
        .find(BadPattern::WriteCOInitRead)
        .expect("WriteCOInitRead");
    assert_eq!(
        a.ops.iter().map(|o| o.index).collect::<Vec<_>>(),
        vec![0, 3]
    );
    assert!(check(Model::Sequential, &b.h, &[], &opts()).is_invalid());
    let s = check_sessions(&b.h, &opts()).unwrap();
    let mw = s.monotonic_writes.expect("monotonic writes violated");
    assert_eq!((mw.first.index, mw.second.index), (2, 3));
}

#[test]
fn write_co_read() {
    // p0 writes 1 then 2; p1 reads 2 then 1.
    let mut b = B::new();
    b.w(0, 0, 1).w(0, 0, 2).r(1, 0, Some(2)).r(1, 0, Some(1));
    let c = check_causal(&b.h, &opts()).unwrap();
    assert!(!c.cc);
    let a = c.find(BadPattern::WriteCORead).expect("WriteCORead");
    assert_eq!(
        a.ops.iter().map(|o| o.index).collect::<Vec<_>>(),
        vec![0, 1, 3]
    );
    let s = check_sessions(&b.h, &opts()).unwrap();
    let mr = s.monotonic_reads.expect("monotonic reads violated");
    assert_eq!((mr.first.index, mr.second.index), (2, 3));
}

#[test]
fn cyclic_cf_violates_ccv_only() {
    // Two concurrent writes seen in opposite orders by two readers: causal, not convergent.
    let mut b = B::new();
    b.w(0, 0, 1)
        .w(1, 0, 2)
        .r(2, 0, Some(1))
        .r(2, 0, Some(2))
        .r(3, 0, Some(2))
        .r(3, 0, Some(1));
    let c = check_causal(&b.h, &opts()).unwrap();
    assert!(c.cc, "{:?}", c.anomalies);
    assert!(!c.ccv);
    assert!(c.find(BadPattern::CyclicCF).is_some());
    assert_eq!(c.anomalies.len(), 1);
}

#[test]
fn read_your_writes_and_writes_follow_reads() {
    let mut b = B::new();
    b.w(0, 0, 1).r(0, 0, None);
    let s = check_sessions(&b.h, &opts()).unwrap();
    let v = s.read_your_writes.expect("RYW violated");
    assert_eq!((v.first.index, v.second.index), (0, 1));
    // p2 writes x=1; p0 reads it then writes y=1; p1 reads y=1 then x as initial.
    let mut b = B::new();
    b.w(2, 0, 1)
        .r(0, 0, Some(1))
        .w(0, 1, 1)
        .r(1, 1, Some(1))
        .r(1, 0, None);
    let s = check_sessions(&b.h, &opts()).unwrap();
    let v = s.writes_follow_reads.expect("WFR violated");
    assert_eq!((v.first.index, v.second.index), (3, 4));
    assert!(s.read_your_writes.is_none());
}

#[test]
fn eventual_convergence_lost_writes_and_stale_reads() {
    let mut b = B::new();
    b.w(0, 0, 1).w(1, 0, 2).r(2, 0, Some(1));
    let f = |n: u32, v: i64| FinalRead {
        node: NodeId(n),
        key: 0.into(),
        value: Value::Int(v),
    };
    // Final value 2 everywhere: converged, nothing lost; the read of 1 after 2 was acked is stale.
    let r = check_eventual(&b.h, &[f(0, 2), f(1, 2)], &opts()).unwrap();
    assert!(r.valid);
    assert_eq!(r.stale_reads.len(), 1);
    // Final value 1 everywhere: write 2 came after write 1 in real time, but nothing in the
    // history orders them causally (another process, no read of 1): a last-writer-wins register
    // may keep either. Reported as superseded, not lost.
    let r = check_eventual(&b.h, &[f(0, 1), f(1, 1)], &opts()).unwrap();
    assert!(r.valid);
    assert!(r.lost_writes.is_empty());
    assert_eq!(
        r.superseded_concurrent
            .iter()
            .map(|o| o.index)
            .collect::<Vec<_>>(),
        vec![1]
    );
    // Process 1 read 1 before writing 2: write 1 happened before write 2, so a final 1 lost 2.
    let mut c = B::new();
    c.w(0, 0, 1).r(1, 0, Some(1)).w(1, 0, 2);
    let r = check_eventual(&c.h, &[f(0, 1), f(1, 1)], &opts()).unwrap();
    assert!(!r.valid);
    assert_eq!(
        r.lost_writes.iter().map(|o| o.index).collect::<Vec<_>>(),
        vec![2]
    );
    // The same process writing 1 then 2 also orders them.
    let mut d = B::new();
    d.w(0, 0, 1).w(0, 0, 2);
    let r = check_eventual(&d.h, &[f(0, 1), f(1, 1)], &opts()).unwrap();
    assert_eq!(r.lost_writes.len(), 1);
    // Replicas disagree.
    let r = check_eventual(&b.h, &[f(0, 1), f(1, 2)], &opts()).unwrap();
    assert_eq!(r.divergent.len(), 1);
    // A final value nobody wrote.
    let r = check_eventual(&b.h, &[f(0, 9), f(1, 9)], &opts()).unwrap();
    assert_eq!(r.thin_air_finals.len(), 2);
}

#[test]
fn an_info_write_orders_nothing_after_it() {
    // p0's write of 1 times out; p0 goes on and writes 2; the final value is 1. The timed-out
    // write may have arrived after the write of 2: nothing is lost for certain.
    let t = SimTime::from_millis;
    let mut h = KvHistory::new();
    h.invoke(t(0), None, 0, Op::write(0, 1));
    h.info(t(1), None, 0, None);
    h.invoke(t(2), None, 0, Op::write(0, 2));
    h.ok(t(3), None, 0, Ret::Ok);
    let f = |n: u32| FinalRead {
        node: NodeId(n),
        key: 0.into(),
        value: Value::Int(1),
    };
    let r = check_eventual(&h, &[f(0), f(1)], &opts()).unwrap();
    assert!(r.lost_writes.is_empty(), "{:?}", r.lost_writes);
    assert!(check(Model::Eventual, &h, &[f(0), f(1)], &opts()).is_valid());
    // Had the write of 1 completed ok, the write of 2 would be lost.
    let mut h2 = KvHistory::new();
    h2.invoke(t(0), None, 0, Op::write(0, 1));
    h2.ok(t(1), None, 0, Ret::Ok);
    h2.invoke(t(2), None, 0, Op::write(0, 2));
    h2.ok(t(3), None, 0, Ret::Ok);
    assert!(check(Model::Eventual, &h2, &[f(0), f(1)], &opts()).is_invalid());
}

#[test]
fn writes_of_the_initial_value_or_repeats_are_uncheckable_for_causal_and_sessions() {
    // p0 reads nil, then writes nil: the read may be of the initial value; a checker that
    // took it as reading the later write would see a causal cycle.
    let mut b = B::new();
    b.r(0, 0, None).op(0, Op::write(0, Value::Nil), Ret::Ok);
    for m in [Model::Causal, Model::CausalPlus, Model::Sessions] {
        let v = check(m, &b.h, &[], &opts());
        assert!(v.is_uncheckable(), "{m}: {v}");
    }
    assert!(check(Model::Sequential, &b.h, &[], &opts()).is_valid());
    let mut b = B::new();
    b.w(0, 0, 1).w(1, 0, 1).r(2, 0, Some(1));
    assert!(check(Model::Causal, &b.h, &[], &opts()).is_uncheckable());
    assert!(check(Model::Sessions, &b.h, &[], &opts()).is_uncheckable());
}
