//! Availability: how many operations succeeded, overall, per time window and per client group
//! (e.g. the majority and minority sides of a partition), split by reads and writes, with
//! latency percentiles of the successful ones.
//!
//! ```
//! use models::check::availability::{availability, ClientGroup, Window};
//! use models::op::{Op, Ret};
//! use sim_core::history::History;
//! use sim_core::{NodeId, SimTime};
//! let t = SimTime::from_millis;
//! let mut h = History::new();
//! h.invoke(t(0), Some(NodeId(5)), 0, Op::write(0, 1));
//! h.ok(t(4), Some(NodeId(5)), 0, Ret::Ok);
//! h.invoke(t(10), Some(NodeId(6)), 1, Op::read(0));
//! h.info(t(20), Some(NodeId(6)), 1, None);
//! let groups = vec![ClientGroup { name: "majority".into(), nodes: vec![NodeId(5)] },
//!                   ClientGroup { name: "minority".into(), nodes: vec![NodeId(6)] }];
//! let windows = vec![Window { name: "partitioned".into(), start: t(0), end: t(100) }];
//! let r = availability(&h, &groups, &windows);
//! assert_eq!(r.overall.all.ok, 1);
//! assert_eq!(r.overall.all.ok_fraction(), 0.5);
//! assert_eq!(r.groups[1].1.all.info, 1);
//! assert_eq!(r.overall.latency.max, Some(std::time::Duration::from_millis(4)));
//! ```

use std::time::Duration;

use sim_core::history::{Operation, Outcome};
use sim_core::{NodeId, SimTime};

use crate::op::{KvHistory, Op, Ret};

/// A set of client nodes reported together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientGroup {
    /// Name in reports.
    pub name: String,
    /// The client nodes (matched against `Event::node`).
    pub nodes: Vec<NodeId>,
}

/// A time window `[start, end)`; an operation belongs to it if it was invoked in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Name in reports.
    pub name: String,
    /// Start (inclusive).
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
}

/// Outcome counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Succeeded.
    pub ok: usize,
    /// Definitely failed.
    pub fail: usize,
    /// Indeterminate (timed out, crashed, never completed).
    pub info: usize,
}

impl Counts {
    /// All operations counted.
    pub fn total(&self) -> usize {
        self.ok + self.fail + self.info
    }
    /// ok / total (1.0 when there are no operations).
    pub fn ok_fraction(&self) -> f64 {
        if self.total() == 0 {
            1.0
        } else {
            self.ok as f64 / self.total() as f64
        }
    }
}

/// Latency of successful operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// Median.
    pub p50: Option<Duration>,
    /// 99th percentile.
    pub p99: Option<Duration>,
    /// Maximum.
    pub max: Option<Duration>,
}

/// Availability of one slice of the history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// All operations.
    pub all: Counts,
    /// Read-only operations.
    pub reads: Counts,
    /// Other operations.
    pub writes: Counts,
    /// Latency of ok operations.
    pub latency: Latency,
}

/// The result of [`availability`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AvailabilityReport {
    /// Whole history.
    pub overall: Stats,
    /// Per window, in the order given.
    pub windows: Vec<(String, Stats)>,
    /// Per client group, in the order given.
    pub groups: Vec<(String, Stats)>,
    /// Per (window, group).
    pub window_groups: Vec<(String, String, Stats)>,
}

fn stats<'a>(ops: impl Iterator<Item = &'a Operation<Op, Ret>>) -> Stats {
    let mut s = Stats::default();
    let mut lat: Vec<Duration> = Vec::new();
    for o in ops {
        let c = if o.op.is_read_only() {
            &mut s.reads
        } else {
            &mut s.writes
        };
        match o.outcome {
            Outcome::Ok(_) => {
                c.ok += 1;
                s.all.ok += 1;
                if let Some(t) = o.complete_time {
                    lat.push(t.saturating_since(o.invoke_time));
                }
            }
            Outcome::Fail => {
                c.fail += 1;
                s.all.fail += 1;
            }
            Outcome::Info => {
                c.info += 1;
                s.all.info += 1;
            }
        }
    }
    lat.sort_unstable();
    let pct = |p: f64| -> Option<Duration> {
        if lat.is_empty() {
            return None;
        }
        let rank = ((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len());
        Some(lat[rank - 1])
    };
    s.latency = Latency {
        p50: pct(0.50),
        p99: pct(0.99),
        max: lat.last().copied(),
    };
    s
}

/// Computes availability. Unpaired events are tolerated: an operation without a completion
/// counts as indeterminate; completions without an invocation are ignored.
pub fn availability(
    history: &KvHistory,
    groups: &[ClientGroup],
    windows: &[Window],
) -> AvailabilityReport {
    let ops = pair_leniently(history);
    let in_w =
        |o: &Operation<Op, Ret>, w: &Window| o.invoke_time >= w.start && o.invoke_time < w.end;
    let in_g =
        |o: &Operation<Op, Ret>, g: &ClientGroup| o.node.is_some_and(|n| g.nodes.contains(&n));
    let mut r = AvailabilityReport {
        overall: stats(ops.iter()),
        ..AvailabilityReport::default()
    };
    for w in windows {
        r.windows
            .push((w.name.clone(), stats(ops.iter().filter(|o| in_w(o, w)))));
    }
    for g in groups {
        r.groups
            .push((g.name.clone(), stats(ops.iter().filter(|o| in_g(o, g)))));
    }
    for w in windows {
        for g in groups {
            let st = stats(ops.iter().filter(|o| in_w(o, w) && in_g(o, g)));
            r.window_groups.push((w.name.clone(), g.name.clone(), st));
        }
    }
    r
}

fn pair_leniently(history: &KvHistory) -> Vec<Operation<Op, Ret>> {
    if let Ok(ops) = history.operations() {
        return ops;
    }
    // Fall back: drop events that do not pair.
    let mut clean = KvHistory::new();
    let mut open = std::collections::BTreeSet::new();
    for e in &history.events {
        let is_inv = !e.kind.is_completion();
        if is_inv == open.contains(&e.process) {
            continue;
        }
        if is_inv {
            open.insert(e.process);
        } else {
            open.remove(&e.process);
        }
        clean.events.push(e.clone());
    }
    clean.operations().unwrap_or_default()
}
