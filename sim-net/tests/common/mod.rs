//! Test harness: sink actors that log what they receive, and helpers to drive a simulation
//! through a `FaultyNetwork`.
#![allow(dead_code)]

use std::time::Duration;

use actix::{Actor, Context, Handler};
use rand::Rng;
use sim_core::rng::Purpose;
use sim_core::{Deliver, Durable, Env, NodeId, Sim, SimEnv, SimTime, Timeout};
use sim_net::{FaultyNetwork, NetConfig};

/// One delivery: (arrival time, sender, message).
pub type Log = Vec<(SimTime, NodeId, u64)>;

/// Logs every message it receives into its durable state.
pub struct Sink<E> {
    env: E,
    log: Durable<Log>,
}

impl<E: Env<Msg = u64, Timer = ()>> Actor for Sink<E> {
    type Context = Context<Self>;
}

impl<E: Env<Msg = u64, Timer = ()>> Handler<Deliver<u64>> for Sink<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<u64>, _: &mut Context<Self>) {
        self.log.borrow_mut().push((self.env.now(), d.from, d.msg));
    }
}

impl<E: Env<Msg = u64, Timer = ()>> Handler<Timeout<()>> for Sink<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {}
}

/// A simulation of `n` sinks over a `FaultyNetwork` with `config` (its node count is set to n).
pub fn sinks(seed: u64, n: u32, mut config: NetConfig) -> Sim<u64> {
    config.nodes = n as usize;
    let net = FaultyNetwork::new(config).expect("valid config");
    let mut sim = Sim::with_network(seed, net);
    for i in 0..n {
        sim.add_node(format!("n{i}"), Log::new(), |env: SimEnv<u64, ()>, log| {
            Sink { env, log }
        });
    }
    sim
}

/// What `node` received.
pub fn log(sim: &Sim<u64>, node: NodeId) -> Log {
    sim.durable::<Log>(node).expect("sink").borrow().clone()
}

/// Schedules a send of `msg` from `from` to `to` at `at`.
pub fn send_at(sim: &mut Sim<u64>, at: SimTime, from: NodeId, to: NodeId, msg: u64) {
    sim.schedule(at, "send", move |sim| sim.post(from, to, msg));
}

/// Sends to a random peer every 10 ms: traffic for nemesis runs.
pub struct Chatter<E> {
    env: E,
    n: u32,
    count: u64,
}

impl<E: Env<Msg = u64, Timer = ()>> Actor for Chatter<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.env.set_timer(Duration::from_millis(10), ());
    }
}

impl<E: Env<Msg = u64, Timer = ()>> Handler<Deliver<u64>> for Chatter<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<u64>, _: &mut Context<Self>) {
        self.count = self.count.wrapping_add(d.msg);
    }
}

impl<E: Env<Msg = u64, Timer = ()>> Handler<Timeout<()>> for Chatter<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {
        let to = NodeId(self.env.rng().random_range(0..self.n));
        self.env.send(to, self.count);
        self.env.set_timer(Duration::from_millis(10), ());
    }
}

/// A simulation of `n` chatters.
pub fn chatters(seed: u64, n: u32, mut config: NetConfig) -> Sim<u64> {
    config.nodes = n as usize;
    let mut sim = Sim::with_network(seed, FaultyNetwork::new(config).expect("valid config"));
    for i in 0..n {
        sim.add_node(
            format!("c{i}"),
            (),
            move |env: SimEnv<u64, ()>, _: Durable<()>| Chatter { env, n, count: 0 },
        );
    }
    sim
}

/// The nemesis stream of `sim`.
pub fn nemesis_rng(sim: &Sim<u64>) -> rand_pcg::Pcg64 {
    sim.rng(Purpose::Nemesis)
}
