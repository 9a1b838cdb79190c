//! The `comments` scenario: a reply is never shown without the comment it replies to.
//!
//! Run: `cargo run --release --example scenario_comments`
//!
//! Ten users post comments, reply to each other's newest comments and view each other's newest
//! replies, under the cap partition ({n0, n1, n2} | {n3, n4} from 2 s to 12 s). A view reads a
//! reply, then the comment the reply names; the checker flags a view whose comment is absent.
//!
//! What you should see: on **eventual**, violations at about 12.0x s — just after the heal.
//! A user on one side replies to a comment that anti-entropy has just brought over from the
//! other side; the reply is pushed to every replica at once, while the comment travels by
//! anti-entropy, one random peer every 50–100 ms. A viewer whose replica has the reply but
//! not yet the comment sees an answer to nothing. On **causal** there are none: a replica
//! applies the reply only after everything its writer had seen — including the comment. Both
//! stay available on both sides of the partition: causal gives this application what it
//! needs at no availability cost.

use actsim::models::causal::Causal;
use actsim::models::eventual::Eventual;
use actsim::models::protocol::Protocol;
use actsim::models::scenario::{Scenario, ScenarioExperiment};

fn main() {
    comments(Eventual::default());
    comments(Causal::default());
}

fn comments<P: Protocol>(protocol: P) {
    let exp = ScenarioExperiment::new(Scenario::Comments, protocol);
    for seed in 0..3 {
        let out = exp
            .run(seed, None)
            .expect("the default experiment is valid");
        println!(
            "comments on {}, seed {seed}: {} violations",
            out.protocol,
            out.violations.len()
        );
        if let Some(v) = out.violations.first() {
            println!("  first {v}");
        }
    }
}
