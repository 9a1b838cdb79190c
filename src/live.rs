//! Live mode: the same actors on an ordinary actix `System`, with the real clock.
//!
//! A [`LiveCluster`] mirrors [`sim_core::Sim::add_node`]: nodes are built by factories from a
//! [`LiveEnv`] and their durable state, and exchange messages by in-process delivery (no
//! faults). Timers are real (`actix::clock::sleep`). Histories recorded by clients are checked by
//! the same checkers as simulated ones: this is how a protocol tested in simulation is shown to
//! run unchanged on a real runtime.

use std::cell::{RefCell, RefMut};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Recipient};
use rand_pcg::Pcg64;
use sim_core::rng::{stream, Purpose};
use sim_core::{Deliver, Durable, Env, NodeId, Payload, SimTime, Timeout, TimerId};

struct Directory<M: Payload> {
    nodes: RefCell<Vec<Recipient<Deliver<M>>>>,
    start: Instant,
    next_timer: std::cell::Cell<u64>,
}

/// The live [`Env`]: real time, in-process delivery, real timers.
pub struct LiveEnv<M: Payload, T: Payload> {
    me: NodeId,
    dir: Rc<Directory<M>>,
    timers: Recipient<Timeout<T>>,
    pending: Rc<RefCell<BTreeSet<TimerId>>>,
    rng: RefCell<Pcg64>,
    key_seed: u64,
}

impl<M: Payload, T: Payload> Env for LiveEnv<M, T> {
    type Msg = M;
    type Timer = T;

    fn me(&self) -> NodeId {
        self.me
    }

    fn now(&self) -> SimTime {
        self.elapsed()
    }

    fn elapsed(&self) -> SimTime {
        SimTime::from_nanos(u64::try_from(self.dir.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn send(&self, to: NodeId, msg: M) {
        if let Some(r) = self.dir.nodes.borrow().get(to.index()) {
            r.do_send(Deliver { from: self.me, msg });
        }
    }

    fn set_timer(&self, after: Duration, tag: T) -> TimerId {
        let id = TimerId(self.dir.next_timer.get());
        self.dir.next_timer.set(id.0 + 1);
        self.pending.borrow_mut().insert(id);
        let (target, pending) = (self.timers.clone(), Rc::clone(&self.pending));
        actix::spawn(async move {
            actix::clock::sleep(after).await;
            if pending.borrow_mut().remove(&id) {
                target.do_send(Timeout { id, tag });
            }
        });
        id
    }

    fn cancel_timer(&self, id: TimerId) {
        self.pending.borrow_mut().remove(&id);
    }

    fn rng(&self) -> RefMut<'_, Pcg64> {
        self.rng.borrow_mut()
    }

    fn key_seed(&self) -> u64 {
        self.key_seed
    }
}

/// A set of nodes running live on the current actix `System`.
///
/// ```no_run
/// # use actsim::live::LiveCluster;
/// actix::System::new().block_on(async {
///     let mut cluster: LiveCluster<u32> = LiveCluster::new(1);
///     // cluster.add_node("a", (), |env, durable| MyActor::new(env, durable));
///     actix::clock::sleep(std::time::Duration::from_millis(100)).await;
/// });
/// ```
pub struct LiveCluster<M: Payload> {
    seed: u64,
    dir: Rc<Directory<M>>,
}

impl<M: Payload> LiveCluster<M> {
    /// An empty cluster; `seed` seeds each node's random stream (the run itself is not
    /// deterministic: real time and the runtime's scheduling decide).
    pub fn new(seed: u64) -> Self {
        LiveCluster {
            seed,
            dir: Rc::new(Directory {
                nodes: RefCell::new(Vec::new()),
                start: Instant::now(),
                next_timer: 0.into(),
            }),
        }
    }

    /// Starts a node built by `factory`, on the current actix arbiter. Must be called inside a
    /// running `System`.
    pub fn add_node<A, T, S, F>(&mut self, durable: S, factory: F) -> NodeId
    where
        A: Actor<Context = Context<A>> + Handler<Deliver<M>> + Handler<Timeout<T>>,
        T: Payload,
        S: 'static,
        F: Fn(LiveEnv<M, T>, Durable<S>) -> A,
    {
        let me = NodeId(self.dir.nodes.borrow().len() as u32);
        let ctx: Context<A> = Context::new();
        let addr = ctx.address();
        let env = LiveEnv {
            me,
            dir: Rc::clone(&self.dir),
            timers: addr.clone().recipient(),
            pending: Rc::default(),
            rng: RefCell::new(stream(self.seed, Purpose::Node(me.0))),
            key_seed: sim_core::rng::node_key_seed(self.seed, me.0),
        };
        self.dir.nodes.borrow_mut().push(addr.recipient());
        ctx.run(factory(env, Durable::new(durable)));
        me
    }

    /// Time since the cluster was created.
    pub fn elapsed(&self) -> Duration {
        self.dir.start.elapsed()
    }
}
