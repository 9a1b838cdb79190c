//! The simulation: nodes, the event loop, faults applied to nodes, and run control.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use std::time::Duration;

use actix::{Actor, Addr, Context, Handler};
use futures::Future;
use rand_pcg::Pcg64;

use crate::clock::ClockModel;
use crate::env::{Durable, Effect, NodeCtx, Payload, Shared, SimEnv, Timeout, TimerId};
use crate::error::SimError;
use crate::hash::stable_hash;
use crate::host::{ActorHost, Host, Polled};
use crate::network::{Arrival, DropCause, Network, Outbox, Packet, PerfectNetwork};
use crate::rng::{stream, Purpose};
use crate::trace::{Counters, Kind, TraceHash, Tracer};
use crate::{Deliver, NodeId, SimTime};

/// A closure run at a scheduled virtual time with the whole simulation in hand (faults, test
/// steps, workload phases).
pub type Control<M> = Box<dyn FnOnce(&mut Sim<M>)>;

pub(crate) enum Event<M> {
    /// A packet reaches its destination; the network still decides its fate.
    Arrive(Packet<M>),
    /// A packet the network already let through (held while its destination was paused).
    Admitted(Packet<M>),
    Timer {
        node: NodeId,
        id: TimerId,
        incarnation: u32,
    },
    Poll {
        node: NodeId,
        incarnation: u32,
    },
    Control(&'static str, Control<M>),
}

/// Whether a node is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeStatus {
    /// Running: receives messages and timers.
    Up,
    /// Paused: deliveries and timers are held until resume.
    Paused,
    /// Crashed (or the actor stopped itself): messages to it are dropped.
    Down,
}

struct Node<M> {
    name: String,
    ctx: Rc<NodeCtx>,
    host: Box<dyn Host<M>>,
    status: NodeStatus,
    incarnation: u32,
    held: VecDeque<Event<M>>,
}

/// What a finished (or stopped) run reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    /// The master seed.
    pub seed: u64,
    /// The trace hash.
    pub trace_hash: TraceHash,
    /// Virtual time at the end.
    pub end_time: SimTime,
    /// Counters.
    pub counters: Counters,
}

/// A deterministic simulation of actix actors exchanging messages of type `M`.
///
/// ```
/// use actix::{Actor, Context, Handler};
/// use sim_core::{Deliver, Env, Sim, SimEnv, Durable, Timeout, NodeId};
///
/// struct Echo<E> { env: E }
/// impl<E: Env<Msg = u32, Timer = ()>> Actor for Echo<E> { type Context = Context<Self>; }
/// impl<E: Env<Msg = u32, Timer = ()>> Handler<Deliver<u32>> for Echo<E> {
///     type Result = ();
///     fn handle(&mut self, d: Deliver<u32>, _: &mut Context<Self>) {
///         if d.msg > 0 { self.env.send(d.from, d.msg - 1); }
///     }
/// }
/// impl<E: Env<Msg = u32, Timer = ()>> Handler<Timeout<()>> for Echo<E> {
///     type Result = ();
///     fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {}
/// }
///
/// let mut sim: Sim<u32> = Sim::new(42);
/// let a = sim.add_node("a", (), |env: SimEnv<u32, ()>, _: Durable<()>| Echo { env });
/// let b = sim.add_node("b", (), |env: SimEnv<u32, ()>, _: Durable<()>| Echo { env });
/// sim.post(a, b, 10);
/// sim.run_until_quiescent().unwrap();
/// assert_eq!(sim.counters().delivered, 11);
/// ```
pub struct Sim<M> {
    seed: u64,
    shared: Rc<Shared<M>>,
    nodes: Vec<Node<M>>,
    network: Box<dyn Network<M>>,
    net_rng: Pcg64,
    /// The network's outbox, which holds the event queue (`outbox.queue`).
    outbox: Outbox<M>,
    effects: Vec<Effect<M>>,
    any_woken: Arc<AtomicBool>,
    counters: Counters,
    tracer: Tracer,
    failure: Option<SimError>,
    event_limit: u64,
    /// The kind function of coverage, when coverage is on.
    kind: Option<fn(&M) -> u64>,
    /// The current instant and how many events ran at it (the livelock guard).
    instant: (SimTime, u64),
}

/// Events at one virtual instant after which the run is a livelock: far more than any
/// protocol does at once (a broadcast to thousands of nodes is thousands of events).
const LIVELOCK_EVENTS: u64 = 1 << 22;

impl<M: Payload> fmt::Debug for Sim<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("now", &self.now())
            .field("nodes", &self.nodes.len())
            .field("queued", &self.outbox.queue.len())
            .finish()
    }
}

impl<M: Payload> Sim<M> {
    /// A simulation with a perfect network (1 ms latency, no faults).
    pub fn new(seed: u64) -> Self {
        Self::with_network(seed, PerfectNetwork::default())
    }

    /// A simulation whose messages go through `network`.
    pub fn with_network(seed: u64, network: impl Network<M>) -> Self {
        Sim {
            seed,
            shared: Rc::new(Shared::new()),
            nodes: Vec::new(),
            network: Box::new(network),
            net_rng: stream(seed, Purpose::Network),
            outbox: Outbox::new(),
            effects: Vec::new(),
            any_woken: Arc::new(AtomicBool::new(false)),
            counters: Counters::default(),
            tracer: Tracer::new(),
            failure: None,
            event_limit: u64::MAX,
            kind: None,
            instant: (SimTime::ZERO, 0),
        }
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Current virtual time.
    pub fn now(&self) -> SimTime {
        self.shared.now.get()
    }

    /// Moves the clock (the actors' and the network's view of it).
    #[inline]
    fn set_now(&mut self, t: SimTime) {
        self.shared.now.set(t);
        self.outbox.now = t;
    }

    /// Counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The trace hash of everything executed so far.
    pub fn trace_hash(&self) -> TraceHash {
        self.tracer.hash()
    }

    /// Seed, trace hash, time and counters.
    pub fn summary(&self) -> RunSummary {
        RunSummary {
            seed: self.seed,
            trace_hash: self.trace_hash(),
            end_time: self.now(),
            counters: self.counters.clone(),
        }
    }

    /// The error that ended the run, if any.
    pub fn failure(&self) -> Option<&SimError> {
        self.failure.as_ref()
    }

    /// A fresh random stream for `purpose`, derived from the seed (e.g. a workload generator).
    pub fn rng(&self, purpose: Purpose) -> Pcg64 {
        stream(self.seed, purpose)
    }

    /// Ends the run with [`SimError::EventLimit`] after `limit` events (a livelock guard).
    pub fn set_event_limit(&mut self, limit: u64) {
        self.event_limit = limit;
    }

    /// Writes every executed event as a JSON line to `w`: `i` (event number), `t` (virtual
    /// ns), `time`, `event`, `node`, `peer` (the sender of a delivery or drop), `detail`, and for
    /// deliveries `sent_t` (virtual ns when the message was sent).
    pub fn set_trace_writer(&mut self, w: impl Write + 'static) {
        self.tracer.set_writer(Box::new(w));
    }

    /// Turns BUGGIFY fault points on ([`Env::buggify`](crate::Env::buggify)): which sites are
    /// enabled, and when they fire, follows from the seed.
    pub fn enable_buggify(&mut self) {
        use rand::RngCore;
        let key = stream(self.seed, Purpose::Custom(0x0b06_61f7)).next_u64();
        self.shared.buggify.set(Some(key));
    }

    /// Records coverage ([`crate::coverage`]): the edges between the kinds of each node's
    /// consecutive deliveries and timers (`kind` names a message's kind; for an enum, its
    /// variant is a good one), and the points protocols report with
    /// [`Env::cover`](crate::Env::cover). Read it with [`Sim::take_coverage`].
    ///
    /// ```
    /// use sim_core::Sim;
    /// let mut sim: Sim<u32> = Sim::new(1);
    /// sim.enable_coverage(|m| u64::from(*m % 2));
    /// assert!(sim.take_coverage().is_some_and(|c| c.points().is_empty()));
    /// ```
    pub fn enable_coverage(&mut self, kind: fn(&M) -> u64) {
        self.kind = Some(kind);
        *self.shared.coverage.borrow_mut() = Some(crate::coverage::Recorder::new());
    }

    /// The coverage recorded so far (`None` unless [`Sim::enable_coverage`] was called);
    /// recording stops.
    pub fn take_coverage(&mut self) -> Option<crate::coverage::Coverage> {
        self.kind = None;
        self.shared.coverage.borrow_mut().take().map(|r| r.coverage)
    }

    /// Keeps each event's own hash, so two runs can be compared event by event.
    pub fn keep_event_hashes(&mut self) {
        self.tracer.keep_event_hashes();
    }

    /// The per-event hashes kept since [`Sim::keep_event_hashes`].
    pub fn event_hashes(&self) -> Option<&[u64]> {
        self.tracer.event_hashes()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Every node id, in order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// A node's name.
    pub fn node_name(&self, node: NodeId) -> Option<&str> {
        self.nodes.get(node.index()).map(|n| n.name.as_str())
    }

    /// A node's status.
    pub fn status(&self, node: NodeId) -> Option<NodeStatus> {
        self.nodes.get(node.index()).map(|n| n.status)
    }

    /// Adds a node whose actor is built by `factory` from its env and durable state. The
    /// factory runs again, with the same durable state, every time the node restarts.
    /// The actor's `started()` runs at the current virtual time.
    pub fn add_node<A, T, S, F>(
        &mut self,
        name: impl Into<String>,
        durable: S,
        factory: F,
    ) -> NodeId
    where
        A: Actor<Context = Context<A>> + Handler<Deliver<M>> + Handler<Timeout<T>>,
        T: Payload,
        S: 'static,
        F: Fn(SimEnv<M, T>, Durable<S>) -> A + 'static,
    {
        let id = NodeId(self.nodes.len() as u32);
        let ctx = Rc::new(NodeCtx {
            id,
            clock: std::cell::Cell::new(ClockModel::default()),
            rng: RefCell::new(stream(self.seed, Purpose::Node(id.0))),
            key_seed: crate::rng::node_key_seed(self.seed, id.0),
            buggify_calls: std::cell::Cell::new(0),
        });
        let host = ActorHost::new(
            Rc::new(factory),
            Durable::new(durable),
            Rc::clone(&self.shared),
            Rc::clone(&ctx),
            Arc::clone(&self.any_woken),
        );
        self.nodes.push(Node {
            name: name.into(),
            ctx,
            host: Box::new(host),
            status: NodeStatus::Up,
            incarnation: 0,
            held: VecDeque::new(),
        });
        self.outbox.queue.push(
            self.now(),
            Event::Poll {
                node: id,
                incarnation: 0,
            },
        );
        id
    }

    fn node(&self, node: NodeId) -> Result<&Node<M>, SimError> {
        self.nodes
            .get(node.index())
            .ok_or(SimError::UnknownNode(node))
    }

    /// Sends `msg` from `from` to `to` through the network, as if `from` had sent it.
    pub fn post(&mut self, from: NodeId, to: NodeId, msg: M) {
        self.counters.sent += 1;
        self.route(from, to, msg);
    }

    /// Runs `f` at virtual time `at` (or now, if `at` is past) with the simulation in hand.
    /// `label` names it in the trace.
    pub fn schedule(
        &mut self,
        at: SimTime,
        label: &'static str,
        f: impl FnOnce(&mut Sim<M>) + 'static,
    ) {
        let at = at.max(self.now());
        self.outbox
            .queue
            .push(at, Event::Control(label, Box::new(f)));
    }

    /// Records a fault applied from outside the kernel (a partition, a link change) in the
    /// trace, the counters and the log.
    pub fn record_fault(&mut self, node: Option<NodeId>, description: &str) {
        self.counters.faults += 1;
        tracing::info!(target: "actsim::fault", "fault: {description}");
        self.tracer.record(
            self.now(),
            Kind::Fault,
            node,
            None,
            stable_hash(description),
            &|| description.to_string(),
        );
    }

    /// Gives `f` the network as its concrete type `N` (for fault injection), with the current
    /// time and an outbox for packets it releases. `None` if the network is not an `N`.
    pub fn control_network<N: Network<M>, R>(
        &mut self,
        f: impl FnOnce(&mut N, SimTime, &mut Outbox<M>) -> R,
    ) -> Option<R> {
        let now = self.now();
        let net = self.network.as_any_mut().downcast_mut::<N>()?;
        let r = f(net, now, &mut self.outbox);
        self.drain_outbox();
        Some(r)
    }

    /// Crashes `node`: its actor is dropped (volatile state lost), its timers are cancelled
    /// and messages in flight to it will be dropped. Its durable state stays.
    pub fn crash(&mut self, node: NodeId) -> Result<(), SimError> {
        self.node(node)?;
        let now = self.now();
        let n = &mut self.nodes[node.index()];
        // Down means the actor is gone already (crashed, panicked or stopped itself).
        if n.status == NodeStatus::Down {
            return Ok(());
        }
        n.status = NodeStatus::Down;
        n.incarnation += 1;
        n.held.clear();
        let host = &mut n.host;
        let r = catch_unwind(AssertUnwindSafe(|| host.crash()));
        // Whatever the actor emitted while stopping never left the crashed process.
        self.shared.effects.borrow_mut().clear();
        self.counters.crashes += 1;
        tracing::info!(target: "actsim::fault", "crash {node}");
        self.tracer
            .record(now, Kind::Crash, Some(node), None, 0, &|| String::new());
        if let Err(p) = r {
            return Err(self.fail_panic(node, "crash (actor stopping)", p));
        }
        Ok(())
    }

    /// Restarts `node` with a fresh actor from its factory and the same durable state (a
    /// running node is crashed first).
    pub fn restart(&mut self, node: NodeId) -> Result<(), SimError> {
        self.crash(node)?;
        let now = self.now();
        let n = &mut self.nodes[node.index()];
        let ctx = Rc::clone(&n.ctx);
        let host = &mut n.host;
        let r = catch_unwind(AssertUnwindSafe(|| host.restart(ctx)));
        n.status = NodeStatus::Up;
        let inc = n.incarnation;
        if let Some(r) = self.shared.coverage.borrow_mut().as_mut() {
            r.restart(node.index());
        }
        self.counters.restarts += 1;
        tracing::info!(target: "actsim::fault", "restart {node}");
        self.tracer
            .record(now, Kind::Restart, Some(node), None, 0, &|| String::new());
        if let Err(p) = r {
            return Err(self.fail_panic(node, "restart (factory)", p));
        }
        self.outbox.queue.push(
            now,
            Event::Poll {
                node,
                incarnation: inc,
            },
        );
        Ok(())
    }

    /// Pauses `node`: messages and timers for it are held (in order) until [`Sim::resume`].
    pub fn pause(&mut self, node: NodeId) -> Result<(), SimError> {
        self.node(node)?;
        let now = self.now();
        let n = &mut self.nodes[node.index()];
        if n.status == NodeStatus::Up {
            n.status = NodeStatus::Paused;
            self.counters.faults += 1;
            tracing::info!(target: "actsim::fault", "pause {node}");
            self.tracer
                .record(now, Kind::Pause, Some(node), None, 0, &|| String::new());
        }
        Ok(())
    }

    /// Resumes a paused node: held messages and timers are delivered now, in the order they
    /// arrived.
    pub fn resume(&mut self, node: NodeId) -> Result<(), SimError> {
        self.node(node)?;
        let now = self.now();
        let n = &mut self.nodes[node.index()];
        if n.status == NodeStatus::Paused {
            n.status = NodeStatus::Up;
            for ev in n.held.drain(..) {
                self.outbox.queue.push(now, ev);
            }
            tracing::info!(target: "actsim::fault", "resume {node}");
            self.tracer
                .record(now, Kind::Resume, Some(node), None, 0, &|| String::new());
        }
        Ok(())
    }

    /// Sets `node`'s clock: `offset` from true time and `drift_ppm` rate error.
    pub fn set_clock(&mut self, node: NodeId, clock: ClockModel) -> Result<(), SimError> {
        self.node(node)?;
        if clock.drift_ppm <= -1_000_000 {
            return Err(SimError::config(
                "drift_ppm",
                format!("{} would stop or reverse the clock", clock.drift_ppm),
            ));
        }
        let now = self.now();
        self.nodes[node.index()].ctx.clock.set(clock);
        self.counters.faults += 1;
        tracing::info!(target: "actsim::fault", "clock {node} offset={}ns drift={}ppm", clock.offset_ns, clock.drift_ppm);
        self.tracer.record(
            now,
            Kind::Clock,
            Some(node),
            None,
            stable_hash(&clock),
            &|| format!("{clock:?}"),
        );
        Ok(())
    }

    /// A node's clock model.
    pub fn clock(&self, node: NodeId) -> Option<ClockModel> {
        self.nodes.get(node.index()).map(|n| n.ctx.clock.get())
    }

    /// The durable state of `node`, if it is an `S`.
    pub fn durable<S: 'static>(&self, node: NodeId) -> Option<Durable<S>> {
        let n = self.nodes.get(node.index())?;
        n.host
            .durable_any()
            .downcast::<Durable<S>>()
            .ok()
            .map(|b| *b)
    }

    /// The actix address of `node`'s actor, if it is running and is an `A`.
    pub fn addr<A: Actor<Context = Context<A>>>(&self, node: NodeId) -> Option<Addr<A>> {
        let n = self.nodes.get(node.index())?;
        n.host.addr_any()?.downcast::<Addr<A>>().ok().map(|b| *b)
    }

    /// Sends an actix message `q` to `node`'s actor, runs its handler now, and returns the
    /// handler's result: a way for tests to inspect or poke an actor. Effects the handler emits
    /// are applied as usual.
    pub fn ask<A, Q>(&mut self, node: NodeId, q: Q) -> Result<Q::Result, SimError>
    where
        A: Actor<Context = Context<A>> + Handler<Q>,
        Q: actix::Message + Send + 'static,
        Q::Result: Send,
    {
        self.check_failed()?;
        let addr = self.addr::<A>(node).ok_or_else(|| SimError::NodeState {
            node,
            reason: "not running, or not an actor of that type".into(),
        })?;
        let req = addr.send(q);
        let now = self.now();
        crate::log::set_current(now, Some(node));
        let polled = self.run_host(node, "ask", |h| h.poll())?;
        self.after_handler(node, polled);
        let waker = futures::task::noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        match std::pin::pin!(req).poll(&mut cx) {
            Poll::Ready(Ok(r)) => Ok(r),
            _ => Err(SimError::NodeState {
                node,
                reason: "the actor did not answer (stopped or busy)".into(),
            }),
        }
    }

    fn check_failed(&self) -> Result<(), SimError> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Executes the next event. Returns `Ok(false)` when nothing is left to run.
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.check_failed()?;
        let Some((time, ev)) = self.outbox.queue.pop() else {
            return Ok(false);
        };
        self.set_now(time);
        self.execute(time, ev);
        if time == self.instant.0 {
            self.instant.1 += 1;
            if self.instant.1 >= LIVELOCK_EVENTS && self.failure.is_none() {
                self.failure = Some(SimError::Livelock {
                    seed: self.seed,
                    time,
                    events: self.instant.1,
                });
            }
        } else {
            self.instant = (time, 0);
        }
        if self.failure.is_some() || self.counters.events >= self.event_limit {
            return Err(self.end_of_run(time));
        }
        Ok(true)
    }

    /// The error that ends the run after the event at `time`: the event's failure, or else the
    /// event limit.
    #[cold]
    fn end_of_run(&mut self, time: SimTime) -> SimError {
        self.failure
            .get_or_insert(SimError::EventLimit {
                seed: self.seed,
                limit: self.event_limit,
                time,
            })
            .clone()
    }

    /// Runs every event up to and including time `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) -> Result<(), SimError> {
        while matches!(self.outbox.queue.peek_time(), Some(next) if next <= t) {
            self.step()?;
        }
        if t > self.now() {
            self.set_now(t);
        }
        self.check_failed()
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) -> Result<(), SimError> {
        self.run_until(self.now() + d)
    }

    /// Runs until no event is left (beware periodic timers: see [`Sim::set_event_limit`]).
    pub fn run_until_quiescent(&mut self) -> Result<(), SimError> {
        while self.step()? {}
        Ok(())
    }

    /// Runs while `keep_going` holds (checked before each event) and events remain.
    pub fn run_while(
        &mut self,
        mut keep_going: impl FnMut(&Sim<M>) -> bool,
    ) -> Result<(), SimError> {
        while keep_going(self) {
            if !self.step()? {
                break;
            }
        }
        Ok(())
    }

    /// Flushes the trace file and reports a write error, if any.
    pub fn finish_trace(&mut self) -> Result<(), SimError> {
        self.tracer.flush();
        match self.tracer.write_error() {
            Some(e) => Err(SimError::Trace(e.to_string())),
            None => Ok(()),
        }
    }

    fn execute(&mut self, time: SimTime, ev: Event<M>) {
        match ev {
            Event::Arrive(p) => self.arrive(time, p),
            Event::Admitted(p) => self.admitted(time, p),
            Event::Timer {
                node,
                id,
                incarnation,
            } => {
                let n = &mut self.nodes[node.index()];
                if n.incarnation != incarnation || n.status == NodeStatus::Down {
                    return;
                }
                if n.status == NodeStatus::Paused {
                    n.held.push_back(Event::Timer {
                        node,
                        id,
                        incarnation,
                    });
                    return;
                }
                crate::log::set_current(time, Some(node));
                if self.kind.is_some() {
                    if let Some(r) = self.shared.coverage.borrow_mut().as_mut() {
                        r.timer(node.index(), time);
                    }
                }
                let polled = match self.run_host(node, "timer", |h| h.fire(id)) {
                    Ok(Polled::Idle) | Err(_) => return,
                    Ok(polled) => polled,
                };
                self.counters.events += 1;
                self.counters.timers_fired += 1;
                self.tracer
                    .record(time, Kind::Timer, Some(node), None, id.0, &|| {
                        format!("timer {}", id.0)
                    });
                self.after_handler(node, polled);
            }
            Event::Poll { node, incarnation } => {
                let n = &mut self.nodes[node.index()];
                if n.incarnation != incarnation || n.status == NodeStatus::Down {
                    return;
                }
                if n.status == NodeStatus::Paused {
                    n.held.push_back(Event::Poll { node, incarnation });
                    return;
                }
                crate::log::set_current(time, Some(node));
                self.counters.events += 1;
                self.counters.polls += 1;
                let kind = if self.counters.polls <= self.nodes.len() as u64 {
                    Kind::Start
                } else {
                    Kind::Poll
                };
                self.tracer
                    .record(time, kind, Some(node), None, 0, &String::new);
                if let Ok(polled) = self.run_host(node, "poll", |h| h.poll()) {
                    self.after_handler(node, polled);
                }
            }
            Event::Control(label, f) => {
                crate::log::set_current(time, None);
                self.counters.events += 1;
                self.tracer
                    .record(time, Kind::Control, None, None, stable_hash(label), &|| {
                        label.to_string()
                    });
                f(self);
                self.apply_effects();
                self.process_wakes();
            }
        }
    }

    /// True if `p` can no longer reach a live incarnation of its destination (counted as a drop).
    /// A node that crashed, or whose actor stopped itself, has a new incarnation.
    #[inline]
    fn dead_letter(&mut self, p: &Packet<M>) -> bool {
        let n = &self.nodes[p.to.index()];
        let dead = n.incarnation != p.incarnation || n.status == NodeStatus::Down;
        if dead {
            self.count_drop(p.from, p.to, DropCause::Crashed);
        }
        dead
    }

    #[inline(always)]
    fn arrive(&mut self, time: SimTime, p: Packet<M>) {
        if self.dead_letter(&p) {
            return;
        }
        let (from, to) = (p.from, p.to);
        let arrival = self.network.on_arrival(time, p, &mut self.outbox);
        self.drain_outbox();
        match arrival {
            // Nothing ran since the dead-letter check: hand it over.
            Arrival::Deliver(p) => self.hand_over(time, p),
            Arrival::Drop(cause) => self.count_drop(from, to, cause),
            Arrival::Held => {}
        }
    }

    /// A packet the network let through earlier (held while its destination was paused).
    fn admitted(&mut self, time: SimTime, p: Packet<M>) {
        if !self.dead_letter(&p) {
            self.hand_over(time, p);
        }
    }

    /// Hands a live packet to its destination, or holds it while the destination is paused
    /// (a paused process's socket buffer: it is delivered on resume whatever the network does
    /// meanwhile, in arrival order).
    #[inline(always)]
    fn hand_over(&mut self, time: SimTime, p: Packet<M>) {
        let (from, to) = (p.from, p.to);
        let n = &mut self.nodes[to.index()];
        if n.status == NodeStatus::Paused {
            n.held.push_back(Event::Admitted(p));
            return;
        }
        crate::log::set_current(time, Some(to));
        self.counters.events += 1;
        self.counters.delivered += 1;
        let msg = &p.msg;
        self.tracer.record_sent(
            time,
            Kind::Deliver,
            Some(to),
            Some(from),
            p.fingerprint,
            Some(p.sent_at),
            &|| format!("{msg:?}"),
        );
        if let Some(kind) = self.kind {
            if let Some(r) = self.shared.coverage.borrow_mut().as_mut() {
                r.event(to.index(), kind(msg), time);
            }
        }
        let d = Deliver { from, msg: p.msg };
        if let Ok(polled) = self.run_host(to, "message", move |h| h.deliver(d)) {
            self.after_handler(to, polled);
        }
    }

    /// Runs `f` on a node's host, catching a panic of the actor.
    #[inline(always)]
    fn run_host(
        &mut self,
        node: NodeId,
        what: &'static str,
        f: impl FnOnce(&mut dyn Host<M>) -> Polled,
    ) -> Result<Polled, SimError> {
        let host = &mut *self.nodes[node.index()].host;
        catch_unwind(AssertUnwindSafe(|| f(host))).map_err(|p| self.fail_panic(node, what, p))
    }

    /// Records an actor panic as the run's failure, takes the node down, and returns the failure.
    fn fail_panic(&mut self, node: NodeId, what: &str, payload: Box<dyn Any + Send>) -> SimError {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        let name = self.nodes[node.index()].name.clone();
        // The actor's state is suspect after a panic: take it down.
        let n = &mut self.nodes[node.index()];
        n.status = NodeStatus::Down;
        n.incarnation += 1;
        let host = &mut n.host;
        let _ = catch_unwind(AssertUnwindSafe(|| host.crash()));
        self.shared.effects.borrow_mut().clear();
        if self.failure.is_none() {
            self.failure = Some(SimError::ActorPanic {
                seed: self.seed,
                node,
                name,
                time: self.now(),
                event: format!("{what} (event #{})", self.counters.events),
                message,
            });
        }
        self.failure.clone().unwrap_or(SimError::UnknownNode(node))
    }

    /// Applies what `node`'s actor did: its effects, wake-ups, and its exit if it stopped itself.
    #[inline(always)]
    fn after_handler(&mut self, node: NodeId, polled: Polled) {
        self.apply_effects();
        if polled == Polled::Stopped {
            // Like a process that exited: what is in flight to it, or held for it, is dropped.
            let n = &mut self.nodes[node.index()];
            n.status = NodeStatus::Down;
            n.incarnation += 1;
            n.held.clear();
        }
        self.process_wakes();
    }

    fn process_wakes(&mut self) {
        // Plain loads first: a locked swap on every event would cost more than the check.
        if !self.any_woken.load(Ordering::Relaxed) {
            return;
        }
        self.any_woken.store(false, Ordering::Relaxed);
        let now = self.now();
        for (i, n) in self.nodes.iter().enumerate() {
            let woken = &n.host.waker().woken;
            if woken.load(Ordering::Relaxed) && {
                woken.store(false, Ordering::Relaxed);
                n.status != NodeStatus::Down
            } {
                self.outbox.queue.push(
                    now,
                    Event::Poll {
                        node: NodeId(i as u32),
                        incarnation: n.incarnation,
                    },
                );
            }
        }
    }

    #[inline(always)]
    fn apply_effects(&mut self) {
        // Most handlers (a gossip received, a reply consumed) emit nothing: skip the swap.
        if self.shared.effects.borrow().is_empty() {
            return;
        }
        self.apply_pending_effects();
    }

    #[inline(never)]
    fn apply_pending_effects(&mut self) {
        let mut effects = std::mem::take(&mut self.effects);
        std::mem::swap(&mut effects, &mut *self.shared.effects.borrow_mut());
        for e in effects.drain(..) {
            match e {
                Effect::Send { from, to, msg } => {
                    self.counters.sent += 1;
                    self.route(from, to, msg);
                }
                Effect::SetTimer { node, id, after } => {
                    let n = &self.nodes[node.index()];
                    let at = self.now() + n.ctx.clock.get().true_duration(after);
                    self.counters.timers_set += 1;
                    self.outbox.queue.push(
                        at,
                        Event::Timer {
                            node,
                            id,
                            incarnation: n.incarnation,
                        },
                    );
                }
                Effect::CancelTimer => self.counters.timers_cancelled += 1,
            }
        }
        self.effects = effects;
    }

    #[inline]
    fn route(&mut self, from: NodeId, to: NodeId, msg: M) {
        let Some(n) = self.nodes.get(to.index()) else {
            self.count_drop(from, to, DropCause::UnknownNode);
            return;
        };
        let packet = Packet {
            from,
            to,
            sent_at: self.now(),
            fingerprint: stable_hash(&msg),
            msg,
            incarnation: n.incarnation,
        };
        self.network
            .on_send(self.now(), packet, &mut self.net_rng, &mut self.outbox);
        self.drain_outbox();
    }

    /// Counts and traces the drops the network reported; its deliveries are already queued.
    #[inline]
    fn drain_outbox(&mut self) {
        if !self.outbox.drops.is_empty() {
            let now = self.now();
            for (from, to, cause) in self.outbox.drops.drain(..) {
                record_drop(&mut self.counters, &mut self.tracer, now, from, to, cause);
            }
        }
        self.counters.duplicated += std::mem::take(&mut self.outbox.duplicates);
    }

    fn count_drop(&mut self, from: NodeId, to: NodeId, cause: DropCause) {
        let now = self.now();
        record_drop(&mut self.counters, &mut self.tracer, now, from, to, cause);
    }
}

/// Counts and traces a dropped message.
#[cold]
fn record_drop(
    counters: &mut Counters,
    tracer: &mut Tracer,
    now: SimTime,
    from: NodeId,
    to: NodeId,
    cause: DropCause,
) {
    counters.dropped[cause.index()] += 1;
    tracing::trace!(target: "actsim::net", "drop {from}->{to}: {cause}");
    tracer.record(
        now,
        Kind::Drop,
        Some(to),
        Some(from),
        cause.index() as u64,
        &|| cause.name().to_string(),
    );
}
