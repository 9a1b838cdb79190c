//! Seeded property tests of the faulty network's guarantees.

mod common;

use std::collections::BTreeMap;

use common::{log, send_at, sinks, Log};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use sim_core::{NodeId, Sim, SimTime};
use sim_net::{with_net, Latency, LinkConfig, NetConfig, Partition, PartitionSpec};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x00ac_751d),
        ..ProptestConfig::default()
    }
}

/// A network action at a whole millisecond (sends happen at half milliseconds, so the order
/// of a send and a change is never a tie).
#[derive(Clone, Debug)]
enum Change {
    Split(Vec<u32>),
    OneWay(u32, u32),
    Heal,
    Clog(Vec<u32>),
    Unclog,
    Pause(u32),
    Resume(u32),
}

fn change(n: u32, with_nodes: bool) -> impl Strategy<Value = Change> {
    let side = proptest::collection::vec(0..n, 1..=n as usize);
    let mut options = vec![
        side.clone().prop_map(Change::Split).boxed(),
        (0..n, 0..n).prop_map(|(a, b)| Change::OneWay(a, b)).boxed(),
        Just(Change::Heal).boxed(),
        side.prop_map(Change::Clog).boxed(),
        Just(Change::Unclog).boxed(),
    ];
    if with_nodes {
        options.push((0..n).prop_map(Change::Pause).boxed());
        options.push((0..n).prop_map(Change::Resume).boxed());
    }
    proptest::strategy::Union::new(options)
}

fn halves(n: u32, side: &[u32]) -> Partition {
    let a: Vec<NodeId> = side.iter().copied().map(NodeId).collect();
    let b: Vec<NodeId> = (0..n).map(NodeId).filter(|x| !a.contains(x)).collect();
    Partition::split(&[a, b])
}

fn apply(sim: &mut Sim<u64>, n: u32, c: &Change) {
    match c {
        Change::Split(side) => {
            let p = halves(n, side);
            with_net(sim, |net, now, _| net.set_partition(now, p))
                .unwrap()
                .unwrap();
        }
        Change::OneWay(a, b) => {
            let p = Partition::one_way([NodeId(*a)], [NodeId(*b)]);
            with_net(sim, |net, now, _| net.set_partition(now, p))
                .unwrap()
                .unwrap();
        }
        Change::Heal => with_net(sim, |net, now, _| net.heal(now)).unwrap(),
        Change::Clog(side) => {
            let p = halves(n, side);
            with_net(sim, |net, now, out| net.set_clogged(now, p, out))
                .unwrap()
                .unwrap();
        }
        Change::Unclog => with_net(sim, |net, now, out| net.unclog(now, out)).unwrap(),
        Change::Pause(x) => sim.pause(NodeId(*x)).unwrap(),
        Change::Resume(x) => sim.resume(NodeId(*x)).unwrap(),
    }
}

/// Runs `sends` (ms, from, to) and `changes` (ms, change); message ids are send order.
/// Returns the sim and, per id, (send time, from, to).
fn run(
    seed: u64,
    n: u32,
    link: LinkConfig,
    sends: &[(u32, u32, u32)],
    changes: &[(u32, Change)],
    finally_open: bool,
) -> (Sim<u64>, Vec<(SimTime, NodeId, NodeId)>) {
    let mut sim = sinks(seed, n, NetConfig::default().with_default(link));
    let mut sent = Vec::new();
    let mut sends = sends.to_vec();
    sends.sort_by_key(|s| s.0);
    for (id, &(ms, a, b)) in sends.iter().enumerate() {
        let at = SimTime::from_nanos(u64::from(ms) * 1_000_000 + 500_000);
        send_at(&mut sim, at, NodeId(a), NodeId(b), id as u64);
        sent.push((at, NodeId(a), NodeId(b)));
    }
    for (ms, c) in changes {
        let c = c.clone();
        sim.schedule(SimTime::from_millis(u64::from(*ms)), "change", move |sim| {
            apply(sim, n, &c)
        });
    }
    if finally_open {
        sim.schedule(SimTime::from_secs(10), "open", move |sim| {
            for i in 0..n {
                sim.resume(NodeId(i)).unwrap();
            }
            with_net(sim, |net, now, out| {
                net.heal(now);
                net.unclog(now, out);
            })
            .unwrap();
        });
    }
    sim.run_until_quiescent().unwrap();
    (sim, sent)
}

fn deliveries(sim: &Sim<u64>, n: u32) -> Vec<(NodeId, Log)> {
    (0..n).map(|i| (NodeId(i), log(sim, NodeId(i)))).collect()
}

fn link(fifo: bool, loss: f64, dup: f64) -> LinkConfig {
    LinkConfig {
        latency: Latency::uniform_ms(1.0, 40.0),
        loss,
        duplicate: dup,
        fifo,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Nothing crosses a blocked link while it is blocked: no delivery happens while its link
    /// is cut, and nothing sent while its link was blocked is ever delivered.
    #[test]
    fn nothing_crosses_a_blocked_link(
        seed in any::<u64>(),
        n in 2u32..6,
        sends in proptest::collection::vec((0u32..1000, 0u32..6, 0u32..6), 1..300),
        changes in proptest::collection::vec((0u32..1000, change(6, false)), 0..12),
        fifo in any::<bool>(),
    ) {
        let sends: Vec<_> = sends.into_iter().map(|(t, a, b)| (t, a % n, b % n)).collect();
        let changes: Vec<_> = changes.into_iter()
            .filter(|(_, c)| !matches!(c, Change::Clog(_) | Change::Unclog))
            .map(|(t, c)| (t, match c {
                Change::Split(s) => Change::Split(s.into_iter().map(|x| x % n).collect()),
                Change::OneWay(a, b) => Change::OneWay(a % n, b % n),
                c => c,
            }))
            .collect();
        let (mut sim, sent) = run(seed, n, link(fifo, 0.0, 0.1), &sends, &changes, false);
        let timeline = with_net(&mut sim, |net, _, _| net.timeline().clone()).unwrap();
        for (to, got) in deliveries(&sim, n) {
            for (at, from, id) in got {
                let (sent_at, _, _) = sent[id as usize];
                prop_assert!(timeline.can_reach_at(at, from, to),
                    "{from}->{to} message {id} delivered at {at} across a cut");
                prop_assert!(timeline.can_reach_at(sent_at, from, to),
                    "{from}->{to} message {id} sent at {sent_at} while cut, delivered at {at}");
            }
        }
    }

    /// FIFO links never reorder, whatever the partitions, clogs and pauses, mixed (the kernel
    /// holds a paused node's messages only after the network admitted them, so a clog released
    /// during a pause cannot be overtaken).
    #[test]
    fn fifo_links_never_reorder(
        seed in any::<u64>(),
        n in 2u32..5,
        sends in proptest::collection::vec((0u32..600, 0u32..5, 0u32..5), 1..400),
        changes in proptest::collection::vec((0u32..700, change(5, true)), 0..16),
        loss in 0.0f64..0.2,
        dup in 0.0f64..0.2,
    ) {
        let sends: Vec<_> = sends.into_iter().map(|(t, a, b)| (t, a % n, b % n)).collect();
        let changes: Vec<_> = changes.into_iter()
            .map(|(t, c)| (t, match c {
            Change::Split(s) => Change::Split(s.into_iter().map(|x| x % n).collect()),
            Change::Clog(s) => Change::Clog(s.into_iter().map(|x| x % n).collect()),
            Change::OneWay(a, b) => Change::OneWay(a % n, b % n),
            Change::Pause(x) => Change::Pause(x % n),
            Change::Resume(x) => Change::Resume(x % n),
            c => c,
        })).collect();
        let (sim, _) = run(seed, n, link(true, loss, dup), &sends, &changes, true);
        for (to, got) in deliveries(&sim, n) {
            let mut last: BTreeMap<NodeId, u64> = BTreeMap::new();
            for (at, from, id) in got {
                let prev = last.insert(from, id);
                if let Some(prev) = prev {
                    prop_assert!(prev <= id, "{from}->{to}: {id} delivered at {at} after {prev}");
                }
            }
        }
    }

    /// Clogged messages are all delivered after the unclog, in send order on FIFO links.
    #[test]
    fn clogged_messages_are_released_in_order(
        seed in any::<u64>(),
        fifo in any::<bool>(),
        sends in proptest::collection::vec(0u32..400, 1..200),
        clog_at in 0u32..100,
        unclog_at in 100u32..500,
    ) {
        let sends: Vec<_> = sends.into_iter().map(|t| (t, 0, 1)).collect();
        let changes = vec![
            (clog_at, Change::Clog(vec![0])),
            (unclog_at, Change::Unclog),
        ];
        let (mut sim, sent) = run(seed, 2, link(fifo, 0.0, 0.0), &sends, &changes, false);
        let got = log(&sim, NodeId(1));
        prop_assert_eq!(got.len(), sent.len(), "every message arrives exactly once");
        let clog = SimTime::from_millis(u64::from(clog_at));
        let unclog = SimTime::from_millis(u64::from(unclog_at));
        for &(at, _, id) in &got {
            let (sent_at, _, _) = sent[id as usize];
            if sent_at > clog && sent_at < unclog {
                prop_assert!(at > unclog, "message {} sent while clogged arrived at {}", id, at);
            }
        }
        if fifo {
            let ids: Vec<u64> = got.iter().map(|g| g.2).collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            prop_assert_eq!(ids, sorted);
        }
        prop_assert_eq!(with_net(&mut sim, |net, _, _| net.held_count()).unwrap(), 0);
    }

    /// After a heal, every message between any two nodes is delivered again.
    #[test]
    fn a_healed_network_delivers_again(
        seed in any::<u64>(),
        n in 2u32..7,
        shape in 0usize..4,
        pick in any::<u32>(),
    ) {
        let nodes: Vec<NodeId> = (0..n).map(NodeId).collect();
        let mut rng = sim_core::rng::stream(seed, sim_core::rng::Purpose::Custom(1));
        let spec = match shape {
            0 => PartitionSpec::random_halves(&nodes, &mut rng),
            1 => PartitionSpec::Isolate { node: NodeId(pick % n) },
            2 => PartitionSpec::random_bridge(&nodes, &mut rng),
            _ => PartitionSpec::random_majorities_ring(&nodes, &mut rng),
        };
        let mut sim = sinks(seed, n, NetConfig::default());
        let p = spec.resolve("p", n as usize).unwrap();
        with_net(&mut sim, |net, now, _| net.set_partition(now, p)).unwrap().unwrap();
        for a in 0..n { for b in 0..n { sim.post(NodeId(a), NodeId(b), 0); } }
        sim.run_until_quiescent().unwrap();
        with_net(&mut sim, |net, now, _| net.heal(now)).unwrap();
        for a in 0..n { for b in 0..n { sim.post(NodeId(a), NodeId(b), 1); } }
        sim.run_until_quiescent().unwrap();
        for b in 0..n {
            let after: Vec<_> = log(&sim, NodeId(b)).into_iter().filter(|g| g.2 == 1).collect();
            prop_assert_eq!(after.len(), n as usize);
        }
    }
}
