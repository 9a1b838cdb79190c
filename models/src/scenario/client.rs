//! The application client: one actor that runs a scenario's [`Script`] against the replicas.
//!
//! It talks to replicas exactly as the key-value [`Client`](crate::client::Client) does — the
//! same [`ClientConfig`] routing (sticky, or leader-following with redirects and rotation), the
//! same timeout (no reply in time: the operation is indeterminate and the client continues under
//! a fresh process id), the same session token — but what it does next is decided by the
//! script, from the results so far. That is what an application does: read a reply, then fetch
//! the comment it points to; retry a post until it is acknowledged before writing the next one.

use std::time::Duration;

use actix::{Actor, Context, Handler};
use rand_pcg::Pcg64;
use sim_core::history::{Outcome, Recorder};
use sim_core::{Deliver, Env, NodeId, SimTime, Timeout, TimerId};

use crate::client::{ClientConfig, ClientMsg, ClientTimer, Routing};
use crate::kv::{KvReply, KvRequest};
use crate::op::{Op, Ret};

/// What a script sees when it decides.
pub struct Ctx<'a> {
    /// The client's random stream.
    pub rng: &'a mut Pcg64,
    /// The client's local clock.
    pub now: SimTime,
}

/// An application's behaviour: which operation comes next, given what the earlier ones returned.
///
/// ```
/// use std::time::Duration;
/// use models::op::{Op, Ret};
/// use models::scenario::client::{Ctx, Script};
/// use sim_core::history::Outcome;
///
/// /// Reads key 0 every 10 ms.
/// #[derive(Clone)]
/// struct Poll;
/// impl Script for Poll {
///     fn next_op(&mut self, _: &mut Ctx) -> Op { Op::read(0) }
///     fn completed(&mut self, _: &Op, _: &Outcome<Ret>, _: &mut Ctx) -> Duration {
///         Duration::from_millis(10)
///     }
/// }
/// ```
pub trait Script: Clone + Unpin + 'static {
    /// Delay before the first operation (default: none).
    fn start(&mut self, _ctx: &mut Ctx) -> Duration {
        Duration::ZERO
    }
    /// The next operation to invoke.
    fn next_op(&mut self, ctx: &mut Ctx) -> Op;
    /// The current operation ended with `outcome` (`Info` = timed out); returns how long to wait
    /// before the next one.
    fn completed(&mut self, op: &Op, outcome: &Outcome<Ret>, ctx: &mut Ctx) -> Duration;
}

struct Pending {
    id: u64,
    op: Op,
    deadline: TimerId,
}

/// A client actor running script `S`. See the module docs.
pub struct AppClient<E, S> {
    env: E,
    cfg: ClientConfig,
    script: S,
    history: Recorder<Op, Ret>,
    process: u64,
    next_id: u64,
    session: u64,
    target: NodeId,
    current: Option<Pending>,
}

impl<E: Env<Timer = ClientTimer>, S: Script> AppClient<E, S>
where
    E::Msg: ClientMsg,
{
    /// A client with `cfg`'s routing, timeout and stop time (its workload is not used) that
    /// runs `script` and records into `history`.
    pub fn new(env: E, cfg: ClientConfig, script: S, history: Recorder<Op, Ret>) -> Self {
        let target = match &cfg.routing {
            Routing::Sticky { home } | Routing::Leader { home, .. } => *home,
        };
        AppClient {
            process: u64::from(cfg.index),
            env,
            cfg,
            script,
            history,
            next_id: 0,
            session: 0,
            target,
            current: None,
        }
    }

    fn with_ctx<R>(&mut self, f: impl FnOnce(&mut S, &mut Ctx) -> R) -> R {
        let now = self.env.now();
        let mut rng = self.env.rng();
        let mut ctx = Ctx { rng: &mut rng, now };
        f(&mut self.script, &mut ctx)
    }

    fn invoke(&mut self) {
        if self.env.elapsed() >= self.cfg.stop_at || self.current.is_some() {
            return;
        }
        let op = self.with_ctx(|s, ctx| s.next_op(ctx));
        let me = Some(self.env.me());
        self.history
            .invoke(self.env.elapsed(), me, self.process, op.clone());
        let id = self.fresh_id();
        let deadline = self
            .env
            .set_timer(self.cfg.timeout, ClientTimer::Deadline(id));
        self.current = Some(Pending { id, op, deadline });
        self.send_current();
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn send_current(&mut self) {
        if let Some(p) = &self.current {
            let req = KvRequest {
                id: p.id,
                op: p.op.clone(),
                session: self.session,
            };
            self.env.send(self.target, E::Msg::request(req));
        }
    }

    /// The next replica after the current target (leader routing); sticky clients stay home.
    fn rotate(&mut self) {
        if let Routing::Leader { replicas, .. } = &self.cfg.routing {
            if let Some(i) = replicas.iter().position(|&r| r == self.target) {
                self.target = replicas[(i + 1) % replicas.len()];
            } else if let Some(&r) = replicas.first() {
                self.target = r;
            }
        }
    }

    /// Records the end of the current operation and schedules the next one.
    fn complete(&mut self, outcome: Outcome<Ret>) {
        let Some(p) = self.current.take() else { return };
        self.env.cancel_timer(p.deadline);
        let (now, me) = (self.env.elapsed(), Some(self.env.me()));
        match &outcome {
            Outcome::Ok(ret) => self.history.ok(now, me, self.process, ret.clone()),
            Outcome::Fail => self.history.fail(now, me, self.process, None),
            Outcome::Info => {
                self.history
                    .info(now, me, self.process, Some("timeout".into()));
                self.process += u64::from(self.cfg.clients.max(1));
                self.rotate();
            }
        }
        let wait = self.with_ctx(|s, ctx| s.completed(&p.op, &outcome, ctx));
        self.env.set_timer(wait, ClientTimer::Next);
    }

    fn on_reply(&mut self, reply: KvReply) {
        let Some(p) = &self.current else { return };
        if reply.id() != p.id {
            return; // a late answer to an earlier attempt
        }
        match reply {
            KvReply::Ok { ret, session, .. } => {
                self.session = self.session.max(session);
                self.complete(Outcome::Ok(ret));
            }
            KvReply::Fail { .. } => self.complete(Outcome::Fail),
            KvReply::NotLeader { leader, .. } => {
                let id = self.fresh_id();
                if let Some(p) = &mut self.current {
                    p.id = id;
                }
                match leader {
                    Some(l) if l != self.target => {
                        self.target = l;
                        self.send_current();
                    }
                    _ => {
                        self.rotate();
                        self.env
                            .set_timer(Duration::from_millis(10), ClientTimer::Resend);
                    }
                }
            }
        }
    }
}

impl<E: Env<Timer = ClientTimer>, S: Script> Actor for AppClient<E, S>
where
    E::Msg: ClientMsg,
{
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        let wait = self.with_ctx(|s, ctx| s.start(ctx));
        self.env.set_timer(wait, ClientTimer::Next);
    }
}

impl<E: Env<Timer = ClientTimer>, S: Script> Handler<Deliver<E::Msg>> for AppClient<E, S>
where
    E::Msg: ClientMsg,
{
    type Result = ();

    fn handle(&mut self, d: Deliver<E::Msg>, _: &mut Context<Self>) {
        if let Some(reply) = d.msg.reply() {
            self.on_reply(reply);
        }
    }
}

impl<E: Env<Timer = ClientTimer>, S: Script> Handler<Timeout<ClientTimer>> for AppClient<E, S>
where
    E::Msg: ClientMsg,
{
    type Result = ();

    fn handle(&mut self, t: Timeout<ClientTimer>, _: &mut Context<Self>) {
        match t.tag {
            ClientTimer::Next => self.invoke(),
            ClientTimer::Resend => self.send_current(),
            ClientTimer::Deadline(_) => self.complete(Outcome::Info),
        }
    }
}
