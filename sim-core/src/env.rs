//! The `Env` handle: a protocol actor's only door to the world.
//!
//! A protocol actor is generic over an [`Env`]. In a simulation the env is a [`SimEnv`]: every
//! effect (send, timer) is buffered in emission order and applied by the kernel after the
//! handler returns; time is virtual and randomness comes from the node's seeded stream. In live
//! mode (`actsim::live`) the same actor runs on an ordinary actix `System`.

use std::cell::{Cell, RefCell, RefMut};
use std::fmt;
use std::hash::Hash;
use std::rc::Rc;
use std::time::Duration;

use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::clock::ClockModel;
use crate::timers::PendingTimers;
use crate::{NodeId, SimTime};

/// What a message or timer tag must be: cloneable (duplication), debuggable (traces), hashable
/// (trace hash) and sendable (actix messages are `Send`).
pub trait Payload: Clone + fmt::Debug + Hash + Send + 'static {}
impl<T: Clone + fmt::Debug + Hash + Send + 'static> Payload for T {}

/// Identifies a timer set by a node, unique within the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimerId(pub u64);

/// The actix message carrying a network message to an actor.
///
/// ```
/// use sim_core::{Deliver, NodeId};
/// let d = Deliver { from: NodeId(1), msg: "ping" };
/// assert_eq!(d.from, NodeId(1));
/// ```
#[derive(Clone, Debug)]
pub struct Deliver<M> {
    /// The sender.
    pub from: NodeId,
    /// The message.
    pub msg: M,
}

impl<M: 'static> actix::Message for Deliver<M> {
    type Result = ();
}

/// The actix message a timer delivers to the actor that set it.
#[derive(Clone, Debug)]
pub struct Timeout<T> {
    /// The timer (as returned by [`Env::set_timer`]).
    pub id: TimerId,
    /// The tag given to [`Env::set_timer`].
    pub tag: T,
}

impl<T: 'static> actix::Message for Timeout<T> {
    type Result = ();
}

/// The world as a protocol actor sees it.
///
/// ```
/// use sim_core::{Env, Deliver, NodeId};
/// use actix::{Actor, Context, Handler};
///
/// /// Replies "pong" to every "ping".
/// struct Ponger<E> { env: E }
/// impl<E: Env<Msg = &'static str>> Actor for Ponger<E> { type Context = Context<Self>; }
/// impl<E: Env<Msg = &'static str>> Handler<Deliver<&'static str>> for Ponger<E> {
///     type Result = ();
///     fn handle(&mut self, d: Deliver<&'static str>, _: &mut Context<Self>) {
///         if d.msg == "ping" { self.env.send(d.from, "pong"); }
///     }
/// }
/// ```
pub trait Env: Unpin + 'static {
    /// The message type all nodes of the simulation exchange.
    type Msg: Payload;
    /// The tag this actor's timers carry.
    type Timer: Payload;

    /// This node.
    fn me(&self) -> NodeId;
    /// The node's local clock (virtual time with this node's offset and drift applied).
    fn now(&self) -> SimTime;
    /// True time since the start of the run, for measurements and history recording only
    /// (a real process cannot read it; protocol logic must use [`Env::now`]).
    fn elapsed(&self) -> SimTime;
    /// Send `msg` to `to` through the network.
    fn send(&self, to: NodeId, msg: Self::Msg);
    /// Deliver `Timeout { tag }` to this actor after `after` of local time.
    fn set_timer(&self, after: Duration, tag: Self::Timer) -> TimerId;
    /// Cancel a timer; a cancelled timer never fires. Cancelling a fired timer does nothing.
    fn cancel_timer(&self, id: TimerId);
    /// This node's random stream: sequential, so every draw depends on how many were made
    /// before it. For a choice that belongs to an identity (a term's election timeout, a
    /// tick's peer), prefer [`Env::rng_for`].
    fn rng(&self) -> RefMut<'_, Pcg64>;

    /// The seed of this node's keyed draws ([`Env::rng_for`]): a function of the run's seed
    /// and this node only, never of what happened in the run.
    fn key_seed(&self) -> u64;

    /// A fresh random stream keyed by `key` (anything hashable: a term, a (tick, round)
    /// pair, a message id), derived from the node's [`Env::key_seed`] and `key` only. It does
    /// not depend on the order of draws and does not touch [`Env::rng`]: the same key gives
    /// the same stream in every run of the seed. Draws keyed by identity do not shift when
    /// shrinking removes other events (a client operation, a fault, a message), so a shrunk
    /// run keeps the protocol's choices that did not depend on what was removed.
    ///
    /// ```
    /// use rand::Rng;
    /// use sim_core::Env;
    /// /// An election timeout that depends on the term only.
    /// fn timeout<E: Env>(env: &E, term: u64) -> u64 {
    ///     env.rng_for(("election", term)).random_range(150..300)
    /// }
    /// # let _ = timeout::<sim_core::SimEnv<u8, ()>>;
    /// ```
    fn rng_for(&self, key: impl Hash) -> Pcg64 {
        crate::rng::keyed(crate::hash::stable_hash(&(self.key_seed(), key)))
    }

    /// A BUGGIFY fault point (FoundationDB): true when the protocol should take its rare,
    /// legal-but-hostile path here (an early timeout, a dropped cache, a delayed flush). With
    /// buggify off (live, or a simulation that did not enable it) always false. In a simulation
    /// with buggify on, each call site (file, line, column) is enabled for a quarter of the
    /// seeds, and an enabled site fires on a quarter of its calls — deterministically from the
    /// seed, without touching the node's random stream.
    ///
    /// ```
    /// use sim_core::Env;
    /// fn flush_now<E: Env>(env: &E) -> bool { !env.buggify() }
    /// # let _ = flush_now::<sim_core::SimEnv<u8, ()>>;
    /// ```
    #[track_caller]
    fn buggify(&self) -> bool {
        false
    }

    /// Reports a protocol-visible state (a coverage point): any value the protocol chooses
    /// as its state abstraction, such as `(role, "stepped down")` or `("read", served_locally)`.
    /// Coverage-guided exploration keeps runs that report points no earlier run reported and
    /// branches new runs from just before them. Costs nothing unless the simulation records
    /// coverage; live, it does nothing.
    ///
    /// ```
    /// use sim_core::Env;
    /// fn became_leader<E: Env>(env: &E, term: u64, uncommitted: bool) {
    ///     env.cover(&("leader", term > 1, uncommitted));
    /// }
    /// # let _ = became_leader::<sim_core::SimEnv<u8, ()>>;
    /// ```
    fn cover<H: std::hash::Hash + ?Sized>(&self, point: &H) {
        let _ = point;
    }
}

/// State that survives a crash: the factory receives the same `Durable` after a restart.
///
/// ```
/// use sim_core::Durable;
/// let d = Durable::new(0u64);
/// *d.borrow_mut() += 1;
/// let again = d.clone();
/// assert_eq!(*again.borrow(), 1);
/// ```
#[derive(Debug, Default)]
pub struct Durable<S> {
    inner: Rc<RefCell<S>>,
}

impl<S> Clone for Durable<S> {
    fn clone(&self) -> Self {
        Durable {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<S> Durable<S> {
    /// Durable storage holding `state`.
    pub fn new(state: S) -> Self {
        Durable {
            inner: Rc::new(RefCell::new(state)),
        }
    }

    /// Read access.
    pub fn borrow(&self) -> std::cell::Ref<'_, S> {
        self.inner.borrow()
    }

    /// Write access (the write is durable at once: a crash later keeps it).
    pub fn borrow_mut(&self) -> RefMut<'_, S> {
        self.inner.borrow_mut()
    }
}

/// An effect a handler emitted, applied by the kernel after the handler returns.
#[derive(Debug)]
pub(crate) enum Effect<M> {
    Send {
        from: NodeId,
        to: NodeId,
        msg: M,
    },
    SetTimer {
        node: NodeId,
        id: TimerId,
        after: Duration,
    },
    CancelTimer,
}

/// State shared by the kernel and every `SimEnv` of one simulation.
#[derive(Debug)]
pub(crate) struct Shared<M> {
    pub(crate) now: Cell<SimTime>,
    pub(crate) effects: RefCell<Vec<Effect<M>>>,
    pub(crate) next_timer: Cell<u64>,
    /// The seed's buggify key, when buggify is on.
    pub(crate) buggify: Cell<Option<u64>>,
    /// The run's coverage, when coverage is on.
    pub(crate) coverage: RefCell<Option<crate::coverage::Recorder>>,
}

impl<M> Shared<M> {
    pub(crate) fn new() -> Self {
        Shared {
            now: Cell::new(SimTime::ZERO),
            effects: RefCell::new(Vec::new()),
            next_timer: Cell::new(0),
            buggify: Cell::new(None),
            coverage: RefCell::new(None),
        }
    }
}

/// Per-node state shared by the kernel and that node's env (clock and random stream).
#[derive(Debug)]
pub(crate) struct NodeCtx {
    pub(crate) id: NodeId,
    pub(crate) clock: Cell<ClockModel>,
    pub(crate) rng: RefCell<Pcg64>,
    /// The seed of the node's keyed draws (`Env::rng_for`).
    pub(crate) key_seed: u64,
    /// Buggify calls made by this node so far.
    pub(crate) buggify_calls: Cell<u64>,
}

/// The simulated [`Env`]: buffers effects for the kernel, reads virtual time.
pub struct SimEnv<M, T> {
    shared: Rc<Shared<M>>,
    node: Rc<NodeCtx>,
    /// Tags of this incarnation's pending timers; shared with the node's host.
    timers: Rc<RefCell<PendingTimers<T>>>,
}

impl<M, T> SimEnv<M, T> {
    pub(crate) fn new(
        shared: Rc<Shared<M>>,
        node: Rc<NodeCtx>,
        timers: Rc<RefCell<PendingTimers<T>>>,
    ) -> Self {
        SimEnv {
            shared,
            node,
            timers,
        }
    }
}

impl<M, T> fmt::Debug for SimEnv<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimEnv")
            .field("node", &self.node.id)
            .finish()
    }
}

impl<M: Payload, T: Payload> Env for SimEnv<M, T> {
    type Msg = M;
    type Timer = T;

    #[inline]
    fn me(&self) -> NodeId {
        self.node.id
    }

    #[inline]
    fn now(&self) -> SimTime {
        self.node.clock.get().local(self.shared.now.get())
    }

    #[inline]
    fn elapsed(&self) -> SimTime {
        self.shared.now.get()
    }

    #[inline]
    fn send(&self, to: NodeId, msg: M) {
        self.shared.effects.borrow_mut().push(Effect::Send {
            from: self.node.id,
            to,
            msg,
        });
    }

    fn set_timer(&self, after: Duration, tag: T) -> TimerId {
        let id = TimerId(self.shared.next_timer.get());
        self.shared.next_timer.set(id.0 + 1);
        self.timers.borrow_mut().insert(id, tag);
        self.shared.effects.borrow_mut().push(Effect::SetTimer {
            node: self.node.id,
            id,
            after,
        });
        id
    }

    fn cancel_timer(&self, id: TimerId) {
        if self.timers.borrow_mut().remove(id).is_some() {
            self.shared.effects.borrow_mut().push(Effect::CancelTimer);
        }
    }

    fn rng(&self) -> RefMut<'_, Pcg64> {
        self.node.rng.borrow_mut()
    }

    fn cover<H: std::hash::Hash + ?Sized>(&self, point: &H) {
        if let Some(r) = self.shared.coverage.borrow_mut().as_mut() {
            r.point(crate::hash::stable_hash(point), self.shared.now.get());
        }
    }

    fn key_seed(&self) -> u64 {
        self.node.key_seed
    }

    #[track_caller]
    fn buggify(&self) -> bool {
        let Some(key) = self.shared.buggify.get() else {
            return false;
        };
        let at = std::panic::Location::caller();
        let site = crate::hash::stable_hash(&(key, at.file(), at.line(), at.column()));
        if site % 4 != 0 {
            return false;
        }
        let n = self.node.buggify_calls.get();
        self.node.buggify_calls.set(n + 1);
        crate::hash::stable_hash(&(site, self.node.id.0, n)) % 4 == 0
    }
}
