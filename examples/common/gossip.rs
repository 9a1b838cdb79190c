//! The gossip workload's actors, shared by `gossip_bench` (under the kernel) and
//! `gossip_floor` (with no kernel), generic over the [`Env`] like any protocol actor.
//!
//! 5 replicas + 3 clients. Each client keeps 4 requests outstanding to random replicas; each
//! reply triggers the next request; a 20 ms retry timer re-sends requests older than 30 ms. A
//! replica increments a counter on each request, replies, and gossips the counter to 2 random
//! peers; every replica broadcasts its counter to the other 4 on a 10 ms heartbeat.

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use actix::{Actor, Context, Handler};
use rand::Rng;
use rand_pcg::Pcg64;
use sim_core::network::{DropCause, Network, Outbox, Packet};
use sim_core::{Deliver, Durable, Env, NodeId, Sim, SimEnv, SimTime, Timeout};

pub const REPLICAS: u32 = 5;
pub const CLIENTS: u32 = 3;

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    Request { id: u64 },
    Reply { id: u64, counter: u64 },
    Gossip { counter: u64 },
}

#[derive(Clone, Copy, Debug, Hash)]
pub enum Tick {
    Heartbeat,
    Retry,
}

pub struct Replica<E> {
    env: E,
    counter: u64,
    seen: u64,
}

impl<E: Env<Msg = Msg, Timer = Tick>> Actor for Replica<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.env
            .set_timer(Duration::from_millis(10), Tick::Heartbeat);
    }
}

impl<E: Env<Msg = Msg, Timer = Tick>> Replica<E> {
    /// A replica whose counter starts at 0.
    pub fn new(env: E) -> Self {
        Replica {
            env,
            counter: 0,
            seen: 0,
        }
    }

    fn random_peer(&self) -> NodeId {
        let me = self.env.me().0;
        let k = self.env.rng().random_range(0..REPLICAS - 1);
        NodeId(if k >= me { k + 1 } else { k })
    }
}

impl<E: Env<Msg = Msg, Timer = Tick>> Handler<Deliver<Msg>> for Replica<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<Msg>, _: &mut Context<Self>) {
        match d.msg {
            Msg::Request { id } => {
                self.counter += 1;
                self.env.send(
                    d.from,
                    Msg::Reply {
                        id,
                        counter: self.counter,
                    },
                );
                for _ in 0..2 {
                    let peer = self.random_peer();
                    self.env.send(
                        peer,
                        Msg::Gossip {
                            counter: self.counter,
                        },
                    );
                }
            }
            Msg::Gossip { counter } => self.seen = self.seen.max(counter),
            Msg::Reply { .. } => {}
        }
    }
}

impl<E: Env<Msg = Msg, Timer = Tick>> Handler<Timeout<Tick>> for Replica<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<Tick>, _: &mut Context<Self>) {
        let me = self.env.me().0;
        for r in (0..REPLICAS).filter(|&r| r != me) {
            self.env.send(
                NodeId(r),
                Msg::Gossip {
                    counter: self.counter,
                },
            );
        }
        self.env
            .set_timer(Duration::from_millis(10), Tick::Heartbeat);
    }
}

pub struct Client<E> {
    env: E,
    next_id: u64,
    outstanding: BTreeMap<u64, (SimTime, NodeId)>,
}

impl<E: Env<Msg = Msg, Timer = Tick>> Client<E> {
    /// A client with no request sent yet.
    pub fn new(env: E) -> Self {
        Client {
            env,
            next_id: 0,
            outstanding: BTreeMap::new(),
        }
    }

    fn request(&mut self) {
        let id = self.next_id;
        self.next_id += 1;
        let to = NodeId(self.env.rng().random_range(0..REPLICAS));
        self.outstanding.insert(id, (self.env.now(), to));
        self.env.send(to, Msg::Request { id });
    }
}

impl<E: Env<Msg = Msg, Timer = Tick>> Actor for Client<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        for _ in 0..4 {
            self.request();
        }
        self.env.set_timer(Duration::from_millis(20), Tick::Retry);
    }
}

impl<E: Env<Msg = Msg, Timer = Tick>> Handler<Deliver<Msg>> for Client<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<Msg>, _: &mut Context<Self>) {
        if let Msg::Reply { id, .. } = d.msg {
            if self.outstanding.remove(&id).is_some() {
                self.request();
            }
        }
    }
}

impl<E: Env<Msg = Msg, Timer = Tick>> Handler<Timeout<Tick>> for Client<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<Tick>, _: &mut Context<Self>) {
        let now = self.env.now();
        let stale: Vec<(u64, NodeId)> = self
            .outstanding
            .iter()
            .filter(|(_, (sent, _))| now - *sent > Duration::from_millis(30))
            .map(|(&id, &(_, to))| (id, to))
            .collect();
        for (id, to) in stale {
            self.outstanding.insert(id, (now, to));
            self.env.send(to, Msg::Request { id });
        }
        self.env.set_timer(Duration::from_millis(20), Tick::Retry);
    }
}

/// The benchmark's own minimal network (the baseline): uniform 1–10 ms, 1% loss, 1%
/// duplication.
pub struct SimpleNet;

impl Network<Msg> for SimpleNet {
    fn on_send(&mut self, now: SimTime, p: Packet<Msg>, rng: &mut Pcg64, out: &mut Outbox<Msg>) {
        if rng.random_bool(0.01) {
            out.drop(p.from, p.to, DropCause::Loss);
            return;
        }
        if rng.random_bool(0.01) {
            let d = rng.random_range(1_000_000..=10_000_000);
            out.deliver_copy(now + Duration::from_nanos(d), p.clone());
        }
        let d = rng.random_range(1_000_000..=10_000_000);
        out.deliver(now + Duration::from_nanos(d), p);
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Adds the 5 replicas, then the 3 clients.
pub fn build(sim: &mut Sim<Msg>) {
    for r in 0..REPLICAS {
        sim.add_node(
            format!("replica{r}"),
            (),
            |env: SimEnv<Msg, Tick>, _: Durable<()>| Replica::new(env),
        );
    }
    for c in 0..CLIENTS {
        sim.add_node(
            format!("client{c}"),
            (),
            |env: SimEnv<Msg, Tick>, _: Durable<()>| Client::new(env),
        );
    }
}

/// The value of flag `name` in `args`, or `default` if it is absent.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .ok_or(format!("{name} needs a value"))?
            .parse()
            .map_err(|_| format!("{name}: invalid value")),
        None => Ok(default),
    }
}
