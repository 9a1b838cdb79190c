//! The network's behaviour through the kernel: drop causes, filters, clogging, reachability,
//! configuration errors.

mod common;

use std::time::Duration;

use common::{log, send_at, sinks};
use sim_core::network::DropCause;
use sim_core::{NodeId, SimTime};
use sim_net::filter::{every, nth};
use sim_net::{
    with_net, FaultyNetwork, Latency, LinkConfig, LinkPatch, Links, NetConfig, NetError, Partition,
    PartitionSpec, Verdict,
};

#[test]
fn every_drop_is_counted_by_cause() {
    let mut sim = sinks(
        1,
        3,
        NetConfig::default().with_rule(
            Links::between([NodeId(0)], [NodeId(2)]),
            LinkPatch {
                loss: Some(1.0),
                ..LinkPatch::default()
            },
        ),
    );
    sim.post(NodeId(0), NodeId(2), 1); // loss
    sim.post(NodeId(0), NodeId(9), 2); // unknown node
    with_net(&mut sim, |net, now, _| {
        net.set_partition(now, Partition::one_way([NodeId(1)], [NodeId(0)]))
    })
    .unwrap()
    .unwrap();
    sim.post(NodeId(1), NodeId(0), 3); // partition
    with_net(&mut sim, |net, _, _| {
        net.add_filter(every(|_, _, _, m: &u64| *m == 4, Verdict::Drop))
    })
    .unwrap();
    sim.post(NodeId(2), NodeId(1), 4); // filter
    sim.crash(NodeId(1)).unwrap();
    sim.post(NodeId(2), NodeId(1), 5); // crashed
    sim.run_until_quiescent().unwrap();
    let c = sim.counters();
    for cause in DropCause::ALL {
        assert_eq!(c.dropped(cause), 1, "{cause}");
    }
}

#[test]
fn a_filter_loses_the_third_append_to_node_2() {
    let mut sim = sinks(1, 3, NetConfig::default());
    with_net(&mut sim, |net, _, _| {
        net.add_filter(nth(
            3,
            |_, _, to, m: &u64| to == NodeId(2) && *m >= 100,
            Verdict::Drop,
        ))
    })
    .unwrap();
    for i in 0..5 {
        sim.post(NodeId(0), NodeId(2), 100 + i);
        sim.post(NodeId(0), NodeId(1), 100 + i);
    }
    sim.run_until_quiescent().unwrap();
    let mut got: Vec<u64> = log(&sim, NodeId(2)).iter().map(|g| g.2).collect();
    got.sort_unstable();
    assert_eq!(got, [100, 101, 103, 104]);
    assert_eq!(log(&sim, NodeId(1)).len(), 5);
    assert_eq!(sim.counters().dropped(DropCause::Filter), 1);
}

#[test]
fn a_filter_holds_and_delays_chosen_messages() {
    let mut sim = sinks(2, 2, NetConfig::default());
    let (hold, _delay) = with_net(&mut sim, |net, _, _| {
        (
            net.add_filter(every(|_, _, _, m: &u64| *m == 1, Verdict::Hold)),
            net.add_filter(every(
                |_, _, _, m: &u64| *m == 2,
                Verdict::Delay(Duration::from_secs(1)),
            )),
        )
    })
    .unwrap();
    for m in 0..3 {
        sim.post(NodeId(0), NodeId(1), m);
    }
    sim.run_until(SimTime::from_millis(500)).unwrap();
    let got: Vec<u64> = log(&sim, NodeId(1)).iter().map(|g| g.2).collect();
    assert_eq!(got, [0]);
    sim.run_until(SimTime::from_secs(2)).unwrap();
    assert!(log(&sim, NodeId(1))
        .iter()
        .any(|&(at, _, m)| m == 2 && at >= SimTime::from_secs(1)));
    let released = with_net(&mut sim, |net, now, out| {
        assert!(net.remove_filter(hold));
        net.release_filtered(now, out)
    })
    .unwrap();
    assert_eq!(released, 1);
    sim.run_until_quiescent().unwrap();
    let last = *log(&sim, NodeId(1)).last().unwrap();
    assert_eq!(last.2, 1);
    assert!(last.0 > SimTime::from_secs(2));
}

#[test]
fn clogging_holds_instead_of_dropping() {
    let mut sim = sinks(3, 2, NetConfig::default());
    with_net(&mut sim, |net, now, out| {
        net.set_clogged(now, Partition::split(&[[NodeId(0)], [NodeId(1)]]), out)
    })
    .unwrap()
    .unwrap();
    for m in 0..10 {
        send_at(&mut sim, SimTime::from_millis(m), NodeId(0), NodeId(1), m);
    }
    sim.run_until(SimTime::from_secs(1)).unwrap();
    assert!(log(&sim, NodeId(1)).is_empty());
    assert_eq!(with_net(&mut sim, |n, _, _| n.held_count()).unwrap(), 10);
    assert!(!with_net(&mut sim, |n, _, _| n.can_reach(NodeId(0), NodeId(1))).unwrap());
    with_net(&mut sim, |net, now, out| net.unclog(now, out)).unwrap();
    sim.run_until_quiescent().unwrap();
    assert_eq!(log(&sim, NodeId(1)).len(), 10);
    assert_eq!(sim.counters().dropped_total(), 0);
}

#[test]
fn reachability_now_and_from_the_timeline() {
    let mut sim = sinks(4, 5, NetConfig::default());
    let ring = PartitionSpec::MajoritiesRing {
        ring: (0..5).map(NodeId).collect(),
    };
    sim.schedule(SimTime::from_secs(1), "ring", move |sim| {
        let p = ring.resolve("p", 5).unwrap();
        with_net(sim, |net, now, _| {
            net.set_partition(now, p).unwrap();
            for a in 0..5 {
                let r = net.reachable_from(NodeId(a));
                assert_eq!(r.len(), 3, "{a}: {r:?}");
            }
        })
        .unwrap();
    });
    sim.schedule(SimTime::from_secs(2), "heal", |sim| {
        with_net(sim, |net, now, _| net.heal(now)).unwrap()
    });
    sim.run_until_quiescent().unwrap();
    let tl = with_net(&mut sim, |net, _, _| net.timeline().clone()).unwrap();
    assert_eq!(
        tl.reachable_at(SimTime::from_millis(999), NodeId(0)).len(),
        5
    );
    assert_eq!(
        tl.reachable_at(SimTime::from_millis(1500), NodeId(0)).len(),
        3
    );
    assert_eq!(tl.reachable_at(SimTime::from_secs(2), NodeId(0)).len(), 5);
    assert_eq!(tl.changes().len(), 2);
}

#[test]
fn bad_configuration_is_rejected_naming_the_field() {
    let field = |r: Result<FaultyNetwork<u64>, NetError>| r.unwrap_err().field().to_string();
    let with = |l: LinkConfig| FaultyNetwork::<u64>::new(NetConfig::new(3).with_default(l));
    assert_eq!(
        field(with(LinkConfig {
            loss: 1.5,
            ..LinkConfig::default()
        })),
        "default.loss"
    );
    assert_eq!(
        field(with(LinkConfig {
            duplicate: -0.1,
            ..LinkConfig::default()
        })),
        "default.duplicate"
    );
    assert_eq!(
        field(with(LinkConfig {
            loss: f64::NAN,
            ..LinkConfig::default()
        })),
        "default.loss"
    );
    assert_eq!(
        field(with(LinkConfig {
            latency: Latency::uniform_ms(-1.0, 5.0),
            ..LinkConfig::default()
        })),
        "default.latency.min_ms"
    );
    assert_eq!(
        field(with(LinkConfig {
            latency: Latency::uniform_ms(9.0, 5.0),
            ..LinkConfig::default()
        })),
        "default.latency.max_ms"
    );
    assert_eq!(
        field(with(LinkConfig {
            latency: Latency::Exponential {
                floor_ms: 5.0,
                mean_ms: 1.0
            },
            ..LinkConfig::default()
        })),
        "default.latency.mean_ms"
    );
    let rule = NetConfig::new(3).with_rule(
        Links::between([NodeId(0)], [NodeId(5)]),
        LinkPatch::default(),
    );
    assert_eq!(field(FaultyNetwork::new(rule)), "rules[0].links.to");

    // A partition naming an unknown node.
    let mut net = FaultyNetwork::<u64>::new(NetConfig::new(3)).unwrap();
    let err = net
        .set_partition(SimTime::ZERO, Partition::one_way([NodeId(0)], [NodeId(3)]))
        .unwrap_err();
    assert_eq!(err.field(), "partition");
    assert!(err.to_string().contains("n3"), "{err}");
    let err = net
        .patch_links(
            Links::all(),
            LinkPatch {
                loss: Some(2.0),
                ..LinkPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.field(), "patch.loss");

    // JSON with a negative latency names the field too.
    let json = r#"{"nodes": 3, "default": {"latency": {"dist": "constant", "ms": -2}}}"#;
    let cfg: NetConfig = serde_json::from_str(json).unwrap();
    assert_eq!(field(FaultyNetwork::new(cfg)), "default.latency.ms");
}

#[test]
fn per_link_overrides_apply_to_their_links_only() {
    let cfg = NetConfig::default()
        .with_default(LinkConfig {
            latency: Latency::constant_ms(1.0),
            ..LinkConfig::default()
        })
        .with_rule(
            Links::between([NodeId(0)], [NodeId(1)]),
            LinkPatch {
                latency: Some(Latency::constant_ms(50.0)),
                ..LinkPatch::default()
            },
        );
    let mut sim = sinks(1, 2, cfg);
    sim.post(NodeId(0), NodeId(1), 0);
    sim.post(NodeId(1), NodeId(0), 1);
    sim.run_until_quiescent().unwrap();
    assert_eq!(log(&sim, NodeId(1))[0].0, SimTime::from_millis(50));
    assert_eq!(log(&sim, NodeId(0))[0].0, SimTime::from_millis(1));
}

#[test]
fn same_seed_same_trace_through_the_faulty_network() {
    let run = || {
        let mut sim = common::chatters(
            8,
            4,
            NetConfig::default().with_default(LinkConfig {
                loss: 0.05,
                duplicate: 0.05,
                latency: Latency::LogNormal {
                    median_ms: 5.0,
                    sigma: 1.0,
                    max_ms: Some(1_000.0),
                },
                fifo: false,
            }),
        );
        sim.run_until(SimTime::from_secs(5)).unwrap();
        sim.trace_hash()
    };
    assert_eq!(run(), run());
}
