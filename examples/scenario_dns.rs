//! The `dns` scenario: an updated record reaches every resolver eventually; stale answers
//! meanwhile are acceptable.
//!
//! Run: `cargo run --release --example scenario_dns`
//!
//! One record per replica, updated by a client homed there every 300–600 ms; every client
//! resolves random records. The invariant is checked after the heal and the quiet phase: every
//! replica answers every record with its newest acknowledged version. Meanwhile a sampler reads
//! every replica's records every 10 ms to measure each update's staleness window: the time
//! from its acknowledgement until every replica answers it.
//!
//! What you should see: no violation on any protocol — eventual consistency is all this
//! application needs. The cost shows elsewhere: on **sequential** and **linearizable** the
//! records homed on the minority side cannot be updated during the partition (0%), while
//! **eventual** and **causal** accept those updates; an update acknowledged during the
//! partition is stale on the other side until the heal on every protocol, so the worst
//! windows are close to the partition's 10 s everywhere.

use actsim::models::causal::Causal;
use actsim::models::eventual::Eventual;
use actsim::models::linearizable::Linearizable;
use actsim::models::protocol::Protocol;
use actsim::models::scenario::report::Staleness;
use actsim::models::scenario::{Scenario, ScenarioExperiment};
use actsim::models::sequential::Sequential;

fn main() {
    dns(Eventual::default());
    dns(Causal::default());
    dns(Sequential::default());
    dns(Linearizable::default());
}

fn dns<P: Protocol>(protocol: P) {
    let out = ScenarioExperiment::new(Scenario::Dns, protocol)
        .run(0, None)
        .expect("the default experiment is valid");
    let s = Staleness::of(&out.staleness);
    let min = out.availability.minority;
    println!(
        "dns on {}: {} violations; {} updates, staleness p50 {:?} p99 {:?} max {:?}; minority updates ok {}/{}",
        out.protocol,
        out.violations.len(),
        s.updates,
        s.p50.unwrap_or_default(),
        s.p99.unwrap_or_default(),
        s.max.unwrap_or_default(),
        min.writes_ok,
        min.writes
    );
}
