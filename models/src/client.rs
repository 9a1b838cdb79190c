//! The client actor: runs a [`Script`] of key-value operations against replicas and records the
//! history.
//!
//! One operation is outstanding at a time per process. A reply other than `Ok` means the
//! operation did not take effect, so the client may redirect or retry it; no reply before the
//! timeout makes it indeterminate (`info`), and — as in Jepsen — the client continues under a
//! fresh process id so per-process order in the history stays valid. What it runs is a
//! [`Script`]: the seeded key-value workload ([`KvScript`], what [`Client::new`] runs), or an
//! application's behaviour that decides the next operation from the results so far (the
//! scenarios: read a reply, then fetch the comment it points to).

use std::time::Duration;

use actix::{Actor, Context, Handler};
use rand_pcg::Pcg64;
use sim_core::history::{Outcome, Recorder};
use sim_core::{Deliver, Env, NodeId, SimTime, Timeout, TimerId};

use crate::kv::{KvMsg, KvReply, KvRequest};
use sim_core::Payload;

/// A message type that can carry the key-value client protocol: implement it for your own
/// protocol's message enum to reuse [`Client`] (and its history recording) with your replicas.
///
/// ```
/// use models::client::ClientMsg;
/// use models::kv::{KvReply, KvRequest};
///
/// #[derive(Clone, Debug, Hash)]
/// enum MyMsg { Req(KvRequest), Rep(KvReply), Replicate(u64) }
/// impl ClientMsg for MyMsg {
///     fn request(r: KvRequest) -> Self { MyMsg::Req(r) }
///     fn reply(self) -> Option<KvReply> { match self { MyMsg::Rep(r) => Some(r), _ => None } }
/// }
/// ```
pub trait ClientMsg: Payload {
    /// Wraps a client request.
    fn request(r: KvRequest) -> Self;
    /// The reply this message carries, if it is one.
    fn reply(self) -> Option<KvReply>;
}

impl<P: Payload> ClientMsg for KvMsg<P> {
    fn request(r: KvRequest) -> Self {
        KvMsg::Request(r)
    }
    fn reply(self) -> Option<KvReply> {
        match self {
            KvMsg::Reply(r) => Some(r),
            _ => None,
        }
    }
}
use crate::op::{Op, Ret};
use crate::workload::Workload;

/// Where a client sends its requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Always its home replica (eventual, causal: sticky availability).
    Sticky {
        /// The home replica.
        home: NodeId,
    },
    /// Starts at its home replica, follows `NotLeader` redirects, and tries the other replicas
    /// in turn when one does not answer (sequential, linearizable).
    Leader {
        /// The home replica.
        home: NodeId,
        /// Every replica, in the order to try them.
        replicas: Vec<NodeId>,
    },
}

/// How a client behaves.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// This client's index among all clients (`0..clients`).
    pub index: u32,
    /// Number of clients: process ids advance by this stride after a timeout.
    pub clients: u32,
    /// Where requests go.
    pub routing: Routing,
    /// How long to wait for a reply before recording the operation as indeterminate.
    pub timeout: Duration,
    /// What to run.
    pub workload: Workload,
    /// Whether the protocol offers compare-and-set.
    pub cas_supported: bool,
    /// No operation is invoked at or after this (true) time.
    pub stop_at: SimTime,
}

/// The client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientTimer {
    /// Invoke the next operation.
    Next,
    /// The operation with this request id timed out.
    Deadline(u64),
    /// Resend the current request (after a redirect without a leader hint).
    Resend,
}

/// What a script sees when it decides.
pub struct Ctx<'a> {
    /// The client's random stream.
    pub rng: &'a mut Pcg64,
    /// The client's local clock.
    pub now: SimTime,
}

/// A client's behaviour: which operation comes next, given what the earlier ones returned.
///
/// ```
/// use std::time::Duration;
/// use models::client::{Ctx, Script};
/// use models::op::{Op, Ret};
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
    /// The identity of the operation [`Script::next_op`] just returned, if the script numbers
    /// its operations (strictly increasing within the client). The client derives the
    /// operation's request ids from it, so an operation's requests carry the same ids whatever
    /// other operations ran before it (what shrinking removes). Default: `None`, ids count
    /// the client's requests.
    fn op_number(&self) -> Option<u64> {
        None
    }
}

/// The seeded key-value workload as a [`Script`]: operations drawn from a [`Workload`], think
/// times between them, every written value unique in the run.
///
/// Operation `n` and the think time after it are drawn from a stream keyed by (client, `n`),
/// not from the order of draws. [`KvScript::pinned`] runs exactly a list of operations at
/// given times instead (a replay's): leaving some out (what shrinking does) changes neither
/// the others' content nor their times.
#[derive(Clone, Debug)]
pub struct KvScript {
    workload: Workload,
    index: u32,
    cas: bool,
    base: u64,
    next: u64,
    pinned: Option<std::collections::VecDeque<(u64, SimTime)>>,
    recent: Vec<i64>,
}

impl KvScript {
    /// The workload of client `index` (`cas`: whether the protocol offers compare-and-set).
    pub fn new(workload: Workload, index: u32, cas: bool) -> Self {
        KvScript {
            workload,
            index,
            cas,
            base: 0,
            next: 0,
            pinned: None,
            recent: Vec::new(),
        }
    }

    /// Runs exactly these operations, by index (the client's `n`-th operation is `n`), each
    /// invoked at its time (or as soon as the one before it completes, if later), in order.
    pub fn pinned(mut self, ops: impl IntoIterator<Item = (u64, SimTime)>) -> Self {
        let mut v: Vec<(u64, SimTime)> = ops.into_iter().collect();
        v.sort_unstable();
        self.pinned = Some(v.into());
        self
    }

    /// The wait from `now` until the next pinned operation (a year: no operation is left).
    fn wait_pinned(&self, now: SimTime) -> Option<Duration> {
        let p = self.pinned.as_ref()?;
        Some(
            p.front()
                .map_or(Duration::from_secs(365 * 24 * 3600), |&(_, at)| {
                    at.saturating_since(now)
                }),
        )
    }

    /// The stream of operation `n`'s draws (`part` 0: the operation, 1: the think time after).
    fn stream(&self, n: u64, part: u64) -> Pcg64 {
        let key = sim_core::hash::stable_hash(&(self.base, self.index, n, part));
        sim_core::rng::keyed(key)
    }
}

impl Script for KvScript {
    fn start(&mut self, ctx: &mut Ctx) -> Duration {
        use rand::RngCore;
        self.base = ctx.rng.next_u64();
        let think = self.workload.think(&mut self.stream(u64::MAX, 1));
        self.wait_pinned(ctx.now).unwrap_or(think)
    }

    fn next_op(&mut self, _: &mut Ctx) -> Op {
        if let Some((n, _)) = self.pinned.as_mut().and_then(|p| p.pop_front()) {
            self.next = n;
        }
        let n = self.next;
        let op = self.workload.next_op(
            &mut self.stream(n, 0),
            self.index,
            n,
            &self.recent,
            self.cas,
        );
        if let Op::Write {
            value: crate::op::Value::Int(v),
            ..
        }
        | Op::Cas {
            new: crate::op::Value::Int(v),
            ..
        } = &op
        {
            self.recent.push(*v);
            if self.recent.len() > 3 {
                self.recent.remove(0);
            }
        }
        op
    }

    fn completed(&mut self, _: &Op, _: &Outcome<Ret>, ctx: &mut Ctx) -> Duration {
        let think = self.workload.think(&mut self.stream(self.next, 1));
        self.next += 1;
        self.wait_pinned(ctx.now).unwrap_or(think)
    }

    fn op_number(&self) -> Option<u64> {
        Some(self.next)
    }
}

/// Request ids an operation numbered by its script may use (its attempts).
const ATTEMPTS: u64 = 1 << 20;

struct Pending {
    id: u64,
    op: Op,
    deadline: TimerId,
}

/// A client actor running script `S` (by default the key-value workload). See the module docs.
pub struct Client<E, S = KvScript> {
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

impl<E: Env<Timer = ClientTimer>> Client<E>
where
    E::Msg: ClientMsg,
{
    /// A client running `cfg.workload`, recording into `history`.
    pub fn new(env: E, cfg: ClientConfig, history: Recorder<Op, Ret>) -> Self {
        let script = KvScript::new(cfg.workload.clone(), cfg.index, cfg.cas_supported);
        Client::with_script(env, cfg, script, history)
    }
}

impl<E: Env<Timer = ClientTimer>, S: Script> Client<E, S>
where
    E::Msg: ClientMsg,
{
    /// A client with `cfg`'s routing, timeout and stop time that runs `script` (`cfg.workload`
    /// is not used) and records into `history`.
    pub fn with_script(env: E, cfg: ClientConfig, script: S, history: Recorder<Op, Ret>) -> Self {
        let target = match &cfg.routing {
            Routing::Sticky { home } | Routing::Leader { home, .. } => *home,
        };
        Client {
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
        self.history.invoke(
            self.env.elapsed(),
            Some(self.env.me()),
            self.process,
            op.clone(),
        );
        if let Some(n) = self.script.op_number() {
            // Operation n's requests are ids (n + 1) * 2^20 + attempt: still increasing, and
            // the same whatever ran before.
            self.next_id = self
                .next_id
                .max(n.saturating_add(1).saturating_mul(ATTEMPTS));
        }
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
    fn complete(&mut self, outcome: Outcome<Ret>, reason: Option<String>) {
        let Some(p) = self.current.take() else { return };
        self.env.cancel_timer(p.deadline);
        let (now, me) = (self.env.elapsed(), Some(self.env.me()));
        match &outcome {
            Outcome::Ok(ret) => self.history.ok(now, me, self.process, ret.clone()),
            Outcome::Fail => self.history.fail(now, me, self.process, reason),
            Outcome::Info => {
                self.history.info(now, me, self.process, reason);
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
                self.complete(Outcome::Ok(ret), None);
            }
            KvReply::Fail { reason, .. } => self.complete(Outcome::Fail, Some(reason)),
            KvReply::NotLeader { leader, .. } => {
                // Not applied: retry elsewhere under a new request id, within the same deadline.
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

impl<E: Env<Timer = ClientTimer>, S: Script> Actor for Client<E, S>
where
    E::Msg: ClientMsg,
{
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        let wait = self.with_ctx(|s, ctx| s.start(ctx));
        self.env.set_timer(wait, ClientTimer::Next);
    }
}

impl<E: Env<Timer = ClientTimer>, S: Script> Handler<Deliver<E::Msg>> for Client<E, S>
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

impl<E: Env<Timer = ClientTimer>, S: Script> Handler<Timeout<ClientTimer>> for Client<E, S>
where
    E::Msg: ClientMsg,
{
    type Result = ();

    fn handle(&mut self, t: Timeout<ClientTimer>, _: &mut Context<Self>) {
        match t.tag {
            ClientTimer::Next => self.invoke(),
            ClientTimer::Resend => self.send_current(),
            ClientTimer::Deadline(_) => self.complete(Outcome::Info, Some("timeout".into())),
        }
    }
}
