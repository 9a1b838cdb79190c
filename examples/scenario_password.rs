//! The `password` scenario: once a password change is acknowledged, no later login (from any
//! client) accepts the old password.
//!
//! Run: `cargo run --release --example scenario_password`
//!
//! Each user owns an account whose record holds its password's version, and changes it every
//! 200–400 ms; everyone logs in to random accounts all the time. A login reads the record and
//! accepts the password of the version it reads. The checker uses real time from the history:
//! a login *invoked after* a change was acknowledged must not read an older version.
//!
//! What you should see: thousands of violations on **eventual** and **causal** (a minority
//! replica keeps accepting passwords changed on the majority side for the whole partition),
//! hundreds on **sequential** (a follower serves logins from its applied prefix: it lags the
//! leader by a heartbeat even when healthy, and the minority followers by the whole
//! partition), and none on **linearizable** — whose price is that the minority side can
//! neither log in nor change a password while partitioned (0% there).

use actsim::models::causal::Causal;
use actsim::models::eventual::Eventual;
use actsim::models::linearizable::Linearizable;
use actsim::models::protocol::Protocol;
use actsim::models::scenario::{Scenario, ScenarioExperiment};
use actsim::models::sequential::Sequential;

fn main() {
    password(Eventual::default());
    password(Causal::default());
    password(Sequential::default());
    password(Linearizable::default());
}

fn password<P: Protocol>(protocol: P) {
    let out = ScenarioExperiment::new(Scenario::Password, protocol)
        .run(0, None)
        .expect("the default experiment is valid");
    let min = out.availability.minority;
    println!(
        "password on {}: {} violations; minority side: {}/{} logins ok, {}/{} changes ok",
        out.protocol,
        out.violations.len(),
        min.reads_ok,
        min.reads,
        min.writes_ok,
        min.writes
    );
    if let Some(v) = out.violations.first() {
        println!("  first {v}");
    }
}
