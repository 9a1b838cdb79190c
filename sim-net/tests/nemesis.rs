//! Fault schedules: determinism, JSON round trips, exact replay, and every fault kind applied.

mod common;

use common::{chatters, nemesis_rng};
use sim_core::{NodeId, NodeStatus, SimTime};
use sim_net::{
    with_net, Fault, FaultKind, Generator, LinkConfig, NetConfig, PartitionSpec, Schedule, Swarm,
};

fn generator() -> Generator {
    Generator::new((0..5).map(NodeId), 20_000).every(1_500, 1_000)
}

#[test]
fn the_same_seed_yields_the_same_schedule() {
    let a = generator().generate(&mut nemesis_rng(&chatters(11, 5, NetConfig::default())));
    let b = generator().generate(&mut nemesis_rng(&chatters(11, 5, NetConfig::default())));
    let c = generator().generate(&mut nemesis_rng(&chatters(12, 5, NetConfig::default())));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let swarm = Swarm::new((0..5).map(NodeId), 20_000);
    let s1 = swarm.draw(&mut nemesis_rng(&chatters(11, 5, NetConfig::default())));
    let s2 = swarm.draw(&mut nemesis_rng(&chatters(11, 5, NetConfig::default())));
    assert_eq!(s1.unwrap(), s2.unwrap());
}

#[test]
fn swarm_draws_different_mixes_across_seeds() {
    let swarm = Swarm::new((0..5).map(NodeId), 20_000);
    let mixes: std::collections::BTreeSet<Vec<FaultKind>> = (0..40)
        .map(|seed| {
            let (g, _) = swarm
                .draw(&mut sim_core::rng::stream(
                    seed,
                    sim_core::rng::Purpose::Nemesis,
                ))
                .unwrap();
            g.kinds
        })
        .collect();
    assert!(mixes.len() > 30, "only {} distinct mixes", mixes.len());
}

/// Runs 5 chatters for 25 s with `schedule` and returns the trace hash.
fn run(seed: u64, schedule: &Schedule) -> (sim_core::TraceHash, sim_core::Counters) {
    let cfg = NetConfig::default().with_default(LinkConfig {
        loss: 0.01,
        duplicate: 0.01,
        ..LinkConfig::default()
    });
    let mut sim = chatters(seed, 5, cfg);
    schedule.install(&mut sim).unwrap();
    sim.run_until(SimTime::from_secs(25)).unwrap();
    (sim.trace_hash(), sim.counters().clone())
}

#[test]
fn schedules_survive_json_and_replay_to_the_same_trace_hash() {
    for seed in 0..6 {
        // The schedule comes from the run's own nemesis stream; the generating run applies it.
        let sim = chatters(seed, 5, NetConfig::default());
        let (_, schedule) = Swarm::new((0..5).map(NodeId), 20_000)
            .draw(&mut nemesis_rng(&sim))
            .unwrap();
        let (hash, counters) = run(seed, &schedule);
        assert!(
            counters.faults + counters.crashes > 0,
            "seed {seed}: no fault"
        );

        let json = schedule.to_json();
        let back = Schedule::from_json(&json).unwrap();
        assert_eq!(
            back, schedule,
            "seed {seed}: JSON round trip changed the schedule"
        );
        assert_eq!(back.to_json(), json);
        let (replayed, _) = run(seed, &back);
        assert_eq!(replayed, hash, "seed {seed}: replay diverged");
    }
}

#[test]
fn a_hand_edited_schedule_is_checked_and_replayed() {
    let json = r#"{"entries": [
        {"at_ms": 1000, "fault": "partition", "shape": "majorities_ring", "ring": [0, 1, 2, 3, 4]},
        {"at_ms": 2000, "fault": "heal"},
        {"at_ms": 2500, "fault": "clog", "shape": "bridge", "left": [0, 1], "right": [3, 4], "bridge": 2},
        {"at_ms": 3000, "fault": "unclog"},
        {"at_ms": 3500, "fault": "crash", "node": 1},
        {"at_ms": 4000, "fault": "restart", "node": 1},
        {"at_ms": 4500, "fault": "pause", "node": 2},
        {"at_ms": 5000, "fault": "resume", "node": 2},
        {"at_ms": 5500, "fault": "clock", "node": 3, "offset_ms": -250.0, "drift_ppm": 5000},
        {"at_ms": 6000, "fault": "set_links", "links": {"from": [4]}, "patch": {"loss": 0.5, "latency": {"dist": "pareto", "scale_ms": 2.0, "shape": 1.5, "max_ms": 500.0}}},
        {"at_ms": 6500, "fault": "partition", "shape": "one_way", "from": [0], "to": [1, 2]},
        {"at_ms": 7000, "fault": "heal_all", "nodes": [0, 1, 2, 3, 4]}
    ]}"#;
    let s = Schedule::from_json(json).unwrap();
    assert_eq!(s.len(), 12);
    let (a, counters) = run(3, &s);
    let (b, _) = run(3, &s);
    assert_eq!(a, b);
    assert_eq!(counters.crashes, 1);
    assert_eq!(counters.restarts, 1);

    // Unknown node: rejected with the entry and field named.
    let bad = json.replace(r#""crash", "node": 1"#, r#""crash", "node": 9"#);
    let err = Schedule::from_json(&bad)
        .unwrap()
        .install(&mut chatters(1, 5, NetConfig::default()))
        .unwrap_err();
    assert_eq!(err.field(), "entries[4].node");
    let bad = json.replace(r#""loss": 0.5"#, r#""loss": 1.5"#);
    let err = Schedule::from_json(&bad)
        .unwrap()
        .install(&mut chatters(1, 5, NetConfig::default()))
        .unwrap_err();
    assert_eq!(err.field(), "entries[9].patch.loss");
    let bad = json.replace(r#""ring": [0, 1, 2, 3, 4]"#, r#""ring": [0, 1, 2, 3, 7]"#);
    let err = Schedule::from_json(&bad)
        .unwrap()
        .install(&mut chatters(1, 5, NetConfig::default()))
        .unwrap_err();
    assert_eq!(err.field(), "entries[0].ring");
}

#[test]
fn generated_schedules_leave_the_system_healed() {
    for seed in 0..10 {
        let mut sim = chatters(seed, 6, NetConfig::default());
        let g = Generator::new((0..4).map(NodeId), 15_000).every(1_000, 900);
        let s = g.generate(&mut nemesis_rng(&sim)).unwrap();
        s.install(&mut sim).unwrap();
        sim.run_until(SimTime::from_secs(16)).unwrap();
        for n in sim.node_ids().collect::<Vec<_>>() {
            assert_eq!(sim.status(n), Some(NodeStatus::Up), "seed {seed}: {n}");
            assert_eq!(sim.clock(n), Some(Default::default()), "seed {seed}: {n}");
        }
        let (cut, held, link) = with_net(&mut sim, |net, _, _| {
            (
                net.partition().len() + net.clogged().len(),
                net.held_count(),
                net.link(NodeId(0), NodeId(1)),
            )
        })
        .unwrap();
        assert_eq!((cut, held), (0, 0), "seed {seed}");
        assert_eq!(link, LinkConfig::default(), "seed {seed}");
    }
}

#[test]
fn generators_act_only_on_their_nodes() {
    let g = Generator::new([NodeId(1), NodeId(2), NodeId(3)], 60_000).every(500, 400);
    let s = g
        .generate(&mut sim_core::rng::stream(
            4,
            sim_core::rng::Purpose::Nemesis,
        ))
        .unwrap();
    for e in &s.entries {
        if let Some(n) = e.fault.node() {
            assert!((1..=3).contains(&n.0), "{:?}", e);
        }
        if let Fault::Partition(spec) | Fault::Clog(spec) = &e.fault {
            assert!(
                spec.nodes().iter().all(|n| (1..=3).contains(&n.0)),
                "{:?}",
                e
            );
        }
    }
    // Every kind shows up over a long schedule.
    for kind in FaultKind::ALL {
        let s = Generator::new((0..5).map(NodeId), 10_000)
            .kinds([kind])
            .generate(&mut sim_core::rng::stream(
                1,
                sim_core::rng::Purpose::Nemesis,
            ))
            .unwrap();
        assert!(s.len() >= 3, "{kind:?}");
    }
}

#[test]
fn applied_faults_are_trace_events() {
    let base = Schedule::new().at(1_000, Fault::Heal);
    let with = base.clone().at(
        500,
        Fault::Partition(PartitionSpec::Isolate { node: NodeId(0) }),
    );
    let (h1, c1) = run(1, &base);
    let (h2, c2) = run(1, &with);
    assert_ne!(h1, h2);
    assert_eq!(c2.faults, c1.faults + 1);
}

#[test]
fn bad_generators_are_rejected_naming_the_field() {
    let g = Generator {
        duration_ms: 5_000,
        interval_ms: 1_000,
        ..generator()
    };
    assert_eq!(g.validate().unwrap_err().field(), "duration_ms");
    let g = Generator {
        probability: -0.1,
        ..generator()
    };
    assert_eq!(g.validate().unwrap_err().field(), "probability");
    let g = Generator {
        nodes: vec![],
        ..generator()
    };
    assert_eq!(g.validate().unwrap_err().field(), "nodes");
}

#[test]
fn times_past_the_clock_are_rejected_naming_the_field() {
    // A huge at_ms used to wrap (release) or panic (debug) in SimTime::from_millis.
    let json = r#"{"entries": [{"at_ms": 1000, "fault": "heal"}, {"at_ms": 18446744073709552, "fault": "heal"}]}"#;
    let err = Schedule::from_json(json).unwrap_err();
    assert_eq!(err.field(), "entries[1].at_ms");
    assert!(err.to_string().contains("18446744073709"), "{err}");
    // The same through validate, for schedules built in code.
    let s = Schedule::new().at(u64::MAX, sim_net::Fault::Heal);
    assert_eq!(s.validate(5).unwrap_err().field(), "entries[0].at_ms");
    // A latency longer than the clock would be clamped when sampled: rejected too.
    let json = r#"{"entries": [{"at_ms": 1, "fault": "set_links", "patch": {"latency": {"dist": "constant", "ms": 1e300}}}]}"#;
    let s = Schedule::from_json(json).unwrap();
    assert_eq!(
        s.validate(5).unwrap_err().field(),
        "entries[0].patch.latency.ms"
    );
    // Generator windows.
    let g = Generator::new((0..3).map(NodeId), u64::MAX);
    assert_eq!(g.validate().unwrap_err().field(), "end_ms");
}
