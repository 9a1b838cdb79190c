//! Where the gossip benchmark's time goes: the workload alone, hosting in actix, the kernel.
//!
//! ```text
//! cargo run --release --example gossip_floor -- [--seed 1] [--deliveries 1000000] [--rounds 5]
//! ```
//!
//! Runs the very actors of `gossip_bench` (the same `Replica` and `Client`, generic over the
//! `Env`) three ways:
//!
//! - `direct`: a bare loop that does only the work itself (the kernel's event queue, a network
//!   drawing loss, duplication and a 1–10 ms delay from one seeded stream, the handlers called
//!   as plain methods with an unused `Context`) and nothing else: no trace hash, counters,
//!   dead-letter or pause checks, panic isolation, logging context or type-erased network. The
//!   issue's "direct-call loop": the workload's own cost;
//! - `hosted`: the same loop, but each actor lives in its own actix `ContextFut` and each event
//!   is a push onto its inlet and one poll, exactly as the kernel hosts actors. The most any
//!   kernel could reach on this workload while running real actix actors with `ctx.spawn`,
//!   `ctx.notify`, `ctx.wait` and `ResponseActFuture` working;
//! - `kernel`: `gossip_bench` itself, the workload under `sim_core::Sim`.
//!
//! `direct` and `hosted` run the same events (the program checks it); `kernel` runs the same
//! workload from its own seeded streams. Best of `--rounds` rounds each, so that the three are
//! measured in the same state of the machine; the last line is
//! `direct_events_per_sec=<n> hosted_events_per_sec=<n> kernel_events_per_sec=<n>`.
//! `--way direct|hosted|kernel` runs one way alone (for `valgrind --tool=callgrind`).

use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use actix::dev::{ContextFut, MessageResponse};
use actix::fut::ActorFuture;
use actix::{Actor, AsyncContext, Context, Handler};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sim_core::queue::EventQueue;
use sim_core::{Deliver, Env, NodeId, Sim, SimTime, Timeout, TimerId};

#[path = "common/gossip.rs"]
mod gossip;
use gossip::{arg, build, Client, Msg, Replica, SimpleNet, Tick, CLIENTS, REPLICAS};

/// What a handler asked for, applied after it returns (as the kernel does).
enum Effect {
    Send {
        from: NodeId,
        to: NodeId,
        msg: Msg,
    },
    Timer {
        node: NodeId,
        id: TimerId,
        after: Duration,
        tag: Tick,
    },
}

/// The state every env of a run shares.
struct World {
    now: Cell<SimTime>,
    effects: RefCell<Vec<Effect>>,
    next_timer: Cell<u64>,
    rngs: Vec<RefCell<Pcg64>>,
    seed: u64,
}

/// The least an [`Env`] can be: virtual time, a buffer of effects, a random stream per node.
struct FloorEnv {
    me: NodeId,
    world: Rc<World>,
}

impl Env for FloorEnv {
    type Msg = Msg;
    type Timer = Tick;

    fn me(&self) -> NodeId {
        self.me
    }
    fn now(&self) -> SimTime {
        self.world.now.get()
    }
    fn elapsed(&self) -> SimTime {
        self.world.now.get()
    }
    fn send(&self, to: NodeId, msg: Msg) {
        self.world.effects.borrow_mut().push(Effect::Send {
            from: self.me,
            to,
            msg,
        });
    }
    fn set_timer(&self, after: Duration, tag: Tick) -> TimerId {
        let id = TimerId(self.world.next_timer.get());
        self.world.next_timer.set(id.0 + 1);
        self.world.effects.borrow_mut().push(Effect::Timer {
            node: self.me,
            id,
            after,
            tag,
        });
        id
    }
    fn cancel_timer(&self, _: TimerId) {
        // The gossip actors never cancel a timer.
    }
    fn rng(&self) -> RefMut<'_, Pcg64> {
        self.world.rngs[self.me.0 as usize].borrow_mut()
    }
    fn key_seed(&self) -> u64 {
        sim_core::rng::node_key_seed(self.world.seed, self.me.0)
    }
}

/// One input for an actor.
enum Input {
    Deliver(Deliver<Msg>),
    Timeout(Timeout<Tick>),
}

/// One scheduled event: an input for a node.
type Ev = (NodeId, Input);

/// A node, however it runs its actor.
trait Node {
    /// Runs `started` (hosted: the first poll).
    fn start(&mut self);
    /// Hands `input` to the actor and runs its handler.
    fn input(&mut self, input: Input);
}

/// An actor called directly, with an unused context.
struct Direct<A: Actor<Context = Context<A>>> {
    actor: A,
    ctx: Context<A>,
}

impl<A> Node for Direct<A>
where
    A: Actor<Context = Context<A>> + Handler<Deliver<Msg>> + Handler<Timeout<Tick>>,
{
    fn start(&mut self) {
        self.actor.started(&mut self.ctx);
    }
    #[inline]
    fn input(&mut self, input: Input) {
        match input {
            // The gossip handlers answer `()`: there is no response to run.
            Input::Deliver(d) => {
                let _ = <A as Handler<Deliver<Msg>>>::handle(&mut self.actor, d, &mut self.ctx);
            }
            Input::Timeout(t) => {
                let _ = <A as Handler<Timeout<Tick>>>::handle(&mut self.actor, t, &mut self.ctx);
            }
        }
    }
}

type Inbox = Rc<RefCell<VecDeque<Input>>>;

/// The kernel's way in: an item in the actor's own context handing it queued inputs.
struct Inlet {
    inbox: Inbox,
}

impl<A> ActorFuture<A> for Inlet
where
    A: Actor<Context = Context<A>> + Handler<Deliver<Msg>> + Handler<Timeout<Tick>>,
{
    type Output = ();

    #[inline]
    fn poll(
        self: Pin<&mut Self>,
        act: &mut A,
        ctx: &mut Context<A>,
        _: &mut TaskContext<'_>,
    ) -> Poll<()> {
        while !ctx.waiting() {
            let next = self.inbox.borrow_mut().pop_front();
            match next {
                Some(Input::Deliver(d)) => {
                    <A as Handler<Deliver<Msg>>>::handle(act, d, ctx).handle(ctx, None)
                }
                Some(Input::Timeout(t)) => {
                    <A as Handler<Timeout<Tick>>>::handle(act, t, ctx).handle(ctx, None)
                }
                None => break,
            }
        }
        Poll::Pending
    }
}

/// An actor in its own `ContextFut`: one poll per input, as under the kernel.
struct Hosted<A: Actor<Context = Context<A>>> {
    fut: ContextFut<A, Context<A>>,
    inbox: Inbox,
}

impl<A> Hosted<A>
where
    A: Actor<Context = Context<A>> + Handler<Deliver<Msg>> + Handler<Timeout<Tick>>,
{
    fn new(actor: A) -> Self {
        let inbox: Inbox = Rc::default();
        let mut ctx = Context::new();
        ctx.spawn(Inlet {
            inbox: Rc::clone(&inbox),
        });
        Hosted {
            fut: ctx.into_future(actor),
            inbox,
        }
    }

    #[inline]
    fn poll(&mut self) {
        let mut cx = TaskContext::from_waker(Waker::noop());
        // The gossip actors never stop.
        let _ = Pin::new(&mut self.fut).poll(&mut cx);
    }
}

impl<A> Node for Hosted<A>
where
    A: Actor<Context = Context<A>> + Handler<Deliver<Msg>> + Handler<Timeout<Tick>>,
{
    fn start(&mut self) {
        self.poll();
    }
    #[inline]
    fn input(&mut self, input: Input) {
        self.inbox.borrow_mut().push_back(input);
        self.poll();
    }
}

/// What a run did, to check that both ways ran the same events.
#[derive(Debug, PartialEq, Eq)]
struct Tally {
    events: u64,
    delivered: u64,
    dropped: u64,
    duplicated: u64,
    timers: u64,
    end: SimTime,
}

/// The shared state of one run, with a random stream per node.
fn world(seed: u64) -> Rc<World> {
    let n = u64::from(REPLICAS + CLIENTS);
    Rc::new(World {
        now: Cell::new(SimTime::ZERO),
        effects: RefCell::new(Vec::new()),
        next_timer: Cell::new(0),
        rngs: (0..n)
            .map(|i| RefCell::new(Pcg64::seed_from_u64(seed ^ (i + 1))))
            .collect(),
        seed,
    })
}

/// Builds the 8 nodes one way.
fn nodes(world: &Rc<World>, hosted: bool) -> Vec<Box<dyn Node>> {
    let env = |i: u32| FloorEnv {
        me: NodeId(i),
        world: Rc::clone(world),
    };
    let mut v: Vec<Box<dyn Node>> = Vec::new();
    for i in 0..REPLICAS + CLIENTS {
        let node: Box<dyn Node> = match (i < REPLICAS, hosted) {
            (true, false) => Box::new(Direct {
                actor: Replica::new(env(i)),
                ctx: Context::new(),
            }),
            (false, false) => Box::new(Direct {
                actor: Client::new(env(i)),
                ctx: Context::new(),
            }),
            (true, true) => Box::new(Hosted::new(Replica::new(env(i)))),
            (false, true) => Box::new(Hosted::new(Client::new(env(i)))),
        };
        v.push(node);
    }
    v
}

/// Applies the effects the last handler emitted: the network decides each send's fate.
#[inline]
fn apply(world: &World, net: &mut Pcg64, q: &mut EventQueue<Ev>, tally: &mut Tally) {
    let now = world.now.get();
    let mut effects = world.effects.borrow_mut();
    for e in effects.drain(..) {
        match e {
            Effect::Send { from, to, msg } => {
                if net.random_bool(0.01) {
                    tally.dropped += 1;
                    continue;
                }
                if net.random_bool(0.01) {
                    tally.duplicated += 1;
                    let d = net.random_range(1_000_000..=10_000_000);
                    let copy = Deliver {
                        from,
                        msg: msg.clone(),
                    };
                    q.push(now + Duration::from_nanos(d), (to, Input::Deliver(copy)));
                }
                let d = net.random_range(1_000_000..=10_000_000);
                q.push(
                    now + Duration::from_nanos(d),
                    (to, Input::Deliver(Deliver { from, msg })),
                );
            }
            Effect::Timer {
                node,
                id,
                after,
                tag,
            } => q.push(now + after, (node, Input::Timeout(Timeout { id, tag }))),
        }
    }
}

/// One run: returns what it did and how long it took.
fn run(seed: u64, deliveries: u64, hosted: bool) -> (Tally, f64) {
    let world = world(seed);
    let mut nodes = nodes(&world, hosted);
    let mut net = Pcg64::seed_from_u64(seed);
    let mut q = EventQueue::new();
    let mut tally = Tally {
        events: 0,
        delivered: 0,
        dropped: 0,
        duplicated: 0,
        timers: 0,
        end: SimTime::ZERO,
    };
    let start = Instant::now();
    for n in nodes.iter_mut() {
        n.start();
        tally.events += 1;
        apply(&world, &mut net, &mut q, &mut tally);
    }
    while tally.delivered < deliveries {
        let Some((t, (node, input))) = q.pop() else {
            break;
        };
        world.now.set(t);
        match input {
            Input::Deliver(_) => tally.delivered += 1,
            Input::Timeout(_) => tally.timers += 1,
        }
        tally.events += 1;
        nodes[node.0 as usize].input(input);
        apply(&world, &mut net, &mut q, &mut tally);
    }
    let elapsed = start.elapsed().as_secs_f64();
    tally.end = world.now.get();
    (tally, elapsed)
}

/// One way of running the workload.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Direct,
    Hosted,
    Kernel,
}

impl Way {
    fn parse(s: &str) -> Option<Way> {
        match s {
            "direct" => Some(Way::Direct),
            "hosted" => Some(Way::Hosted),
            "kernel" => Some(Way::Kernel),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Way::Direct => "direct",
            Way::Hosted => "hosted",
            Way::Kernel => "kernel",
        }
    }

    /// One run: the events executed (with what they were, for `direct` and `hosted`) and the
    /// seconds it took.
    fn run(self, seed: u64, deliveries: u64) -> Result<(Option<Tally>, u64, f64), String> {
        match self {
            Way::Direct | Way::Hosted => {
                let (tally, s) = run(seed, deliveries, self == Way::Hosted);
                let events = tally.events;
                Ok((Some(tally), events, s))
            }
            Way::Kernel => {
                let mut sim = Sim::with_network(seed, SimpleNet);
                build(&mut sim);
                let start = Instant::now();
                sim.run_while(|s| s.counters().delivered < deliveries)
                    .map_err(|e| e.to_string())?;
                Ok((None, sim.counters().events, start.elapsed().as_secs_f64()))
            }
        }
    }

    /// The best of `rounds` rounds, in events per second, and what the first round did.
    fn best(self, seed: u64, deliveries: u64, rounds: u64) -> Result<(Option<Tally>, f64), String> {
        let (tally, events, mut fastest) = self.run(seed, deliveries)?;
        for _ in 1..rounds {
            let (again, _, s) = self.run(seed, deliveries)?;
            if again != tally {
                return Err(format!("{}: a round ran other events", self.name()));
            }
            fastest = fastest.min(s);
        }
        Ok((tally, events as f64 / fastest))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parsed = (|| -> Result<(u64, u64, u64, Option<Way>), String> {
        let way = match args.iter().position(|a| a == "--way") {
            Some(i) => {
                let w = args.get(i + 1).ok_or("--way needs a value")?;
                Some(Way::parse(w).ok_or(format!("unknown --way {w} (direct, hosted, kernel)"))?)
            }
            None => None,
        };
        Ok((
            arg(&args, "--seed", 1)?,
            arg(&args, "--deliveries", 1_000_000)?,
            arg(&args, "--rounds", 5)?.max(1),
            way,
        ))
    })();
    let (seed, deliveries, rounds, way) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("gossip_floor: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = report(seed, deliveries, rounds, way) {
        eprintln!("gossip_floor: {e}");
        std::process::exit(1);
    }
}

/// Measures one way, or all three, and prints the figures.
fn report(seed: u64, deliveries: u64, rounds: u64, way: Option<Way>) -> Result<(), String> {
    if let Some(way) = way {
        let (tally, rate) = way.best(seed, deliveries, rounds)?;
        match tally {
            Some(t) => println!("{t:?}"),
            None => println!("kernel: the gossip_bench workload"),
        }
        println!("way={} events_per_sec={rate:.0}", way.name());
        return Ok(());
    }
    let (direct, direct_rate) = Way::Direct.best(seed, deliveries, rounds)?;
    let (hosted, hosted_rate) = Way::Hosted.best(seed, deliveries, rounds)?;
    let (_, kernel_rate) = Way::Kernel.best(seed, deliveries, rounds)?;
    if direct != hosted {
        return Err(format!(
            "direct and hosted ran different events: {direct:?} vs {hosted:?}"
        ));
    }
    if let Some(t) = &direct {
        println!(
            "events={} delivered={} dropped={} duplicated={} timers={} virtual_s={:.3}",
            t.events,
            t.delivered,
            t.dropped,
            t.duplicated,
            t.timers,
            t.end.as_secs_f64()
        );
    }
    let ns = |rate: f64| 1e9 / rate;
    println!(
        "ns/event: direct {:.1}, hosted {:.1} (+{:.1}: one ContextFut poll), kernel {:.1} (+{:.1}: the kernel's guarantees)",
        ns(direct_rate),
        ns(hosted_rate),
        ns(hosted_rate) - ns(direct_rate),
        ns(kernel_rate),
        ns(kernel_rate) - ns(hosted_rate)
    );
    println!(
        "direct_events_per_sec={direct_rate:.0} hosted_events_per_sec={hosted_rate:.0} kernel_events_per_sec={kernel_rate:.0}"
    );
    Ok(())
}
