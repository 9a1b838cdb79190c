//! Kernel behaviour: lifecycle rules, actix features under the kernel, errors.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use rand::Rng;
use rand_pcg::Pcg64;
use sim_core::network::{DropCause, Network, Outbox, Packet, PerfectNetwork};
use sim_core::{
    ClockModel, Deliver, Durable, Env, NodeId, Sim, SimEnv, SimError, SimTime, Timeout,
};

type Log = Rc<RefCell<Vec<String>>>;

/// A test actor: counts messages in volatile and durable state, logs what it sees, and obeys
/// commands carried in its messages.
struct Probe<E> {
    env: E,
    durable: Durable<u64>,
    volatile: u64,
    log: Log,
}

#[derive(Clone, Debug, Hash, PartialEq)]
enum Cmd {
    Note(u32),
    SetTimer(u64),
    Panic,
    Notify,
    Stop,
    Spawn,
    Wait(u32),
    Forward(u32, u32),
}

/// A future that stays pending for `left` polls, waking itself each time (as a future woken
/// by something else in the same instant would).
struct PendingFor {
    left: u32,
}

impl std::future::Future for PendingFor {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.left == 0 {
            return std::task::Poll::Ready(());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[derive(Clone, Debug, Hash)]
struct Tag(u32);

impl<E: Env<Msg = Cmd, Timer = Tag>> Actor for Probe<E> {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.log
            .borrow_mut()
            .push(format!("{} started at {}", self.env.me(), self.env.now()));
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        self.log
            .borrow_mut()
            .push(format!("{} stopped", self.env.me()));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Notified;

impl<E: Env<Msg = Cmd, Timer = Tag>> Handler<Notified> for Probe<E> {
    type Result = ();
    fn handle(&mut self, _: Notified, _: &mut Context<Self>) {
        self.log.borrow_mut().push("notified".into());
    }
}

impl<E: Env<Msg = Cmd, Timer = Tag>> Handler<Deliver<Cmd>> for Probe<E> {
    type Result = ();
    fn handle(&mut self, d: Deliver<Cmd>, ctx: &mut Context<Self>) {
        self.volatile += 1;
        *self.durable.borrow_mut() += 1;
        match d.msg {
            Cmd::Note(i) => self.log.borrow_mut().push(format!(
                "{} got {i} at {}",
                self.env.me(),
                self.env.elapsed()
            )),
            Cmd::SetTimer(ms) => {
                self.env
                    .set_timer(Duration::from_millis(ms), Tag(ms as u32));
            }
            Cmd::Panic => panic!("boom"),
            Cmd::Notify => ctx.notify(Notified),
            Cmd::Stop => ctx.stop(),
            Cmd::Spawn => {
                let fut = async { 41 + 1 };
                ctx.spawn(
                    fut.into_actor(self)
                        .map(|v, act, _| act.log.borrow_mut().push(format!("spawned {v}"))),
                );
            }
            Cmd::Wait(polls) => ctx.wait(
                PendingFor { left: polls }
                    .into_actor(self)
                    .map(|_, act, _| act.log.borrow_mut().push("waited".into())),
            ),
            Cmd::Forward(to, i) => self.env.send(NodeId(to), Cmd::Note(i)),
        }
    }
}

impl<E: Env<Msg = Cmd, Timer = Tag>> Handler<Timeout<Tag>> for Probe<E> {
    type Result = ();
    fn handle(&mut self, t: Timeout<Tag>, _: &mut Context<Self>) {
        self.log.borrow_mut().push(format!(
            "{} timer {} at {} local {}",
            self.env.me(),
            t.tag.0,
            self.env.elapsed(),
            self.env.now()
        ));
    }
}

/// Asks the actor for (volatile, durable) counts.
#[derive(Message)]
#[rtype(result = "(u64, u64)")]
struct Counts;

impl<E: Env<Msg = Cmd, Timer = Tag>> Handler<Counts> for Probe<E> {
    type Result = MessageResult<Counts>;
    fn handle(&mut self, _: Counts, _: &mut Context<Self>) -> MessageResult<Counts> {
        MessageResult((self.volatile, *self.durable.borrow()))
    }
}

/// A handler answering through an actor future (ResponseActFuture).
#[derive(Message)]
#[rtype(result = "u64")]
struct Later(u64);

impl<E: Env<Msg = Cmd, Timer = Tag>> Handler<Later> for Probe<E> {
    type Result = ResponseActFuture<Self, u64>;
    fn handle(&mut self, m: Later, _: &mut Context<Self>) -> Self::Result {
        Box::pin(
            async move { m.0 * 2 }
                .into_actor(self)
                .map(|v, act, _| v + act.volatile),
        )
    }
}

type P = Probe<SimEnv<Cmd, Tag>>;

fn add(sim: &mut Sim<Cmd>, log: &Log) -> NodeId {
    let log = Rc::clone(log);
    sim.add_node("probe", 0u64, move |env, durable| Probe {
        env,
        durable,
        volatile: 0,
        log: Rc::clone(&log),
    })
}

fn setup(n: usize) -> (Sim<Cmd>, Log, Vec<NodeId>) {
    let mut sim = Sim::with_network(1, PerfectNetwork::new(Duration::from_millis(1)));
    let log: Log = Rc::default();
    let ids = (0..n).map(|_| add(&mut sim, &log)).collect();
    (sim, log, ids)
}

fn lines(log: &Log, pat: &str) -> Vec<String> {
    log.borrow()
        .iter()
        .filter(|l| l.contains(pat))
        .cloned()
        .collect()
}

#[test]
fn started_runs_at_add_time() {
    let (mut sim, log, _) = setup(2);
    sim.run_until_quiescent().unwrap();
    assert_eq!(lines(&log, "started").len(), 2);
}

#[test]
fn crash_loses_volatile_state_and_keeps_durable_state() {
    let (mut sim, _log, ids) = setup(2);
    for i in 0..3 {
        sim.post(ids[1], ids[0], Cmd::Note(i));
    }
    sim.run_until_quiescent().unwrap();
    assert_eq!(sim.ask::<P, _>(ids[0], Counts).unwrap(), (3, 3));
    sim.crash(ids[0]).unwrap();
    assert!(
        sim.ask::<P, _>(ids[0], Counts).is_err(),
        "a crashed node has no actor"
    );
    sim.restart(ids[0]).unwrap();
    sim.run_until_quiescent().unwrap();
    assert_eq!(sim.ask::<P, _>(ids[0], Counts).unwrap(), (0, 3));
    assert_eq!(*sim.durable::<u64>(ids[0]).unwrap().borrow(), 3);
}

#[test]
fn no_timer_fires_on_a_crashed_node() {
    let (mut sim, log, ids) = setup(2);
    sim.post(ids[1], ids[0], Cmd::SetTimer(10));
    sim.run_until(SimTime::from_millis(5)).unwrap();
    sim.crash(ids[0]).unwrap();
    sim.run_until(SimTime::from_millis(8)).unwrap();
    sim.restart(ids[0]).unwrap();
    sim.run_until(SimTime::from_millis(100)).unwrap();
    assert!(lines(&log, "timer").is_empty(), "{:?}", log.borrow());
    // A timer set by the new incarnation does fire.
    sim.post(ids[1], ids[0], Cmd::SetTimer(10));
    sim.run_until(SimTime::from_millis(200)).unwrap();
    assert_eq!(lines(&log, "timer").len(), 1);
}

#[test]
fn messages_in_flight_to_a_crashed_node_are_dropped() {
    let (mut sim, log, ids) = setup(2);
    sim.run_until_quiescent().unwrap();
    sim.post(ids[1], ids[0], Cmd::Note(7)); // arrives at +1 ms
    sim.crash(ids[0]).unwrap();
    sim.restart(ids[0]).unwrap(); // back before the arrival time
    sim.run_until_quiescent().unwrap();
    assert!(lines(&log, "got 7").is_empty());
    assert_eq!(sim.counters().dropped(DropCause::Crashed), 1);
}

#[test]
fn paused_node_gets_held_messages_in_order_after_resume() {
    let (mut sim, log, ids) = setup(2);
    sim.run_until_quiescent().unwrap();
    sim.pause(ids[0]).unwrap();
    for i in 0..10 {
        sim.post(ids[1], ids[0], Cmd::Note(i));
    }
    sim.run_until(SimTime::from_millis(50)).unwrap();
    assert!(
        lines(&log, "got").is_empty(),
        "nothing delivered while paused"
    );
    sim.resume(ids[0]).unwrap();
    sim.run_until_quiescent().unwrap();
    let got: Vec<String> = lines(&log, "got")
        .iter()
        .map(|l| l.split(' ').nth(2).unwrap().to_string())
        .collect();
    assert_eq!(got, (0..10).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(
        lines(&log, "got 0 at 0.050000s").len() == 1,
        "held messages are delivered at resume time"
    );
}

#[test]
fn actix_features_work_under_the_kernel() {
    let (mut sim, log, ids) = setup(2);
    sim.post(ids[1], ids[0], Cmd::Notify);
    sim.post(ids[1], ids[0], Cmd::Spawn);
    sim.run_until_quiescent().unwrap();
    assert_eq!(lines(&log, "notified").len(), 1);
    assert_eq!(lines(&log, "spawned 42").len(), 1);
    assert_eq!(sim.ask::<P, _>(ids[0], Later(5)).unwrap(), 12);
    sim.post(ids[1], ids[0], Cmd::Stop);
    sim.run_until_quiescent().unwrap();
    assert_eq!(lines(&log, "n0 stopped").len(), 1);
    // A stopped actor is gone: messages to it are dropped as to a crashed node.
    sim.post(ids[1], ids[0], Cmd::Note(1));
    sim.run_until_quiescent().unwrap();
    assert_eq!(sim.counters().dropped(DropCause::Crashed), 1);
}

#[test]
fn messages_wait_while_the_actor_waits_on_ctx_wait() {
    let (mut sim, log, ids) = setup(2);
    // Both arrive at 1 ms; the wait future needs three polls, so the note arrives mid-wait.
    sim.post(ids[1], ids[0], Cmd::Wait(3));
    sim.post(ids[1], ids[0], Cmd::Note(7));
    sim.run_until_quiescent().unwrap();
    let seen: Vec<String> = log
        .borrow()
        .iter()
        .filter(|l| l.contains("waited") || l.contains("got 7"))
        .cloned()
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0], "waited",
        "the note was handled during ctx.wait: {seen:?}"
    );
    assert!(seen[1].contains("got 7"));
    assert!(
        sim.counters().polls > 2,
        "the wait future was polled on its wake-ups"
    );
}

#[test]
fn an_actor_panic_ends_the_run_with_an_error_naming_seed_node_and_event() {
    let (mut sim, _log, ids) = setup(2);
    sim.post(ids[1], ids[0], Cmd::Panic);
    let err = sim.run_until_quiescent().unwrap_err();
    match &err {
        SimError::ActorPanic {
            seed,
            node,
            message,
            event,
            ..
        } => {
            assert_eq!((*seed, *node, message.as_str()), (1, ids[0], "boom"));
            assert!(event.contains("message"), "{event}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("seed 1"));
    // The run stays failed; results computed so far remain readable.
    assert!(sim.step().is_err());
    assert!(sim.counters().delivered >= 1);
}

#[test]
fn sends_to_unknown_nodes_are_counted_drops() {
    let (mut sim, _log, ids) = setup(2);
    sim.post(ids[1], ids[0], Cmd::Forward(99, 1));
    sim.run_until_quiescent().unwrap();
    assert_eq!(sim.counters().dropped(DropCause::UnknownNode), 1);
    assert_eq!(
        sim.crash(NodeId(42)),
        Err(SimError::UnknownNode(NodeId(42)))
    );
}

#[test]
fn clock_offset_and_drift_apply_to_now_and_timers() {
    let (mut sim, log, ids) = setup(2);
    sim.set_clock(
        ids[0],
        ClockModel {
            offset_ns: 1_000_000_000,
            drift_ppm: 100_000,
        },
    )
    .unwrap();
    sim.post(ids[1], ids[0], Cmd::SetTimer(110)); // arrives at 1 ms
    sim.run_until_quiescent().unwrap();
    // 110 ms of a clock running 10% fast take 100 ms of true time.
    let fired = lines(&log, "timer 110");
    assert_eq!(fired.len(), 1);
    assert!(fired[0].contains("at 0.101000s"), "{fired:?}");
    assert!(fired[0].contains("local 1.111100s"), "{fired:?}");
    assert!(matches!(
        sim.set_clock(
            ids[0],
            ClockModel {
                offset_ns: 0,
                drift_ppm: -1_000_000
            }
        ),
        Err(SimError::InvalidConfig { .. })
    ));
}

/// Records the first draw of every `on_send` from the network stream.
struct Recording(Rc<RefCell<Vec<u64>>>);

impl Network<Cmd> for Recording {
    fn on_send(&mut self, now: SimTime, p: Packet<Cmd>, rng: &mut Pcg64, out: &mut Outbox<Cmd>) {
        self.0.borrow_mut().push(rng.random());
        out.deliver(now + Duration::from_millis(1), p);
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[test]
fn adding_a_node_does_not_change_the_network_streams_draws() {
    let draws = |extra: bool| {
        let rec = Rc::new(RefCell::new(Vec::new()));
        let mut sim = Sim::with_network(9, Recording(Rc::clone(&rec)));
        let log: Log = Rc::default();
        let a = add(&mut sim, &log);
        let b = add(&mut sim, &log);
        if extra {
            add(&mut sim, &log);
        }
        for i in 0..5 {
            sim.post(a, b, Cmd::Forward(a.0, i));
        }
        sim.run_until_quiescent().unwrap();
        let v = rec.borrow().clone();
        v
    };
    let (two, three) = (draws(false), draws(true));
    assert_eq!(two.len(), 10);
    assert_eq!(two, three);
}

#[test]
fn event_limit_guards_against_livelock() {
    let (mut sim, _log, ids) = setup(2);
    for i in 0..10 {
        sim.post(ids[1], ids[0], Cmd::Note(i));
    }
    sim.set_event_limit(5);
    assert!(matches!(
        sim.run_until_quiescent(),
        Err(SimError::EventLimit { limit: 5, .. })
    ));
}

/// Sets a timer of zero delay every time one fires: virtual time stops.
struct Spinner {
    env: SimEnv<u8, ()>,
}
impl Actor for Spinner {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.env.set_timer(Duration::ZERO, ());
    }
}
impl Handler<Deliver<u8>> for Spinner {
    type Result = ();
    fn handle(&mut self, _: Deliver<u8>, _: &mut Context<Self>) {}
}
impl Handler<Timeout<()>> for Spinner {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {
        self.env.set_timer(Duration::ZERO, ());
    }
}

#[test]
fn a_loop_at_one_instant_is_a_livelock_error_not_a_hang() {
    let mut sim: Sim<u8> = Sim::new(3);
    sim.add_node("spin", (), |env: SimEnv<u8, ()>, _: Durable<()>| Spinner {
        env,
    });
    match sim.run_until(SimTime::from_secs(1)) {
        Err(SimError::Livelock { events, .. }) => assert!(events >= 1 << 22),
        other => panic!("expected a livelock error, got {other:?}"),
    }
}

#[test]
fn a_fast_clocks_shortest_wait_still_moves_time() {
    let fast = sim_core::ClockModel {
        offset_ns: 0,
        drift_ppm: 200_000,
    };
    for ns in [1u64, 2, 3, 7, 1_000_001] {
        let d = fast.true_duration(Duration::from_nanos(ns));
        assert!(d >= Duration::from_nanos(1), "{ns} ns");
        // Waiting `d` of true time advances the local clock by at least `ns - 1`.
        let t0 = SimTime::from_millis(1234);
        let advanced = fast.local(t0 + d).as_nanos() - fast.local(t0).as_nanos();
        assert!(advanced + 1 >= ns, "{ns} ns: local advanced {advanced}");
    }
}
