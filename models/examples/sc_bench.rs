//! Sequential-consistency checker speed on the consistency x availability experiment's histories.
//!
//! Run with `cargo run --release -p models --example sc_bench`. For each protocol and seeds 0..3
//! it runs the default [`Experiment`] (10 clients, 4 keys, a 10 s partition) and prints the
//! verdict of `check(Model::Sequential, ..)` (10 s budget, one thread) and the time it took.

use models::check::*;
use models::experiment::Experiment;
use models::op::{KvHistory, Op, Ret, Value};
use models::protocol::Protocol;
use sim_core::history::Outcome;
use std::collections::BTreeMap;

fn main() {
    bench(models::eventual::Eventual::default());
    bench(models::causal::Causal::default());
    bench(models::sequential::Sequential::default());
    bench(models::linearizable::Linearizable::default());
}

fn bench<P: Protocol>(protocol: P) {
    let p = protocol.name().to_string();
    let e = Experiment::new(protocol);
    {
        for seed in 0..3 {
            let o = e.simulate(seed, None).unwrap();
            #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
            // measuring wall-clock time
            let t = std::time::Instant::now();
            let v = check(
                Model::Sequential,
                &o.history,
                &[],
                &CheckOptions {
                    budget: Budget {
                        time: Some(std::time::Duration::from_secs(10)),
                        steps: None,
                    },
                    parallelism: 1,
                    ..Default::default()
                },
            );
            let el = t.elapsed();
            if let Verdict::Valid {
                witness: Some(w), ..
            } = &v
            {
                if let Err(e) = replay(&o.history, w) {
                    panic!("{p} seed {seed}: the witness does not hold: {e}");
                }
            }
            println!(
                "{p} seed {seed}: {} ops -> {} in {:?}",
                o.history.len() / 2,
                match &v {
                    Verdict::Valid {
                        witness: Some(_), ..
                    } => "valid (witness replayed)".into(),
                    Verdict::Valid { .. } => "valid".into(),
                    Verdict::Invalid { .. } => "INVALID".to_string(),
                    Verdict::Unknown { reason, .. } => format!("unknown ({reason})"),
                },
                el
            );
        }
    }
}

/// Independently replays a witness: every `ok` operation exactly once, only `ok` and
/// indeterminate ones, each process's operations in its order, reads and writes legal.
fn replay(h: &KvHistory, w: &[usize]) -> Result<(), String> {
    let ops = h.operations().map_err(|e| e.to_string())?;
    let mut used = vec![false; ops.len()];
    let mut last: BTreeMap<u64, usize> = BTreeMap::new();
    let mut state: BTreeMap<&models::op::Key, &Value> = BTreeMap::new();
    let nil = Value::Nil;
    for &i in w {
        let o = ops.get(i).ok_or("index out of range")?;
        if std::mem::replace(&mut used[i], true) {
            return Err(format!("op {i} twice"));
        }
        if let Some(&j) = last.get(&o.process) {
            if j > i {
                return Err(format!("op {i} after its process's later op {j}"));
            }
        }
        last.insert(o.process, i);
        match (&o.op, &o.outcome) {
            (_, Outcome::Fail) => return Err(format!("failed op {i} in the witness")),
            (Op::Read { key }, Outcome::Ok(Ret::Value(v))) => {
                let cur = state.get(key).copied().unwrap_or(&nil);
                if cur != v {
                    return Err(format!("op {i} reads {v} but the value is {cur}"));
                }
            }
            (Op::Write { key, value }, _) => {
                state.insert(key, value);
            }
            (op, _) => return Err(format!("op {i}: {op} not replayable here")),
        }
    }
    // Every ok operation must be there; for processes, no op may be left out before a used one.
    for (i, o) in ops.iter().enumerate() {
        if matches!(o.outcome, Outcome::Ok(_)) && !used[i] {
            return Err(format!("ok op {i} missing"));
        }
    }
    Ok(())
}
