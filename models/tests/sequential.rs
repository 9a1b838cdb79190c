//! The sequential (ZooKeeper-style) protocol under faults: Raft invariants, convergence, session
//! order (read your writes, monotonic reads), CAP behaviour, and the planted no-session bug.

mod common;
mod raft_common;

use std::time::Duration;

use models::client::Routing;
use models::raft::RoleName;
use models::runner::{Runner, SeedOutcome};
use models::sequential::{status, Sequential};
use raft_common::*;
use sim_core::{NodeId, SimTime};

fn proto(protocol: Sequential) -> Proto<Sequential> {
    Proto { protocol, status }
}

/// The seed runner for test `name` of this file (`ACTSIM_SEED`, `ACTSIM_SEEDS`, ...), with a
/// reproduce line that reruns exactly that test.
fn runner(name: &'static str, seeds: std::ops::Range<u64>) -> Runner {
    Runner::new(name)
        .seeds(seeds)
        .from_env()
        .reproduce_with(move |s| {
            format!("ACTSIM_SEED={s} cargo test -p models --test sequential {name} -- --exact")
        })
}

/// Client `c` lives at replica `c % n` and may try every replica.
fn spread(n: u32) -> impl Fn(usize) -> Routing {
    move |c| Routing::Leader {
        home: NodeId(c as u32 % n),
        replicas: (0..n).map(NodeId).collect(),
    }
}

fn ms(t: u64) -> SimTime {
    SimTime::from_millis(t)
}

fn assert_clean(what: &str, seed: u64, v: &[String]) {
    assert!(
        v.is_empty(),
        "seed {seed}: {what}: {:#?}",
        &v[..v.len().min(10)]
    );
}

#[test]
fn no_faults_every_operation_succeeds() {
    let p = proto(Sequential::default());
    let mut c = cluster(1, 3, 6, ms(3000), net(), &p, &spread(3));
    c.sim.run_until(ms(4000)).unwrap();
    let log = final_log(&mut c, &p);
    assert_clean("history", 1, &check_history(&c, &log));
    assert_clean("convergence", 1, &check_converged(&mut c, &p));
    let (r, w) = availability(&c, &c.clients.clone(), ms(500), ms(3000));
    assert!(r == 1.0 && w == 1.0, "reads {r}, writes {w}");
    assert!(log.len() > 100, "only {} entries committed", log.len());
}

#[test]
fn random_faults_keep_raft_invariants_and_sessions() {
    runner("random_faults_keep_raft_invariants_and_sessions", 1..13)
        .run(|seed, opts| {
            let p = proto(Sequential::default());
            let net = lossy_net(0.02, 0.02);
            let mut c = cluster(seed, 5, 5, ms(6000), net, &p, &spread(5));
            common::attach(opts, &mut c.sim);
            start_monitor(&mut c, status, Duration::from_millis(20), ms(9000));
            random_nemesis(&mut c, ms(300), ms(6000));
            c.sim.run_until(ms(9000)).unwrap();
            let monitor = c.monitor.borrow();
            assert_clean("raft invariants", seed, &monitor.violations);
            assert!(monitor.samples > 1000);
            drop(monitor);
            let log = final_log(&mut c, &p);
            assert_clean("history", seed, &check_history(&c, &log));
            assert_clean("convergence", seed, &check_converged(&mut c, &p));
            SeedOutcome::from_sim(&c.sim, None)
        })
        .assert_ok();
}

#[test]
fn reads_on_followers_can_be_stale_but_never_behind_the_session() {
    // Not linearizable by design: some read misses a write another client completed earlier.
    let p = proto(Sequential::default());
    let mut c = cluster(5, 3, 6, ms(3000), net(), &p, &spread(3));
    c.sim.run_until(ms(4000)).unwrap();
    let log = final_log(&mut c, &p);
    assert_clean("history", 5, &check_history(&c, &log));
    assert!(!check_real_time(&c, &log).is_empty());
}

/// 5 replicas and 5 clients, client `i` sticky to replica `i` (a ZooKeeper session stays with
/// its server; the server forwards writes).
fn cap_cluster(seed: u64, cfg: Sequential) -> (Cluster<Sequential>, Proto<Sequential>) {
    let p = proto(cfg);
    let homes = |c: usize| Routing::Sticky {
        home: NodeId(c as u32),
    };
    let c = cluster(seed, 5, 5, ms(12000), net(), &p, &homes);
    (c, p)
}

#[test]
fn partition_minority_reads_stay_available_writes_do_not() {
    runner(
        "partition_minority_reads_stay_available_writes_do_not",
        1..5,
    )
    .run(|seed, opts| {
        let (mut c, p) = cap_cluster(seed, Sequential::default());
        common::attach(opts, &mut c.sim);
        c.sim.run_until(ms(1000)).unwrap();
        // Seeds 1 and 2 put the leader on the minority side, 3 and 4 on the majority side.
        let leader = c
            .replicas
            .clone()
            .into_iter()
            .find(|&r| status(&mut c.sim, r).is_ok_and(|s| s.role == RoleName::Leader))
            .expect("a leader after 1 s");
        let minority: Vec<NodeId> = if seed <= 2 {
            vec![leader, NodeId((leader.0 + 1) % 5)]
        } else {
            (0..5)
                .map(NodeId)
                .filter(|&r| r != leader)
                .take(2)
                .collect()
        };
        let cl = c.clients.clone();
        let side = |inside: bool| -> Vec<NodeId> {
            (0..5)
                .map(NodeId)
                .filter(|r| minority.contains(r) == inside)
                .flat_map(|r| [r, cl[r.index()]])
                .collect()
        };
        let (min_side, maj_side) = (side(true), side(false));
        partition(&mut c.sim, &[maj_side.clone(), min_side.clone()]);
        c.sim.schedule(ms(6000), "heal", heal);
        c.sim.run_until(ms(13000)).unwrap();
        let min_clients: Vec<NodeId> = min_side
            .iter()
            .copied()
            .filter(|n| cl.contains(n))
            .collect();
        let maj_clients: Vec<NodeId> = maj_side
            .iter()
            .copied()
            .filter(|n| cl.contains(n))
            .collect();
        let (min_r, min_w) = availability(&c, &min_clients, ms(1000), ms(6000));
        let (maj_r, maj_w) = availability(&c, &maj_clients, ms(1000), ms(6000));
        assert!(min_r >= 0.99, "seed {seed}: minority reads {min_r}");
        assert!(min_w <= 0.05, "seed {seed}: minority writes {min_w}");
        assert!(
            maj_r >= 0.95 && maj_w >= 0.95,
            "seed {seed}: majority {maj_r} {maj_w}"
        );
        let log = final_log(&mut c, &p);
        assert_clean("history", seed, &check_history(&c, &log));
        assert_clean("convergence", seed, &check_converged(&mut c, &p));
        SeedOutcome::from_sim(&c.sim, None)
    })
    .assert_ok();
}

#[test]
fn planted_no_session_bug_breaks_read_your_writes() {
    runner("planted_no_session_bug_breaks_read_your_writes", 1..4)
        .run(|seed, opts| {
            let p = proto(Sequential {
                bug: true,
                ..Sequential::default()
            });
            let mut c = cluster(seed, 3, 6, ms(3000), net(), &p, &spread(3));
            common::attach(opts, &mut c.sim);
            c.sim.run_until(ms(4000)).unwrap();
            let log = final_log(&mut c, &p);
            let v = check_history(&c, &log);
            assert!(
                v.iter().any(|s| s.contains("misses the write")),
                "seed {seed}: the no-session bug went unnoticed"
            );
            SeedOutcome::from_sim(&c.sim, None)
        })
        .assert_ok();
}

#[test]
fn same_seed_same_run() {
    let run = |seed| {
        let p = proto(Sequential::default());
        let net = lossy_net(0.05, 0.05);
        let mut c = cluster(seed, 5, 4, ms(3000), net, &p, &spread(5));
        random_nemesis(&mut c, ms(200), ms(3000));
        c.sim.run_until(ms(4000)).unwrap();
        (c.sim.trace_hash(), c.history.snapshot().len())
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11).0, run(12).0);
}
