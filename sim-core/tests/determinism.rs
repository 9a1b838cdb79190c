//! Same seed, same trace hash: twice in this process and once in a child process.

use std::any::Any;
use std::process::Command;
use std::time::Duration;

use actix::prelude::*;
use rand::Rng;
use rand_pcg::Pcg64;
use sim_core::network::{DropCause, Network, Outbox, Packet};
use sim_core::{Deliver, Durable, Env, NodeId, Sim, SimEnv, SimTime, Timeout, TraceHash};

/// Uniform 1–10 ms, 5% loss, 5% duplication.
struct Lossy;

impl Network<u64> for Lossy {
    fn on_send(&mut self, now: SimTime, p: Packet<u64>, rng: &mut Pcg64, out: &mut Outbox<u64>) {
        if rng.random_bool(0.05) {
            out.drop(p.from, p.to, DropCause::Loss);
            return;
        }
        if rng.random_bool(0.05) {
            out.deliver_copy(
                now + Duration::from_nanos(rng.random_range(1_000_000..10_000_000)),
                p.clone(),
            );
        }
        out.deliver(
            now + Duration::from_nanos(rng.random_range(1_000_000..10_000_000)),
            p,
        );
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Gossips a durable counter to random peers on a jittered timer.
struct Gossiper<E> {
    env: E,
    seen: Durable<u64>,
}

impl<E: Env<Msg = u64, Timer = ()>> Gossiper<E> {
    fn arm(&self) {
        let jitter = self.env.rng().random_range(1..20);
        self.env.set_timer(Duration::from_millis(jitter), ());
    }
}

impl<E: Env<Msg = u64, Timer = ()>> Actor for Gossiper<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.arm();
    }
}

impl<E: Env<Msg = u64, Timer = ()>> Handler<Deliver<u64>> for Gossiper<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<u64>, _: &mut Context<Self>) {
        let mut s = self.seen.borrow_mut();
        *s = (*s).max(d.msg) + 1;
    }
}

impl<E: Env<Msg = u64, Timer = ()>> Handler<Timeout<()>> for Gossiper<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {
        let to = NodeId(self.env.rng().random_range(0..5));
        let v = *self.seen.borrow();
        self.env.send(to, v);
        self.arm();
    }
}

fn scenario(seed: u64) -> TraceHash {
    let mut sim = Sim::with_network(seed, Lossy);
    for i in 0..5 {
        sim.add_node(format!("g{i}"), 0u64, |env: SimEnv<u64, ()>, seen| {
            Gossiper { env, seen }
        });
    }
    let mut plan = sim.rng(sim_core::rng::Purpose::Nemesis);
    for k in 0..6u64 {
        let node = NodeId(plan.random_range(0..5));
        let at = SimTime::from_millis(100 + k * 150);
        sim.schedule(at, "crash", move |s| s.crash(node).unwrap());
        sim.schedule(at + Duration::from_millis(60), "restart", move |s| {
            s.restart(node).unwrap()
        });
    }
    sim.run_until(SimTime::from_secs(2)).unwrap();
    let c = sim.counters();
    assert!(
        c.crashes == 6
            && c.restarts == 6
            && c.dropped(DropCause::Loss) > 0
            && c.duplicated > 0
            && c.timers_fired > 100
    );
    sim.trace_hash()
}

#[test]
fn same_seed_same_trace_hash_in_process() {
    let a = scenario(7);
    let b = scenario(7);
    assert_eq!(a, b);
    assert_ne!(a, scenario(8), "another seed gives another trace");
}

/// Prints the hash when run as the child of `same_seed_same_trace_hash_across_processes`.
#[test]
fn child_prints_trace_hash() {
    if let Ok(seed) = std::env::var("ACTSIM_TEST_CHILD_SEED") {
        let seed: u64 = seed.parse().unwrap();
        println!("TRACE_HASH={}", scenario(seed));
    }
}

#[test]
fn same_seed_same_trace_hash_across_processes() {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "child_prints_trace_hash",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("ACTSIM_TEST_CHILD_SEED", "7")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("TRACE_HASH=").map(|(_, h)| h.trim()))
        .unwrap_or_else(|| panic!("child printed no hash: {stdout}"));
    assert_eq!(line, scenario(7).to_string());
}
