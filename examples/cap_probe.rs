use models::cluster::Experiment;
use models::protocol::Protocol;
fn main() {
    for p in Protocol::ALL {
        let e = Experiment {
            protocol: p,
            ..Experiment::default()
        };
        let t = std::time::Instant::now();
        let o = e.run(1, None).unwrap();
        println!(
            "{p}: events={} ops={} final={} err={:?} hash={} wall={:?}",
            o.summary.counters.events,
            o.history.len(),
            o.final_reads.len(),
            o.error,
            o.summary.trace_hash,
            t.elapsed()
        );
    }
}
