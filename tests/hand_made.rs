//! The smallest failing run of every planted bug, made by hand, and the shrinker measured
//! against it: each hand-made run fails under the buggy protocol and passes under its correct
//! twin, and shrinking the bug's first failing seed (the `shrink_bench` setup: the standard
//! nemesis with 1% loss; the custom example in its own setup) ends within twice its size.
//!
//! "Within twice": at most twice the client operations, and at most twice the injected faults,
//! counting fault schedule entries and message anomalies together (a partition and a dropped
//! message are two ways of losing the same message).
//!
//! The first failing seeds are found as the runner would (the first of `0..30` that fails),
//! so a change to the protocols' randomness moves them without touching this file.

use models::causal::Causal;
use models::eventual::Eventual;
use models::experiment::{Experiment, Explicit, Nemesis, PinnedOp, Setup};
use models::linearizable::Linearizable;
use models::op::{Key, Op};
use models::protocol::Protocol;
use models::sequential::Sequential;
use models::shrink::{Repro, Size};
use sim_core::NodeId;
use sim_net::{Fault, PartitionSpec, Schedule};

#[path = "../examples/custom_protocol.rs"]
#[allow(dead_code)]
mod custom_protocol;
use custom_protocol::PrimaryBackup;

/// The `shrink_bench` setup: the protocol's own, the standard nemesis, 1% loss.
fn bench<P: Protocol>(p: P) -> Experiment<P> {
    let mut e = Experiment::new(p).nemesis(Nemesis::standard());
    e.setup.link.loss = 0.01;
    e
}

/// Client `c`'s operations as the workload draws them for `seed` (keyed by (client, n), so
/// whatever else runs): `(n, op)`.
fn workload<P: Protocol>(exp: &Experiment<P>, seed: u64, c: u32) -> Vec<(u64, Op)> {
    let free = exp.clone().nemesis(Nemesis::None).run(seed).expect("runs");
    let node = NodeId(exp.setup.replicas + c);
    free.outcome
        .history
        .operations()
        .expect("a well-formed history")
        .into_iter()
        .filter(|o| o.node == Some(node))
        .enumerate()
        .map(|(n, o)| (n as u64, o.op.clone()))
        .collect()
}

/// Client `c`'s first write after operation `after` (any key if `key` is `None`).
fn write_of(ops: &[(u64, Op)], after: Option<u64>, key: Option<&Key>) -> (u64, Key) {
    ops.iter()
        .filter(|(n, _)| after.is_none_or(|a| *n > a))
        .find_map(|(n, o)| match o {
            Op::Write { key: k, .. } if key.is_none_or(|key| key == k) => Some((*n, k.clone())),
            _ => None,
        })
        .expect("the client writes")
}

/// Client `c`'s first read of `key` after operation `after`.
fn read_of(ops: &[(u64, Op)], after: Option<u64>, key: &Key) -> u64 {
    ops.iter()
        .filter(|(n, _)| after.is_none_or(|a| *n > a))
        .find_map(|(n, o)| matches!(o, Op::Read { key: k } if k == key).then_some(*n))
        .expect("the client reads that key")
}

/// Operation `n` of client `client` at `ms` of virtual time.
fn op(client: u32, n: u64, ms: u64) -> PinnedOp {
    PinnedOp {
        client,
        n,
        at_ns: ms * 1_000_000,
    }
}

/// A hand-made run: exactly these faults and operations, no message anomaly (so no loss).
fn repro<P: Protocol>(
    exp: &Experiment<P>,
    seed: u64,
    faults: Schedule,
    ops: Vec<PinnedOp>,
) -> Repro {
    let setup = Setup {
        nemesis: Nemesis::Schedule(faults),
        explicit: Some(Explicit {
            messages: vec![],
            ops: Some(ops),
        }),
        ..exp.setup.clone()
    };
    Repro {
        protocol: exp.protocol.name().into(),
        bug: None,
        seed,
        setup,
        violation: None,
    }
}

/// The size of a replayed run: its faults, message anomalies and invoked client operations.
fn size_of<P: Protocol>(exp: &Experiment<P>, r: &Repro) -> Size {
    let run = exp.replay(r).expect("replays");
    let replicas = exp.setup.replicas;
    let ops = run.outcome.history.operations().unwrap_or_default();
    let clients: std::collections::BTreeSet<u32> = ops
        .iter()
        .filter_map(|o| o.node.and_then(|n| n.0.checked_sub(replicas)))
        .collect();
    Size {
        faults: match &r.setup.nemesis {
            Nemesis::Schedule(s) => s.entries.len(),
            _ => 0,
        },
        messages: r.setup.explicit.as_ref().map_or(0, |x| x.messages.len()),
        operations: ops
            .iter()
            .filter(|o| o.node.is_some_and(|n| n.0 >= replicas))
            .count(),
        clients: clients.len(),
        faulty_ms: r.setup.faulty.as_millis() as u64,
    }
}

/// The hand-made run fails under `buggy` and passes under `twin`; its size.
fn hand_made_fails_only_the_bug<P: Protocol>(
    buggy: &Experiment<P>,
    twin: &Experiment<P>,
    hand: &Repro,
) -> Size {
    let name = buggy.protocol.name();
    let run = buggy.replay(hand).expect("replays");
    assert!(
        run.violation().is_some(),
        "{name}: the hand-made run fails the buggy protocol"
    );
    let ok = twin.replay(hand).expect("replays");
    assert!(
        ok.violation().is_none(),
        "{name}: the correct twin passes the hand-made run: {:?}",
        ok.violation()
    );
    size_of(buggy, hand)
}

/// Shrinks the first failing seed of `0..30`: the shrunk run still fails, its twin passes it,
/// and it is within twice the hand-made run's size.
fn shrunk_within_twice<P: Protocol>(buggy: &Experiment<P>, twin: &Experiment<P>, hand: Size) {
    let name = buggy.protocol.name();
    let seed = (0..30)
        .find(|&s| buggy.run(s).is_ok_and(|r| r.violation().is_some()))
        .unwrap_or_else(|| panic!("{name}: the planted bug fails a seed of 0..30"));
    let s = buggy
        .shrink(seed)
        .expect("runs")
        .expect("the seed fails again");
    assert!(buggy
        .replay(&s.repro)
        .expect("replays")
        .violation()
        .is_some());
    assert!(twin
        .replay(&s.repro)
        .expect("replays")
        .violation()
        .is_none());
    let (a, h) = (s.after, hand);
    assert!(
        a.operations <= 2 * h.operations && a.faults + a.messages <= 2 * (h.faults + h.messages),
        "{name} seed {seed}: shrunk to {a}; by hand: {h}\n{}",
        s.story()
    );
}

/// Eventual, `no-anti-entropy`: replica n4 is cut off while client 0 writes at n0; after the
/// heal nothing repairs n4, so the final reads diverge. 1 fault, 1 operation.
fn hand_made_lost_push(exp: &Experiment<Eventual>, seed: u64) -> Repro {
    let (n, _) = write_of(&workload(exp, seed, 0), None, None);
    let cut = Fault::Partition(PartitionSpec::Isolate { node: NodeId(4) });
    repro(
        exp,
        seed,
        Schedule::new().at(2_100, cut),
        vec![op(0, n, 2_500)],
    )
}

/// Causal, `no-deps`: n2 is cut off while client 0 writes x at n0 and healed just before it
/// writes y (which depends on x by session order); y reaches n2 at once, x only by
/// anti-entropy, so client 4 at n2 reads y and then the old x. 2 faults, 4 operations.
fn hand_made_missing_dependency(exp: &Experiment<Causal>, seed: u64) -> Repro {
    let writer = workload(exp, seed, 0);
    let (nx, x) = write_of(&writer, None, None);
    let (ny, y) = writer
        .iter()
        .filter(|(n, _)| *n > nx)
        .find_map(|(n, o)| match o {
            Op::Write { key, .. } if *key != x => Some((*n, key.clone())),
            _ => None,
        })
        .expect("client 0 writes another key");
    let reader = workload(exp, seed, 4);
    let ry = read_of(&reader, None, &y);
    let rx = read_of(&reader, Some(ry), &x);
    let cut = Fault::Partition(PartitionSpec::Isolate { node: NodeId(2) });
    repro(
        exp,
        seed,
        Schedule::new().at(2_100, cut).at(2_250, Fault::Heal),
        vec![
            op(0, nx, 2_200),
            op(0, ny, 2_255),
            op(4, ry, 2_275),
            op(4, rx, 2_275),
        ],
    )
}

/// Sequential, `no-session`: a client homed on a follower writes (the leader acknowledges
/// when it has applied it) and at once reads the key at its own, lagging, replica. No fault,
/// 2 operations. The client is one homed on a replica that is not the leader: the first of
/// clients 0, 2, 4, 6, 8 (homed on n0..n4) whose run fails.
fn hand_made_own_write_missed(exp: &Experiment<Sequential>, seed: u64) -> Vec<Repro> {
    (0..5)
        .map(|home| {
            let c = 2 * home;
            let ops = workload(exp, seed, c);
            let (nw, key) = write_of(&ops, None, None);
            let nr = read_of(&ops, Some(nw), &key);
            repro(
                exp,
                seed,
                Schedule::new(),
                vec![op(c, nw, 2_500), op(c, nr, 2_500)],
            )
        })
        .collect()
}

/// Linearizable, `stale-read`: the leader L is cut off; the majority elects a new leader and
/// a client homed on another replica writes there; a client homed on L reads at L, which
/// still believes it leads and answers from its own copy. 1 fault, 2 operations. L is tried
/// as each of n0..n4 (the one that leads at 2.1 s is the one whose run fails).
fn hand_made_stale_read(exp: &Experiment<Linearizable>, seed: u64) -> Vec<Repro> {
    (0..5u32)
        .map(|leader| {
            let writer = 2 * ((leader + 1) % 5);
            let reader = 2 * leader;
            let (nw, key) = write_of(&workload(exp, seed, writer), None, None);
            let nr = read_of(&workload(exp, seed, reader), None, &key);
            // Only the replicas are split: the reader still reaches L.
            let others = (0..5).filter(|&r| r != leader).map(NodeId).collect();
            let cut = Fault::Partition(PartitionSpec::Split {
                groups: vec![vec![NodeId(leader)], others],
            });
            repro(
                exp,
                seed,
                Schedule::new().at(2_100, cut),
                vec![op(writer, nw, 3_000), op(reader, nr, 3_500)],
            )
        })
        .collect()
}

/// The custom example's `ack-early`: primary and backup are split; client 0 writes at the
/// primary, which acknowledges at once; client 2 reads at the backup, which answers from its
/// copy without the write. 1 fault, 2 operations.
fn hand_made_early_ack(exp: &Experiment<PrimaryBackup>, seed: u64) -> Repro {
    let (nw, key) = write_of(&workload(exp, seed, 0), None, None);
    let nr = read_of(&workload(exp, seed, 2), None, &key);
    let split = Fault::Partition(PartitionSpec::Split {
        groups: vec![vec![NodeId(0)], vec![NodeId(1)]],
    });
    repro(
        exp,
        seed,
        Schedule::new().at(1_100, split),
        vec![op(0, nw, 1_300), op(2, nr, 1_500)],
    )
}

/// The first of `candidates` that fails `buggy` (a hand-made run tried at each place the
/// leader may be).
fn first_failing<P: Protocol>(buggy: &Experiment<P>, candidates: Vec<Repro>) -> Repro {
    candidates
        .into_iter()
        .find(|r| buggy.replay(r).is_ok_and(|run| run.violation().is_some()))
        .expect("a hand-made run fails")
}

#[test]
fn eventual_no_anti_entropy_shrinks_within_twice_the_hand_made_run() {
    let bug = bench(Eventual {
        bug: true,
        ..Eventual::default()
    });
    let twin = bench(Eventual::default());
    let hand = hand_made_lost_push(&bug, 0);
    let size = hand_made_fails_only_the_bug(&bug, &twin, &hand);
    assert_eq!((size.faults, size.operations, size.messages), (1, 1, 0));
    shrunk_within_twice(&bug, &twin, size);
}

#[test]
fn causal_no_deps_shrinks_within_twice_the_hand_made_run() {
    let bug = bench(Causal {
        bug: true,
        ..Causal::default()
    });
    let twin = bench(Causal::default());
    let hand = hand_made_missing_dependency(&bug, 0);
    let size = hand_made_fails_only_the_bug(&bug, &twin, &hand);
    assert_eq!((size.faults, size.operations, size.messages), (2, 4, 0));
    shrunk_within_twice(&bug, &twin, size);
}

#[test]
fn sequential_no_session_shrinks_within_twice_the_hand_made_run() {
    let bug = bench(Sequential {
        bug: true,
        ..Sequential::default()
    });
    let twin = bench(Sequential::default());
    let hand = first_failing(&bug, hand_made_own_write_missed(&bug, 0));
    let size = hand_made_fails_only_the_bug(&bug, &twin, &hand);
    assert_eq!((size.faults, size.operations, size.messages), (0, 2, 0));
    shrunk_within_twice(&bug, &twin, size);
}

#[test]
fn linearizable_stale_read_shrinks_within_twice_the_hand_made_run() {
    let bug = bench(Linearizable {
        bug: true,
        ..Linearizable::default()
    });
    let twin = bench(Linearizable::default());
    let hand = first_failing(&bug, hand_made_stale_read(&bug, 0));
    let size = hand_made_fails_only_the_bug(&bug, &twin, &hand);
    assert_eq!((size.faults, size.operations, size.messages), (1, 2, 0));
    shrunk_within_twice(&bug, &twin, size);
}

#[test]
fn custom_ack_early_shrinks_within_twice_the_hand_made_run() {
    // The example's own setup (its nemesis and 2% loss): it runs on exactly 2 nodes, keeps
    // nothing across a crash, and the standard nemesis crashes replicas.
    let bug = Experiment::new(PrimaryBackup { bug: true });
    let twin = Experiment::new(PrimaryBackup::default());
    let hand = hand_made_early_ack(&bug, 0);
    let size = hand_made_fails_only_the_bug(&bug, &twin, &hand);
    assert_eq!((size.faults, size.operations, size.messages), (1, 2, 0));
    shrunk_within_twice(&bug, &twin, size);
}
