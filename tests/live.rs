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

/// The linearizable protocol (Raft) unchanged on a real actix System: 3 replicas and 4 clients
/// for about 2 s of real time; the history passes the same linearizability checker as
/// simulated ones.
#[test]
fn linearizable_protocol_runs_live_and_its_history_is_linearizable() {
    use models::check::{check, CheckOptions, Model};
    use models::client::{Client, ClientConfig, ClientTimer, Routing};
    use models::kv::KvMsg;
    use models::linearizable::{self, Linearizable, Message, Replica};
    use models::op::{Op, Ret};
    use models::raft::Persistent;
    use models::workload::Workload;
    use sim_core::history::{Outcome, Recorder};

    let history: Recorder<Op, Ret> = Recorder::new();
    let rec = history.clone();
    actix::System::new().block_on(async move {
        let mut cluster: LiveCluster<KvMsg<Message>> = LiveCluster::new(7);
        let replicas: Vec<NodeId> = (0..3).map(NodeId).collect();
        let cfg = Linearizable::default();
        for _ in &replicas {
            let (replicas, cfg) = (replicas.clone(), cfg.clone());
            cluster.add_node(Persistent::default(), move |env, durable| {
                Replica::new(env, durable, &replicas, &cfg)
            });
        }
        let clients = 4;
        for c in 0..clients {
            let cfg = ClientConfig {
                index: c,
                clients,
                routing: Routing::Leader {
                    home: replicas[c as usize % replicas.len()],
                    replicas: replicas.clone(),
                },
                timeout: Duration::from_millis(500),
                workload: Workload {
                    keys: 3,
                    cas_fraction: 0.1,
                    ..Workload::default()
                },
                cas_supported: linearizable::CAS,
                // Clients compare this with the live clock (time since the cluster started).
                stop_at: SimTime::from_millis(2_000),
            };
            let rec = rec.clone();
            cluster.add_node((), move |env, _: Durable<()>| {
                let env: actsim::live::LiveEnv<KvMsg<Message>, ClientTimer> = env;
                Client::new(env, cfg.clone(), rec.clone())
            });
        }
        // Let the last operations complete or time out.
        actix::clock::sleep(Duration::from_millis(2_700)).await;
    });
    let h = history.take();
    let ops = h.operations().expect("well-formed history");
    let ok = ops
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
        .count();
    let verdict = check(Model::Linearizable, &h, &[], &CheckOptions::default());
    assert!(
        verdict.is_valid(),
        "live history not linearizable: {verdict:?}"
    );
    // An election takes a few hundred ms, then operations take about a ms each.
    assert!(ok >= 100, "only {ok} of {} operations ok", ops.len());
    eprintln!("live linearizable: {ok} of {} operations ok", ops.len());
}
