//! Hosting a real actix actor without a runtime.
//!
//! Each node's actor lives in its own `actix::Context`, turned into its `ContextFut`, which the
//! kernel owns. Delivering a message is `addr.do_send(msg)` followed by one poll of that future:
//! actix drains the mailbox and runs spawned items (`started`, `ctx.notify`, `ctx.stop`,
//! `ResponseActFuture`, ...) inside the poll. The waker given to the poll records that the node
//! was woken; the kernel then schedules a "poll node" event at the current virtual time, so a
//! future that completes later is polled deterministically.

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use actix::dev::ContextFut;
use actix::{Actor, Addr, AsyncContext, Context, Handler};
use futures::Future;

use crate::env::{Durable, NodeCtx, Payload, Shared, SimEnv, Timeout, TimerId};
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

/// The kernel's view of a node's actor, whatever its type.
pub(crate) trait Host<M> {
    /// Deliver a network message and poll.
    fn deliver(&mut self, d: Deliver<M>);
    /// Fire a timer and poll; false if it was cancelled (nothing delivered).
    fn fire(&mut self, id: TimerId) -> bool;
    /// Poll the actor future (after a wake-up).
    fn poll(&mut self);
    /// Drop the actor (crash): volatile state and timers are gone.
    fn crash(&mut self);
    /// Build a fresh actor from the factory with the same durable state.
    fn restart(&mut self, node: Rc<NodeCtx>);
    /// True while the actor exists and has not stopped itself.
    fn running(&self) -> bool;
    /// The actor's typed `Addr`, for downcasting.
    fn addr_any(&self) -> Option<Box<dyn Any>>;
    /// The durable state handle, for downcasting.
    fn durable_any(&self) -> Box<dyn Any>;
    /// The waker of this node.
    fn waker(&self) -> &Arc<NodeWaker>;
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
    timers: Rc<RefCell<BTreeMap<TimerId, T>>>,
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
            timers: Rc::new(RefCell::new(BTreeMap::new())),
            live: None,
            waker_arc,
            waker,
        };
        host.build(node);
        host
    }

    fn build(&mut self, node: Rc<NodeCtx>) {
        self.timers = Rc::new(RefCell::new(BTreeMap::new()));
        let env = SimEnv::new(Rc::clone(&self.shared), node, Rc::clone(&self.timers));
        let actor = (self.factory)(env, self.durable.clone());
        let ctx: Context<A> = Context::new();
        let addr = ctx.address();
        self.live = Some((addr, ctx.into_future(actor)));
    }

    /// Forgets the wake-up our own `do_send` caused: the poll that follows handles it. (The
    /// kernel keeps "no node woken" true between events, so clearing the global flag is safe.)
    #[inline]
    fn clear_own_wake(&self) {
        self.waker_arc.woken.store(false, Ordering::Relaxed);
        self.waker_arc.any.store(false, Ordering::Relaxed);
    }

    #[inline]
    fn poll_fut(&mut self) {
        if let Some((_, fut)) = &mut self.live {
            let mut cx = TaskContext::from_waker(&self.waker);
            if let Poll::Ready(()) = Pin::new(fut).poll(&mut cx) {
                // The actor stopped itself (ctx.stop()): it is gone, like a process that exited.
                self.live = None;
                self.timers.borrow_mut().clear();
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
    fn deliver(&mut self, d: Deliver<M>) {
        if let Some((addr, _)) = &self.live {
            addr.do_send(d);
            self.clear_own_wake();
            self.poll_fut();
        }
    }

    fn fire(&mut self, id: TimerId) -> bool {
        let Some(tag) = self.timers.borrow_mut().remove(&id) else {
            return false;
        };
        if let Some((addr, _)) = &self.live {
            addr.do_send(Timeout { id, tag });
            self.clear_own_wake();
            self.poll_fut();
            true
        } else {
            false
        }
    }

    fn poll(&mut self) {
        self.poll_fut();
    }

    fn crash(&mut self) {
        self.timers.borrow_mut().clear();
        // Dropping the ContextFut runs actix's stopping/stopped; the kernel discards any effect
        // emitted while doing so.
        self.live = None;
    }

    fn restart(&mut self, node: Rc<NodeCtx>) {
        self.crash();
        self.build(node);
    }

    fn running(&self) -> bool {
        self.live.is_some()
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
