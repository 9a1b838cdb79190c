//! The `feed` scenario: one friend's posts always appear in the order that friend wrote them.
//!
//! Run: `cargo run --release --example scenario_feed`
//!
//! Ten friends post (each post retried until acknowledged, so post `j` exists before post
//! `j + 1` is written) and read each other's feed pages: the pointer to a friend's newest post,
//! then the three newest posts, newest first. The checker flags a reader that saw a post and
//! then found an earlier post of the same friend missing.
//!
//! What you should see: on **eventual**, violations just after the heal (about 12.0x s). A
//! friend on one side wrote posts during the partition; right after the heal it writes a new
//! one, which is pushed to every replica at once — while the posts of the last ten seconds are
//! still waiting for anti-entropy. A reader on the other side sees the newest post above a hole.
//! On **causal**, **sequential** and **linearizable**, none: all three keep each writer's
//! session order. The costs differ: sequential and linearizable cannot post on the minority
//! side (the table's minority write availability is 0%), causal can.

use actsim::models::causal::Causal;
use actsim::models::eventual::Eventual;
use actsim::models::linearizable::Linearizable;
use actsim::models::protocol::Protocol;
use actsim::models::scenario::{Scenario, ScenarioExperiment};
use actsim::models::sequential::Sequential;

fn main() {
    feed(Eventual::default());
    feed(Causal::default());
    feed(Sequential::default());
    feed(Linearizable::default());
}

fn feed<P: Protocol>(protocol: P) {
    let out = ScenarioExperiment::new(Scenario::Feed, protocol)
        .run(0, None)
        .expect("the default experiment is valid");
    let min = out.availability.minority;
    println!(
        "feed on {}: {} violations; minority side: {}/{} posts ok",
        out.protocol,
        out.violations.len(),
        min.writes_ok,
        min.writes
    );
    if let Some(v) = out.violations.first() {
        println!("  first {v}");
    }
}
