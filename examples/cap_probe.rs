use models::cluster::{Experiment, Side};
use models::evaluate::{evaluate, EvalOptions};
use models::protocol::Protocol;
fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let bug = std::env::args().nth(2).is_some();
    for p in Protocol::ALL {
        for seed in 0..seeds {
            let e = Experiment {
                protocol: p,
                bug,
                ..Experiment::default()
            };
            let t = std::time::Instant::now();
            let o = e.run(seed, None).unwrap();
            let t1 = t.elapsed();
            let ev = evaluate(&e, &o, &EvalOptions::default());
            let maj = ev.during_faults[&Side::Majority];
            let min = ev.during_faults[&Side::Minority];
            let checks: Vec<String> = ev
                .checks
                .iter()
                .map(|(m, c)| {
                    format!(
                        "{m}={}",
                        match c {
                            models::evaluate::Check::Pass => "ok".to_string(),
                            models::evaluate::Check::Fail(s) =>
                                format!("FAIL({})", &s[..s.len().min(80)]),
                            models::evaluate::Check::Unknown(s) => format!("?({s})"),
                        }
                    )
                })
                .collect();
            println!("{p} s{seed}: maj r={:.2} w={:.2} min r={:.2} w={:.2} lat={:.1}/{:.1} sup={} run={:?} eval={:?} {}", maj.read.fraction(), maj.write.fraction(), min.read.fraction(), min.write.fraction(), ev.latency_ms.0, ev.latency_ms.1, ev.superseded_writes, t1, t.elapsed()-t1, checks.join(" "));
        }
    }
}
