//! Hosting a real actix actor without a runtime.
//!
//! Each node's actor lives in its own `actix::Context`, turned into its `ContextFut`, which the
//! kernel owns. The kernel hands network messages and timers to the actor through an
//! [`Inlet`]: an actix `ActorFuture` spawned into the actor's own context when it is built,
//! which on every poll of the `ContextFut` passes each queued input to the actor's `Handler`,
//! with the actor and its real `Context`, the way actix's mailbox does (and stops while the
//! actor waits on `ctx.wait` or is stopping, as the mailbox does). Delivering is a push onto that
//! queue and one poll: `started`, `ctx.notify`, `ctx.spawn`, `ctx.wait`, `ctx.stop` and
//! `ResponseActFuture` all run inside the poll. The mailbox itself still works (`Sim::ask`,
//! an actor messaging its own `Addr`); the inlet only spares each delivery the mailbox's boxed
//! envelope, queue node and atomics, which cost more than the rest of an event.
//!
//! The waker given to the poll records that the node was woken; the kernel then schedules a
//! "poll node" event at the current virtual time, so a future that completes later is polled
//! deterministically.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use actix::dev::{ContextFut, MessageResponse};
use actix::fut::ActorFuture;
use actix::{Actor, Addr, AsyncContext, Context, Handler};
use futures::Future;

use crate::env::{Durable, NodeCtx, Payload, Shared, SimEnv, Timeout, TimerId};
use crate::timers::PendingTimers;
use crate::Deliver;

/// Records wake-ups of one node's actor future. `Send + Sync` because `Waker` requires it;
/// simulations are single-threaded, so relaxed ordering is enough.
#[derive(Debug)]
pub(crate) struct NodeWaker {
    pub(crate) woken: AtomicBool,
    pub(crate) any: Arc<AtomicBool>,
}

impl Wake for NodeWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.any.store(true, Ordering::Relaxed);
    }
}

/// One input the kernel hands to an actor.
enum Input<M, T> {
    Deliver(Deliver<M>),
    Timeout(Timeout<T>),
}

/// Inputs waiting for the actor, in order. There is more than one only while the actor waits
/// on `ctx.wait`, so the first sits in a slot of its own and the rest queue behind it.
struct Inbox<M, T> {
    /// The oldest input, if the queue behind it is empty when it came.
    first: Cell<Option<Input<M, T>>>,
    rest: RefCell<VecDeque<Input<M, T>>>,
}

impl<M, T> Inbox<M, T> {
    fn new() -> Rc<Self> {
        Rc::new(Inbox {
            first: Cell::new(None),
            rest: RefCell::new(VecDeque::new()),
        })
    }

    #[inline]
    fn push(&self, input: Input<M, T>) {
        let mut rest = self.rest.borrow_mut();
        match self.first.take() {
            // Nothing waiting: the slot is the whole queue.
            None if rest.is_empty() => self.first.set(Some(input)),
            first => {
                self.first.set(first);
                rest.push_back(input);
            }
        }
    }

    #[inline]
    fn pop(&self) -> Option<Input<M, T>> {
        match self.first.take() {
            Some(input) => Some(input),
            None => self.rest.borrow_mut().pop_front(),
        }
    }

    fn clear(&self) {
        self.first.set(None);
        self.rest.borrow_mut().clear();
    }
}

/// The kernel's door into a running actor: an `ActorFuture` living in the actor's own context
/// for as long as the actor runs. Each poll hands the queued inputs, in order, to the actor's
/// handlers, exactly as actix's mailbox would: one at a time, and not while the actor is
/// waiting on a `ctx.wait` future or stopping.
struct Inlet<M, T> {
    inbox: Rc<Inbox<M, T>>,
}

impl<A, M, T> ActorFuture<A> for Inlet<M, T>
where
    A: Actor<Context = Context<A>> + Handler<Deliver<M>> + Handler<Timeout<T>>,
    M: Payload,
    T: Payload,
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
            // The borrow ends before the handler runs.
            let next = self.inbox.pop();
            match next {
                Some(Input::Deliver(d)) => handle(act, d, ctx),
                Some(Input::Timeout(t)) => handle(act, t, ctx),
                None => break,
            }
        }
        // Never ready: the inlet lives as long as the actor.
        Poll::Pending
    }
}

/// Runs `A`'s handler for `msg` and its response, as actix's envelope does (no one awaits
/// the result of a delivery).
#[inline]
fn handle<A, Q>(act: &mut A, msg: Q, ctx: &mut Context<A>)
where
    A: Actor<Context = Context<A>> + Handler<Q>,
    Q: actix::Message,
{
    <A as Handler<Q>>::handle(act, msg, ctx).handle(ctx, None);
}

/// The kernel's view of a node's actor, whatever its type.
pub(crate) trait Host<M> {
    /// Deliver a network message and poll.
    fn deliver(&mut self, d: Deliver<M>) -> Polled;
    /// Fire a timer and poll ([`Polled::Idle`] if it was cancelled: nothing delivered).
    fn fire(&mut self, id: TimerId) -> Polled;
    /// Poll the actor future (after a wake-up).
    fn poll(&mut self) -> Polled;
    /// Drop the actor (crash): volatile state and timers are gone.
    fn crash(&mut self);
    /// Build a fresh actor from the factory with the same durable state.
    fn restart(&mut self, node: Rc<NodeCtx>);
    /// The actor's typed `Addr`, for downcasting.
    fn addr_any(&self) -> Option<Box<dyn Any>>;
    /// The durable state handle, for downcasting.
    fn durable_any(&self) -> Box<dyn Any>;
    /// The waker of this node.
    fn waker(&self) -> &Arc<NodeWaker>;
}

/// What a host call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Polled {
    /// The input was handed to the actor, which is still running.
    Ran,
    /// Nothing was handed over (a cancelled timer, or no actor).
    Idle,
    /// The actor stopped itself (`ctx.stop()`) during the poll: it is gone.
    Stopped,
}

/// Builds the actor of a node; called at start and after every restart.
pub(crate) type Factory<A, M, T, S> = Rc<dyn Fn(SimEnv<M, T>, Durable<S>) -> A>;

/// A running actor: its address and the future that drives it.
type Running<A> = (Addr<A>, ContextFut<A, Context<A>>);

pub(crate) struct ActorHost<A, M, T, S>
where
    A: Actor<Context = Context<A>>,
{
    factory: Factory<A, M, T, S>,
    durable: Durable<S>,
    shared: Rc<Shared<M>>,
    timers: Rc<RefCell<PendingTimers<T>>>,
    inbox: Rc<Inbox<M, T>>,
    live: Option<Running<A>>,
    waker_arc: Arc<NodeWaker>,
    waker: Waker,
}

impl<A, M, T, S> ActorHost<A, M, T, S>
where
    A: Actor<Context = Context<A>> + Handler<Deliver<M>> + Handler<Timeout<T>>,
    M: Payload,
    T: Payload,
    S: 'static,
{
    pub(crate) fn new(
        factory: Factory<A, M, T, S>,
        durable: Durable<S>,
        shared: Rc<Shared<M>>,
        node: Rc<NodeCtx>,
        any: Arc<AtomicBool>,
    ) -> Self {
        let waker_arc = Arc::new(NodeWaker {
            woken: AtomicBool::new(false),
            any,
        });
        let waker = Waker::from(Arc::clone(&waker_arc));
        let mut host = ActorHost {
            factory,
            durable,
            shared,
            timers: Rc::default(),
            inbox: Inbox::new(),
            live: None,
            waker_arc,
            waker,
        };
        host.build(node);
        host
    }

    fn build(&mut self, node: Rc<NodeCtx>) {
        self.timers = Rc::default();
        let env = SimEnv::new(Rc::clone(&self.shared), node, Rc::clone(&self.timers));
        let actor = (self.factory)(env, self.durable.clone());
        let mut ctx: Context<A> = Context::new();
        let addr = ctx.address();
        self.inbox = Inbox::new();
        // Spawned before `started()` runs, so it is the context's first item.
        ctx.spawn(Inlet {
            inbox: Rc::clone(&self.inbox),
        });
        self.live = Some((addr, ctx.into_future(actor)));
    }

    /// Queues `input` for the running actor and polls it.
    #[inline]
    fn push(&mut self, input: Input<M, T>) -> Polled {
        if self.live.is_none() {
            return Polled::Idle;
        }
        self.inbox.push(input);
        self.poll_fut()
    }

    #[inline]
    fn poll_fut(&mut self) -> Polled {
        let Some((_, fut)) = &mut self.live else {
            return Polled::Idle;
        };
        let mut cx = TaskContext::from_waker(&self.waker);
        match Pin::new(fut).poll(&mut cx) {
            Poll::Pending => Polled::Ran,
            Poll::Ready(()) => {
                // The actor stopped itself (ctx.stop()): it is gone, like a process that exited.
                self.live = None;
                self.timers.borrow_mut().clear();
                self.inbox.clear();
                Polled::Stopped
            }
        }
    }
}

impl<A, M, T, S> Host<M> for ActorHost<A, M, T, S>
where
    A: Actor<Context = Context<A>> + Handler<Deliver<M>> + Handler<Timeout<T>>,
    M: Payload,
    T: Payload,
    S: 'static,
{
    #[inline]
    fn deliver(&mut self, d: Deliver<M>) -> Polled {
        self.push(Input::Deliver(d))
    }

    fn fire(&mut self, id: TimerId) -> Polled {
        let Some(tag) = self.timers.borrow_mut().remove(id) else {
            return Polled::Idle;
        };
        self.push(Input::Timeout(Timeout { id, tag }))
    }

    fn poll(&mut self) -> Polled {
        self.poll_fut()
    }

    fn crash(&mut self) {
        self.timers.borrow_mut().clear();
        self.inbox.clear();
        // Dropping the ContextFut runs actix's stopping/stopped; the kernel discards any effect
        // emitted while doing so.
        self.live = None;
    }

    fn restart(&mut self, node: Rc<NodeCtx>) {
        self.crash();
        self.build(node);
    }

    fn addr_any(&self) -> Option<Box<dyn Any>> {
        self.live
            .as_ref()
            .map(|(addr, _)| Box::new(addr.clone()) as Box<dyn Any>)
    }

    fn durable_any(&self) -> Box<dyn Any> {
        Box::new(self.durable.clone())
    }

    fn waker(&self) -> &Arc<NodeWaker> {
        &self.waker_arc
    }
}
