//! Fault bands: a fault schedule turned into intervals a timeline can shade.

use serde::Serialize;
use sim_core::{NodeId, SimTime};
use sim_net::{Fault, PartitionSpec, Schedule};

/// What a fault band shows.
///
/// ```
/// use models::report::FaultKind;
/// assert_eq!(FaultKind::Partition.name(), "partition");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// Links blocked between groups.
    Partition,
    /// Links clogged (messages held).
    Clog,
    /// A node down.
    Crash,
    /// A node paused.
    Pause,
    /// A node's clock offset or drifting.
    Clock,
    /// Link latency / loss / duplication changed.
    Links,
}

impl FaultKind {
    /// The name the viewer shows.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Clog => "clog",
            FaultKind::Crash => "crash",
            FaultKind::Pause => "pause",
            FaultKind::Clock => "clock",
            FaultKind::Links => "links",
        }
    }
}

/// A fault that lasted from `start` to `end`.
///
/// ```
/// use models::report::{FaultBand, FaultKind};
/// use sim_core::{NodeId, SimTime};
/// let b = FaultBand { start: SimTime::ZERO, end: SimTime::from_millis(5), kind: FaultKind::Crash,
///     label: "crash n2".into(), nodes: vec![NodeId(2)], groups: vec![] };
/// assert_eq!(b.nodes, [NodeId(2)]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FaultBand {
    /// When it began.
    pub start: SimTime,
    /// When it was undone (or the end of the run).
    pub end: SimTime,
    /// What it was.
    pub kind: FaultKind,
    /// One line for people, e.g. `partition {n0 n1 n2} | {n3 n4}`.
    pub label: String,
    /// The nodes it is about (crash, pause, clock; the isolated node of a partition).
    pub nodes: Vec<NodeId>,
    /// For partitions and clogs: the groups that cannot talk to each other.
    pub groups: Vec<Vec<NodeId>>,
}

fn set(nodes: &[NodeId]) -> String {
    let v: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    format!("{{{}}}", v.join(" "))
}

fn describe(spec: &PartitionSpec) -> (String, Vec<NodeId>, Vec<Vec<NodeId>>) {
    match spec {
        PartitionSpec::Split { groups } => (
            groups
                .iter()
                .map(|g| set(g))
                .collect::<Vec<_>>()
                .join(" | "),
            Vec::new(),
            groups.clone(),
        ),
        PartitionSpec::Isolate { node } => (format!("isolate {node}"), vec![*node], Vec::new()),
        PartitionSpec::OneWay { from, to } => (
            format!("one-way {} -/-> {}", set(from), set(to)),
            Vec::new(),
            vec![from.clone(), to.clone()],
        ),
        PartitionSpec::Bridge {
            left,
            right,
            bridge,
        } => (
            format!("{} | {} bridged by {bridge}", set(left), set(right)),
            vec![*bridge],
            vec![left.clone(), right.clone()],
        ),
        PartitionSpec::MajoritiesRing { ring } => (
            format!("majorities ring {}", set(ring)),
            Vec::new(),
            Vec::new(),
        ),
        PartitionSpec::Links { blocked } => (
            format!("{} links blocked", blocked.len()),
            Vec::new(),
            Vec::new(),
        ),
    }
}

struct Open {
    start: SimTime,
    kind: FaultKind,
    label: String,
    nodes: Vec<NodeId>,
    groups: Vec<Vec<NodeId>>,
}

/// The bands of a schedule: every partition, clog, crash, pause, clock fault and link change
/// from when it was applied to when it was undone (heal, unclog, restart, resume, clock reset,
/// reset links, heal-all), or `end` if never.
///
/// ```
/// use models::report::{fault_bands, FaultKind};
/// use sim_core::{NodeId, SimTime};
/// use sim_net::{Fault, PartitionSpec, Schedule};
/// let s = Schedule::new()
///     .at(1_000, Fault::Partition(PartitionSpec::Split { groups: vec![vec![NodeId(0)], vec![NodeId(1)]] }))
///     .at(2_000, Fault::Crash { node: NodeId(1) })
///     .at(3_000, Fault::Heal);
/// let b = fault_bands(&s, SimTime::from_millis(9_000));
/// assert_eq!(b.len(), 2);
/// assert_eq!((b[0].kind, b[0].end), (FaultKind::Partition, SimTime::from_millis(3_000)));
/// assert_eq!(b[0].label, "partition {n0} | {n1}");
/// assert_eq!((b[1].kind, b[1].end), (FaultKind::Crash, SimTime::from_millis(9_000)));
/// ```
pub fn fault_bands(schedule: &Schedule, end: SimTime) -> Vec<FaultBand> {
    let mut entries: Vec<_> = schedule.entries.iter().collect();
    entries.sort_by_key(|e| e.at_ms); // stable: same-time entries keep list order
    let mut open: Vec<Open> = Vec::new();
    let mut done: Vec<FaultBand> = Vec::new();
    let close = |open: &mut Vec<Open>,
                 done: &mut Vec<FaultBand>,
                 at: SimTime,
                 pred: &dyn Fn(&Open) -> bool| {
        let mut i = 0;
        while i < open.len() {
            if pred(&open[i]) {
                let o = open.remove(i);
                done.push(FaultBand {
                    start: o.start,
                    end: at.max(o.start),
                    kind: o.kind,
                    label: o.label,
                    nodes: o.nodes,
                    groups: o.groups,
                });
            } else {
                i += 1;
            }
        }
    };
    for e in entries {
        let at = e.at();
        let on =
            |kind: FaultKind, node: NodeId| move |o: &Open| o.kind == kind && o.nodes == [node];
        match &e.fault {
            Fault::Partition(spec) | Fault::Clog(spec) => {
                let kind = if matches!(e.fault, Fault::Partition(_)) {
                    FaultKind::Partition
                } else {
                    FaultKind::Clog
                };
                close(&mut open, &mut done, at, &|o| o.kind == kind);
                let (what, nodes, groups) = describe(spec);
                open.push(Open {
                    start: at,
                    kind,
                    label: format!("{} {what}", kind.name()),
                    nodes,
                    groups,
                });
            }
            Fault::Heal => close(&mut open, &mut done, at, &|o| {
                o.kind == FaultKind::Partition
            }),
            Fault::Unclog => close(&mut open, &mut done, at, &|o| o.kind == FaultKind::Clog),
            Fault::Crash { node } => {
                if !open.iter().any(on(FaultKind::Crash, *node)) {
                    open.push(Open {
                        start: at,
                        kind: FaultKind::Crash,
                        label: format!("crash {node}"),
                        nodes: vec![*node],
                        groups: Vec::new(),
                    });
                }
            }
            Fault::Restart { node } => {
                close(&mut open, &mut done, at, &on(FaultKind::Crash, *node));
                close(&mut open, &mut done, at, &on(FaultKind::Pause, *node));
            }
            Fault::Pause { node } => {
                if !open.iter().any(on(FaultKind::Pause, *node)) {
                    open.push(Open {
                        start: at,
                        kind: FaultKind::Pause,
                        label: format!("pause {node}"),
                        nodes: vec![*node],
                        groups: Vec::new(),
                    });
                }
            }
            Fault::Resume { node } => close(&mut open, &mut done, at, &on(FaultKind::Pause, *node)),
            Fault::Clock {
                node,
                offset_ms,
                drift_ppm,
            } => {
                close(&mut open, &mut done, at, &on(FaultKind::Clock, *node));
                if *offset_ms != 0.0 || *drift_ppm != 0 {
                    open.push(Open {
                        start: at,
                        kind: FaultKind::Clock,
                        label: format!("clock {node} {offset_ms:+}ms {drift_ppm:+}ppm"),
                        nodes: vec![*node],
                        groups: Vec::new(),
                    });
                }
            }
            Fault::SetLinks { patch, .. } => open.push(Open {
                start: at,
                kind: FaultKind::Links,
                label: format!("links {}", serde_json::to_string(patch).unwrap_or_default()),
                nodes: Vec::new(),
                groups: Vec::new(),
            }),
            Fault::ResetLinks => close(&mut open, &mut done, at, &|o| o.kind == FaultKind::Links),
            Fault::HealAll { nodes } => close(&mut open, &mut done, at, &|o| {
                matches!(
                    o.kind,
                    FaultKind::Partition | FaultKind::Clog | FaultKind::Links
                ) || o.nodes.iter().any(|n| nodes.contains(n))
            }),
        }
    }
    close(&mut open, &mut done, end, &|_| true);
    done.sort_by_key(|b| (b.start, b.end));
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_undo_closes_its_band() {
        let n = NodeId;
        let s = Schedule::new()
            .at(100, Fault::Pause { node: n(1) })
            .at(200, Fault::Resume { node: n(1) })
            .at(
                300,
                Fault::Clock {
                    node: n(2),
                    offset_ms: -250.0,
                    drift_ppm: 0,
                },
            )
            .at(400, Fault::Crash { node: n(3) })
            .at(500, Fault::Restart { node: n(3) })
            .at(600, Fault::Partition(PartitionSpec::Isolate { node: n(0) }))
            .at(650, Fault::HealAll { nodes: vec![n(2)] });
        let b = fault_bands(&s, SimTime::from_millis(1_000));
        let got: Vec<_> = b
            .iter()
            .map(|b| {
                (
                    b.kind,
                    b.start.as_nanos() / 1_000_000,
                    b.end.as_nanos() / 1_000_000,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (FaultKind::Pause, 100, 200),
                (FaultKind::Clock, 300, 650),
                (FaultKind::Crash, 400, 500),
                (FaultKind::Partition, 600, 650),
            ]
        );
        assert_eq!(b[1].label, "clock n2 -250ms +0ppm");
        assert_eq!(b[3].nodes, [n(0)]);
    }
}
