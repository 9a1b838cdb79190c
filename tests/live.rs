//! The same actor code runs in simulation and live, on a real actix System.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actsim::live::LiveCluster;
use sim_core::{Deliver, Durable, Env, NodeId, Sim, SimEnv, SimTime, Timeout};

/// Node 0 pings node 1 every 10 ms; node 1 answers; node 0 counts answers.
struct Pinger<E> {
    env: E,
    pongs: Rc<Cell<u32>>,
}

impl<E: Env<Msg = &'static str, Timer = ()>> Actor for Pinger<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        if self.env.me() == NodeId(0) {
            self.env.set_timer(Duration::from_millis(10), ());
        }
    }
}

impl<E: Env<Msg = &'static str, Timer = ()>> Handler<Deliver<&'static str>> for Pinger<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<&'static str>, _: &mut Context<Self>) {
        match d.msg {
            "ping" => self.env.send(d.from, "pong"),
            _ => self.pongs.set(self.pongs.get() + 1),
        }
    }
}

impl<E: Env<Msg = &'static str, Timer = ()>> Handler<Timeout<()>> for Pinger<E> {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {
        self.env.send(NodeId(1), "ping");
        // A cancelled timer never fires.
        let dead = self.env.set_timer(Duration::from_millis(1), ());
        self.env.cancel_timer(dead);
        self.env.set_timer(Duration::from_millis(10), ());
    }
}

#[test]
fn same_actor_runs_in_simulation_and_live() {
    let sim_pongs = Rc::new(Cell::new(0));
    let mut sim: Sim<&'static str> = Sim::new(3);
    for _ in 0..2 {
        let p = Rc::clone(&sim_pongs);
        sim.add_node("p", (), move |env: SimEnv<_, ()>, _: Durable<()>| Pinger {
            env,
            pongs: Rc::clone(&p),
        });
    }
    sim.run_until(SimTime::from_millis(205)).unwrap();
    assert_eq!(sim_pongs.get(), 20, "one pong per 10 ms, 1 ms each way");

    let live_pongs = Rc::new(Cell::new(0));
    let p = Rc::clone(&live_pongs);
    actix::System::new().block_on(async move {
        let mut cluster: LiveCluster<&'static str> = LiveCluster::new(3);
        for _ in 0..2 {
            let p = Rc::clone(&p);
            cluster.add_node((), move |env, _: Durable<()>| Pinger {
                env,
                pongs: Rc::clone(&p),
            });
        }
        actix::clock::sleep(Duration::from_millis(300)).await;
    });
    let n = live_pongs.get();
    assert!((5..=31).contains(&n), "live run saw {n} pongs in 300 ms");
}
